// Package paperlib migrates a Paperlib library into paperfs. Paperlib
// (paperlib.app) kept its metadata in Realm and synced it through MongoDB
// Atlas Device Sync, which MongoDB switched off in 2025; the data is still in
// the user's Atlas cluster, in the collections PaperEntity, PaperTag and
// PaperFolder. This package reads them, maps every field it can to
// meta.Paper, keeps Paperlib's ids (so a rerun updates instead of
// duplicating), finds each paper's PDF in the library folder, and reports
// what it did and what it could not map.
package paperlib

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/bibtex"
	psync "github.com/paperfs/paperfs/sync"
)

// Collection names Paperlib's Realm schema gave its objects.
const (
	CollPapers  = "PaperEntity"
	CollTags    = "PaperTag"
	CollFolders = "PaperFolder"
)

// Doc is one document as read from MongoDB.
type Doc = bson.D

// Data is a Paperlib library as read from its collections.
type Data struct {
	Papers, Tags, Folders []Doc
}

// Connect opens a client for uri. Errors never contain the URI's
// credentials.
func Connect(ctx context.Context, uri string) (*mongo.Client, error) {
	c, err := mongo.Connect(options.Client().SetServerSelectionTimeout(20 * time.Second).
		SetAppName("paperfs-migrate").ApplyURI(uri))
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", psync.Redact(uri), psync.RedactError(uri, err))
	}
	if err := c.Ping(ctx, nil); err != nil {
		c.Disconnect(context.Background())
		return nil, fmt.Errorf("connecting to %s: %w", psync.Redact(uri), psync.RedactError(uri, err))
	}
	return c, nil
}

// Read loads the three collections from db. Collection names are matched
// case-insensitively; a database with no PaperEntity collection is an error
// that lists what the database does hold.
func Read(ctx context.Context, db *mongo.Database, partition string) (*Data, error) {
	names, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("database %s: listing collections: %w", db.Name(), err)
	}
	find := func(want string) string {
		for _, n := range names {
			if strings.EqualFold(n, want) {
				return n
			}
		}
		return ""
	}
	if find(CollPapers) == "" {
		slices.Sort(names)
		return nil, fmt.Errorf("database %s has no %s collection (it has: %s); pass the database Paperlib synced to with --db",
			db.Name(), CollPapers, strings.Join(names, ", "))
	}
	d := &Data{}
	for _, c := range []struct {
		name string
		out  *[]Doc
	}{{CollPapers, &d.Papers}, {CollTags, &d.Tags}, {CollFolders, &d.Folders}} {
		n := find(c.name)
		if n == "" {
			continue // a library that never had a tag
		}
		filter := bson.D{}
		if partition != "" && c.name == CollPapers {
			filter = bson.D{{Key: "_partition", Value: partition}}
		}
		cur, err := db.Collection(n).Find(ctx, filter)
		if err != nil {
			return nil, fmt.Errorf("reading %s.%s: %w", db.Name(), n, err)
		}
		if err := cur.All(ctx, c.out); err != nil {
			return nil, fmt.Errorf("reading %s.%s: %w", db.Name(), n, err)
		}
	}
	return d, nil
}

// fields of PaperEntity that map to something, or are Realm bookkeeping.
var knownPaperFields = []string{"_id", "id", "_partition", "addTime", "title", "authors", "publication",
	"pubTime", "pubType", "doi", "arxiv", "mainURL", "supURLs", "rating", "tags", "folders", "flag", "note", "__v"}

// Paper is one PaperEntity mapped to paperfs.
type Paper struct {
	meta.Paper
	MainURL  string   // Paperlib's stored path of the PDF
	Problems []string // values that were odd and how they were read
	Unmapped []string // fields with a value paperfs has no place for
}

// mapper turns documents into papers, knowing the tag and folder names.
type mapper struct {
	tags, folders map[string]string // ObjectId hex -> name
}

