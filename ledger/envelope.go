package ledger

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"lianzheng/did"
)

// SigDomain separates ledger signatures from every other signature a key makes.
const SigDomain = "lianzheng-ledger-tx-v1\n"

// ErrEnvelope is wrapped by every error of NewEnvelope and Envelope.Sign: the transaction
// could not be built (bad signer, unencodable body, oversized, or the signer failed; a
// signer's own error stays reachable with errors.Is/As).
var ErrEnvelope = errors.New("ledger: cannot build the transaction envelope")

// Signer signs ledger transactions. DIDURL names the signing key as the ledger knows it: a
// did:lz DID URL with a key fragment, e.g. "did:lz:civil-affairs#key-1". Sign returns the
// Ed25519 signature of msg by that key. A sealed key store implements it without ever
// handing out the private key; KeySigner adapts an unsealed key.
type Signer interface {
	DIDURL() string
	Sign(msg []byte) ([]byte, error)
}

// KeySigner is a Signer over an unsealed Ed25519 private key (tests, demos, a window whose
// key is held in memory).
type KeySigner struct {
	KeyID string             // DID URL of the key, e.g. "did:lz:civil-affairs#key-1"
	Key   ed25519.PrivateKey // the key KeyID names
}

// DIDURL is the key's DID URL.
func (s KeySigner) DIDURL() string { return s.KeyID }

// Sign signs msg with Key.
func (s KeySigner) Sign(msg []byte) ([]byte, error) {
	if len(s.Key) != ed25519.PrivateKeySize {
		return nil, errors.New("signer has no Ed25519 private key")
	}
	return ed25519.Sign(s.Key, msg), nil
}

// NewEnvelope builds the transaction of txType with body (encoded as JSON), a fresh random
// 128-bit nonce and s as signer, signs it, and returns the envelope and its wire bytes. It
// refuses a signer whose DIDURL is not a DID URL with a key fragment and a transaction
// larger than MaxTxBytes. Errors wrap ErrEnvelope.
func NewEnvelope(chainID, txType string, body any, s Signer) (*Envelope, []byte, error) {
	kid := s.DIDURL()
	u, err := did.ParseDIDURL(kid)
	if err != nil || u.Fragment == "" {
		return nil, nil, fmt.Errorf("%w: signer key id %s is not a DID URL with a key fragment", ErrEnvelope, Quote(kid))
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s body: %w", ErrEnvelope, txType, err)
	}
	var n [16]byte
	if _, err := rand.Read(n[:]); err != nil {
		return nil, nil, fmt.Errorf("%w: nonce: %w", ErrEnvelope, err)
	}
	env := &Envelope{
		V:      TxVersion,
		Chain:  chainID,
		Type:   txType,
		Signer: kid,
		Nonce:  base64.RawURLEncoding.EncodeToString(n[:]),
		Body:   b,
	}
	if err := env.Sign(s); err != nil {
		return nil, nil, err
	}
	tx, err := env.Bytes()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrEnvelope, err)
	}
	if len(tx) > MaxTxBytes {
		return nil, nil, fmt.Errorf("%w: %s transaction of %d bytes exceeds %d", ErrEnvelope, txType, len(tx), MaxTxBytes)
	}
	return env, tx, nil
}

// SigningBytes returns what the signer signs.
func (e *Envelope) SigningBytes() ([]byte, error) {
	c := *e
	c.Sig = ""
	b, err := json.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("ledger: envelope: %w", err)
	}
	return append([]byte(SigDomain), b...), nil
}

// Sign fills Sig with s's signature over SigningBytes. s must name the key the envelope's
// Signer names (the ledger checks the signature against that key); Sign does not change
// any other field. Errors wrap ErrEnvelope.
func (e *Envelope) Sign(s Signer) error {
	if kid := s.DIDURL(); kid != e.Signer {
		return fmt.Errorf("%w: signer %s does not sign for %s", ErrEnvelope, Quote(kid), Quote(e.Signer))
	}
	b, err := e.SigningBytes()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrEnvelope, err)
	}
	sig, err := s.Sign(b)
	if err != nil {
		return fmt.Errorf("%w: sign: %w", ErrEnvelope, err)
	}
	if len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("%w: signer returned %d bytes, not an Ed25519 signature", ErrEnvelope, len(sig))
	}
	e.Sig = base64.RawURLEncoding.EncodeToString(sig)
	return nil
}

// Bytes is the wire form.
func (e *Envelope) Bytes() ([]byte, error) { return json.Marshal(e) }
