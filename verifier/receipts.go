package verifier

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"time"

	"lianzheng/credential"
	"lianzheng/credential/receipt"
	"lianzheng/credential/wire"
	"lianzheng/did"
	"lianzheng/ledgerclient"
)

// seenData reports whether a verdict showed someone's data: a credential in it verified (its
// disclosed fields were on the clerk's screen, even if another credential then failed).
// Only such verdicts get a receipt — a receipt tells the citizen that their data was seen,
// and anchoring one for unreadable text or a replayed answer would tell them something false.
func seenData(vd *Verdict) bool {
	for _, c := range vd.Credentials {
		if c.OK {
			return true
		}
	}
	return false
}

// countRefusal counts a verdict that got no receipt, by its reason code.
func (v *Verifier) countRefusal(c credential.Code) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.refusals == nil {
		v.refusals = map[credential.Code]int{}
	}
	v.refusals[c]++
}

// Refusals counts, by reason code, the verdicts since the verifier was made that saw no
// one's data and so have no receipt (unreadable text, replays, expired requests, revoked or
// forged credentials, ...). The log line of each verdict records the same, with its hash.
func (v *Verifier) Refusals() map[credential.Code]int {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make(map[credential.Code]int, len(v.refusals))
	for c, n := range v.refusals {
		out[c] = n
	}
	return out
}

// sign makes the receipt of a verdict (newReceipt) and stores it for the next anchor batch.
func (v *Verifier) sign(vd *Verdict, item string) error {
	rc, err := v.newReceipt(vd, item, vd.OK)
	if err != nil {
		return err
	}
	vd.Receipt, vd.ReceiptID = rc.JWS, rc.ID
	return v.store.addReceipt(rc)
}

// newReceipt makes and signs the receipt of a verdict: who (window, department), which
// service item and purpose, which types and field names (never values), when, result
// (accepted or not), reasons, and the presentation hash.
func (v *Verifier) newReceipt(vd *Verdict, item string, accepted bool) (*storedReceipt, error) {
	if item == "" {
		item = vd.Item
	}
	r := &receipt.Receipt{ID: receipt.NewID(), Window: v.cfg.Window, Item: item, Time: vd.Time.Unix(),
		Result: receipt.ResultRejected, PresentationHash: vd.Hash, Fields: map[string][]string{}}
	if view, err := v.cfg.Trust.Current(context.Background()); err == nil {
		if w, ok := view.Window(v.cfg.Window); ok {
			r.Department = w.Department
			if si, ok := w.ServiceItem(item); ok {
				r.Purpose = si.Purpose.Zh
			}
		}
	}
	if accepted {
		r.Result = receipt.ResultAccepted
	} else {
		r.Reasons = []string{string(vd.Code)}
	}
	for _, c := range vd.Credentials {
		if c.Type == "" {
			continue
		}
		r.Types = append(r.Types, c.Type)
		if c.OK {
			r.Fields[c.Type] = append([]string{}, c.names...)
		}
		if !c.OK && c.Code != vd.Code {
			r.Reasons = append(r.Reasons, string(c.Code))
		}
	}
	tok, err := v.receipts.Sign(r)
	if err != nil {
		return nil, err
	}
	return &storedReceipt{ID: r.ID, JWS: tok, Time: r.Time}, nil
}

// AnchorPoster posts a batch root (ledgerclient.Client implements it).
type AnchorPoster interface {
	AnchorPost(ctx context.Context, s ledgerclient.Signer, root string, count int) (*ledgerclient.TxResult, error)
}

// Pending is the number of receipts not yet anchored.
func (v *Verifier) Pending() int {
	n, err := v.store.pending()
	if err != nil {
		v.log.Error("state not read", "err", err.Error())
	}
	return n
}

// Anchor posts the Merkle root of every receipt not yet anchored (anchor.post, signed by
// the window key) and records the batch. It returns nil, nil when nothing is pending.
func (v *Verifier) Anchor(ctx context.Context, p AnchorPoster) (*Anchor, error) {
	batch, err := v.store.unanchored()
	if err != nil {
		return nil, fmt.Errorf("verifier: state: %w", err)
	}
	if len(batch) == 0 {
		return nil, nil
	}
	leaves := make([][32]byte, len(batch))
	ids := make([]string, len(batch))
	for i, r := range batch {
		leaves[i], ids[i] = receipt.LeafHash(r.JWS), r.ID
	}
	root, err := receipt.RootHex(leaves)
	if err != nil {
		return nil, err
	}
	res, err := p.AnchorPost(ctx, ledgerclient.Signer{KeyID: v.cfg.KeyID, Key: v.cfg.Key}, root, len(batch))
	if err != nil {
		return nil, fmt.Errorf("verifier: anchor.post: %w", err)
	}
	a := &Anchor{Root: root, Count: len(batch), Height: res.Height, TxHash: res.Hash, Time: v.cfg.Now().UTC(), Receipts: ids}
	if c, ok := p.(*ledgerclient.Client); ok {
		if seq, err := c.AnchorSeq(ctx, v.cfg.Window); err == nil {
			a.Seq = seq
		}
	}
	if err := v.store.addAnchor(a, batch); err != nil {
		return nil, fmt.Errorf("verifier: state: %w", err)
	}
	v.log.Info("anchor", "root", root, "count", len(batch), "height", res.Height)
	return a, nil
}

// ErrNoReceipt: no receipt with that id.
var ErrNoReceipt = errors.New("verifier: no such receipt")

// Receipt returns the bundle of a receipt id (the proof once anchored), handed to the
// citizen as its LZ1E text (wire.ReceiptBundle.Text) or JSON.
func (v *Verifier) Receipt(id string) (*wire.ReceiptBundle, error) {
	jws, a, batch, ok, err := v.store.receipt(id)
	if err != nil {
		return nil, fmt.Errorf("verifier: state: %w", err)
	}
	if !ok {
		return nil, ErrNoReceipt
	}
	b := &wire.ReceiptBundle{Receipt: jws, Window: v.cfg.Window}
	if a != nil {
		var leaves [][32]byte
		idx := -1
		for _, rid := range a.Receipts {
			if x, ok := batch[rid]; ok {
				if rid == id {
					idx = len(leaves)
				}
				leaves = append(leaves, receipt.LeafHash(x))
			}
		}
		p, err := receipt.Prove(leaves, idx)
		if err != nil {
			return nil, err
		}
		ac := *a
		ac.Receipts = nil
		b.Proof, b.Anchor = p, &ac
	}
	return b, nil
}

// CheckReceipt is the citizen's check: the receipt's signature by the window key valid at
// its time (from the trust view), and its inclusion under the anchored root.
func CheckReceipt(ctx context.Context, b *wire.ReceiptBundle, t Trust, anchoredRoot string) (*receipt.Receipt, error) {
	view, err := t.Current(ctx)
	if err != nil {
		return nil, err
	}
	r, err := receipt.Verify(b.Receipt, func(kid string, at time.Time) (crypto.PublicKey, error) {
		k, err := did.AssertionKeyAt(ctx, view, kid, at)
		return k.Key, err
	})
	if err != nil {
		return nil, err
	}
	if anchoredRoot != "" {
		if err := receipt.VerifyInclusion(b.Receipt, b.Proof, anchoredRoot); err != nil {
			return nil, err
		}
	}
	return r, nil
}
