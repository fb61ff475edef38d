package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/paperfs/paperfs/extract"
	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/library"
)

// globalOptions are the flags every command takes.
type globalOptions struct {
	Library string
	DataDir string
	Debug   bool
	Offline bool // no online lookups
}

// app is an opened library: its folder, store and settings.
type app struct {
	cfg     *Config
	log     *slog.Logger
	dataDir string
	store   *meta.Store
	lib     *library.Library
	pool    *extract.Pool    // extraction worker processes, stopped by close
	now     func() time.Time // the clock of the store and sync; nil: time.Now (see testClock)
}

func newLogger(debug bool) *slog.Logger {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// resolve reads the configuration and locates the library and data dir
// without opening anything.
func resolve(g *globalOptions) (cfg *Config, libDir, dataDir string, err error) {
	cfg, err = loadConfig()
	if err != nil {
		return nil, "", "", err
	}
	if g.Library != "" {
		cfg.Library = g.Library
	}
	if g.DataDir != "" {
		cfg.DataDir = g.DataDir
	}
	if libDir, err = cfg.libraryDir(); err != nil {
		return nil, "", "", err
	}
	if dataDir, err = cfg.dataDir(libDir); err != nil {
		return nil, "", "", err
	}
	return cfg, libDir, dataDir, nil
}

// openApp opens the library's store. The caller must call close.
func openApp(g *globalOptions) (*app, error) {
	cfg, libDir, dataDir, err := resolve(g)
	if err != nil {
		return nil, err
	}
	log := newLogger(g.Debug)
	a := &app{cfg: cfg, log: log, dataDir: dataDir}
	if a.now, err = testClock(log); err != nil {
		return nil, err
	}
	exists := func(rel string) bool {
		_, err := os.Stat(filepath.Join(libDir, filepath.FromSlash(rel)))
		return err == nil
	}
	dbPath := filepath.Join(dataDir, "meta.db")
	if err := prefaultHeap(storeHeapEstimate(dbPath)); err != nil {
		log.Debug("prefaulting the heap", "err", err)
	}
	// Opening reads the whole store into memory and makes little garbage:
	// a collection during it would only mark what is still being built
	// (at 100k papers, about a sixth of the mount's start).
	gc := debug.SetGCPercent(-1)
	a.store, err = meta.Open(dbPath, meta.Options{FileExists: exists, Now: a.now})
	debug.SetGCPercent(gc)
	if err != nil {
		return nil, err
	}
	a.pool = extractPool()
	a.lib, err = library.Open(libDir, a.store, poolExtractor(a.pool), log)
	if err == nil {
		if perr := a.lib.SetNamePattern(cfg.Import.NamePattern); perr != nil {
			err = fmt.Errorf("config %s: import.name_pattern: %w", configPath(), perr)
		}
	}
	if err != nil {
		a.pool.Close()
		a.store.Close()
		return nil, err
	}
	return a, nil
}

func (a *app) close() error {
	a.pool.Close()
	return a.store.Close()
}

// extractPool runs metadata extraction in worker processes (this binary
// run as `paperfs __extract-worker`), so a hostile PDF can neither crash
// nor hang paperfs; workers are kept between files.
func extractPool() *extract.Pool {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	return &extract.Pool{Runner: extract.Runner{Exe: exe, Args: []string{workerCommand}, Timeout: 20 * time.Second}}
}

func poolExtractor(pool *extract.Pool) library.Extractor {
	return func(ctx context.Context, name string, f *os.File) (meta.Paper, []string) {
		res, err := pool.Open(ctx, name, f)
		problems := res.Problems
		if err != nil {
			problems = append(problems, err.Error())
		}
		if res.Venue != "" && res.Confidence != nil {
			if _, ok := res.Confidence["venue"]; !ok {
				// Extraction reads venues without saying how sure it
				// is; a lookup may correct them.
				res.Confidence["venue"] = 0.5
			}
		}
		prov := make(map[string]string, len(res.Confidence))
		for f := range res.Confidence {
			prov[f] = meta.SourcePDF
		}
		return meta.Paper{
			Title: res.Title, Authors: res.Authors, Year: res.Year, Venue: res.Venue,
			DOI: res.DOI, ArXiv: res.ArXiv, ArXivVersion: res.ArXivVersion, Abstract: res.Abstract,
			Confidence: res.Confidence, Provenance: prov,
		}, problems
	}
}

const workerCommand = "__extract-worker"
