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
	_, err = alice.InsertOne(ctx, bson.D{{Key: "_id", Value: 5}})
	t.Logf("FINDING dropped user, connection authenticated before: %v", err)
}

func assertAuthFailed(t *testing.T, what string, err error) {
	t.Helper()
	var se mongo.ServerError
	if !errors.As(err, &se) || !se.HasErrorCode(18) {
		t.Fatalf("%s: got %v (%T), want AuthenticationFailed (18)", what, err, err)
	}
	t.Logf("FINDING %s: %v", what, err)
}
