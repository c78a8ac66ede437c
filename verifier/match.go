package verifier

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"lianzheng/credential"
	"lianzheng/credential/jws"
	"lianzheng/credential/sdjwt"
	"lianzheng/credential/sdjwtcbor"
	"lianzheng/credential/sdjwtvc"
	"lianzheng/credential/wire"
	"lianzheng/internal/strictjson"
)

// Which request an LZ1R answer answers.
//
// The compact form does not carry the request: a KB-JWT in canonical form travels as its
// iat and signature only, its nonce and audience being the window's own (docs/wire-formats.md).
// The one thing in an answer that depends on the request is the holder's signature over the
// request's nonce. So the request an answer is bound to is the one whose nonce makes the
// first presentation's KB-JWT signature verify under the holder key (cnf) of that
// presentation, with the audience this window and sd_hash covering what was presented.
//
// match tries the most plausible request first with the whole verification (the newest
// open one: nearly every answer), which costs nothing extra when it succeeds. Otherwise
// locate finds the bound request without decoding or verifying the answer again per
// request: the KB-JWT is read once, and each request costs one signature check over the
// KB-JWT rebuilt with its nonce (the carried nonce, when the compact form carried one, is
// looked up directly). Only requests whose expiry is compatible with the KB-JWT's iat are
// tried (made at most Skew after it and expiring at most Skew+MaxValidity before it), all
// of them — any number of newer open requests does not hide an older one — those made
// nearest the iat first.
//
// Binding located this way proves nothing about the credential — anyone who saw the
// request QR can sign its nonce with a key of their own under a forged credential — it only
// says which request the answer is addressed to, so that the verdict can speak of that
// request. The request is consumed (claimed) only when the whole answer verified: a forged,
// expired, revoked or otherwise refused answer leaves it open for the citizen's genuine one,
// and its refusal carries its own code.

// bound is an answer matched to the request its holder binding is made for.
type bound struct {
	sr    *storedRequest
	b     *binding
	reqs  []wire.FieldRequest
	texts []string           // the presentations, decoded for sr
	first *CredentialVerdict // texts[0] verified against b
}

// match decodes an answer and finds the request it is bound to. A nil bound comes with the
// refusal's code and detail: the answer is unreadable, or bound to no request of this window
// (then the first failure of its first presentation, checked in the standard order, or
// no_open_request when its credential is fine but no request of the window is its nonce).
func (v *Verifier) match(ctx context.Context, view *View, body []byte, now time.Time) (*bound, credential.Code, string) {
	cands, err := v.store.lookup(now, v.cfg.Skew, 1)
	if err != nil {
		v.log.Error("state not read", "err", err.Error())
	}
	var c0 *storedRequest // the most plausible request: the newest open one, else the newest closed
	b0 := v.noRequest(view)
	var reqs0 []wire.FieldRequest
	if len(cands) > 0 {
		if b, reqs, err := v.bindingOf(cands[0], view); err == nil {
			c0, b0, reqs0 = cands[0], b, reqs
		}
	}
	texts, scoped, err := v.decodeCompact(body, b0, view, b0.aud)
	if err != nil && scoped && len(cands) > 0 {
		// The full dictionary was ambiguous and c0's request-scoped one does not decode the
		// answer: it may answer a request asking other types. Decode with each service
		// item's list instead; locate then finds the request.
		if t, b, ok := v.decodeForItems(body, view); ok {
			texts, err, c0, b0, reqs0 = t, nil, nil, b, nil
		}
	}
	if err != nil {
		if errors.Is(err, sdjwtcbor.ErrTooLarge) {
			return nil, credential.CodeOversized, err.Error()
		}
		return nil, credential.CodeMalformed, err.Error()
	}
	if len(texts) == 0 {
		return nil, credential.CodeMalformed, "no presentation"
	}
	first, err := v.verifyOne(ctx, texts[0], b0, view, now)
	if err == nil && c0 != nil {
		return &bound{sr: c0, b: b0, reqs: reqs0, texts: texts, first: first}, "", ""
	}
	var sr *storedRequest
	if len(cands) > 0 {
		sr = v.locate(view, body, texts[0], b0, scoped)
	}
	switch {
	case sr == nil:
		code := first.Code
		if len(cands) == 0 && bindingCode(code) {
			code = credential.CodeNoRequest
		}
		return nil, code, first.Detail
	case sr == c0:
		return &bound{sr: c0, b: b0, reqs: reqs0, texts: texts, first: first}, "", ""
	}
	b, reqs, err := v.bindingOf(sr, view)
	if err != nil { // locate parsed it already
		return nil, credential.CodeMalformed, err.Error()
	}
	if texts, _, err = v.decodeCompact(body, b, view, b.aud); err != nil || len(texts) == 0 {
		return nil, credential.CodeMalformed, fmt.Sprintf("answer not decoded for its request: %v", err)
	}
	first, _ = v.verifyOne(ctx, texts[0], b, view, now)
	return &bound{sr: sr, b: b, reqs: reqs, texts: texts, first: first}, "", ""
}

