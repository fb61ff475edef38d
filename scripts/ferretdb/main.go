// Command ferretdb runs an embedded FerretDB v1 (SQLite backend) for
// paperfs' tests, so sync can be tested against a real MongoDB-protocol
// server where no mongod can be installed.
//
// It lives in its own module so that FerretDB's dependencies never enter
// paperfs' go.mod. sync/synctest builds and starts it.
//
// With -auth it runs FerretDB's experimental authentication (SCRAM-SHA-256,
// users made with createUser): every command but the handshake then needs
// an authenticated user, and -setup-user, with the password in the
// FERRETDB_SETUP_PASSWORD environment variable, is created in -setup-db on
// the first start. FerretDB's embedding API has no switch for that mode,
// so the build adds one file to FerretDB's ferretdb package:
// overlay/newauth.go.txt, whose first line names the package it goes into,
// copied into a vendored copy of the dependencies (go build -overlay
// refuses files in the module cache), and builds with the tag
// paperfs_overlay. sync/synctest builds it that way; by hand:
//
//	d=$(mktemp -d) && cp scripts/ferretdb/*.go scripts/ferretdb/go.* "$d" && cd "$d" &&
//	  go mod vendor && cp "$OLDPWD"/scripts/ferretdb/overlay/newauth.go.txt \
//	    vendor/github.com/FerretDB/FerretDB/ferretdb/newauth.go &&
//	  go build -tags paperfs_overlay -o /tmp/ferretdb . &&
//	  /tmp/ferretdb -listen 127.0.0.1:27017 -dir /tmp/ferretdb-data
//
// A plain go build works too, without -auth.
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
	auth := flag.Bool("auth", false, "require SCRAM authentication (FerretDB's experimental new auth)")
	setupDB := flag.String("setup-db", "admin", "with -auth: `database` of the first user")
	setupUser := flag.String("setup-user", "", "with -auth: first user's `name`, created on the first start; its password is $FERRETDB_SETUP_PASSWORD")
	flag.Parse()

	var ac *authConfig
	if *auth {
		ac = &authConfig{SetupDatabase: *setupDB, SetupUsername: *setupUser, SetupPassword: os.Getenv("FERRETDB_SETUP_PASSWORD")}
		if ac.SetupUsername == "" || ac.SetupPassword == "" {
			fmt.Fprintln(os.Stderr, "ferretdb: -auth needs -setup-user and FERRETDB_SETUP_PASSWORD: without a first user nobody could create users")
			os.Exit(2)
		}
	} else if *setupUser != "" {
		fmt.Fprintln(os.Stderr, "ferretdb: -setup-user needs -auth")
		os.Exit(2)
	}

	if err := run(*listen, *dir, *debug, ac); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}
}

func run(listen, dir string, debug bool, auth *authConfig) error {
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

	cfg := &ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	}
	var f *ferretdb.FerretDB
	if auth != nil {
		f, err = newWithAuth(cfg, *auth)
	} else {
		f, err = ferretdb.New(cfg)
	}
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
