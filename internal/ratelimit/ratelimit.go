// Package ratelimit is the per-client request limit of the public-facing HTTP services (the
// gateway outside verifiers read, the issuance service): a token bucket per client IP
// address, refilled at a steady rate up to a burst.
//
// Threats: a client flooding a public endpoint to exhaust CPU (signatures, proofs) or memory.
// The client is the connection's IP address, never a forwarded header (a client can set
// those); behind a reverse proxy every request shares the proxy's bucket, so the proxy must
// limit per client itself. A client is an IPv4 address or an IPv6 /64 (one subscriber holds
// a whole /64). The table of buckets is bounded (MaxClients): when full, buckets that have
// refilled completely are forgotten (a full bucket carries no state; at most one sweep a
// second); if it is still full — a flood from very many addresses — no new client is let in
// until buckets refill, so a flood can neither grow memory nor reset anyone's limit.
package ratelimit

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// MaxClients bounds the buckets kept.
const MaxClients = 65536

// Limiter limits requests per client.
type Limiter struct {
	rate       float64 // tokens per second
	burst      float64
	maxClients int
	now        func() time.Time

	mu    sync.Mutex
	m     map[string]*bucket
	swept time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// New allows each client perMinute requests a minute, in bursts of up to burst.
func New(perMinute, burst int) *Limiter { return NewPerSecond(float64(perMinute)/60, burst) }

// NewPerSecond allows each client rate requests a second, in bursts of up to burst.
func NewPerSecond(rate float64, burst int) *Limiter {
	return &Limiter{rate: rate, burst: float64(max(burst, 1)), maxClients: MaxClients, now: time.Now, m: map[string]*bucket{}}
}

// WithMaxClients bounds the clients tracked at once (default MaxClients).
func (l *Limiter) WithMaxClients(n int) *Limiter { l.maxClients = max(n, 1); return l }

// WithClock returns l reading time from now (tests).
func (l *Limiter) WithClock(now func() time.Time) *Limiter { l.now = now; return l }

// Allow takes one token from key's bucket; false when it is empty. The second result is how
// long until a token is back (for Retry-After).
func (l *Limiter) Allow(key string) (bool, time.Duration) { return l.AllowAt(key, l.now()) }

// AllowAt is Allow at time now.
func (l *Limiter) AllowAt(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.m[key]
	if !ok {
		if len(l.m) >= l.maxClients && now.Sub(l.swept) >= time.Second {
			l.evict(now)
		}
		if len(l.m) >= l.maxClients {
			return false, time.Second
		}
		b = &bucket{tokens: l.burst, last: now}
		l.m[key] = b
	}
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(l.burst, b.tokens+d.Seconds()*l.rate)
	}
	b.last = now
	if b.tokens < 1 {
		if l.rate <= 0 {
			return false, time.Minute
		}
		return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	}
	b.tokens--
	return true, 0
}

func (l *Limiter) evict(now time.Time) {
	for k, b := range l.m {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.m, k)
		}
	}
	l.swept = now
}

// ClientIP is the client's IP address: the connection's, never a forwarded header.
func ClientIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// ClientKey is the limit's key for a client address: the IPv4 address, or the /64 of an
// IPv6 address.
func ClientKey(addr string) string {
	ip := net.ParseIP(addr)
	if ip == nil {
		return addr
	}
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// Handler wraps next: a client over its limit gets refused (a 429 with Retry-After, written
// by refuse) and next is not called.
func (l *Limiter) Handler(next http.Handler, refuse func(w http.ResponseWriter, r *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, wait := l.Allow(ClientKey(ClientIP(r)))
		if !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
			refuse(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