// groupNames names the tags (or folders) by id. Newer Paperlib versions
// nest them: a root document named "Tags" (or "Folders") whose children
// are the top-level tags, each of which may have children. A nested tag
// is known by its own name; two that share one get their parent's name in
// front ("ml - datasets"). Names cannot hold "/" in paperfs.
func groupNames(docs []Doc, root string, problems *[]string) map[string]string {
	type node struct{ id, name, parent string }
	nodes := map[string]*node{}
	var order []string
	for _, d := range docs {
		id := idString(get(d, "_id"))
		if id == "" {
			*problems = append(*problems, fmt.Sprintf("%s document without an _id skipped", root))
			continue
		}
		name, _ := get(d, "name").(string)
		nodes[id] = &node{id: id, name: strings.TrimSpace(name)}
		order = append(order, id)
	}
	roots := map[string]bool{}
	for _, d := range docs {
		id := idString(get(d, "_id"))
		kids, ok := get(d, "children").(bson.A)
		if !ok || nodes[id] == nil {
			continue
		}
		if strings.EqualFold(nodes[id].name, root) {
			roots[id] = true
		}
		for _, k := range kids {
			if c := nodes[idString(k)]; c != nil && c.id != id {
				c.parent = id
			}
		}
	}
	for id := range roots {
		if nodes[id].parent != "" {
			delete(roots, id) // a tag a user called "Tags", inside the tree
		}
	}
	clean := func(s string) string {
		s = strings.ReplaceAll(s, "/", "-")
		if s == "." || s == ".." {
			s = "_" + s
		}
		return strings.TrimSpace(s)
	}
	count := map[string]int{}
	for _, id := range order {
		if !roots[id] && nodes[id].name != "" {
			count[strings.ToLower(clean(nodes[id].name))]++
		}
	}
	out := map[string]string{}
	for _, id := range order {
		n := nodes[id]
		if roots[id] {
			continue
		}
		if n.name == "" {
			*problems = append(*problems, fmt.Sprintf("%s %s has no name; papers keep it as %q", root, id, id))
			out[id] = id
			continue
		}
		name := clean(n.name)
		if count[strings.ToLower(name)] > 1 {
			if p := nodes[n.parent]; p != nil && !roots[p.id] && p.name != "" {
				name = clean(p.name) + " - " + name
			}
		}
		if name != n.name {
			*problems = append(*problems, fmt.Sprintf("%s %q is called %q in paperfs", root, n.name, name))
		}
		out[id] = name
	}
	return out
}

// get returns a document's field, nil if absent.
func get(d Doc, key string) any {
	for _, e := range d {
		if e.Key == key {
			return e.Value
		}
	}
	return nil
}

// idString renders an id as paperfs keeps it: an ObjectId as its 24 hex
// digits, a string as is.
func idString(v any) string {
	switch x := v.(type) {
	case bson.ObjectID:
		return x.Hex()
	case string:
		return strings.TrimSpace(x)
	case bson.D:
		if id := get(x, "_id"); id != nil {
			return idString(id)
		}
	case bson.M:
		return idString(x["_id"])
	}
	return ""
}

// str reads a string field; numbers are accepted (and noted).
func str(v any, field string, problems *[]string) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(x)
	case int32, int64, float64, bool:
		*problems = append(*problems, fmt.Sprintf("%s: %v is a %T, read as text", field, x, x))
		return fmt.Sprint(x)
	}
	*problems = append(*problems, fmt.Sprintf("%s: a %T, not text; ignored", field, v))
	return ""
}

