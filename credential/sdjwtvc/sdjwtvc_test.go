package sdjwtvc_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"lianzheng/credential"
	"lianzheng/credential/jws"
	"lianzheng/credential/sdjwt"
	"lianzheng/credential/sdjwtvc"
	"lianzheng/did"
	"lianzheng/internal/rig/refcred"
)

func TestVerifyProfileRejections(t *testing.T) {
	now := time.Now()
	f, err := refcred.DrivingLicence(now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	holder, _ := did.NewPublicKey(f.Holder.Public())
	issueWith := func(mod func(*sdjwtvc.Credential), header map[string]any) string {
		c := sdjwtvc.Credential{Issuer: f.IssuerDID, KeyID: f.KeyID, VCT: f.VCT, IssuedAt: f.IssuedAt,
			Expires: f.IssuedAt.Add(24 * time.Hour), Claims: map[string]any{"name": "测试"},
			Disclosable: []string{"name"}, Holder: holder}
		if mod != nil {
			mod(&c)
		}
		var sd *sdjwt.SDJWT
		if header != nil { // hand-built header (wrong typ / kid): bypass the profile's issuer
			claims := map[string]any{"iss": c.Issuer, "vct": c.VCT, "iat": c.IssuedAt.Unix(), "cnf": map[string]any{"jwk": holder.JWK()}, "name": "测试"}
			sd, err = sdjwt.Issue(claims, f.Issuer, sdjwt.IssueOptions{Disclosable: []string{"name"}, Header: header})
		} else {
			sd, err = sdjwtvc.Issue(c, f.Issuer)
		}
		if err != nil {
			t.Fatal(err)
		}
		p, err := sd.Bind(f.Holder, f.Nonce, f.Audience, now)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	cases := []struct {
		name string
		text string
		opt  func(*sdjwtvc.VerifyOptions)
		code credential.Code
	}{
		{"valid", issueWith(nil, nil), nil, ""},
		{"wrong typ", issueWith(nil, map[string]any{"typ": "JWT", "kid": f.KeyID}), nil, credential.CodeWrongType},
		{"kid of another DID", issueWith(nil, map[string]any{"typ": sdjwtvc.Typ, "kid": "did:lz:civil-affairs#key-1"}), nil, credential.CodeIssuerKeyMismatch},
		{"no kid", issueWith(nil, map[string]any{"typ": sdjwtvc.Typ}), nil, credential.CodeIssuerKeyMismatch},
		{"expired", issueWith(func(c *sdjwtvc.Credential) { c.Expires = now.Add(-time.Hour) }, nil), nil, credential.CodeExpired},
		{"issued before key existed", issueWith(func(c *sdjwtvc.Credential) { c.IssuedAt = now.AddDate(-3, 0, 0); c.Expires = now.Add(time.Hour) }, nil), nil, credential.CodeIssuerKeyMismatch},
		{"not yet valid", issueWith(func(c *sdjwtvc.Credential) { c.IssuedAt = now.Add(time.Hour) }, nil), nil, credential.CodeNotYetValid},
		{"signed by another key", func() string {
			sd, _ := sdjwtvc.Issue(sdjwtvc.Credential{Issuer: f.IssuerDID, KeyID: f.KeyID, VCT: f.VCT, IssuedAt: f.IssuedAt,
				Claims: map[string]any{"a": 1}, Holder: holder}, jws.NewEd25519Signer(otherKey))
			p, _ := sd.Bind(f.Holder, f.Nonce, f.Audience, now)
			return p
		}(), nil, credential.CodeBadSignature},
		{"unknown issuer", issueWith(func(c *sdjwtvc.Credential) { c.Issuer = "did:lz:nobody"; c.KeyID = "did:lz:nobody#key-1" }, nil), nil, credential.CodeIssuerKeyMismatch},
		{"no KB allowed only when asked", func() string {
			p := issueWith(nil, nil)
			return p[:strings.LastIndex(p, "~")+1]
		}(), nil, credential.CodeMissingKB},
		{"wrong audience", issueWith(nil, nil), func(o *sdjwtvc.VerifyOptions) { o.Audience = "did:lz:other-window" }, credential.CodeAudienceMismatch},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opt := f.VerifyOptions(now)
			if c.opt != nil {
				c.opt(&opt)
			}
			v, err := sdjwtvc.Verify(c.text, opt)
			if got := credential.CodeOf(err); got != c.code {
				t.Fatalf("code %q (%v), want %q", got, err, c.code)
			}
			if c.code == "" && (v.Claims["name"] != "测试" || v.Issuer != f.IssuerDID || v.VCT != f.VCT) {
				t.Fatalf("verified %+v", v)
			}
		})
	}
}

