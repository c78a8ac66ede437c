// Package receipt is the window's verification receipt and the Merkle batching that anchors
// receipts on the ledger (数据访问全程留痕): every verification yields a receipt signed by the
// window key, naming who looked (window, department, service item), at what (credential
// types and field names — never values), why (purpose), when, with what result, and the hash
// of the presentation. Receipts are batched; the batch's Merkle root is posted to the ledger
// (anchor.post); the citizen keeps the receipt and its inclusion proof and can check both
// against the anchored root.
//
// A receipt is a compact JWS (typ "lz-receipt+jwt", EdDSA, kid = window key DID URL) over
// canonical JSON. The Merkle tree follows RFC 6962 §2.1: leaf = SHA-256(0x00 || receipt JWS),
// node = SHA-256(0x01 || left || right), an odd node is promoted unchanged. So a receipt
// cannot be passed off as an inner node, and no personal value is ever hashed into the
// anchor (the receipt holds none).
package receipt

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"lianzheng/credential/jws"
	"lianzheng/internal/strictjson"
)

// Typ is the JOSE typ of a receipt.
const Typ = "lz-receipt+jwt"

// Results.
const (
	ResultAccepted = "accepted"
	ResultRejected = "rejected"
)

// Receipt records one verification. It holds no personal values.
type Receipt struct {
	ID               string              `json:"id"`         // random 128-bit, base64url
	Window           string              `json:"window"`     // window DID
	Department       string              `json:"department"` // member id of the window's department
	Item             string              `json:"item"`       // service item id
	Purpose          string              `json:"purpose"`    // purpose as registered (zh)
	Types            []string            `json:"types"`      // credential type ids presented
	Fields           map[string][]string `json:"fields"`     // type id → disclosed field names
	Time             int64               `json:"time"`       // Unix seconds
	Result           string              `json:"result"`     // ResultAccepted or ResultRejected
	Reasons          []string            `json:"reasons,omitempty"`
	PresentationHash string              `json:"presentation_hash"` // HashPresentation of the response
}

// NewID returns a fresh receipt id.
func NewID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return jws.B64.EncodeToString(b)
}

// HashPresentation is the PresentationHash of a response: base64url(SHA-256(prefix || 0x00
// || body)) over the QR prefix and the decoded body (qr.Decode), so that what a scanner or
// an input method did to the text (case, full-width characters, line ends) does not change
// it. Wallet and window compute it the same way.
func HashPresentation(prefix string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(prefix))
	h.Write([]byte{0})
	h.Write(body)
	return jws.B64.EncodeToString(h.Sum(nil))
}

// Sign returns the receipt as a compact JWS signed by the window key kid.
func Sign(r *Receipt, kid string, key ed25519.PrivateKey) (string, error) {
	if r.ID == "" || r.Window == "" || r.Time == 0 || (r.Result != ResultAccepted && r.Result != ResultRejected) {
		return "", fmt.Errorf("receipt: id, window, time and result are required")
	}
	s, err := NewSigner(kid, key)
	if err != nil {
		return "", fmt.Errorf("receipt: %w", err)
	}
	return s.Sign(r)
}

// KeyAt returns the key a DID URL named at time t.
type KeyAt func(kid string, t time.Time) (crypto.PublicKey, error)

// Verify checks a receipt JWS: typ, kid belonging to the receipt's window, the window key
// valid at the receipt's time, and the signature.
func Verify(token string, keyAt KeyAt) (*Receipt, error) {
	p, err := jws.Parse(token)
	if err != nil {
		return nil, fmt.Errorf("receipt: %w", err)
	}
	if typ, _ := p.Header["typ"].(string); typ != Typ {
		return nil, fmt.Errorf("receipt: typ %q", typ)
	}
	m, err := strictjson.Object(p.Payload)
	if err != nil {
		return nil, fmt.Errorf("receipt: payload: %w", err)
	}
	var r Receipt
	if err := remarshal(m, &r); err != nil {
		return nil, fmt.Errorf("receipt: payload: %w", err)
	}
	kid, _ := p.Header["kid"].(string)
	if len(kid) <= len(r.Window) || kid[:len(r.Window)+1] != r.Window+"#" {
		return nil, fmt.Errorf("receipt: kid %q is not a key of %s", kid, r.Window)
	}
	key, err := keyAt(kid, time.Unix(r.Time, 0))
	if err != nil {
		return nil, fmt.Errorf("receipt: window key: %w", err)
	}
	if err := p.Verify(key); err != nil {
		return nil, fmt.Errorf("receipt: %w", err)
	}
	return &r, nil
}

