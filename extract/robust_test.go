package extract

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the fuzz seed corpus in testdata/fuzz/FuzzBytes")

// fuzzSeeds are small PDFs that reach the interesting code paths.
func fuzzSeeds() map[string][]byte {
	paper := paperPage([]string{"Seed Title for the Fuzzer", "Second Line"}, "Ann Author1, Bob Builder2 and Cy Coder",
		sideways(20, 30, 250, "arXiv:1706.03762v5 [cs.CL] 6 Dec 2017")+text("F1", 8, 72, 60, "doi:10.1145/")+text("F1", 8, 72, 50, "3025453.3025912"))
	return map[string][]byte{
		"paper":    testPDF{Info: map[string]string{"Title": "Seed Title for the Fuzzer"}, Pages: []string{paper}}.Bytes(),
		"form":     testPDF{Forms: map[string]string{"Fm1": words(16, 72, 700, "In a Form")}, Pages: []string{"/Fm1 Do /Fm1 Do"}}.Bytes(),
		"header":   testPDF{Header: "%PDF-1.5 \n", Prefix: "junk before", Pages: []string{text("F2", 16, 72, 700, "Header")}}.Bytes(),
		"xmp":      testPDF{XMP: `<rdf:Description prism:doi="10.1/x"><dc:title>XMP Title</dc:title></rdf:Description>`, Pages: []string{""}}.Bytes(),
		"lzw":      testPDF{Filter: "A85 LZW", Pages: []string{paper}}.Bytes(),
		"twopages": testPDF{Pages: []string{text("F1", 10, 72, 700, "page one"), text("F1", 10, 72, 700, "arXiv:hep-th/9901001")}}.Bytes(),
	}
}

// TestFuzzSeeds keeps testdata/fuzz/FuzzBytes in step with fuzzSeeds;
// run with -update after changing them.
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzBytes")
	for name, data := range fuzzSeeds() {
		path := filepath.Join(dir, name)
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nstring(%q)\n", data, name+".pdf")
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("%s is missing or stale; run go test ./extract -run TestFuzzSeeds -update", path)
		}
	}
}

// FuzzBytes checks that no input makes Bytes panic, stall, or return an
// unusable Result. Its seeds are in testdata/fuzz/FuzzBytes.
func FuzzBytes(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, _ := Bytes(ctx, data, name)
		if res.Title == "" {
			t.Error("empty title")
		}
		if res.Confidence == nil {
			t.Error("nil Confidence")
		}
		for k, c := range res.Confidence {
			if c < 0 || c > 1 {
				t.Errorf("Confidence[%q] = %v", k, c)
			}
		}
		if res.ArXivVersion < 0 || res.Year < 0 {
			t.Errorf("negative version or year: %+v", res)
		}
	})
}

// pdfcpuModule is a module with several hundred real, odd and broken PDFs
// in its test data.
const pdfcpuModule = "github.com/pdfcpu/pdfcpu@v0.15.0"

// moduleDir downloads a module through the Go module proxy, outside this
// module so go.mod is untouched, and returns its directory.
func moduleDir(t *testing.T, mod string) string {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", mod)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GO111MODULE=on")
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("go mod download %s: %v %s %s (the test needs the Go module proxy)", mod, err, out, msg)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil || info.Dir == "" {
		t.Fatalf("go mod download %s: %s %v %s", mod, out, err, info.Error)
	}
	return info.Dir
}

// TestPdfcpuCorpus runs every PDF of the pdfcpu module through the worker:
// the caller must never crash or hang. Timeouts are handled (the file is
// imported with its name) and counted separately, as are files the parser
// rejects.
func TestPdfcpuCorpus(t *testing.T) {
	dir := moduleDir(t, pdfcpuModule)
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.EqualFold(filepath.Ext(path), ".pdf") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 400 {
		t.Fatalf("found %d PDFs in %s, expected about 500", len(files), dir)
	}
	t.Setenv("EXTRACT_TEST_WORKER", "1")
	const timeout = 10 * time.Second
	runner := Runner{Exe: os.Args[0], Timeout: timeout}

	var mu sync.Mutex // protects the following
	var parsed, rejected, timeouts, crashes, hangs int
	var slowest time.Duration
	var slowestFile string

	work := make(chan string)
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for path := range work {
				start := time.Now()
				res, err := runner.File(context.Background(), path)
				took := time.Since(start)
				rel, _ := filepath.Rel(dir, path)
				mu.Lock()
				if took > slowest {
					slowest, slowestFile = took, rel
				}
				switch {
				case took > timeout+5*time.Second:
					hangs++
					t.Errorf("%s: File returned after %v, past its %v deadline", rel, took, timeout)
				case err != nil && strings.Contains(err.Error(), "extraction worker"):
					t.Errorf("%s: %v", rel, err)
				case err != nil:
					rejected++
				case hasProblem(res, "timed out"):
					timeouts++
					t.Logf("%s: timed out (handled)", rel)
				case hasProblem(res, "worker failed"):
					crashes++
					t.Errorf("%s: worker crashed: %q", rel, res.Problems)
				default:
					parsed++
				}
				if res.Title == "" {
					t.Errorf("%s: empty title", rel)
				}
				mu.Unlock()
			}
		}()
	}
	for _, f := range files {
		work <- f
	}
	close(work)
	wg.Wait()
	t.Logf("%d PDFs: %d extracted, %d rejected as unparseable, %d timed out (handled), %d worker crashes, %d caller hangs; slowest %v (%s)",
		len(files), parsed, rejected, timeouts, crashes, hangs, slowest.Round(time.Millisecond), slowestFile)
}

func hasProblem(res Result, s string) bool {
	for _, p := range res.Problems {
		if strings.Contains(p, s) {
			return true
		}
	}
	return false
}
