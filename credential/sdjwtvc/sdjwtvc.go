// Package sdjwtvc is the SD-JWT VC profile (IETF draft-ietf-oauth-sd-jwt-vc) as LianZheng uses
// it: header typ "dc+sd-jwt" and a kid that is a did:lz DID URL of the issuing department;
// registered claims iss, vct, iat, exp (and optional nbf) always in the clear; the holder's
// key in cnf.jwk (a fresh key per credential); the credential's revocation/suspension entry in
// status.status_list {idx, uri} (IETF Token Status List).
//
// Verify decides who the issuer is from iss, requires the kid to name a key of that same DID,
// and asks the caller for the key that DID had at the credential's iat — so a key rotated
// out later still verifies old credentials, and a key added later cannot forge old ones.
package sdjwtvc

import (
	"crypto"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"lianzheng/credential"
	"lianzheng/credential/jws"
	"lianzheng/credential/sdjwt"
	"lianzheng/did"
)

// Typ is the JOSE header typ of an SD-JWT VC.
const Typ = "dc+sd-jwt"

// Registered claim names kept in the clear.
var registered = map[string]bool{"iss": true, "vct": true, "iat": true, "exp": true, "nbf": true, "cnf": true, "status": true, "sub": false}

// Status is a reference into an issuer's status list.
type Status struct {
	Index int    `json:"idx"`
	URI   string `json:"uri"`
}

// Credential is what an issuer puts into an SD-JWT VC.
type Credential struct {
	Issuer      string // did:lz DID of the department
	KeyID       string // DID URL of the signing key, e.g. did:lz:civil-affairs#key-1
	VCT         string // credential type identifier from the catalogue
	IssuedAt    time.Time
	Expires     time.Time // zero: no expiry
	Claims      map[string]any
	Disclosable []string // claim paths the holder may disclose selectively (see sdjwt.IssueOptions)
	Holder      did.PublicKey
	Status      *Status
	Decoys      int
}

// Issue signs c as an SD-JWT VC with every disclosure attached.
func Issue(c Credential, signer jws.Signer) (*sdjwt.SDJWT, error) {
	if !strings.HasPrefix(c.KeyID, c.Issuer+"#") {
		return nil, fmt.Errorf("sdjwtvc: key id %q is not a key of issuer %q", c.KeyID, c.Issuer)
	}
	if c.VCT == "" || c.IssuedAt.IsZero() || c.Holder.Key == nil {
		return nil, fmt.Errorf("sdjwtvc: vct, iat and holder key are required")
	}
	claims := make(map[string]any, len(c.Claims)+6)
	for k, v := range c.Claims {
		if registered[k] {
			return nil, fmt.Errorf("sdjwtvc: claim %q is reserved", k)
		}
		claims[k] = v
	}
	claims["iss"] = c.Issuer
	claims["vct"] = c.VCT
	claims["iat"] = c.IssuedAt.Unix()
	if !c.Expires.IsZero() {
		claims["exp"] = c.Expires.Unix()
	}
	claims["cnf"] = map[string]any{"jwk": c.Holder.JWK()}
	if c.Status != nil {
		claims["status"] = map[string]any{"status_list": map[string]any{"idx": c.Status.Index, "uri": c.Status.URI}}
	}
	for _, p := range c.Disclosable {
		if registered[strings.SplitN(p, ".", 2)[0]] {
			return nil, fmt.Errorf("sdjwtvc: registered claim %q cannot be selectively disclosable", p)
		}
	}
	return sdjwt.Issue(claims, signer, sdjwt.IssueOptions{
		Disclosable: c.Disclosable,
		Decoys:      c.Decoys,
		Header:      map[string]any{"typ": Typ, "kid": c.KeyID},
	})
}

// KeyAt returns the public key that the DID URL kid identified at time at, or an error if
// the key did not exist, was not yet valid, or had been revoked by then.
type KeyAt func(kid string, at time.Time) (crypto.PublicKey, error)

// VerifyOptions configures Verify.
type VerifyOptions struct {
	IssuerKeyAt KeyAt
	Nonce       string
	Audience    string
	Now         time.Time
	Skew        time.Duration
	MaxKBAge    time.Duration
	// AllowNoKB accepts a presentation without key binding (never for in-person use).
	AllowNoKB bool
}

// Verified is a verified SD-JWT VC presentation.
type Verified struct {
	Issuer    string
	KeyID     string
	VCT       string
	IssuedAt  time.Time
	Expires   time.Time
	Status    *Status
	Claims    map[string]any // disclosed and plain claims, registered claims removed
	Disclosed []string       // paths of the disclosed claims
	Holder    did.PublicKey
	KB        *sdjwt.KeyBinding
	Raw       *sdjwt.Result
}

