// Package neterr recognizes network-level failures to reach a database
// server and describes them in a few words, for the driver packages of
// connector.
package neterr

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
)

// Reason reports whether err means the server could not be reached
// (connection refused, unknown host, timeout, network unreachable, or the
// connection dropped during the handshake) and, if so, returns a short
// lower-case description such as "connection refused".
func Reason(err error) (reason string, ok bool) {
	if err == nil {
		return "", false
	}
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return "host " + dnsErr.Name + " not found", true
		}
		if dnsErr.IsTimeout {
			return "timed out resolving host " + dnsErr.Name, true
		}
		return "cannot resolve host " + dnsErr.Name, true
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused", true
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "no route to host", true
	case errors.Is(err, syscall.ENETUNREACH):
		return "network is unreachable", true
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by server", true
	case errors.Is(err, syscall.ENOENT):
		// Dialing a unix socket that does not exist.
		return "no such socket", true
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return "timed out", true
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "server closed the connection", true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		if opErr.Err != nil {
			return opErr.Err.Error(), true
		}
		return "dial failed", true
	}
	return "", false
}

// isTimeout reports whether err, or an error it wraps, is a net.Error
// timeout.
func isTimeout(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}
