// Command evalextract scores package extract against a corpus with known
// titles, authors and years, and times it side by side with
// `pdftotext -f 1 -l 1`. Run it through scripts/eval-extract.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/paperfs/paperfs/extract"
)

type entry struct {
	File    string   `json:"file"`
	Title   string   `json:"title"`
	Authors []string `json:"authors"`
	Year    *int     `json:"year"`
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == extract.WorkerArg {
		os.Exit(extract.WorkerMain(os.Args[1:], os.Stdin, os.Stdout))
	}
	truthPath := flag.String("truth", "../shared/corpus/truth.json", "truth file; PDF paths in it are relative to its folder")
	verbose := flag.Bool("v", false, "print both titles for every paper, not only for misses")
	only := flag.String("only", "", "evaluate only entries whose file name contains this")
	timeout := flag.Duration("timeout", extract.DefaultTimeout, "per-file deadline of the extraction worker")
	flag.Parse()
	if err := run(*truthPath, *only, *verbose, *timeout, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "evalextract:", err)
		os.Exit(1)
	}
}

type row struct {
	e                 entry
	res               extract.Result
	err               error
	sim               float64
	exact             bool
	f1                float64
	hasF1             bool
	inproc, worker    time.Duration
	pdftotext         time.Duration
	pdftotextFailed   bool
	yearOK, yearKnown bool
}

