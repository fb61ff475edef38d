// Command ferretdb runs an embedded FerretDB v1 (SQLite backend) for
// paperfs' tests, so sync can be tested against a real MongoDB-protocol
// server where no mongod can be installed.
//
// It lives in its own module so that FerretDB's dependencies never enter
// paperfs' go.mod. sync/synctest builds and starts it; it can also be run
// by hand:
//
//	cd scripts/ferretdb && go build -o /tmp/ferretdb . &&
//	  /tmp/ferretdb -listen 127.0.0.1:27017 -dir /tmp/ferretdb-data
//
// Once it accepts connections it prints exactly one line to stdout,
//
//	ready mongodb://127.0.0.1:PORT/
//
// which tells a parent the port when it asked for port 0. It logs to stderr
// (warnings and errors only unless -debug) and stops cleanly on SIGINT or
// SIGTERM, closing the SQLite databases.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "TCP `address` to listen on; port 0 picks a free port")
	dir := flag.String("dir", "", "state `directory` for the SQLite databases (created if missing; required)")
	debug := flag.Bool("debug", false, "log at debug level instead of warn")
	flag.Parse()

	if err := run(*listen, *dir, *debug); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}
}

func run(listen, dir string, debug bool) error {
	if dir == "" {
		return fmt.Errorf("-dir is required: the directory where FerretDB keeps its SQLite files")
	}
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}

	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return err
	}

	level := slog.LevelWarn
	if debug {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	// The SQLite backend wants a file: URI naming a directory, with a
	// trailing slash; url.URL escapes odd characters in the path.
	sqliteURL := (&url.URL{Scheme: "file", Path: abs + "/"}).String()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	if err != nil {
		return err
	}

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()

	// New has already bound the listener, so the address is final and
	// clients connecting from now on are queued until Run accepts them.
	fmt.Printf("ready %s\n", f.MongoDBURI())

	// Run returns after ctx is cancelled and every connection and the
	// backend are closed.
	return <-done
}
