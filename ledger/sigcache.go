package ledger

import (
	"crypto/ed25519"
	"crypto/sha256"
	"sync"
)

// sigCache remembers Ed25519 verifications that succeeded, so a transaction's signature is
// checked once per process rather than in CheckTx, again in every recheck and again in
// FinalizeBlock. Verification is a pure function of (key, message, signature), so the cache
// can be shared by every App in the process and never changes a result; it only keeps
// successes and is bounded (cleared when full). Whether the key was valid *at the
// transaction's time* is still decided on every execution, from the state.
type sigCache struct {
	mu   sync.Mutex
	seen map[[32]byte]struct{}
}

const sigCacheMax = 1 << 16

var verifiedSigs = &sigCache{seen: make(map[[32]byte]struct{})}

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
	if !ed25519.Verify(pub, msg, sig) {
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
