package sdjwt

import (
	"fmt"
	"lianzheng/internal/strictjson"
	"strings"
	"time"

	"lianzheng/credential/jws"
)

// Resolve maps every disclosure of an SD-JWT the holder owns to its claim path (setting
// Disclosure.Path) and returns the full claim set. It does not verify the issuer signature:
// the holder checked that on receipt.
func (s *SDJWT) Resolve() (map[string]any, error) {
	p, err := jws.Parse(s.IssuerJWT)
	if err != nil {
		return nil, err
	}
	payload, err := strictjson.Object(p.Payload)
	if err != nil {
		return nil, fmt.Errorf("sdjwt: payload: %w", err)
	}
	byDigest := make(map[string]*Disclosure, len(s.Disclosures))
	for _, d := range s.Disclosures {
		byDigest[d.Digest] = d
	}
	w := walker{byDigest: byDigest, seen: map[string]bool{}}
	claims, err := w.object(payload, "", true) // payload was parsed here and is ours
	if err != nil {
		return nil, err
	}
	delete(claims, claimSDAlg)
	return claims, nil
}

// Select returns a copy keeping only the disclosures whose path is listed, plus those of
// their ancestors that are themselves disclosures (a nested claim cannot be shown without
// its parent). The key binding is dropped: add a fresh one with Bind.
func (s *SDJWT) Select(paths ...string) (*SDJWT, error) {
	if _, err := s.Resolve(); err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, p := range paths {
		want[p] = true
	}
	known := map[string]bool{}
	for _, d := range s.Disclosures {
		known[d.Path] = true
	}
	for p := range want {
		if !known[p] {
			return nil, fmt.Errorf("sdjwt: no disclosure for claim %q", p)
		}
	}
	out := &SDJWT{IssuerJWT: s.IssuerJWT}
	for _, d := range s.Disclosures {
		if want[d.Path] || isAncestorOfAny(d.Path, want) {
			out.Disclosures = append(out.Disclosures, d)
		}
	}
	return out, nil
}

func isAncestorOfAny(p string, want map[string]bool) bool {
	for w := range want {
		if strings.HasPrefix(w, p+".") || strings.HasPrefix(w, p+"[") {
			return true
		}
	}
	return false
}

// Bind appends a KB-JWT signed by the holder key, bound to nonce and audience, and returns
// the SD-JWT+KB text.
func (s *SDJWT) Bind(holder jws.Signer, nonce, audience string, iat time.Time) (string, error) {
	if nonce == "" || audience == "" {
		return "", fmt.Errorf("sdjwt: key binding needs a nonce and an audience")
	}
	prefix := s.SDHashInput()
	claims := map[string]any{
		"iat":     iat.Unix(),
		"nonce":   nonce,
		"aud":     audience,
		"sd_hash": Digest(prefix),
	}
	pb, err := jws.Marshal(claims)
	if err != nil {
		return "", err
	}
	kb, err := jws.Sign(map[string]any{"typ": KBTyp}, pb, holder)
	if err != nil {
		return "", fmt.Errorf("sdjwt: KB-JWT: %w", err)
	}
	return prefix + kb, nil
}