// noRequest is the binding an answer is checked against when the window holds no request:
// it binds nothing, so the check says whether the credential itself fails.
func (v *Verifier) noRequest(view *View) *binding {
	return &binding{aud: v.cfg.Window, allowed: map[string][]string{},
		maxKBAge: v.cfg.RequestValidity + v.cfg.Skew}
}

// decodeForItems decodes an answer with the request-scoped dictionary of each service item
// of the window (in a binding to no nonce), until one succeeds.
func (v *Verifier) decodeForItems(body []byte, view *View) ([]string, *binding, bool) {
	w, ok := view.Window(v.cfg.Window)
	if !ok {
		return nil, nil, false
	}
	for _, si := range w.ServiceItems {
		b := v.noRequest(view)
		b.item, b.allowed = si.ID, si.Allowed()
		ctx := &sdjwtcbor.Context{Audience: b.aud, Known: scopedKnown(view, b.aud, b.allowed)}
		if texts, err := sdjwtcbor.Decode(body, ctx); err == nil && len(texts) > 0 {
			return texts, b, true
		}
	}
	return nil, nil, false
}

// bindingCode: the code says the KB-JWT is not bound to the request it was checked against
// (rather than that the credential failed).
func bindingCode(c credential.Code) bool {
	switch c {
	case credential.CodeBadKB, credential.CodeNonceMismatch, credential.CodeAudienceMismatch, credential.CodeSDHashMismatch:
		return true
	}
	return false
}

// locate returns the request of this window whose nonce the first presentation's KB-JWT is
// signed for (nil: none). text0 is that presentation decoded against b0; scoped says the
// decoding needed the request-scoped dictionary (then a request asking other types is
// probed on its own decoding).
func (v *Verifier) locate(view *View, body []byte, text0 string, b0 *binding, scoped bool) *storedRequest {
	p0 := readKB(text0, v.cfg.Window)
	if p0 == nil {
		return nil
	}
	probes := map[string]*kbProbe{dictKey(b0, scoped): p0}
	probeFor := func(sr *storedRequest) *kbProbe {
		if !scoped {
			return p0
		}
		b, _, err := v.bindingOf(sr, view)
		if err != nil {
			return nil
		}
		k := dictKey(b, true)
		if p, ok := probes[k]; ok {
			return p
		}
		var p *kbProbe
		if texts, _, err := v.decodeCompact(body, b, view, b.aud); err == nil && len(texts) > 0 {
			p = readKB(texts[0], v.cfg.Window)
		}
		probes[k] = p
		return p
	}
	// The nonce in the KB-JWT: b0's as decoded, or one the answer carried.
	sr, err := v.store.find(p0.nonce)
	if err != nil {
		v.log.Error("state not read", "err", err.Error())
	}
	if sr != nil {
		if p := probeFor(sr); p != nil && p.bound(sr.Nonce) {
			return sr
		}
	}
	if p0.nonce != b0.nonce { // the answer names its nonce: no other request is meant
		return nil
	}
	slack := int64((v.cfg.Skew + wire.MaxValidity) / time.Second)
	at := p0.iat.Unix()
	near, err := v.store.near(at-slack, at+slack)
	if err != nil {
		v.log.Error("state not read", "err", err.Error())
	}
	// A wallet answers soon after it scanned: try first the requests made nearest the
	// KB-JWT's iat (made at about expiry − RequestValidity), the newest first among equals.
	made := func(r *storedRequest) int64 {
		d := r.Expires - int64(v.cfg.RequestValidity/time.Second) - at
		return max(d, -d)
	}
	sort.SliceStable(near, func(i, j int) bool { return made(near[i]) < made(near[j]) })
	for _, r := range near {
		if r == sr {
			continue
		}
		if p := probeFor(r); p != nil && p.bound(r.Nonce) {
			return r
		}
	}
	return nil
}

