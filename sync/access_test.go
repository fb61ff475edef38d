package sync

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/sync/synctest"
)

func TestMayWrite(t *testing.T) {
	str := func(s string) *string { return &s }
	priv := func(db, coll string, actions ...string) privilege {
		var p privilege
		p.Resource.DB, p.Resource.Collection, p.Actions = str(db), str(coll), actions
		return p
	}
	type role = struct {
		Role string `bson:"role"`
		DB   string `bson:"db"`
	}
	user := []struct {
		User string `bson:"user"`
		DB   string `bson:"db"`
	}{{"u", "admin"}}
	read := []string{"changeStream", "collStats", "dbHash", "dbStats", "find", "killCursors", "listCollections", "listIndexes"}
	rw := append(append([]string{}, read...), "insert", "remove", "update", "createIndex")
	anyRes := privilege{Actions: []string{"insert", "update"}}
	anyRes.Resource.AnyResource = true
	cluster := privilege{Actions: []string{"insert", "update"}}
	for _, tc := range []struct {
		name            string
		info            authInfo
		writable, known bool
	}{
		{"no authentication", authInfo{}, false, false},
		{"FerretDB: a user, no roles", authInfo{Users: user}, false, false},
		{"Atlas read@lab", authInfo{Users: user, Roles: []role{{"read", "lab"}},
			Privileges: []privilege{priv("lab", "", read...), priv("lab", "system.js", read...)}}, false, true},
		{"Atlas readWrite@lab", authInfo{Users: user, Roles: []role{{"readWrite", "lab"}},
			Privileges: []privilege{priv("lab", "", rw...)}}, true, true},
		{"readWrite on another database", authInfo{Users: user, Roles: []role{{"readWrite", "other"}, {"read", "lab"}},
			Privileges: []privilege{priv("other", "", rw...), priv("lab", "", read...)}}, false, true},
		{"readWriteAnyDatabase", authInfo{Users: user, Roles: []role{{"readWriteAnyDatabase", "admin"}},
			Privileges: []privilege{priv("", "", rw...)}}, true, true},
		{"insert and update on ops only", authInfo{Users: user, Roles: []role{{"custom", "lab"}},
			Privileges: []privilege{priv("lab", "ops", "insert", "update")}}, true, true},
		{"insert without update", authInfo{Users: user, Roles: []role{{"custom", "lab"}},
			Privileges: []privilege{priv("lab", "", "find", "insert")}}, false, true},
		{"anyResource", authInfo{Users: user, Roles: []role{{"root", "admin"}}, Privileges: []privilege{anyRes}}, true, true},
		{"cluster resource only", authInfo{Users: user, Roles: []role{{"clusterMonitor", "admin"}}, Privileges: []privilege{cluster}}, false, true},
		{"roles without privileges: readWrite@lab", authInfo{Users: user, Roles: []role{{"readWrite", "lab"}}}, true, true},
		{"roles without privileges: read@lab", authInfo{Users: user, Roles: []role{{"read", "lab"}}}, false, true},
		{"roles without privileges: custom", authInfo{Users: user, Roles: []role{{"editors", "lab"}}}, false, false},
	} {
		w, k := tc.info.mayWrite("lab")
		if w != tc.writable || k != tc.known {
			t.Errorf("%s: writable %v known %v, want %v %v", tc.name, w, k, tc.writable, tc.known)
		}
	}
}

// lab is a shared library on a FerretDB with authentication: its database
// and the members' users (password = user name + "-pw").
type lab struct {
	srv *synctest.Server
	db  string
}

func newLab(t *testing.T, users ...string) *lab {
	l := &lab{srv: synctest.StartAuth(t), db: dbName(t)}
	for _, u := range users {
		l.srv.CreateUser(t, "admin", u, u+"-pw")
	}
	return l
}

func (l *lab) uri(user string) string { return l.srv.UserURI(user, user+"-pw", "admin") }

