package synctest

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// admin is the user FerretDB creates on a StartAuth server's first start.
type admin struct{ db, user, password string }

// StartAuth is Start with FerretDB's experimental authentication on
// (SCRAM-SHA-256): every command but the handshake needs a user made with
// CreateUser. Client and the harness authenticate as an administrator
// with a random password; srv.URI holds no credentials (UserURI adds
// them).
//
// FerretDB authenticates but does not authorize: any user may read and
// write everything. Put a RoleWall in between for roles.
func StartAuth(t testing.TB) *Server {
	t.Helper()
	return startNew(t, &admin{db: "admin", user: "root", password: rand.Text()})
}

// UserURI is the server's URI with user's credentials, authenticating
// against authDB (the database the user was created in).
func (s *Server) UserURI(user, password, authDB string) string {
	return userURI(s.addr, user, password, authDB)
}

// CreateUser creates user with password in database db (createUser), as
// the administrator, with no roles: FerretDB 1.24 refuses any (roles are
// NotImplemented), which is what a RoleWall stands in for.
func (s *Server) CreateUser(t testing.TB, db, user, password string) {
	t.Helper()
	s.userCommand(t, db, bson.D{{Key: "createUser", Value: user}, {Key: "pwd", Value: password}, {Key: "roles", Value: bson.A{}}})
}

// DropUser removes user from database db (dropUser). Connections that
// authenticated before stay authenticated on FerretDB; new ones fail.
func (s *Server) DropUser(t testing.TB, db, user string) {
	t.Helper()
	s.userCommand(t, db, bson.D{{Key: "dropUser", Value: user}})
}

func (s *Server) userCommand(t testing.TB, db string, cmd bson.D) {
	t.Helper()
	if s.admin == nil {
		t.Fatalf("synctest: %s needs a server from StartAuth", cmd[0].Key)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Client(t).Database(db).RunCommand(ctx, cmd).Err(); err != nil {
		t.Fatalf("synctest: %s %v in %s: %v", cmd[0].Key, cmd[0].Value, db, err)
	}
}
