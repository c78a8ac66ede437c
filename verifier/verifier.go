// Package verifier is the window's core (窗口核验), headless: it makes the signed request QR
// for a registered service item, verifies the citizen's answer in one call from the text a
// scanner typed (or a QR image) to a structured verdict, trusts only the ledger (online
// through a proof-checking client with a warm cache, or offline from a verified trust
// snapshot whose age is part of every verdict), signs a receipt for every verdict that
// verified a credential (someone's data was seen; refusals before that are only counted,
// Refusals) and anchors batches of receipts on the ledger.
//
// Verification of an answer (LZ1R, bound to one of the window's requests; or the weaker
// one-way LZ1W) checks, in order: trust age (fail closed past the policy maximum), the
// scanned text (size, Base45, zlib cap), replay of the same presentation (its hash), the
// request the answer's holder binding is made for (match.go: found by its nonce, however
// many requests are open) and that request's expiry and registration, then for each
// credential: the SD-JWT VC signature by the issuer key valid at iat on the ledger, the
// holder's KB-JWT (nonce, audience, sd_hash, age), the credential type in the ledger
// catalogue, the issuer authorised for it, the status list entry, and that the disclosed
// fields stay within what the request (and the registration) asks. Only an answer that
// passes all of it consumes its request (single use, decided by the store); a refused
// answer leaves the request open for the citizen's genuine one, and says its own reason.
// Every rejection has a stable credential.Code (docs/reason-codes.md).
//
// A credential issued in another region this consortium recognises (an agreement on the
// ledger) is verified by the same checks against that region's ledger, read with proofs
// through a light client rooted in the agreement, under the agreement's policy
// (federation.go, docs/federation.md).
//
// The window's state (requests, replay hashes, one-way nonces, receipts, anchors; no
// personal data) is an SQLite database in Config.Dir, shared safely by several processes
// (see store).
//
// No personal value is logged; disclosed values live only in the Verdict, and CloseSession
// wipes them unless a retention policy is configured. See docs/verifier.md.
package verifier

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"lianzheng/credential/receipt"
	"lianzheng/internal/bilingual"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"lianzheng/credential"
	"lianzheng/credential/sdjwtcbor"
	"lianzheng/credential/sdjwtvc"
	"lianzheng/credential/wire"
	"lianzheng/ledger"
	"lianzheng/qr"
)

// Defaults of the window policy.
const (
	DefaultMaxTrustAge     = 24 * time.Hour
	DefaultRequestValidity = 3 * time.Minute
	DefaultSkew            = 2 * time.Minute
	// SkewNote: a KB-JWT iat further than this from the window clock (but within the
	// tolerance) is reported in the verdict as a clock-skew note.
	SkewNote = 30 * time.Second
	// MaxBody caps the inflated QR body (zlib bombs cost at most this).
	MaxBody = wire.MaxBody
	// keepRequests: how long after expiry an answered/expired request is still recognised.
	keepRequests = 24 * time.Hour
)

// Config configures a Verifier.
type Config struct {
	Trust  Trust
	Window string             // window DID (did:lz:...)
	KeyID  string             // DID URL of the window key (signs requests and receipts)
	Key    ed25519.PrivateKey // the window key
	Dir    string             // state directory (requests, replay hashes, receipts); "" = memory only

	MaxTrustAge     time.Duration // policy maximum trust age (default 24 h)
	RequestValidity time.Duration // request expiry (default 3 min)
	Skew            time.Duration // clock tolerance (default 2 min)
	OneWayItem      string        // service item the one-way mode is judged against (default: the first)
	// Retain keeps disclosed values after CloseSession (a retention policy must say so).
	Retain bool
	// NoSession: verdicts are not kept for CloseSession; the caller owns each one and wipes
	// it (an online portal: one applicant per verdict, see package portal).
	NoSession bool
	Logger    *slog.Logger
	Now       func() time.Time
}

// Verifier is one window. Safe for concurrent use.
type Verifier struct {
	cfg      Config
	log      *slog.Logger
	store    *store
	receipts *receipt.Signer

	mu       sync.Mutex
	session  []*Verdict
	refusals map[credential.Code]int // verdicts without a receipt, by reason (no personal data)

	noRecover bool // fuzzing: let panics through
}

