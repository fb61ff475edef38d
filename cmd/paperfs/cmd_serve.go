package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/term"

	"github.com/paperfs/paperfs/fs"
	"github.com/paperfs/paperfs/fs/webdav"
	"github.com/paperfs/paperfs/meta"
)

type webdavOptions struct {
	Addr         string
	Cert, Key    string
	InsecureHTTP bool
	SetPassword  bool
	User         string
}

const defaultWebDAVAddr = "127.0.0.1:8080"

func newServeCommand(g *globalOptions) *cobra.Command {
	serve := &cobra.Command{
		Use:   "serve",
		Short: "Serve the library over a network protocol",
	}
	serve.AddCommand(newServeWebDAVCommand(g))
	return serve
}

func newServeWebDAVCommand(g *globalOptions) *cobra.Command {
	var opts webdavOptions
	cmd := &cobra.Command{
		Use:   "webdav",
		Short: "Serve the library over WebDAV (Finder, Explorer, file managers, tablets)",
		Long: `Serve the same view as the mount over WebDAV, until interrupted: all/,
tags/<tag>/, authors/, years/, folders/, ... with each paper's PDF and JSON
sidecar. Every desktop connects without extra drivers: Finder (Go > Connect
to Server), Explorer (Map network drive), GNOME Files and Dolphin
(dav://HOST:PORT/), davfs2, rclone, and tablet PDF readers.

What a change means is the mount's: saving a .json saves the metadata (an
invalid one is refused, with the reason, and nothing changes), a PDF put in
all/ or a tag is imported, moving a PDF into a tag tags it, deleting it from
a tag untags it and from all/ moves it to the trash, a new folder in tags/
or folders/ is a new tag or folder.

The server listens on loopback (127.0.0.1:8080) by default. Any other
address needs a user and password (set once with --set-password; only a
bcrypt hash is kept, in the config file) and TLS (--cert and --key), or
--insecure-http, which sends the password and the library in clear text.

Only one paperfs process can open a library: to use WebDAV while the
library is mounted, start the mount with --webdav ADDR instead.`,
		Example: `  paperfs serve webdav
  paperfs serve webdav --set-password --user ada
  paperfs serve webdav --addr 0.0.0.0:8443 --cert cert.pem --key key.pem`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.SetPassword {
				return runSetPassword(opts, cmd.InOrStdin(), cmd.ErrOrStderr())
			}
			return runServeWebDAV(cmd.Context(), g, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Addr, "addr", "", "address to listen on (default "+defaultWebDAVAddr+", or webdav.addr in the config)")
	cmd.Flags().StringVar(&opts.Cert, "cert", "", "TLS certificate file (PEM)")
	cmd.Flags().StringVar(&opts.Key, "key", "", "TLS private key file (PEM)")
	cmd.Flags().BoolVar(&opts.InsecureHTTP, "insecure-http", false, "allow plain HTTP on a non-loopback address (the password crosses the network in clear text)")
	cmd.Flags().BoolVar(&opts.SetPassword, "set-password", false, "read a password from the terminal (or stdin) and keep its hash in the config file, then exit")
	cmd.Flags().StringVar(&opts.User, "user", "", "user name for --set-password (default: the one set before, else your login name)")
	return cmd
}

func runServeWebDAV(ctx context.Context, g *globalOptions, opts webdavOptions) error {
	cfg, _, _, err := resolve(g)
	if err != nil {
		return err
	}
	// Check the settings before opening anything, so a mistake costs
	// nothing.
	if _, err := webdavSettings(cfg, opts); err != nil {
		return err
	}
	a, err := openApp(g)
	if errors.Is(err, meta.ErrLocked) {
		return fmt.Errorf("%w\nthe library is open in another paperfs process; to serve it over WebDAV while it is mounted, mount it with: paperfs mount --webdav ADDR", err)
	}
	if err != nil {
		return err
	}
	defer a.close()
	libs := openSharedLibraries(g, a.cfg, a.log)
	apps := []*app{a}
	for _, l := range libs {
		defer l.app.close()
		apps = append(apps, l.app)
	}
	view := fs.New(a.store, a.viewOptions(nil, othersThan(a, apps)))
	defer view.Close()
	for _, l := range libs {
		l.view = fs.New(l.app.store, l.app.viewOptions(nil, othersThan(l.app, apps)))
		defer l.view.Close()
	}

	bg, stopBG := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	stopSync, err := a.runLibrary(bg, &wg, g, nil)
	if err != nil {
		stopBG()
		return err
	}
	// Commands run beside the server run in it (remote_cli.go).
	stopCLI := a.serveCLI()
	defer stopCLI()
	stopShared := serveShared(bg, g, libs, nil, func(*servedLibrary) func() time.Time { return nil }, nil)
	stopDAV, err := serveWebDAV(a, view, libs, opts)
	if err == nil {
		<-ctx.Done()
		a.log.Info("stopping the WebDAV server")
		stopDAV()
	}
	stopBG()
	wg.Wait()
	stopShared()
	if serr := stopSync(); serr != nil {
		a.log.Warn("stopping sync", "err", serr)
	}
	return err
}

// davSettings is what serving WebDAV needs, checked.
type davSettings struct {
	addr      string
	auth      *webdav.BasicAuth
	cert, key string
	warning   string
}

// webdavSettings checks the address, credentials and TLS: loopback needs
// nothing; any other address needs a password and TLS, or an explicit
// --insecure-http.
func webdavSettings(cfg *Config, opts webdavOptions) (davSettings, error) {
	s := davSettings{addr: firstOf(opts.Addr, cfg.WebDAV.Addr, defaultWebDAVAddr),
		cert: firstOf(opts.Cert, cfg.WebDAV.Cert), key: firstOf(opts.Key, cfg.WebDAV.Key)}
	if _, _, err := net.SplitHostPort(s.addr); err != nil {
		return s, fmt.Errorf("%w: --addr %q: %v (for example 127.0.0.1:8080)", errUsage, s.addr, err)
	}
	if (s.cert == "") != (s.key == "") {
		return s, fmt.Errorf("%w: TLS needs both a certificate (--cert) and its key (--key)", errUsage)
	}
	if s.cert != "" {
		if _, err := tls.LoadX509KeyPair(s.cert, s.key); err != nil {
			return s, fmt.Errorf("TLS certificate %s and key %s: %w", s.cert, s.key, err)
		}
	}
	if cfg.WebDAV.User != "" && cfg.WebDAV.PasswordHash != "" {
		s.auth = webdav.NewBasicAuth(cfg.WebDAV.User, []byte(cfg.WebDAV.PasswordHash))
	}
	if isLoopback(s.addr) {
		return s, nil
	}
	if s.auth == nil {
		return s, fmt.Errorf("serving WebDAV on %s, beyond this machine, needs a user and password: set them with paperfs serve webdav --set-password --user NAME", s.addr)
	}
	if s.cert == "" {
		if !opts.InsecureHTTP {
			return s, fmt.Errorf("serving WebDAV on %s, beyond this machine, needs TLS (--cert FILE --key FILE), or --insecure-http to send the password and the library in clear text", s.addr)
		}
		s.warning = "serving WebDAV over plain HTTP beyond this machine (--insecure-http): anyone on the network path can read the password and the papers"
	}
	return s, nil
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// serveWebDAV starts serving view over WebDAV; stop shuts the server down
// and waits for it.
func serveWebDAV(a *app, view *fs.FS, shared []*servedLibrary, opts webdavOptions) (stop func(), err error) {
	s, err := webdavSettings(a.cfg, opts)
	if err != nil {
		return nil, err
	}
	h := webdav.New(view, webdav.Options{Logger: a.log, Auth: s.auth})
	for _, l := range shared {
		if err := h.AddShared(l.name, l.view); err != nil {
			return nil, err
		}
	}
	if s.warning != "" {
		a.log.Warn(s.warning)
		fmt.Fprintln(os.Stderr, "paperfs: warning:", s.warning)
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return nil, fmt.Errorf("serving WebDAV: %w", err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelDebug),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var err error
		if s.cert != "" {
			err = srv.ServeTLS(ln, s.cert, s.key)
		} else {
			err = srv.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("WebDAV server", "addr", s.addr, "err", err)
		}
	}()
	scheme := "http"
	if s.cert != "" {
		scheme = "https"
	}
	a.log.Info("serving WebDAV", "url", scheme+"://"+ln.Addr().String()+"/", "library", a.lib.Root, "auth", s.auth != nil)
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	}, nil
}

// runSetPassword reads a password and keeps its bcrypt hash, and the user
// name, in the config file (mode 0600). The password itself is never
// stored, logged or taken from a flag.
func runSetPassword(opts webdavOptions, in io.Reader, out io.Writer) error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	user := firstOf(opts.User, cfg.WebDAV.User, os.Getenv("USER"))
	if user == "" {
		return fmt.Errorf("%w: --user NAME", errUsage)
	}
	pass, err := readPassword(in, out)
	if err != nil {
		return err
	}
	if len(pass) < 8 {
		return fmt.Errorf("the password is too short: use at least 8 characters")
	}
	hash, err := bcrypt.GenerateFromPassword(pass, bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	path := configPath()
	w := cfg.WebDAV
	w.User, w.PasswordHash = user, string(hash)
	if err := setConfigKey(path, "webdav", w); err != nil {
		return err
	}
	fmt.Fprintf(out, "WebDAV user %s and the password's hash saved in %s\n", user, path)
	return nil
}

// readPassword reads a password without echo from a terminal, twice, or
// one line from anything else (a script's pipe).
func readPassword(in io.Reader, out io.Writer) ([]byte, error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(out, "WebDAV password: ")
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(out)
		if err != nil {
			return nil, err
		}
		fmt.Fprint(out, "Again: ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(out)
		if err != nil {
			return nil, err
		}
		if string(p1) != string(p2) {
			return nil, errors.New("the passwords differ; nothing changed")
		}
		return p1, nil
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		return nil, fmt.Errorf("reading the password from stdin: %w", err)
	}
	return []byte(strings.TrimRight(line, "\r\n")), nil
}