// serverOps counts a device's ops on the server.
func (l *lab) serverOps(t *testing.T, device string) int64 {
	t.Helper()
	n, err := l.srv.Client(t).Database(l.db).Collection(opsColl).CountDocuments(context.Background(), bson.D{{Key: "device", Value: device}})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAuthRightUser: two members with their own users sync both ways on
// a server that requires authentication.
func TestAuthRightUser(t *testing.T) {
	l := newLab(t, "alice", "bob")
	a := newDevice(t, "deva01", l.uri("alice"), l.db)
	b := newDevice(t, "devb01", l.uri("bob"), l.db)
	pa := a.create(meta.Paper{Title: "from alice"})
	a.sync()
	b.sync()
	pb := b.create(meta.Paper{Title: "from bob"})
	b.sync()
	a.sync()
	if a.get(pb.ID).Title != "from bob" || b.get(pa.ID).Title != "from alice" {
		t.Fatal("edits did not cross")
	}
	assertConverged(t, a, b)
	for _, d := range []*device{a, b} {
		if err := d.eng.Writable(); err != nil {
			t.Errorf("%s: Writable: %v", d.name, err)
		}
	}
}

// TestAuthWrongPassword: a wrong password is ErrAuth with a message that
// says what to do and shows no credentials; the local edit is kept, and
// Run retries until the credentials work, then sends it.
func TestAuthWrongPassword(t *testing.T) {
	l := newLab(t, "reader")
	uri := l.srv.UserURI("carol", "Sup3rSecretPw", "admin") // no such user yet
	logs := &synctest.LogBuffer{}
	a := newDevice(t, "deva01", uri, l.db, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	p := a.create(meta.Paper{Title: "kept"})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, err := a.eng.Once(ctx)
	var ae *AccessError
	if !errors.Is(err, ErrAuth) || !errors.As(err, &ae) || ae.Database != l.db || ae.User != "carol" {
		t.Fatalf("Once: got %v (%T), want an *AccessError for ErrAuth", err, err)
	}
	if !strings.Contains(err.Error(), "authentication failed") || !strings.Contains(err.Error(), l.db) {
		t.Errorf("message %q does not say what happened", err)
	}
	st := a.eng.Status()
	for what, s := range map[string]string{"error": err.Error(), "status access": st.Access, "last error": st.LastError, "log": logs.String()} {
		if strings.Contains(s, "Sup3rSecretPw") || strings.Contains(s, "carol") {
			t.Errorf("credentials in the %s: %s", what, s)
		}
	}
	if !st.AuthFailed || st.ReadOnly || st.Access == "" || st.Pending != 1 {
		t.Fatalf("status after the failure: %+v", st)
	}
	if err := a.eng.Writable(); !errors.Is(err, ErrAuth) {
		t.Fatalf("Writable: %v, want ErrAuth", err)
	}
	if _, err := a.store.Get(p.ID); err != nil {
		t.Fatalf("the local edit is gone: %v", err)
	}

	// Run keeps retrying; once the user exists with that password the
	// edit goes out.
	r := a.run(t)
	waitFor(t, 30*time.Second, "Run to retry", func() bool { return strings.Count(logs.String(), "will retry") >= 2 })
	l.srv.CreateUser(t, "admin", "carol", "Sup3rSecretPw")
	waitFor(t, 30*time.Second, "the held edit to be sent after the credentials work", pending(a))
	r.stop(t)
	if strings.Contains(logs.String(), "Sup3rSecretPw") || strings.Contains(logs.String(), "carol") {
		t.Errorf("credentials in the log:\n%s", logs)
	}
	if err := a.eng.Writable(); err != nil {
		t.Fatalf("Writable after success: %v", err)
	}
	if st := a.eng.Status(); st.AuthFailed || st.Access != "" {
		t.Fatalf("status after success: %+v", st)
	}
	if n := l.serverOps(t, "deva01"); n != 1 {
		t.Fatalf("%d ops of deva01 on the server, want 1", n)
	}
}

// TestRemovedUser: a member whose user is dropped stops syncing with
// ErrAuth at its next connection, keeps its edits and retries; when the
// user is back its edits arrive.
func TestRemovedUser(t *testing.T) {
	l := newLab(t, "alice", "bob")
	a := newDevice(t, "deva01", l.uri("alice"), l.db)
	b := newDevice(t, "devb01", l.uri("bob"), l.db)
	a.create(meta.Paper{Title: "before"})
	a.sync()

	l.srv.DropUser(t, "admin", "alice")
	// FerretDB keeps connections authenticated before the drop; Atlas
	// ends them. A restart makes every connection new.
	l.srv.Restart(t)
	r := a.run(t)
	p := a.create(meta.Paper{Title: "after the drop"})
	waitFor(t, 30*time.Second, "a to report the authentication failure", func() bool {
		st := a.eng.Status()
		return st.AuthFailed && st.Pending == 1
	})
	if err := a.eng.Writable(); !errors.Is(err, ErrAuth) {
		t.Fatalf("Writable: %v, want ErrAuth", err)
	}
	if n := l.serverOps(t, "deva01"); n != 1 {
		t.Fatalf("%d ops of deva01 on the server while its user is gone, want 1", n)
	}
	l.srv.CreateUser(t, "admin", "alice", "alice-pw")
	waitFor(t, 30*time.Second, "a to send its edit once the user is back", pending(a))
	r.stop(t)
	b.sync()
	if b.get(p.ID).Title != "after the drop" {
		t.Fatal("b did not get the edit")
	}
}

// TestReadOnlyMember: through the role wall, a member whose user has
// read on the library pulls the others' edits, sees it read-only before
// trying a write (connectionStatus), keeps and lists its offline edits
// without sending them, and sends them once it may write. A readWrite
// member through the same wall syncs normally.
func TestReadOnlyMember(t *testing.T) {
	l := newLab(t, "writer", "reader")
	wall := synctest.RoleWall(t, l.srv, "writer=readWrite@"+l.db, "reader=read@"+l.db)
	w := newDevice(t, "devw01", wall.UserURI("writer", "writer-pw", "admin"), l.db)
	r := newDevice(t, "devr01", wall.UserURI("reader", "reader-pw", "admin"), l.db)

	pw := w.create(meta.Paper{Title: "shared paper"})
	w.sync()
	// Made offline, before this device knew its user may only read.
	offline := r.create(meta.Paper{Title: "offline note"})
	r.update(offline.ID, func(p *meta.Paper) { p.Tags = []string{"mine"} })

	rep := r.sync()
	if rep.Sent != 0 || rep.Received == 0 {
		t.Fatalf("reader's round: %+v, want nothing sent and the writer's ops received", rep)
	}
	if r.get(pw.ID).Title != "shared paper" {
		t.Fatal("the reader did not pull the writer's paper")
	}
	err := r.eng.Writable()
	var ae *AccessError
	if !errors.Is(err, ErrReadOnly) || !errors.As(err, &ae) || ae.Database != l.db {
		t.Fatalf("reader's Writable: %v, want an *AccessError for ErrReadOnly", err)
	}
	if want := "read-only: your database user may only read " + l.db; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	st := r.eng.Status()
	if !st.ReadOnly || st.Access != err.Error() || st.Pending != 2 || st.HeldPapers != 1 ||
		len(st.Held) != 1 || st.Held[0].ID != offline.ID || st.Held[0].Title != "offline note" || st.Held[0].Ops != 2 {
		t.Fatalf("reader's status: %+v", st)
	}
	if refused, status := wall.Stats(t); refused != 0 || status < 2 {
		t.Fatalf("wall: %d writes refused, %d connectionStatus answered; want none refused (the reader knew first) and both asked", refused, status)
	}
	if err := w.eng.Writable(); err != nil {
		t.Fatalf("writer's Writable: %v", err)
	}

	// Later rounds pull and still send nothing: nothing is retried.
	pw2 := w.create(meta.Paper{Title: "second"})
	w.sync()
	r.sync()
	if r.get(pw2.ID).Title != "second" {
		t.Fatal("the reader did not pull the second paper")
	}
	if n := l.serverOps(t, "devr01"); n != 0 {
		t.Fatalf("%d of the reader's ops reached the server", n)
	}
	if refused, _ := wall.Stats(t); refused != 0 {
		t.Fatalf("the reader tried %d writes", refused)
	}
	if n, _ := r.store.PendingCount(); n != 2 {
		t.Fatalf("reader's held edits: %d, want 2", n)
	}

	// Given readWrite, a new engine on the same store (the next mount)
	// sends the held edits.
	wall.SetRoles(t, "reader", "readWrite@"+l.db)
	r.eng.Close()
	eng, err := New(r.store, Config{URI: wall.UserURI("reader", "reader-pw", "admin"), Database: l.db, OpTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	r.eng = eng
	if err := r.eng.Writable(); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("a new engine forgot the read-only state before asking: %v", err)
	}
	r.sync()
	if err := r.eng.Writable(); err != nil {
		t.Fatalf("Writable after the promotion: %v", err)
	}
	w.sync()
	if w.get(offline.ID).Title != "offline note" {
		t.Fatal("the held edit did not reach the writer")
	}
	assertConverged(t, w, r)
}

// TestWriteRefused: a member whose role is lowered to read while its
// engine runs learns it from the server's refusal (code 13): the round
// still pulls, the edit is kept, and later rounds do not try again.
func TestWriteRefused(t *testing.T) {
	l := newLab(t, "writer", "member")
	wall := synctest.RoleWall(t, l.srv, "writer=readWrite@"+l.db, "member=readWrite@"+l.db)
	w := newDevice(t, "devw01", wall.UserURI("writer", "writer-pw", "admin"), l.db)
	m := newDevice(t, "devm01", wall.UserURI("member", "member-pw", "admin"), l.db)
	m.create(meta.Paper{Title: "sent while writable"})
	m.sync()

	wall.SetRoles(t, "member", "read@"+l.db)
	held := m.create(meta.Paper{Title: "held"})
	pw := w.create(meta.Paper{Title: "from the writer"})
	w.sync()
	rep := m.sync() // no error: the refusal makes the library read-only
	if rep.Sent != 0 || m.get(pw.ID).Title != "from the writer" {
		t.Fatalf("round after the refusal: %+v", rep)
	}
	if err := m.eng.Writable(); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Writable: %v, want ErrReadOnly", err)
	}
	refused, _ := wall.Stats(t)
	if refused != 1 {
		t.Fatalf("wall refused %d writes, want 1", refused)
	}
	m.create(meta.Paper{Title: "also held"})
	m.sync()
	m.sync()
	if again, _ := wall.Stats(t); again != refused {
		t.Fatalf("the member kept trying: %d refused writes, then %d", refused, again)
	}
	st := m.eng.Status()
	if st.Pending != 2 || st.HeldPapers != 2 || !strings.Contains(st.Access, "read-only") {
		t.Fatalf("status: %+v", st)
	}
	if _, err := m.store.Get(held.ID); err != nil {
		t.Fatal(err)
	}
	if n := l.serverOps(t, "devm01"); n != 1 {
		t.Fatalf("%d of the member's ops on the server, want 1", n)
	}
}

// TestPromotedWhileRunning: a running read-only member given readWrite
// notices at its next access check and sends the edits it held.
func TestPromotedWhileRunning(t *testing.T) {
	l := newLab(t, "reader")
	wall := synctest.RoleWall(t, l.srv, "reader=read@"+l.db)
	r := newDevice(t, "devr01", wall.UserURI("reader", "reader-pw", "admin"), l.db,
		func(c *Config) { c.AccessRecheck = 200 * time.Millisecond })
	r.create(meta.Paper{Title: "held"})
	run := r.run(t)
	waitFor(t, 30*time.Second, "the reader to learn it may only read", func() bool { return r.eng.Status().ReadOnly })
	if n := l.serverOps(t, "devr01"); n != 0 {
		t.Fatalf("%d ops sent while read-only", n)
	}
	wall.SetRoles(t, "reader", "readWrite@"+l.db)
	waitFor(t, 30*time.Second, "the held edit to be sent after the promotion", pending(r))
	run.stop(t)
	if err := r.eng.Writable(); err != nil {
		t.Fatalf("Writable: %v", err)
	}
	if n := l.serverOps(t, "devr01"); n != 1 {
		t.Fatalf("%d ops on the server, want 1", n)
	}
}

// TestRefusedWithoutPrivileges: on a server that does not list privileges
// (FerretDB's own connectionStatus), only a refused write tells. A running
// engine then stops trying; each new engine tries once more, so a member
// given readWrite later gets its edits out. A record about another user
// (the config changed) is ignored.
func TestRefusedWithoutPrivileges(t *testing.T) {
	l := newLab(t, "member", "other")
	wall := synctest.RoleWall(t, l.srv, "member=read@"+l.db, "other=readWrite@"+l.db)
	wall.AnswerStatus(t, false)
	m := newDevice(t, "devm01", wall.UserURI("member", "member-pw", "admin"), l.db)
	m.create(meta.Paper{Title: "held"})
	m.sync()
	if err := m.eng.Writable(); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Writable: %v, want ErrReadOnly from the refusal", err)
	}
	m.sync()
	if refused, status := wall.Stats(t); refused != 1 || status != 0 {
		t.Fatalf("wall: %d refused, %d statuses answered; want 1 refusal and none answered", refused, status)
	}

	reopen := func(uri string) {
		m.eng.Close()
		eng, err := New(m.store, Config{URI: uri, Database: l.db, OpTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { eng.Close() })
		m.eng = eng
	}
	reopen(wall.UserURI("member", "member-pw", "admin"))
	if err := m.eng.Writable(); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("new engine before its first round: %v, want ErrReadOnly", err)
	}
	m.sync()
	if refused, _ := wall.Stats(t); refused != 2 {
		t.Fatalf("a new engine should try once more: %d refusals, want 2", refused)
	}
	if n, _ := m.store.PendingCount(); n != 1 {
		t.Fatalf("held edits: %d, want 1", n)
	}

	reopen(wall.UserURI("other", "other-pw", "admin"))
	if err := m.eng.Writable(); err != nil {
		t.Fatalf("another user's engine took the member's record: %v", err)
	}

	wall.SetRoles(t, "member", "readWrite@"+l.db)
	reopen(wall.UserURI("member", "member-pw", "admin"))
	m.sync()
	if n, _ := m.store.PendingCount(); n != 0 || m.eng.Writable() != nil {
		t.Fatalf("after readWrite: %d held, Writable %v", n, m.eng.Writable())
	}
	if n := l.serverOps(t, "devm01"); n != 1 {
		t.Fatalf("%d ops on the server, want 1", n)
	}
}
