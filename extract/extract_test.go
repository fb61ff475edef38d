package extract

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary act as the extraction worker, as
// cmd/paperfs does with its hidden subcommand.
func TestMain(m *testing.M) {
	switch os.Getenv("EXTRACT_TEST_WORKER") {
	case "1":
		os.Exit(WorkerMain(os.Args[1:], os.Stdin, os.Stdout))
	case "hang":
		time.Sleep(time.Hour) // a worker that hangs: the pool's timeout is what is tested
	case "crash":
		panic("worker crashed on purpose")
	case "picky":
		pickyWorker()
	}
	os.Exit(m.Run())
}

func extractGenerated(t *testing.T, p testPDF, name string) Result {
	t.Helper()
	res, err := Bytes(context.Background(), p.Bytes(), name)
	if err != nil {
		t.Fatalf("Bytes: %v (problems %q)", err, res.Problems)
	}
	return res
}

func TestGeneratedPaper(t *testing.T) {
	p := testPDF{
		Info: map[string]string{"Title": "Microsoft Word - draft7.doc", "Subject": "doi:10.1145/3025453.3025912"},
		Pages: []string{paperPage(
			[]string{"Extracting Metadata from Scholarly", "Documents Without a Network"},
			"Ada Lovelace1, Alan M. Turing2 and Grace Hopper", "")},
	}
	res := extractGenerated(t, p, "paper (3).pdf")
	if want := "Extracting Metadata from Scholarly Documents Without a Network"; res.Title != want {
		t.Errorf("Title = %q, want %q", res.Title, want)
	}
	if want := []string{"Ada Lovelace", "Alan M. Turing", "Grace Hopper"}; !slices.Equal(res.Authors, want) {
		t.Errorf("Authors = %q, want %q", res.Authors, want)
	}
	if res.DOI != "10.1145/3025453.3025912" {
		t.Errorf("DOI = %q", res.DOI)
	}
	if res.Year != 2019 {
		t.Errorf("Year = %d, want 2019 from the running head", res.Year)
	}
	if !strings.HasPrefix(res.Abstract, "We study how metadata") || strings.Contains(res.Abstract, "Introduction") {
		t.Errorf("Abstract = %q", res.Abstract)
	}
	for _, k := range []string{"title", "authors", "year", "doi", "abstract"} {
		if c := res.Confidence[k]; c <= 0 || c > 1 {
			t.Errorf("Confidence[%q] = %v", k, c)
		}
	}
	if len(res.Problems) != 0 {
		t.Errorf("Problems = %q", res.Problems)
	}
}

