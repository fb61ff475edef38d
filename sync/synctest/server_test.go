package synctest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

type change struct {
	ID     string `bson:"_id"`
	Device string `bson:"device"`
	Seq    int64  `bson:"seq"`
	Field  string `bson:"field"`
}

func TestRoundTrip(t *testing.T) {
	srv := Start(t)
	coll := srv.Client(t).Database("paperfs").Collection("changes")
	ctx := ctxT(t, 30*time.Second)

	in := change{ID: "devA:1", Device: "devA", Seq: 1, Field: "title"}
	if _, err := coll.InsertOne(ctx, in); err != nil {
		t.Fatal(err)
	}
	var out change
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "devA:1"}}).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if out != in {
		t.Fatalf("read back %+v, want %+v", out, in)
	}
}

func TestDuplicateKey(t *testing.T) {
	srv := Start(t)
	coll := srv.Client(t).Database("paperfs").Collection("changes")
	ctx := ctxT(t, 30*time.Second)

	rec := change{ID: "devA:1", Device: "devA", Seq: 1}
	if _, err := coll.InsertOne(ctx, rec); err != nil {
		t.Fatal(err)
	}
	_, err := coll.InsertOne(ctx, rec)
	if !mongo.IsDuplicateKeyError(err) {
		t.Fatalf("second insert of the same _id: got %v, want a duplicate key error", err)
	}
	var we mongo.WriteException
	if errors.As(err, &we) && len(we.WriteErrors) == 1 {
		t.Logf("duplicate _id: code %d: %s", we.WriteErrors[0].Code, we.WriteErrors[0].Message)
	}
}

func TestStopRestartKeepsData(t *testing.T) {
	srv := Start(t)
	c := srv.Client(t)
	coll := c.Database("paperfs").Collection("changes")
	ctx := ctxT(t, 60*time.Second)

	if _, err := coll.InsertOne(ctx, change{ID: "devA:1", Device: "devA", Seq: 1}); err != nil {
		t.Fatal(err)
	}
	uri := srv.URI

	srv.Stop(t)
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := c.Ping(short, nil); err == nil {
		t.Fatal("Ping succeeded with the server stopped")
	}
	srv.Stop(t) // stopping twice is harmless

	srv.Restart(t)
	if srv.URI != uri {
		t.Fatalf("URI changed across Restart: %s -> %s", uri, srv.URI)
	}
	// The same client reconnects by itself.
	n, err := coll.CountDocuments(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("after restart: %d documents, want 1", n)
	}
	if _, err := coll.InsertOne(ctx, change{ID: "devA:2", Device: "devA", Seq: 2}); err != nil {
		t.Fatalf("insert after restart: %v", err)
	}
}

