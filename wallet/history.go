package wallet

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"lianzheng/credential/receipt"
	"lianzheng/did"
	"lianzheng/qr"
)

// ReceiptBundle is what a window hands the citizen (file or QR): its signed receipt and,
// once the batch is anchored, the Merkle inclusion proof (and optionally the anchor seq).
type ReceiptBundle struct {
	Receipt string         `json:"receipt"`
	Proof   *receipt.Proof `json:"proof,omitempty"`
	Seq     uint64         `json:"seq,omitempty"`
	// Anchor as the verifier hands it (only its seq is used; the root comes from the ledger).
	Anchor *struct {
		Seq uint64 `json:"seq"`
	} `json:"anchor,omitempty"`
}

// bodyHash is base64url SHA-256(prefix 0x00 body) of a QR text we built.
func bodyHash(text string) string {
	p, body, err := qr.Decode(text, 1<<20)
	if err != nil {
		return ""
	}
	return receipt.HashPresentation(p, body)
}

// maxAnchorScan bounds how many of a window's anchors are searched for the root.
const maxAnchorScan = 2000

// ImportReceipt verifies a window's receipt (signature by the window key at its time),
// attaches it to the history entry of the same presentation (by presentation hash), and,
// when a proof is given and an anchor of that window on the ledger has the matching root,
// marks the entry verified on the ledger.
func (w *Wallet) ImportReceipt(ctx context.Context, b ReceiptBundle, anchors Anchors) (*HistoryEntry, error) {
	l, err := w.ledger()
	if err != nil {
		return nil, err
	}
	rc, err := receipt.Verify(b.Receipt, func(kid string, t time.Time) (crypto.PublicKey, error) {
		k, err := did.AssertionKeyAt(ctx, resolver(l), kid, t)
		return k.Key, err
	})
	if err != nil {
		return nil, fmt.Errorf("wallet: receipt does not verify: %w", err)
	}
	hist, err := w.Store.History()
	if err != nil {
		return nil, err
	}
	var h *HistoryEntry
	for i := range hist {
		if hist[i].PresentationHash == rc.PresentationHash || (hist[i].BodyHash != "" && hist[i].BodyHash == rc.PresentationHash) {
			h = &hist[i]
		}
	}
	if h == nil {
		return nil, errors.New("wallet: the receipt matches no presentation in this wallet's history")
	}
	if h.Window != "" && h.Window != rc.Window {
		return nil, fmt.Errorf("wallet: receipt is from window %s, the presentation went to %s", rc.Window, h.Window)
	}
	h.Receipt, h.ReceiptID, h.Result = b.Receipt, rc.ID, rc.Result
	if b.Proof != nil && anchors != nil {
		seq, err := findAnchor(ctx, anchors, rc.Window, b)
		if err != nil {
			_ = w.Store.AddHistory(h)
			return h, err
		}
		a, _ := anchors.Anchor(ctx, rc.Window, seq)
		h.AnchorSeq, h.AnchorHeight, h.VerifiedLedger = seq, a.Height, true
	}
	return h, w.Store.AddHistory(h)
}

func findAnchor(ctx context.Context, anchors Anchors, window string, b ReceiptBundle) (uint64, error) {
	try := func(seq uint64) bool {
		a, err := anchors.Anchor(ctx, window, seq)
		return err == nil && a.Count == b.Proof.Count && receipt.VerifyInclusion(b.Receipt, b.Proof, a.Root) == nil
	}
	if b.Seq == 0 && b.Anchor != nil {
		b.Seq = b.Anchor.Seq
	}
	if b.Seq > 0 {
		if try(b.Seq) {
			return b.Seq, nil
		}
		return 0, fmt.Errorf("wallet: anchor %d of %s does not have the receipt's root", b.Seq, window)
	}
	last, err := anchors.AnchorSeq(ctx, window)
	if err != nil {
		return 0, fmt.Errorf("wallet: anchors of %s: %w", window, err)
	}
	for s, n := last, 0; s >= 1 && n < maxAnchorScan; s, n = s-1, n+1 {
		if try(s) {
			return s, nil
		}
	}
	return 0, fmt.Errorf("wallet: no anchor of %s on the ledger has the receipt's root (not anchored yet?)", window)
}

// PrefixReceipt is the QR prefix of a window's receipt bundle (LZ1E:Base45(zlib(JSON))).
const PrefixReceipt = "LZ1E"

// ParseReceiptBundle reads a receipt bundle: its QR text (LZ1E:…), its JSON, or a bare
// receipt token.
func ParseReceiptBundle(data []byte) (ReceiptBundle, error) {
	var b ReceiptBundle
	if p, body, err := qr.Decode(string(data), 64<<10); err == nil {
		if p != PrefixReceipt {
			return b, fmt.Errorf("wallet: not a receipt QR (prefix %s)", p)
		}
		data = body
	}
	if err := json.Unmarshal(data, &b); err == nil && b.Receipt != "" {
		return b, nil
	}
	s := string(data)
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r' || s[len(s)-1] == ' ') {
		s = s[:len(s)-1]
	}
	if s == "" {
		return b, errors.New("wallet: empty receipt")
	}
	return ReceiptBundle{Receipt: s}, nil
}