func TestGeneratedIdentifiers(t *testing.T) {
	title := []string{"A Title Long Enough to Be One"}
	tests := []struct {
		name    string
		pdf     testPDF
		file    string
		doi     string
		arxiv   string
		version int
		year    int
	}{
		{
			name:  "sideways arXiv stamp",
			pdf:   testPDF{Pages: []string{paperPage(title, "Ann Author", sideways(20, 30, 250, "arXiv:1706.03762v5  [cs.CL]  6 Dec 2017"))}},
			file:  "x.pdf",
			arxiv: "1706.03762", version: 5, year: 2019,
		},
		{
			name: "DOI in XMP only",
			pdf: testPDF{
				XMP:   `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description prism:doi="10.1016/J.ARTINT.2020.103386"/></rdf:RDF></x:xmpmeta>`,
				Pages: []string{paperPage(title, "Ann Author", "")},
			},
			file: "x.pdf",
			doi:  "10.1016/j.artint.2020.103386", year: 2019,
		},
		{
			name: "DOI split over two footer lines",
			pdf: testPDF{Pages: []string{paperPage(title, "Ann Author",
				text("F1", 8, 72, 60, "Permission to copy. https://doi.org/10.1145/")+text("F1", 8, 72, 50, "3025453.3025912"))}},
			file: "x.pdf",
			doi:  "10.1145/3025453.3025912", year: 2019,
		},
		{
			name: "DOI on page 2",
			pdf: testPDF{Pages: []string{
				paperPage(title, "Ann Author", ""),
				text("F1", 10, 72, 700, "Published version: DOI 10.5555/987654.321."),
			}},
			file: "x.pdf",
			doi:  "10.5555/987654.321", year: 2019,
		},
		{
			name: "cited DOIs are not the paper's",
			pdf: testPDF{Pages: []string{
				paperPage(title, "Ann Author", text("F2", 11, 72, 300, "References")+text("F1", 9, 72, 285, "[1] A. Other. Elsewhere. doi:10.1000/cited.1")),
				text("F1", 10, 72, 400, "[2] B. Other. Somewhere. https://doi.org/10.1000/cited.2"),
			}},
			file: "x.pdf",
			year: 2019,
		},
		{
			name:  "old-style id in the file name",
			pdf:   testPDF{Pages: []string{text("F1", 10, 72, 700, "no identifiers here")}},
			file:  "hep-th9901001v2.pdf",
			arxiv: "hep-th/9901001", version: 2, year: 1999,
		},
		{
			name:  "page id wins over file name",
			pdf:   testPDF{Pages: []string{paperPage(title, "Ann Author", text("F1", 8, 72, 40, "arXiv:2101.00001v3"))}},
			file:  "1706.03762v5.pdf",
			arxiv: "2101.00001", version: 3, year: 2019,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := extractGenerated(t, tt.pdf, tt.file)
			if res.DOI != tt.doi || res.ArXiv != tt.arxiv || res.ArXivVersion != tt.version {
				t.Errorf("got DOI %q arXiv %q v%d; want %q %q v%d (problems %q)", res.DOI, res.ArXiv, res.ArXivVersion, tt.doi, tt.arxiv, tt.version, res.Problems)
			}
			if res.Year != tt.year {
				t.Errorf("Year = %d, want %d", res.Year, tt.year)
			}
		})
	}
}

func TestGeneratedLayout(t *testing.T) {
	t.Run("words from positions", func(t *testing.T) {
		p := testPDF{Pages: []string{words(18, 72, 700, "Words Drawn One by One") + words(10, 72, 600, "body text that is long enough to be body text")}}
		res := extractGenerated(t, p, "x.pdf")
		if res.Title != "Words Drawn One by One" {
			t.Errorf("Title = %q", res.Title)
		}
	})
	t.Run("title inside a form XObject", func(t *testing.T) {
		p := testPDF{
			Forms: map[string]string{"Fm1": text("F2", 16, 72, 700, "Hidden in a Form XObject") + text("F1", 10, 72, 650, "Some body text of the page in a smaller size.")},
			Pages: []string{"q 1 0 0 1 0 0 cm /Fm1 Do Q\n" + text("F1", 8, 72, 30, "arXiv:1801.00001")},
		}
		res := extractGenerated(t, p, "x.pdf")
		if res.Title != "Hidden in a Form XObject" {
			t.Errorf("Title = %q", res.Title)
		}
		if res.ArXiv != "1801.00001" {
			t.Errorf("ArXiv = %q", res.ArXiv)
		}
	})
	t.Run("junk Info title ignored, good one used when the page has no text", func(t *testing.T) {
		p := testPDF{Info: map[string]string{"Title": "A Study of Things That Matter"}, Pages: []string{"0 0 m 10 10 l S"}}
		res := extractGenerated(t, p, "scan.pdf")
		if res.Title != "A Study of Things That Matter" {
			t.Errorf("Title = %q", res.Title)
		}
		p.Info["Title"] = "untitled.dvi"
		res = extractGenerated(t, p, "scan_01.pdf")
		if res.Title != "scan 01" || res.Confidence["title"] > confWeak {
			t.Errorf("Title = %q (confidence %v), want the file name with low confidence", res.Title, res.Confidence["title"])
		}
	})
	t.Run("title set in the body size", func(t *testing.T) {
		// TUGboat and typewritten papers: only boldness or capitals mark the title.
		p := testPDF{Pages: []string{
			text("F1", 10, 72, 740, "Journal of Typesetting, Volume 30 (2009), No. 1") +
				text("F2", 10, 72, 705, "Specials for Document Generation") +
				text("F1", 10, 92, 690, "Jin-Hwan Cho") +
				text("F1", 10, 314, 708, "specials, however, lacked some functionality in practice") +
				text("F1", 10, 314, 696, "so that not many features could be used")}}
		res := extractGenerated(t, p, "x.pdf")
		if res.Title != "Specials for Document Generation" || !slices.Equal(res.Authors, []string{"Jin-Hwan Cho"}) {
			t.Errorf("Title = %q, Authors = %q", res.Title, res.Authors)
		}
	})
	t.Run("subtitle joins, authors do not", func(t *testing.T) {
		p := testPDF{Pages: []string{
			text("F2", 24, 150, 720, "Back to the Future") +
				text("F2", 18, 72, 690, "The Story of a Practical System Written in Itself") +
				text("F1", 12, 150, 650, "Dan Ingalls Ted Kaehler John Maloney") +
				text("F1", 10, 72, 600, "Body text of the paper in a small size, long enough to be body text.")}}
		res := extractGenerated(t, p, "x.pdf")
		if res.Title != "Back to the Future: The Story of a Practical System Written in Itself" {
			t.Errorf("Title = %q", res.Title)
		}
		if want := []string{"Dan Ingalls", "Ted Kaehler", "John Maloney"}; !slices.Equal(res.Authors, want) {
			t.Errorf("Authors = %q, want %q", res.Authors, want)
		}
	})
	t.Run("running head is not the title", func(t *testing.T) {
		p := testPDF{Pages: []string{
			text("F2", 20, 72, 760, "Journal of Imaginary Results, Vol. 3") +
				text("F2", 16, 72, 700, "The Real Title of the Paper") +
				text("F1", 10, 72, 600, "Body text of the paper in a small size.")}}
		res := extractGenerated(t, p, "x.pdf")
		if res.Title != "The Real Title of the Paper" {
			t.Errorf("Title = %q", res.Title)
		}
	})
}

