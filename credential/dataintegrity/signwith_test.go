package dataintegrity

import (
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"testing"
	"time"

	"lianzheng/credential/jws"
)

// lyingSigner names one key and signs with another (a key store whose key id points at the
// wrong key).
type lyingSigner struct {
	named  ed25519.PublicKey
	signer ed25519.PrivateKey
}

func (s lyingSigner) Alg() string                    { return jws.AlgEdDSA }
func (s lyingSigner) Public() crypto.PublicKey       { return s.named }
func (s lyingSigner) Sign(in []byte) ([]byte, error) { return ed25519.Sign(s.signer, in), nil }

// TestSignWithChecksFirstSignature: a signer whose signatures do not verify under the key it
// names is refused at its first signature (and every later one, as none verified); an honest
// signer's first signature is checked, and it keeps signing.
func TestSignWithChecksFirstSignature(t *testing.T) {
	seed := func(s string) ed25519.PrivateKey { h := sha256.Sum256([]byte(s)); return ed25519.NewKeyFromSeed(h[:]) }
	named, other := seed("signwith-named"), seed("signwith-other")
	doc := map[string]any{"@context": []any{"https://www.w3.org/ns/credentials/v2"}, "type": []any{"VerifiableCredential"},
		"issuer": "did:example:issuer", "credentialSubject": map[string]any{"id": "did:example:s"}}
	cfg := ProofConfig{Cryptosuite: CryptosuiteJCS, VerificationMethod: "did:example:issuer#k", Created: time.Unix(1700000000, 0)}
	liar := lyingSigner{named: named.Public().(ed25519.PublicKey), signer: other}
	for range 2 {
		if _, err := SignWith(doc, cfg, liar); err == nil {
			t.Fatal("a signature under another key than the signer names was used")
		}
	}
	honest := jws.NewEd25519Signer(named)
	for range 2 {
		if _, err := SignWith(doc, cfg, honest); err != nil {
			t.Fatal(err)
		}
	}
}
