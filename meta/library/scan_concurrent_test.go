package library

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/testutil"
)

// TestScanConcurrent: two scans at once (a mount's watch and `paperfs
// scan` run in the mount's process) index each new PDF once.
func TestScanConcurrent(t *testing.T) {
	l, s := setup(t)
	const n = 300
	for i := range n {
		testutil.WritePDF(t, filepath.Join(l.Root, fmt.Sprintf("p%03d.pdf", i)), fmt.Sprint(i))
	}
	var wg sync.WaitGroup
	reps := make([]ScanReport, 2)
	errs := make([]error, 2)
	for i := range reps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reps[i], errs[i] = l.Scan(context.Background(), nil)
		}()
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	if got := count(t, s, meta.All); got != n || len(reps[0].New)+len(reps[1].New) != n || reps[0].Merged+reps[1].Merged != 0 {
		t.Errorf("%d papers, %d+%d new, %d+%d merged; want %d papers, each new once", got,
			len(reps[0].New), len(reps[1].New), reps[0].Merged, reps[1].Merged, n)
	}
}
