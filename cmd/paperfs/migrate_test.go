//go:build !windows

package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paperfs/paperfs/meta/testutil"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/paperfs/paperfs/meta/bibtex"
	"github.com/paperfs/paperfs/sync/synctest"
)

func TestMigrateBibtexAndExport(t *testing.T) {
	e := newEnv(t)
	testutil.WritePDF(t, filepath.Join(e.lib, "pdfs", "lamport.pdf"), "l")
	bib := filepath.Join(t.TempDir(), "refs.bib")
	os.WriteFile(bib, []byte(`@article{lamport1978time,
  title = {Time, Clocks, and the Ordering of Events in a Distributed System},
  author = {Lamport, Leslie}, journal = {Comm. ACM}, year = 1978, pages = {558--565},
  file = {:pdfs/lamport.pdf:PDF}}
@misc{vaswani2017attention, title = {Attention Is All You Need}, author = {Vaswani, Ashish},
  eprint = {1706.03762}, archivePrefix = {arXiv}, year = {2017}}
@misc{broken, title = {no end
`), 0o644)
	out := e.run("migrate", "bibtex", "--tag", "thesis", bib)
	if !strings.Contains(out, "imported 2, updated 0, errors 1") || !strings.Contains(out, "pages (1)") || !strings.Contains(out, "refs.bib: line 7") {
		t.Fatalf("migrate bibtex: %s", out)
	}
	if out := e.run("migrate", "bibtex", bib); !strings.Contains(out, "imported 0, updated 2") {
		t.Fatalf("rerun: %s", out)
	}
	// The linked PDF is the paper's: a scan finds nothing new.
	if out := e.run("scan"); !strings.Contains(out, "1 PDFs: 0 new") {
		t.Fatalf("scan after import: %s", out)
	}

	out = e.run("export")
	entries, errs := bibtex.Parse([]byte(out))
	if len(errs) > 0 || len(entries) != 2 || entries[0].Key != "lamport1978time" || entries[1].Key != "vaswani2017attention" {
		t.Fatalf("export: %v\n%s", errs, out)
	}
	out = e.run("export", "--format", "csl-json", "--tag", "thesis")
	var items []map[string]any
	if err := json.Unmarshal([]byte(out), &items); err != nil || len(items) != 2 || items[1]["type"] != "article" {
		t.Fatalf("csl-json: %v\n%s", err, out)
	}
	if out, err := e.cmd("export", "--tag", "nope").CombinedOutput(); err == nil || !strings.Contains(string(out), `no paper has the tag "nope"`) {
		t.Fatalf("unknown tag: %v %s", err, out)
	}
	if out, err := e.cmd("export", "--format", "ris").CombinedOutput(); err == nil || !strings.Contains(string(out), "bibtex or csl-json") {
		t.Fatalf("bad format: %v %s", err, out)
	}
}

func TestMigratePaperlib(t *testing.T) {
	srv := synctest.Start(t)
	db := srv.Client(t).Database("paperlib")
	id, _ := bson.ObjectIDFromHex("65a1b2c3d4e5f60718293a41")
	tag, _ := bson.ObjectIDFromHex("75a1b2c3d4e5f60718293b01")
	if _, err := db.Collection("PaperTag").InsertOne(context.Background(), bson.D{{Key: "_id", Value: tag}, {Key: "name", Value: "ml"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection("PaperEntity").InsertOne(context.Background(), bson.D{{Key: "_id", Value: id},
		{Key: "title", Value: "Attention"}, {Key: "authors", Value: "Ashish Vaswani, Noam Shazeer"}, {Key: "pubTime", Value: "2017"},
		{Key: "pubType", Value: int32(1)}, {Key: "mainURL", Value: "Attention_" + id.Hex() + "_main.pdf"},
		{Key: "tags", Value: bson.A{tag}}, {Key: "pages", Value: "1-2"}}); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	testutil.WritePDF(t, filepath.Join(e.lib, "Attention_"+id.Hex()+"_main.pdf"), "a")
	c := e.cmd("migrate", "paperlib")
	c.Env = append(c.Env, "PAPERFS_PAPERLIB_URI="+srv.URI)
	out, err := c.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "imported 1, updated 0, merged into scanned papers 0, PDFs found 1, PDFs missing 0") ||
		!strings.Contains(string(out), "PaperEntity.pages (1)") {
		t.Fatalf("migrate paperlib: %v\n%s", err, out)
	}
	c = e.cmd("migrate", "paperlib", "--uri", srv.URI)
	if out, err := c.CombinedOutput(); err != nil || !strings.Contains(string(out), "imported 0, updated 1") {
		t.Fatalf("rerun: %v\n%s", err, out)
	}
	// A conference paper with no venue is cited as @misc, which bibtex
	// takes without a warning (@inproceedings needs a booktitle).
	if out := e.run("export"); !strings.Contains(out, "@misc{vaswani2017attention,") {
		t.Fatalf("export after migration:\n%s", out)
	}
	// Credentials never reach the output, even in errors.
	c = e.cmd("migrate", "paperlib")
	c.Env = append(c.Env, "PAPERFS_PAPERLIB_URI=mongodb://me:hunter2-secret@127.0.0.1:1/?serverSelectionTimeoutMS=300")
	out, err = c.CombinedOutput()
	if err == nil || strings.Contains(string(out), "hunter2-secret") || !strings.Contains(string(out), "mongodb://***@127.0.0.1:1") {
		t.Fatalf("bad cluster: %v\n%s", err, out)
	}
	if out, err := e.cmd("migrate", "paperlib").CombinedOutput(); err == nil || !strings.Contains(string(out), "PAPERFS_PAPERLIB_URI") {
		t.Fatalf("no URI: %v\n%s", err, out)
	}
}