// New makes a verifier.
func New(cfg Config) (*Verifier, error) {
	if cfg.Trust == nil || cfg.Window == "" || len(cfg.Key) != ed25519.PrivateKeySize {
		return nil, errors.New("verifier: trust, window DID and window key are required")
	}
	if !strings.HasPrefix(cfg.KeyID, cfg.Window+"#") {
		return nil, fmt.Errorf("verifier: key id %q is not a key of %s", cfg.KeyID, cfg.Window)
	}
	if cfg.MaxTrustAge == 0 {
		cfg.MaxTrustAge = DefaultMaxTrustAge
	}
	if cfg.RequestValidity == 0 {
		cfg.RequestValidity = DefaultRequestValidity
	}
	if cfg.Skew == 0 {
		cfg.Skew = DefaultSkew
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler) // formats nothing, unlike a handler writing to io.Discard
	}
	rs, err := receipt.NewSigner(cfg.KeyID, cfg.Key)
	if err != nil {
		return nil, err
	}
	st, err := openStore(cfg.Dir)
	if err != nil {
		return nil, err
	}
	v := &Verifier{cfg: cfg, log: cfg.Logger, store: st, receipts: rs}
	closeOnCollect(v, st)
	return v, nil
}

// Close releases the window's state database (Config.Dir). The verifier must not be used
// afterwards. A verifier that is not closed releases it when garbage collected.
func (v *Verifier) Close() error { return v.store.close() }

// Field is one disclosed field, labelled from the catalogue.
type Field struct {
	Name  string         `json:"name"`
	Label bilingual.Text `json:"label"`
	Value string         `json:"value"`
}

// Missing is a field the request asked that the presentation does not hold: the credential
// lacks it (an optional claim left empty at issuance) or the citizen withheld it. Required
// says whether the service item's registration requires it (then the verdict fails with
// field_missing) or can do without it.
type Missing struct {
	Name     string         `json:"name"`
	Label    bilingual.Text `json:"label"`
	Required bool           `json:"required"`
}

// CredentialVerdict is the finding on one presented credential. Missing lists the fields
// the request asked that it does not hold (request mode).
type CredentialVerdict struct {
	Type     string          `json:"type,omitempty"` // catalogue type id
	TypeName bilingual.Text  `json:"type_name"`
	Issuer   string          `json:"issuer,omitempty"`
	OK       bool            `json:"ok"`
	Code     credential.Code `json:"code,omitempty"`
	Message  bilingual.Text  `json:"message"`
	Fields   []Field         `json:"fields,omitempty"`
	Missing  []Missing       `json:"missing,omitempty"`
	Shown    int             `json:"shown"`  // fields disclosed (kept after the session closes)
	Hidden   int             `json:"hidden"` // disclosable claims the citizen did not show
	// Region names the issuing region of a credential recognised across regions (跨区域互认);
	// nil for a credential of our own consortium.
	Region *RegionInfo `json:"region,omitempty"`
	Detail string      `json:"-"` // engineer detail (no personal data)
	names  []string
}

// Verdict is the window's finding on one scan. Its Receipt is made only when a credential
// verified (its fields were on the clerk's screen): a refusal before that (unreadable text, a
// replay, an expired request, a revoked credential) saw no one's data and leaves no receipt.
type Verdict struct {
	OK          bool                `json:"ok"`
	Code        credential.Code     `json:"code,omitempty"` // first reason when not OK
	Message     bilingual.Text      `json:"message"`
	Mode        string              `json:"mode"` // ModeRequest, ModeOneWay (weaker), ModeOpenID4VP or "" (unreadable)
	Item        string              `json:"item,omitempty"`
	ItemName    bilingual.Text      `json:"item_name"`
	Purpose     bilingual.Text      `json:"purpose"`
	Credentials []CredentialVerdict `json:"credentials"`
	Trust       TrustInfo           `json:"trust"`
	ClockSkew   time.Duration       `json:"clock_skew_ns"`
	SkewNote    string              `json:"skew_note,omitempty"`
	Receipt     string              `json:"receipt,omitempty"` // JWS signed by the window key
	ReceiptID   string              `json:"receipt_id,omitempty"`
	Hash        string              `json:"presentation_hash,omitempty"`
	Time        time.Time           `json:"time"`
	Detail      string              `json:"-"`
}

// TrustInfo says what the verdict's trust rests on.
type TrustInfo struct {
	Source string        `json:"source"`
	Height int64         `json:"height"`
	Time   time.Time     `json:"time"`
	Age    time.Duration `json:"age_ns"`
	MaxAge time.Duration `json:"max_age_ns"`
	// Regions are the other regions recognised (跨区域互认), each with its data's age.
	Regions []RegionTrust `json:"regions,omitempty"`
}

// Request is a signed window request.
type Request struct {
	Request *wire.Request
	Text    string // LZ1Q:...
	Item    ledger.ServiceItem
}

// PNG renders the request QR.
func (r *Request) PNG() ([]byte, error) { return qr.RenderPNG(r.Text, 0) }

