package extract

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// DefaultTimeout is the per-file deadline of Runner.File and Runner.Files.
const DefaultTimeout = 20 * time.Second

// WorkerArg is the default argument that makes the program act as the
// extraction worker; cmd/paperfs wires it as a hidden subcommand.
const WorkerArg = "__extract-worker"

// maxFileSize bounds what the worker reads; research papers are far smaller.
const maxFileSize = 512 << 20

// Runner extracts in a separate worker process so a hostile PDF can neither
// crash nor hang the caller: the worker is killed at the deadline.
type Runner struct {
	Exe     string   // program to run as the worker; default os.Args[0]
	Args    []string // args that make Exe act as the worker, default []string{"__extract-worker"}
	Timeout time.Duration
	// OCR, if set, reads page 1 of a PDF whose text cannot be read (a
	// scan, bitmap fonts) after the worker found no title in it.
	OCR *OCR
}

// workerReply is one line the worker writes on stdout.
type workerReply struct {
	Result Result
	Error  string `json:",omitempty"`
}

// File extracts from the file at path in a worker process. On a timeout or
// a crash of the worker the Result holds the file-name fallback and a
// Problem saying what happened, and the error is nil: the file can still be
// imported. The error is non-nil when the PDF could not be parsed at all,
// when the worker cannot be started, or when ctx is cancelled.
func (r Runner) File(ctx context.Context, path string) (Result, error) {
	res, err := fallback(path), error(nil)
	ferr := r.Files(ctx, []string{path}, func(_ string, rr Result, e error) {
		res, err = rr, e
	})
	if ferr != nil {
		return res, ferr
	}
	return res, err
}

// Files extracts from many files with one worker process, which saves a
// process start per file; a worker that times out or crashes is replaced
// and the next file goes to a fresh one. done is called for each path in
// order, with what File would return for it. Files returns early with an
// error only if ctx is cancelled or the worker cannot be started.
func (r Runner) Files(ctx context.Context, paths []string, done func(path string, res Result, err error)) error {
	var w *worker
	defer func() {
		if w != nil {
			w.stop()
		}
	}()
	for _, path := range paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		if w == nil {
			var err error
			if w, err = r.start(); err != nil {
				return err
			}
		}
		res, err, ok := w.extract(ctx, request{name: path}, r.timeout())
		if !ok {
			w.stop()
			w = nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil {
			res = r.improve(ctx, request{name: path}, res)
		}
		done(path, res, err)
	}
	return nil
}

func (r Runner) timeout() time.Duration {
	if r.Timeout <= 0 {
		return DefaultTimeout
	}
	return r.Timeout
}

// worker is one running worker process.
type worker struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan []byte // replies; closed when the worker's stdout ends
	stderr *limitedBuffer
	reader sync.WaitGroup // the goroutine that reads stdout
}

func (r Runner) start() (*worker, error) {
	exe := r.Exe
	if exe == "" {
		exe = os.Args[0]
	}
	args := r.Args
	if args == nil {
		args = []string{WorkerArg}
	}
	cmd := exec.Command(exe, args...)
	// Callers run one worker per core; the soft memory limit makes the
	// collector work harder before a decompression bomb takes the machine.
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1", "GOMEMLIMIT=768MiB")
	w := &worker{cmd: cmd, lines: make(chan []byte), stderr: &limitedBuffer{max: 4096}}
	cmd.Stderr = w.stderr
	cmd.WaitDelay = time.Second // a grandchild holding stderr open must not stall Wait
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("extraction worker %s: %w", exe, err)
	}
	w.stdin = stdin
	w.reader.Add(1)
	go func() {
		defer w.reader.Done()
		defer close(w.lines)
		br := bufio.NewReader(stdout)
		for {
			line, err := br.ReadBytes('\n')
			if len(line) > 0 && err == nil {
				w.lines <- line
			}
			if err != nil {
				return
			}
		}
	}()
	return w, nil
}

