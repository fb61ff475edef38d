package synctest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestFerretDBFeatures records what FerretDB 1.24 does with the operations
// a sync design might use, asserting what behaves as on MongoDB and
// logging the rest (go test -v -run Features ./sync/synctest). The
// results are summarised in this package's README.md.
func TestFerretDBFeatures(t *testing.T) {
	srv := Start(t)
	db := srv.Client(t).Database("features")
	ctx := ctxT(t, 2*time.Minute)

	t.Run("InsertManyOrderedDuplicate", func(t *testing.T) {
		coll := db.Collection("insertmany_ordered")
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "b"}}); err != nil {
			t.Fatal(err)
		}
		docs := []bson.D{{{Key: "_id", Value: "a"}}, {{Key: "_id", Value: "b"}}, {{Key: "_id", Value: "c"}}}
		res, err := coll.InsertMany(ctx, docs)
		n, _ := coll.CountDocuments(ctx, bson.D{})
		t.Logf("FINDING insertMany ordered [a, b(dup), c]: %s; InsertedIDs=%v; collection now has %d docs (1 before)",
			describe(err), insertedIDs(res), n)
		if !mongo.IsDuplicateKeyError(err) {
			t.Errorf("want a duplicate key error, got %v", err)
		}
		if n != 2 {
			t.Errorf("ordered insert should stop at the duplicate: %d docs, want 2", n)
		}
	})

	t.Run("InsertManyUnorderedDuplicate", func(t *testing.T) {
		coll := db.Collection("insertmany_unordered")
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "b"}}); err != nil {
			t.Fatal(err)
		}
		docs := []bson.D{{{Key: "_id", Value: "a"}}, {{Key: "_id", Value: "b"}}, {{Key: "_id", Value: "c"}}}
		res, err := coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
		n, _ := coll.CountDocuments(ctx, bson.D{})
		t.Logf("FINDING insertMany unordered [a, b(dup), c]: %s; InsertedIDs=%v; collection now has %d docs (1 before)",
			describe(err), insertedIDs(res), n)
		if !mongo.IsDuplicateKeyError(err) {
			t.Errorf("want a duplicate key error, got %v", err)
		}
		if n != 3 {
			t.Errorf("unordered insert should skip only the duplicate: %d docs, want 3", n)
		}
	})

	t.Run("UpsertWithLtFilter", func(t *testing.T) {
		coll := db.Collection("upsert")
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "p1"}, {Key: "hlc", Value: 10}, {Key: "title", Value: "old"}}); err != nil {
			t.Fatal(err)
		}
		filter := func(hlc int) bson.D {
			return bson.D{{Key: "_id", Value: "p1"}, {Key: "hlc", Value: bson.D{{Key: "$lt", Value: hlc}}}}
		}

		// Newer write: the filter matches, the document is updated.
		res, err := coll.UpdateOne(ctx, filter(20),
			bson.D{{Key: "$set", Value: bson.D{{Key: "hlc", Value: 20}, {Key: "title", Value: "new"}}},
				{Key: "$setOnInsert", Value: bson.D{{Key: "created", Value: true}}}},
			options.UpdateOne().SetUpsert(true))
		t.Logf("FINDING updateOne upsert $set+$setOnInsert, filter {_id, hlc: {$lt: 20}} on hlc=10: %s; %s", describe(err), updateResult(res))
		if err != nil || res.ModifiedCount != 1 {
			t.Errorf("newer write should update: %v %+v", err, res)
		}

		// Stale write: the filter doesn't match the existing document, so
		// the upsert tries to insert the same _id.
		res, err = coll.UpdateOne(ctx, filter(5),
			bson.D{{Key: "$set", Value: bson.D{{Key: "hlc", Value: 5}, {Key: "title", Value: "stale"}}}},
			options.UpdateOne().SetUpsert(true))
		t.Logf("FINDING updateOne upsert, filter {_id, hlc: {$lt: 5}} on hlc=20 (no match): %s; %s", describe(err), updateResult(res))
		if !mongo.IsDuplicateKeyError(err) {
			t.Errorf("stale upsert: want a duplicate key error as on MongoDB, got %v", err)
		}

		rres, err := coll.ReplaceOne(ctx, filter(5),
			bson.D{{Key: "_id", Value: "p1"}, {Key: "hlc", Value: 5}, {Key: "title", Value: "stale"}},
			options.Replace().SetUpsert(true))
		t.Logf("FINDING replaceOne upsert, filter {_id, hlc: {$lt: 5}} on hlc=20 (no match): %s; %s", describe(err), updateResult(rres))
		if !mongo.IsDuplicateKeyError(err) {
			t.Errorf("stale replace: want a duplicate key error as on MongoDB, got %v", err)
		}

		var got bson.M
		if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "p1"}}).Decode(&got); err != nil {
			t.Fatal(err)
		}
		t.Logf("FINDING document after the stale writes: %v", got)
		if got["title"] != "new" {
			t.Errorf("a stale write changed the document: %v", got)
		}

		// No document yet: the upsert inserts, with $setOnInsert fields.
		res, err = coll.UpdateOne(ctx,
			bson.D{{Key: "_id", Value: "p2"}, {Key: "hlc", Value: bson.D{{Key: "$lt", Value: 7}}}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "hlc", Value: 7}}},
				{Key: "$setOnInsert", Value: bson.D{{Key: "created", Value: true}}}},
			options.UpdateOne().SetUpsert(true))
		got = nil
		_ = coll.FindOne(ctx, bson.D{{Key: "_id", Value: "p2"}}).Decode(&got)
		t.Logf("FINDING updateOne upsert on a missing _id: %s; %s; inserted %v", describe(err), updateResult(res), got)
		if err != nil || got["created"] != true || got["hlc"] != int32(7) {
			t.Errorf("upsert of a new document: %v %v", err, got)
		}
	})

	t.Run("SortedRangeWithIndex", func(t *testing.T) {
		coll := db.Collection("changes")
		name, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "device", Value: 1}, {Key: "seq", Value: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		var docs []change
		for _, dev := range []string{"devB", "devA"} {
			for seq := int64(20); seq >= 1; seq-- {
				docs = append(docs, change{ID: fmt.Sprintf("%s:%d", dev, seq), Device: dev, Seq: seq})
			}
		}
		if _, err := coll.InsertMany(ctx, docs); err != nil {
			t.Fatal(err)
		}
		filter := bson.D{{Key: "device", Value: "devA"}, {Key: "seq", Value: bson.D{{Key: "$gt", Value: 15}}}}
		cur, err := coll.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "seq", Value: 1}}).SetBatchSize(2))
		if err != nil {
			t.Fatal(err)
		}
		var got []change
		if err := cur.All(ctx, &got); err != nil {
			t.Fatal(err)
		}
		var seqs []int64
		for _, c := range got {
			seqs = append(seqs, c.Seq)
			if c.Device != "devA" {
				t.Errorf("wrong device: %+v", c)
			}
		}
		t.Logf("FINDING find {device: devA, seq: {$gt: 15}} sort {seq: 1} batch 2 with index %s: seqs %v", name, seqs)
		if fmt.Sprint(seqs) != "[16 17 18 19 20]" {
			t.Errorf("seqs %v, want [16 17 18 19 20]", seqs)
		}

		var explain bson.M
		err = db.RunCommand(ctx, bson.D{{Key: "explain", Value: bson.D{
			{Key: "find", Value: "changes"}, {Key: "filter", Value: filter}, {Key: "sort", Value: bson.D{{Key: "seq", Value: 1}}},
		}}}).Decode(&explain)
		t.Logf("FINDING explain of that find: err=%v; filterPushdown=%v sortPushdown=%v queryPlanner=%v",
			err, explain["filterPushdown"], explain["sortPushdown"], explain["queryPlanner"])

		// Which filters does the SQLite backend push down at all?
		for _, f := range []bson.D{
			{{Key: "device", Value: "devA"}},
			{{Key: "_id", Value: "devA:5"}},
			{{Key: "_id", Value: bson.D{{Key: "$gt", Value: "devA:5"}}}},
		} {
			explain = nil
			err = db.RunCommand(ctx, bson.D{{Key: "explain", Value: bson.D{
				{Key: "find", Value: "changes"}, {Key: "filter", Value: f},
			}}}).Decode(&explain)
			t.Logf("FINDING explain find %v: err=%v; filterPushdown=%v queryPlanner=%v",
				f, err, explain["filterPushdown"], explain["queryPlanner"])
		}
	})

	t.Run("InsertMany10k", func(t *testing.T) {
		coll := db.Collection("big")
		docs := make([]change, 10000)
		for i := range docs {
			docs[i] = change{ID: fmt.Sprintf("devA:%d", i), Device: "devA", Seq: int64(i), Field: "title"}
		}
		start := time.Now()
		if _, err := coll.InsertMany(ctx, docs); err != nil {
			t.Fatal(err)
		}
		ins := time.Since(start)
		start = time.Now()
		cur, err := coll.Find(ctx, bson.D{{Key: "device", Value: "devA"}, {Key: "seq", Value: bson.D{{Key: "$gte", Value: 5000}}}})
		if err != nil {
			t.Fatal(err)
		}
		var got []change
		if err := cur.All(ctx, &got); err != nil {
			t.Fatal(err)
		}
		t.Logf("FINDING insertMany of 10k small docs: %v; find of the 5k newest by {device, seq: {$gte}}: %v (%d docs)",
			ins.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), len(got))
	})

	t.Run("CompoundUniqueIndex", func(t *testing.T) {
		coll := db.Collection("unique")
		name, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{
			Keys:    bson.D{{Key: "device", Value: 1}, {Key: "seq", Value: 1}},
			Options: options.Index().SetUnique(true),
		})
		t.Logf("FINDING createIndexes {device: 1, seq: 1} unique: name %q, %s", name, describe(err))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := coll.InsertOne(ctx, change{ID: "x1", Device: "devA", Seq: 1}); err != nil {
			t.Fatal(err)
		}
		_, err = coll.InsertOne(ctx, change{ID: "x2", Device: "devA", Seq: 1})
		t.Logf("FINDING insert violating the compound unique index: %s", describe(err))
		if !mongo.IsDuplicateKeyError(err) {
			t.Errorf("want a duplicate key error, got %v", err)
		}
		if _, err := coll.InsertOne(ctx, change{ID: "x3", Device: "devA", Seq: 2}); err != nil {
			t.Errorf("insert with a different seq: %v", err)
		}
	})

	t.Run("ChangeStreams", func(t *testing.T) {
		cs, err := db.Collection("changes").Watch(ctx, mongo.Pipeline{})
		if err == nil {
			cs.Close(ctx)
		}
		t.Logf("FINDING collection.Watch (change stream): %s", describe(err))
		cs, err = db.Watch(ctx, mongo.Pipeline{})
		if err == nil {
			cs.Close(ctx)
		}
		t.Logf("FINDING database.Watch (change stream): %s", describe(err))
	})

	t.Run("BulkWrite", func(t *testing.T) {
		coll := db.Collection("bulk")
		if _, err := coll.InsertMany(ctx, []bson.D{
			{{Key: "_id", Value: "u"}, {Key: "n", Value: 1}},
			{{Key: "_id", Value: "r"}, {Key: "n", Value: 1}},
			{{Key: "_id", Value: "d"}, {Key: "n", Value: 1}},
		}); err != nil {
			t.Fatal(err)
		}
		models := []mongo.WriteModel{
			mongo.NewInsertOneModel().SetDocument(bson.D{{Key: "_id", Value: "i"}}),
			mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: "u"}}).SetUpdate(bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}),
			mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: "new"}}).SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: 1}}}}).SetUpsert(true),
			mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: "r"}}).SetReplacement(bson.D{{Key: "n", Value: 9}}),
			mongo.NewDeleteOneModel().SetFilter(bson.D{{Key: "_id", Value: "d"}}),
		}
		res, err := coll.BulkWrite(ctx, models)
		t.Logf("FINDING collection.BulkWrite ordered [insert, update, upsert, replace, delete]: %s; %s", describe(err), bulkResult(res))
		if err != nil || res.InsertedCount != 1 || res.ModifiedCount != 2 || res.UpsertedCount != 1 || res.DeletedCount != 1 {
			t.Errorf("bulk write: %v %+v", err, res)
		}

		res, err = coll.BulkWrite(ctx, []mongo.WriteModel{
			mongo.NewInsertOneModel().SetDocument(bson.D{{Key: "_id", Value: "i"}}),
			mongo.NewInsertOneModel().SetDocument(bson.D{{Key: "_id", Value: "j"}}),
		}, options.BulkWrite().SetOrdered(false))
		t.Logf("FINDING collection.BulkWrite unordered [insert dup, insert new]: %s; %s", describe(err), bulkResult(res))
		if !mongo.IsDuplicateKeyError(err) {
			t.Errorf("want a duplicate key error, got %v", err)
		}

		cres, err := srv.Client(t).BulkWrite(ctx, []mongo.ClientBulkWrite{{
			Database: "features", Collection: "bulk",
			Model: mongo.NewClientInsertOneModel().SetDocument(bson.D{{Key: "_id", Value: "k"}}),
		}})
		t.Logf("FINDING client.BulkWrite (the MongoDB 8.0 bulkWrite command): %s; result %+v", describe(err), cres)
	})
}