func run(truthPath, only string, verbose bool, timeout time.Duration, out io.Writer) error {
	raw, err := os.ReadFile(truthPath)
	if err != nil {
		return err
	}
	var entries []entry
	if err := json.Unmarshal(raw, &entries); err != nil {
		return fmt.Errorf("%s: %w", truthPath, err)
	}
	if _, err := exec.LookPath("pdftotext"); err != nil {
		return fmt.Errorf("pdftotext not found (install poppler-utils): %w", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	runner := extract.Runner{Exe: exe, Timeout: timeout}
	dir := filepath.Dir(truthPath)
	var rows []row
	var paths []string
	for _, e := range entries {
		if only != "" && !strings.Contains(e.File, only) {
			continue
		}
		path := filepath.Join(dir, e.File)
		r := row{e: e}
		start := time.Now()
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		r.res, r.err = extract.Bytes(context.Background(), data, filepath.Base(path))
		r.inproc = time.Since(start)
		score(&r)
		rows = append(rows, r)
		paths = append(paths, path)
	}

	// The worker, as import uses it: one process for many files, each
	// file's time measured from the previous file's reply.
	i := 0
	last := time.Now()
	err = runner.Files(context.Background(), paths, func(_ string, _ extract.Result, err error) {
		now := time.Now()
		rows[i].worker = now.Sub(last)
		last = now
		i++
	})
	if err != nil {
		return err
	}

	for i, path := range paths {
		start := time.Now()
		cmd := exec.Command("pdftotext", "-f", "1", "-l", "1", path, "-")
		cmd.Stdout = io.Discard
		rows[i].pdftotextFailed = cmd.Run() != nil
		rows[i].pdftotext = time.Since(start)
	}
	report(rows, verbose, out)
	return nil
}

func score(r *row) {
	got, want := normalize(r.res.Title), normalize(r.e.Title)
	r.exact = got == want
	r.sim = similarity(got, want)
	if len(r.e.Authors) > 0 {
		r.hasF1 = true
		r.f1 = f1(families(r.res.Authors), families(r.e.Authors))
	}
	if r.e.Year != nil {
		r.yearKnown = true
		r.yearOK = r.res.Year == *r.e.Year
	}
}

func report(rows []row, verbose bool, out io.Writer) {
	tw := tabwriter.NewWriter(out, 0, 0, 1, ' ', 0)
	fmt.Fprintln(tw, "file\tsim\texact\tauthF1\tyear\tms\tworker ms\tpdftotext ms\ttitle")
	var exact, sim80, yearOK, years, f1n int
	var f1sum float64
	var inproc, worker, ptt []time.Duration
	for _, r := range rows {
		mark := ""
		if r.exact {
			mark = "="
			exact++
		}
		if r.sim >= 0.8 {
			sim80++
		}
		fs := "-"
		if r.hasF1 {
			fs = fmt.Sprintf("%.2f", r.f1)
			f1sum += r.f1
			f1n++
		}
		ys := "-"
		if r.yearKnown {
			years++
			ys = fmt.Sprintf("%d/%d", r.res.Year, *r.e.Year)
			if r.yearOK {
				yearOK++
				ys = fmt.Sprint(r.res.Year)
			}
		}
		inproc = append(inproc, r.inproc)
		worker = append(worker, r.worker)
		ptt = append(ptt, r.pdftotext)
		title := r.res.Title
		if r.sim < 0.8 || verbose {
			title = fmt.Sprintf("%q want %q", trunc(r.res.Title, 70), trunc(r.e.Title, 70))
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%s\t%s\t%s\t%.1f\t%.1f\t%.1f\t%s\n", filepath.Base(r.e.File), r.sim, mark, fs, ys,
			ms(r.inproc), ms(r.worker), ms(r.pdftotext), trunc(title, 160))
		if verbose && r.hasF1 {
			fmt.Fprintf(tw, "\t\t\t\t\t\t\t\t  authors %q want %q\n", r.res.Authors, r.e.Authors)
		}
		if verbose && len(r.res.Problems) > 0 {
			fmt.Fprintf(tw, "\t\t\t\t\t\t\t\t  problems %q\n", r.res.Problems)
		}
	}
	tw.Flush()
	n := len(rows)
	if n == 0 {
		fmt.Fprintln(out, "no papers")
		return
	}
	pct := func(k, n int) string {
		if n == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%d/%d = %.1f%%", k, n, 100*float64(k)/float64(n))
	}
	fmt.Fprintf(out, "\npapers: %d\n", n)
	fmt.Fprintf(out, "title exact (normalised):       %s\n", pct(exact, n))
	fmt.Fprintf(out, "title similarity >= 0.8:        %s\n", pct(sim80, n))
	if f1n > 0 {
		fmt.Fprintf(out, "authors last-name F1 (mean):    %.3f over %d papers with known authors\n", f1sum/float64(f1n), f1n)
	}
	fmt.Fprintf(out, "year accuracy:                  %s\n", pct(yearOK, years))
	fmt.Fprintf(out, "median time per file: extract.Bytes in-process %.1f ms, extract worker process %.1f ms, pdftotext -f 1 -l 1 %.1f ms\n",
		ms(median(inproc)), ms(median(worker)), ms(median(ptt)))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func trunc(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// normalize lower-cases s and keeps letters and digits separated by single
// spaces, as the corpus README prescribes for comparing titles.
func normalize(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		} else {
			space = true
		}
	}
	return b.String()
}

// similarity is 1 - Levenshtein distance / length of the longer string.
func similarity(a, b string) float64 {
	ra, rb := []rune(a), []rune(b)
	if len(ra) == 0 && len(rb) == 0 {
		return 1
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			c := prev[j-1]
			if ra[i-1] != rb[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return 1 - float64(prev[len(rb)])/float64(max(len(ra), len(rb)))
}

// families are the normalised last words of names.
func families(names []string) []string {
	var out []string
	for _, n := range names {
		f := strings.Fields(normalize(n))
		if len(f) > 0 {
			out = append(out, f[len(f)-1])
		}
	}
	return out
}

// f1 scores predicted against true family names, each true name matched once.
func f1(got, want []string) float64 {
	if len(got) == 0 || len(want) == 0 {
		return 0
	}
	left := map[string]int{}
	for _, w := range want {
		left[w]++
	}
	hit := 0
	for _, g := range got {
		if left[g] > 0 {
			left[g]--
			hit++
		}
	}
	if hit == 0 {
		return 0
	}
	p := float64(hit) / float64(len(got))
	r := float64(hit) / float64(len(want))
	return 2 * p * r / (p + r)
}
