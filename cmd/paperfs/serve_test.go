//go:build !windows

package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta/testutil"
)

func TestWebDAVSettings(t *testing.T) {
	auth := &Config{}
	auth.WebDAV.User, auth.WebDAV.PasswordHash = "ada", "$2a$10$abcdefghijklmnopqrstuv"
	for _, tc := range []struct {
		cfg  *Config
		opts webdavOptions
		err  string // "" for none
		warn bool
	}{
		{&Config{}, webdavOptions{}, "", false},
		{&Config{}, webdavOptions{Addr: "localhost:9000"}, "", false},
		{&Config{}, webdavOptions{Addr: "[::1]:9000"}, "", false},
		{&Config{}, webdavOptions{Addr: "0.0.0.0:9000"}, "needs a user and password", false},
		{&Config{}, webdavOptions{Addr: ":9000", InsecureHTTP: true}, "needs a user and password", false},
		{auth, webdavOptions{Addr: "192.168.1.5:9000"}, "needs TLS", false},
		{auth, webdavOptions{Addr: "192.168.1.5:9000", InsecureHTTP: true}, "", true},
		{auth, webdavOptions{Addr: "192.168.1.5:9000", Cert: "c.pem"}, "both a certificate", false},
		{auth, webdavOptions{Addr: "192.168.1.5:9000", Cert: "missing.pem", Key: "missing.key"}, "missing.pem", false},
		{&Config{}, webdavOptions{Addr: "nonsense"}, "--addr", false},
	} {
		s, err := webdavSettings(tc.cfg, tc.opts)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%+v: %v", tc.opts, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%+v: %v, want %q", tc.opts, err, tc.err)
		case err == nil && (s.warning != "") != tc.warn:
			t.Errorf("%+v: warning %q", tc.opts, s.warning)
		}
	}
}

// TestServeWebDAV runs the binary as a user would: set a password from a
// pipe, serve, answer a wrong password with 401 and log it without the
// password.
func TestServeWebDAV(t *testing.T) {
	e := newEnv(t)
	config := filepath.Join(e.dat, "config.json")
	withConfig := func(c *exec.Cmd) *exec.Cmd {
		c.Env = append(c.Env, "PAPERFS_CONFIG="+config)
		return c
	}
	const password = "correct horse battery"
	// What the config file holds already stays as it was written.
	os.MkdirAll(e.dat, 0o700)
	if err := os.WriteFile(config, []byte(`{"import": {"name_pattern": "{year}/{title}"}, "future_setting": [1, 2]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	set := withConfig(e.cmd("serve", "webdav", "--set-password", "--user", "ada"))
	set.Stdin = strings.NewReader(password + "\n")
	if out, err := set.CombinedOutput(); err != nil {
		t.Fatalf("--set-password: %v\n%s", err, out)
	}
	st, err := os.Stat(config)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(config)
	if st.Mode().Perm() != 0o600 || strings.Contains(string(b), password) || !strings.Contains(string(b), `"password_bcrypt": "$2a$`) ||
		!strings.Contains(string(b), `"future_setting": [`) || !strings.Contains(string(b), `"name_pattern": "{year}/{title}"`) {
		t.Fatalf("config mode %v:\n%s", st.Mode().Perm(), b)
	}

	// Beyond loopback without TLS: refused before anything opens.
	out, err := withConfig(e.cmd("serve", "webdav", "--addr", "0.0.0.0:0")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "needs TLS") {
		t.Fatalf("0.0.0.0 without TLS: %v\n%s", err, out)
	}

	srv := withConfig(e.cmd("serve", "webdav", "--addr", "127.0.0.1:0"))
	url, logs := startWebDAV(t, srv)
	for _, tc := range []struct {
		pass   string
		status int
	}{{"", 401}, {"wrong-guess-123", 401}, {password, 207}} {
		req, _ := http.NewRequest("PROPFIND", url, nil)
		req.Header.Set("Depth", "1")
		if tc.pass != "" {
			req.SetBasicAuth("ada", tc.pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("password %q: %d, want %d", tc.pass, resp.StatusCode, tc.status)
		}
	}
	// A command beside the server runs in it.
	if out, err := withConfig(e.cmd("trash", "list")).CombinedOutput(); err != nil || len(out) != 0 {
		t.Errorf("trash list beside serve webdav: %v %s", err, out)
	}
	text := stopWebDAV(t, srv, logs)
	// TLS, with the certificate and key given.
	cert, key := selfSigned(t)
	tlsSrv := withConfig(e.cmd("serve", "webdav", "--addr", "127.0.0.1:0", "--cert", cert, "--key", key))
	tlsURL, tlsLogs := startWebDAV(t, tlsSrv)
	if !strings.HasPrefix(tlsURL, "https://") {
		t.Errorf("with a certificate the server is at %s", tlsURL)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	req, _ := http.NewRequest("PROPFIND", tlsURL, nil)
	req.Header.Set("Depth", "0")
	req.SetBasicAuth("ada", password)
	if resp, err := client.Do(req); err != nil || resp.StatusCode != http.StatusMultiStatus {
		t.Errorf("PROPFIND over TLS: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	stopWebDAV(t, tlsSrv, tlsLogs)
	if !strings.Contains(text, "wrong user name or password") || strings.Contains(text, "wrong-guess") || strings.Contains(text, password) {
		t.Errorf("log:\n%s", text)
	}
}

// startWebDAV starts a paperfs command that serves WebDAV on port 0 and
// waits for the log line that says where.
func startWebDAV(t *testing.T, cmd *exec.Cmd) (url string, logs *served) {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1000)
	sv := &served{done: make(chan struct{})}
	done := sv.done
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
			sv.lines = append(sv.lines, sc.Text())
		}
	}()
	urlRe := regexp.MustCompile(`url=(https?://127\.0\.0\.1:[0-9]+/)`)
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l := <-lines:
			if m := urlRe.FindStringSubmatch(l); m != nil {
				return m[1], sv
			}
		case <-done:
			t.Fatalf("paperfs exited:\n%s", strings.Join(sv.lines, "\n"))
		case <-timeout:
			cmd.Process.Kill()
			t.Fatalf("WebDAV did not start")
		}
	}
}

// served is a running command's log, read until done is closed.
type served struct {
	done  chan struct{}
	lines []string
}

// stopWebDAV stops it and returns its log.
func stopWebDAV(t *testing.T, cmd *exec.Cmd, logs *served) string {
	t.Helper()
	cmd.Process.Signal(syscall.SIGTERM)
	<-logs.done // the log ends when the process does; then Wait
	if err := cmd.Wait(); err != nil {
		t.Errorf("paperfs exit: %v", err)
	}
	return strings.Join(logs.lines, "\n")
}

// TestMountWebDAV: mount --webdav serves the mounted view over WebDAV
// from the mount's process.
func TestMountWebDAV(t *testing.T) {
	testutil.SkipWithoutFUSE(t)
	e := newEnv(t)
	mnt := filepath.Join(t.TempDir(), "mnt")
	os.Mkdir(mnt, 0o755)
	c := e.cmd("mount", mnt, "--webdav", "127.0.0.1:0")
	url, logs := startWebDAV(t, c)
	req, _ := http.NewRequest("MKCOL", url+"tags/ml", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("MKCOL: %s", resp.Status)
	}
	if _, err := os.Stat(filepath.Join(mnt, "tags", "ml")); err != nil {
		t.Errorf("the mount lacks the tag made over WebDAV: %v", err)
	}
	stopWebDAV(t, c, logs)
}

// selfSigned writes a certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T) (cert, key string) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return cert, key
}
