package sync

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/sync/synctest"
)

// childEnv makes the test binary act as one device's sync process
// (see TestMain): the kill -9 test needs a real process to kill.
const childEnv = "PAPERFS_SYNC_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		if err := childMain(mode); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// childMain runs a device: it opens the store in PAPERFS_CHILD_DB and runs
// the engine. In mode "edit" it also creates a paper every few
// milliseconds until killed, printing each one's id after the commit
// returns; in mode "drain" it exits once its queue is empty.
func childMain(mode string) error {
	s, err := meta.Open(os.Getenv("PAPERFS_CHILD_DB"), meta.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	e, err := New(s, Config{URI: os.Getenv("PAPERFS_CHILD_URI"), Database: os.Getenv("PAPERFS_CHILD_DBNAME"),
		BatchSize: 50, PollInterval: 20 * time.Millisecond, Debounce: time.Millisecond, MaxBackoff: time.Second,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return err
	}
	defer e.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	switch mode {
	case "edit":
		for i := 0; ctx.Err() == nil; i++ {
			p, err := s.Create(meta.Paper{Title: fmt.Sprintf("child paper %d", i)})
			if err != nil {
				return err
			}
			fmt.Fprintln(out, p.ID)
			out.Flush()
			time.Sleep(2 * time.Millisecond) // paces the child, so the parent kills it mid-stream
		}
	case "drain":
		for {
			n, err := s.PendingCount()
			if err != nil {
				return err
			}
			if n == 0 {
				break
			}
			time.Sleep(20 * time.Millisecond) // polls the queue the engine's goroutine drains

		}
		stop()
	}
	return <-done
}

// TestKill9 kills a device's sync process with SIGKILL again and again
// while it creates papers and uploads its queue, then lets it drain: the
// server must hold every op exactly once and another device must end with
// every paper the killed one ever reported committed.
func TestKill9(t *testing.T) {
	srv := synctest.Start(t)
	db := dbName(t)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "meta.db")

	// A backlog, so that kills land in the middle of uploads.
	s, err := meta.Open(dbPath, meta.Options{Device: "killed01"})
	if err != nil {
		t.Fatal(err)
	}
	var backlog []meta.Paper
	for i := 0; i < 1500; i++ {
		backlog = append(backlog, meta.Paper{Title: fmt.Sprint("backlog ", i)})
	}
	created, err := s.CreateMany(backlog)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	want := map[string]bool{}
	for _, p := range created {
		want[p.ID] = true
	}

	start := func(mode string) (*exec.Cmd, *bufio.Scanner) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"="+mode, "PAPERFS_CHILD_DB="+dbPath,
			"PAPERFS_CHILD_URI="+srv.URI, "PAPERFS_CHILD_DBNAME="+db)
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, bufio.NewScanner(stdout)
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for round := 0; round < 6; round++ {
		cmd, out := start("edit")
		lines := make(chan string)
		go func() {
			for out.Scan() {
				lines <- out.Text()
			}
			close(lines)
		}()
		deadline := time.After(time.Duration(200+rng.IntN(600)) * time.Millisecond)
	read:
		for {
			select {
			case id, ok := <-lines:
				if !ok {
					break read
				}
				want[id] = true
			case <-deadline:
				cmd.Process.Signal(syscall.SIGKILL)
				deadline = nil
			}
		}
		err := cmd.Wait()
		t.Logf("round %d: killed with %d papers reported", round, len(want))
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("round %d: child ended with %v, not by SIGKILL", round, err)
		}
	}
	t.Log("draining")
	cmd, _ := start("drain")
	drained := make(chan error, 1)
	go func() { drained <- cmd.Wait() }()
	select {
	case err := <-drained:
		if err != nil {
			t.Fatalf("draining child: %v", err)
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Signal(syscall.SIGQUIT) // its stacks go to stderr
		<-drained
		t.Fatal("the child did not drain its queue in 60s")
	}

	s, err = meta.Open(dbPath, meta.Options{Device: "killed01"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	vv, _ := s.Vector()
	n := int(vv["killed01"])
	// A kill between a commit and its line on stdout leaves a paper the
	// test never heard of, so there may be more ops than reported papers,
	// never fewer.
	if n < len(want) {
		t.Fatalf("the killed device has %d ops for %d papers it reported", n, len(want))
	}
	assertNoDuplicates(t, srv, db, map[string]int{"killed01": n})

	// b writes ~2,000 readable papers documents in one round; FerretDB
	// scans the collection for each conditional write (Atlas uses the
	// index), so a request of 1,000 of them can take a minute on a loaded
	// 2-core machine. Smaller batches keep each request short.
	b := newDevice(t, "devb01", srv.URI, db, func(c *Config) { c.OpTimeout = 60 * time.Second; c.BatchSize = 200 })
	if rep := b.sync(); rep.Received != n {
		t.Fatalf("b received %d ops, want %d", rep.Received, n)
	}
	for id := range want {
		if _, err := b.store.Get(id); err != nil {
			t.Fatalf("paper %s lost: %v", id, err)
		}
	}
	if got, want := stateOf(t, b.store), stateOf(t, s); got != want {
		t.Fatal("b differs from the killed device")
	}
	t.Logf("%d ops survived 6 kills", n)
}
