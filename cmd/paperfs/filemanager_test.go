//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// desktop is an X server, a session bus and Thunar on them, started by the
// test and stopped by PID when it ends.
type desktop struct {
	t       *testing.T
	env     []string // DISPLAY, DBUS_SESSION_BUS_ADDRESS, HOME, XDG_*
	display string
	bus     *dbus.Conn
	thunar  dbus.BusObject
	stderr  logFile // Thunar's
	exited  chan struct{}
	quit    func() // stops Thunar and waits for it
}

// startDesktop starts Xvfb on a display it picks itself (-displayfd), a
// session bus and Thunar's daemon, with home the user's home directory.
func startDesktop(t *testing.T, home string) *desktop {
	t.Helper()
	if os.Getenv("PAPERFS_SKIP_DESKTOP") == "1" {
		t.Skip("PAPERFS_SKIP_DESKTOP=1: SKIPPING THE REAL FILE MANAGER TEST")
	}
	for _, c := range []string{"Xvfb", "thunar", "xdotool", "dbus-daemon"} {
		if _, err := exec.LookPath(c); err != nil {
			t.Fatalf("%s not installed, the file-manager test needs it (run scripts/test-deps: xvfb, thunar, xdotool, dbus; or PAPERFS_SKIP_DESKTOP=1): %v", c, err)
		}
	}
	d := &desktop{t: t, stderr: logFile(filepath.Join(t.TempDir(), "thunar.log")), exited: make(chan struct{})}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var xlog bytes.Buffer
	x := exec.Command("Xvfb", "-displayfd", "3", "-nolisten", "tcp", "-screen", "0", "1280x800x24")
	x.ExtraFiles = []*os.File{w}
	x.Stderr = &xlog
	if err := x.Start(); err != nil {
		t.Fatalf("starting Xvfb: %v", err)
	}
	w.Close()
	t.Cleanup(func() {
		x.Process.Kill()
		x.Wait()
	})
	num, err := bufio.NewReader(r).ReadString('\n')
	r.Close()
	if err != nil {
		t.Fatalf("Xvfb gave no display number: %v\n%s", err, xlog.String())
	}
	d.display = ":" + strings.TrimSpace(num)

	runtime := filepath.Join(home, ".run")
	os.MkdirAll(runtime, 0o700)
	d.env = []string{"DISPLAY=" + d.display, "HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_DATA_HOME=" + filepath.Join(home, ".local/share"), "XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"NO_AT_BRIDGE=1", "GVFS_REMOTE_VOLUME_MONITOR_IGNORE=1",
		// GIO without gvfs: its daemons outlive the bus they were started on.
		"GIO_USE_VFS=local"}
	addr := sessionBus(t, d.env...)
	d.env = append(d.env, "DBUS_SESSION_BUS_ADDRESS="+addr)
	if d.bus, err = dbus.Connect(addr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.bus.Close() })

	// Started here, not by bus activation, so the test owns its PID.
	th := exec.Command("thunar", "--daemon")
	th.Env = append(os.Environ(), d.env...)
	// A file, not a pipe: the helpers Thunar starts inherit it, and Wait
	// would wait for them to close a pipe.
	thErr, err := os.Create(string(d.stderr))
	if err != nil {
		t.Fatal(err)
	}
	defer thErr.Close()
	th.Stderr = thErr
	if err := th.Start(); err != nil {
		t.Fatalf("starting thunar: %v", err)
	}
	go func() {
		th.Wait()
		close(d.exited)
	}()
	d.quit = func() {
		th.Process.Kill()
		<-d.exited
	}
	t.Cleanup(d.quit)
	d.thunar = d.bus.Object("org.xfce.FileManager", "/org/xfce/FileManager")
	d.waitFor("thunar to own org.xfce.FileManager on the bus", func() bool {
		var owned bool
		err := d.bus.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.xfce.FileManager").Store(&owned)
		return err == nil && owned
	})
	return d
}

