package oid4vp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"

	"lianzheng/credential/jws"
	"lianzheng/credential/receipt"
	"lianzheng/internal/strictjson"
)

// JWE algorithms of the encrypted response.
const (
	AlgECDHES  = "ECDH-ES"
	EncA128GCM = "A128GCM"
	EncA256GCM = "A256GCM"
)

// EncKey is a verifier's per-request response encryption key (P-256, ECDH-ES). It never
// leaves the verifier; its public JWK goes into the request's client_metadata.jwks.
type EncKey struct {
	priv *ecdsa.PrivateKey
	kid  string
}

// NewEncKey makes a fresh encryption key with a random kid.
func NewEncKey() (*EncKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("oid4vp: encryption key: %w", err)
	}
	return &EncKey{priv: k, kid: "enc-" + NewState()[:16]}, nil
}

// Kid is the key's id.
func (k *EncKey) Kid() string { return k.kid }

// Public is the key's public JWK (use enc, alg ECDH-ES).
func (k *EncKey) Public() JWK {
	return JWK{Kty: "EC", Crv: "P-256", X: coord(k.priv.X), Y: coord(k.priv.Y), Kid: k.kid, Use: "enc", Alg: AlgECDHES}
}

func coord(n *big.Int) string {
	b := make([]byte, 32)
	return jws.B64.EncodeToString(n.FillBytes(b))
}

func (j *JWK) ecdsa() (*ecdsa.PublicKey, error) {
	if j.Kty != "EC" || j.Crv != "P-256" {
		return nil, fmt.Errorf("%w: key %s/%s", ErrUnsupported, short(j.Kty), short(j.Crv))
	}
	x, err1 := jws.B64.DecodeString(j.X)
	y, err2 := jws.B64.DecodeString(j.Y)
	if err1 != nil || err2 != nil || len(x) != 32 || len(y) != 32 {
		return nil, fmt.Errorf("%w: EC key coordinates", ErrMalformed)
	}
	pub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
	// refuse points off the curve (invalid-curve attacks on ECDH)
	if !pub.Curve.IsOnCurve(pub.X, pub.Y) {
		return nil, fmt.Errorf("%w: EC key not on P-256", ErrMalformed)
	}
	return pub, nil
}

// jweHeader is the protected header of an encrypted response.
type jweHeader struct {
	Alg string `json:"alg"`
	Enc string `json:"enc"`
	Kid string `json:"kid,omitempty"`
	EPK JWK    `json:"epk"`
	APU string `json:"apu,omitempty"`
	APV string `json:"apv,omitempty"`
	Zip string `json:"zip,omitempty"`
	Cty string `json:"cty,omitempty"`
	Typ string `json:"typ,omitempty"`
}

// Encrypt encrypts plaintext to the verifier's key as a compact JWE: ECDH-ES (direct key
// agreement) with an ephemeral P-256 key, enc A128GCM or A256GCM, kid the key's kid, and
// apv = base64url(nonce) entering the Concat KDF (so the key is bound to the request).
func Encrypt(to *JWK, enc string, nonce string, plaintext []byte) (string, error) {
	pub, err := to.ecdsa()
	if err != nil {
		return "", err
	}
	size := 16
	switch enc {
	case EncA128GCM:
	case EncA256GCM:
		size = 32
	default:
		return "", fmt.Errorf("%w: enc %q", ErrUnsupported, short(enc))
	}
	eph, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", fmt.Errorf("oid4vp: ephemeral key: %w", err)
	}
	h := jweHeader{Alg: AlgECDHES, Enc: enc, Kid: to.Kid, APV: jws.B64.EncodeToString([]byte(nonce)),
		EPK: JWK{Kty: "EC", Crv: "P-256", X: coord(eph.X), Y: coord(eph.Y)}}
	hb, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	cek, err := deriveECDHES(eph, pub, enc, []byte(nonce), size)
	if err != nil {
		return "", err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return "", err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return "", err
	}
	iv := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(iv); err != nil {
		return "", err
	}
	protected := jws.B64.EncodeToString(hb)
	sealed := gcm.Seal(nil, iv, plaintext, []byte(protected))
	ct, tag := sealed[:len(sealed)-gcm.Overhead()], sealed[len(sealed)-gcm.Overhead():]
	return protected + ".." + jws.B64.EncodeToString(iv) + "." + jws.B64.EncodeToString(ct) + "." + jws.B64.EncodeToString(tag), nil
}

// JWEHeader is what a verifier may read of an encrypted response before decrypting it: which
// of its keys it names.
type JWEHeader struct {
	Kid string
	APV []byte
}

// PeekJWE reads the protected header of a compact JWE (no decryption, nothing trusted): the
// verifier routes the response to the session whose key it names.
func PeekJWE(compact string) (*JWEHeader, error) {
	h, err := parseJWEHeader(compact)
	if err != nil {
		return nil, err
	}
	apv, _ := jws.B64.DecodeString(h.APV)
	return &JWEHeader{Kid: h.Kid, APV: apv}, nil
}

func parseJWEHeader(compact string) (*jweHeader, error) {
	if len(compact) > MaxJWE {
		return nil, fmt.Errorf("%w: JWE of %d bytes", ErrTooLarge, len(compact))
	}
	parts := strings.Split(compact, ".")
	if len(parts) != 5 {
		return nil, fmt.Errorf("%w: JWE has %d parts, want 5", ErrMalformed, len(parts))
	}
	hb, err := jws.B64.DecodeString(parts[0])
	if err != nil {
		return nil, fmt.Errorf("%w: JWE header base64", ErrMalformed)
	}
	var h jweHeader
	if err := strictjson.Decode(hb, &h); err != nil {
		return nil, fmt.Errorf("%w: JWE header: %v", ErrMalformed, err)
	}
	switch {
	case h.Alg != AlgECDHES:
		return nil, fmt.Errorf("%w: JWE alg %q", ErrUnsupported, short(h.Alg))
	case h.Enc != EncA128GCM && h.Enc != EncA256GCM:
		return nil, fmt.Errorf("%w: JWE enc %q", ErrUnsupported, short(h.Enc))
	case h.Zip != "":
		return nil, fmt.Errorf("%w: JWE zip", ErrUnsupported)
	case parts[1] != "":
		return nil, fmt.Errorf("%w: JWE with an encrypted key under ECDH-ES", ErrMalformed)
	}
	if _, err := h.EPK.ecdsa(); err != nil {
		return nil, err
	}
	return &h, nil
}

