package oid4vci

import (
	"net"
	"sync"
	"time"
)

// Nonces (c_nonce, OpenID4VCI 1.0 §7). The nonce endpoint is not a protected resource: anyone
// may ask for a nonce, so the nonces are tracked server-wide, not per access token, and a
// proof may carry a nonce obtained from the nonce endpoint, from the token response (older
// wallets) or from an invalid_nonce error. Each nonce is random (128 bits), expires after
// NonceTTL and is consumed by the first proof that carries it (a replayed proof is
// invalid_nonce).
//
// Threat: a flood of nonce requests exhausting memory. The store holds at most MaxNonces
// live nonces (expired ones are swept when it fills up); when it is full of live nonces a
// request is refused (503) instead of evicting nonces real wallets are about to use. Each
// client (an IPv4 address, or an IPv6 /64, the connection's — never a forwarded header)
// gets nonces at a bounded rate (a token bucket of NonceBurst, refilled at NonceRate per
// second; 429 beyond it); the table of clients is bounded too.

// Defaults of the nonce store.
const (
	DefaultMaxNonces  = 1 << 16
	DefaultNonceBurst = 60
	DefaultNonceRate  = 10.0 // nonces per second and client, sustained
	maxClients        = 1 << 12
)

type nonceRefusal int

const (
	nonceOK      nonceRefusal = iota
	nonceLimited              // the client asks too fast (429)
	nonceFull                 // the store is full of live nonces (503)
)

// nonceStore is the server-wide set of live nonces and the per-client rate limit.
type nonceStore struct {
	mu      sync.Mutex
	live    map[string]time.Time // nonce → expiry
	clients map[string]*bucket
	swept   time.Time // nonces last swept
	cswept  time.Time // clients last swept (at most once a second: a sweep walks them all)
}

type bucket struct {
	tokens float64
	last   time.Time
}

// issue returns a new nonce for client, valid until now+ttl, or why none is given.
func (s *nonceStore) issue(client string, now time.Time, ttl time.Duration, maxLive, burst int, rate float64) (string, nonceRefusal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.live == nil {
		s.live, s.clients = map[string]time.Time{}, map[string]*bucket{}
	}
	if !s.take(client, now, burst, rate) {
		return "", nonceLimited
	}
	if len(s.live) >= maxLive || now.Sub(s.swept) > ttl {
		s.sweep(now)
	}
	if len(s.live) >= maxLive {
		return "", nonceFull
	}
	n := randToken(16)
	s.live[n] = now.Add(ttl)
	return n, nonceOK
}

// take spends one token of client's bucket.
func (s *nonceStore) take(client string, now time.Time, burst int, rate float64) bool {
	b := s.clients[client]
	if b == nil {
		if len(s.clients) >= maxClients && now.Sub(s.cswept) >= time.Second {
			s.sweepClients(now, burst, rate)
		}
		if len(s.clients) >= maxClients {
			return false // a flood from very many addresses: nobody new until buckets refill
		}
		b = &bucket{tokens: float64(burst), last: now}
		s.clients[client] = b
	}
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(float64(burst), b.tokens+d.Seconds()*rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// sweepClients forgets the clients whose bucket is full again (they are as new).
func (s *nonceStore) sweepClients(now time.Time, burst int, rate float64) {
	for k, b := range s.clients {
		if b.tokens+now.Sub(b.last).Seconds()*rate >= float64(burst) {
			delete(s.clients, k)
		}
	}
	s.cswept = now
}

// sweep drops expired nonces.
func (s *nonceStore) sweep(now time.Time) {
	for n, exp := range s.live {
		if !now.Before(exp) {
			delete(s.live, n)
		}
	}
	s.swept = now
}

// consume reports whether n is a live nonce, and makes it unusable.
func (s *nonceStore) consume(n string, now time.Time) bool {
	if n == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.live[n]
	if !ok {
		return false
	}
	delete(s.live, n)
	return now.Before(exp)
}

// size is the number of nonces held (live or not yet swept).
func (s *nonceStore) size() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.live)
}

// clientKey is the rate-limit key of a client address: the IPv4 address, or the /64 of an
// IPv6 address (one subscriber holds a whole /64).
func clientKey(addr string) string {
	ip := net.ParseIP(addr)
	if ip == nil {
		return addr
	}
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}
