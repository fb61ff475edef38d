package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/paperfs/paperfs/extract"
	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/library"
	psync "github.com/paperfs/paperfs/sync"
)

// globalOptions are the flags every command takes.
type globalOptions struct {
	Library string
	DataDir string
	Debug   bool
	Offline bool // no online lookups

	// argv is the command line to hand to the process serving the library
	// when it holds the store; nil where nothing is handed on (tests).
	argv []string
	// remote is set when the command runs in the process serving the
	// library on behalf of another: openApp returns that process's app.
	remote *remoteCall
	// local is the command that runs here though it could have run in a
	// serving process (none answered).
	local *cobra.Command
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
	scans   atomic.Int64     // scans of the library folder done while served (status)
	// outsideEng answers a subscriber's scan which PDFs are other
	// members' (pullFirst); closed with the app.
	outsideEng *psync.Engine
	// syncing is the sync engine running in a serving process (nil while
	// none runs, or without a server): for a sync command run in this
	// process and the view's read-only check, which FUSE handlers make
	// while runLibrary starts it (see readOnly).
	syncing atomic.Pointer[psync.Engine]
	// borrowed: the app of the process serving the library, lent to a
	// command run for another process; close leaves it open.
	borrowed bool
}

func newLogger(debug bool) *slog.Logger { return newLoggerTo(os.Stderr, debug) }

func newLoggerTo(w io.Writer, debug bool) *slog.Logger {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// resolve reads the configuration and locates the library and data dir
// without opening anything.
func resolve(g *globalOptions) (cfg *Config, libDir, dataDir string, err error) {
	cfg, err = loadConfig()
	if err != nil {
		return nil, "", "", err
	}
	if g.Library != "" {
		if l := cfg.library(g.Library); l != nil {
			cfg = cfg.forLibrary(l) // --library NAME: a shared library
		} else {
			cfg.Library = g.Library
		}
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
func openApp(g *globalOptions) (*app, error) { return openAppWith(g, appOptions{}) }

// appOptions tune how a command opens the library.
type appOptions struct {
	// prefault backs the heap the store is about to build with memory in
	// one call (prefaultHeap), for a command that then serves for long
	// (mount): a quick command beside a running mount must not fault in
	// memory it never uses.
	prefault bool
}

// openAppWith is openApp with the command's tuning. The process's memory
// policy is decided here and in the commands, never in meta or fs.
func openAppWith(g *globalOptions, o appOptions) (*app, error) {
	if g.remote != nil {
		return g.remote.borrow(g), nil
	}
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
	opts := meta.Options{FileExists: exists, Migrating: collectWhileMigrating, Now: a.now,
		Member: memberName(cfg.Member, cfg.MongoDB.URI)}
	if o.prefault {
		// After the lock: a second process refused by it prefaults nothing.
		opts.BeforeLoad = func() {
			if err := prefaultHeap(storeHeapEstimate(dbPath)); err != nil {
				log.Debug("prefaulting the heap", "err", err)
			}
		}
	}
	// Opening reads the whole store into memory and makes little garbage:
	// a collection during it would only mark what is still being built.
	gc := debug.SetGCPercent(-1)
	a.store, err = meta.Open(dbPath, opts)
	debug.SetGCPercent(gc)
	if err != nil {
		return nil, err
	}
	if opts.Member == "" {
		a.store.SetMember(deviceMember(cfg, a.store))
	}
	a.pool = extractPool(cfg.Import.OCR == nil || *cfg.Import.OCR, log)
	a.lib, err = library.Open(libDir, a.store, poolExtractor(a.pool), log)
	if err == nil {
		a.lib.SetReadOnly(a.readOnly)
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

// collectWhileMigrating turns the collector on at its default while a
// schema migration runs: a migration rewrites every paper in one
// transaction and makes garbage in proportion, which a collector paused
// for a plain open would let pile up.
func collectWhileMigrating() (done func()) {
	gc := debug.SetGCPercent(100)
	return func() { debug.SetGCPercent(gc) }
}

func (a *app) close() error {
	if a.borrowed {
		return nil
	}
	a.pool.Close()
	if a.outsideEng != nil {
		a.outsideEng.Close()
	}
	return a.store.Close()
}

// extractPool runs metadata extraction in worker processes (this binary
// run as `paperfs __extract-worker`), so a hostile PDF can neither crash
// nor hang paperfs; workers are kept between files. With ocr, a PDF
// whose first page has no readable text (a scan, bitmap fonts) is read by
// OCR when pdftoppm and tesseract are installed.
func extractPool(ocr bool, log *slog.Logger) *extract.Pool {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	r := extract.Runner{Exe: exe, Args: []string{workerCommand}, Timeout: 20 * time.Second}
	if ocr {
		if r.OCR, err = extract.LookOCR(); err != nil {
			log.Debug("scanned PDFs keep their file name as title", "why", err)
		}
	}
	return &extract.Pool{Runner: r}
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
