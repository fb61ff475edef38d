//go:build !windows

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paperfs/paperfs/extract/lookup/lookuptest"
	"github.com/paperfs/paperfs/fs/fuse"
	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/library"
	"github.com/paperfs/paperfs/meta/testutil"
)

// cfgCmd runs the binary with a config file.
func (e *env) cfgCmd(cfg string, args ...string) (string, error) {
	e.t.Helper()
	path := filepath.Join(e.dat + "-cfg.json")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		e.t.Fatal(err)
	}
	c := e.cmd(args...)
	c.Env = append(c.Env, "PAPERFS_CONFIG="+path, "PAPERFS_OFFLINE=")
	out, err := c.CombinedOutput()
	return string(out), err
}

func (e *env) papers() map[string]meta.Paper {
	e.t.Helper()
	s, err := meta.Open(filepath.Join(e.dat, "meta.db"), meta.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	defer s.Close()
	out := map[string]meta.Paper{}
	s.ForEach(func(p meta.Paper) bool { out[p.Title] = p; return true })
	return out
}

// paperfs lookup against the fake services: an arXiv preprint gets its
// published version beside it, a PDF printing a cited paper's DOI loses
// that DOI and is found by title; the progress and the sources are shown;
// a second run has nothing to do; --offline and "lookup": false send
// nothing.
func TestLookupCommand(t *testing.T) {
	svc := lookuptest.New(t)
	e := newEnv(t)
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "resnet.pdf"), makePDF("Deep Residual Learning for Image Recognition",
		[]string{"Kaiming He, Xiangyu Zhang, Shaoqing Ren, Jian Sun", "arXiv:1512.03385v1 [cs.CV] 10 Dec 2015"}, nil))
	writeFile(t, filepath.Join(src, "chain.pdf"), makePDF("Chain Replication for Supporting High Throughput and Availability",
		[]string{"Robbert van Renesse, Fred B. Schneider", "We build on the logical clocks of doi:10.1145/359545.359563"}, nil))
	e.run("import", src)
	cfg, _ := json.Marshal(map[string]any{"lookup": map[string]any{
		"email": "someone@example.org", "crossref_url": svc.Crossref.URL, "arxiv_url": svc.ArXiv.URL,
		"dblp_url": svc.DBLP.URL, "semanticscholar_url": svc.SemanticScholar.URL}})

	for _, c := range []struct{ cfg, flag string }{{string(cfg), "--offline"}, {`{"lookup": false}`, ""}} {
		args := []string{"lookup"}
		if c.flag != "" {
			args = append([]string{c.flag}, args...)
		}
		out, err := e.cfgCmd(c.cfg, args...)
		if err == nil || !strings.Contains(out, "online lookup is turned off") {
			t.Fatalf("%s: %v %s", c.cfg, err, out)
		}
	}
	if n := svc.Count(lookuptest.ArXiv) + svc.Count(lookuptest.Crossref) + svc.Count(lookuptest.DBLP); n != 0 {
		t.Fatalf("%d requests sent while off", n)
	}

	out, err := e.cfgCmd(string(cfg), "lookup")
	if err != nil || !strings.Contains(out, "looked up 2: 2 matched") || !strings.Contains(out, "looking up") ||
		!strings.Contains(out, "published (crossref)") || !strings.Contains(out, "venue (dblp)") {
		t.Fatalf("lookup: %v\n%s", err, out)
	}
	ps := e.papers()
	resnet, chain := ps["Deep Residual Learning for Image Recognition"], ps["Chain Replication for Supporting High Throughput and Availability"]
	if resnet.ArXiv != "1512.03385" || resnet.ArXivVersion != 1 || resnet.Published == nil || resnet.Published.DOI != "10.1109/cvpr.2016.90" ||
		resnet.Cite != "" || resnet.Provenance["authors"] != meta.SourceArXiv || resnet.Provenance["arxiv"] != meta.SourceArXiv {
		t.Fatalf("preprint: %+v", resnet)
	}
	if chain.DOI != "" || chain.Venue != "OSDI" || chain.Provenance["doi"] != meta.SourceCrossref || chain.Provenance["title"] != meta.SourceDBLP {
		t.Fatalf("cited DOI: %+v", chain)
	}
	side := string(meta.EncodeSidecar(&resnet))
	for _, want := range []string{`"provenance": {`, `"published": {`, `"arxiv_version": 1`} {
		if !strings.Contains(side, want) {
			t.Errorf("sidecar lacks %s:\n%s", want, side)
		}
	}
	if out, err := e.cfgCmd(string(cfg), "lookup"); err != nil || !strings.Contains(out, "nothing to look up") {
		t.Fatalf("second run: %v %s", err, out)
	}
	if out, err := e.cfgCmd(string(cfg), "lookup", "--all", chain.ID); err == nil || !strings.Contains(out, "--all takes no PAPER") {
		t.Fatalf("--all with papers: %v %s", err, out)
	}
	if out, err := e.cfgCmd(string(cfg), "lookup", filepath.Join(e.lib, chain.File.Path)); err != nil || !strings.Contains(out, "looked up 1: 1 matched") {
		t.Fatalf("by path: %v %s", err, out)
	}
}

