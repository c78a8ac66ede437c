package verifier

// The online-service path (docs/portal.md): a department's web portal is a window of the
// ledger whose registration is marked online, with its own did:lz key. It makes its requests
// with NewRequest, exactly as a hall window does (fields and purpose from the registration,
// a fresh nonce, short expiry, stored for single use); the portal carries that request to the
// wallet as an OpenID4VP request object (credential/oid4vp) instead of a QR code, and hands
// the presentations of the decrypted response to VerifyOpenID4VP. From there the checks,
// reason codes, receipts and anchors are the window's: the same judge, the same claim of the
// request (single use across processes), the same receipt signed by the portal's key. The
// only difference is the holder binding's audience: OpenID4VP binds the KB-JWT to the full
// client id, decentralized_identifier:did:lz:….

import (
	"context"
	"errors"
	"fmt"
	"time"

	"lianzheng/credential"
	"lianzheng/credential/oid4vp"
	"lianzheng/credential/wire"
)

// Verdict.Mode: an answer to the window's request QR, a one-way presentation (weaker), an
// online service's answer.
const (
	ModeRequest   = "request"
	ModeOneWay    = "one-way"
	ModeOpenID4VP = "openid4vp"
)

// maxOnlinePresentations bounds the presentations of one online answer.
const maxOnlinePresentations = 16

// ErrNoRequest: no request of this verifier has that nonce (never made, or pruned).
var ErrNoRequest = errors.New("verifier: no request with that nonce")

// Open reports whether the request of nonce is held, unanswered and unexpired at now
// (ErrNoRequest when it is not held at all). A portal uses it to say "expired" before it
// even decrypts an answer.
func (v *Verifier) Open(nonce string) (bool, error) {
	sr, err := v.store.find(nonce)
	if err != nil {
		return false, err
	}
	if sr == nil {
		return false, ErrNoRequest
	}
	return !closed(sr, v.cfg.Now(), v.cfg.Skew), nil
}

// VerifyOpenID4VP verifies the presentations (SD-JWT+KB texts, in oid4vp.Response order) of
// an OpenID4VP response to this verifier's request of nonce, made by NewRequest. Every
// window check applies; the KB-JWT audience is oid4vp.ClientIDFor(window DID). It never
// panics on hostile input; the verdict has a signed receipt when a credential verified.
func (v *Verifier) VerifyOpenID4VP(ctx context.Context, nonce string, presentations []string) (out *Verdict) {
	now := v.cfg.Now()
	vd := &Verdict{Time: now, Mode: ModeOpenID4VP}
	defer func() {
		if v.noRecover {
			return
		}
		if p := recover(); p != nil {
			vd.Code, vd.Detail, vd.Credentials = credential.CodeMalformed, "internal error while verifying", nil
			out = v.finish(ctx, vd, nil, "")
		}
	}()
	view := v.trusted(ctx, vd, now)
	if view == nil {
		return v.finish(ctx, vd, nil, "")
	}
	size := 0
	for _, p := range presentations {
		size += len(p)
	}
	switch {
	case len(presentations) == 0:
		vd.Code, vd.Detail = credential.CodeMalformed, "no presentation"
		return v.finish(ctx, vd, nil, "")
	case len(presentations) > maxOnlinePresentations || size > MaxBody:
		vd.Code, vd.Detail = credential.CodeOversized, fmt.Sprintf("%d presentations, %d bytes", len(presentations), size)
		return v.finish(ctx, vd, nil, "")
	}
	vd.Hash = oid4vp.HashPresentations(presentations)
	if seen, err := v.store.seen(vd.Hash); err != nil {
		v.log.Error("state not read", "err", err.Error())
	} else if seen {
		vd.Code, vd.Detail = credential.CodeReplayed, "presentation already verified"
		return v.finish(ctx, vd, nil, "")
	}
	sr, err := v.store.find(nonce)
	if err != nil {
		v.log.Error("state not read", "err", err.Error())
	}
	if sr == nil {
		vd.Code, vd.Detail = credential.CodeNoRequest, "no request with the session's nonce"
		return v.finish(ctx, vd, nil, "")
	}
	vd.Item = sr.Item
	v.describeItem(vd, view, sr.Item)
	if !now.Before(time.Unix(sr.Expires, 0).Add(v.cfg.Skew)) {
		vd.Code, vd.Detail = credential.CodeRequestExpired, "request expired"
		return v.finish(ctx, vd, nil, sr.Item)
	}
	b, reqs, err := v.bindingOf(sr, view)
	if err != nil {
		vd.Code, vd.Detail = credential.CodeMalformed, err.Error()
		return v.finish(ctx, vd, nil, sr.Item)
	}
	if over := wire.OverAsk(&wire.Request{Requests: reqs}, registered(view, v.cfg.Window, sr.Item)); len(over) > 0 {
		vd.Code, vd.Detail = credential.CodeOverRequest, fmt.Sprintf("request exceeds registration: %v", over)
		return v.finish(ctx, vd, nil, sr.Item)
	}
	online := *b
	online.aud = oid4vp.ClientIDFor(v.cfg.Window)
	v.judge(ctx, vd, view, presentations, &online, now, nil)
	return v.accept(ctx, vd, sr, now)
}

// Refuse records the verdict of an online answer refused before its presentations could be
// read (it does not decrypt, names another session, carries another state): a verdict with
// its code, counted and logged like every other refusal, without a receipt (nobody's data
// was seen).
func (v *Verifier) Refuse(ctx context.Context, item string, code credential.Code, detail string) *Verdict {
	vd := &Verdict{Time: v.cfg.Now(), Mode: ModeOpenID4VP, Code: code, Detail: detail, Item: item}
	if view, err := v.cfg.Trust.Current(ctx); err == nil {
		v.describeItem(vd, view, item)
	}
	return v.finish(ctx, vd, nil, item)
}
