package synctest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

const (
	readyTimeout = 60 * time.Second
	stopTimeout  = 10 * time.Second
)

// child is a helper process (ferretdb or toxiproxy) that announces itself
// with a "ready ADDR" line on stdout.
type child struct {
	name   string
	cmd    *exec.Cmd
	stdout *bufio.Reader // the rest of stdout, after the ready line
	pipe   *os.File      // read end of stdout, closed once the child is reaped
	stderr *LogBuffer
	done   chan struct{} // closed when the process has been waited for
	err    error         // Wait's result; read after done
}

// startChild runs bin with args and waits for its ready line, returning
// the address it names. stdin, if not nil, becomes the child's stdin and
// is closed in this process; env entries are added to this process's
// environment. stdin is a file, not any io.Reader: exec would
// copy a reader in a goroutine that Wait waits for, so a child that died
// could not be reaped while the reader stays open.
func startChild(name, bin string, args, env []string, stdin *os.File) (*child, string, error) {
	c := &child{
		name:   name,
		stderr: &LogBuffer{Max: 64 << 10},
		done:   make(chan struct{}),
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, "", err
	}
	c.cmd = exec.Command(bin, args...)
	if len(env) > 0 {
		c.cmd.Env = append(os.Environ(), env...)
	}
	if stdin != nil {
		c.cmd.Stdin = stdin
		defer stdin.Close()
	}
	// An *os.File as Stdout goes straight to the child: no copying
	// goroutine for Wait to wait on, so we can read at our own pace.
	c.cmd.Stdout = w
	c.cmd.Stderr = c.stderr
	setDeathSignal(c.cmd)
	if err := c.cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, "", err
	}
	w.Close()
	c.pipe = r
	go func() {
		c.err = c.cmd.Wait()
		close(c.done)
	}()

	c.stdout = bufio.NewReader(r)
	type result struct {
		line string
		err  error
	}
	ready := make(chan result, 1)
	go func() {
		line, err := c.stdout.ReadString('\n')
		ready <- result{line, err}
	}()

	var line string
	select {
	case res := <-ready:
		if res.err != nil {
			<-c.done
			r.Close()
			return nil, "", fmt.Errorf("%s exited before it was ready (%v)\n%s", name, c.err, c.stderr)
		}
		line = strings.TrimSpace(res.line)
	case <-time.After(readyTimeout):
		c.kill()
		return nil, "", fmt.Errorf("%s not ready after %s\n%s", name, readyTimeout, c.stderr)
	}
	addr, ok := strings.CutPrefix(line, "ready ")
	if !ok {
		c.kill()
		return nil, "", fmt.Errorf("%s printed %q, want \"ready ADDRESS\"\n%s", name, line, c.stderr)
	}
	return c, addr, nil
}

// stop sends SIGTERM, waits, and sends SIGKILL to the same PID if the
// child hasn't exited in time. It reports how the child ended; a clean
// exit after SIGTERM is nil.
func (c *child) stop() error {
	defer c.pipe.Close()
	select {
	case <-c.done:
		return fmt.Errorf("%s had already exited (%v)\n%s", c.name, c.err, c.stderr)
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
		if c.err != nil {
			return fmt.Errorf("%s exited badly after SIGTERM (%v)\n%s", c.name, c.err, c.stderr)
		}
		return nil
	case <-time.After(stopTimeout):
		c.kill()
		return fmt.Errorf("%s ignored SIGTERM for %s and was killed\n%s", c.name, stopTimeout, c.stderr)
	}
}

// kill sends SIGKILL and waits for the process to be reaped.
func (c *child) kill() {
	_ = c.cmd.Process.Kill()
	<-c.done
	c.pipe.Close()
}