func TestFiltersTheLibraryLacks(t *testing.T) {
	for _, filter := range []string{"LZW", "AHx", "A85 LZW"} {
		t.Run(filter, func(t *testing.T) {
			p := testPDF{Filter: filter, Pages: []string{paperPage([]string{"Old Distiller Files Use LZW"}, "Ann Author", "")}}
			res := extractGenerated(t, p, "x.pdf")
			if res.Title != "Old Distiller Files Use LZW" || len(res.Problems) != 0 {
				t.Errorf("Title = %q, problems %q", res.Title, res.Problems)
			}
		})
	}
}

// TestUnterminatedHexString guards against the library's lexer, which spins
// forever on a content stream ending inside "<...": Bytes must close it.
func TestUnterminatedHexString(t *testing.T) {
	for _, filter := range []string{"", "LZW"} {
		p := testPDF{Filter: filter, Pages: []string{text("F2", 16, 72, 700, "Still Has a Title") + "BT /F1 10 Tf <4142"}}
		done := make(chan Result, 1)
		go func() {
			res, _ := Bytes(context.Background(), p.Bytes(), "x.pdf")
			done <- res
		}()
		select {
		case res := <-done:
			if res.Title != "Still Has a Title" {
				t.Errorf("filter %q: Title = %q", filter, res.Title)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("filter %q: Bytes hangs on an unterminated hex string", filter)
		}
	}
	for s, want := range map[string]bool{
		"BT <4142> Tj ET": false, "BT <4142": true, "<< /A 1 >> BI /W 1 ID <<<< EI": false,
		"(a <b) Tj": false, "% <comment\n": false, "(unterminated <": false,
	} {
		if got := openHexString([]byte(s)); got != want {
			t.Errorf("openHexString(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestLZWEarlyChange(t *testing.T) {
	// "-----A---B" with EarlyChange 1, from the PDF reference's LZW example.
	in := []byte{0x80, 0x0B, 0x60, 0x50, 0x22, 0x0C, 0x0C, 0x85, 0x01}
	out, err := lzwDecode(in, true)
	if err != nil || string(out) != "-----A---B" {
		t.Errorf("lzwDecode = %q, %v", out, err)
	}
}

func TestLenientOpen(t *testing.T) {
	base := testPDF{Pages: []string{text("F2", 16, 72, 700, "Lenient Header Handling") + text("F1", 10, 72, 600, "body text in a smaller size")}}
	tests := map[string]testPDF{
		"space after version": {Header: "%PDF-1.4 \n", Pages: base.Pages},
		"PDF 2.0 header":      {Header: "%PDF-2.0\n", Pages: base.Pages},
		"bytes before header": {Prefix: "Content-Type: application/pdf\r\n\r\n", Pages: base.Pages},
	}
	for name, p := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := newReader(p.Bytes()); err == nil {
				t.Fatal("the library accepts this file as is; the case does not exercise the repair")
			}
			res := extractGenerated(t, p, "x.pdf")
			if res.Title != "Lenient Header Handling" {
				t.Errorf("Title = %q, problems %q", res.Title, res.Problems)
			}
		})
	}
	t.Run("junk after EOF", func(t *testing.T) {
		data := append(base.Bytes(), "\x00\x00garbage from a download manager"...)
		if _, err := newReader(data); err == nil {
			t.Fatal("the library accepts this file as is; the case does not exercise the repair")
		}
		res, err := Bytes(context.Background(), data, "x.pdf")
		if err != nil || res.Title != "Lenient Header Handling" {
			t.Errorf("Title = %q, err %v", res.Title, err)
		}
	})
}

func TestRebuiltXref(t *testing.T) {
	good := testPDF{Info: map[string]string{"Title": "Info Title Agrees Here"}, Pages: []string{paperPage([]string{"Info Title Agrees Here"}, "Ann Author", "")}}.Bytes()
	// Seven bytes inserted after the header shift every object away from
	// its table entry, as a careless editor or a text-mode transfer does.
	shifted := append(append(bytes.Clone(good[:9]), "%junk!\n"...), good[9:]...)
	// A table that is not there at all.
	noTable := good[:bytes.LastIndex(good, []byte("xref"))]
	for name, data := range map[string][]byte{"shifted offsets": shifted, "missing table": noTable} {
		t.Run(name, func(t *testing.T) {
			res, err := Bytes(context.Background(), data, "x.pdf")
			if err != nil {
				t.Fatal(err)
			}
			if res.Title != "Info Title Agrees Here" || res.Confidence["title"] < confConfident || !hasProblem(res, "rebuilt the cross-reference table") {
				t.Errorf("Title = %q (confidence %v), problems %q", res.Title, res.Confidence["title"], res.Problems)
			}
		})
	}
}

func TestBytesUnparseable(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty":     nil,
		"not a PDF": []byte("<html>404 not found</html>"),
		"truncated": testPDF{Pages: []string{text("F1", 10, 72, 700, "x")}}.Bytes()[:200],
	} {
		t.Run(name, func(t *testing.T) {
			res, err := Bytes(context.Background(), data, "dir/My_Paper.pdf")
			// A truncated file still opens through a rebuilt table, with nothing in it.
			if err == nil && name != "truncated" {
				t.Error("want an error")
			}
			if res.Title != "My Paper" || len(res.Problems) == 0 || res.Confidence == nil {
				t.Errorf("fallback result = %+v", res)
			}
		})
	}
}

func TestBytesCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Bytes(ctx, testPDF{Pages: []string{text("F2", 16, 72, 700, "Some Title Here")}}.Bytes(), "1706.03762v5.pdf")
	if err != nil {
		t.Fatal(err)
	}
	if res.Title != "1706.03762v5" || res.ArXiv != "1706.03762" || len(res.Problems) == 0 {
		t.Errorf("cancelled result = %+v", res)
	}
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunnerFile(t *testing.T) {
	t.Setenv("EXTRACT_TEST_WORKER", "1")
	path := writeTemp(t, "--not-a-flag.pdf", testPDF{
		Info:  map[string]string{"Subject": "doi:10.1145/3025453.3025912"},
		Pages: []string{paperPage([]string{"Worker Process Extraction"}, "Ann Author", "")},
	}.Bytes())
	res, err := Runner{Exe: os.Args[0], Timeout: 20 * time.Second}.File(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if res.Title != "Worker Process Extraction" || res.DOI != "10.1145/3025453.3025912" || res.Confidence["title"] == 0 {
		t.Errorf("Result = %+v", res)
	}

	bad := writeTemp(t, "broken_file.pdf", []byte("not a pdf at all"))
	res, err = Runner{Exe: os.Args[0]}.File(context.Background(), bad)
	if err == nil || res.Title != "broken file" {
		t.Errorf("unparseable: %+v, %v", res, err)
	}

	_, err = Runner{Exe: os.Args[0]}.File(context.Background(), filepath.Join(t.TempDir(), "missing.pdf"))
	if err == nil {
		t.Error("missing file: want an error")
	}
}

func TestRunnerTimeout(t *testing.T) {
	t.Setenv("EXTRACT_TEST_WORKER", "hang")
	path := writeTemp(t, "1706.03762v5.pdf", []byte("%PDF-1.4\n"))
	start := time.Now()
	res, err := Runner{Exe: os.Args[0], Timeout: 300 * time.Millisecond}.File(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("File took %v with a 300ms timeout", d)
	}
	if res.Title != "1706.03762v5" || res.ArXiv != "1706.03762" || len(res.Problems) != 1 || !strings.Contains(res.Problems[0], "timed out") {
		t.Errorf("Result = %+v", res)
	}
}

func TestRunnerCrash(t *testing.T) {
	t.Setenv("EXTRACT_TEST_WORKER", "crash")
	path := writeTemp(t, "paper (3).pdf", []byte("%PDF-1.4\n"))
	res, err := Runner{Exe: os.Args[0]}.File(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if res.Title != "paper (3)" || len(res.Problems) != 1 || !strings.Contains(res.Problems[0], "worker failed") {
		t.Errorf("Result = %+v", res)
	}
}

// pickyWorker serves paths like WorkerMain but hangs on names containing
// "hang" and dies on names containing "crash".
func pickyWorker() {
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var path string
		if err := json.Unmarshal(in.Bytes(), &path); err != nil {
			os.Exit(3)
		}
		switch {
		case strings.Contains(path, "hang"):
			time.Sleep(time.Hour) // a worker that hangs: the pool's timeout is what is tested
		case strings.Contains(path, "crash"):
			os.Exit(3)
		}
		if err := json.NewEncoder(os.Stdout).Encode(extractPath(path)); err != nil {
			os.Exit(2)
		}
	}
	os.Exit(0)
}

func TestRunnerFiles(t *testing.T) {
	t.Setenv("EXTRACT_TEST_WORKER", "picky")
	dir := t.TempDir()
	var paths []string
	for _, name := range []string{"one.pdf", "hang.pdf", "two.pdf", "crash.pdf", "three\nlines.pdf"} {
		path := filepath.Join(dir, name)
		title := strings.TrimSuffix(name, ".pdf") + " paper title"
		if err := os.WriteFile(path, testPDF{Pages: []string{text("F2", 16, 72, 700, title)}}.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	var got []string
	err := Runner{Exe: os.Args[0], Timeout: 2 * time.Second}.Files(context.Background(), paths, func(path string, res Result, err error) {
		if err != nil {
			t.Errorf("%s: %v", path, err)
		}
		got = append(got, res.Title+" / "+strings.Join(res.Problems, "; "))
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"one paper title / ", "hang / extraction timed out", "two paper title / ", "crash / extraction worker failed", "three lines paper title / "}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("file %d: got %q, want prefix %q", i, got[i], want[i])
		}
	}
}

func TestRunnerCancelled(t *testing.T) {
	t.Setenv("EXTRACT_TEST_WORKER", "hang")
	path := writeTemp(t, "x.pdf", []byte("%PDF-1.4\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := Runner{Exe: os.Args[0], Timeout: time.Minute}.File(ctx, path)
	if err == nil {
		t.Error("want the context's error")
	}
}