// NewRequest makes the signed request for a service item registered for this window on the
// ledger: its fields and purpose come from the registration, the nonce is fresh, the expiry
// short. The verifier remembers it until it expires (and recognises it a day longer).
func (v *Verifier) NewRequest(ctx context.Context, item string) (*Request, error) {
	view, err := v.cfg.Trust.Current(ctx)
	if err != nil {
		return nil, err
	}
	now := v.cfg.Now()
	if age := view.Age(now); age > v.cfg.MaxTrustAge {
		return nil, credential.Errorf(credential.CodeStaleSnapshot, "trust is %s old (max %s)", age.Round(time.Second), v.cfg.MaxTrustAge)
	}
	w, ok := view.Window(v.cfg.Window)
	if !ok {
		return nil, fmt.Errorf("verifier: window %s is not registered on the ledger", v.cfg.Window)
	}
	id := item
	if id == "" && len(w.ServiceItems) > 0 {
		id = w.ServiceItems[0].ID
	}
	si, ok := w.ServiceItem(id)
	if !ok {
		return nil, fmt.Errorf("verifier: service item %q is not registered for %s", item, v.cfg.Window)
	}
	var frs []wire.FieldRequest
	for _, fr := range si.Requests {
		frs = append(frs, wire.FieldRequest{Type: fr.Type, Fields: slices.Clone(fr.Fields)})
	}
	r, err := wire.New(v.cfg.Window, v.cfg.KeyID, si.ID, frs, now, v.cfg.RequestValidity)
	if err != nil {
		return nil, err
	}
	body, err := r.Sign(v.cfg.Key)
	if err != nil {
		return nil, err
	}
	text := qr.Encode(wire.PrefixRequest, body)
	sr := &storedRequest{Nonce: r.NonceString(), Text: text, Item: si.ID, Expires: r.Expires,
		cache: &bindingCache{view: view, b: v.bindingFrom(r, view), reqs: r.Requests}}
	if err := v.store.newRequest(sr, now, keepRequests); err != nil {
		return nil, err
	}
	v.log.Info("request", "item", si.ID, "expires", r.Expires)
	return &Request{Request: r, Text: text, Item: *si}, nil
}

// VerifyPNG reads a QR image and verifies it.
func (v *Verifier) VerifyPNG(ctx context.Context, png []byte) *Verdict {
	text, err := qr.DecodePNG(png)
	if err != nil {
		code := credential.CodeMalformed
		if errors.Is(err, qr.ErrTooLarge) {
			code = credential.CodeOversized
		}
		return v.finish(ctx, &Verdict{Time: v.cfg.Now(), Code: code, Detail: err.Error()}, nil, "")
	}
	return v.Verify(ctx, text)
}

// trusted is the verified ledger state the verdict rests on, recorded in vd.Trust; nil, with
// vd's code set, when there is none or it is older than the policy allows.
func (v *Verifier) trusted(ctx context.Context, vd *Verdict, now time.Time) *View {
	view, err := v.cfg.Trust.Current(ctx)
	if err != nil {
		vd.Code, vd.Detail = errCode(err, credential.CodeTrustUnavailable), err.Error()
		return nil
	}
	vd.Trust = TrustInfo{Source: view.Source, Height: view.Height, Time: view.Time, Age: view.Age(now), MaxAge: v.cfg.MaxTrustAge}
	if vd.Trust.Age > v.cfg.MaxTrustAge {
		vd.Code = credential.CodeStaleSnapshot
		vd.Detail = fmt.Sprintf("trust %s old, policy max %s", vd.Trust.Age.Round(time.Second), v.cfg.MaxTrustAge)
		return nil
	}
	return view
}

// Verify verifies what the scanner typed (or any QR text) and returns the verdict. It never
// panics on hostile input; the verdict has a signed receipt when a credential verified.
func (v *Verifier) Verify(ctx context.Context, scanned string) (out *Verdict) {
	now := v.cfg.Now()
	vd := &Verdict{Time: now}
	defer func() {
		if v.noRecover {
			return
		}
		if p := recover(); p != nil { // defence in depth: a parser bug must not take the window down
			vd.Code, vd.Detail = credential.CodeMalformed, "internal error while verifying"
			out = v.finish(ctx, vd, nil, "")
		}
	}()
	view := v.trusted(ctx, vd, now)
	if view == nil {
		return v.finish(ctx, vd, nil, "")
	}
	prefix, body, err := qr.Decode(scanned, MaxBody)
	if err != nil {
		vd.Code, vd.Detail = credential.CodeMalformed, err.Error()
		if errors.Is(err, qr.ErrTooLarge) {
			vd.Code = credential.CodeOversized
		}
		return v.finish(ctx, vd, nil, "")
	}
	vd.Hash = receipt.HashPresentation(prefix, body)
	seen, err := v.store.seen(vd.Hash)
	if err != nil { // the claim below decides single use; this check only answers early
		v.log.Error("state not read", "err", err.Error())
	}
	if seen {
		vd.Code, vd.Detail = credential.CodeReplayed, "presentation already verified"
		return v.finish(ctx, vd, nil, "")
	}
	switch prefix {
	case wire.PrefixResponse:
		return v.verifyResponse(ctx, vd, view, body, now)
	case wire.PrefixOneWay:
		return v.verifyOneWay(ctx, vd, view, body, now)
	default:
		vd.Code, vd.Detail = credential.CodeMalformed, "not an answer QR (prefix "+prefix+")"
		return v.finish(ctx, vd, nil, "")
	}
}

