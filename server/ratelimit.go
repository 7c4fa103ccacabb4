package server

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// RateLimit limits the route to perSecond requests per client IP address,
// with bursts up to burst; past that the answer is 429 with Retry-After.
// It is meant for public routes that write (the cookie banner's choice,
// unsubscribe links), where no token identifies the caller.
func RateLimit(perSecond float64, burst int) RouteOption {
	l := &limiter{rate: perSecond, burst: float64(burst), buckets: map[string]*bucket{}}
	return func(r *route) { r.limit = l }
}

type limiter struct {
	rate, burst float64
	mu          sync.Mutex
	buckets     map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxBuckets bounds the limiter's memory. When it is reached, the buckets
// that have refilled (idle long enough to be full again) are dropped —
// forgetting them forgives nothing — and only if every bucket is still
// in use are new clients counted together in one shared bucket, rather
// than everyone being given a fresh burst.
const maxBuckets = 100_000

// overflow is the shared bucket of clients beyond maxBuckets.
const overflow = "(overflow)"

// clientKey is what one bucket counts: an IPv4 address, or an IPv6
// address's /64 — one subscriber's network, through which a client can
// rotate addresses at will.
func clientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, err := a.Prefix(64)
		if err == nil {
			return p.String()
		}
	}
	return a.String()
}

// RemoteIP is the client address of a request as the connection shows it.
func RemoteIP(r *http.Request) string {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return ip
}

// ForwardedIP is the client address a reverse proxy in front of Vow
// reports: the last entry of X-Forwarded-For (the one the proxy added; the
// ones before it are the client's say-so), else the connection's address.
// Use it only behind a proxy that sets the header.
func ForwardedIP(r *http.Request) string {
	xff := r.Header.Values("X-Forwarded-For")
	if len(xff) == 0 {
		return RemoteIP(r)
	}
	last := xff[len(xff)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	if ip := strings.TrimSpace(last); ip != "" {
		return ip
	}
	return RemoteIP(r)
}

func (l *limiter) allow(ip string, now time.Time) (bool, time.Duration) {
	key := clientKey(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.sweep(now)
		}
		if len(l.buckets) >= maxBuckets {
			key = overflow
			b = l.buckets[key]
		}
		if b == nil {
			b = &bucket{tokens: l.burst, last: now}
			l.buckets[key] = b
		}
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	}
	b.tokens--
	return true, 0
}

// sweep drops the buckets that have refilled: a client idle that long
// would get a full burst anyway.
func (l *limiter) sweep(now time.Time) {
	full := time.Duration(l.burst / l.rate * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.last) >= full {
			delete(l.buckets, k)
		}
	}
}
