package server

import (
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimit limits the route to perSecond requests per client IP address,
// with bursts up to burst; past that the answer is 429 with Retry-After.
// It is meant for public routes that write (the cookie banner's choice,
// unsubscribe links), where no token identifies the caller.
func RateLimit(perSecond float64, burst int) RouteOption {
	l := newLimiter(perSecond, burst)
	return func(r *route) { r.limit = l }
}

// limiter keeps one token bucket (x/time/rate) per client.
type limiter struct {
	rate    rate.Limit
	burst   int
	refill  time.Duration // how long an empty bucket takes to fill
	mu      sync.Mutex
	buckets map[string]*rate.Limiter
	swept   time.Time
	full    bool // the table was full at the last sweep
}

func newLimiter(perSecond float64, burst int) *limiter {
	return &limiter{
		rate:    rate.Limit(perSecond),
		burst:   burst,
		refill:  time.Duration(float64(burst) / perSecond * float64(time.Second)),
		buckets: map[string]*rate.Limiter{},
	}
}

// maxBuckets bounds the limiter's memory. When it is reached, the buckets
// that have refilled are dropped — a client idle that long would get a
// full burst anyway, so forgetting it forgives nothing. The sweep runs at
// most once per refill interval, so a flood of new addresses cannot make
// every request walk the table. If every bucket is still in use, clients
// beyond the bound go unlimited until the next sweep (and a warning is
// logged): counting them together would let one flood lock out every
// newcomer, which is worse for a consent banner than a few more writes.
const maxBuckets = 100_000

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
			if now.Sub(l.swept) >= l.refill {
				l.sweep(now)
			}
			if len(l.buckets) >= maxBuckets {
				return true, 0
			}
		}
		b = rate.NewLimiter(l.rate, l.burst)
		l.buckets[key] = b
	}
	r := b.ReserveN(now, 1)
	if !r.OK() {
		return false, l.refill
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep drops the buckets that have refilled.
func (l *limiter) sweep(now time.Time) {
	l.swept = now
	for k, b := range l.buckets {
		if b.TokensAt(now) >= float64(l.burst) {
			delete(l.buckets, k)
		}
	}
	full := len(l.buckets) >= maxBuckets
	if full && !l.full {
		slog.Warn("rate limit: every bucket in use; new clients go unlimited until buckets refill", "buckets", len(l.buckets))
	}
	l.full = full
}