// paperfs duplicates lists the same work twice; paperfs merge merges it
// into one paper, the other PDF in .paperfs-trash; different papers are
// refused.
func TestDuplicatesAndMergeCommands(t *testing.T) {
	e := newEnv(t)
	writeFile(t, filepath.Join(e.lib, "paxos.pdf"), makePDF("Paxos Made Moderately Complex",
		[]string{"Robbert van Renesse, Deniz Altinbuken", "Copyright 2015 ACM"}, nil))
	writeFile(t, filepath.Join(e.lib, "downloads", "paxos-again.pdf"), makePDF("Paxos made moderately complex",
		[]string{"Robbert van Renesse and Deniz Altinbuken", "ACM Computing Surveys 2015"}, nil))
	writeFile(t, filepath.Join(e.lib, "other.pdf"), makePDF("Chain Replication for Supporting High Throughput and Availability",
		[]string{"Robbert van Renesse, Fred B. Schneider", "OSDI 2004"}, nil))
	e.run("scan")
	out := e.run("duplicates")
	if !strings.Contains(out, "1. "+library.SameTitle) || !strings.Contains(out, "1 groups") || strings.Contains(out, "Chain") {
		t.Fatalf("duplicates:\n%s", out)
	}
	ps := e.papers()
	var keep, other, chain meta.Paper
	for _, p := range ps {
		switch p.File.Path {
		case "paxos.pdf":
			keep = p
		case "downloads/paxos-again.pdf":
			other = p
		case "other.pdf":
			chain = p
		}
	}
	if c := e.cmd("merge", keep.ID, chain.ID); true {
		out, err := c.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "do not look like the same work") {
			t.Fatalf("merging different papers: %v %s", err, out)
		}
	}
	out = e.run("merge", filepath.Join(e.lib, "paxos.pdf"), other.ID)
	if !strings.Contains(out, "merged "+other.ID+" into "+keep.ID) {
		t.Fatalf("merge: %s", out)
	}
	if out := e.run("duplicates"); !strings.Contains(out, "no probable duplicates") {
		t.Fatalf("after merge: %s", out)
	}
	if _, err := os.Stat(filepath.Join(e.lib, library.TrashDir, "downloads", "paxos-again.pdf")); err != nil {
		t.Fatalf("the other PDF is not in the trash folder: %v", err)
	}
	if out := e.run("scan"); !strings.Contains(out, "0 new") {
		t.Fatalf("scan after merge: %s", out)
	}
}

func TestLookupConfig(t *testing.T) {
	for _, c := range []struct {
		in  string
		off bool
		err string
	}{
		{`{}`, false, ""},
		{`{"lookup": false}`, true, ""},
		{`{"lookup": true}`, false, ""},
		{`{"lookup": {"email": "a@b.c", "services": ["crossref"]}}`, false, ""},
		{`{"lookup": {"services": ["google"]}}`, false, `unknown service "google"`},
		{`{"lookup": "no"}`, false, "must be false, true or an object"},
	} {
		var cfg Config
		err := json.Unmarshal([]byte(c.in), &cfg)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || cfg.Lookup.Off != c.off {
			t.Errorf("%s: off %v, %v", c.in, cfg.Lookup.Off, err)
		}
	}
}

// A running mount looks up a new paper in the background: its sidecar in
// the mount shows the published version and where each field came from.
func TestMountLooksUpInBackground(t *testing.T) {
	testutil.SkipWithoutFUSE(t)
	svc := lookuptest.New(t)
	e := newEnv(t)
	writeFile(t, filepath.Join(e.lib, "resnet.pdf"), makePDF("Deep Residual Learning for Image Recognition",
		[]string{"Kaiming He, Xiangyu Zhang, Shaoqing Ren, Jian Sun", "arXiv:1512.03385v1 [cs.CV] 10 Dec 2015"}, nil))
	cfg, _ := json.Marshal(map[string]any{"lookup": map[string]any{"crossref_url": svc.Crossref.URL, "arxiv_url": svc.ArXiv.URL,
		"dblp_url": svc.DBLP.URL, "semanticscholar_url": svc.SemanticScholar.URL}})
	cfgPath := e.dat + "-cfg.json"
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	mnt := filepath.Join(t.TempDir(), "mnt")
	os.Mkdir(mnt, 0o755)
	c := e.cmd("mount", mnt)
	c.Env = append(c.Env, "PAPERFS_CONFIG="+cfgPath, "PAPERFS_OFFLINE=")
	var logs strings.Builder
	c.Stderr = &logs
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if ok, _ := fuse.IsMounted(mnt); ok {
			testutil.ForceUnmount(mnt)
		}
	}()
	side := filepath.Join(mnt, "all", "He et al. 2015 - Deep Residual Learning for Image Recognition.json")
	deadline := time.Now().Add(30 * time.Second)
	var text []byte
	for {
		text, _ = os.ReadFile(side)
		if strings.Contains(string(text), `"published"`) {
			break
		}
		if time.Now().After(deadline) {
			c.Process.Kill()
			c.Wait()
			entries, _ := os.ReadDir(filepath.Join(mnt, "all"))
			t.Fatalf("the sidecar never showed the lookup: %s\nall/: %v\n%s", text, entries, logs.String())
		}
		time.Sleep(100 * time.Millisecond) // polls the mount process; nothing signals the lookup
	}
	for _, want := range []string{`"doi": "10.1109/cvpr.2016.90"`, `"authors": "arxiv"`, `"published": "crossref"`} {
		if !strings.Contains(string(text), want) {
			t.Errorf("sidecar lacks %s:\n%s", want, text)
		}
	}
	c.Process.Signal(syscall.SIGTERM)
	if err := c.Wait(); err != nil {
		t.Fatalf("mount exited with %v\n%s", err, logs.String())
	}
}
