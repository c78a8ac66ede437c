package wire

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"lianzheng/credential/receipt"
	"lianzheng/internal/strictjson"
	"lianzheng/qr"
)

// ReceiptBundle is what a window hands the citizen (LZ1E QR, or its JSON as a file): the
// signed receipt (credential/receipt) and, once its batch is anchored on the ledger, the
// Merkle inclusion proof and the anchor. The citizen's wallet trusts none of it as given:
// it verifies the receipt's signature with the window key on the ledger and the proof
// against the root the ledger holds for that anchor.
type ReceiptBundle struct {
	Receipt string         `json:"receipt"` // compact JWS (receipt.Typ)
	Window  string         `json:"window"`  // the window DID
	Proof   *receipt.Proof `json:"proof,omitempty"`
	Anchor  *Anchor        `json:"anchor,omitempty"`
	// Seq names the anchor when Anchor is absent (bundles written by hand or by tools).
	Seq uint64 `json:"seq,omitempty"`
}

// Anchor is a window's record of one anchored batch of receipts.
type Anchor struct {
	Root     string    `json:"root"` // hex Merkle root posted with anchor.post
	Count    int       `json:"count"`
	Height   int64     `json:"height"`
	TxHash   string    `json:"tx_hash"`
	Seq      uint64    `json:"seq,omitempty"` // the anchor's sequence number on the ledger
	Time     time.Time `json:"time"`
	Receipts []string  `json:"receipts"` // receipt ids in leaf order (the window's own; null in a bundle)
}

// AnchorSeq is the sequence number of the anchor the bundle names (Seq, else Anchor.Seq), 0
// if it names none.
func (b *ReceiptBundle) AnchorSeq() uint64 {
	if b.Seq == 0 && b.Anchor != nil {
		return b.Anchor.Seq
	}
	return b.Seq
}

// Text is the bundle as a QR text: LZ1E:Base45(zlib(JSON)).
func (b *ReceiptBundle) Text() (string, error) {
	j, err := json.Marshal(b)
	if err != nil {
		return "", fmt.Errorf("receipt bundle: %w", err)
	}
	return qr.Encode(PrefixReceipt, j), nil
}

// ParseReceiptBundle reads a receipt bundle as a citizen may hold it: its QR text (LZ1E:…,
// as a scanner typed it), its JSON, or a bare receipt token (a compact JWS). Surrounding
// whitespace is ignored. Nothing is verified here (see receipt.Verify,
// receipt.VerifyInclusion).
func ParseReceiptBundle(data []byte) (*ReceiptBundle, error) {
	if len(data) > MaxBody {
		return nil, fmt.Errorf("receipt bundle: %w: %d bytes", ErrMalformed, len(data))
	}
	s := strings.TrimSpace(string(data))
	switch {
	case s == "":
		return nil, fmt.Errorf("receipt bundle: %w: empty", ErrMalformed)
	case s[0] == '{':
		return parseBundleJSON([]byte(s))
	case compactJWS(s):
		return &ReceiptBundle{Receipt: s}, nil
	}
	p, body, err := qr.Decode(s, MaxBody)
	if err != nil {
		return nil, fmt.Errorf("receipt bundle: %w: %w", ErrMalformed, err)
	}
	if p != PrefixReceipt {
		return nil, fmt.Errorf("receipt bundle: %w: not a receipt QR (prefix %s)", ErrMalformed, p)
	}
	return parseBundleJSON(body)
}

func parseBundleJSON(j []byte) (*ReceiptBundle, error) {
	var b ReceiptBundle
	if err := strictjson.Decode(j, &b); err != nil { // duplicates, bad UTF-8, depth refused
		return nil, fmt.Errorf("receipt bundle: %w: %v", ErrMalformed, err)
	}
	if !compactJWS(b.Receipt) {
		return nil, fmt.Errorf("receipt bundle: %w: no receipt token", ErrMalformed)
	}
	return &b, nil
}

// compactJWS: three base64url segments separated by '.', the first two not empty.
func compactJWS(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
