package sdjwt

import (
	"crypto"
	"encoding/json"
	"fmt"
	"lianzheng/internal/strictjson"
	"math"
	"sort"
	"strconv"
	"time"

	"lianzheng/credential"
	"lianzheng/credential/jws"
)

// KeyFunc returns the public key that must have signed the issuer JWT, given its (unverified)
// header and payload. It is where the caller decides who the issuer is; an error rejects.
// It must not keep the maps: Verify goes on to rewrite the payload into Result.Claims.
type KeyFunc func(header, payload map[string]any) (crypto.PublicKey, error)

// HolderKeyFunc extracts the holder's public key from the (verified) cnf claim.
type HolderKeyFunc func(cnf map[string]any) (crypto.PublicKey, error)

// KBTyp is the required typ of a key-binding JWT.
const KBTyp = "kb+jwt"

// VerifyOptions configures Verify. IssuerKey is required.
type VerifyOptions struct {
	IssuerKey KeyFunc
	// HolderKey turns cnf into a key; required to check a KB-JWT.
	HolderKey HolderKeyFunc
	// RequireKB demands a key-binding JWT (and a cnf claim).
	RequireKB bool
	// Nonce and Audience the KB-JWT must carry (checked whenever a KB-JWT is present).
	Nonce    string
	Audience string
	// Now is the verification time (default time.Now()).
	Now time.Time
	// Skew tolerated between clocks (default 5 minutes).
	Skew time.Duration
	// MaxKBAge bounds how old a KB-JWT's iat may be (default 10 minutes).
	MaxKBAge time.Duration
}

// KeyBinding is the verified content of a KB-JWT.
type KeyBinding struct {
	Nonce    string
	Audience string
	IssuedAt time.Time
	SDHash   string
}

// Result is a verified SD-JWT.
type Result struct {
	Header    map[string]any // issuer JWT header
	Claims    map[string]any // payload with disclosed claims in place and all _sd machinery removed
	Disclosed []*Disclosure  // disclosures, each with Path set
	KB        *KeyBinding    // nil when no KB-JWT was presented
	HolderKey crypto.PublicKey
}

