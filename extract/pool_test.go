package extract

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestPool extracts from many goroutines through a Pool: results are right,
// a hang or crash costs only that file, and workers are reused (fewer
// processes than files) and stopped by Close.
func TestPool(t *testing.T) {
	t.Setenv("EXTRACT_TEST_WORKER", "picky")
	dir := t.TempDir()
	names := []string{"hang.pdf", "crash.pdf"}
	for i := range 20 {
		names = append(names, "file"+string(rune('a'+i))+".pdf")
	}
	for _, name := range names {
		title := strings.TrimSuffix(name, ".pdf") + " paper title"
		if err := os.WriteFile(filepath.Join(dir, name), testPDF{Pages: []string{text("F2", 16, 72, 700, title)}}.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := &Pool{Runner: Runner{Exe: os.Args[0], Timeout: 2 * time.Second}}
	var mu sync.Mutex
	got := map[string]Result{}
	var wg sync.WaitGroup
	next := make(chan string)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range next {
				res, err := p.File(context.Background(), filepath.Join(dir, name))
				if err != nil {
					t.Errorf("%s: %v", name, err)
				}
				mu.Lock()
				got[name] = res
				mu.Unlock()
			}
		}()
	}
	for _, n := range names {
		next <- n
	}
	close(next)
	wg.Wait()
	for _, n := range names {
		res := got[n]
		switch n {
		case "hang.pdf":
			if len(res.Problems) == 0 || !strings.Contains(res.Problems[0], "timed out") {
				t.Errorf("%s: %+v", n, res)
			}
		case "crash.pdf":
			if len(res.Problems) == 0 || !strings.Contains(res.Problems[0], "worker failed") {
				t.Errorf("%s: %+v", n, res)
			}
		default:
			if want := strings.TrimSuffix(n, ".pdf") + " paper title"; res.Title != want || len(res.Problems) > 0 {
				t.Errorf("%s: title %q, problems %q", n, res.Title, res.Problems)
			}
		}
	}
	p.mu.Lock()
	idle := append([]*worker(nil), p.idle...)
	p.mu.Unlock()
	if len(idle) == 0 || len(idle) > 2 {
		t.Errorf("%d idle workers after the run, want 1 or 2", len(idle))
	}
	p.Close()
	for _, w := range idle {
		if w.cmd.ProcessState == nil {
			t.Errorf("worker %d still running after Close", w.cmd.Process.Pid)
		}
	}
	// Cancelled: the context's error, and the worker is not kept.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.File(ctx, filepath.Join(dir, "filea.pdf")); err == nil {
		t.Error("cancelled File: want the context's error")
	}
}

// TestPoolOpen: a file the caller opened reaches the worker as bytes; the
// worker never opens a path of its own, so a file that is gone from its
// path by then (or a symlink swapped in there) does not matter.
func TestPoolOpen(t *testing.T) {
	t.Setenv("EXTRACT_TEST_WORKER", "1")
	dir := t.TempDir()
	path := filepath.Join(dir, "paper.pdf")
	if err := os.WriteFile(path, testPDF{Pages: []string{text("F2", 16, 72, 700, "A title read from the bytes sent")}}.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	os.Symlink("/etc/hostname", path) // what a path-opening worker would read
	p := &Pool{Runner: Runner{Exe: os.Args[0], Timeout: 10 * time.Second}}
	defer p.Close()
	for range 2 { // the worker stays in step for the next file
		if _, err := f.Seek(0, 0); err != nil {
			t.Fatal(err)
		}
		res, err := p.Open(context.Background(), path, f)
		if err != nil || res.Title != "A title read from the bytes sent" {
			t.Fatalf("Open: %q, %v (problems %v)", res.Title, err, res.Problems)
		}
	}
}
