//go:build linux || darwin

package fuse

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	pfs "github.com/paperfs/paperfs/fs"
	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/testutil"
)

// commandIn runs name in dir, a directory in the mount. The child changes
// into dir itself, after exec: with cmd.Dir, Go's child would chdir between
// vfork and exec, a FUSE request this test process must answer while the
// thread that forked holds its P in a raw syscall; if the garbage
// collector then waits on that thread, no reader goroutine can run, and
// parent and child wait on each other forever.
func commandIn(dir, name string, args ...string) *exec.Cmd {
	return exec.Command("sh", append([]string{"-c", `cd "$0" && exec "$@"`, dir, name}, args...)...)
}

func run(t *testing.T, dir string, name string, args ...string) {
	t.Helper()
	cmd := commandIn(dir, name, args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "TERM=xterm")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
}

// saver edits the title in a sidecar from old to new, as one program does.
type saver struct {
	name  string
	progs []string
	save  func(t *testing.T, dir, file, old, new string)
}

var savers = []saver{
	{"shell-redirect", []string{"bash"}, func(t *testing.T, dir, file, old, new string) {
		// open(O_TRUNC), write, close: nano's and VS Code's way, and `>`.
		run(t, dir, "bash", "-c", fmt.Sprintf(`c=$(cat %q); printf '%%s\n' "${c/\"%s\"/\"%s\"}" > %q`, file, old, new, file))
	}},
	{"sponge", []string{"sed", "sponge"}, func(t *testing.T, dir, file, old, new string) {
		run(t, dir, "bash", "-c", fmt.Sprintf(`sed 's/"%s"/"%s"/' %q | sponge %q`, old, new, file, file))
	}},
	{"sed-i", []string{"sed"}, func(t *testing.T, dir, file, old, new string) {
		// sed -i writes ./sedXXXXXX and renames it over the file.
		run(t, dir, "sed", "-i", fmt.Sprintf(`s/"%s"/"%s"/`, old, new), file)
	}},
	{"python-os-replace", []string{"python3"}, func(t *testing.T, dir, file, old, new string) {
		run(t, dir, "python3", "-c", `
import os, sys, tempfile
f, old, new = sys.argv[1:]
data = open(f).read().replace('"%s"' % old, '"%s"' % new)
fd, tmp = tempfile.mkstemp(dir='.', prefix='.tmp')
with os.fdopen(fd, 'w') as w:
    w.write(data); w.flush(); os.fsync(w.fileno())
os.replace(tmp, f)
`, file, old, new)
	}},
	{"node-writeFile", []string{"node"}, func(t *testing.T, dir, file, old, new string) {
		run(t, dir, "node", "-e", `
const fs = require('fs'); const [f, o, n] = process.argv.slice(1);
const data = fs.readFileSync(f, 'utf8').replace('"' + o + '"', '"' + n + '"');
fs.writeFile(f, data, (err) => { if (err) { console.error(err); process.exit(1); } });
`, file, old, new)
	}},
	{"vim-backup", []string{"vim"}, func(t *testing.T, dir, file, old, new string) {
		// backupcopy=no: rename the file to file~, write a new file,
		// then delete the backup; swap file and 4913 probe beside it.
		run(t, dir, "vim", "-u", "NONE", "-N", "-es", "-c", "set backupskip= backup writebackup backupcopy=no swapfile",
			"-c", fmt.Sprintf(`%%s/"%s"/"%s"/`, old, new), "-c", "wq", file)
	}},
	{"vim-default", []string{"vim"}, func(t *testing.T, dir, file, old, new string) {
		run(t, dir, "vim", "-u", "NONE", "-N", "-es", "-c", "set backupskip= swapfile",
			"-c", fmt.Sprintf(`%%s/"%s"/"%s"/`, old, new), "-c", "wq", file)
	}},
	{"emacs", []string{"emacs"}, func(t *testing.T, dir, file, old, new string) {
		// make-backup-files: renames file to file~ and writes anew;
		// .#file lock symlink while modified.
		run(t, dir, "emacs", "--batch", "-Q", file, "--eval", fmt.Sprintf(
			`(progn (setq make-backup-files t create-lockfiles t backup-inhibited nil) (goto-char (point-min)) (search-forward "\"%s\"") (replace-match "\"%s\"") (save-buffer))`, old, new))
	}},
	{"nano", []string{"nano", "tmux"}, saveWithNano},
}

