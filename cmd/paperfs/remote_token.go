package main

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Where a unix socket's owner cannot be checked (Windows), the serving
// process listens on a loopback TCP port instead and writes the port and
// a random token to the file at the socket's path, readable by its user
// only (in the user's data dir, whose ACL is the user's on Windows); a
// caller must send the token first.
const frameToken = 't' // caller → server: the token, before the request

func listenToken(path string) (ln net.Listener, check func(net.Conn) error, err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("socket directory %s: %w", dir, err)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, nil, err
	}
	token := hex.EncodeToString(b[:])
	if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, nil, err
	}
	tmp := path + ".tmp"
	err = os.WriteFile(tmp, []byte(ln.Addr().String()+" "+token+"\n"), 0o600)
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		ln.Close()
		os.Remove(tmp)
		return nil, nil, fmt.Errorf("writing %s: %w", path, err)
	}
	check = func(conn net.Conn) error {
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		defer conn.SetReadDeadline(time.Time{})
		typ, got, err := readFrame(conn)
		if err != nil || typ != frameToken || subtle.ConstantTimeCompare(got, []byte(token)) != 1 {
			return fmt.Errorf("it serves only the user who can read %s", path)
		}
		return nil
	}
	return ln, check, nil
}

func dialToken(path string) (net.Conn, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoServer, err)
	}
	line, err := bufio.NewReader(f).ReadString('\n')
	f.Close()
	addr, token, ok := strings.Cut(strings.TrimSpace(line), " ")
	if err != nil || !ok {
		return nil, fmt.Errorf("%w: %s is unreadable", errNoServer, path)
	}
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoServer, err)
	}
	if err := writeFrame(conn, frameToken, []byte(token)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("%w: %v", errNoServer, err)
	}
	return conn, nil
}
