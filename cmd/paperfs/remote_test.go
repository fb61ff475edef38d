//go:build !windows

package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestRemoteFrames(t *testing.T) {
	frame := func(typ byte, payload string) []byte {
		var b bytes.Buffer
		if err := writeFrame(&b, typ, []byte(payload)); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	for _, tc := range []struct {
		name    string
		in      []byte
		typ     byte
		payload string
		err     string // a part of the error, or "" for none
	}{
		{"request", frame(frameRequest, `{"argv":["trash","list"]}`), frameRequest, `{"argv":["trash","list"]}`, ""},
		{"stdout", frame(frameStdout, "imported 1\n"), frameStdout, "imported 1\n", ""},
		{"empty cancel", frame(frameCancel, ""), frameCancel, "", ""},
		{"exit", append([]byte{frameExit, 0, 0, 0, 4}, exitPayload(2)...), frameExit, string(exitPayload(2)), ""},
		{"nothing", nil, 0, "", "EOF"},
		{"cut header", []byte{frameStdout, 0, 0}, 0, "", "unexpected EOF"},
		{"cut payload", []byte{frameStdout, 0, 0, 0, 9, 'a', 'b'}, 0, "", "cut short"},
		{"too long", []byte{frameStdout, 0x7f, 0, 0, 0}, 0, "", "exceeds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			typ, payload, err := readFrame(bytes.NewReader(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one with %q", err, tc.err)
				}
				return
			}
			if err != nil || typ != tc.typ || string(payload) != tc.payload {
				t.Fatalf("got %q %q %v, want %q %q", typ, payload, err, tc.typ, tc.payload)
			}
		})
	}
	if err := writeFrame(io.Discard, frameStdout, make([]byte, maxFrame+1)); err == nil {
		t.Error("a frame over the limit was written")
	}
	// A long write is split into frames the reader accepts.
	var b bytes.Buffer
	w := &frameWriter{mu: &sync.Mutex{}, conn: &b, typ: frameStderr}
	long := bytes.Repeat([]byte("x"), maxFrame+10)
	if n, err := w.Write(long); n != len(long) || err != nil {
		t.Fatalf("write: %d %v", n, err)
	}
	var got []byte
	for {
		typ, payload, err := readFrame(&b)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil || typ != frameStderr {
			t.Fatalf("frame %q: %v", typ, err)
		}
		got = append(got, payload...)
	}
	if !bytes.Equal(got, long) {
		t.Fatalf("split write came back as %d bytes, want %d", len(got), len(long))
	}
}

// signalWriter cancels when what it is written contains a word.
type signalWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	word   string
	cancel func()
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.cancel != nil && strings.Contains(w.buf.String(), w.word) {
		w.cancel()
	}
	return len(p), nil
}

// TestRemoteServeForward: a request reaches the handler with what the
// caller sent, its streams and exit status come back, a cancel stops it,
// and the socket is owner-only and gone once the server stops.
func TestRemoteServeForward(t *testing.T) {
	path := remoteSocket(t.TempDir())
	release := make(chan struct{})
	s, err := serveRemote(path, func(ctx context.Context, req remoteRequest, stdout, stderr io.Writer) int {
		switch req.Argv[0] {
		case "echo":
			io.WriteString(stdout, strings.Join(req.Argv[1:], " ")+" in "+req.Cwd+"\n")
			io.WriteString(stderr, "to stderr\n")
			return 3
		case "stubborn": // ignores cancelling
			io.WriteString(stdout, "started\n")
			<-release
			return 0
		case "wait":
			io.WriteString(stdout, "started\n")
			<-ctx.Done()
			io.WriteString(stderr, "stopped\n")
			return 1
		}
		return 2
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket %v %v, want mode 0600", fi.Mode(), err)
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("socket directory %v %v, want mode 0700", fi.Mode(), err)
	}
	run := func(ctx context.Context, req remoteRequest, stdout io.Writer) (int, string) {
		t.Helper()
		conn, err := dialRemote(path)
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		code, err := forwardRemote(ctx, conn, req, stdout, &stderr, nil)
		if err != nil {
			t.Fatal(err)
		}
		return code, stderr.String()
	}
	var out bytes.Buffer
	code, errs := run(context.Background(), remoteRequest{Argv: []string{"echo", "a", "b"}, Cwd: "/home/x"}, &out)
	if code != 3 || out.String() != "a b in /home/x\n" || errs != "to stderr\n" {
		t.Errorf("echo: status %d, stdout %q, stderr %q", code, out.String(), errs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sw := &signalWriter{word: "started", cancel: cancel}
	code, errs = run(ctx, remoteRequest{Argv: []string{"wait"}}, sw)
	if code != 1 || errs != "stopped\n" {
		t.Errorf("cancelled: status %d, stderr %q", code, errs)
	}
	// A second interrupt stops waiting for a command that goes on.
	conn, err := dialRemote(path)
	if err != nil {
		t.Fatal(err)
	}
	interrupts := make(chan os.Signal, 2)
	sw = &signalWriter{word: "started", cancel: func() { interrupts <- os.Interrupt; interrupts <- os.Interrupt }}
	if _, err := forwardRemote(context.Background(), conn, remoteRequest{Argv: []string{"stubborn"}}, sw, io.Discard, interrupts); err == nil ||
		!strings.Contains(err.Error(), "interrupted again") {
		t.Errorf("second interrupt: %v", err)
	}
	close(release)
	s.close()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left after close: %v", err)
	}
	if _, err := dialRemote(path); !errors.Is(err, errNoServer) {
		t.Errorf("dial after close: %v, want errNoServer", err)
	}
}

// TestRemoteToken: the loopback port with a token (what Windows uses)
// serves a caller who read the token and refuses one who did not.
func TestRemoteToken(t *testing.T) {
	path := remoteSocket(t.TempDir())
	ln, check, err := listenToken(path)
	if err != nil {
		t.Fatal(err)
	}
	s := serveRemoteOn(ln, check, path, func(ctx context.Context, req remoteRequest, stdout, stderr io.Writer) int {
		io.WriteString(stdout, "ran "+strings.Join(req.Argv, " ")+"\n")
		return 0
	})
	defer s.close()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("token file %v %v, want mode 0600", fi.Mode(), err)
	}
	conn, err := dialToken(path)
	if err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	if code, err := forwardRemote(context.Background(), conn, remoteRequest{Argv: []string{"scan"}}, &out, &errs, nil); code != 0 || err != nil || out.String() != "ran scan\n" {
		t.Errorf("with the token: %d %v %q %q", code, err, out.String(), errs.String())
	}
	b, _ := os.ReadFile(path)
	addr, _, _ := strings.Cut(string(b), " ")
	for _, first := range [][]byte{
		append([]byte{frameToken, 0, 0, 0, 5}, "guess"...),
		append([]byte{frameRequest, 0, 0, 0, 2}, "{}"...),
	} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.Write(first)
		out.Reset()
		errs.Reset()
		code, err := forwardRemote(context.Background(), conn, remoteRequest{Argv: []string{"scan"}}, &out, &errs, nil)
		if code != 1 || err != nil || out.Len() != 0 || !strings.Contains(errs.String(), "refused by the process serving this library: it serves only the user who can read") {
			t.Errorf("without the token (%q first): %d %v %q %q", first[0], code, err, out.String(), errs.String())
		}
	}
	s.close()
	if _, err := dialToken(path); !errors.Is(err, errNoServer) {
		t.Errorf("dial after close: %v, want errNoServer", err)
	}
}
