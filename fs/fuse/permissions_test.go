//go:build linux

package fuse

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paperfs/paperfs/meta"
)

// otherUser is a second local user for the tests, made if missing. CI
// runs as root, which can make one; anywhere else that cannot, the test
// fails and says why.
const otherUser = "paperfs-other"

func asOtherUser(t *testing.T) func(dir, script string) (string, error) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatalf("the second-user test needs root to switch users (run the suite as CI does, as root)")
	}
	u, err := user.Lookup(otherUser)
	if err != nil {
		if out, err := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", otherUser).CombinedOutput(); err != nil {
			t.Fatalf("making the test user %s: %v: %s", otherUser, err, out)
		}
		if u, err = user.Lookup(otherUser); err != nil {
			t.Fatal(err)
		}
	}
	return func(dir, script string) (string, error) {
		cmd := exec.Command("setpriv", "--reuid="+u.Uid, "--regid="+u.Gid, "--clear-groups", "sh", "-c", script)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
}

// TestAllowOtherEnforcesModes: with --allow-other, another local user gets
// what the modes shown allow and nothing more: a PDF's own mode in the
// library folder, the metadata to read, and no change at all.
func TestAllowOtherEnforcesModes(t *testing.T) {
	as := asOtherUser(t)
	s, lib, mnt, _ := testMountWith(t, Options{}, MountOptions{AllowOther: true}, nil)
	// The other user must be able to reach the mountpoint.
	for d := filepath.Dir(mnt); d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	open := addPDF(t, s, lib, meta.Paper{Title: "Open", Year: 2001, Tags: []string{"t"}, File: meta.File{Path: "open.pdf"}}, []byte("%PDF-1.4 open"))
	addPDF(t, s, lib, meta.Paper{Title: "Private", Year: 2002, File: meta.File{Path: "private.pdf"}}, []byte("%PDF-1.4 private"))
	if err := os.Chmod(filepath.Join(lib, "private.pdf"), 0o600); err != nil {
		t.Fatal(err)
	}
	pdf := []byte("%PDF-1.4 brought by another user")
	other := filepath.Join(filepath.Dir(mnt), "other.pdf")
	if err := os.WriteFile(other, pdf, 0o644); err != nil {
		t.Fatal(err)
	}

	if out, err := as(mnt, "cat 'all/2001 - Open.pdf' && cat 'all/2001 - Open.json'"); err != nil || !strings.Contains(out, "%PDF-1.4 open") || !strings.Contains(out, open.ID) {
		t.Errorf("reading what the modes allow: %v: %s", err, out)
	}
	for _, script := range []string{
		"cat 'all/2002 - Private.pdf'",                 // 0600 in the library folder
		"echo '{}' > 'all/2001 - Open.json'",           // a save
		"sed -i 's/Open/Mine/' 'all/2001 - Open.json'", // a save by rename
		"rm 'all/2001 - Open.pdf'",                     // trash
		"rm 'tags/t/2001 - Open.pdf'",                  // untag
		"mv 'all/2001 - Open.pdf' tags/t/",             // retag
		"mkdir tags/new",                               // a tag
		"cp '" + other + "' all/",                      // an import
		"printf x >> 'all/2001 - Open.pdf'",            // the PDF itself
	} {
		if out, err := as(mnt, script); err == nil {
			t.Errorf("another user could: %s (%s)", script, out)
		}
	}
	got, _ := s.Get(open.ID)
	if got.Title != "Open" || got.Trashed != nil || len(got.Tags) != 1 {
		t.Errorf("the paper changed: %+v", got)
	}
	if n, _ := s.Count(meta.View{Kind: meta.All}); n != 2 {
		t.Errorf("%d papers, want 2", n)
	}
	if b, _ := os.ReadFile(filepath.Join(lib, "open.pdf")); string(b) != "%PDF-1.4 open" {
		t.Errorf("the PDF changed: %q", b)
	}
}
