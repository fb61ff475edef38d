package libdir

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// resolvers runs a test once per way of resolving paths this platform has
// (on Linux: openat2, and the O_NOFOLLOW walk used where it is missing).
func resolvers(t *testing.T, f func(t *testing.T)) {
	for _, r := range resolverModes {
		t.Run(r.name, func(t *testing.T) {
			r.set()
			t.Cleanup(resetResolver)
			f(t)
		})
	}
}

// setup makes a library folder with a.pdf and sub/b.pdf, and a folder
// outside it with secret.pdf and sub/b.pdf.
func setup(t *testing.T) (d *Dir, lib, outside string) {
	t.Helper()
	base := t.TempDir()
	lib, outside = filepath.Join(base, "lib"), filepath.Join(base, "outside")
	for _, f := range []struct{ path, data string }{
		{filepath.Join(lib, "a.pdf"), "library a"},
		{filepath.Join(lib, "sub", "b.pdf"), "library b"},
		{filepath.Join(outside, "secret.pdf"), "secret"},
		{filepath.Join(outside, "sub", "b.pdf"), "outside b"},
	} {
		if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f.path, []byte(f.data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return New(lib), lib, outside
}

func read(t *testing.T, d *Dir, rel string) (string, error) {
	t.Helper()
	f, err := d.Open(rel)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), nil
}

func wantSymlinkErr(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, ErrSymlink) {
		t.Fatalf("%s: got %v, want ErrSymlink", what, err)
	}
}

func TestReadsInside(t *testing.T) {
	resolvers(t, func(t *testing.T) {
		d, _, _ := setup(t)
		for rel, want := range map[string]string{"a.pdf": "library a", "sub/b.pdf": "library b"} {
			got, err := read(t, d, rel)
			if err != nil || got != want {
				t.Fatalf("%s: got %q, %v; want %q", rel, got, err, want)
			}
		}
		for _, bad := range []string{"../outside/secret.pdf", "/etc/passwd", "sub/../a.pdf", "", "sub//b.pdf"} {
			if _, err := d.Open(bad); err == nil {
				t.Errorf("Open(%q) succeeded", bad)
			}
		}
	})
}

func TestFileReplacedBySymlink(t *testing.T) {
	resolvers(t, func(t *testing.T) {
		d, lib, outside := setup(t)
		secret := filepath.Join(outside, "secret.pdf")
		os.Remove(filepath.Join(lib, "a.pdf"))
		if err := os.Symlink(secret, filepath.Join(lib, "a.pdf")); err != nil {
			t.Fatal(err)
		}
		_, err := read(t, d, "a.pdf")
		wantSymlinkErr(t, "read", err)
		_, err = d.OpenFile("a.pdf", os.O_WRONLY|os.O_TRUNC, 0)
		wantSymlinkErr(t, "write", err)
		if b, _ := os.ReadFile(secret); string(b) != "secret" {
			t.Fatalf("the file outside was changed: %q", b)
		}
		fi, err := d.Lstat("a.pdf")
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			t.Fatalf("Lstat: %v, %v; want a symlink", fi, err)
		}
		// Removing it removes the link, not the file outside.
		if err := d.Remove("a.pdf"); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(secret); err != nil {
			t.Fatalf("removing the symlink removed its target: %v", err)
		}
	})
}

func TestParentReplacedBySymlink(t *testing.T) {
	resolvers(t, func(t *testing.T) {
		d, lib, outside := setup(t)
		os.RemoveAll(filepath.Join(lib, "sub"))
		if err := os.Symlink(filepath.Join(outside, "sub"), filepath.Join(lib, "sub")); err != nil {
			t.Fatal(err)
		}
		_, err := read(t, d, "sub/b.pdf")
		wantSymlinkErr(t, "read", err)
		_, err = d.Lstat("sub/b.pdf")
		wantSymlinkErr(t, "lstat", err)
		_, err = d.ReadDir("sub")
		wantSymlinkErr(t, "readdir", err)
		wantSymlinkErr(t, "rename out", d.Rename("sub/b.pdf", "moved.pdf"))
		wantSymlinkErr(t, "rename in", d.Rename("a.pdf", "sub/a.pdf"))
		wantSymlinkErr(t, "remove", d.Remove("sub/b.pdf"))
		wantSymlinkErr(t, "mkdir", d.MkdirAll("sub/new", 0o755))
		_, _, err = d.CreateTemp("sub", ".tmp-")
		wantSymlinkErr(t, "create", err)
		if err := d.MoveIn(filepath.Join(lib, "a.pdf"), "sub/a.pdf"); !errors.Is(err, ErrSymlink) {
			t.Fatalf("move in: %v", err)
		}
		es, err := os.ReadDir(filepath.Join(outside, "sub"))
		if err != nil || len(es) != 1 {
			t.Fatalf("the folder outside changed: %v %v", es, err)
		}
	})
}

