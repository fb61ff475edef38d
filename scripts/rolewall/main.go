// Command rolewall stands between paperfs and a MongoDB-protocol server on
// the wire and enforces database roles for the users it is told about, for
// paperfs' tests of shared libraries.
//
// Why: a member of a shared library whose database user has the built-in
// role "read" on the library's database must see it read-only. Atlas and
// mongod enforce roles; FerretDB, the only MongoDB-protocol server the test
// machines can run, authenticates users (SCRAM, in its experimental auth
// mode) but does not authorize: every user may write everything, and
// connectionStatus lists no roles or privileges. rolewall adds what Atlas
// would do for the users named with -role:
//
//   - a write command (insert, update, delete, findAndModify, create,
//     createIndexes, drop, ..., an aggregation with $out or $merge) on a
//     database where the user lacks readWrite is not forwarded; the client
//     gets the real server's error: {ok: 0, errmsg: "not authorized on DB
//     to execute command ...", code: 13, codeName: "Unauthorized"}.
//   - connectionStatus is answered with the user's authInfo: the user, its
//     roles and, with showPrivileges, the privileges those roles carry.
//
// It learns each connection's user from the SASL conversation the client
// starts (saslStart, or a hello's speculativeAuthenticate: SCRAM's
// "n,,n=USER,r=..."); the server still checks the password. Everything
// else, and every message of users not named, passes through unchanged.
// It reads OP_MSG and the legacy OP_QUERY (a handshake hello).
//
// Usage:
//
//	rolewall -listen 127.0.0.1:0 -upstream 127.0.0.1:27017 -role alice=read@lab -role bob=readWrite@lab
//
// Once it accepts connections it prints "ready HOST:PORT" to stdout. It
// then reads one command per line from stdin and answers each with one
// line, "ok ..." or "error MESSAGE":
//
//	role USER=ROLE@DB[,ROLE@DB]   set a user's roles (applies to open connections too)
//	forget USER                   stop enforcing roles for USER
//	statuses off|on               forward connectionStatus to the server (which lists no
//	                              roles: a server that does not say) or answer it (default)
//	stats                         "ok refused=N status=M": writes refused, connectionStatus answered
//
// It exits when stdin closes (so it never outlives the test that started
// it) or on SIGINT/SIGTERM.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	gosync "sync"
	"sync/atomic"
	"syscall"
	"time"
)

type roleFlags []string

func (r *roleFlags) String() string     { return strings.Join(*r, " ") }
func (r *roleFlags) Set(v string) error { *r = append(*r, v); return nil }

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "TCP `address` to listen on; port 0 picks a free port")
	upstream := flag.String("upstream", "", "the server's TCP `address` (required)")
	debug := flag.Bool("debug", false, "log every decision")
	var roles roleFlags
	flag.Var(&roles, "role", "`USER=ROLE@DB[,ROLE@DB]`: enforce these roles (read, readWrite) for USER; repeatable")
	flag.Parse()

	if err := run(*listen, *upstream, roles, *debug); err != nil {
		fmt.Fprintf(os.Stderr, "rolewall: %v\n", err)
		os.Exit(1)
	}
}

func run(listen, upstream string, roles []string, debug bool) error {
	if upstream == "" {
		return errors.New("-upstream is required")
	}
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	w := &wall{
		upstream: upstream,
		log:      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
		conns:    map[net.Conn]bool{},
	}
	for _, r := range roles {
		user, gs, err := parseRoles(r)
		if err != nil {
			return err
		}
		w.pol.set(user, gs)
	}

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	served := make(chan error, 1)
	go func() { served <- w.serve(ln) }()
	fmt.Printf("ready %s\n", ln.Addr())

	cmds := make(chan string)
	go func() {
		defer close(cmds)
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			cmds <- sc.Text()
		}
	}()
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case line, ok := <-cmds:
			if !ok {
				done = true
				break
			}
			fmt.Println(w.command(line))
		}
	}
	ln.Close()
	w.closeAll()
	return <-served
}

