package main

import (
	"context"
	be "encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// The remote protocol lets a command run in the process that holds the
// store (a mount, serve webdav) while that process has the store locked:
// one writer, and the same output as without it. The caller sends one
// request frame; the server answers with output frames and an exit frame;
// the caller may send a cancel frame (Ctrl-C) at any time. A frame is a
// type byte, a big-endian uint32 payload length and the payload.
const (
	frameRequest = 'q' // caller → server: remoteRequest as JSON
	frameCancel  = 'c' // caller → server: stop the command (Ctrl-C)
	frameStdout  = 'o' // server → caller: bytes for stdout
	frameStderr  = 'e' // server → caller: bytes for stderr
	frameExit    = 'x' // server → caller: the exit status, uint32; last frame
)

// maxFrame bounds a frame's payload, so a broken peer cannot make the
// other side allocate without end.
const maxFrame = 1 << 20

// remoteRequest is a command to run: its arguments as typed, where and in
// which environment.
type remoteRequest struct {
	Argv    []string `json:"argv"`     // the arguments after "paperfs"
	Cwd     string   `json:"cwd"`      // relative paths are resolved against it
	Library string   `json:"library"`  // the library folder the caller resolved
	DataDir string   `json:"data_dir"` // the data dir the caller resolved
	Offline bool     `json:"offline"`  // PAPERFS_OFFLINE=1 or --offline in the caller
	// Env holds the caller's values of the variables in remoteEnv.
	Env    map[string]string `json:"env,omitempty"`
	Stdout termInfo          `json:"stdout"`
	Stderr termInfo          `json:"stderr"`
}

// termInfo says whether the caller's stream is a terminal and how wide,
// so progress is drawn as it would be locally.
type termInfo struct {
	TTY   bool `json:"tty,omitempty"`
	Width int  `json:"width,omitempty"`
}

func writeFrame(w io.Writer, typ byte, payload []byte) error {
	if len(payload) > maxFrame {
		return fmt.Errorf("remote frame of %d bytes exceeds %d", len(payload), maxFrame)
	}
	buf := make([]byte, 5+len(payload))
	buf[0] = typ
	be.BigEndian.PutUint32(buf[1:5], uint32(len(payload)))
	copy(buf[5:], payload)
	_, err := w.Write(buf)
	return err
}

func readFrame(r io.Reader) (typ byte, payload []byte, err error) {
	var head [5]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return 0, nil, err
	}
	n := be.BigEndian.Uint32(head[1:])
	if n > maxFrame {
		return 0, nil, fmt.Errorf("remote frame of %d bytes exceeds %d", n, maxFrame)
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, fmt.Errorf("remote frame cut short: %w", err)
	}
	return head[0], payload, nil
}

func exitPayload(code int) []byte { return be.BigEndian.AppendUint32(nil, uint32(code)) }

// frameWriter sends what a command writes to one of its streams as
// frames; it tells progress whether the caller's stream is a terminal.
type frameWriter struct {
	mu   *sync.Mutex // shared by the streams of one connection
	conn io.Writer
	typ  byte
	term termInfo
}

func (w *frameWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for rest := p; len(rest) > 0; {
		n := min(len(rest), maxFrame)
		if err := writeFrame(w.conn, w.typ, rest[:n]); err != nil {
			return len(p) - len(rest), err
		}
		rest = rest[n:]
	}
	return len(p), nil
}

func (w *frameWriter) terminal() (tty bool, width int) { return w.term.TTY, w.term.Width }

// remoteHandler runs one request, writing to stdout and stderr, and
// returns its exit status. ctx is cancelled when the caller cancels or
// goes away.
type remoteHandler func(ctx context.Context, req remoteRequest, stdout, stderr io.Writer) int

// remoteServer answers commands on a local socket; close stops it,
// cancels the commands running and waits for them.
type remoteServer struct {
	ln     net.Listener
	check  func(net.Conn) error // refuses other users
	path   string
	handle remoteHandler
	cancel context.CancelFunc
	ctx    context.Context
	wg     sync.WaitGroup // the accept loop and one per connection
}

// serveRemote listens on the socket at path (see listenRemote for who
// may connect) and runs each request with handle.
func serveRemote(path string, handle remoteHandler) (*remoteServer, error) {
	ln, check, err := listenRemote(path)
	if err != nil {
		return nil, err
	}
	return serveRemoteOn(ln, check, path, handle), nil
}

