package verifier

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"lianzheng/credential/jws"
	"lianzheng/credential/receipt"
	"lianzheng/did"
	"lianzheng/ledgerclient"
	"lianzheng/qr"
)

// PrefixReceipt is the QR prefix of a receipt bundle handed to the citizen.
const PrefixReceipt = "LZ1E"

// sign makes the receipt of a verdict: who (window, department), which service item and
// purpose, which types and field names (never values), when, result, reasons, and the
// presentation hash. It is stored for the next anchor batch.
func (v *Verifier) sign(vd *Verdict, item string) error {
	if item == "" {
		item = vd.Item
	}
	r := &receipt.Receipt{ID: receipt.NewID(), Window: v.cfg.Window, Item: item, Time: vd.Time.Unix(),
		Result: receipt.ResultRejected, PresentationHash: vd.Hash, Fields: map[string][]string{}}
	if view, err := v.cfg.Trust.Current(context.Background()); err == nil {
		if w, ok := view.Window(v.cfg.Window); ok {
			r.Department = w.Department
			for _, si := range w.ServiceItems {
				if si.ID == item {
					r.Purpose = si.Purpose.Zh
				}
			}
		}
	}
	if vd.OK {
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
	tok, err := v.receipts.sign(r)
	if err != nil {
		return err
	}
	vd.Receipt, vd.ReceiptID = tok, r.ID
	return v.store.addReceipt(&storedReceipt{ID: r.ID, JWS: tok, Time: r.Time})
}

// receiptSigner signs receipts exactly as receipt.Sign does (same bytes: Ed25519 is
// deterministic), with the JOSE header encoded once per window and the payload's canonical
// JSON made in one encoding pass instead of receipt.Sign's marshal, parse and re-marshal.
// TestReceiptSignerMatchesPackage checks it against receipt.Sign.
type receiptSigner struct {
	key    ed25519.PrivateKey
	header string // base64url(canonical JSON header) "."
}

func newReceiptSigner(kid string, key ed25519.PrivateKey) (*receiptSigner, error) {
	hb, err := jws.Marshal(map[string]any{"alg": jws.NewEd25519Signer(key).Alg(), "kid": kid, "typ": receipt.Typ})
	if err != nil {
		return nil, err
	}
	return &receiptSigner{key: key, header: jws.B64.EncodeToString(hb) + "."}, nil
}

// receiptJSON is receipt.Receipt with its members in sorted order, so that encoding/json
// (which keeps struct order and sorts map keys) writes the canonical form jws.Marshal
// produces.
type receiptJSON struct {
	Department       string              `json:"department"`
	Fields           map[string][]string `json:"fields"`
	ID               string              `json:"id"`
	Item             string              `json:"item"`
	PresentationHash string              `json:"presentation_hash"`
	Purpose          string              `json:"purpose"`
	Reasons          []string            `json:"reasons,omitempty"`
	Result           string              `json:"result"`
	Time             int64               `json:"time"`
	Types            []string            `json:"types"`
	Window           string              `json:"window"`
}

func (s *receiptSigner) sign(r *receipt.Receipt) (string, error) {
	if r.ID == "" || r.Window == "" || r.Time == 0 || (r.Result != receipt.ResultAccepted && r.Result != receipt.ResultRejected) {
		return "", fmt.Errorf("receipt: id, window, time and result are required")
	}
	for _, fs := range r.Fields {
		sort.Strings(fs)
	}
	payload, err := appendReceiptJSON(make([]byte, 0, 512), r)
	if err != nil {
		return "", fmt.Errorf("receipt: %w", err)
	}
	b64 := jws.B64
	tok := make([]byte, 0, len(s.header)+b64.EncodedLen(len(payload))+1+b64.EncodedLen(ed25519.SignatureSize))
	tok = append(tok, s.header...)
	tok = b64.AppendEncode(tok, payload)
	sig := ed25519.Sign(s.key, tok)
	tok = append(tok, '.')
	tok = b64.AppendEncode(tok, sig)
	return string(tok), nil
}

// appendReceiptJSON writes r as receiptJSON's canonical JSON. Strings with nothing to
// escape are copied; anything else (and any map key outside ASCII, whose order encoding/json
// decides) goes through encoding/json, so the bytes are always encoding/json's.
func appendReceiptJSON(dst []byte, r *receipt.Receipt) ([]byte, error) {
	for k := range r.Fields {
		if !plainJSONString(k) || !isASCII(k) {
			return appendEncoded(dst, receiptJSON{Department: r.Department, Fields: r.Fields, ID: r.ID, Item: r.Item,
				PresentationHash: r.PresentationHash, Purpose: r.Purpose, Reasons: r.Reasons, Result: r.Result,
				Time: r.Time, Types: r.Types, Window: r.Window})
		}
	}
	var err error
	str := func(s string) {
		if err == nil {
			dst, err = appendJSONString(dst, s)
		}
	}
	list := func(l []string) {
		if l == nil {
			dst = append(dst, "null"...)
			return
		}
		dst = append(dst, '[')
		for i, s := range l {
			if i > 0 {
				dst = append(dst, ',')
			}
			str(s)
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `{"department":`...)
	str(r.Department)
	dst = append(dst, `,"fields":`...)
	if r.Fields == nil {
		dst = append(dst, "null"...)
	} else {
		keys := make([]string, 0, len(r.Fields))
		for k := range r.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			str(k)
			dst = append(dst, ':')
			list(r.Fields[k])
		}
		dst = append(dst, '}')
	}
	dst = append(dst, `,"id":`...)
	str(r.ID)
	dst = append(dst, `,"item":`...)
	str(r.Item)
	dst = append(dst, `,"presentation_hash":`...)
	str(r.PresentationHash)
	dst = append(dst, `,"purpose":`...)
	str(r.Purpose)
	if len(r.Reasons) > 0 {
		dst = append(dst, `,"reasons":`...)
		list(r.Reasons)
	}
	dst = append(dst, `,"result":`...)
	str(r.Result)
	dst = append(dst, `,"time":`...)
	dst = strconv.AppendInt(dst, r.Time, 10)
	dst = append(dst, `,"types":`...)
	list(r.Types)
	dst = append(dst, `,"window":`...)
	str(r.Window)
	dst = append(dst, '}')
	return dst, err
}

// plainJSONString: s has no '"', '\\', control character, invalid UTF-8, U+2028 or U+2029,
// so encoding/json writes it between quotes unchanged (HTML escaping off).
func plainJSONString(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || r == '\u2028' || r == '\u2029' {
			return false
		}
		i += n
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func appendJSONString(dst []byte, s string) ([]byte, error) {
	if !plainJSONString(s) {
		return appendEncoded(dst, s)
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"'), nil
}

// appendEncoded appends v as encoding/json writes it without HTML escaping.
func appendEncoded(dst []byte, v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return append(dst, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...), nil
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

// ReceiptBundle is what the citizen gets: the signed receipt, and once anchored the
// inclusion proof and the anchor (root, ledger height, sequence number).
type ReceiptBundle struct {
	Receipt string         `json:"receipt"`
	Window  string         `json:"window"`
	Proof   *receipt.Proof `json:"proof,omitempty"`
	Anchor  *Anchor        `json:"anchor,omitempty"`
}

// ErrNoReceipt: no receipt with that id.
var ErrNoReceipt = errors.New("verifier: no such receipt")

// Receipt returns the bundle of a receipt id (the proof once anchored).
func (v *Verifier) Receipt(id string) (*ReceiptBundle, error) {
	jws, a, batch, ok, err := v.store.receipt(id)
	if err != nil {
		return nil, fmt.Errorf("verifier: state: %w", err)
	}
	if !ok {
		return nil, ErrNoReceipt
	}
	b := &ReceiptBundle{Receipt: jws, Window: v.cfg.Window}
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

// Text is the bundle as a QR text (LZ1E:Base45(zlib(JSON))).
func (b *ReceiptBundle) Text() (string, error) {
	j, err := json.Marshal(b)
	if err != nil {
		return "", err
	}
	return qr.Encode(PrefixReceipt, j), nil
}

// ParseReceiptBundle reads a bundle from its QR text or JSON.
func ParseReceiptBundle(s string) (*ReceiptBundle, error) {
	var j []byte
	if t := strings.TrimSpace(s); strings.HasPrefix(t, "{") {
		j = []byte(t)
	} else {
		p, body, err := qr.Decode(s, 64<<10)
		if err != nil {
			return nil, err
		}
		if p != PrefixReceipt {
			return nil, fmt.Errorf("verifier: not a receipt (%s)", p)
		}
		j = body
	}
	var b ReceiptBundle
	if err := json.Unmarshal(j, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

// CheckReceipt is the citizen's check: the receipt's signature by the window key valid at
// its time (from the trust view), and its inclusion under the anchored root.
func CheckReceipt(ctx context.Context, b *ReceiptBundle, t Trust, anchoredRoot string) (*receipt.Receipt, error) {
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