// binding is what a presentation must be bound to.
type binding struct {
	nonce, aud string
	item       string
	allowed    map[string][]string // type → fields the request asked (within the registration)
	maxKBAge   time.Duration
}

func (v *Verifier) verifyResponse(ctx context.Context, vd *Verdict, view *View, body []byte, now time.Time) *Verdict {
	vd.Mode = ModeRequest
	m, code, detail := v.match(ctx, view, body, now)
	if m == nil {
		vd.Code, vd.Detail = code, detail
		return v.finish(ctx, vd, nil, "")
	}
	sr := m.sr
	vd.Item = sr.Item
	v.describeItem(vd, view, sr.Item)
	// An expired request cannot be answered whatever the answer carries: the clerk makes a
	// new one. (Said before the credentials are judged, and nothing is consumed.)
	if !now.Before(time.Unix(sr.Expires, 0).Add(v.cfg.Skew)) {
		vd.Code, vd.Detail = credential.CodeRequestExpired, "request expired"
		return v.finish(ctx, vd, nil, sr.Item)
	}
	if over := wire.OverAsk(&wire.Request{Requests: m.reqs}, registered(view, v.cfg.Window, sr.Item)); len(over) > 0 {
		vd.Code, vd.Detail = credential.CodeOverRequest, fmt.Sprintf("request exceeds registration: %v", over)
		return v.finish(ctx, vd, nil, sr.Item)
	}
	v.judge(ctx, vd, view, m.texts, m.b, now, m.first)
	return v.accept(ctx, vd, sr, now)
}

// accept finishes a judged answer to request sr: a refused one leaves the request open; a
// verified one consumes it.
func (v *Verifier) accept(ctx context.Context, vd *Verdict, sr *storedRequest, now time.Time) *Verdict {
	if vd.Code != "" || len(vd.Credentials) == 0 {
		return v.finish(ctx, vd, nil, sr.Item) // refused: the request stays open
	}
	// The answer verified: it consumes its request, once (across processes), and its receipt
	// is stored in the same transaction (signed first: if the claim fails it is dropped).
	rc, err := v.newReceipt(vd, sr.Item, true)
	if err != nil {
		v.log.Error("receipt not signed", "err", err.Error())
	}
	used, err := v.store.claim(sr, vd.Hash, now, rc)
	switch {
	case err != nil: // single use cannot be established: refuse
		v.log.Error("state not saved", "err", err.Error())
		vd.Code, vd.Detail = credential.CodeReplayed, "request nonce could not be recorded: "+err.Error()
	case used:
		vd.Code, vd.Detail = credential.CodeReplayed, "request already answered"
	case rc != nil:
		vd.Receipt, vd.ReceiptID = rc.JWS, rc.ID
	}
	if vd.Code != "" { // a refused answer shows no data
		vd.Credentials = nil
	}
	return v.finish(ctx, vd, nil, sr.Item)
}

// decodeCompact rebuilds the SD-JWT texts of a compact response with the window's full
// dictionary (View.Known). A wallet that encoded with a smaller list (only the strings of the
// credentials it presents, as wallet.Known does) may have chosen a hash prefix that is
// unique in its list but ambiguous in ours; then decoding is retried with the
// request-scoped list such a wallet uses: the window DID (none for one-way) and, per
// requested type, its issuers' DIDs, key ids and status lists, its vct and claim names.
// scoped says the request-scoped list was used.
func (v *Verifier) decodeCompact(body []byte, b *binding, view *View, window string) (texts []string, scoped bool, err error) {
	ctx := &sdjwtcbor.Context{Nonce: b.nonce, Audience: b.aud, Known: view.known, Index: view.knownIx}
	texts, err = sdjwtcbor.Decode(body, ctx)
	if errors.Is(err, sdjwtcbor.ErrUnknownReference) && view.fed != nil {
		// A credential of a recognised region names its strings by reference too: decode
		// again with theirs added (only then, so that home answers cost nothing more).
		if known, ix := view.federatedKnown(context.Background(), v.cfg.Now()); known != nil {
			ctx.Known, ctx.Index = known, ix
			texts, err = sdjwtcbor.Decode(body, ctx)
		}
	}
	if !errors.Is(err, sdjwtcbor.ErrAmbiguousReference) {
		return texts, false, err
	}
	ctx.Known, ctx.Index = scopedKnown(view, window, b.allowed), nil
	texts, err = sdjwtcbor.Decode(body, ctx)
	return texts, true, err
}