// saveWithNano drives an interactive nano in tmux: search, retype, save.
func saveWithNano(t *testing.T, dir, file, old, new string) {
	sess := fmt.Sprintf("paperfs%d", time.Now().UnixNano())
	tm := func(args ...string) string {
		// A server per session (-L): killing the last session of a shared
		// server races with the next new-session ("server exited").
		out, err := exec.Command("tmux", append([]string{"-L", sess}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v %s", args, err, out)
		}
		return string(out)
	}
	tm("new-session", "-d", "-s", sess, "-x", "200", "-y", "50", "-c", dir, "nano", "--ignorercfiles", file)
	defer exec.Command("tmux", "-L", sess, "kill-server").Run()
	// nano tells nothing but its screen: the test polls it.
	screen := func() string { return tm("capture-pane", "-p", "-t", sess) }
	waitScreen := func(want string) {
		t.Helper()
		testutil.Eventually(t, 50*time.Millisecond, 5*time.Second, fmt.Sprintf("nano to show %q", want), screen, func() bool {
			return strings.Contains(screen(), want)
		})
	}
	cursor := func() string {
		return strings.TrimSpace(tm("display-message", "-p", "-t", sess, "#{cursor_x},#{cursor_y}"))
	}
	waitScreen(old)
	tm("send-keys", "-t", sess, "C-w")
	tm("send-keys", "-t", sess, "-l", `"`+old+`"`)
	waitScreen(`Search: "` + old + `"`)
	inPrompt := cursor()
	tm("send-keys", "-t", sess, "Enter")
	testutil.Eventually(t, 20*time.Millisecond, 5*time.Second, "nano's cursor to leave the search prompt", screen, func() bool {
		return cursor() != inPrompt
	})
	// The cursor is on the opening quote: delete the old title, type the new one.
	tm("send-keys", "-t", sess, "Right")
	for range old {
		tm("send-keys", "-t", sess, "Delete")
	}
	tm("send-keys", "-t", sess, "-l", new)
	tm("send-keys", "-t", sess, "C-o")
	waitScreen("File Name to Write")
	tm("send-keys", "-t", sess, "Enter")
	waitScreen("Wrote")
	tm("send-keys", "-t", sess, "C-x")
}

// TestEditorsSave saves a sidecar with every editor in every kind of view,
// and checks the store holds what was saved after each.
func TestEditorsSave(t *testing.T) { inModes(t, testEditorsSave) }

func testEditorsSave(t *testing.T, opts Options) {
	s, lib, mnt, _ := testMount(t, opts)
	p := addPDF(t, s, lib, meta.Paper{Title: "T0", Authors: []string{"Ann Smith"}, Year: 2001, Tags: []string{"t"},
		File: meta.File{Path: "p.pdf"}}, []byte("%PDF-1.4 x"))
	views := []string{"all", "tags/t", "authors/Ann Smith", "years/2001"}
	step := 0
	for _, sv := range savers {
		for _, view := range views {
			t.Run(sv.name+"/"+strings.ReplaceAll(view, "/", "_"), func(t *testing.T) {
				testutil.Need(t, sv.progs...)
				old, new := fmt.Sprintf("T%d", step), fmt.Sprintf("T%d", step+1)
				dir := filepath.Join(mnt, view)
				file := fmt.Sprintf("Smith 2001 - %s.json", old)
				sv.save(t, dir, file, old, new)
				got, err := s.Get(p.ID)
				if err != nil || got.Title != new {
					t.Fatalf("after %s in %s: title %q (err %v), want %q", sv.name, view, got.Title, err, new)
				}
				step++
				// The new name shows in every view and the old one goes
				// (the kernel learns it by notification, just after).
				for _, v := range views {
					newPath := filepath.Join(mnt, v, fmt.Sprintf("Smith 2001 - %s.json", new))
					oldPath := filepath.Join(mnt, v, file)
					eventually(t, v+": new name present, old gone", func() bool {
						_, errNew := os.Stat(newPath)
						_, errOld := os.Stat(oldPath)
						return errNew == nil && errors.Is(errOld, os.ErrNotExist)
					})
				}
				// Nothing an editor left behind became a paper.
				if n, _ := s.Count(meta.View{Kind: meta.All}); n != 1 {
					t.Errorf("%d papers after saving", n)
				}
			})
		}
	}
}

func TestSaveRejected(t *testing.T) { inModes(t, testSaveRejected) }

func testSaveRejected(t *testing.T, opts Options) {
	s, lib, mnt, f := testMount(t, opts)
	p := addPDF(t, s, lib, meta.Paper{Title: "Keep", Year: 2001, File: meta.File{Path: "p.pdf"}}, []byte("%PDF-1.4 x"))
	file := filepath.Join(mnt, "all", "2001 - Keep.json")
	before, _ := os.ReadFile(file)

	bad := []struct{ text, problem string }{
		{"{\n  \"title\": \"x\",\n  nope\n}\n", "line 3, column 3"},
		{`{"title": "x", "year": "2001"}`, "year: must be a number"},
		{`{"title": "x", "rating": 7}`, "out of range"},
		{`{"title": "x", "id": "zzzzzz000000"}`, "id: is read-only"},
		{`{"title": "x", "file": {"path": "../outside.pdf"}}`, "file: is read-only"},
		{`{"title": "x", "colour": "red"}`, `unknown field "colour"`},
	}
	for i, b := range bad {
		// In place: the error comes back from close (or fsync).
		w, err := os.OpenFile(file, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			t.Fatal(err)
		}
		w.WriteString(b.text)
		err = w.Sync()
		cerr := w.Close()
		if !errors.Is(err, syscall.EINVAL) && !errors.Is(cerr, syscall.EINVAL) {
			t.Errorf("%d: save of %q: fsync %v, close %v; want EINVAL", i, b.text, err, cerr)
		}
		rs := f.View().Rejections()
		if len(rs) != i+1 || !strings.Contains(rs[i].Problem, b.problem) || !strings.Contains(rs[i].File, "2001 - Keep.json") {
			t.Fatalf("%d: rejections %+v, want problem %q", i, rs, b.problem)
		}
		if kept, err := os.ReadFile(rs[i].Kept); err != nil || string(kept) != b.text {
			t.Errorf("%d: rejected text not kept: %v: %q", i, err, kept)
		}
	}
	got, _ := s.Get(p.ID)
	if got.Title != "Keep" || got.Year != 2001 {
		t.Fatalf("store changed by rejected saves: %+v", got)
	}
	if after, _ := os.ReadFile(file); !bytes.Equal(after, before) {
		t.Errorf("sidecar changed by rejected saves:\n%s", after)
	}
	var listed []pfs.Rejection
	raw, err := os.ReadFile(filepath.Join(mnt, ".paperfs", "errors"))
	if err != nil || json.Unmarshal(raw, &listed) != nil || len(listed) != len(bad) {
		t.Fatalf(".paperfs/errors: %s %v", raw, err)
	}
	// A rejected rename leaves the temporary file in place, nothing lost.
	tmp := filepath.Join(mnt, "all", "sedTMP")
	os.WriteFile(tmp, []byte(`{"title": 5}`), 0o644)
	if err := os.Rename(tmp, file); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("rename of an invalid sidecar: %v", err)
	}
	if b, err := os.ReadFile(tmp); err != nil || string(b) != `{"title": 5}` {
		t.Errorf("temporary file lost after a rejected rename: %v", err)
	}
}

