package issuer

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
)

// Sealer seals the personal data the department keeps at rest (an offer's claims until the
// credential is issued, the masked holder of each record, the key of the holder index's
// keyed hashes). A department's own home passes its key store (*keystore.Store, unlocked:
// AES-256-GCM under the master key derived from the department's passphrase); Seal and
// Unseal fail while it is locked.
type Sealer interface {
	Seal(pt, aad []byte) ([]byte, error)
	Unseal(ct, aad []byte) ([]byte, error)
}

// ErrNoSealer: Open was given no Sealer.
var ErrNoSealer = errors.New("issuer: Config needs a Sealer (the department's unlocked key store) to keep personal data sealed")

// DemoSealer is a Sealer under a key derived (HKDF-SHA256) from secret: for demo homes and
// tests, whose department keys are themselves kept unsealed — it protects exactly as much
// as the secret it comes from. A department's own home seals with its key store.
func DemoSealer(secret []byte) Sealer {
	key, err := hkdf.Key(sha256.New, secret, nil, "lianzheng issuer demo sealer v1", 32)
	if err != nil {
		panic(err) // only for a length HKDF-SHA256 cannot produce; 32 it always can
	}
	b, _ := aes.NewCipher(key)
	g, _ := cipher.NewGCM(b)
	return gcmSealer{g}
}

type gcmSealer struct{ gcm cipher.AEAD }

func (s gcmSealer) Seal(pt, aad []byte) ([]byte, error) {
	nonce := make([]byte, s.gcm.NonceSize(), s.gcm.NonceSize()+len(pt)+s.gcm.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.gcm.Seal(nonce, nonce, pt, aad), nil
}

func (s gcmSealer) Unseal(ct, aad []byte) ([]byte, error) {
	n := s.gcm.NonceSize()
	if len(ct) < n+s.gcm.Overhead() {
		return nil, errors.New("issuer: sealed data too short")
	}
	return s.gcm.Open(nil, ct[:n], ct[n:], aad)
}