// A credential issued under key-1 stays valid after rotation to key-2; one signed with key-1
// after the rotation is rejected (the key was not valid at its iat).
func TestKeyRotation(t *testing.T) {
	now := time.Now()
	f, err := refcred.DrivingLicence(now.Add(-48 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	rotated := now.Add(-24 * time.Hour)
	res, err := f.Resolver.Resolve(context.Background(), f.IssuerDID)
	if err != nil {
		t.Fatal(err)
	}
	h := res.History.Clone()
	h.Keys[0].ValidUntil = &rotated
	_, k2, _ := ed25519.GenerateKey(rand.Reader)
	mk, _ := did.EncodeMultikey(k2.Public())
	h.Keys = append(h.Keys, did.KeyRecord{ID: "key-2", PublicKeyMultibase: mk, ValidFrom: rotated, Purposes: []string{"assertionMethod"}})
	if err := f.Resolver.Put(h); err != nil {
		t.Fatal(err)
	}
	old, _ := f.Issue()
	p, _ := f.Present(old, now)
	if _, err := sdjwtvc.Verify(p, f.VerifyOptions(now)); err != nil {
		t.Fatalf("credential from before the rotation: %v", err)
	}
	f.IssuedAt = now.Add(-time.Hour)
	late, _ := f.Issue()
	p, _ = f.Present(late, now)
	if _, err := sdjwtvc.Verify(p, f.VerifyOptions(now)); credential.CodeOf(err) != credential.CodeIssuerKeyMismatch {
		t.Fatalf("old key used after rotation: %v", err)
	}
	// And key-2 signs new ones.
	f.KeyID = f.IssuerDID + "#key-2"
	f.Issuer = jws.NewEd25519Signer(k2)
	fresh, _ := f.Issue()
	p, _ = f.Present(fresh, now)
	if _, err := sdjwtvc.Verify(p, f.VerifyOptions(now)); err != nil {
		t.Fatalf("new key: %v", err)
	}
}

func TestIssueRefusesReservedClaims(t *testing.T) {
	f, _ := refcred.DrivingLicence(time.Now())
	holder, _ := did.NewPublicKey(f.Holder.Public())
	for _, c := range []sdjwtvc.Credential{
		{Issuer: f.IssuerDID, KeyID: "did:lz:other#key-1", VCT: f.VCT, IssuedAt: time.Now(), Holder: holder},
		{Issuer: f.IssuerDID, KeyID: f.KeyID, VCT: f.VCT, IssuedAt: time.Now(), Holder: holder, Claims: map[string]any{"iss": "x"}},
		{Issuer: f.IssuerDID, KeyID: f.KeyID, VCT: f.VCT, IssuedAt: time.Now(), Holder: holder, Claims: map[string]any{"a": 1}, Disclosable: []string{"vct"}},
		{Issuer: f.IssuerDID, KeyID: f.KeyID, IssuedAt: time.Now(), Holder: holder},
	} {
		if _, err := sdjwtvc.Issue(c, f.Issuer); err == nil {
			t.Errorf("issued %+v", c)
		}
	}
}