// request is one file for a worker: a path it opens itself, or an open
// file whose bytes are sent to it (the caller opened it safely: a worker
// never resolves a path in the library folder, where a symlink could be
// swapped in between the caller's check and the worker's open).
// improve reads page 1 by OCR when the worker found no title on it.
func (r Runner) improve(ctx context.Context, req request, res Result) Result {
	if r.OCR == nil || !Unreadable(res) {
		return res
	}
	data, err := req.bytes()
	if err != nil {
		res.Problems = append(res.Problems, "OCR of page 1: "+err.Error())
		return res
	}
	return r.OCR.Improve(ctx, res, data, filepath.Base(req.name))
}

type request struct {
	name string   // the file's path or name, for the fallback title and messages
	file *os.File // nil: the worker opens name
}

// bytes reads the request's file again, from its start.
func (req request) bytes() ([]byte, error) {
	if req.file == nil {
		return readFile(req.name)
	}
	if _, err := req.file.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("%s: %w", req.name, err)
	}
	data, err := io.ReadAll(io.LimitReader(req.file, maxFileSize))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", req.name, err)
	}
	return data, nil
}

// header is what precedes a file's bytes on the worker's stdin.
type header struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
}

// send writes the request to the worker.
func (w *worker) send(req request) error {
	if req.file == nil {
		line, _ := json.Marshal(req.name) // quoted, so a newline in a name cannot split it
		_, err := w.stdin.Write(append(line, '\n'))
		return err
	}
	st, err := req.file.Stat()
	if err != nil {
		return err
	}
	if st.Size() > maxFileSize {
		return fmt.Errorf("%s: larger than %d MiB, not read", req.name, maxFileSize>>20)
	}
	line, _ := json.Marshal(header{Name: req.name, Size: st.Size()})
	if _, err := w.stdin.Write(append(line, '\n')); err != nil {
		return err
	}
	n, err := io.Copy(w.stdin, io.LimitReader(req.file, st.Size()))
	if err == nil && n < st.Size() {
		// The file shrank while it was sent: pad, so the worker reads
		// what it was told and the protocol stays in step.
		_, err = w.stdin.Write(make([]byte, st.Size()-n))
	}
	return err
}

// extract asks the worker for one file. ok is false when the worker must
// not be used again (it timed out, crashed or broke the protocol).
func (w *worker) extract(ctx context.Context, req request, timeout time.Duration) (res Result, err error, ok bool) {
	res = fallback(req.name)
	start := time.Now()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	sent := make(chan error, 1)
	go func() { sent <- w.send(req) }()
	for {
		select {
		case <-ctx.Done():
			return res, ctx.Err(), false
		case <-timer.C:
			res.Problems = append(res.Problems, fmt.Sprintf("extraction timed out after %v; imported with the file name as title", timeout.Round(time.Millisecond)))
			return res, nil, false
		case serr := <-sent:
			if serr != nil {
				return res, nil, w.failed(&res, start, serr)
			}
			sent = nil // wait for the reply
		case line, open := <-w.lines:
			if !open {
				return res, nil, w.failed(&res, start, errors.New("worker exited"))
			}
			var reply workerReply
			if jerr := json.Unmarshal(line, &reply); jerr != nil {
				return res, nil, w.failed(&res, start, jerr)
			}
			if reply.Result.Confidence == nil {
				reply.Result.Confidence = map[string]float64{}
			}
			if reply.Error != "" {
				return reply.Result, errors.New(reply.Error), true
			}
			return reply.Result, nil, true
		}
	}
}

// failed records a worker crash in res.Problems; it returns false for
// extract's ok.
func (w *worker) failed(res *Result, start time.Time, err error) bool {
	w.stop()
	msg := strings.TrimSpace(w.stderr.String())
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	if w.cmd.ProcessState != nil && !w.cmd.ProcessState.Success() {
		err = fmt.Errorf("%v (%v)", err, w.cmd.ProcessState)
	}
	res.Problems = append(res.Problems, strings.TrimSpace(fmt.Sprintf("extraction worker failed after %v: %v %s", time.Since(start).Round(time.Millisecond), err, msg)))
	return false
}

