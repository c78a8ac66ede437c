package wallet

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"time"

	"lianzheng/credential/receipt"
	"lianzheng/credential/wire"
	"lianzheng/did"
	"lianzheng/qr"
)

// bodyHash is base64url SHA-256(prefix 0x00 body) of a QR text we built.
func bodyHash(text string) string {
	p, body, err := qr.Decode(text, 1<<20)
	if err != nil {
		return ""
	}
	return receipt.HashPresentation(p, body)
}

// Receipt errors (test with errors.Is).
var (
	// ErrReceiptInvalid: the receipt cannot be read or its signature does not verify.
	ErrReceiptInvalid = errors.New("wallet: the receipt is unreadable or does not verify")
	// ErrReceiptUnmatched: the receipt is for no presentation in this wallet's history.
	ErrReceiptUnmatched = errors.New("wallet: the receipt matches no presentation in this wallet's history")
	// ErrReceiptNotAnchored: the receipt was kept, but no anchor of its window on the ledger
	// holds it (not anchored yet, or the proof does not match).
	ErrReceiptNotAnchored = errors.New("wallet: the receipt is not found anchored on the ledger")
)

// maxAnchorScan bounds how many of a window's anchors are searched for the root.
const maxAnchorScan = 2000

// ImportReceipt verifies a window's receipt (signature by the window key at its time),
// attaches it to the history entry of the same presentation (by presentation hash), and,
// when a proof is given and an anchor of that window on the ledger has the matching root,
// marks the entry verified on the ledger.
func (w *Wallet) ImportReceipt(ctx context.Context, b *wire.ReceiptBundle, anchors Anchors) (*HistoryEntry, error) {
	l, err := w.ledger()
	if err != nil {
		return nil, err
	}
	rc, err := receipt.Verify(b.Receipt, func(kid string, t time.Time) (crypto.PublicKey, error) {
		k, err := did.AssertionKeyAt(ctx, resolver(l), kid, t)
		return k.Key, err
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrReceiptInvalid, err)
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
		return nil, ErrReceiptUnmatched
	}
	if h.Window != "" && h.Window != rc.Window {
		return nil, fmt.Errorf("%w: the receipt is from window %s, the presentation went to %s", ErrReceiptUnmatched, rc.Window, h.Window)
	}
	h.Receipt, h.ReceiptID, h.Result = b.Receipt, rc.ID, rc.Result
	if b.Proof != nil && anchors != nil {
		seq, err := findAnchor(ctx, anchors, rc.Window, b)
		if err != nil {
			_ = w.Store.AddHistory(h)
			return h, fmt.Errorf("%w: %w", ErrReceiptNotAnchored, err)
		}
		a, _ := anchors.Anchor(ctx, rc.Window, seq)
		h.AnchorSeq, h.AnchorHeight, h.VerifiedLedger = seq, a.Height, true
	}
	return h, w.Store.AddHistory(h)
}

func findAnchor(ctx context.Context, anchors Anchors, window string, b *wire.ReceiptBundle) (uint64, error) {
	try := func(seq uint64) bool {
		a, err := anchors.Anchor(ctx, window, seq)
		return err == nil && a.Count == b.Proof.Count && receipt.VerifyInclusion(b.Receipt, b.Proof, a.Root) == nil
	}
	if seq := b.AnchorSeq(); seq > 0 {
		if try(seq) {
			return seq, nil
		}
		return 0, fmt.Errorf("wallet: anchor %d of %s does not have the receipt's root", seq, window)
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
