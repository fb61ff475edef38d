package main

import "net"

// On Windows a unix socket's peer cannot be checked: the serving process
// listens on a loopback port and callers prove they are its user with a
// token only that user can read (remote_token.go).
func listenRemote(path string) (net.Listener, func(net.Conn) error, error) {
	return listenToken(path)
}

func dialRemote(path string) (net.Conn, error) { return dialToken(path) }