// wall is the proxy: one goroutine per connection and direction.
type wall struct {
	upstream string
	log      *slog.Logger
	pol      policy
	// forwardStatus passes connectionStatus to the server instead of
	// answering it.
	forwardStatus atomic.Bool

	nextID  atomic.Int32 // request ids of the wall's own replies
	refused atomic.Int64 // writes refused
	status  atomic.Int64 // connectionStatus answered

	mu    gosync.Mutex // protects conns
	conns map[net.Conn]bool
	wg    gosync.WaitGroup // connection goroutines
}

func (w *wall) command(line string) string {
	verb, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
	switch verb {
	case "role":
		user, gs, err := parseRoles(strings.TrimSpace(arg))
		if err != nil {
			return "error " + err.Error()
		}
		w.pol.set(user, gs)
		return "ok"
	case "forget":
		w.pol.set(strings.TrimSpace(arg), nil)
		return "ok"
	case "statuses":
		switch strings.TrimSpace(arg) {
		case "on":
			w.forwardStatus.Store(false)
		case "off":
			w.forwardStatus.Store(true)
		default:
			return "error statuses takes on or off"
		}
		return "ok"
	case "stats":
		return fmt.Sprintf("ok refused=%d status=%d", w.refused.Load(), w.status.Load())
	default:
		return fmt.Sprintf("error unknown command %q", verb)
	}
}

// serve accepts until ln is closed, then waits for every connection's
// goroutines.
func (w *wall) serve(ln net.Listener) error {
	defer w.wg.Wait()
	for {
		c, err := ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return nil
		}
		if err != nil {
			return err
		}
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			w.handle(c)
		}()
	}
}

func (w *wall) track(c net.Conn, on bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if on {
		w.conns[c] = true
	} else {
		delete(w.conns, c)
	}
}

func (w *wall) closeAll() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for c := range w.conns {
		c.Close()
	}
}

// handle relays one client connection. Replies go to the client whole,
// under wmu, so that the wall's own answers never land inside a server's
// reply.
func (w *wall) handle(client net.Conn) {
	w.track(client, true)
	defer w.track(client, false)
	defer client.Close()
	server, err := net.DialTimeout("tcp", w.upstream, 10*time.Second)
	if err != nil {
		w.log.Warn("dialing the server", "err", err)
		return
	}
	w.track(server, true)
	defer w.track(server, false)

	var wmu gosync.Mutex // serialises writes to client
	down := make(chan struct{})
	go func() {
		defer close(down)
		defer client.Close()
		for {
			_, msg, err := readMessage(server)
			if err != nil {
				return
			}
			wmu.Lock()
			_, err = client.Write(msg)
			wmu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	defer func() { server.Close(); <-down }()

	var s session
	for {
		h, msg, err := readMessage(client)
		if err != nil {
			return
		}
		cmd, ok, err := parseRequest(msg)
		if err != nil {
			w.log.Warn("unreadable request, forwarded as is", "opcode", h.OpCode, "err", err)
		}
		var answer any
		if ok {
			if a := decide(&w.pol, &s, cmd, !w.forwardStatus.Load()); a != nil {
				answer = a
				if cmd.Name == "connectionStatus" {
					w.status.Add(1)
				} else {
					w.refused.Add(1)
					w.log.Info("refused", "user", s.user, "command", cmd.Name, "db", targetDB(cmd))
				}
			}
		}
		if answer == nil {
			if _, err := server.Write(msg); err != nil {
				return
			}
			continue
		}
		if cmd.Flags&flagMoreToCome != 0 {
			continue // the client expects no reply
		}
		out, err := reply(h, w.nextID.Add(1), answer)
		if err != nil {
			w.log.Error("encoding a reply", "err", err)
			return
		}
		wmu.Lock()
		_, err = client.Write(out)
		wmu.Unlock()
		if err != nil {
			return
		}
	}
}
