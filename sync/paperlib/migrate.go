package paperlib

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/bibtex"
	"github.com/paperfs/paperfs/meta/libdir"
	"github.com/paperfs/paperfs/meta/library"
)

// Options tune Migrate.
type Options struct {
	// Library is the library folder: where Paperlib kept the PDFs, and
	// where paperfs finds them.
	Library string
	// Pattern is the file-name pattern Paperlib was set to rename PDFs
	// with, if not its default "<title>_<id>_main.pdf": {title}, {id},
	// {year}, {firstauthor}, {lastauthor}, {publication}, e.g.
	// "{firstauthor}_{year}_{title}". Matching ignores case, spaces and
	// punctuation.
	Pattern string
	// Progress is called after each paper.
	Progress func(done, total int)
}

// Report says what a migration did.
type Report struct {
	Imported []string // ids of papers new to paperfs
	Updated  []string // ids of papers already migrated before (a rerun)
	// Merged maps Paperlib ids to the paperfs paper a scan had already
	// made from the same PDF; that paper took the Paperlib metadata.
	Merged      map[string]string
	PDFsFound   int
	PDFsMissing []string // "<id> <title>: <where it was expected>"
	// Unmapped counts, per field, the papers (or tags, folders) that had a
	// value paperfs has no place for.
	Unmapped map[string]int
	Problems []string // odd values and how they were read, per document
	Skipped  []string // documents that could not be imported, and why
}

// Migrate imports a Paperlib library read by Read into the store. It is
// idempotent: papers keep Paperlib's ids, so a second run updates them.
// Fields paperfs also has are overwritten with Paperlib's non-empty values;
// tags and folders are added to those the paper has; the PDF is linked if
// it can be found, else the paper is flagged missing until it arrives.
func Migrate(ctx context.Context, s *meta.Store, d *Data, opts Options) (Report, error) {
	rep := Report{Merged: map[string]string{}, Unmapped: map[string]int{}}
	papers, problems := Map(d)
	rep.Problems = append(rep.Problems, problems...)
	for _, docs := range []struct {
		coll string
		docs []Doc
	}{{CollTags, d.Tags}, {CollFolders, d.Folders}} {
		for _, doc := range docs.docs {
			for _, e := range doc {
				switch e.Key {
				case "_id", "_partition", "name", "count", "children", "__v":
				default:
					if !isEmpty(e.Value) {
						rep.Unmapped[docs.coll+"."+e.Key]++
					}
				}
			}
		}
	}
	idx, err := indexLibrary(ctx, opts.Library)
	if err != nil {
		return rep, err
	}
	for i := range papers {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		if err := migrateOne(s, &papers[i], idx, opts, &rep); err != nil {
			return rep, err
		}
		if opts.Progress != nil {
			opts.Progress(i+1, len(papers))
		}
	}
	return rep, nil
}

var validIDRe = regexp.MustCompile(`^[0-9a-z]{6,32}$`)

