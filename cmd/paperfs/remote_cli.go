package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/paperfs/paperfs/meta"
)

// remoteCommands run in the process serving the library (a mount, serve
// webdav) when it holds the store, so they work beside it with the same
// output (sync runs a round of the serving process's own engine). The
// others refuse there: mount, serve and unmount make no sense in another
// process, and restore replaces the database under it; status reads what
// the serving process publishes.
var remoteCommands = []string{
	"import", "scan", "export", "lookup", "duplicates", "merge", "rename", "sync",
	"trash list", "trash restore", "migrate paperlib", "migrate bibtex", "log",
	"subscribe",
}

// remoteEnv are the variables a command run for a caller reads from the
// caller's environment rather than the serving process's.
var remoteEnv = []string{paperlibURIEnv, "TZ"}

// getenv reads a variable of remoteEnv from the caller's environment.
func (g *globalOptions) getenv(key string) string {
	if g.remote != nil {
		return g.remote.req.Env[key]
	}
	return os.Getenv(key)
}

func remotable(cmd *cobra.Command) bool {
	path := strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
	return slices.Contains(remoteCommands, path)
}

// remoteExit is the exit status of a command that ran in the serving
// process, which has written its output and errors already.
type remoteExit int

func (e remoteExit) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// remoteCall is a command running in the serving process for a caller.
type remoteCall struct {
	app    *app
	req    remoteRequest
	stderr io.Writer
}

// borrow lends the serving process's app to the command, logging to the
// caller's stderr.
func (r *remoteCall) borrow(g *globalOptions) *app {
	cfg := *r.app.cfg
	b := &app{cfg: &cfg, log: newLoggerTo(r.stderr, g.Debug), dataDir: r.app.dataDir,
		store: r.app.store, lib: r.app.lib, pool: r.app.pool, borrowed: true}
	b.syncing.Store(r.app.syncing.Load())
	return b
}

// path resolves a path the user typed against the caller's working
// directory.
func (g *globalOptions) path(p string) string {
	if g.remote == nil || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(g.remote.req.Cwd, p)
}

// asTyped shows, in what a command run for a caller writes to w, the
// paths the caller typed relative (resolved with path) as typed, so the
// output is the same as without the serving process.
func (g *globalOptions) asTyped(w io.Writer, typed, resolved []string) io.Writer {
	if g.remote == nil {
		return w
	}
	var pairs [][2]string
	for i, p := range typed {
		if p != resolved[i] {
			pairs = append(pairs, [2]string{resolved[i], p})
		}
	}
	if len(pairs) == 0 {
		return w
	}
	// The longest first: where several match, the first given wins.
	slices.SortFunc(pairs, func(a, b [2]string) int { return len(b[0]) - len(a[0]) })
	var olds []string
	for _, p := range pairs {
		olds = append(olds, p[0], p[1])
	}
	return replacingWriter{w, strings.NewReplacer(olds...)}
}

// replacingWriter rewrites each Write, which must hold whole paths (as
// each Fprintf does).
type replacingWriter struct {
	w io.Writer
	r *strings.Replacer
}

