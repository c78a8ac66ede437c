// Package refcred builds the reference credentials used by benchmarks, size measurements and
// the headless demo: a driving licence with ten claims, of which a window asks for four. All
// personal data in it is invented and marked as test data (测试, TEST); keys are derived from
// fixed seeds so that sizes are reproducible. It is not used by production code paths.
package refcred

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"time"

	"lianzheng/credential/jws"
	"lianzheng/credential/sdjwt"
	"lianzheng/credential/sdjwtvc"
	"lianzheng/did"
)

// Fixture is one issuer, one holder and one window for the reference driving licence.
type Fixture struct {
	IssuerDID string
	KeyID     string
	VCT       string
	StatusURI string
	Issuer    jws.Signer
	Holder    jws.Signer
	Resolver  *did.StaticResolver
	Claims    map[string]any
	Claimable []string // selectively disclosable claims (all ten)
	Disclose  []string // what the window asks for (four)
	Nonce     string
	Audience  string // the window's DID
	IssuedAt  time.Time
}

func seeded(label string) ed25519.PrivateKey {
	s := sha256.Sum256([]byte("lianzheng reference fixture: " + label))
	return ed25519.NewKeyFromSeed(s[:])
}

// DrivingLicence returns the reference fixture, issued at issuedAt.
func DrivingLicence(issuedAt time.Time) (*Fixture, error) {
	ik, hk := seeded("vehicle-admin key-1"), seeded("holder")
	f := &Fixture{
		IssuerDID: "did:lz:vehicle-admin",
		KeyID:     "did:lz:vehicle-admin#key-1",
		VCT:       "urn:lz:vct:driving-licence",
		StatusURI: "urn:lz:status:vehicle-admin:0",
		Issuer:    jws.NewEd25519Signer(ik),
		Holder:    jws.NewEd25519Signer(hk),
		Nonce:     "Kx9dQ2rT7mWp4vYb", // 96 bits, as a window request carries
		Audience:  "did:lz:realestate-window-01",
		IssuedAt:  issuedAt.Truncate(time.Second),
	}
	photo := sha256.Sum256([]byte("test photo"))
	f.Claims = map[string]any{
		"name":              "测试用户甲",
		"id_number":         "TEST00000000000001",
		"birth_date":        "1990-01-01",
		"address":           "示例省示例市样例路1号",
		"licence_class":     "C1",
		"issue_date":        "2020-06-01",
		"expiry_date":       "2030-06-01",
		"issuing_authority": "示例市公安局交通警察支队",
		"photo_digest":      jws.B64.EncodeToString(photo[:]),
		"document_number":   "TEST-DL-000001",
	}
	for k := range f.Claims {
		f.Claimable = append(f.Claimable, k)
	}
	f.Disclose = []string{"name", "licence_class", "expiry_date", "document_number"}
	mk, err := did.EncodeMultikey(ik.Public())
	if err != nil {
		return nil, err
	}
	created := issuedAt.Add(-365 * 24 * time.Hour)
	h := &did.History{DID: f.IssuerDID, Created: created, Keys: []did.KeyRecord{{
		ID: "key-1", PublicKeyMultibase: mk, ValidFrom: created,
		Purposes: []string{"assertionMethod", "authentication"},
	}}}
	if f.Resolver, err = did.NewStaticResolver(h); err != nil {
		return nil, fmt.Errorf("refcred: %w", err)
	}
	return f, nil
}

// Issue issues the licence as an SD-JWT VC (no decoys: each costs 32 bytes of QR space).
func (f *Fixture) Issue() (*sdjwt.SDJWT, error) {
	holder, err := did.NewPublicKey(f.Holder.Public())
	if err != nil {
		return nil, err
	}
	return sdjwtvc.Issue(sdjwtvc.Credential{
		Issuer: f.IssuerDID, KeyID: f.KeyID, VCT: f.VCT,
		IssuedAt: f.IssuedAt, Expires: f.IssuedAt.AddDate(6, 0, 0),
		Claims: f.Claims, Disclosable: f.Claimable, Holder: holder,
		Status: &sdjwtvc.Status{Index: 91237, URI: f.StatusURI},
	}, f.Issuer)
}

// Present selects the window's four claims and binds them to its nonce and DID.
func (f *Fixture) Present(sd *sdjwt.SDJWT, at time.Time) (string, error) {
	sub, err := sd.Select(f.Disclose...)
	if err != nil {
		return "", err
	}
	return sub.Bind(f.Holder, f.Nonce, f.Audience, at)
}

// VerifyOptions returns what the window's verifier uses, resolving the issuer key through
// the DID resolver at the credential's issuance time.
func (f *Fixture) VerifyOptions(now time.Time) sdjwtvc.VerifyOptions {
	return sdjwtvc.VerifyOptions{
		IssuerKeyAt: func(kid string, at time.Time) (crypto.PublicKey, error) {
			k, err := did.AssertionKeyAt(context.Background(), f.Resolver, kid, at)
			if err != nil {
				return nil, err
			}
			return k.Key, nil
		},
		Nonce: f.Nonce, Audience: f.Audience, Now: now,
	}
}

// Known lists what a window's verifier holds from the ledger, for the compact QR form.
func (f *Fixture) Known() []string {
	out := []string{f.IssuerDID, f.KeyID, f.VCT, f.StatusURI, f.Audience}
	for k := range f.Claims {
		out = append(out, k)
	}
	return out
}
