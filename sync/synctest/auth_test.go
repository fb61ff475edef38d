package synctest

import (
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// TestAuth checks what the sync tests rely on from FerretDB's
// experimental authentication: a created user works, a wrong password and
// a dropped user fail with AuthenticationFailed (18), and nobody gets in
// without credentials.
func TestAuth(t *testing.T) {
	srv := StartAuth(t)
	srv.CreateUser(t, "admin", "alice", "alice-pw")
	ctx := ctxT(t, 60*time.Second)

	alice := connect(t, srv.UserURI("alice", "alice-pw", "admin")).Database("lab").Collection("c")
	if _, err := alice.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
		t.Fatalf("alice with the right password: %v", err)
	}

	wrong := connect(t, srv.UserURI("alice", "not-it", "admin")).Database("lab").Collection("c")
	_, err := wrong.InsertOne(ctx, bson.D{{Key: "_id", Value: 2}})
	assertAuthFailed(t, "wrong password", err)

	anon := connect(t, srv.URI).Database("lab").Collection("c")
	_, err = anon.InsertOne(ctx, bson.D{{Key: "_id", Value: 3}})
	var se mongo.ServerError
	if !errors.As(err, &se) || !se.HasErrorCode(13) {
		t.Fatalf("no credentials: got %v, want Unauthorized (13)", err)
	}
	t.Logf("FINDING no credentials: %v", err)

	srv.DropUser(t, "admin", "alice")
	gone := connect(t, srv.UserURI("alice", "alice-pw", "admin")).Database("lab").Collection("c")
	_, err = gone.InsertOne(ctx, bson.D{{Key: "_id", Value: 4}})
	assertAuthFailed(t, "dropped user, new connection", err)
	// The connection alice authenticated on before the drop stays
	// authenticated (FerretDB keeps no link from a connection to the user).
	// The sync tests restart the server after a drop because of this: if
	// FerretDB starts refusing here, they may stop doing so.
	if _, err = alice.InsertOne(ctx, bson.D{{Key: "_id", Value: 5}}); err != nil {
		t.Fatalf("dropped user, connection authenticated before: %v, want it still usable (FerretDB 1.24)", err)
	}
}

func assertAuthFailed(t *testing.T, what string, err error) {
	t.Helper()
	var se mongo.ServerError
	if !errors.As(err, &se) || !se.HasErrorCode(18) {
		t.Fatalf("%s: got %v (%T), want AuthenticationFailed (18)", what, err, err)
	}
	t.Logf("FINDING %s: %v", what, err)
}

// TestRoleWall: through the wall a read user can read and not write, with
// MongoDB's error, and connectionStatus lists its roles and privileges; a
// readWrite user writes; a role change applies to an open connection.
func TestRoleWall(t *testing.T) {
	srv := StartAuth(t)
	srv.CreateUser(t, "admin", "reader", "r-pw")
	srv.CreateUser(t, "admin", "writer", "w-pw")
	wall := RoleWall(t, srv, "reader=read@lab", "writer=readWrite@lab")
	ctx := ctxT(t, 60*time.Second)

	writer := connect(t, wall.UserURI("writer", "w-pw", "admin")).Database("lab")
	if _, err := writer.Collection("c").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
		t.Fatalf("readWrite user's insert: %v", err)
	}
	readerClient := connect(t, wall.UserURI("reader", "r-pw", "admin"))
	reader := readerClient.Database("lab")
	_, err := reader.Collection("c").InsertOne(ctx, bson.D{{Key: "_id", Value: 2}})
	var ce mongo.CommandError
	if !errors.As(err, &ce) || ce.Code != 13 || ce.Name != "Unauthorized" {
		t.Fatalf("read user's insert: got %v (%T), want a CommandError 13 Unauthorized", err, err)
	}
	t.Logf("FINDING read user's insert through the wall: %v", err)
	_, err = reader.Collection("c").UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: 1}}}})
	if !errors.As(err, &ce) || ce.Code != 13 {
		t.Fatalf("read user's update: got %v", err)
	}
	if n, err := reader.Collection("c").CountDocuments(ctx, bson.D{}); err != nil || n != 1 {
		t.Fatalf("read user's count: %d, %v; want 1", n, err)
	}

	var st struct {
		AuthInfo struct {
			Users []struct{ User, DB string } `bson:"authenticatedUsers"`
			Roles []struct{ Role, DB string } `bson:"authenticatedUserRoles"`
			Privs []struct {
				Actions []string `bson:"actions"`
			} `bson:"authenticatedUserPrivileges"`
		} `bson:"authInfo"`
	}
	if err := readerClient.Database("admin").RunCommand(ctx, bson.D{{Key: "connectionStatus", Value: 1}, {Key: "showPrivileges", Value: true}}).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if len(st.AuthInfo.Users) != 1 || st.AuthInfo.Users[0].User != "reader" || len(st.AuthInfo.Roles) != 1 ||
		st.AuthInfo.Roles[0] != (struct{ Role, DB string }{"read", "lab"}) || len(st.AuthInfo.Privs) == 0 {
		t.Fatalf("reader's connectionStatus: %+v", st)
	}

	wall.SetRoles(t, "reader", "readWrite@lab")
	if _, err := reader.Collection("c").InsertOne(ctx, bson.D{{Key: "_id", Value: 3}}); err != nil {
		t.Fatalf("insert after the role became readWrite: %v", err)
	}
	if refused, status := wall.Stats(t); refused != 2 || status != 1 {
		t.Fatalf("wall stats: refused %d, status %d; want 2 and 1", refused, status)
	}
}
