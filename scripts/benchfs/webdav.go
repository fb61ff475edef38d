//go:build linux

package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// webdav compares paperfs serve webdav with rclone serve webdav (the same
// x/net/webdav protocol code over rclone's VFS) on loopback: a cold GET of
// the read benchmark's large PDF, served natively by rclone, and a depth-1
// PROPFIND of all/ in the large library against rclone serving the native
// directory that holds the same names.
func (b *bench) webdav(mib, papers int) {
	if _, err := exec.LookPath("rclone"); err != nil {
		fail("rclone is not installed: run scripts/test-deps")
	}
	lib, data := b.readLibrary(mib)
	path := filepath.Join(lib, "big.pdf")
	pfs, stopP := b.serveWebDAV(lib, data)
	rc, stopR := serveRclone(filepath.Dir(path))
	var native, served []time.Duration
	size := int64(0)
	for i := 0; i < b.runs; i++ {
		dropCaches()
		d, _ := timeGet(rc + "big.pdf")
		native = append(native, d)
		dropCaches()
		d, size = timeGet(pfs + "all/Big.pdf")
		served = append(served, d)
	}
	stopP()
	stopR()
	n, m := median(native), median(served)
	mb := float64(size) / (1 << 20)
	fmt.Printf("webdav GET %d MiB, cold: rclone serve webdav %.0f MiB/s, paperfs %.0f MiB/s, paperfs/rclone throughput %.2fx\n",
		mib, mb/n.Seconds(), mb/m.Seconds(), n.Seconds()/m.Seconds())

	lib, data = b.library(papers)
	pfs, stopP = b.serveWebDAV(lib, data)
	rc, stopR = serveRclone(filepath.Join(b.dir, "native"))
	native, served = nil, nil
	var names int
	// A first listing of each warms what each keeps (rclone's directory
	// cache, the page cache of the store's file), then the median of runs.
	timePropfind(rc)
	timePropfind(pfs + "all/")
	for i := 0; i < b.runs; i++ {
		d, _ := timePropfind(rc)
		native = append(native, d)
		d, names = timePropfind(pfs + "all/")
		served = append(served, d)
	}
	stopP()
	stopR()
	n, m = median(native), median(served)
	fmt.Printf("webdav PROPFIND depth 1 of %d names: rclone serve webdav %s, paperfs all/ %s, paperfs/rclone time %.2fx\n",
		names, n.Round(time.Millisecond), m.Round(time.Millisecond), m.Seconds()/n.Seconds())
}

// readLibrary is the read benchmark's one-paper library with its large PDF.
func (b *bench) readLibrary(mib int) (lib, data string) {
	lib, data = filepath.Join(b.dir, "readlib"), filepath.Join(b.dir, "readdata")
	if st, err := os.Stat(filepath.Join(lib, "big.pdf")); err == nil && st.Size() == int64(mib)<<20+9 {
		return lib, data
	}
	os.RemoveAll(lib)
	os.RemoveAll(data)
	b.makeReadLibrary(mib, lib, data)
	return lib, data
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	defer ln.Close()
	return ln.Addr().String()
}

// waitHTTP waits until url answers, or fails the benchmark.
func waitHTTP(url string, logs *bytes.Buffer) {
	start := time.Now()
	for {
		req, _ := http.NewRequest("PROPFIND", url, nil)
		req.Header.Set("Depth", "0")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			return
		}
		if time.Since(start) > 60*time.Second {
			fail("server at " + url + " did not come up: " + logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (b *bench) serveWebDAV(lib, data string) (url string, stop func()) {
	addr := freeAddr()
	cmd := exec.Command(b.bin, "--library", lib, "--data-dir", data, "serve", "webdav", "--addr", addr)
	cmd.Env = append(os.Environ(), "PAPERFS_CONFIG="+filepath.Join(b.dir, "none.json"))
	var logs bytes.Buffer
	cmd.Stderr = &logs
	must(cmd.Start())
	url = "http://" + addr + "/"
	waitHTTP(url, &logs)
	return url, func() { unmount(cmd) }
}

func serveRclone(dir string) (url string, stop func()) {
	addr := freeAddr()
	cmd := exec.Command("rclone", "serve", "webdav", dir, "--addr", addr)
	cmd.Env = append(os.Environ(), "RCLONE_CONFIG=/dev/null")
	var logs bytes.Buffer
	cmd.Stderr = &logs
	must(cmd.Start())
	url = "http://" + addr + "/"
	waitHTTP(url, &logs)
	return url, func() {
		cmd.Process.Kill()
		cmd.Wait()
	}
}

func timeGet(url string) (time.Duration, int64) {
	start := time.Now()
	resp, err := http.Get(url)
	must(err)
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		fail(fmt.Sprintf("GET %s: %s", url, resp.Status))
	}
	n, err := io.Copy(io.Discard, resp.Body)
	must(err)
	return time.Since(start), n
}

// timePropfind lists url with depth 1 and returns the time to the end of
// the answer and the number of entries in it (the directory excluded).
func timePropfind(url string) (time.Duration, int) {
	req, _ := http.NewRequest("PROPFIND", url, nil)
	req.Header.Set("Depth", "1")
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	must(err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	must(err)
	d := time.Since(start)
	if resp.StatusCode != http.StatusMultiStatus {
		fail(fmt.Sprintf("PROPFIND %s: %s", url, resp.Status))
	}
	return d, strings.Count(string(body), "<D:response>") + strings.Count(string(body), "<d:response>") - 1
}