// scopedKnown is the dictionary (wire.Known) a wallet answering a request for types could
// have built: the window DID and, per type, every authorised issuer with all its key ids
// and the status lists its credentials may name (View.StatusLists), the vct and the claim
// names.
func scopedKnown(view *View, window string, types map[string][]string) []string {
	parties := []wire.KnownParty{{DID: window}}
	var kts []wire.KnownType
	ids := make([]string, 0, len(types))
	for id := range types {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		t, ok := view.Type(id)
		if !ok {
			continue
		}
		for _, m := range t.Issuers {
			p := wire.KnownParty{DID: "did:lz:" + m}
			for _, n := range view.lists[m] { // every list the issuer's credentials may name
				p.StatusLists = append(p.StatusLists, ledger.StatusListNames(view.base, m, n)...)
			}
			if len(view.lists[m]) == 0 {
				p.StatusLists = ledger.StatusListNames(view.base, m, 0)
			}
			if r, err := view.Resolve(context.Background(), p.DID); err == nil && r.History != nil {
				for _, k := range r.History.Keys {
					p.KeyIDs = append(p.KeyIDs, p.DID+"#"+k.ID)
				}
			}
			parties = append(parties, p)
		}
		kt := wire.KnownType{VCT: t.VCT}
		for _, c := range t.Claims {
			kt.Claims = append(kt.Claims, c.Name)
		}
		kts = append(kts, kt)
		// The types of recognised regions that count as this one, with their issuers.
		for _, h := range view.foreignViews(context.Background(), time.Now()) {
			for _, rt := range h.rec.Types {
				if rt.AcceptedAs != id {
					continue
				}
				if ft, ok := h.view.Type(rt.Type); ok {
					p, k := scopedParties(h.view, ft)
					parties, kts = append(parties, p...), append(kts, k)
				}
			}
		}
	}
	return wire.Known(parties, kts)
}

// scopedParties are the issuers of t in view (a recognised region's), with their keys and
// status lists, and t's vct and claim names.
func scopedParties(view *View, t *ledger.CredentialType) ([]wire.KnownParty, wire.KnownType) {
	var parties []wire.KnownParty
	for _, m := range t.Issuers {
		mm, ok := view.Member(m)
		if !ok {
			continue
		}
		p := wire.KnownParty{DID: mm.DID}
		for _, n := range view.lists[m] {
			p.StatusLists = append(p.StatusLists, ledger.StatusListNames(view.base, m, n)...)
		}
		if r, err := view.Resolve(context.Background(), p.DID); err == nil && r.History != nil {
			for _, k := range r.History.Keys {
				p.KeyIDs = append(p.KeyIDs, p.DID+"#"+k.ID)
			}
		}
		parties = append(parties, p)
	}
	kt := wire.KnownType{VCT: t.VCT}
	for _, c := range t.Claims {
		kt.Claims = append(kt.Claims, c.Name)
	}
	return parties, kt
}

func closed(r *storedRequest, now time.Time, skew time.Duration) bool {
	return r.Used || !now.Before(time.Unix(r.Expires, 0).Add(skew))
}

// bindingOf parses a stored request (signed by this window) into its binding.
func (v *Verifier) bindingOf(sr *storedRequest, view *View) (*binding, []wire.FieldRequest, error) {
	v.store.mu.Lock()
	c := sr.cache
	v.store.mu.Unlock()
	if c != nil && c.view == view {
		return c.b, c.reqs, nil
	}
	_, body, err := qr.Decode(sr.Text, 8<<10)
	if err != nil {
		return nil, nil, err
	}
	r, _, _, err := wire.Parse(body)
	if err != nil {
		return nil, nil, err
	}
	b := v.bindingFrom(r, view)
	v.store.mu.Lock()
	sr.cache = &bindingCache{view: view, b: b, reqs: r.Requests}
	v.store.mu.Unlock()
	return b, r.Requests, nil
}

// bindingFrom is what an answer to r must be bound to, and the fields it may disclose (asked
// by r and registered for its item in view).
func (v *Verifier) bindingFrom(r *wire.Request, view *View) *binding {
	b := &binding{nonce: r.NonceString(), aud: r.Audience(), item: r.Item, allowed: map[string][]string{},
		maxKBAge: time.Duration(r.Expires-r.IssuedAt)*time.Second + v.cfg.Skew}
	reg := registered(view, v.cfg.Window, r.Item)
	for _, fr := range r.Requests {
		for _, f := range fr.Fields {
			if slices.Contains(reg[fr.Type], f) {
				b.allowed[fr.Type] = append(b.allowed[fr.Type], f)
			}
		}
	}
	return b
}

