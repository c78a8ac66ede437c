package oid4vci

import (
	"sync"
	"time"

	"lianzheng/internal/ratelimit"
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
	mu    sync.Mutex
	live  map[string]time.Time // nonce → expiry
	lim   *ratelimit.Limiter   // made at first use with the server's burst and rate
	swept time.Time            // nonces last swept
}

// issue returns a new nonce for client (a ratelimit.ClientKey), valid until now+ttl, or why
// none is given.
func (s *nonceStore) issue(client string, now time.Time, ttl time.Duration, maxLive, burst int, rate float64) (string, nonceRefusal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.live == nil {
		s.live = map[string]time.Time{}
		s.lim = ratelimit.NewPerSecond(rate, burst).WithMaxClients(maxClients)
	}
	if ok, _ := s.lim.AllowAt(client, now); !ok {
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
