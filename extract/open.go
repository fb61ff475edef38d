package extract

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/ledongthuc/pdf"
)

// headerWindow is how far into a file a misplaced "%PDF-" header is looked
// for; Acrobat accepts junk in the first kilobyte.
const headerWindow = 1024

var startxrefRe = regexp.MustCompile(`startxref\s+(\d+)`)

// openPDF opens data with the pdf library, retrying with repaired copies of
// the file when the library's strict checks reject a file that viewers open:
// a space or other byte after "%PDF-1.x", a PDF 2.0 header, bytes before the
// header, and junk or a missing "%%EOF" after the last startxref.
// It also returns the bytes the reader reads, which may be a repaired copy.
func openPDF(data []byte) (r *pdf.Reader, used []byte, note string, err error) {
	r, err = newReader(data)
	if err == nil {
		return r, data, "", nil
	}
	first := err
	for _, c := range repairs(data) {
		if r, err := newReader(c.data); err == nil {
			return r, c.data, c.note, nil
		}
	}
	return nil, nil, "", first
}

type repaired struct {
	data []byte
	note string
}

func repairs(data []byte) []repaired {
	var out []repaired
	at := bytes.Index(data[:min(len(data), headerWindow)], []byte("%PDF-"))
	if at < 0 {
		return nil
	}
	tail := fixTail(data)
	// Offsets are usually counted from the start of the file, so the first
	// choice keeps every byte in place and rewrites the header at offset 0.
	if at >= 9 {
		d := bytes.Clone(tail)
		copy(d, "%PDF-1.7\n")
		out = append(out, repaired{d, "repaired: bytes before the %PDF header"})
	}
	if at > 0 {
		d := fixHeader(bytes.Clone(tail[at:]))
		out = append(out, repaired{d, "repaired: bytes before the %PDF header"})
	}
	if at == 0 {
		out = append(out, repaired{fixHeader(bytes.Clone(tail)), "repaired: non-standard %PDF header or trailer"})
	}
	if d := rebuildXref(fixHeader(bytes.Clone(data[at:]))); d != nil {
		out = append(out, repaired{d, "repaired: rebuilt the cross-reference table"})
	}
	return out
}

var (
	objRe     = regexp.MustCompile(`(?:^|[\r\n\t ])(\d{1,7})[ \t\r\n]+(\d{1,5})[ \t\r\n]+obj\b`)
	rootRe    = regexp.MustCompile(`/Root[ \t\r\n]*(\d+)[ \t\r\n]+(\d+)[ \t\r\n]+R`)
	infoRe    = regexp.MustCompile(`/Info[ \t\r\n]*(\d+)[ \t\r\n]+(\d+)[ \t\r\n]+R`)
	encryptRe = regexp.MustCompile(`/Encrypt[ \t\r\n]*\d+[ \t\r\n]+\d+[ \t\r\n]+R|/ID[ \t\r\n]*\[[^\]]*\]`)
	catalogRe = regexp.MustCompile(`/Type[ \t\r\n]*/Catalog\b`)
	objStmRe  = regexp.MustCompile(`/Type[ \t\r\n]*/ObjStm\b`)
	intKeyRe  = regexp.MustCompile(`/(N|First)[ \t\r\n]+(\d+)`)
)

// rebuildXref makes a file with a broken or wrong cross-reference table
// readable, as viewers do: it finds every "n g obj", copies the objects
// packed in object streams out as plain objects (classic tables cannot
// point into streams), and appends a new table and trailer.
func rebuildXref(data []byte) []byte {
	type loc struct {
		off int
		gen int
	}
	objs := map[int]loc{}
	maxNum := 0
	for _, m := range objRe.FindAllSubmatchIndex(data, -1) {
		num, _ := strconv.Atoi(string(data[m[2]:m[3]]))
		gen, _ := strconv.Atoi(string(data[m[4]:m[5]]))
		objs[num] = loc{m[2], gen} // later definitions win, as in incremental updates
		maxNum = max(maxNum, num)
	}
	if len(objs) == 0 || maxNum > 1<<20 {
		return nil
	}
	out := bytes.Clone(data)
	out = append(out, '\n')
	for num, l := range objs {
		body := objectText(data, l.off)
		if !objStmRe.Match(body) {
			continue
		}
		for _, o := range unpackObjStm(body) {
			if _, ok := objs[o.num]; ok || o.num > 1<<20 {
				continue
			}
			objs[o.num] = loc{len(out), 0}
			maxNum = max(maxNum, o.num)
			out = fmt.Appendf(out, "%d 0 obj\n%s\nendobj\n", o.num, o.text)
		}
		_ = num
	}
	root := lastRef(rootRe, data)
	if root == "" {
		for num, l := range objs {
			if catalogRe.Match(objectText(out, l.off)) {
				root = fmt.Sprintf("%d %d R", num, l.gen)
				break
			}
		}
	}
	if root == "" {
		return nil
	}
	xref := len(out)
	out = fmt.Appendf(out, "xref\n0 %d\n", maxNum+1)
	for i := 0; i <= maxNum; i++ {
		if l, ok := objs[i]; ok {
			out = fmt.Appendf(out, "%010d %05d n \n", l.off, l.gen)
		} else {
			out = append(out, "0000000000 65535 f \n"...)
		}
	}
	out = fmt.Appendf(out, "trailer\n<< /Size %d /Root %s", maxNum+1, root)
	if info := lastRef(infoRe, data); info != "" {
		out = fmt.Appendf(out, " /Info %s", info)
	}
	for _, m := range encryptRe.FindAll(data, -1) {
		out = append(append(out, ' '), m...)
	}
	return fmt.Appendf(out, " >>\nstartxref\n%d\n%%%%EOF\n", xref)
}

