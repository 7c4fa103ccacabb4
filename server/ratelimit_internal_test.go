package server

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// TestRateLimitIPv6Prefix: addresses of one IPv6 /64 share a bucket, so
// rotating through them buys nothing; IPv4 addresses (mapped or not) are
// one each.
func TestRateLimitIPv6Prefix(t *testing.T) {
	l := newLimiter(1, 3)
	now := time.Now()
	allowed := 0
	for i := range 10 {
		if ok, _ := l.allow(fmt.Sprintf("2001:db8:1:2::%x", i+1), now); ok {
			allowed++
		}
	}
	if allowed != 3 {
		t.Errorf("%d of 10 requests from one /64 allowed; want the burst of 3", allowed)
	}
	if ok, _ := l.allow("2001:db8:1:3::1", now); !ok {
		t.Error("another /64 was refused")
	}
	if clientKey("::ffff:192.0.2.7") != clientKey("192.0.2.7") {
		t.Error("an IPv4-mapped address counts apart from its IPv4 form")
	}
}

// TestRateLimitFull: when the buckets are full, the idle ones go and the
// busy ones stay (nobody gets a fresh burst by flooding the table); when
// every bucket is busy, newcomers are let through rather than locked out
// together, and the table is not walked again before buckets can refill.
func TestRateLimitFull(t *testing.T) {
	l := newLimiter(1, 2)
	now := time.Now()
	for range 2 {
		l.allow("198.51.100.1", now) // the busy client spends its burst
	}
	for i := range maxBuckets {
		l.buckets[fmt.Sprintf("idle-%d", i)] = rate.NewLimiter(1, 2) // full: idle
	}
	if ok, _ := l.allow("203.0.113.9", now); !ok {
		t.Error("a new client was refused after the sweep")
	}
	if ok, _ := l.allow("198.51.100.1", now); ok {
		t.Error("the busy client got a fresh burst when the table filled")
	}

	// Now every bucket is busy.
	later := now.Add(3 * time.Second) // past the refill interval: a sweep may run
	for i := range maxBuckets {
		b := rate.NewLimiter(1, 2)
		b.AllowN(later, 2)
		l.buckets[fmt.Sprintf("busy-%d", i)] = b
	}
	for i := range 5 {
		if ok, _ := l.allow(fmt.Sprintf("192.0.2.%d", i+1), later); !ok {
			t.Errorf("newcomer %d was refused while the table was full", i+1)
		}
	}
	if l.swept != later {
		t.Errorf("last sweep at %v, want %v", l.swept, later)
	}
	n := len(l.buckets)
	l.allow("192.0.2.200", later.Add(time.Second)) // within the refill interval: no sweep
	if l.swept != later || len(l.buckets) != n {
		t.Error("the table was swept again within the refill interval")
	}
}