// migrateOne imports one paper. It returns an error only for store
// failures; problems with the paper itself go to the report.
func migrateOne(s *meta.Store, lp *Paper, idx *libIndex, opts Options, rep *Report) error {
	p := &lp.Paper
	label := fmt.Sprintf("%s %s (%q)", CollPapers, p.ID, p.Title)
	if p.ID == "" {
		rep.Skipped = append(rep.Skipped, fmt.Sprintf("%s document with no _id (%q): nothing to keep it by across reruns", CollPapers, p.Title))
		return nil
	}
	if !validIDRe.MatchString(p.ID) {
		sum := sha256.Sum256([]byte(p.ID))
		nid := hex.EncodeToString(sum[:12])
		rep.Problems = append(rep.Problems, fmt.Sprintf("%s: the id is not one paperfs can keep; the paper is %s", label, nid))
		p.ID = nid
	}
	for _, pr := range lp.Problems {
		rep.Problems = append(rep.Problems, label+": "+pr)
	}
	for _, f := range lp.Unmapped {
		rep.Unmapped[CollPapers+"."+f]++
	}
	cleanLines(p)

	// Find the PDF.
	file, where := idx.find(lp, opts)
	if file.Path != "" {
		rep.PDFsFound++
	} else {
		rep.PDFsMissing = append(rep.PDFsMissing, fmt.Sprintf("%s: %s", label, where))
	}

	existing, err := s.Get(p.ID)
	switch {
	case err == nil:
		return update(s, p.ID, lp, file, &existing, rep, label, false)
	case !errors.Is(err, meta.ErrNotFound):
		return err
	}
	// A scan may have indexed the PDF already, as a paper of its own.
	if file.Path != "" {
		other := ""
		if id, err := s.ByPath(file.Path); err == nil {
			other = id
		} else if ids, err := s.ByHash(file.SHA256); err == nil && len(ids) > 0 {
			other = ids[0]
		}
		if other != "" {
			q, err := s.Get(other)
			if err != nil {
				return err
			}
			rep.Merged[p.ID] = other
			return update(s, other, lp, meta.File{}, &q, rep, label, true)
		}
	}
	missing := false
	if file.Path == "" && where != "" {
		// Keep where Paperlib had it: a cloud drive may still deliver it,
		// and a scan then links it.
		if rel := relPath(lp.MainURL); lp.MainURL != "" && meta.CheckRelPath(rel) == nil && !filepath.IsAbs(lp.MainURL) {
			if _, err := s.ByPath(rel); errors.Is(err, meta.ErrNotFound) {
				file, missing = meta.File{Path: rel}, true
			}
		}
	}
	p.File = file
	// The citation key is given now, in the same write: reading
	// library.bib never writes.
	np, err := bibtex.CreateWithKey(s, *p)
	if errors.Is(err, meta.ErrInvalid) {
		rep.Skipped = append(rep.Skipped, fmt.Sprintf("%s: %v", label, err))
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", label, err)
	}
	if missing {
		if err := s.SetMissing(np.ID, true); err != nil {
			return err
		}
	}
	rep.Imported = append(rep.Imported, np.ID)
	return nil
}

// update puts a Paperlib paper's metadata into an existing paperfs paper.
func update(s *meta.Store, id string, lp *Paper, file meta.File, old *meta.Paper, rep *Report, label string, merged bool) error {
	p := &lp.Paper
	_, err := s.Update(id, func(q *meta.Paper) error {
		set := func(dst *string, v string) {
			if v != "" {
				*dst = v
			}
		}
		set(&q.Title, p.Title)
		set(&q.Venue, p.Venue)
		set(&q.DOI, p.DOI)
		set(&q.ArXiv, p.ArXiv)
		set(&q.Note, p.Note)
		if len(p.Authors) > 0 {
			q.Authors = p.Authors
		}
		if p.Year != 0 {
			q.Year = p.Year
		}
		q.Type, q.Rating, q.Flag = p.Type, p.Rating, p.Flag
		if !p.Added.IsZero() {
			q.Added = p.Added
		}
		q.Tags = append(q.Tags, p.Tags...)
		q.Folders = append(q.Folders, p.Folders...)
		for _, sup := range p.Supplementary {
			if !slices.Contains(q.Supplementary, sup) {
				q.Supplementary = append(q.Supplementary, sup)
			}
		}
		if file.Path != "" && (q.File.Path == "" || old.Missing) {
			q.File = file
		}
		return nil
	})
	if errors.Is(err, meta.ErrInvalid) {
		rep.Skipped = append(rep.Skipped, fmt.Sprintf("%s: %v", label, err))
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", label, err)
	}
	if old.Missing && file.Path != "" {
		if err := s.SetMissing(id, false); err != nil {
			return err
		}
	}
	if !merged {
		rep.Updated = append(rep.Updated, id)
	}
	return nil
}

// cleanLines makes one-line fields one line: Paperlib titles copied from
// PDFs often hold line breaks, which paperfs refuses in titles and names.
func cleanLines(p *meta.Paper) {
	one := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	p.Title, p.Venue, p.DOI, p.ArXiv = one(p.Title), one(p.Venue), one(p.DOI), one(p.ArXiv)
	for i := range p.Authors {
		p.Authors[i] = one(p.Authors[i])
	}
	for i := range p.Tags {
		p.Tags[i] = one(p.Tags[i])
	}
	for i := range p.Folders {
		p.Folders[i] = one(p.Folders[i])
	}
}

// libIndex is the PDFs in the library folder, by the ways Migrate looks
// them up.
type libIndex struct {
	root   string
	byBase map[string][]string // lower-case base name -> rel paths
	byID   map[string][]string // 24-hex id in the name -> rel paths
	byNorm map[string][]string // normalized name without extension -> rel paths
	dir    *libdir.Dir         // nil without a library folder
}