func (rw replacingWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(rw.w, rw.r.Replace(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// beforeRun hands a command to the process serving the library when one
// answers on its socket; in the serving process, it refuses the commands
// that cannot run there and takes the paths the caller resolved.
func (g *globalOptions) beforeRun(cmd *cobra.Command) error {
	if g.remote != nil {
		if !remotable(cmd) {
			return fmt.Errorf("%w: '%s' cannot run while another paperfs process serves the library; stop that process first",
				errUsage, cmd.CommandPath())
		}
		g.Library, g.DataDir = g.remote.req.Library, g.remote.req.DataDir
		g.Offline = g.Offline || g.remote.req.Offline
		return nil
	}
	if g.argv == nil || !remotable(cmd) {
		return nil
	}
	_, _, dataDir, err := resolve(g)
	if err != nil {
		return nil // the command reports it
	}
	conn, err := dialRemote(remoteSocket(dataDir))
	if err != nil {
		// Nothing serves the library: run here. If a process is starting
		// to serve it, locked says to try again.
		g.local = cmd
		return nil
	}
	return g.forward(cmd, conn)
}

// locked hands a command that found the store locked to the process that
// holds it once that answers: a mount that is starting has the store open
// before it listens. Any other error is returned as it is.
func (g *globalOptions) locked(err error) error {
	if g.local == nil || !errors.Is(err, meta.ErrLocked) {
		return err
	}
	_, _, dataDir, rerr := resolve(g)
	if rerr != nil {
		return err
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if conn, derr := dialRemote(remoteSocket(dataDir)); derr == nil {
			return g.forward(g.local, conn)
		}
	}
	return err
}

// forward runs cmd in the process serving the library, over conn.
func (g *globalOptions) forward(cmd *cobra.Command, conn net.Conn) error {
	_, lib, dataDir, err := resolve(g)
	if err != nil {
		conn.Close()
		return err
	}
	cwd, err := os.Getwd()
	if err != nil {
		conn.Close()
		return fmt.Errorf("the current directory: %w", err)
	}
	req := remoteRequest{
		Argv: g.argv, Cwd: cwd, Library: lib, DataDir: absPath(dataDir),
		Offline: g.Offline || os.Getenv("PAPERFS_OFFLINE") == "1",
		Stdout:  termOf(cmd.OutOrStdout()), Stderr: termOf(cmd.ErrOrStderr()),
		Env: map[string]string{},
	}
	for _, k := range remoteEnv {
		if v, ok := os.LookupEnv(k); ok {
			req.Env[k] = v
		}
	}
	// main's context sees the first Ctrl-C; this, a second one too.
	interrupts := make(chan os.Signal, 2)
	signal.Notify(interrupts, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(interrupts)
	code, err := forwardRemote(cmd.Context(), conn, req, cmd.OutOrStdout(), cmd.ErrOrStderr(), interrupts)
	if err != nil {
		return err
	}
	return remoteExit(code)
}

func termOf(w io.Writer) termInfo {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return termInfo{}
	}
	t := termInfo{TTY: true}
	if cols, _, err := term.GetSize(int(f.Fd())); err == nil {
		t.Width = cols
	}
	return t
}

// serveCLI lets other paperfs commands run in this process while it holds
// the store; stop ends it, stopping the commands running.
func (a *app) serveCLI() (stop func()) {
	s, err := serveRemote(remoteSocket(a.dataDir), a.runRemote)
	if err != nil {
		a.log.Warn("other paperfs commands cannot run while this process holds the library", "err", err)
		return func() {}
	}
	return s.close
}

// runRemote runs a caller's command against this process's app.
func (a *app) runRemote(ctx context.Context, req remoteRequest, stdout, stderr io.Writer) (code int) {
	defer func() {
		// A command's bug must not take the mount down with it.
		if r := recover(); r != nil {
			a.log.Error("a command run for another process failed", "command", strings.Join(req.Argv, " "), "panic", r)
			fmt.Fprintf(stderr, "paperfs: internal error: %v\n", r)
			code = 1
		}
	}()
	if !sameDir(req.Library, a.lib.Root) || !sameDir(req.DataDir, a.dataDir) {
		fmt.Fprintf(stderr, "paperfs: the process serving the database in %s has the library folder %s, not %s\n", a.dataDir, a.lib.Root, req.Library)
		return 1
	}
	a.log.Info("running a command for another process", "command", "paperfs "+strings.Join(req.Argv, " "))
	g := &globalOptions{remote: &remoteCall{app: a, req: req, stderr: stderr}}
	root := newRootCommand(g)
	root.SetArgs(req.Argv)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetIn(strings.NewReader(""))
	return exitStatus(stderr, root.ExecuteContext(ctx))
}

func sameDir(a, b string) bool { return realPath(a) == realPath(b) }
