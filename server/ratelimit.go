package server

import (
	"net"
	"net/http"
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

// maxBuckets bounds the limiter's memory; when full it starts afresh
// (every client gets a full burst again), which errs on the side of
// serving.
const maxBuckets = 100_000

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
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[ip]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			clear(l.buckets)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[ip] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	}
	b.tokens--
	return true, 0
}
