// Package testnet holds the network helpers that tests and their private
// servers (databases, the SMTP peer) share.
package testnet

import "net"

// FreePort returns a local TCP port nothing listens on at the moment of
// the call: the kernel's pick for a listener that is closed at once.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
