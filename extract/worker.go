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
	"strings"
	"time"
)

// DefaultTimeout is the per-file deadline of Runner.File.
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
}

// workerReply is what the worker writes on stdout.
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
	res := fallback(path)
	if err := ctx.Err(); err != nil {
		return res, err
	}
	exe := r.Exe
	if exe == "" {
		exe = os.Args[0]
	}
	args := r.Args
	if args == nil {
		args = []string{WorkerArg}
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(wctx, exe, args...)
	// The path goes on stdin so names that look like flags stay harmless.
	cmd.Stdin = strings.NewReader(path + "\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &limitedBuffer{max: 4096, buf: &stderr}
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1", "GOMEMLIMIT=1GiB")
	cmd.WaitDelay = time.Second
	start := time.Now()
	err := cmd.Run()
	switch {
	case ctx.Err() != nil:
		return res, ctx.Err()
	case wctx.Err() != nil:
		res.Problems = append(res.Problems, fmt.Sprintf("extraction timed out after %v; imported with the file name as title", timeout.Round(time.Millisecond)))
		return res, nil
	}
	var reply workerReply
	if jerr := json.Unmarshal(stdout.Bytes(), &reply); jerr != nil {
		if err == nil {
			err = jerr
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) && stdout.Len() == 0 {
			return res, fmt.Errorf("extraction worker %s: %w", exe, err)
		}
		msg := strings.TrimSpace(stderr.String())
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		res.Problems = append(res.Problems, fmt.Sprintf("extraction worker failed after %v: %v %s", time.Since(start).Round(time.Millisecond), err, msg))
		return res, nil
	}
	if reply.Result.Confidence == nil {
		reply.Result.Confidence = map[string]float64{}
	}
	if reply.Error != "" {
		return reply.Result, errors.New(reply.Error)
	}
	return reply.Result, nil
}

// WorkerMain is what the worker process runs: it reads a path from its
// arguments (the first one that is not WorkerArg) or else from the first
// line of stdin, and writes the JSON result to stdout. It returns the exit
// code: 0 when a result was written, 2 on usage or I/O errors.
func WorkerMain(args []string, stdin io.Reader, stdout io.Writer) int {
	var path string
	for _, a := range args {
		if a != WorkerArg && a != "" {
			path = a
			break
		}
	}
	if path == "" {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			fmt.Fprintln(os.Stderr, "extract worker: no path given")
			return 2
		}
		path = strings.TrimRight(line, "\r\n")
	}
	var reply workerReply
	data, err := readFile(path)
	if err != nil {
		reply.Result = fallback(path)
		reply.Result.Problems = append(reply.Result.Problems, err.Error())
		reply.Error = err.Error()
	} else {
		res, err := Bytes(context.Background(), data, path)
		reply.Result = res
		if err != nil {
			reply.Error = err.Error()
		}
	}
	if err := json.NewEncoder(stdout).Encode(reply); err != nil {
		fmt.Fprintln(os.Stderr, "extract worker:", err)
		return 2
	}
	return 0
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

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	max int
	buf *bytes.Buffer
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