// describe renders an error with the server's codes, for the findings.
func describe(err error) string {
	if err == nil {
		return "no error"
	}
	var bwe mongo.BulkWriteException
	if errors.As(err, &bwe) {
		s := fmt.Sprintf("BulkWriteException (duplicate key: %v) with %d write errors:", mongo.IsDuplicateKeyError(err), len(bwe.WriteErrors))
		for _, we := range bwe.WriteErrors {
			s += fmt.Sprintf(" [index %d code %d %q]", we.Index, we.Code, we.Message)
		}
		return s
	}
	var we mongo.WriteException
	if errors.As(err, &we) {
		s := fmt.Sprintf("WriteException (duplicate key: %v):", mongo.IsDuplicateKeyError(err))
		for _, e := range we.WriteErrors {
			s += fmt.Sprintf(" [code %d %q]", e.Code, e.Message)
		}
		return s
	}
	var ce mongo.CommandError
	if errors.As(err, &ce) {
		return fmt.Sprintf("CommandError code %d (%s): %s", ce.Code, ce.Name, ce.Message)
	}
	return fmt.Sprintf("%T: %v", err, err)
}

func insertedIDs(res *mongo.InsertManyResult) any {
	if res == nil {
		return "nil result"
	}
	return res.InsertedIDs
}

func updateResult(res *mongo.UpdateResult) string {
	if res == nil {
		return "nil result"
	}
	return fmt.Sprintf("matched %d modified %d upserted %d (id %v)", res.MatchedCount, res.ModifiedCount, res.UpsertedCount, res.UpsertedID)
}

func bulkResult(res *mongo.BulkWriteResult) string {
	if res == nil {
		return "nil result"
	}
	return fmt.Sprintf("inserted %d matched %d modified %d upserted %d deleted %d",
		res.InsertedCount, res.MatchedCount, res.ModifiedCount, res.UpsertedCount, res.DeletedCount)
}
