package sync

import (
	"context"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/sync/synctest"
)

func TestTwoDevices(t *testing.T) {
	srv := synctest.Start(t)
	db := dbName(t)
	a := newDevice(t, "deva01", srv.URI, db)
	b := newDevice(t, "devb01", srv.URI, db)

	p := a.create(meta.Paper{Title: "Time, Clocks, and the Ordering of Events <1978>", Authors: []string{"Leslie Lamport"},
		Year: 1978, Tags: []string{"clocks", "classic"}, Folders: []string{"$dist.sys"},
		Confidence: map[string]float64{"title": 0.9, "year": 1}, File: meta.File{Path: "lamport.pdf", Size: 12345}})
	if rep := a.sync(); rep.Sent != 1 {
		t.Fatalf("a sent %d, want 1", rep.Sent)
	}
	if rep := b.sync(); rep.Received != 1 {
		t.Fatalf("b received %d, want 1", rep.Received)
	}
	assertConverged(t, a, b)

	b.update(p.ID, func(p *meta.Paper) { p.Note = "read it"; p.Tags = []string{"classic"} })
	b.sync()
	a.sync()
	got := a.get(p.ID)
	if got.Note != "read it" || !slices.Equal(got.Tags, []string{"classic"}) {
		t.Fatalf("a sees %+v", got)
	}
	assertConverged(t, a, b)

	// Nothing pending, nothing new: a round is a no-op.
	if rep := a.sync(); rep.Sent != 0 || rep.Received != 0 {
		t.Fatalf("idle round did %+v", rep)
	}
	st := a.eng.Status()
	if !st.Connected || st.Pending != 0 || st.LastSync.IsZero() || st.LastError != "" {
		t.Fatalf("status %+v", st)
	}

	// The readable document is current.
	c := srv.Client(t)
	var doc bson.M
	if err := c.Database(db).Collection(papersColl).FindOne(context.Background(), bson.D{{Key: "_id", Value: p.ID}}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc["note"] != "read it" || doc["title"] != p.Title {
		t.Fatalf("papers doc %v", doc)
	}
	// And the op documents are readable.
	var op struct {
		Set struct {
			Title string `bson:"title"`
			Year  any    `bson:"year"`
		} `bson:"set"`
	}
	if err := c.Database(db).Collection(opsColl).FindOne(context.Background(), bson.D{{Key: "_id", Value: "deva01:1"}}).Decode(&op); err != nil {
		t.Fatal(err)
	}
	if op.Set.Title != p.Title || op.Set.Year != int32(1978) {
		t.Fatalf("op doc %+v", op)
	}
}

// TestPapersVersion checks the conditional upsert: an older version
// never replaces a newer one, on this server.
func TestPapersVersion(t *testing.T) {
	srv := synctest.Start(t)
	db := dbName(t)
	a := newDevice(t, "deva01", srv.URI, db)
	p := a.create(meta.Paper{Title: "v1"})
	a.sync()
	ctx := context.Background()
	write := func(title string, v int64) {
		t.Helper()
		p.Title = title
		if err := a.eng.writePaperChunk(ctx, []bson.D{paperDoc(&p, meta.LastEdit{}, v, "x", time.Now())}, v); err != nil {
			t.Fatal(err)
		}
	}
	write("v10", 10)
	write("v5", 5)
	write("v10b", 10)
	var doc struct {
		Title string `bson:"title"`
		V     int64  `bson:"_v"`
	}
	coll := srv.Client(t).Database(db).Collection(papersColl)
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: p.ID}}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.Title != "v10" || doc.V != 10 {
		t.Fatalf("got %+v, want v10 at 10", doc)
	}
	write("v11", 11)
	coll.FindOne(ctx, bson.D{{Key: "_id", Value: p.ID}}).Decode(&doc)
	if doc.Title != "v11" {
		t.Fatalf("got %+v, want v11", doc)
	}
}
