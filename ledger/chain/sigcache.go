package chain

import (
	"crypto/ed25519"
	"crypto/sha256"
	"lianzheng/internal/edkey"
	"sync"
	"time"
)

// sigCache remembers Ed25519 verifications that succeeded, so a transaction's signature is
// checked once per validator rather than in CheckTx, again in every recheck and again in
// FinalizeBlock. Verification is a pure function of (key, message, signature), so the cache
// never changes a result; it only keeps successes and is bounded (cleared when full). Each
// App has its own, so validators sharing a process (tests, the loopback benchmark) each
// verify every signature as separate processes would. Whether the key was valid *at the
// transaction's time* is still decided on every execution, from the state.
type sigCache struct {
	mu   sync.Mutex
	seen map[[32]byte]struct{}
}

const sigCacheMax = 1 << 16

func newSigCache() *sigCache { return &sigCache{seen: make(map[[32]byte]struct{})} }

func sigCacheKey(pub ed25519.PublicKey, msg, sig []byte) [32]byte {
	h := sha256.New()
	h.Write(pub)
	h.Write(sig)
	h.Write(msg)
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// verify reports whether sig is a valid Ed25519 signature of msg by pub.
func (c *sigCache) verify(pub ed25519.PublicKey, msg, sig []byte) bool {
	k := sigCacheKey(pub, msg, sig)
	c.mu.Lock()
	_, ok := c.seen[k]
	c.mu.Unlock()
	if ok {
		return true
	}
	if !edkey.Verify(pub, msg, sig) {
		return false
	}
	c.mu.Lock()
	if len(c.seen) >= sigCacheMax {
		clear(c.seen)
	}
	c.seen[k] = struct{}{}
	c.mu.Unlock()
	return true
}

// keyCache remembers which signing keys resolved successfully: (the stored bytes of the
// signer's DID history, key fragment, time) -> the Ed25519 key that was valid then, not
// compromised, for authentication or assertionMethod. Resolving decodes
// and validates the whole history (every key's multikey); within a block every transaction
// of a signer resolves against the same history bytes at the same time. A pure function of
// its key, so it never changes a result; bounded, cleared when full.
type keyCache struct {
	mu   sync.Mutex
	recs map[keyCacheKey]ed25519.PublicKey
}

type keyCacheKey struct {
	history  string // raw stored history
	fragment string
	at       int64 // UnixNano
}

const keyCacheMax = 4096

func newKeyCache() *keyCache { return &keyCache{recs: make(map[keyCacheKey]ed25519.PublicKey)} }

func (c *keyCache) get(history []byte, fragment string, at time.Time) (ed25519.PublicKey, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.recs[keyCacheKey{string(history), fragment, at.UnixNano()}]
	return r, ok
}

func (c *keyCache) put(history []byte, fragment string, at time.Time, k ed25519.PublicKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.recs) >= keyCacheMax {
		clear(c.recs)
	}
	c.recs[keyCacheKey{string(history), fragment, at.UnixNano()}] = k
}