func registered(view *View, window, item string) map[string][]string {
	if w, ok := view.Window(window); ok {
		if si, ok := w.ServiceItem(item); ok {
			return si.Allowed()
		}
	}
	return map[string][]string{}
}

func (v *Verifier) describeItem(vd *Verdict, view *View, item string) {
	if w, ok := view.Window(v.cfg.Window); ok {
		if si, ok := w.ServiceItem(item); ok {
			vd.ItemName, vd.Purpose = bilingual.Text(si.Name), bilingual.Text(si.Purpose)
		}
	}
}

func (v *Verifier) verifyOneWay(ctx context.Context, vd *Verdict, view *View, body []byte, now time.Time) *Verdict {
	vd.Mode = ModeOneWay
	ow, err := wire.ParseOneWay(body)
	if err != nil {
		vd.Code, vd.Detail = credential.CodeMalformed, "one-way body"
		return v.finish(ctx, vd, nil, "")
	}
	exp := time.Unix(ow.Expires, 0)
	switch {
	case exp.After(now.Add(wire.OneWayValidity + v.cfg.Skew)):
		vd.Code, vd.Detail = credential.CodeClockSkew, "one-way answer valid longer than 60 s from now"
		return v.finish(ctx, vd, nil, "")
	case !now.Before(exp.Add(v.cfg.Skew)):
		vd.Code, vd.Detail = credential.CodePresentationExpired, "one-way answer older than 60 s"
		return v.finish(ctx, vd, nil, "")
	}
	nonce := ow.NonceString()
	replay, err := v.store.claimOneWay(nonce, vd.Hash, now)
	if err != nil { // single use cannot be established: refuse
		v.log.Error("state not saved", "err", err.Error())
		vd.Code, vd.Detail = credential.CodeReplayed, "one-way nonce could not be recorded: "+err.Error()
		return v.finish(ctx, vd, nil, "")
	}
	if replay {
		vd.Code, vd.Detail = credential.CodeReplayed, "one-way nonce already used"
		return v.finish(ctx, vd, nil, "")
	}
	item := v.cfg.OneWayItem
	if w, ok := view.Window(v.cfg.Window); ok && item == "" && len(w.ServiceItems) > 0 {
		item = w.ServiceItems[0].ID
	}
	vd.Item = item
	v.describeItem(vd, view, item)
	b := &binding{nonce: nonce, aud: wire.OneWayAudience, item: item, allowed: registered(view, v.cfg.Window, item),
		maxKBAge: wire.OneWayValidity + v.cfg.Skew}
	texts, _, err := v.decodeCompact(ow.Response, b, view, "")
	if err != nil || len(texts) == 0 {
		vd.Code = credential.CodeMalformed
		if errors.Is(err, sdjwtcbor.ErrTooLarge) {
			vd.Code = credential.CodeOversized
		}
		return v.finish(ctx, vd, nil, item)
	}
	v.judge(ctx, vd, view, texts, b, now, nil)
	return v.finish(ctx, vd, nil, b.item)
}