func lastRef(re *regexp.Regexp, data []byte) string {
	ms := re.FindAllSubmatch(data, -1)
	if len(ms) == 0 {
		return ""
	}
	m := ms[len(ms)-1]
	return string(m[1]) + " " + string(m[2]) + " R"
}

// objectText is the object starting at off, up to its "endobj".
func objectText(data []byte, off int) []byte {
	end := bytes.Index(data[off:], []byte("endobj"))
	if end < 0 {
		end = min(len(data)-off, 1<<16)
	}
	return data[off : off+end]
}

type packed struct {
	num  int
	text []byte
}

// unpackObjStm lists the objects in an object stream, given its whole
// "n g obj << ... >> stream ... endstream" text.
func unpackObjStm(obj []byte) []packed {
	s := bytes.Index(obj, []byte("stream"))
	if s < 0 {
		return nil
	}
	dict := obj[:s]
	var n, first int
	for _, m := range intKeyRe.FindAllSubmatch(dict, -1) {
		v, _ := strconv.Atoi(string(m[2]))
		if string(m[1]) == "N" {
			n = v
		} else {
			first = v
		}
	}
	body := obj[s+len("stream"):]
	body = bytes.TrimLeft(body, "\r\n")
	if e := bytes.LastIndex(body, []byte("endstream")); e >= 0 {
		body = body[:e]
	}
	if bytes.Contains(dict, []byte("/FlateDecode")) {
		zr, err := zlib.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil
		}
		body, _ = io.ReadAll(io.LimitReader(zr, maxStream))
	}
	if first <= 0 || first > len(body) || n <= 0 || n > 1<<16 {
		return nil
	}
	head := strings.Fields(string(body[:first]))
	var out []packed
	for i := 0; i+1 < len(head) && i/2 < n; i += 2 {
		num, err1 := strconv.Atoi(head[i])
		off, err2 := strconv.Atoi(head[i+1])
		if err1 != nil || err2 != nil || first+off > len(body) {
			continue
		}
		end := len(body)
		if i+3 < len(head) {
			if next, err := strconv.Atoi(head[i+3]); err == nil && first+next >= first+off && first+next <= len(body) {
				end = first + next
			}
		}
		out = append(out, packed{num, body[first+off : end]})
	}
	return out
}

// fixHeader makes the first line exactly "%PDF-1.d\n" as the library wants.
func fixHeader(d []byte) []byte {
	if len(d) < 9 {
		return d
	}
	if d[5] != '1' || d[6] != '.' || d[7] < '0' || d[7] > '7' {
		copy(d[5:], "1.7")
	}
	if d[8] != '\r' && d[8] != '\n' {
		d[8] = '\n'
	}
	return d
}

// fixTail cuts anything after the last "%%EOF", or supplies one after the
// last startxref when it is missing.
func fixTail(data []byte) []byte {
	if i := bytes.LastIndex(data, []byte("%%EOF")); i >= 0 {
		return data[:i+5]
	}
	locs := startxrefRe.FindAllIndex(data, -1)
	if len(locs) == 0 {
		return data
	}
	last := locs[len(locs)-1]
	d := append(bytes.Clone(data[:last[1]]), "\n%%EOF\n"...)
	return d
}

// newReader calls the library, turning its panics into errors.
func newReader(data []byte) (r *pdf.Reader, err error) {
	defer func() {
		if x := recover(); x != nil {
			r, err = nil, fmt.Errorf("malformed PDF: %v", x)
		}
	}()
	if len(data) < 16 {
		return nil, errors.New("not a PDF file: too short")
	}
	return pdf.NewReader(bytes.NewReader(data), int64(len(data)))
}
