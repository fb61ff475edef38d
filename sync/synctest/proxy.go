package synctest

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// FaultProxy is a Toxiproxy TCP proxy between a test's client and a
// server, for injecting latency, resets, hangs and outages into real
// connections. Faults apply to open connections as well as new ones.
//
// It runs as a child process (scripts/toxiproxy) driven over its stdin,
// so this package needs nothing beyond the standard library and the
// driver.
type FaultProxy struct {
	addr     string // host:port clients connect to
	upstream string

	mu    sync.Mutex // protects the following; serializes commands
	proc  *child
	stdin io.WriteCloser
}

// Proxy starts a fault proxy on a free 127.0.0.1 port forwarding to
// upstream, which is host:port or a mongodb:// URI with one host (so
// Proxy(t, srv.URI) works). It starts with no faults and stops when the
// test ends.
func Proxy(t testing.TB, upstream string) *FaultProxy {
	t.Helper()
	skipIfAsked(t)
	if strings.HasPrefix(upstream, "mongodb://") {
		h, err := hostOf(upstream)
		if err != nil {
			t.Fatalf("synctest: proxy upstream %q: %v", upstream, err)
		}
		upstream = h
	}
	bin := binary(t, "toxiproxy")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatalf("synctest: %v", err)
	}
	p, addr, err := startChild("toxiproxy", bin, []string{"-listen", "127.0.0.1:0", "-upstream", upstream}, nil, pr)
	if err != nil {
		pw.Close()
		t.Fatalf("synctest: starting the fault proxy to %s: %v", upstream, err)
	}
	fp := &FaultProxy{addr: addr, upstream: upstream, proc: p, stdin: pw}
	t.Cleanup(func() { fp.stop(t) })
	return fp
}

// Addr returns the proxy's host:port.
func (p *FaultProxy) Addr() string { return p.addr }

// URI returns a mongodb:// URI that reaches the upstream server through
// the proxy.
func (p *FaultProxy) URI() string { return "mongodb://" + p.addr + "/" }

// Latency delays every reply from the server by d (the downstream
// direction), so each request/response round trip takes at least d
// longer. It replaces an earlier Latency; 0 removes it.
func (p *FaultProxy) Latency(t testing.TB, d time.Duration) {
	t.Helper()
	p.removeIfPresent(t, "latency")
	if d > 0 {
		p.toxic(t, "latency", "latency", "downstream", map[string]any{"latency": d.Milliseconds()})
	}
}

// Reset makes the proxy reset (TCP RST) every connection as soon as the
// client sends anything: requests never reach the server, and the driver
// sees network errors, until Clear.
func (p *FaultProxy) Reset(t testing.TB) {
	t.Helper()
	p.toxic(t, "reset", "reset_peer", "upstream", map[string]any{"timeout": 0})
}

// ResetReplies lets requests reach the server but resets the connection
// when the reply comes back: the server has done the write and the client
// never hears so. Until Clear.
func (p *FaultProxy) ResetReplies(t testing.TB) {
	t.Helper()
	p.toxic(t, "reset_replies", "reset_peer", "downstream", map[string]any{"timeout": 0})
}

// Hang makes the proxy accept connections and swallow everything the
// client sends, answering nothing and closing nothing: a server that
// accepts and hangs. Until Clear.
func (p *FaultProxy) Hang(t testing.TB) {
	t.Helper()
	p.toxic(t, "hang", "timeout", "upstream", map[string]any{"timeout": 0})
}

// Clear removes every fault added with Latency, Reset, ResetReplies and
// Hang. Connections the faults broke stay broken; new ones work.
func (p *FaultProxy) Clear(t testing.TB) {
	t.Helper()
	p.command(t, "clear")
}

// Disable closes the proxy's listener and every connection through it, as
// if the network went away: new connections are refused until Enable.
func (p *FaultProxy) Disable(t testing.TB) {
	t.Helper()
	p.command(t, "disable")
}

// Enable listens again on the same address after Disable.
func (p *FaultProxy) Enable(t testing.TB) {
	t.Helper()
	p.command(t, "enable")
}

func (p *FaultProxy) toxic(t testing.TB, name, typ, stream string, attrs map[string]any) {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"name": name, "type": typ, "stream": stream, "toxicity": 1.0, "attributes": attrs,
	})
	if err != nil {
		t.Fatalf("synctest: %v", err)
	}
	p.command(t, "toxic "+string(b))
}

func (p *FaultProxy) removeIfPresent(t testing.TB, name string) {
	t.Helper()
	if err := p.do("remove " + name); err != nil && !strings.Contains(err.Error(), "not found") {
		t.Fatalf("synctest: fault proxy: remove %s: %v", name, err)
	}
}

func (p *FaultProxy) command(t testing.TB, cmd string) {
	t.Helper()
	if err := p.do(cmd); err != nil {
		t.Fatalf("synctest: fault proxy: %s: %v", cmd, err)
	}
}

// do sends one command and reads its one-line answer.
func (p *FaultProxy) do(cmd string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := ask(p.proc, p.stdin, cmd)
	return err
}

// ask sends one command line to a helper driven over stdin and reads its
// one-line answer: "ok[ REST]" returns REST, "error MESSAGE" an error.
func ask(proc *child, stdin io.Writer, cmd string) (string, error) {
	if proc == nil {
		return "", fmt.Errorf("already stopped")
	}
	type result struct {
		line string
		err  error
	}
	res := make(chan result, 1)
	go func() {
		if _, err := io.WriteString(stdin, cmd+"\n"); err != nil {
			res <- result{"", err}
			return
		}
		line, err := proc.stdout.ReadString('\n')
		res <- result{strings.TrimSpace(line), err}
	}()
	select {
	case r := <-res:
		if r.err != nil {
			return "", fmt.Errorf("%v\n%s", r.err, proc.stderr)
		}
		if rest, ok := strings.CutPrefix(r.line, "ok"); ok {
			return strings.TrimSpace(rest), nil
		}
		msg, _ := strings.CutPrefix(r.line, "error ")
		return "", fmt.Errorf("%s", msg)
	case <-time.After(10 * time.Second):
		return "", fmt.Errorf("no answer in 10s\n%s", proc.stderr)
	}
}

func (p *FaultProxy) stop(t testing.TB) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc == nil {
		return
	}
	if err := stopDriven(p.proc, p.stdin); err != nil {
		t.Errorf("synctest: stopping the fault proxy: %v", err)
	}
	p.proc = nil
}

// stopDriven stops a helper driven over stdin: closing stdin is its cue
// to exit; SIGTERM is the fallback.
func stopDriven(proc *child, stdin io.Closer) error {
	stdin.Close()
	select {
	case <-proc.done:
		proc.pipe.Close()
		return nil
	case <-time.After(5 * time.Second):
		return proc.stop()
	}
}