// stop kills the worker if it still runs and waits for it and its reader.
func (w *worker) stop() {
	if w.cmd.ProcessState != nil {
		return
	}
	w.stdin.Close()
	done := make(chan struct{})
	go func() {
		// Drain replies nobody waits for, so the reader can finish.
		for range w.lines {
		}
		close(done)
	}()
	exited := make(chan struct{})
	go func() {
		select {
		case <-exited:
		case <-time.After(200 * time.Millisecond):
			w.cmd.Process.Kill()
		}
	}()
	w.cmd.Wait()
	close(exited)
	<-done
	w.reader.Wait()
}

// WorkerMain is what the worker process runs: it extracts from the path in
// its arguments (the first one that is not WorkerArg), or else from each
// line of stdin in turn (a path, or a JSON-quoted path), and writes one JSON
// result line per path to stdout. It returns the exit code: 0 when results
// were written, 2 on usage or I/O errors.
func WorkerMain(args []string, stdin io.Reader, stdout io.Writer) int {
	// Ctrl-C reaches the whole foreground process group. The caller
	// decides what an interrupt means and stops its workers itself; a
	// worker dying first would look like a crash on that file.
	signal.Ignore(os.Interrupt)
	out := bufio.NewWriter(stdout)
	enc := json.NewEncoder(out)
	reply := func(r workerReply) bool {
		if err := enc.Encode(r); err != nil {
			fmt.Fprintln(os.Stderr, "extract worker:", err)
			return false
		}
		if err := out.Flush(); err != nil {
			fmt.Fprintln(os.Stderr, "extract worker:", err)
			return false
		}
		return true
	}
	one := func(path string) bool { return reply(extractPath(path)) }
	for _, a := range args {
		if a != WorkerArg && a != "" {
			if !one(a) {
				return 2
			}
			return 0
		}
	}
	in := bufio.NewReader(stdin)
	n := 0
	for {
		line, err := in.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(line, "{") {
			var h header
			if json.Unmarshal([]byte(line), &h) != nil || h.Size < 0 || h.Size > maxFileSize {
				fmt.Fprintln(os.Stderr, "extract worker: bad request", line)
				return 2
			}
			data := make([]byte, h.Size)
			if _, err := io.ReadFull(in, data); err != nil {
				fmt.Fprintln(os.Stderr, "extract worker:", err)
				return 2
			}
			if !reply(extractData(h.Name, data)) {
				return 2
			}
			n++
			continue
		}
		if line != "" {
			path := line
			if strings.HasPrefix(line, `"`) {
				if json.Unmarshal([]byte(line), &path) != nil {
					path = line
				}
			}
			if !one(path) {
				return 2
			}
			n++
		}
		if err != nil {
			break
		}
	}
	if n == 0 {
		fmt.Fprintln(os.Stderr, "extract worker: no path given")
		return 2
	}
	return 0
}

func extractPath(path string) workerReply {
	data, err := readFile(path)
	if err != nil {
		var reply workerReply
		reply.Result = fallback(path)
		reply.Result.Problems = append(reply.Result.Problems, err.Error())
		reply.Error = err.Error()
		return reply
	}
	return extractData(path, data)
}

// extractData extracts from a file's bytes; name is its path or name.
func extractData(name string, data []byte) workerReply {
	var reply workerReply
	res, err := Bytes(context.Background(), data, name)
	reply.Result = res
	if err != nil {
		reply.Error = err.Error()
	}
	return reply
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%s: larger than %d MiB, not read", path, maxFileSize>>20)
	}
	return data, nil
}

// limitedBuffer keeps the first max bytes written to it; the worker's
// stderr is written from exec's copying goroutine and read after Wait.
type limitedBuffer struct {
	mu  sync.Mutex // protects buf
	max int
	buf bytes.Buffer
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.max - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
