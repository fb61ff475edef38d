//go:build linux

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/paperfs/paperfs/fs"
	"github.com/paperfs/paperfs/fs/fuse"
	"github.com/paperfs/paperfs/meta/testutil"
)

// sessionBus starts a private D-Bus session bus (the daemon
// dbus-run-session starts) with extra environment for the services it
// starts, and returns its address; it is stopped by PID when the test
// ends.
func sessionBus(t *testing.T, env ...string) string {
	t.Helper()
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		t.Fatalf("dbus-daemon not installed (run scripts/test-deps: dbus): %v", err)
	}
	c := exec.Command("dbus-daemon", "--session", "--nofork", "--print-address=1")
	c.Env = append(os.Environ(), env...)
	out, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	// A file, not a pipe: the services the bus starts inherit it, and
	// Wait would wait for them to close a pipe.
	stderr, err := os.Create(filepath.Join(t.TempDir(), "dbus-daemon.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	c.Stderr = stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Process.Kill()
		c.Wait()
	})
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		log, _ := os.ReadFile(stderr.Name())
		t.Fatalf("dbus-daemon printed no address: %v\n%s", err, log)
	}
	return strings.TrimSpace(addr)
}

// note is one notification the fake server was sent.
type note struct{ app, summary, body string }

// fakeNotifications is a notification server: org.freedesktop.Notifications
// on the bus, recording what it is asked to show.
type fakeNotifications struct {
	got chan note
}

func (f *fakeNotifications) Notify(app string, replaces uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	f.got <- note{app, summary, body}
	return 1, nil
}

func serveNotifications(t *testing.T, addr string) *fakeNotifications {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	f := &fakeNotifications{got: make(chan note, 100)}
	if err := conn.Export(f, notifyPath, notifyName); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName(notifyName, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning %s: %v (reply %v)", notifyName, err, reply)
	}
	return f
}

// next waits for the next notification.
func (f *fakeNotifications) next(t *testing.T, logs fmt.Stringer) note {
	t.Helper()
	select {
	case n := <-f.got:
		return n
	case <-time.After(30 * time.Second):
		t.Fatalf("no notification\n%s", logs)
		return note{}
	}
}