// Verify checks an SD-JWT VC presentation.
func Verify(text string, opt VerifyOptions) (*Verified, error) {
	if opt.IssuerKeyAt == nil {
		return nil, fmt.Errorf("sdjwtvc: Verify needs IssuerKeyAt")
	}
	var kid string
	var iat time.Time
	res, err := sdjwt.Verify(text, sdjwt.VerifyOptions{
		IssuerKey: func(h, p map[string]any) (crypto.PublicKey, error) {
			if typ, _ := h["typ"].(string); typ != Typ {
				return nil, credential.Errorf(credential.CodeWrongType, "typ %q, want %q", typ, Typ)
			}
			iss, _ := p["iss"].(string)
			if vct, _ := p["vct"].(string); iss == "" || vct == "" {
				return nil, credential.Errorf(credential.CodeMissingClaim, "iss and vct are required")
			}
			kid, _ = h["kid"].(string)
			if !strings.HasPrefix(kid, iss+"#") {
				return nil, credential.Errorf(credential.CodeIssuerKeyMismatch, "kid %q is not a key of %q", kid, iss)
			}
			var ok bool
			if iat, ok = sdjwt.NumericDate(p["iat"]); !ok {
				return nil, credential.Errorf(credential.CodeMissingClaim, "iat is required")
			}
			k, err := opt.IssuerKeyAt(kid, iat)
			if err != nil {
				return nil, credential.Errorf(credential.CodeIssuerKeyMismatch, "issuer key %s at %s: %w", kid, iat.UTC().Format(time.RFC3339), err)
			}
			return k, nil
		},
		HolderKey: HolderKey,
		RequireKB: !opt.AllowNoKB,
		Nonce:     opt.Nonce,
		Audience:  opt.Audience,
		Now:       opt.Now,
		Skew:      opt.Skew,
		MaxKBAge:  opt.MaxKBAge,
	})
	if err != nil {
		return nil, err
	}
	v := &Verified{KeyID: kid, IssuedAt: iat, Raw: res, KB: res.KB, Claims: map[string]any{}}
	v.Issuer, _ = res.Claims["iss"].(string)
	v.VCT, _ = res.Claims["vct"].(string)
	if exp, ok := sdjwt.NumericDate(res.Claims["exp"]); ok {
		v.Expires = exp
	}
	cnf, _ := res.Claims["cnf"].(map[string]any)
	if cnf == nil {
		return nil, credential.Errorf(credential.CodeMissingClaim, "cnf (holder key) is required")
	}
	// With a KB-JWT, sdjwt.Verify has already derived the holder key from this cnf with
	// HolderKey (and checked the KB-JWT's signature with it): use that one.
	hk := res.HolderKey
	if hk == nil {
		if hk, err = HolderKey(cnf); err != nil {
			return nil, credential.Errorf(credential.CodeMalformed, "cnf: %v", err)
		}
	}
	v.Holder, _ = did.NewPublicKey(hk)
	if st, ok := res.Claims["status"]; ok {
		if v.Status, err = parseStatus(st); err != nil {
			return nil, err
		}
	}
	for k, val := range res.Claims {
		if !registered[k] {
			v.Claims[k] = val
		}
	}
	if len(res.Disclosed) > 0 {
		v.Disclosed = make([]string, 0, len(res.Disclosed))
	}
	for _, d := range res.Disclosed {
		v.Disclosed = append(v.Disclosed, d.Path)
	}
	return v, nil
}

// HolderKey reads the holder's key from a cnf claim ({"jwk": {...}}).
func HolderKey(cnf map[string]any) (crypto.PublicKey, error) {
	j, ok := cnf["jwk"]
	if !ok {
		return nil, fmt.Errorf("cnf has no jwk")
	}
	if k, ok := plainJWK(j); ok {
		pk, err := k.PublicKey()
		if err != nil {
			return nil, err
		}
		return pk.Key, nil
	}
	b, err := json.Marshal(j)
	if err != nil {
		return nil, err
	}
	k, err := did.ParseJWKJSON(b)
	if err != nil {
		return nil, err
	}
	return k.Key, nil
}

func parseStatus(v any) (*Status, error) {
	m, _ := v.(map[string]any)
	sl, _ := m["status_list"].(map[string]any)
	uri, _ := sl["uri"].(string)
	n, ok := sl["idx"].(json.Number)
	if !ok || uri == "" {
		return nil, credential.Errorf(credential.CodeMalformed, "status.status_list needs idx and uri")
	}
	idx, err := n.Int64()
	if err != nil || idx < 0 || idx > 1<<31 {
		return nil, credential.Errorf(credential.CodeMalformed, "status index %v", n)
	}
	return &Status{Index: int(idx), URI: uri}, nil
}

// plainJWK reads a jwk that has only kty, crv, x and y, all strings and short, without the
// JSON round trip through did.ParseJWKJSON: for such a member set that round trip accepts
// and reads exactly the same (no private member can be present, every member is a string,
// the JSON is far below ParseJWKJSON's size cap). Anything else takes the round trip.
func plainJWK(v any) (did.JWK, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) > 4 {
		return did.JWK{}, false
	}
	var j did.JWK
	for k, val := range m {
		s, ok := val.(string)
		if !ok || len(s) > 128 {
			return did.JWK{}, false
		}
		switch k {
		case "kty":
			j.Kty = s
		case "crv":
			j.Crv = s
		case "x":
			j.X = s
		case "y":
			j.Y = s
		default:
			return did.JWK{}, false
		}
	}
	return j, true
}
