package paperlib

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/library"
	"github.com/paperfs/paperfs/meta/testutil"
	"github.com/paperfs/paperfs/sync/synctest"
)

func oid(t *testing.T, hex string) bson.ObjectID {
	t.Helper()
	id, err := bson.ObjectIDFromHex(hex)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func writePDF(t *testing.T, root, rel, body string) {
	t.Helper()
	testutil.WritePDF(t, filepath.Join(root, filepath.FromSlash(rel)), body)
}

func seed(t *testing.T, db *mongo.Database, coll string, docs ...bson.D) {
	t.Helper()
	if len(docs) == 0 {
		return
	}
	if _, err := db.Collection(coll).InsertMany(context.Background(), docs); err != nil {
		t.Fatalf("seeding %s: %v", coll, err)
	}
}

// check compares the fields a migration sets, one by one.
func check(t *testing.T, s *meta.Store, id string, want meta.Paper) meta.Paper {
	t.Helper()
	got, err := s.Get(id)
	if err != nil {
		t.Fatalf("paper %s: %v", id, err)
	}
	want.ID = id
	if want.Tags == nil {
		want.Tags = []string{}
	}
	if want.Folders == nil {
		want.Folders = []string{}
	}
	if want.Authors == nil {
		want.Authors = []string{}
	}
	if want.Added.IsZero() {
		want.Added = got.Added
	}
	g, w := got, want
	g.Modified, w.Modified = time.Time{}, time.Time{}
	gj, _ := json.MarshalIndent(g, "", " ")
	wj, _ := json.MarshalIndent(w, "", " ")
	if string(gj) != string(wj) {
		t.Errorf("paper %s:\n got %s\nwant %s", id, gj, wj)
	}
	return got
}

const (
	id1 = "65a1b2c3d4e5f60718293a41"
	id2 = "65a1b2c3d4e5f60718293a42"
	id3 = "65a1b2c3d4e5f60718293a43"
	id4 = "65a1b2c3d4e5f60718293a44"
	id5 = "65a1b2c3d4e5f60718293a45"
	id6 = "65a1b2c3d4e5f60718293a46"
	id8 = "65a1b2c3d4e5f60718293a48"
	id9 = "65a1b2c3d4e5f60718293a49"
	tg1 = "75a1b2c3d4e5f60718293b01"
	tg2 = "75a1b2c3d4e5f60718293b02"
	fd1 = "85a1b2c3d4e5f60718293c01"
)

// TestMigrateV2 seeds a real MongoDB-protocol server with a Paperlib 2
// library (flat tags and folders), with odd types and missing fields, and
// checks every migrated field, then that a rerun updates in place.
func TestMigrateV2(t *testing.T) {
	srv := synctest.Start(t)
	db := srv.Client(t).Database("paperlib")
	lib := t.TempDir()
	s := testutil.OpenStore(t)
	added := time.Date(2023, 3, 4, 5, 6, 7, 0, time.UTC)

	seed(t, db, CollTags,
		bson.D{{Key: "_id", Value: oid(t, tg1)}, {Key: "_partition", Value: "u1"}, {Key: "name", Value: "ml"}, {Key: "count", Value: 2}, {Key: "color", Value: "red"}},
		bson.D{{Key: "_id", Value: oid(t, tg2)}, {Key: "name", Value: "to read/now"}, {Key: "count", Value: 1}})
	seed(t, db, CollFolders,
		bson.D{{Key: "_id", Value: oid(t, fd1)}, {Key: "name", Value: "thesis"}, {Key: "count", Value: 1}})
	writePDF(t, lib, "papers/Attention_is_all_you_need_"+id1+"_main.pdf", "1")
	writePDF(t, lib, "moved/elsewhere/Paxos_made_simple_"+id2+"_main.pdf", "2")
	writePDF(t, lib, "Lamport_1978_Time Clocks and the Ordering.pdf", "8")
	writePDF(t, lib, "scanned.pdf", "9")
	scanned, err := s.Create(meta.Paper{Title: "scanned", Tags: []string{"mine"}, File: meta.File{Path: "scanned.pdf", Size: 13}})
	if err != nil {
		t.Fatal(err)
	}
	seed(t, db, CollPapers,
		// Every field, as Paperlib 2 wrote it.
		bson.D{{Key: "_id", Value: oid(t, id1)}, {Key: "id", Value: oid(t, id1)}, {Key: "_partition", Value: "u1"},
			{Key: "addTime", Value: bson.NewDateTimeFromTime(added)}, {Key: "title", Value: "Attention is all you need"},
			{Key: "authors", Value: "Ashish Vaswani, Noam Shazeer,  Niki Parmar"}, {Key: "publication", Value: "NeurIPS"},
			{Key: "pubTime", Value: "2017"}, {Key: "pubType", Value: int32(1)}, {Key: "doi", Value: "10.5555/3295222.3295349"},
			{Key: "arxiv", Value: "1706.03762"}, {Key: "mainURL", Value: "papers/Attention_is_all_you_need_" + id1 + "_main.pdf"},
			{Key: "supURLs", Value: bson.A{"papers/sup/code.zip", "/etc/passwd"}}, {Key: "rating", Value: int32(5)},
			{Key: "tags", Value: bson.A{oid(t, tg1), oid(t, tg2)}}, {Key: "folders", Value: bson.A{oid(t, fd1)}},
			{Key: "flag", Value: true}, {Key: "note", Value: "read twice\nsee appendix"}, {Key: "codes", Value: bson.A{}},
			{Key: "pages", Value: "5998--6008"}, {Key: "volume", Value: ""}, {Key: "number", Value: ""}, {Key: "publisher", Value: ""}},
		// The PDF moved; its name still holds the id.
		bson.D{{Key: "_id", Value: oid(t, id2)}, {Key: "title", Value: "Paxos made\nsimple"}, {Key: "authors", Value: "Leslie Lamport"},
			{Key: "publication", Value: "ACM SIGACT News"}, {Key: "pubTime", Value: "2001"}, {Key: "pubType", Value: int32(0)},
			{Key: "mainURL", Value: "old/Paxos_made_simple_" + id2 + "_main.pdf"}, {Key: "rating", Value: int32(0)}, {Key: "flag", Value: false},
			{Key: "tags", Value: bson.A{}}, {Key: "folders", Value: bson.A{}}},
		// The PDF is nowhere.
		bson.D{{Key: "_id", Value: oid(t, id3)}, {Key: "title", Value: "Gone"}, {Key: "authors", Value: ""},
			{Key: "mainURL", Value: "gone/Gone_" + id3 + "_main.pdf"}, {Key: "pubType", Value: int32(3)}, {Key: "publisher", Value: "MIT Press"}},
		// Odd types.
		bson.D{{Key: "_id", Value: oid(t, id4)}, {Key: "title", Value: "Odd types"}, {Key: "authors", Value: bson.A{"Ann Smith", "Bob Jones"}},
			{Key: "pubTime", Value: int32(2019)}, {Key: "pubType", Value: "1"}, {Key: "rating", Value: 4.0}, {Key: "flag", Value: int32(1)},
			{Key: "addTime", Value: "2021-02-03T04:05:06Z"}, {Key: "tags", Value: bson.A{tg1, "a name", "75a1b2c3d4e5f60718293bff"}},
			{Key: "folders", Value: "thesis"}},
		// Almost nothing.
		bson.D{{Key: "_id", Value: oid(t, id5)}, {Key: "title", Value: "Bare"}},
		// Values out of range and fields paperfs has no place for.
		bson.D{{Key: "_id", Value: oid(t, id6)}, {Key: "title", Value: "Out of range"}, {Key: "pubType", Value: int32(7)},
			{Key: "rating", Value: int64(9)}, {Key: "arxiv", Value: "arXiv:2101.00001v3"}, {Key: "pubTime", Value: "n.d."},
			{Key: "pages", Value: "1-10"}, {Key: "codes", Value: bson.A{"https://github.com/x/y"}}, {Key: "volume", Value: "3"},
			{Key: "publisher", Value: "ACM"}, {Key: "customField", Value: "x"}},
		// An id that is not an ObjectId.
		bson.D{{Key: "_id", Value: "Weird ID!"}, {Key: "title", Value: "Weird"}},
		// Renamed by a custom pattern, no mainURL.
		bson.D{{Key: "_id", Value: oid(t, id8)}, {Key: "title", Value: "Time, Clocks, and the Ordering"}, {Key: "authors", Value: "Leslie Lamport"},
			{Key: "pubTime", Value: "1978"}},
		// Its PDF was indexed by a scan before the migration.
		bson.D{{Key: "_id", Value: oid(t, id9)}, {Key: "title", Value: "Scanned before"}, {Key: "mainURL", Value: "scanned.pdf"},
			{Key: "tags", Value: bson.A{oid(t, tg1)}}},
	)

	data, err := Read(context.Background(), db, "")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Migrate(context.Background(), s, data, Options{Library: lib, Pattern: "{firstauthor}_{year}_{title}"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("report: %+v", rep)

	if len(rep.Imported) != 8 || len(rep.Updated) != 0 || rep.Merged[id9] != scanned.ID || rep.PDFsFound != 4 || len(rep.PDFsMissing) != 5 || len(rep.Skipped) != 0 {
		t.Errorf("report: imported %d, updated %d, merged %v, found %d, missing %v, skipped %v",
			len(rep.Imported), len(rep.Updated), rep.Merged, rep.PDFsFound, rep.PDFsMissing, rep.Skipped)
	}
	for f, n := range map[string]int{"PaperEntity.pages": 2, "PaperEntity.codes": 1, "PaperEntity.volume": 1,
		"PaperEntity.publisher": 1, "PaperEntity.customField": 1, "PaperTag.color": 1} {
		if rep.Unmapped[f] != n {
			t.Errorf("unmapped %s: %d, want %d (all: %v)", f, rep.Unmapped[f], n, rep.Unmapped)
		}
	}
	for _, want := range []string{"pubTime: 2019 is a int32", "rating: 9 is outside 0-5", "pubType: 7 is not one Paperlib defines",
		`pubTime: "n.d." is not a year`, "flag: 1 is a int32", "75a1b2c3d4e5f60718293bff refers to no tag", "folders: a string, not a list",
		`supURLs: "/etc/passwd" is not a path inside the library folder`, `"to read/now" is called "to read-now"`, "the id is not one paperfs can keep"} {
		if !slices.ContainsFunc(rep.Problems, func(p string) bool { return strings.Contains(p, want) }) {
			t.Errorf("no problem reported like %q in:\n%s", want, strings.Join(rep.Problems, "\n"))
		}
	}

	pdf := func(rel string) meta.File {
		sum, size, err := library.HashFile(filepath.Join(lib, rel))
		if err != nil {
			t.Fatal(err)
		}
		return meta.File{Path: rel, Size: size, SHA256: sum}
	}
	check(t, s, id1, meta.Paper{CiteKey: "vaswani2017attention", Title: "Attention is all you need", Authors: []string{"Ashish Vaswani", "Noam Shazeer", "Niki Parmar"},
		Year: 2017, Venue: "NeurIPS", Type: meta.Conference, DOI: "10.5555/3295222.3295349", ArXiv: "1706.03762",
		Tags: []string{"ml", "to read-now"}, Folders: []string{"thesis"}, Rating: 5, Flag: true, Note: "read twice\nsee appendix",
		File: pdf("papers/Attention_is_all_you_need_" + id1 + "_main.pdf"), Supplementary: []string{"papers/sup/code.zip"}, Added: added})
	check(t, s, id2, meta.Paper{CiteKey: "lamport2001paxos", Title: "Paxos made simple", Authors: []string{"Leslie Lamport"}, Year: 2001, Venue: "ACM SIGACT News",
		Type: meta.Article, File: pdf("moved/elsewhere/Paxos_made_simple_" + id2 + "_main.pdf")})
	check(t, s, id3, meta.Paper{CiteKey: "gone", Title: "Gone", Type: meta.Book, Venue: "MIT Press", File: meta.File{Path: "gone/Gone_" + id3 + "_main.pdf"}, Missing: true})
	check(t, s, id4, meta.Paper{CiteKey: "smith2019odd", Title: "Odd types", Authors: []string{"Ann Smith", "Bob Jones"}, Year: 2019, Type: meta.Conference,
		Rating: 4, Flag: true, Tags: []string{"a name", "ml"}, Added: time.Date(2021, 2, 3, 4, 5, 6, 0, time.UTC)})
	check(t, s, id5, meta.Paper{CiteKey: "bare", Title: "Bare", Type: meta.Article})
	check(t, s, id6, meta.Paper{CiteKey: "out", Title: "Out of range", Type: meta.Other, Rating: 5, ArXiv: "2101.00001"})
	check(t, s, id8, meta.Paper{CiteKey: "lamport1978time", Title: "Time, Clocks, and the Ordering", Authors: []string{"Leslie Lamport"}, Year: 1978, Type: meta.Article,
		File: pdf("Lamport_1978_Time Clocks and the Ordering.pdf")})
	check(t, s, scanned.ID, meta.Paper{Title: "Scanned before", Type: meta.Article, Tags: []string{"mine", "ml"}, File: meta.File{Path: "scanned.pdf", Size: 13}})
	weird := ""
	s.ForEach(func(p meta.Paper) bool {
		if p.Title == "Weird" {
			weird = p.ID
		}
		return true
	})
	if len(weird) != 24 {
		t.Errorf("paper with a string id: %q", weird)
	}

	// A rerun, after an edit in Paperlib's data and the missing PDF's
	// arrival, updates in place.
	if _, err := db.Collection(CollPapers).UpdateOne(context.Background(), bson.D{{Key: "_id", Value: oid(t, id5)}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "title", Value: "Bare, edited"}}}}); err != nil {
		t.Fatal(err)
	}
	writePDF(t, lib, "gone/Gone_"+id3+"_main.pdf", "3")
	data, err = Read(context.Background(), db, "")
	if err != nil {
		t.Fatal(err)
	}
	rep, err = Migrate(context.Background(), s, data, Options{Library: lib, Pattern: "{firstauthor}_{year}_{title}"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Imported) != 0 || len(rep.Updated) != 8 || rep.PDFsFound != 5 {
		t.Errorf("rerun: imported %v, updated %d, found %d", rep.Imported, len(rep.Updated), rep.PDFsFound)
	}
	n := 0
	s.ForEach(func(meta.Paper) bool { n++; return true })
	if n != 9 {
		t.Errorf("%d papers after a rerun, want 9", n)
	}
	check(t, s, id5, meta.Paper{CiteKey: "bare", Title: "Bare, edited", Type: meta.Article})
	check(t, s, id3, meta.Paper{CiteKey: "gone", Title: "Gone", Type: meta.Book, Venue: "MIT Press", File: pdf("gone/Gone_" + id3 + "_main.pdf")})
}

// TestMigrateV3 is a Paperlib 3 library: tags and folders nested under
// roots named "Tags" and "Folders".
func TestMigrateV3(t *testing.T) {
	srv := synctest.Start(t)
	db := srv.Client(t).Database("paperlib3")
	s := testutil.OpenStore(t)
	h := func(n string) bson.ObjectID { return oid(t, "95a1b2c3d4e5f60718293d"+n) }
	seed(t, db, CollTags,
		bson.D{{Key: "_id", Value: h("00")}, {Key: "name", Value: "Tags"}, {Key: "children", Value: bson.A{h("01"), h("02")}}},
		bson.D{{Key: "_id", Value: h("01")}, {Key: "name", Value: "nlp"}, {Key: "children", Value: bson.A{h("03")}}, {Key: "color", Value: "blue"}},
		bson.D{{Key: "_id", Value: h("02")}, {Key: "name", Value: "vision"}, {Key: "children", Value: bson.A{h("04")}}},
		bson.D{{Key: "_id", Value: h("03")}, {Key: "name", Value: "datasets"}, {Key: "children", Value: bson.A{}}},
		bson.D{{Key: "_id", Value: h("04")}, {Key: "name", Value: "datasets"}},
		bson.D{{Key: "_id", Value: h("05")}, {Key: "name", Value: ""}})
	seed(t, db, CollFolders,
		bson.D{{Key: "_id", Value: h("10")}, {Key: "name", Value: "Folders"}, {Key: "children", Value: bson.A{h("11")}}},
		bson.D{{Key: "_id", Value: h("11")}, {Key: "name", Value: "Tags"}, {Key: "children", Value: bson.A{h("12")}}},
		bson.D{{Key: "_id", Value: h("12")}, {Key: "name", Value: "reading"}})
	seed(t, db, CollPapers,
		bson.D{{Key: "_id", Value: oid(t, id1)}, {Key: "title", Value: "Nested"}, {Key: "authors", Value: "A B"},
			{Key: "tags", Value: bson.A{h("01"), h("03"), h("04"), h("05")}}, {Key: "folders", Value: bson.A{h("11"), h("12")}}},
		bson.D{{Key: "_id", Value: oid(t, id2)}, {Key: "title", Value: "Embedded"},
			{Key: "tags", Value: bson.A{bson.D{{Key: "_id", Value: h("02")}, {Key: "name", Value: "vision"}}}}})
	data, err := Read(context.Background(), db, "")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Migrate(context.Background(), s, data, Options{Library: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Imported) != 2 || rep.Unmapped["PaperTag.color"] != 1 {
		t.Errorf("report: %+v", rep)
	}
	check(t, s, id1, meta.Paper{CiteKey: "bnested", Title: "Nested", Authors: []string{"A B"}, Type: meta.Article,
		Tags:    []string{"95a1b2c3d4e5f60718293d05", "nlp", "nlp - datasets", "vision - datasets"},
		Folders: []string{"Tags", "reading"}})
	check(t, s, id2, meta.Paper{CiteKey: "embedded", Title: "Embedded", Type: meta.Article, Tags: []string{"vision"}})
	gs, _ := s.Groups(meta.Tags)
	for _, g := range gs {
		if g.Name == "Tags" || g.Name == "Folders" {
			t.Errorf("a root became a tag: %v", gs)
		}
	}
}

func TestReadErrors(t *testing.T) {
	srv := synctest.Start(t)
	db := srv.Client(t).Database("notpaperlib")
	seed(t, db, "other", bson.D{{Key: "x", Value: 1}})
	_, err := Read(context.Background(), db, "")
	if err == nil || !strings.Contains(err.Error(), "no PaperEntity collection (it has: other)") {
		t.Errorf("wrong database: %v", err)
	}
	_, err = Connect(context.Background(), "mongodb://user:s3cret-pw@127.0.0.1:1/?serverSelectionTimeoutMS=200")
	if err == nil || strings.Contains(err.Error(), "s3cret-pw") || !strings.Contains(err.Error(), "***") {
		t.Errorf("bad server: %v", err)
	}
}