// TestOpenHandleAcrossRename: a handle opened before a save that renames
// the paper keeps working, for reading and for saving.
func TestOpenHandleAcrossRename(t *testing.T) { inModes(t, testOpenHandleAcrossRename) }

func testOpenHandleAcrossRename(t *testing.T, opts Options) {
	s, lib, mnt, _ := testMount(t, opts)
	p := addPDF(t, s, lib, meta.Paper{Title: "First", File: meta.File{Path: "p.pdf"}}, []byte("%PDF-1.4 x"))
	h, err := os.OpenFile(filepath.Join(mnt, "all", "First.json"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if _, err := s.Update(p.ID, func(p *meta.Paper) error { p.Title = "Second"; return nil }); err != nil {
		t.Fatal(err)
	}
	eventually(t, "renamed", func() bool {
		_, err := os.Stat(filepath.Join(mnt, "all", "Second.json"))
		return err == nil
	})
	if _, err := h.ReadAt(make([]byte, 10), 0); err != nil {
		t.Fatalf("read through the old handle: %v", err)
	}
	h.Truncate(0)
	if _, err := h.WriteAt([]byte(`{"title": "Third"}`), 0); err != nil {
		t.Fatal(err)
	}
	if err := h.Sync(); err != nil {
		t.Fatalf("save through the old handle: %v", err)
	}
	if got, _ := s.Get(p.ID); got.Title != "Third" {
		t.Fatalf("title %q", got.Title)
	}
}

// TestSaveKeepsConcurrentChange: a change that lands while the file is
// open in an editor (sync, another view) survives the editor's save.
func TestSaveKeepsConcurrentChange(t *testing.T) { inModes(t, testSaveKeepsConcurrentChange) }

func testSaveKeepsConcurrentChange(t *testing.T, opts Options) {
	s, lib, mnt, _ := testMount(t, opts)
	p := addPDF(t, s, lib, meta.Paper{Title: "Before", Tags: []string{"a"}, File: meta.File{Path: "p.pdf"}}, []byte("%PDF-1.4 x"))
	file := filepath.Join(mnt, "all", "Before.json")
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(p.ID, func(p *meta.Paper) error { p.Rating, p.Tags = 4, append(p.Tags, "b"); return nil }); err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(text), `"Before"`, `"After"`, 1)
	edited = strings.Replace(edited, `"a"`, `"c"`, 1)
	if err := os.WriteFile(file, []byte(edited), 0o644); err != nil {
		t.Fatalf("save: %v", err)
	}
	got, _ := s.Get(p.ID)
	if got.Title != "After" || got.Rating != 4 || strings.Join(got.Tags, ",") != "b,c" {
		t.Errorf("after save: title %q rating %d tags %v; want After, 4, [b c]", got.Title, got.Rating, got.Tags)
	}
}

// TestSaveTwice: an editor that saves, changing the title (which renames
// the paper), then saves again, writes the second save to the name it
// opened, which no longer exists. That save must reach the paper too.
// The editors pause between the saves, as people do: within the same
// millisecond the old name may still be in the kernel's cache, and vim
// then sees its file changed under it and refuses to write.
func TestSaveTwice(t *testing.T) { inModes(t, testSaveTwice) }

func testSaveTwice(t *testing.T, opts Options) {
	s, lib, mnt, _ := testMount(t, opts)
	p := addPDF(t, s, lib, meta.Paper{Title: "T0", Authors: []string{"Ann Smith"}, Year: 2001, Rating: 1, Tags: []string{"t"},
		File: meta.File{Path: "p.pdf"}}, []byte("%PDF-1.4 x"))
	editors := []struct {
		name string
		args func(file string) (string, []string)
	}{
		{"vim", func(file string) (string, []string) {
			return "vim", []string{"-u", "NONE", "-N", "-es", "-c", "set backupskip= swapfile",
				"-c", `%s/"T0"/"T1"/`, "-c", "w", "-c", "sleep 300m", "-c", `%s/"rating": 1/"rating": 2/`, "-c", "wq", file}
		}},
		{"emacs", func(file string) (string, []string) {
			return "emacs", []string{"--batch", "-Q", file, "--eval", `(progn (setq make-backup-files t create-lockfiles t)
				(goto-char (point-min)) (search-forward "\"T1\"") (replace-match "\"T2\"") (save-buffer) (sleep-for 0.3)
				(goto-char (point-min)) (search-forward "\"rating\": 2") (replace-match "\"rating\": 3") (save-buffer))`}
		}},
	}
	for i, ed := range editors {
		testutil.Need(t, ed.name)
		dir := filepath.Join(mnt, "tags/t")
		old := fmt.Sprintf("Smith 2001 - T%d.json", i)
		name, args := ed.args(old)
		run(t, dir, name, args...)
		got, _ := s.Get(p.ID)
		if want := fmt.Sprintf("T%d", i+1); got.Title != want || got.Rating != i+2 {
			t.Fatalf("%s saving twice: title %q rating %d, want %q and %d", ed.name, got.Title, got.Rating, want, i+2)
		}
		eventually(t, ed.name+": the outdated name goes away", func() bool {
			_, err := os.Stat(filepath.Join(dir, old))
			return errors.Is(err, os.ErrNotExist)
		})
		if n, _ := s.Count(meta.View{Kind: meta.All}); n != 1 {
			t.Fatalf("%d papers", n)
		}
	}
}
