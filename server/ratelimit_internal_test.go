package server

import (
	"fmt"
	"testing"
	"time"
)

// TestRateLimitIPv6Prefix: addresses of one IPv6 /64 share a bucket, so
// rotating through them buys nothing; IPv4 addresses (mapped or not) are
// one each.
func TestRateLimitIPv6Prefix(t *testing.T) {
	l := &limiter{rate: 1, burst: 3, buckets: map[string]*bucket{}}
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
// busy ones stay; nobody gets a fresh burst by flooding the table.
func TestRateLimitFull(t *testing.T) {
	l := &limiter{rate: 1, burst: 2, buckets: map[string]*bucket{}}
	now := time.Now()
	for range 2 {
		l.allow("198.51.100.1", now) // the busy client spends its burst
	}
	for i := range maxBuckets {
		l.buckets[fmt.Sprintf("idle-%d", i)] = &bucket{tokens: 2, last: now.Add(-time.Hour)}
	}
	if ok, _ := l.allow("203.0.113.9", now); !ok {
		t.Error("a new client was refused after the sweep")
	}
	if ok, _ := l.allow("198.51.100.1", now); ok {
		t.Error("the busy client got a fresh burst when the table filled")
	}
}
