// Package synctest runs real servers for paperfs' sync tests: FerretDB
// 1.24 (a MongoDB-protocol server on SQLite, from scripts/ferretdb) and a
// Toxiproxy fault proxy (scripts/toxiproxy) to put between a client and
// it. Both are built from their own Go modules on first use and cached
// under os.UserCacheDir()/paperfs-test, so paperfs' go.mod carries neither.
//
// Tests fail, not skip, when the server can't be built or started. Set
// PAPERFS_SKIP_MONGO=1 to skip them on a machine that can't build it.
package synctest

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// SkipEnv is the environment variable that, set to 1, skips every test
// that needs the server.
const SkipEnv = "PAPERFS_SKIP_MONGO"

// Server is a running FerretDB test server owned by a test.
type Server struct {
	// URI is a mongodb:// URI for the server. It stays valid across
	// Stop and Restart: the server comes back on the same port.
	URI string
	// Dir holds the server's SQLite files; Restart keeps them.
	Dir string

	addr string // host:port, fixed by the first start
	bin  string
	// admin is the first user of a server started by StartAuth; nil
	// without authentication.
	admin *admin

	mu sync.Mutex // protects proc
	// proc is the running server, nil while stopped.
	proc *child
}

// Start builds the server if needed and starts it on a free 127.0.0.1
// port with a fresh state directory, waits until a driver Ping succeeds,
// and stops it when the test ends. If PAPERFS_SKIP_MONGO=1 is set it
// skips the test instead.
func Start(t testing.TB) *Server {
	t.Helper()
	return startNew(t, nil)
}

func startNew(t testing.TB, a *admin) *Server {
	t.Helper()
	skipIfAsked(t)
	s := &Server{
		Dir:   t.TempDir(),
		bin:   binary(t, "ferretdb"),
		admin: a,
	}
	s.start(t, "127.0.0.1:0")
	t.Cleanup(func() { s.Stop(t) })
	return s
}

// Stop stops the server (SIGTERM, then SIGKILL if it doesn't exit within
// 10s), keeping its data. Clients see connection errors until Restart.
// With clients connected it takes about 3s: FerretDB gives open
// connections that long to finish. Stopping a stopped server does nothing.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p == nil {
		return
	}
	if err := p.stop(); err != nil {
		t.Errorf("synctest: stopping FerretDB at %s: %v", s.addr, err)
	}
}

// Kill kills the server with SIGKILL, as a crash would: no graceful close
// of connections (Stop gives open connections FerretDB's few seconds of
// grace). Acknowledged writes survive; Restart brings it back.
func (s *Server) Kill(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p != nil {
		p.kill()
	}
}

// Restart stops the server if it is running and starts it again on the
// same port with the same data.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop(t)
	s.start(t, s.addr)
}

// Client returns a driver client connected to the server, disconnected
// when the test ends. On a server started by StartAuth it authenticates
// as the administrator.
func (s *Server) Client(t testing.TB) *mongo.Client {
	t.Helper()
	return connect(t, s.clientURI())
}

// clientURI is the URI the harness itself uses: the administrator's on a
// server with authentication.
func (s *Server) clientURI() string {
	if s.admin == nil {
		return s.URI
	}
	return s.UserURI(s.admin.user, s.admin.password, s.admin.db)
}

func (s *Server) start(t testing.TB, addr string) {
	t.Helper()
	var (
		p   *child
		uri string
		err error
	)
	// After a stop the old port is free again, but an unrelated process
	// could take it in between; retry briefly rather than flake.
	for attempt := 0; ; attempt++ {
		args := []string{"-listen", addr, "-dir", s.Dir}
		var env []string
		if s.admin != nil {
			args = append(args, "-auth", "-setup-db", s.admin.db, "-setup-user", s.admin.user)
			env = []string{"FERRETDB_SETUP_PASSWORD=" + s.admin.password}
		}
		p, uri, err = startChild("ferretdb", s.bin, args, env, nil)
		if err == nil || attempt == 20 || !strings.Contains(err.Error(), "address already in use") {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("synctest: starting FerretDB (%s -listen %s -dir %s): %v", s.bin, addr, s.Dir, err)
	}
	if s.addr == "" {
		host, err := hostOf(uri)
		if err != nil {
			p.kill()
			t.Fatalf("synctest: FerretDB announced %q: %v", uri, err)
		}
		s.addr = host
		s.URI = uri
	}
	if err := ping(s.clientURI()); err != nil {
		p.kill()
		t.Fatalf("synctest: FerretDB at %s started but does not answer Ping: %v\n%s", s.addr, err, p.stderr)
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
}

func skipIfAsked(t testing.TB) {
	t.Helper()
	if os.Getenv(SkipEnv) == "1" {
		t.Skipf("\n\n*** SKIPPED: %s=1 is set, so this test does NOT run against the MongoDB-protocol server (FerretDB). ***\n"+
			"*** Sync is untested in this run. Unset %s to run it. ***\n\n", SkipEnv, SkipEnv)
	}
}

// connect makes a client with short timeouts, so a test against a dead
// server fails in seconds rather than the driver's default 30s.
func connect(t testing.TB, uri string) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(uri).
		SetServerSelectionTimeout(10 * time.Second).
		SetConnectTimeout(5 * time.Second))
	if err != nil {
		t.Fatalf("synctest: connecting to %s: %v", uri, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Disconnect(ctx)
	})
	return c
}

// ping waits until the server answers a Ping through the driver.
func ping(uri string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(30 * time.Second))
	if err != nil {
		return err
	}
	defer c.Disconnect(context.Background())
	return c.Ping(ctx, nil)
}

// hostOf returns host:port of a mongodb://host:port/ URI with one host.
func hostOf(uri string) (string, error) {
	rest, ok := strings.CutPrefix(uri, "mongodb://")
	if !ok {
		return "", fmt.Errorf("not a mongodb:// URI")
	}
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	if _, _, err := net.SplitHostPort(rest); err != nil {
		return "", err
	}
	return rest, nil
}