// Verify checks an SD-JWT (+KB) text as RFC 9901 §7 prescribes.
func Verify(text string, opt VerifyOptions) (*Result, error) {
	if opt.IssuerKey == nil {
		return nil, fmt.Errorf("sdjwt: Verify needs an IssuerKey callback")
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	if opt.Skew == 0 {
		opt.Skew = 5 * time.Minute
	}
	if opt.MaxKBAge == 0 {
		opt.MaxKBAge = 10 * time.Minute
	}
	sd, err := Parse(text)
	if err != nil {
		return nil, err
	}
	p, err := jws.Parse(sd.IssuerJWT)
	if err != nil {
		return nil, err
	}
	payload, err := strictjson.Object(p.Payload)
	if err != nil {
		return nil, credential.Errorf(credential.CodeMalformed, "issuer JWT payload: %v", err)
	}
	key, err := opt.IssuerKey(p.Header, payload)
	if err != nil {
		return nil, err
	}
	if err := p.Verify(key); err != nil {
		return nil, err
	}
	if alg, ok := payload[claimSDAlg]; ok && alg != HashAlg {
		return nil, credential.Errorf(credential.CodeUnsupportedAlg, "_sd_alg %v", alg)
	}
	if err := checkTimes(payload, opt.Now, opt.Skew); err != nil {
		return nil, err
	}

	byDigest := make(map[string]*Disclosure, len(sd.Disclosures))
	for _, d := range sd.Disclosures {
		if _, dup := byDigest[d.Digest]; dup {
			return nil, credential.Errorf(credential.CodeDuplicateDisc, "disclosure presented twice")
		}
		byDigest[d.Digest] = d
	}
	w := walker{byDigest: byDigest, seen: map[string]bool{}}
	claims, err := w.object(payload, "", true) // payload was parsed here and is ours
	if err != nil {
		return nil, err
	}
	for _, d := range sd.Disclosures {
		if d.Path == "" {
			return nil, credential.Errorf(credential.CodeDisclosureUnbound, "a disclosure is not referenced by any digest")
		}
	}
	delete(claims, claimSDAlg)
	res := &Result{Header: p.Header, Claims: claims, Disclosed: sd.Disclosures}

	if sd.KBJWT == "" {
		if opt.RequireKB {
			return nil, credential.Errorf(credential.CodeMissingKB, "no key-binding JWT")
		}
		return res, nil
	}
	cnf, _ := claims["cnf"].(map[string]any)
	if cnf == nil {
		return nil, credential.Errorf(credential.CodeBadKB, "KB-JWT present but the credential has no cnf")
	}
	if opt.HolderKey == nil {
		return nil, fmt.Errorf("sdjwt: a KB-JWT needs a HolderKey callback")
	}
	hk, err := opt.HolderKey(cnf)
	if err != nil {
		return nil, credential.Errorf(credential.CodeBadKB, "cnf: %v", err)
	}
	// The sd_hash input (issuer JWT and disclosures, each followed by '~') is the text up to
	// the KB-JWT, exactly as SDHashInput would rebuild it.
	kb, err := verifyKB(sd, text[:len(text)-len(sd.KBJWT)], hk, opt)
	if err != nil {
		return nil, err
	}
	res.KB, res.HolderKey = kb, hk
	return res, nil
}

func verifyKB(sd *SDJWT, sdHashInput string, hk crypto.PublicKey, opt VerifyOptions) (*KeyBinding, error) {
	p, err := jws.Parse(sd.KBJWT)
	if err != nil {
		return nil, credential.Errorf(credential.CodeBadKB, "KB-JWT: %w", err)
	}
	if typ, _ := p.Header["typ"].(string); typ != KBTyp {
		return nil, credential.Errorf(credential.CodeBadKB, "KB-JWT typ %q", typ)
	}
	if err := p.Verify(hk); err != nil {
		return nil, credential.Errorf(credential.CodeBadKB, "KB-JWT signature: %w", err)
	}
	c, err := strictjson.Object(p.Payload)
	if err != nil {
		return nil, credential.Errorf(credential.CodeBadKB, "KB-JWT payload: %v", err)
	}
	kb := &KeyBinding{}
	kb.Nonce, _ = c["nonce"].(string)
	kb.Audience, _ = c["aud"].(string)
	kb.SDHash, _ = c["sd_hash"].(string)
	iat, ok := NumericDate(c["iat"])
	if !ok || kb.Nonce == "" || kb.Audience == "" || kb.SDHash == "" {
		return nil, credential.Errorf(credential.CodeBadKB, "KB-JWT lacks iat, nonce, aud or sd_hash")
	}
	kb.IssuedAt = iat
	if kb.Nonce != opt.Nonce {
		return nil, credential.Errorf(credential.CodeNonceMismatch, "KB-JWT nonce does not match the request")
	}
	if kb.Audience != opt.Audience {
		return nil, credential.Errorf(credential.CodeAudienceMismatch, "KB-JWT aud is %q", kb.Audience)
	}
	if kb.SDHash != Digest(sdHashInput) {
		return nil, credential.Errorf(credential.CodeSDHashMismatch, "sd_hash does not cover the presented SD-JWT")
	}
	if iat.After(opt.Now.Add(opt.Skew)) {
		return nil, credential.Errorf(credential.CodeClockSkew, "KB-JWT issued in the future")
	}
	if iat.Before(opt.Now.Add(-opt.MaxKBAge - opt.Skew)) {
		return nil, credential.Errorf(credential.CodePresentationExpired, "KB-JWT is older than %s", opt.MaxKBAge)
	}
	return kb, nil
}

func checkTimes(c map[string]any, now time.Time, skew time.Duration) error {
	for _, name := range []string{"exp", "nbf", "iat"} {
		v, present := c[name]
		if !present {
			continue
		}
		t, ok := NumericDate(v)
		if !ok {
			return credential.Errorf(credential.CodeMalformed, "%s is not a NumericDate", name)
		}
		switch name {
		case "exp":
			if !now.Before(t.Add(skew)) {
				return credential.Errorf(credential.CodeExpired, "expired at %s", t.UTC().Format(time.RFC3339))
			}
		default:
			if now.Add(skew).Before(t) {
				return credential.Errorf(credential.CodeNotYetValid, "%s is %s", name, t.UTC().Format(time.RFC3339))
			}
		}
	}
	return nil
}

// NumericDate reads a JSON NumericDate (seconds since the epoch, possibly fractional).
func NumericDate(v any) (time.Time, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, false
	}
	if i, err := n.Int64(); err == nil {
		return time.Unix(i, 0), true
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e11 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}

// walker replaces digests with disclosed values (RFC 9901 §7.1 step 3).
type walker struct {
	byDigest map[string]*Disclosure
	seen     map[string]bool // every digest met in the payload or in disclosed values
}

func (w *walker) mark(d string) error {
	if w.seen[d] {
		return credential.Errorf(credential.CodeDuplicateDisc, "digest appears more than once")
	}
	w.seen[d] = true
	return nil
}

// object processes an object's _sd. With inPlace (the object and everything in it were
// parsed for this walk and are not referenced elsewhere) it is rewritten in place rather than
// copied; what comes from disclosures is always copied, so that Disclosure.Value stays as
// presented.
func (w *walker) object(in map[string]any, path string, inPlace bool) (map[string]any, error) {
	out := in
	if !inPlace {
		out = make(map[string]any, len(in))
	}
	// Scalars need no processing (and have no path to build); objects and arrays are
	// processed in name order, so that the first error found does not depend on map order.
	var nested []string
	for k, v := range in {
		switch v.(type) {
		case map[string]any, []any:
			if k != claimSD {
				nested = append(nested, k)
			}
		default:
			if !inPlace && k != claimSD {
				out[k] = v
			}
		}
	}
	if len(nested) > 1 {
		sort.Strings(nested)
	}
	for _, k := range nested {
		v, err := w.value(in[k], joinPath(path, k), inPlace)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	sdv, ok := in[claimSD]
	if !ok {
		return out, nil
	}
	if inPlace {
		delete(out, claimSD)
	}
	list, ok := sdv.([]any)
	if !ok {
		return nil, credential.Errorf(credential.CodeMalformed, "_sd is not an array")
	}
	for _, e := range list {
		dg, ok := e.(string)
		if !ok {
			return nil, credential.Errorf(credential.CodeMalformed, "_sd entry is not a string")
		}
		if err := w.mark(dg); err != nil {
			return nil, err
		}
		d := w.byDigest[dg]
		if d == nil {
			continue // undisclosed claim or decoy
		}
		if d.Array {
			return nil, credential.Errorf(credential.CodeMalformed, "array-element disclosure referenced from _sd")
		}
		if _, exists := out[d.Name]; exists {
			return nil, credential.Errorf(credential.CodeMalformed, "disclosed claim %q already present", d.Name)
		}
		d.Path = joinPath(path, d.Name)
		v, err := w.value(d.Value, d.Path, false)
		if err != nil {
			return nil, err
		}
		out[d.Name] = v
	}
	return out, nil
}

func (w *walker) value(v any, path string, inPlace bool) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		return w.object(t, path, inPlace)
	case []any:
		// In place, the kept elements are written over the read ones: index len(out) is
		// never ahead of the element being read.
		var out []any
		if inPlace {
			out = t[:0]
		} else {
			out = make([]any, 0, len(t))
		}
		for _, e := range t {
			if m, ok := e.(map[string]any); ok && len(m) == 1 {
				if dv, ok := m[claimDots]; ok {
					dg, ok := dv.(string)
					if !ok {
						return nil, credential.Errorf(credential.CodeMalformed, "array digest is not a string")
					}
					if err := w.mark(dg); err != nil {
						return nil, err
					}
					d := w.byDigest[dg]
					if d == nil {
						continue // undisclosed element: removed
					}
					if !d.Array {
						return nil, credential.Errorf(credential.CodeMalformed, "object disclosure referenced from an array")
					}
					d.Path = indexPath(path, len(out))
					ev, err := w.value(d.Value, d.Path, false)
					if err != nil {
						return nil, err
					}
					out = append(out, ev)
					continue
				}
			}
			switch e.(type) {
			case map[string]any, []any:
				ev, err := w.value(e, indexPath(path, len(out)), inPlace)
				if err != nil {
					return nil, err
				}
				out = append(out, ev)
			default:
				out = append(out, e) // a scalar needs no processing
			}
		}
		if inPlace {
			clear(t[len(out):]) // the removed elements' slots
		}
		return out, nil
	default:
		return v, nil
	}
}

func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}