// Decrypt decrypts an encrypted response made for this key and the request's nonce. The
// header must name this key (ErrWrongKey otherwise: a response meant for another request),
// carry apv = base64url(nonce) (ErrNonce), and the ciphertext must authenticate under the
// key derived with that apv (ErrDecrypt: tampered or not for us).
func (k *EncKey) Decrypt(compact, nonce string) ([]byte, error) {
	h, err := parseJWEHeader(compact)
	if err != nil {
		return nil, err
	}
	if h.Kid != "" && h.Kid != k.kid {
		return nil, fmt.Errorf("%w: kid %q", ErrWrongKey, short(h.Kid))
	}
	if apv, err := jws.B64.DecodeString(h.APV); err != nil || string(apv) != nonce {
		return nil, ErrNonce
	}
	parts := strings.Split(compact, ".") // five, parseJWEHeader checked
	iv, err1 := jws.B64.DecodeString(parts[2])
	ct, err2 := jws.B64.DecodeString(parts[3])
	tag, err3 := jws.B64.DecodeString(parts[4])
	if err1 != nil || err2 != nil || err3 != nil || len(iv) != 12 || len(tag) != 16 {
		return nil, fmt.Errorf("%w: JWE iv, ciphertext or tag", ErrMalformed)
	}
	epk, _ := h.EPK.ecdsa() // checked by parseJWEHeader
	size := 16
	if h.Enc == EncA256GCM {
		size = 32
	}
	cek, err := deriveECDHES(k.priv, epk, h.Enc, []byte(nonce), size)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	pt, err := gcm.Open(nil, iv, append(ct, tag...), []byte(parts[0]))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	return pt, nil
}

// deriveECDHES is the content key of ECDH-ES direct key agreement (RFC 7518 §4.6): the P-256
// shared secret of priv and pub (crypto/ecdh: constant time, checked points), then the Concat
// KDF of NIST SP 800-56A with SHA-256 — AlgorithmID enc, PartyUInfo empty, PartyVInfo apv, the
// key length in bits — one round, as every key here is at most 256 bits. (go-jose's
// DeriveECDHES does the same through crypto/elliptic's deprecated, slower arithmetic.)
func deriveECDHES(priv *ecdsa.PrivateKey, pub *ecdsa.PublicKey, enc string, apv []byte, size int) ([]byte, error) {
	ep, err := priv.ECDH()
	if err != nil {
		return nil, err
	}
	epub, err := pub.ECDH()
	if err != nil {
		return nil, err
	}
	z, err := ep.ECDH(epub)
	if err != nil {
		return nil, err
	}
	lp := func(b []byte) []byte { return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...) }
	hsh := sha256.New()
	hsh.Write([]byte{0, 0, 0, 1})
	hsh.Write(z)
	hsh.Write(lp([]byte(enc)))
	hsh.Write(lp(nil))
	hsh.Write(lp(apv))
	hsh.Write(binary.BigEndian.AppendUint32(nil, uint32(size*8)))
	return hsh.Sum(nil)[:size], nil
}

// Response is the authorisation response inside the JWE.
type Response struct {
	VPToken map[string][]string `json:"vp_token"`
	State   string              `json:"state,omitempty"`
}

// Limits of a response.
const maxPresentations = 16

// ParseResponse reads the decrypted response strictly: every presentation is a string, at
// most maxPresentations of them, each under a credential query id.
func ParseResponse(b []byte) (*Response, error) {
	if len(b) > MaxJWE {
		return nil, fmt.Errorf("%w: response of %d bytes", ErrTooLarge, len(b))
	}
	var r Response
	if err := strictjson.Decode(b, &r); err != nil {
		return nil, fmt.Errorf("%w: response: %v", ErrMalformed, err)
	}
	n := 0
	for id, ps := range r.VPToken {
		if !queryID.MatchString(id) || len(ps) == 0 {
			return nil, fmt.Errorf("%w: vp_token entry %q", ErrMalformed, short(id))
		}
		n += len(ps)
		for _, p := range ps {
			if p == "" {
				return nil, fmt.Errorf("%w: empty presentation", ErrMalformed)
			}
		}
	}
	if n == 0 || n > maxPresentations {
		return nil, fmt.Errorf("%w: %d presentations", ErrMalformed, n)
	}
	return &r, nil
}

// Presentations returns every presentation of the response, ordered by credential query id.
func (r *Response) Presentations() []string {
	ids := make([]string, 0, len(r.VPToken))
	for id := range r.VPToken {
		ids = append(ids, id)
	}
	sortStrings(ids)
	var out []string
	for _, id := range ids {
		out = append(out, r.VPToken[id]...)
	}
	return out
}

// HashPresentations is the presentation hash of an OpenID4VP answer (receipts, replay
// detection, the wallet's history): receipt.HashPresentation over the presentations in
// Response.Presentations order, newline-separated, under the prefix "OID4VP".
func HashPresentations(ps []string) string {
	return receipt.HashPresentation("OID4VP", []byte(strings.Join(ps, "\n")))
}