// LeafHash is the Merkle leaf of a receipt JWS.
func LeafHash(token string) [32]byte {
	return sha256.Sum256(append([]byte{0}, token...))
}

func node(l, r [32]byte) [32]byte {
	b := make([]byte, 0, 65)
	b = append(append(append(b, 1), l[:]...), r[:]...)
	return sha256.Sum256(b)
}

// Root computes the Merkle root of a batch of leaves (RFC 6962 shape).
func Root(leaves [][32]byte) ([32]byte, error) {
	if len(leaves) == 0 {
		return [32]byte{}, fmt.Errorf("receipt: empty batch")
	}
	level := append([][32]byte(nil), leaves...)
	for len(level) > 1 {
		var next [][32]byte
		for i := 0; i < len(level); i += 2 {
			if i+1 == len(level) {
				next = append(next, level[i])
			} else {
				next = append(next, node(level[i], level[i+1]))
			}
		}
		level = next
	}
	return level[0], nil
}

// RootHex is Root as lower-case hex, the form anchor.post carries.
func RootHex(leaves [][32]byte) (string, error) {
	r, err := Root(leaves)
	return hex.EncodeToString(r[:]), err
}

// Proof is an inclusion proof of leaf Index in a batch of Count leaves.
type Proof struct {
	Index int      `json:"index"`
	Count int      `json:"count"`
	Path  []string `json:"path"` // sibling hashes, hex, from the leaf up
}

// Prove returns the inclusion proof of leaves[index].
func Prove(leaves [][32]byte, index int) (*Proof, error) {
	if index < 0 || index >= len(leaves) {
		return nil, fmt.Errorf("receipt: index %d of %d", index, len(leaves))
	}
	p := &Proof{Index: index, Count: len(leaves)}
	level := append([][32]byte(nil), leaves...)
	i := index
	for len(level) > 1 {
		sib := i ^ 1
		if sib < len(level) {
			p.Path = append(p.Path, hex.EncodeToString(level[sib][:]))
		}
		var next [][32]byte
		for j := 0; j < len(level); j += 2 {
			if j+1 == len(level) {
				next = append(next, level[j])
			} else {
				next = append(next, node(level[j], level[j+1]))
			}
		}
		level, i = next, i/2
	}
	return p, nil
}

// VerifyInclusion checks that token is leaf p.Index of the batch whose root is rootHex.
func VerifyInclusion(token string, p *Proof, rootHex string) error {
	if p == nil || p.Count < 1 || p.Index < 0 || p.Index >= p.Count || len(p.Path) > 64 {
		return fmt.Errorf("receipt: malformed proof")
	}
	h := LeafHash(token)
	i, n, k := p.Index, p.Count, 0
	for n > 1 {
		if i^1 < n { // has a sibling at this level
			if k >= len(p.Path) {
				return fmt.Errorf("receipt: proof too short")
			}
			b, err := hex.DecodeString(p.Path[k])
			if err != nil || len(b) != 32 {
				return fmt.Errorf("receipt: malformed proof hash")
			}
			var s [32]byte
			copy(s[:], b)
			if i%2 == 0 {
				h = node(h, s)
			} else {
				h = node(s, h)
			}
			k++
		}
		i, n = i/2, (n+1)/2
	}
	if k != len(p.Path) {
		return fmt.Errorf("receipt: proof too long")
	}
	if hex.EncodeToString(h[:]) != rootHex {
		return fmt.Errorf("receipt: not included in the anchored batch")
	}
	return nil
}