// mountFor starts paperfs mount on mnt (a new directory if "") with extra
// environment and flags and waits for the library's a.pdf to show; stop
// unmounts it with SIGTERM.
func mountFor(t *testing.T, e *env, mnt string, env []string, flags ...string) (_ string, logs *syncBuffer, stop func()) {
	t.Helper()
	testutil.SkipWithoutFUSE(t)
	if mnt == "" {
		mnt = filepath.Join(t.TempDir(), "mnt")
	}
	os.MkdirAll(mnt, 0o755)
	c := e.cmd(append(append([]string{"mount"}, flags...), mnt)...)
	c.Env = append(c.Env, env...)
	logs = &syncBuffer{}
	c.Stderr = logs
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		c.Process.Signal(syscall.SIGTERM)
		if err := c.Wait(); err != nil {
			t.Errorf("mount exited with %v\n%s", err, logs)
		}
		if ok, _ := fuse.IsMounted(mnt); ok {
			syscall.Unmount(mnt, syscall.MNT_DETACH)
		}
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if ents, _ := os.ReadDir(filepath.Join(mnt, "all")); len(ents) > 0 {
			return mnt, logs, stop
		}
		if time.Now().After(deadline) {
			t.Fatalf("the library's PDFs never appeared in the mount\n%s", logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRefusalNotifications: through a real mount and a real session bus,
// a refused save and a refused mkdir at the root each reach the desktop's
// notification server naming the file and the reason, a burst of
// refusals is fewer notifications than refusals, removing a view at the
// root is refused and logged, and --no-notifications sends none.
func TestRefusalNotifications(t *testing.T) {
	addr := sessionBus(t)
	srv := serveNotifications(t, addr)
	e := newEnv(t)
	testutil.WritePDF(t, filepath.Join(e.lib, "a.pdf"), "a")
	mnt, logs, stop := mountFor(t, e, "", []string{"DBUS_SESSION_BUS_ADDRESS=" + addr})

	err := os.WriteFile(filepath.Join(mnt, "all", "a.json"), []byte(`{"title": "x", "rating": 9}`), 0o644)
	if !errors.Is(err, syscall.EINVAL) {
		t.Errorf("invalid save: %v, want EINVAL", err)
	}
	n := srv.next(t, logs)
	if n.app != "paperfs" || !strings.Contains(n.summary, "all/a.json") || !strings.Contains(n.body, "rating: 9 is out of range") {
		t.Errorf("refused save: notification %+v", n)
	}

	if err := os.Mkdir(filepath.Join(mnt, "Papers to read"), 0o755); !errors.Is(err, syscall.EPERM) {
		t.Errorf("mkdir at the root: %v, want EPERM", err)
	}
	n = srv.next(t, logs)
	if !strings.Contains(n.summary, "Papers to read") || !strings.Contains(n.body, "mkdir tags/NAME") {
		t.Errorf("refused mkdir: notification %+v", n)
	}

	// Removing a view is refused (go-fuse alone reported it done and
	// dropped all/ until the next mount) and logged.
	if err := syscall.Rmdir(filepath.Join(mnt, "all")); !errors.Is(err, syscall.EPERM) {
		t.Errorf("rmdir all: %v, want EPERM", err)
	}
	n = srv.next(t, logs)
	if !strings.Contains(n.summary, "all") || !strings.Contains(n.body, "cannot be removed") {
		t.Errorf("refused rmdir: notification %+v", n)
	}
	if _, err := os.Stat(filepath.Join(mnt, "all", "a.pdf")); err != nil {
		t.Errorf("after a refused rmdir all: %v", err)
	}

	// A burst: a file manager pasting a folder onto the root.
	const burst = 6
	for i := range burst {
		if err := os.Mkdir(filepath.Join(mnt, fmt.Sprintf("new %d", i)), 0o755); !errors.Is(err, syscall.EPERM) {
			t.Errorf("mkdir new %d: %v", i, err)
		}
	}
	notes, refusals := 0, 0
	for refusals < burst {
		n := srv.next(t, logs)
		notes++
		k := 1
		fmt.Sscanf(n.summary, "paperfs refused %d changes", &k)
		refusals += k
	}
	if refusals != burst || notes >= burst {
		t.Errorf("%d refusals in a burst made %d notifications for %d refusals", burst, notes, refusals)
	}
	stop()
	for _, want := range []string{"file=all/a.json", `file="Papers to read"`, "file=all", `file="new 5"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}

	// Off with the flag: paperfs sends each notification before it exits,
	// so none arrived means none was sent.
	mnt, logs, stop = mountFor(t, e, "", []string{"DBUS_SESSION_BUS_ADDRESS=" + addr}, "--no-notifications")
	if err := os.Mkdir(filepath.Join(mnt, "quiet"), 0o755); !errors.Is(err, syscall.EPERM) {
		t.Errorf("mkdir at the root: %v, want EPERM", err)
	}
	stop()
	select {
	case n := <-srv.got:
		t.Errorf("--no-notifications sent %+v", n)
	default:
	}
	if !strings.Contains(logs.String(), `file=quiet`) {
		t.Errorf("refusal not logged with --no-notifications:\n%s", logs)
	}
}

// The words of a notification: one refusal, and a burst.
func TestNotificationText(t *testing.T) {
	one := []fs.Rejection{{File: "all/a.json", Problem: "rating: 9 is out of range (0-5) <&>"}}
	s, b := notification(one, 1)
	if s != "paperfs refused a change to all/a.json" || b != "rating: 9 is out of range (0-5) &lt;&amp;&gt;" {
		t.Errorf("one: %q / %q", s, b)
	}
	many := []fs.Rejection{{File: "a", Problem: "p"}, {File: "b", Problem: "p"}, {File: "c", Problem: "p"}, {File: "d", Problem: "p"}}
	s, b = notification(many, 6)
	if s != "paperfs refused 6 changes" || b != "a: p\nb: p\nc: p\nand 3 more: the log of paperfs mount lists them all" {
		t.Errorf("many: %q / %q", s, b)
	}
}

// syncBuffer is a log a child process writes while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