// A folder swapped for a symlink and back while it is being read: every
// read either fails or returns the library's file, never the one outside.
func TestSymlinkSwappedBetweenCheckAndUse(t *testing.T) {
	resolvers(t, func(t *testing.T) {
		d, lib, outside := setup(t)
		sub, real, link := filepath.Join(lib, "sub"), filepath.Join(lib, "real"), filepath.Join(lib, "link")
		if err := os.Rename(sub, real); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Join(outside, "sub"), link); err != nil {
			t.Fatal(err)
		}
		os.Symlink("real", sub)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Alternate sub between the real folder and a symlink outside.
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				os.Remove(sub)
				if i%2 == 0 {
					os.Rename(real, sub)
				} else {
					os.Rename(sub, real)
					os.Symlink(filepath.Join(outside, "sub"), sub)
				}
			}
		}()
		var ok int
		for ok < 50 {
			got, err := read(t, d, "sub/b.pdf")
			if err != nil {
				continue
			}
			if got != "library b" {
				close(stop)
				wg.Wait()
				t.Fatalf("read %q through a symlink swapped in", got)
			}
			ok++
		}
		close(stop)
		wg.Wait()
	})
}

func TestRenameNeverReplaces(t *testing.T) {
	resolvers(t, func(t *testing.T) {
		d, lib, _ := setup(t)
		err := d.Rename("a.pdf", "sub/b.pdf")
		if !errors.Is(err, os.ErrExist) {
			t.Fatalf("rename onto a file: %v, want ErrExist", err)
		}
		if got, _ := read(t, d, "sub/b.pdf"); got != "library b" {
			t.Fatalf("replaced: %q", got)
		}
		if err := d.MkdirAll("x/y", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := d.Rename("a.pdf", "x/y/a.pdf"); err != nil {
			t.Fatal(err)
		}
		if got, _ := read(t, d, "x/y/a.pdf"); got != "library a" {
			t.Fatalf("after rename: %q", got)
		}
		ext := filepath.Join(t.TempDir(), "in.pdf")
		os.WriteFile(ext, []byte("in"), 0o644)
		if err := d.MoveIn(ext, "x/y/a.pdf"); !errors.Is(err, os.ErrExist) {
			t.Fatalf("move in onto a file: %v", err)
		}
		if err := d.MoveIn(ext, "in.pdf"); err != nil && !errors.Is(err, ErrCrossDevice) {
			t.Fatal(err)
		}
		_ = lib
	})
}

func TestWalk(t *testing.T) {
	resolvers(t, func(t *testing.T) {
		d, lib, outside := setup(t)
		os.Symlink(outside, filepath.Join(lib, "link"))
		os.Mkdir(filepath.Join(lib, ".hidden"), 0o755)
		os.WriteFile(filepath.Join(lib, ".hidden", "h.pdf"), nil, 0o644)
		var got []string
		err := d.Walk(context.Background(), func(rel string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if rel != "." && e.Name()[0] == '.' {
				return fs.SkipDir
			}
			info, err := e.Info()
			if err != nil {
				return err
			}
			if info.Mode()&fs.ModeSymlink != 0 {
				rel += "@"
			}
			got = append(got, rel)
			return nil
		})
		want := []string{".", "a.pdf", "link@", "sub", "sub/b.pdf"}
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("walk: %v, %v; want %v", got, err, want)
		}
	})
}

// Errors name the file escaped, so printing one never sends an escape
// sequence from a file name to the terminal.
func TestErrorsShowNamesSafely(t *testing.T) {
	d, _, _ := setup(t)
	for _, err := range []error{
		func() error { _, err := d.Open("\x1b]0;owned\x07.pdf"); return err }(),
		func() error { _, err := d.Lstat("caf\xe9/x.pdf"); return err }(),
		d.Rename("a.pdf", "sub/b.pdf"),
		d.Remove("\x1b[2J"),
	} {
		if err == nil {
			t.Fatal("no error")
		}
		if msg := err.Error(); strings.ContainsAny(msg, "\x1b\x07") || strings.IndexByte(msg, 0xe9) >= 0 {
			t.Fatalf("raw bytes in %q", msg)
		}
	}
}