func TestKillKeepsAcknowledgedWrites(t *testing.T) {
	srv := Start(t)
	coll := srv.Client(t).Database("paperfs").Collection("changes")
	ctx := ctxT(t, 60*time.Second)

	var docs []change
	for i := 1; i <= 100; i++ {
		docs = append(docs, change{ID: fmt.Sprintf("devA:%d", i), Device: "devA", Seq: int64(i)})
	}
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	srv.Kill(t)
	if d := time.Since(start); d > time.Second {
		t.Errorf("Kill took %v", d)
	}
	srv.Restart(t)
	n, err := coll.CountDocuments(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if n != 100 {
		t.Fatalf("after kill -9 and restart: %d documents, want 100", n)
	}
}

func TestProxy(t *testing.T) {
	srv := Start(t)
	px := Proxy(t, srv.URI)
	c := connect(t, px.URI())
	coll := c.Database("paperfs").Collection("changes")
	ctx := ctxT(t, 2*time.Minute)

	if _, err := coll.InsertOne(ctx, change{ID: "devA:1", Device: "devA", Seq: 1}); err != nil {
		t.Fatal(err)
	}
	roundTrip := func() time.Duration {
		t.Helper()
		start := time.Now()
		if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "devA:1"}}).Err(); err != nil {
			t.Fatal(err)
		}
		return time.Since(start)
	}
	// After a fault is cleared, operations may still fail for a moment:
	// the fault's broken connections close late and the driver clears its
	// pool. Sync code retries with backoff; so does this.
	recovers := func(fault string) {
		t.Helper()
		start := time.Now()
		var failures []string
		for {
			err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "devA:1"}}).Err()
			if err == nil {
				break
			}
			failures = append(failures, err.Error())
			if time.Since(start) > 20*time.Second {
				t.Fatalf("still failing 20s after clearing %s: %q", fault, failures)
			}
			time.Sleep(100 * time.Millisecond) // retries as sync code does; how long recovery takes is what is logged
		}
		t.Logf("after clearing %s: recovered in %v after %d failed finds %q",
			fault, time.Since(start).Round(time.Millisecond), len(failures), failures)
	}

	base := roundTrip()
	const lag = 300 * time.Millisecond
	px.Latency(t, lag)
	slow := roundTrip()
	t.Logf("find: %v direct through the proxy, %v with %v latency", base, slow, lag)
	if slow < lag {
		t.Errorf("find took %v with %v latency", slow, lag)
	}
	px.Latency(t, 0)
	if d := roundTrip(); d >= lag {
		t.Errorf("find took %v after removing the latency", d)
	}

	px.Reset(t)
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	err := coll.FindOne(short, bson.D{{Key: "_id", Value: "devA:1"}}).Err()
	cancel()
	if err == nil {
		t.Fatal("find succeeded through a proxy that resets every connection")
	}
	t.Logf("find with reset_peer: %v (network error: %v)", err, mongo.IsNetworkError(err))
	px.Clear(t)
	recovers("reset_peer")

	px.Hang(t)
	short, cancel = context.WithTimeout(ctx, 2*time.Second)
	start := time.Now()
	err = coll.FindOne(short, bson.D{{Key: "_id", Value: "devA:1"}}).Err()
	cancel()
	if err == nil {
		t.Fatal("find succeeded through a hanging proxy")
	}
	t.Logf("find with a hanging server: %v after %v (timeout: %v)", err, time.Since(start).Round(time.Millisecond), mongo.IsTimeout(err))
	px.Clear(t)
	recovers("the hang")

	px.Disable(t)
	short, cancel = context.WithTimeout(ctx, 2*time.Second)
	err = coll.FindOne(short, bson.D{{Key: "_id", Value: "devA:1"}}).Err()
	cancel()
	if err == nil {
		t.Fatal("find succeeded with the proxy disabled")
	}
	px.Enable(t)
	recovers("the outage")
}

func TestResetRepliesStillWrites(t *testing.T) {
	srv := Start(t)
	px := Proxy(t, srv.URI)
	// No retries: we want to see the lost acknowledgement itself.
	c, err := mongo.Connect(options.Client().ApplyURI(px.URI()).SetRetryWrites(false).
		SetServerSelectionTimeout(10 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(context.Background())
	ctx := ctxT(t, time.Minute)
	coll := c.Database("paperfs").Collection("changes")
	if err := c.Ping(ctx, nil); err != nil {
		t.Fatal(err)
	}

	px.ResetReplies(t)
	_, err = coll.InsertOne(ctx, change{ID: "devA:1", Device: "devA", Seq: 1})
	if err == nil {
		t.Fatal("insert acknowledged through a proxy that resets replies")
	}
	px.Clear(t)

	// The write landed although the client saw an error: what the
	// idempotent upload must cope with.
	n, err := srv.Client(t).Database("paperfs").Collection("changes").CountDocuments(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d documents after an insert whose reply was lost, want 1", n)
	}
}

func TestSkipEnv(t *testing.T) {
	t.Setenv(SkipEnv, "1")
	var skipped bool
	t.Run("skips", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		Start(t)
	})
	if !skipped {
		t.Fatalf("Start did not skip with %s=1", SkipEnv)
	}
}

func TestStartFailureShowsStderr(t *testing.T) {
	skipIfAsked(t)
	bin := binary(t, "ferretdb")
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := startChild("ferretdb", bin, []string{"-dir", filepath.Join(file, "sub")}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("starting with a data dir under a file: got %v, want the server's complaint", err)
	}
	t.Logf("reported as: %v", err)
}
