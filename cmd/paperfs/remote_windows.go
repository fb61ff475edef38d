package main

import (
	"errors"
	"fmt"
	"net"
)

// On Windows the process holding the store does not listen yet (a named
// pipe with an owner-only security descriptor is the way to add it): a
// command run beside `paperfs serve webdav` fails with the store's lock
// and says so, as before.
var errRemoteWindows = errors.New("not available on Windows: stop the WebDAV server to run this command")

func listenRemote(path string) (net.Listener, error) { return nil, errRemoteWindows }

func dialRemote(path string) (net.Conn, error) {
	return nil, fmt.Errorf("%w: %v", errNoServer, errRemoteWindows)
}

func checkPeer(conn net.Conn) error { return errRemoteWindows }
