package extract

import (
	"context"
	"os"
	"sync"
)

// Pool is a Runner whose worker processes are kept between calls, so
// File can be called from several goroutines (one per core) without a
// process start per file. A worker that times out or crashes is dropped and
// the next call starts a fresh one. Close stops the idle workers; the zero
// Pool is ready to use and keeps at most 2 idle.
type Pool struct {
	Runner
	MaxIdle int // workers kept between calls; default 2

	mu     sync.Mutex // protects the following
	idle   []*worker
	closed bool
}

// File extracts from one file as Runner.File does, reusing an idle worker.
func (p *Pool) File(ctx context.Context, path string) (Result, error) {
	return p.run(ctx, request{name: path})
}

// Open extracts from a file the caller opened, whose bytes are sent to the
// worker; name is its path or name, for the fallback title. The caller
// closes f.
func (p *Pool) Open(ctx context.Context, name string, f *os.File) (Result, error) {
	return p.run(ctx, request{name: name, file: f})
}

func (p *Pool) run(ctx context.Context, req request) (Result, error) {
	path := req.name
	if err := ctx.Err(); err != nil {
		return fallback(path), err
	}
	w, err := p.get()
	if err != nil {
		return fallback(path), err
	}
	res, err, ok := w.extract(ctx, req, p.timeout())
	if ok && ctx.Err() == nil {
		p.put(w)
	} else {
		w.stop()
	}
	if cerr := ctx.Err(); cerr != nil {
		return res, cerr
	}
	if err == nil {
		res = p.improve(ctx, req, res)
	}
	return res, err
}

func (p *Pool) get() (*worker, error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return w, nil
	}
	p.mu.Unlock()
	return p.start()
}

func (p *Pool) put(w *worker) {
	p.mu.Lock()
	max := p.MaxIdle
	if max <= 0 {
		max = 2
	}
	if !p.closed && len(p.idle) < max {
		p.idle = append(p.idle, w)
		w = nil
	}
	p.mu.Unlock()
	if w != nil {
		w.stop()
	}
}

// Close stops the idle workers and waits for them to exit. Calls still
// running finish and stop their worker; File after Close still works, with
// a process per call.
func (p *Pool) Close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, w := range idle {
		w.stop()
	}
}