var hexIDRe = regexp.MustCompile(`[0-9a-fA-F]{24}`)

func indexLibrary(ctx context.Context, root string) (*libIndex, error) {
	idx := &libIndex{root: root, byBase: map[string][]string{}, byID: map[string][]string{}, byNorm: map[string][]string{}}
	if root == "" {
		return idx, nil
	}
	idx.dir = libdir.New(root)
	err := idx.dir.Walk(ctx, func(rel string, d fs.DirEntry, err error) error {
		if err != nil {
			if rel == "." {
				return err
			}
			return nil
		}
		if d.IsDir() {
			if rel != "." && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.EqualFold(filepath.Ext(d.Name()), ".pdf") {
			return nil
		}
		name := d.Name()
		idx.byBase[strings.ToLower(name)] = append(idx.byBase[strings.ToLower(name)], rel)
		for _, id := range hexIDRe.FindAllString(name, -1) {
			idx.byID[strings.ToLower(id)] = append(idx.byID[strings.ToLower(id)], rel)
		}
		n := normalize(strings.TrimSuffix(name, filepath.Ext(name)))
		idx.byNorm[n] = append(idx.byNorm[n], rel)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("library folder %s: %w", root, err)
	}
	return idx, nil
}

// normalize keeps only letters and digits, lower-cased, so names compare
// whatever Paperlib did to spaces and punctuation.
func normalize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// find locates a paper's PDF: at the path Paperlib stored, else by that
// file name anywhere in the library, else by a name holding the paper's id
// (Paperlib's "<title>_<id>_main.pdf"), else by the custom pattern or the
// title. A name that matches several files is not guessed between. It
// returns the file, or where the PDF was expected.
func (idx *libIndex) find(lp *Paper, opts Options) (meta.File, string) {
	stat := func(rel string) (meta.File, bool) {
		if meta.CheckRelPath(rel) != nil {
			return meta.File{}, false
		}
		if idx.dir == nil {
			return meta.File{}, false
		}
		st, err := idx.dir.Lstat(rel)
		if err != nil || !st.Mode().IsRegular() {
			return meta.File{}, false
		}
		sum, size, err := library.HashIn(idx.dir, rel)
		if err != nil {
			return meta.File{}, false
		}
		return meta.File{Path: rel, Size: size, SHA256: sum}, true
	}
	one := func(cands []string) (meta.File, bool) {
		if len(cands) != 1 {
			return meta.File{}, false
		}
		return stat(cands[0])
	}
	main := relPath(lp.MainURL)
	if main != "" {
		rel := main
		if filepath.IsAbs(main) {
			if r, err := filepath.Rel(idx.root, main); err == nil && !strings.HasPrefix(r, "..") {
				rel = filepath.ToSlash(r)
			}
		}
		if f, ok := stat(rel); ok {
			return f, ""
		}
		if f, ok := one(idx.byBase[strings.ToLower(path.Base(main))]); ok {
			return f, ""
		}
	}
	if lp.ID != "" {
		if f, ok := one(idx.byID[strings.ToLower(lp.ID)]); ok {
			return f, ""
		}
	}
	var names []string
	if opts.Pattern != "" {
		names = append(names, expand(opts.Pattern, lp))
	}
	names = append(names, expand("{title}_{id}_main", lp), expand("{title}", lp))
	for _, n := range names {
		if n = normalize(n); n == "" {
			continue
		}
		if f, ok := one(idx.byNorm[n]); ok {
			return f, ""
		}
	}
	if main != "" {
		return meta.File{}, "not at " + main + ", and no file of that name or with the paper's id in the library folder"
	}
	return meta.File{}, "Paperlib recorded no PDF, and none is named after the paper's id or title"
}

// expand fills a file-name pattern in for a paper.
func expand(pattern string, lp *Paper) string {
	p := &lp.Paper
	first, last := "", ""
	if len(p.Authors) > 0 {
		first = bibtex.ParseName(p.Authors[0]).Family()
		last = bibtex.ParseName(p.Authors[len(p.Authors)-1]).Family()
	}
	year := ""
	if p.Year != 0 {
		year = strconv.Itoa(p.Year)
	}
	return strings.NewReplacer("{title}", p.Title, "{id}", p.ID, "{year}", year, "{firstauthor}", first,
		"{lastauthor}", last, "{publication}", p.Venue).Replace(pattern)
}