// waitFor polls cond, failing with Thunar's stderr if it never holds or
// Thunar died.
func (d *desktop) waitFor(what string, cond func() bool) {
	d.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		d.checkAlive(what)
		if time.Now().After(deadline) {
			d.t.Fatalf("timed out waiting for %s\nthunar's stderr:\n%s", what, d.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkAlive fails the test if Thunar exited (crashed).
func (d *desktop) checkAlive(when string) {
	d.t.Helper()
	select {
	case <-d.exited:
		d.t.Fatalf("thunar died (%s)\nits stderr:\n%s", when, d.stderr)
	default:
	}
}

// call calls a method of Thunar's D-Bus API, with the display and an
// empty startup id as its last arguments.
func (d *desktop) call(method string, args ...any) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args = append(args, d.display, "")
	if err := d.thunar.CallWithContext(ctx, method, 0, args...).Err; err != nil {
		d.t.Fatalf("thunar %s: %v\nits stderr:\n%s", method, err, d.stderr)
	}
}

// xdotool runs xdotool on the display.
func (d *desktop) xdotool(args ...string) string {
	d.t.Helper()
	// Generous: with gvfs (not used here) Thunar's start-up waited 25 s.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, "xdotool", args...)
	c.Env = append(os.Environ(), d.env...)
	out, err := c.CombinedOutput()
	if err != nil {
		d.t.Fatalf("xdotool %v: %v\n%s\nthunar's stderr:\n%s", args, err, out, d.stderr)
	}
	return strings.TrimSpace(string(out))
}

// window waits for a visible window whose title matches the regular
// expression and returns its id.
func (d *desktop) window(title string) string {
	d.t.Helper()
	ids := strings.Fields(d.xdotool("search", "--sync", "--onlyvisible", "--name", title))
	return ids[0]
}

// hasWindow says whether a visible window's title matches.
func (d *desktop) hasWindow(title string) bool {
	c := exec.Command("xdotool", "search", "--onlyvisible", "--name", title)
	c.Env = append(os.Environ(), d.env...)
	out, err := c.Output()
	return err == nil && len(bytes.TrimSpace(out)) > 0
}

// dismiss closes the dialog with the title by pressing Return in it.
func (d *desktop) dismiss(title string) {
	d.t.Helper()
	w := d.window(title)
	d.xdotool("windowfocus", "--sync", w, "key", "--window", w, "Return")
	d.waitFor("the "+title+" dialog to close", func() bool { return !d.hasWindow(title) })
}

// logFile is a log a child process writes, read as it is now.
type logFile string

func (f logFile) String() string {
	b, _ := os.ReadFile(string(f))
	return string(b)
}

func fileURI(p string) string { return (&url.URL{Scheme: "file", Path: p}).String() }

// TestThunar drives a real file manager, Thunar under Xvfb, through its
// D-Bus API and keystrokes on a real mount: paste a PDF into all/ and
// rename the pasted file, cut and paste a paper into a tag, delete it to
// the trash, restore it, and paste a file that is not a PDF. Each effect
// is checked in the mount and the library folder, Thunar must live
// through all of it and print no GLib-CRITICAL.
func TestThunar(t *testing.T) {
	home := t.TempDir()
	e := newEnv(t)
	writeFile(t, filepath.Join(e.lib, "alpha.pdf"), makePDF("Alpha Paper", []string{"Ann Author"}, map[string]string{"Title": "Alpha Paper", "Author": "Ann Author"}))
	src := t.TempDir()
	pasted := makePDF("Beta Pasted", []string{"Bob Writer"}, map[string]string{"Title": "Beta Pasted", "Author": "Bob Writer"})
	writeFile(t, filepath.Join(src, "new paper.pdf"), pasted)
	writeFile(t, filepath.Join(src, "notes.pdf"), []byte("just some notes, not a PDF\n"))

	d := startDesktop(t, home)
	// Under the home directory, where a desktop's mounts are.
	mnt, logs, stop := mountFor(t, e, "", d.env)
	t.Cleanup(d.quit) // before the unmount: Thunar holds the mount
	all := filepath.Join(mnt, "all")
	ents, _ := os.ReadDir(all)
	var alpha string
	for _, en := range ents {
		if strings.HasSuffix(en.Name(), ".pdf") {
			alpha = en.Name()
		}
	}
	if alpha == "" {
		t.Fatalf("no PDF in all/: %v", ents)
	}

	// Thunar answers once the window is up: ask, then wait for the window.
	d.thunar.Go("org.xfce.FileManager.DisplayFolder", 0, nil, fileURI(all), d.display, "")
	d.window("^all - ")

	// Paste a new PDF (Ctrl+V of a copied file is CopyInto).
	d.call("org.xfce.FileManager.CopyInto", src, []string{filepath.Join(src, "new paper.pdf")}, all)
	d.waitFor("the pasted PDF in the library folder", func() bool {
		libEnts, _ := os.ReadDir(e.lib)
		for _, en := range libEnts {
			if b, _ := os.ReadFile(filepath.Join(e.lib, en.Name())); bytes.Equal(b, pasted) {
				return true
			}
		}
		return false
	})
	// The file manager still sees the file under the name it pasted it
	// as (Thunar crashed when it was renamed away under it).
	name := "new paper.pdf"
	if !exists(filepath.Join(all, name)) {
		t.Errorf("the pasted file is not listed under its pasted name %q in all/ (issue 17: Thunar's crash)", name)
		name = ""
		ents, _ := os.ReadDir(all)
		for _, en := range ents {
			if b, _ := os.ReadFile(filepath.Join(all, en.Name())); en.Name() != alpha && bytes.Equal(b, pasted) {
				name = en.Name()
			}
		}
		if name == "" {
			t.Fatalf("the pasted PDF is not in all/: %v\n%s", ents, logs)
		}
	}
	// Rename it in Thunar's rename dialog (F2), typing a new name.
	d.thunar.Go("org.xfce.FileManager.RenameFile", 0, nil, fileURI(filepath.Join(all, name)), d.display, "")
	w := d.window("^Rename ")
	d.xdotool("windowfocus", "--sync", w, "key", "--window", w, "ctrl+a")
	d.xdotool("type", "--window", w, "--delay", "20", "Renamed paper.pdf")
	d.xdotool("key", "--window", w, "Return")
	// paperfs either takes the name or refuses it with a reason (Thunar
	// then shows an error): a paper's name comes from its metadata.
	d.waitFor("the rename to be done or refused", func() bool {
		return exists(filepath.Join(all, "Renamed paper.pdf")) || d.hasWindow("^Error$")
	})
	if d.hasWindow("^Error$") {
		d.dismiss("^Error$")
		if !strings.Contains(logs.String(), "refused") {
			t.Errorf("Thunar showed an error but paperfs logged no refusal:\n%s", logs)
		}
	}
	d.waitFor("the pasted paper in all/ after the rename", func() bool {
		ents, _ := os.ReadDir(all)
		for _, en := range ents {
			if b, _ := os.ReadFile(filepath.Join(all, en.Name())); en.Name() != alpha && bytes.Equal(b, pasted) {
				return true
			}
		}
		return false
	})
	d.checkAlive("after paste and rename")

	// Cut and paste into a tag: the paper gets the tag.
	tag := filepath.Join(mnt, "tags", "reading")
	if err := os.Mkdir(tag, 0o755); err != nil {
		t.Fatal(err)
	}
	d.call("org.xfce.FileManager.MoveInto", all, []string{filepath.Join(all, alpha)}, tag)
	d.waitFor("the paper in tags/reading/", func() bool { return exists(filepath.Join(tag, alpha)) })

	// Delete: Thunar moves it to the trash, which is paperfs' trash.
	d.call("org.xfce.Trash.MoveToTrash", []string{fileURI(filepath.Join(all, alpha))})
	d.waitFor("the paper in trash/ and out of all/", func() bool {
		return exists(filepath.Join(mnt, "trash", alpha)) && !exists(filepath.Join(all, alpha))
	})

	// Restore: moved back out of the trash, with its tag.
	d.call("org.xfce.FileManager.MoveInto", filepath.Join(mnt, "trash"), []string{filepath.Join(mnt, "trash", alpha)}, all)
	d.waitFor("the paper back in all/ and tags/reading/", func() bool {
		return exists(filepath.Join(all, alpha)) && exists(filepath.Join(tag, alpha)) && !exists(filepath.Join(mnt, "trash", alpha))
	})

	// A refused paste: not a PDF. Thunar reports the error; the file is
	// kept, not listed.
	d.call("org.xfce.FileManager.CopyInto", src, []string{filepath.Join(src, "notes.pdf")}, all)
	d.waitFor("the refused paste to be logged", func() bool {
		return strings.Contains(logs.String(), "notes.pdf") && strings.Contains(logs.String(), "kept")
	})
	if d.hasWindow("^Error") {
		d.dismiss("^Error")
	}
	if exists(filepath.Join(all, "notes.pdf")) {
		t.Errorf("the refused notes.pdf is still listed in all/")
	}

	d.checkAlive("at the end")
	d.quit()
	stop()
	if s := d.stderr.String(); strings.Contains(s, "CRITICAL") {
		t.Errorf("thunar printed criticals:\n%s", s)
	}
}