// dictKey names the dictionary an answer is decoded with for binding b: the window's full
// one, or (scoped) the one of b's requested types.
func dictKey(b *binding, scoped bool) string {
	if !scoped {
		return ""
	}
	ts := make([]string, 0, len(b.allowed))
	for t := range b.allowed {
		ts = append(ts, t)
	}
	sort.Strings(ts)
	return strings.Join(ts, "\x00")
}

// kbProbe is a presentation's KB-JWT read without verifying anything: enough to test, with
// one signature check, whether it is signed for a given nonce.
type kbProbe struct {
	hk      crypto.PublicKey // the holder key in the (unverified) issuer payload's cnf
	alg     string
	head    string // the KB-JWT header, base64url as received
	payload []byte // the KB-JWT payload JSON
	sig     []byte
	nonce   string    // the nonce in payload
	at      int       // offset of the nonce value in payload; -1: not in the canonical form
	iat     time.Time // the KB-JWT's iat
}

// readKB reads the KB-JWT of an SD-JWT+KB text. nil: there is none, or it cannot be bound to
// any request of window (unreadable, another audience, or an sd_hash not covering the
// presentation — the canonical form rebuilds both, so only a carried payload can differ).
func readKB(text, window string) *kbProbe {
	i := strings.LastIndexByte(text, '~')
	j := strings.IndexByte(text, '~')
	if i < 0 || i == len(text)-1 {
		return nil
	}
	kb, err := jws.Parse(text[i+1:])
	if err != nil {
		return nil
	}
	if typ, _ := kb.Header["typ"].(string); typ != sdjwt.KBTyp {
		return nil
	}
	c, err := strictjson.Object(kb.Payload)
	if err != nil {
		return nil
	}
	nonce, _ := c["nonce"].(string)
	aud, _ := c["aud"].(string)
	sdHash, _ := c["sd_hash"].(string)
	iat, ok := sdjwt.NumericDate(c["iat"])
	if !ok || aud != window || sdHash != sdjwt.Digest(text[:i+1]) {
		return nil
	}
	iss, err := jws.Parse(text[:j])
	if err != nil {
		return nil
	}
	ip, err := strictjson.Object(iss.Payload)
	if err != nil {
		return nil
	}
	cnf, _ := ip["cnf"].(map[string]any)
	hk, err := sdjwtvc.HolderKey(cnf)
	if err != nil {
		return nil
	}
	p := &kbProbe{hk: hk, alg: kb.Alg, head: kb.SigningInput[:strings.IndexByte(kb.SigningInput, '.')],
		payload: kb.Payload, sig: kb.Signature, nonce: nonce, at: -1, iat: iat}
	key := []byte(`"nonce":"` + nonce + `"`)
	if k := bytes.Index(p.payload, key); k >= 0 && bytes.Count(p.payload, key) == 1 {
		p.at = k + len(`"nonce":"`)
	}
	return p
}

// bound reports whether the KB-JWT is signed for nonce: its payload with nonce in place of
// the one read (the canonical form's only difference between two requests of one window).
func (p *kbProbe) bound(nonce string) bool {
	payload := p.payload
	if nonce != p.nonce {
		if p.at < 0 {
			return false
		}
		payload = slices.Concat(p.payload[:p.at], []byte(nonce), p.payload[p.at+len(p.nonce):])
	}
	in := make([]byte, 0, len(p.head)+1+jws.B64.EncodedLen(len(payload)))
	in = append(append(in, p.head...), '.')
	in = jws.B64.AppendEncode(in, payload)
	return jws.VerifySignature(p.alg, p.hk, in, p.sig) == nil
}