// serveRemoteOn serves on ln, letting in the connections check accepts;
// close removes path.
func serveRemoteOn(ln net.Listener, check func(net.Conn) error, path string, handle remoteHandler) *remoteServer {
	s := &remoteServer{ln: ln, check: check, path: path, handle: handle}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return // closed
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer conn.Close()
				s.serveConn(conn)
			}()
		}
	}()
	return s
}

func (s *remoteServer) close() {
	s.ln.Close()
	s.cancel()
	s.wg.Wait()
	os.Remove(s.path)
}

func (s *remoteServer) serveConn(conn net.Conn) {
	var mu sync.Mutex
	exit := func(code int) {
		mu.Lock()
		defer mu.Unlock()
		writeFrame(conn, frameExit, exitPayload(code))
	}
	if err := s.check(conn); err != nil {
		// Tell the caller why, and nothing else.
		writeFrame(conn, frameStderr, []byte("paperfs: refused by the process serving this library: "+err.Error()+"\n"))
		writeFrame(conn, frameExit, exitPayload(1))
		return
	}
	typ, payload, err := readFrame(conn)
	if err != nil || typ != frameRequest {
		return
	}
	var req remoteRequest
	if err := json.Unmarshal(payload, &req); err != nil {
		writeFrame(conn, frameStderr, []byte("paperfs: unreadable request: "+err.Error()+"\n"))
		exit(2)
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	// Any frame after the request, or the caller hanging up, cancels.
	go func() {
		readFrame(conn)
		cancel()
	}()
	stdout := &frameWriter{mu: &mu, conn: conn, typ: frameStdout, term: req.Stdout}
	stderr := &frameWriter{mu: &mu, conn: conn, typ: frameStderr, term: req.Stderr}
	exit(s.handle(ctx, req, stdout, stderr))
}

// errNoServer: nothing answers on the socket; the caller runs the command
// itself.
var errNoServer = errors.New("no paperfs process serves this library")

// forwardRemote sends req over conn, copies the output to stdout and
// stderr, and returns the command's exit status. Cancelling ctx or the
// first of interrupts (Ctrl-C) asks the server to stop the command, whose
// last words and status are still copied; a second interrupt stops
// waiting for them.
func forwardRemote(ctx context.Context, conn net.Conn, req remoteRequest, stdout, stderr io.Writer, interrupts <-chan os.Signal) (int, error) {
	defer conn.Close()
	b, err := json.Marshal(req)
	if err != nil {
		return 0, err
	}
	// If sending fails, the server may have refused the connection and
	// said why: read that first.
	werr := writeFrame(conn, frameRequest, b)
	done := make(chan struct{})
	defer close(done)
	var detached atomic.Bool
	go func() {
		ctxDone, asked, n := ctx.Done(), false, 0
		for {
			select {
			case <-ctxDone:
				ctxDone = nil
			case <-interrupts:
				if n++; n >= 2 {
					detached.Store(true)
					conn.Close()
					return
				}
			case <-done:
				return
			}
			if !asked {
				asked = true
				writeFrame(conn, frameCancel, nil)
			}
		}
	}()
	for {
		typ, payload, err := readFrame(conn)
		if err != nil && werr != nil {
			return 0, fmt.Errorf("sending the command to the paperfs process serving the library: %w", werr)
		}
		if err != nil && detached.Load() {
			return 0, fmt.Errorf("interrupted again: stopped waiting for the paperfs process serving the library, which was asked to stop the command")
		}
		if err != nil {
			return 0, fmt.Errorf("the paperfs process serving the library stopped answering (it may have been stopped): %w", err)
		}
		switch typ {
		case frameStdout:
			stdout.Write(payload)
		case frameStderr:
			stderr.Write(payload)
		case frameExit:
			if len(payload) != 4 {
				return 0, fmt.Errorf("the paperfs process serving the library sent a malformed exit status")
			}
			return int(be.BigEndian.Uint32(payload)), nil
		default:
			return 0, fmt.Errorf("the paperfs process serving the library sent an unknown frame %q", typ)
		}
	}
}

// remoteSocket is where the process holding the store listens: in a
// directory of its own in the data dir, so its mode can be owner-only
// whatever the data dir's is.
func remoteSocket(dataDir string) string { return filepath.Join(dataDir, "run", "cli.sock") }