// judge verifies every presentation (first: the already computed verdict of texts[0]) into
// vd.Credentials, and sets vd.Code to the first failure (none: every credential verified and
// every requested type was presented).
func (v *Verifier) judge(ctx context.Context, vd *Verdict, view *View, texts []string, b *binding, now time.Time, first *CredentialVerdict) {
	present := map[string]bool{}
	for i, t := range texts {
		cv := first
		if i > 0 || cv == nil {
			cv, _ = v.verifyOne(ctx, t, b, view, now)
		}
		if cv.Type != "" {
			present[cv.Type] = true
		}
		vd.Credentials = append(vd.Credentials, *cv)
	}
	for _, c := range vd.Credentials {
		if !c.OK && vd.Code == "" {
			vd.Code, vd.Detail = c.Code, c.Detail
		}
	}
	if vd.Code == "" && vd.Mode != ModeOneWay {
		var missing []string
		for typ := range b.allowed {
			if !present[typ] {
				missing = append(missing, typ)
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			vd.Code, vd.Detail = credential.CodeMissingCredential, "not presented: "+strings.Join(missing, ",")
		}
	}
}

// verifyOne verifies one SD-JWT VC presentation against the binding and the trust view. An
// issuer that is not one of the view's members is routed to the region that recognises it
// (federation.go) and judged against that region's ledger.
func (v *Verifier) verifyOne(ctx context.Context, text string, b *binding, view *View, now time.Time) (*CredentialVerdict, error) {
	cv := &CredentialVerdict{}
	fail := func(c credential.Code, err error) (*CredentialVerdict, error) {
		cv.OK, cv.Code, cv.Message = false, c, credential.Text(c)
		if err != nil {
			cv.Detail = err.Error()
		}
		cv.Fields = nil
		if err == nil {
			err = credential.Errorf(c, "%s", c)
		}
		return cv, err
	}
	var hit *foreignHit
	var foreignErr error
	vc, err := sdjwtvc.Verify(text, sdjwtvc.VerifyOptions{
		IssuerKeyAt: func(kid string, at time.Time) (crypto.PublicKey, error) {
			if id, ok := foreignID(view, kid); ok {
				h, err := view.foreignIssuer(ctx, id, now)
				if h != nil {
					hit, cv.Region = h, h.info
				}
				if err != nil {
					foreignErr = err
					return nil, err
				}
				if h != nil {
					return h.view.assertionKeyAt(ctx, kid, at)
				}
			}
			return view.assertionKeyAt(ctx, kid, at)
		},
		Nonce: b.nonce, Audience: b.aud, Now: now, Skew: v.cfg.Skew, MaxKBAge: b.maxKBAge,
	})
	if foreignErr != nil {
		return fail(errCode(foreignErr, credential.CodeForeignStale), foreignErr)
	}
	if err != nil {
		return fail(errCode(err, credential.CodeMalformed), err)
	}
	if vc.KB != nil {
		if d := now.Sub(vc.KB.IssuedAt); d > SkewNote && d > b.maxKBAge/2 || d < -SkewNote {
			cv.Detail = fmt.Sprintf("clock skew %s", d.Round(time.Second))
		}
	}
	if hit != nil {
		return v.verifyForeign(ctx, cv, vc, b, view, hit, fail)
	}
	typ, ok := view.TypeByVCT(vc.VCT)
	if !ok {
		return fail(credential.CodeUnknownType, fmt.Errorf("vct %q not in the catalogue", vc.VCT))
	}
	cv.Type, cv.TypeName, cv.Issuer = typ.ID, bilingual.Text(typ.Name), vc.Issuer
	member := strings.TrimPrefix(vc.Issuer, "did:lz:")
	if m, ok := view.Member(member); !ok || m.DID != vc.Issuer || !slices.Contains(typ.Issuers, member) {
		return fail(credential.CodeIssuerNotAuthorised, fmt.Errorf("%s may not issue %s", vc.Issuer, typ.ID))
	}
	if code, err := v.checkStatus(ctx, vc, view, member); code != "" {
		return fail(code, err)
	}
	disclosed := make([]string, len(vc.Disclosed))
	for i, p := range vc.Disclosed {
		disclosed[i] = strings.SplitN(p, ".", 2)[0]
	}
	return v.finishFields(cv, b, view, typ, disclosed, vc.Claims, len(typ.Disclosable), fail)
}

// foreignID is the member id of the DID a key id names when that DID is a did:lz DID of no
// member of ours: an issuer that may belong to a region we recognise.
func foreignID(view *View, kid string) (string, bool) {
	d, _, _ := strings.Cut(kid, "#")
	id, ok := strings.CutPrefix(d, "did:lz:")
	if !ok || view.fed == nil {
		return "", false
	}
	if _, mine := view.Member(id); mine {
		return "", false
	}
	return id, true
}

// checkStatus reads the credential's status entry from the issuing member's list in view
// (of our ledger or of the issuing region's): "" when valid.
func (v *Verifier) checkStatus(ctx context.Context, vc *sdjwtvc.Verified, view *View, member string) (credential.Code, error) {
	if vc.Status == nil {
		return credential.CodeMissingClaim, errors.New("no status reference")
	}
	owner, list, ok := ledger.ParseStatusListURI(vc.Status.URI)
	if !ok || owner != member {
		return credential.CodeStatusUnknown, fmt.Errorf("status uri %q is not a list of %s", vc.Status.URI, member)
	}
	sl, err := view.StatusList(ctx, member, list)
	if err != nil {
		return credential.CodeTrustUnavailable, err
	}
	st, err := ledger.StatusAt(sl, vc.Status.Index)
	if err != nil {
		return credential.CodeStatusUnknown, fmt.Errorf("status entry %d: %w", vc.Status.Index, err)
	}
	switch st {
	case ledger.StatusValid:
		return "", nil
	case ledger.StatusRevoked:
		return credential.CodeRevoked, nil
	case ledger.StatusSuspended:
		return credential.CodeSuspended, nil
	}
	return credential.CodeStatusUnknown, fmt.Errorf("status entry %d", vc.Status.Index)
}

// finishFields compares what the credential disclosed (top-level claim names, in typ's
// names) with what the request asked of typ, lists what is missing and shows the fields
// labelled from typ. disclosable is the number of claims the credential's own type lets a
// holder disclose.
func (v *Verifier) finishFields(cv *CredentialVerdict, b *binding, view *View, typ *ledger.CredentialType, disclosed []string,
	claims map[string]any, disclosable int, fail func(credential.Code, error) (*CredentialVerdict, error)) (*CredentialVerdict, error) {
	allowed, asked := b.allowed[typ.ID]
	if !asked {
		return fail(credential.CodeOverDisclosure, fmt.Errorf("type %s not requested", typ.ID))
	}
	for _, top := range disclosed {
		if !slices.Contains(allowed, top) {
			return fail(credential.CodeOverDisclosure, fmt.Errorf("field %s of %s not requested", top, typ.ID))
		}
		cv.names = append(cv.names, top)
	}
	if b.aud != wire.OneWayAudience { // a one-way answer was asked nothing
		cv.Missing = missingFields(view, v.cfg.Window, b.item, typ, allowed, claims)
		for _, m := range cv.Missing {
			if m.Required { // fail keeps Missing: the clerk sees what is lacking
				out, err := fail(credential.CodeFieldMissing, fmt.Errorf("field %s of %s not presented; the service item requires it", m.Name, typ.ID))
				out.Message = bilingual.Text{Zh: "缺少本事项必需的“" + m.Label.Zh + "”", En: "Lacks " + m.Label.En + ", which this service item requires"}
				return out, err
			}
		}
	}
	for _, c := range typ.Claims {
		if val, ok := claims[c.Name]; ok {
			cv.Fields = append(cv.Fields, Field{Name: c.Name, Label: bilingual.Text(c.Label), Value: show(val)})
		}
	}
	cv.Shown = len(disclosed)
	cv.Hidden = max(disclosable-len(disclosed), 0)
	cv.OK, cv.Message = true, bilingual.Text{Zh: "核验通过", En: "Valid"}
	if cv.Region != nil {
		cv.Message = foreignMessage(cv.Region)
	}
	return cv, nil
}

// missingFields lists the fields asked of typ (allowed: asked and registered) that the
// presentation does not hold, each marked required unless the item's registration lists it
// as optional.
func missingFields(view *View, window, item string, typ *ledger.CredentialType, allowed []string, claims map[string]any) []Missing {
	var si *ledger.ServiceItem
	if w, ok := view.Window(window); ok {
		si, _ = w.ServiceItem(item)
	}
	var out []Missing
	for _, f := range allowed {
		if _, ok := claims[f]; ok {
			continue
		}
		m := Missing{Name: f, Label: bilingual.Text{Zh: f, En: f}, Required: si == nil || si.Required(typ.ID, f)}
		for _, c := range typ.Claims {
			if c.Name == f {
				m.Label = (c.Label)
			}
		}
		out = append(out, m)
	}
	return out
}

func show(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// finish completes a verdict: overall result and message, skew note, receipt, log line.
func (v *Verifier) finish(ctx context.Context, vd *Verdict, _ error, item string) *Verdict {
	if vd.Code == "" {
		vd.OK = len(vd.Credentials) > 0
		if !vd.OK {
			vd.Code = credential.CodeMalformed
		}
	}
	if vd.OK {
		vd.Message = bilingual.Text{Zh: "核验通过", En: "Verified"}
	} else {
		vd.Message = credential.Text(vd.Code)
	}
	for _, c := range vd.Credentials {
		if strings.HasPrefix(c.Detail, "clock skew") {
			vd.SkewNote = c.Detail
		}
	}
	if vd.SkewNote != "" || vd.Code == credential.CodeClockSkew {
		if vd.SkewNote == "" {
			vd.SkewNote = "clock skew beyond tolerance"
		}
	}
	switch {
	case !seenData(vd):
		v.countRefusal(vd.Code)
	case vd.Receipt != "": // an accepted answer's: signed and stored with its claim (verifyResponse)
	default:
		if err := v.sign(vd, item); err != nil {
			v.log.Error("receipt not signed", "err", err.Error())
		}
	}
	if !v.cfg.NoSession {
		v.mu.Lock()
		v.session = append(v.session, vd)
		v.mu.Unlock()
	}
	// The log line carries codes, ids and hashes only — never a disclosed value.
	v.log.Info("verify", "ok", vd.OK, "code", string(vd.Code), "mode", vd.Mode, "item", vd.Item,
		"receipt", vd.ReceiptID, "presentation_hash", vd.Hash, "trust_height", vd.Trust.Height,
		"trust_age_s", int64(vd.Trust.Age/time.Second), "credentials", len(vd.Credentials))
	return vd
}

// CloseSession ends the clerk's session: the disclosed values of every verdict made since
// the last close are wiped, unless the retention policy (Config.Retain) keeps them.
func (v *Verifier) CloseSession() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.cfg.Retain {
		for _, vd := range v.session {
			for i := range vd.Credentials {
				for j := range vd.Credentials[i].Fields {
					vd.Credentials[i].Fields[j].Value = ""
				}
				vd.Credentials[i].Fields = nil
			}
		}
	}
	v.session = nil
}
