package synctest

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"sync"
	"testing"
)

// Wall is a scripts/rolewall proxy in front of a server: it enforces
// database roles for the users it is told about, which FerretDB does not
// (it authenticates users but lets every one of them write). A named
// user's writes on a database where it lacks readWrite get the real
// server's error (code 13, Unauthorized) without reaching the server, and
// its connectionStatus is answered with the roles and privileges Atlas
// would list. Other users pass through.
type Wall struct {
	addr string

	mu    sync.Mutex // protects the following; serializes commands
	proc  *child
	stdin io.WriteCloser
}

// RoleWall starts a role-enforcing proxy on a free 127.0.0.1 port in
// front of srv, with roles given as "USER=ROLE@DB[,ROLE@DB]" (ROLE read or
// readWrite). It stops when the test ends.
func RoleWall(t testing.TB, srv *Server, roles ...string) *Wall {
	t.Helper()
	skipIfAsked(t)
	bin := binary(t, "rolewall")
	args := []string{"-listen", "127.0.0.1:0", "-upstream", srv.addr}
	for _, r := range roles {
		args = append(args, "-role", r)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatalf("synctest: %v", err)
	}
	p, addr, err := startChild("rolewall", bin, args, nil, pr)
	if err != nil {
		pw.Close()
		t.Fatalf("synctest: starting the role wall in front of %s: %v", srv.addr, err)
	}
	w := &Wall{addr: addr, proc: p, stdin: pw}
	t.Cleanup(func() { w.stop(t) })
	return w
}

// UserURI is a URI that reaches the server through the wall as user.
func (w *Wall) UserURI(user, password, authDB string) string {
	return userURI(w.addr, user, password, authDB)
}

// SetRoles replaces user's roles ("ROLE@DB[,ROLE@DB]"); open connections
// get the new ones with their next command, as on Atlas after a role
// change.
func (w *Wall) SetRoles(t testing.TB, user, roles string) {
	t.Helper()
	if _, err := w.do("role " + user + "=" + roles); err != nil {
		t.Fatalf("synctest: role wall: setting %s's roles to %s: %v", user, roles, err)
	}
}

// AnswerStatus says whether the wall answers connectionStatus (the
// default) or passes it to the server, which lists no roles: a server
// that does not say what a user may do.
func (w *Wall) AnswerStatus(t testing.TB, on bool) {
	t.Helper()
	arg := "off"
	if on {
		arg = "on"
	}
	if _, err := w.do("statuses " + arg); err != nil {
		t.Fatalf("synctest: role wall: statuses %s: %v", arg, err)
	}
}

// Stats returns how many writes the wall has refused and how many
// connectionStatus commands it has answered.
func (w *Wall) Stats(t testing.TB) (refused, status int) {
	t.Helper()
	out, err := w.do("stats")
	if err == nil {
		_, err = fmt.Sscanf(out, "refused=%d status=%d", &refused, &status)
	}
	if err != nil {
		t.Fatalf("synctest: role wall: stats: %v", err)
	}
	return refused, status
}

func (w *Wall) do(cmd string) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return ask(w.proc, w.stdin, cmd)
}

func (w *Wall) stop(t testing.TB) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.proc == nil {
		return
	}
	if err := stopDriven(w.proc, w.stdin); err != nil {
		t.Errorf("synctest: stopping the role wall: %v", err)
	}
	w.proc = nil
}

// userURI is a mongodb:// URI for addr with user's SCRAM-SHA-256
// credentials, authenticating against authDB.
func userURI(addr, user, password, authDB string) string {
	u := url.URL{Scheme: "mongodb", User: url.UserPassword(user, password), Host: addr, Path: "/"}
	u.RawQuery = url.Values{"authSource": {authDB}, "authMechanism": {"SCRAM-SHA-256"}}.Encode()
	return u.String()
}
