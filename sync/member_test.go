package sync

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/sync/synctest"
)

// lastEditDoc is the "modified_by" part of a readable paper document.
type lastEditDoc struct {
	ModifiedBy struct {
		Member string    `bson:"member"`
		Device string    `bson:"device"`
		At     time.Time `bson:"at"`
	} `bson:"modified_by"`
	Modified time.Time `bson:"modified"`
}

func readLastEdit(t *testing.T, srv *synctest.Server, db, id string) lastEditDoc {
	t.Helper()
	var d lastEditDoc
	if err := srv.Client(t).Database(db).Collection(papersColl).FindOne(context.Background(), bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		t.Fatal(err)
	}
	return d
}

// Device b's history names the member who made each of a's ops, the ops
// carry it on the server, the readable document says who changed the
// paper last, and a member name the server holds that no paperfs would
// write is cleaned, not trusted.
func TestMembersThroughServer(t *testing.T) {
	srv := synctest.Start(t)
	db := dbName(t)
	a := newDevice(t, "deva01", srv.URI, db)
	b := newDevice(t, "devb01", srv.URI, db)
	a.store.SetMember("Ada Lovelace")
	b.store.SetMember("bob")

	p := a.create(meta.Paper{Title: "Sketch of the Analytical Engine", Year: 1842})
	a.update(p.ID, func(p *meta.Paper) {
		p.Title = "Sketch of the Analytical Engine, with Notes"
		p.Tags = []string{"history"}
	})
	a.sync()
	b.sync()

	es, err := b.store.History(p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 {
		t.Fatalf("b recorded %d entries of a's 2 ops: %+v", len(es), es)
	}
	edit := es[0]
	if edit.Member != "Ada Lovelace" || edit.Clock.Device != "deva01" || !edit.Remote {
		t.Fatalf("a's edit as b recorded it: %+v", edit)
	}
	var title *meta.FieldChange
	for i := range edit.Changes {
		if edit.Changes[i].Field == "title" {
			title = &edit.Changes[i]
		}
	}
	if title == nil || title.Old != `"Sketch of the Analytical Engine"` || title.New != `"Sketch of the Analytical Engine, with Notes"` {
		t.Fatalf("title change on b: %+v", edit.Changes)
	}
	if !es[1].Created || es[1].Member != "Ada Lovelace" {
		t.Fatalf("a's create on b: %+v", es[1])
	}

	var op struct {
		Member string `bson:"member"`
	}
	if err := srv.Client(t).Database(db).Collection(opsColl).FindOne(context.Background(), bson.D{{Key: "_id", Value: "deva01:2"}}).Decode(&op); err != nil {
		t.Fatal(err)
	}
	if op.Member != "Ada Lovelace" {
		t.Fatalf("the op on the server is by %q", op.Member)
	}
	d := readLastEdit(t, srv, db, p.ID)
	if d.ModifiedBy.Member != "Ada Lovelace" || d.ModifiedBy.Device != "deva01" || !d.ModifiedBy.At.Equal(d.Modified) {
		t.Fatalf("papers document after a's edit: %+v", d)
	}

	b.update(p.ID, func(p *meta.Paper) { p.Rating = 5 })
	b.sync()
	a.sync()
	d = readLastEdit(t, srv, db, p.ID)
	if d.ModifiedBy.Member != "bob" || d.ModifiedBy.Device != "devb01" || !d.ModifiedBy.At.Equal(b.get(p.ID).Modified.Truncate(time.Millisecond)) {
		t.Fatalf("papers document after b's edit: %+v", d)
	}

	// Anyone who may write the database may write any member name.
	long := "\x1b[2J" + strings.Repeat("mallory ", 40)
	bad := bson.D{{Key: "_id", Value: "devx01:1"}, {Key: "device", Value: "devx01"}, {Key: "seq", Value: int64(1)},
		{Key: "clock", Value: bson.D{{Key: "w", Value: time.Now().UnixMilli()}, {Key: "l", Value: int64(0)}, {Key: "d", Value: "devx01"}}},
		{Key: "paper", Value: p.ID}, {Key: "set", Value: bson.D{{Key: "note", Value: "hi"}}}, {Key: "member", Value: long}}
	if _, err := srv.Client(t).Database(db).Collection(opsColl).InsertOne(context.Background(), bad); err != nil {
		t.Fatal(err)
	}
	dev := bson.D{{Key: "_id", Value: "devx01"}, {Key: "name", Value: "x"}, {Key: "maxSeq", Value: int64(1)}}
	if _, err := srv.Client(t).Database(db).Collection(devicesColl).InsertOne(context.Background(), dev); err != nil {
		t.Fatal(err)
	}
	b.sync()
	if got := b.get(p.ID); got.Note != "hi" {
		t.Fatalf("the op with a bad member was not applied: note %q", got.Note)
	}
	es, err = b.store.History(p.ID)
	if err != nil {
		t.Fatal(err)
	}
	m := es[0].Member
	if es[0].Op != "devx01:1" || len(m) > meta.MaxMemberBytes || !utf8.ValidString(m) || strings.ContainsAny(m, "\x1b\n") || !strings.HasPrefix(m, "[2Jmallory mallory") {
		t.Fatalf("member of an op from the server kept as %q", m)
	}
}
