package neterr

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
)

func TestReason(t *testing.T) {
	t.Parallel()
	dial := func(err error) error { return &net.OpError{Op: "dial", Net: "tcp", Err: err} }
	tests := []struct {
		name   string
		err    error
		want   string
		wantOK bool
	}{
		{"nil", nil, "", false},
		{"refused", fmt.Errorf("connect: %w", dial(os.NewSyscallError("connect", syscall.ECONNREFUSED))), "connection refused", true},
		{"dns", dial(&net.DNSError{Name: "db.invalid", Err: "no such host", IsNotFound: true}), "host db.invalid not found", true},
		{"deadline", fmt.Errorf("ping: %w", context.DeadlineExceeded), "timed out", true},
		{"host unreachable", dial(syscall.EHOSTUNREACH), "no route to host", true},
		{"other dial error", dial(errors.New("weird")), "weird", true},
		{"unrelated", errors.New("syntax error"), "", false},
		{"canceled", context.Canceled, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := Reason(tt.err)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Reason(%v) = %q, %v; want %q, %v", tt.err, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