// num reads an integer field from any numeric or numeric-string value.
func num(v any) (int, bool) {
	switch x := v.(type) {
	case int32:
		return int(x), true
	case int64:
		return int(x), true
	case float64:
		if x == math.Trunc(x) && !math.IsInf(x, 0) && math.Abs(x) < 1e9 {
			return int(x), true
		}
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		return n, err == nil
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// Map turns Paperlib's documents into papers.
func Map(d *Data) (papers []Paper, problems []string) {
	m := mapper{tags: groupNames(d.Tags, "Tags", &problems), folders: groupNames(d.Folders, "Folders", &problems)}
	for _, doc := range d.Papers {
		papers = append(papers, m.paper(doc))
	}
	return papers, problems
}

func (m *mapper) paper(d Doc) Paper {
	var out Paper
	pr := &out.Problems
	p := &out.Paper
	p.ID = idString(get(d, "_id"))
	if p.ID == "" {
		p.ID = idString(get(d, "id"))
	}
	p.ID = strings.ToLower(p.ID)
	p.Title = str(get(d, "title"), "title", pr)
	switch a := get(d, "authors").(type) {
	case bson.A:
		for _, x := range a {
			if s, ok := x.(string); ok && strings.TrimSpace(s) != "" {
				p.Authors = append(p.Authors, strings.TrimSpace(s))
			}
		}
	default:
		// Paperlib keeps authors as one string, "First Last, First Last".
		for _, s := range strings.Split(str(a, "authors", pr), ",") {
			if s = strings.TrimSpace(s); s != "" {
				p.Authors = append(p.Authors, s)
			}
		}
	}
	p.Venue = str(get(d, "publication"), "publication", pr)
	if v := get(d, "pubTime"); v != nil {
		var y int
		switch x := v.(type) {
		case bson.DateTime:
			y = x.Time().UTC().Year()
		default:
			s := fmt.Sprint(x)
			if f, ok := x.(float64); ok {
				s = strconv.FormatFloat(f, 'f', -1, 64)
			}
			for i := 0; i+4 <= len(s); i++ {
				if n, err := strconv.Atoi(s[i : i+4]); err == nil && (i+4 == len(s) || s[i+4] < '0' || s[i+4] > '9') {
					y = n
					break
				}
			}
			if _, isStr := x.(string); !isStr && y != 0 {
				*pr = append(*pr, fmt.Sprintf("pubTime: %v is a %T, read as year %d", x, x, y))
			}
		}
		switch {
		case y >= meta.MinYear && y <= meta.MaxYear:
			p.Year = y
		case fmt.Sprint(v) != "":
			*pr = append(*pr, fmt.Sprintf("pubTime: %q is not a year; left out", fmt.Sprint(v)))
		}
	}
	p.Type = meta.Article
	if v := get(d, "pubType"); v != nil {
		n, ok := num(v)
		switch {
		case !ok:
			*pr = append(*pr, fmt.Sprintf("pubType: %v (a %T) is not a number; read as article", v, v))
		case n == 0:
			p.Type = meta.Article
		case n == 1:
			p.Type = meta.Conference
		case n == 2:
			p.Type = meta.Other
		case n == 3:
			p.Type = meta.Book
		default:
			p.Type = meta.Other
			*pr = append(*pr, fmt.Sprintf("pubType: %d is not one Paperlib defines (0-3); read as other", n))
		}
	}
	p.DOI = str(get(d, "doi"), "doi", pr)
	if ax := str(get(d, "arxiv"), "arxiv", pr); ax != "" {
		if p.ArXiv = bibtex.ArXivID(ax); p.ArXiv == "" {
			p.ArXiv = ax
			*pr = append(*pr, fmt.Sprintf("arxiv: %q does not look like an arXiv id; kept as is", ax))
		}
	}
	if p.Type == meta.Article && p.Venue == "" && p.ArXiv != "" {
		p.Type = meta.Preprint
	}
	out.MainURL = str(get(d, "mainURL"), "mainURL", pr)
	if sup, ok := get(d, "supURLs").(bson.A); ok {
		for _, x := range sup {
			if s, ok := x.(string); ok && s != "" {
				rel := relPath(s)
				if meta.CheckRelPath(rel) != nil {
					*pr = append(*pr, fmt.Sprintf("supURLs: %q is not a path inside the library folder; left out", s))
					continue
				}
				p.Supplementary = append(p.Supplementary, rel)
			}
		}
	}
	if v := get(d, "rating"); v != nil {
		n, ok := num(v)
		switch {
		case !ok:
			*pr = append(*pr, fmt.Sprintf("rating: %v (a %T) is not a number; left out", v, v))
		case n < 0 || n > meta.MaxRating:
			p.Rating = max(0, min(n, meta.MaxRating))
			*pr = append(*pr, fmt.Sprintf("rating: %d is outside 0-%d; read as %d", n, meta.MaxRating, p.Rating))
		default:
			p.Rating = n
		}
	}
	if v := get(d, "flag"); v != nil {
		switch x := v.(type) {
		case bool:
			p.Flag = x
		default:
			n, ok := num(x)
			if s, isStr := x.(string); isStr {
				n, ok = 0, true
				if strings.EqualFold(s, "true") {
					n = 1
				}
			}
			p.Flag = ok && n != 0
			*pr = append(*pr, fmt.Sprintf("flag: %v is a %T, read as %v", x, x, p.Flag))
		}
	}
	p.Note = str(get(d, "note"), "note", pr)
	p.Tags = m.groups(get(d, "tags"), m.tags, "tags", pr)
	p.Folders = m.groups(get(d, "folders"), m.folders, "folders", pr)
	switch x := get(d, "addTime").(type) {
	case nil:
	case bson.DateTime:
		p.Added = x.Time().UTC()
	case string:
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
			p.Added = t.UTC()
		} else {
			*pr = append(*pr, fmt.Sprintf("addTime: %q is not a time; the paper is dated now", x))
		}
	default:
		if n, ok := num(x); ok && n > 0 {
			p.Added = time.UnixMilli(int64(n)).UTC()
			*pr = append(*pr, fmt.Sprintf("addTime: %v is a %T, read as milliseconds since 1970", x, x))
		} else {
			*pr = append(*pr, fmt.Sprintf("addTime: a %T, not a time; the paper is dated now", x))
		}
	}
	// publisher is the venue of a book; pages, volume, number, codes and
	// any field a later Paperlib added have no place in paperfs.
	if pub := str(get(d, "publisher"), "publisher", pr); pub != "" {
		if p.Venue == "" && p.Type == meta.Book {
			p.Venue = pub
		} else {
			out.Unmapped = append(out.Unmapped, "publisher")
		}
	}
	for _, e := range d {
		if slices.Contains(knownPaperFields, e.Key) || e.Key == "publisher" || isEmpty(e.Value) {
			continue
		}
		out.Unmapped = append(out.Unmapped, e.Key)
	}
	return out
}

// groups maps a paper's tags or folders: ObjectIds (as Atlas stores Realm
// links), embedded documents, or names.
func (m *mapper) groups(v any, names map[string]string, field string, pr *[]string) []string {
	arr, ok := v.(bson.A)
	if !ok {
		if v != nil {
			*pr = append(*pr, fmt.Sprintf("%s: a %T, not a list; ignored", field, v))
		}
		return nil
	}
	var out []string
	for _, x := range arr {
		id := idString(x)
		if name, ok := names[id]; ok {
			out = append(out, name)
			continue
		}
		if d, ok := x.(bson.D); ok {
			if n, ok := get(d, "name").(string); ok && n != "" {
				out = append(out, strings.ReplaceAll(n, "/", "-"))
				continue
			}
		}
		if s, ok := x.(string); ok && s != "" {
			if _, err := bson.ObjectIDFromHex(s); err != nil {
				out = append(out, strings.ReplaceAll(s, "/", "-")) // a name, not an id
				continue
			}
		}
		*pr = append(*pr, fmt.Sprintf("%s: %v refers to no %s document; left out", field, x, strings.TrimSuffix(field, "s")))
	}
	return out
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	case bson.A:
		return len(x) == 0
	case bson.D:
		return len(x) == 0
	case int32:
		return x == 0
	case int64:
		return x == 0
	case float64:
		return x == 0
	case bool:
		return !x
	}
	return false
}

// relPath turns a stored PDF location into a library-relative path.
// Paperlib stores paths relative to its library folder, but some versions
// wrote file:// URLs or absolute paths.
func relPath(s string) string {
	s = strings.TrimPrefix(strings.TrimSpace(s), "file://")
	s = strings.ReplaceAll(s, `\`, "/")
	return strings.TrimPrefix(s, "./")
}
