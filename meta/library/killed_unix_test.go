//go:build unix

package library

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paperfs/paperfs/meta"
)

// blockingReader gives some bytes, then says so on stdout (they are in the
// copy by then) and blocks until the process is killed.
type blockingReader struct{ sent bool }

func (r *blockingReader) Read(p []byte) (int, error) {
	if !r.sent {
		r.sent = true
		return copy(p, "%PDF-1.4 partial"), nil
	}
	os.Stdout.WriteString("copying\n")
	select {}
}

func TestMain(m *testing.M) {
	if root := os.Getenv("PAPERFS_TEST_KILLED_IMPORT"); root != "" {
		importUntilKilled(root, os.Getenv("PAPERFS_TEST_KILLED_IMPORT_DATA"))
	}
	os.Exit(m.Run())
}

// importUntilKilled is the process TestScanCleansKilledImport kills in the
// middle of copying a PDF into the library folder root.
func importUntilKilled(root, data string) {
	s, err := meta.Open(filepath.Join(data, "meta.db"), meta.Options{})
	if err != nil {
		panic(err)
	}
	l, err := Open(root, s, nil, nil)
	if err != nil {
		panic(err)
	}
	_, err = l.copyIn(io.MultiReader(&blockingReader{}), "sub", "paper")
	panic(err)
}

// An import killed while copying leaves its hidden copy; a scan while the
// import runs leaves it alone, the next scan after the kill removes it.
func TestScanCleansKilledImport(t *testing.T) {
	l, s := setup(t)
	scanOne(t, l, s, "a.pdf", "a")
	os.MkdirAll(l.Abs("sub"), 0o755)
	child := exec.Command(os.Args[0])
	child.Env = append(os.Environ(), "PAPERFS_TEST_KILLED_IMPORT="+l.Root, "PAPERFS_TEST_KILLED_IMPORT_DATA="+t.TempDir())
	child.Stderr = os.Stderr
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill()
	if line, err := bufio.NewReader(out).ReadString('\n'); line != "copying\n" {
		t.Fatalf("the import never started its copy: %q %v", line, err)
	}
	var temp string
	es, _ := os.ReadDir(l.Abs("sub"))
	for _, e := range es {
		if strings.HasPrefix(e.Name(), importPrefix) {
			temp = "sub/" + e.Name()
		}
	}
	if temp == "" {
		t.Fatalf("no copy in %v", es)
	}
	rep, err := l.Scan(context.Background(), nil)
	if err != nil || len(rep.Cleaned) != 0 {
		t.Fatalf("scan during the import: %+v %v", rep, err)
	}
	if _, err := os.Stat(l.Abs(temp)); err != nil {
		t.Fatalf("the running import's copy was removed: %v", err)
	}
	child.Process.Kill()
	child.Wait()
	rep, err = l.Scan(context.Background(), nil)
	if err != nil || !slices.Equal(rep.Cleaned, []string{temp}) {
		t.Fatalf("scan after the kill: %+v %v", rep, err)
	}
	if _, err := os.Stat(l.Abs(temp)); !os.IsNotExist(err) {
		t.Fatalf("the killed import's copy is still there: %v", err)
	}
}
