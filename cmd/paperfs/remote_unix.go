//go:build unix

package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// maxSocketPath is the shortest limit of a unix socket's path among the
// systems paperfs runs on (macOS: 104 bytes with the terminating NUL).
const maxSocketPath = 103

// listenRemote listens on a unix socket at path, mode 0600 in a
// directory of mode 0700 that this user owns, so no other user can reach
// it; checkPeer, returned as check, refuses any other user all the same.
func listenRemote(path string) (ln net.Listener, check func(net.Conn) error, err error) {
	ln, err = listenUnix(path)
	return ln, checkPeer, err
}

func listenUnix(path string) (net.Listener, error) {
	if len(path) > maxSocketPath {
		return nil, fmt.Errorf("socket %s: the path is longer than the %d bytes a unix socket allows (use a shorter --data-dir)", path, maxSocketPath)
	}
	dir := filepath.Dir(path)
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
		return nil, fmt.Errorf("socket directory %s: %w", dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return nil, fmt.Errorf("socket directory %s: %w", dir, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || !ok || int(st.Uid) != os.Getuid() {
		return nil, fmt.Errorf("socket directory %s is not a directory of this user's; remove it and start again", dir)
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return nil, fmt.Errorf("socket directory %s: %w", dir, err)
		}
	}
	// This process holds the store's lock, so a socket left there is a
	// dead process's.
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("removing the old socket %s: %w", path, err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(true)
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	return ln, nil
}

// dialRemote connects to the process serving the library, or returns
// errNoServer when none answers (no socket, or one a dead process left).
func dialRemote(path string) (net.Conn, error) {
	conn, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoServer, err)
	}
	return conn, nil
}

// checkPeer refuses a connection from another user.
func checkPeer(conn net.Conn) error {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return fmt.Errorf("not a unix socket")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return err
	}
	var uid int
	var uerr error
	if err := raw.Control(func(fd uintptr) { uid, uerr = peerUID(int(fd)) }); err != nil {
		return err
	}
	if uerr != nil {
		return fmt.Errorf("cannot tell which user connected: %w", uerr)
	}
	if uid != os.Getuid() {
		return fmt.Errorf("it serves only its own user (uid %d), not uid %d", os.Getuid(), uid)
	}
	return nil
}
