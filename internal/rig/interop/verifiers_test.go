//go:build interop

package interop_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"lianzheng/did"
	"lianzheng/home"
	"lianzheng/internal/rig/interop"
	"lianzheng/issuer"
)

// verifierCase is one credential an outside verifier is given, and what it must conclude.
type verifierCase struct {
	Name   string         `json:"name"`
	Expect string         `json:"expect"` // "valid", "revoked", "suspended", "tampered"
	SDJWT  string         `json:"sdjwt"`  // issuer-signed SD-JWT VC with all disclosures, no KB-JWT
	W3C    map[string]any `json:"w3c"`    // the same credential as a W3C VC 2.0 (eddsa-rdfc-2022)
}

// verifierInput is what both scripts read on stdin: the consortium's public base URL (all an
// outside relying party is told), the credentials, and the holder's key (for a KB-JWT).
type verifierInput struct {
	Base   string         `json:"base"`
	Cases  []verifierCase `json:"cases"`
	Holder map[string]any `json:"holder_jwk"` // private JWK of the key the credentials are bound to
}

// sdjwtObservation is what interop/sdjwt-vc.mjs saw for one case.
type sdjwtObservation struct {
	Verified       bool   `json:"verified"`
	Error          string `json:"error"`
	ErrorName      string `json:"error_name"`
	StatusRead     *int   `json:"status_read"`     // the status value the library read from the token
	IssuerKeyFrom  string `json:"issuer_key_from"` // where the credential's key was resolved
	StatusKeyFrom  string `json:"status_key_from"` // where the status list token's key was resolved
	TypeName       string `json:"type_name_zh"`
	ClaimLabel     string `json:"claim_label_zh"`
	KBVerified     *bool  `json:"kb_verified"`
	KBDisclosed    int    `json:"kb_disclosed"`
	StatusListURI  string `json:"status_list_uri"`
	TypeMetadataAt string `json:"type_metadata_url"`
}

// w3cObservation is what interop/w3c-vc.mjs saw for one case.
type w3cObservation struct {
	ProofVerified bool            `json:"proof_verified"`
	ProofError    string          `json:"proof_error"`
	StatusChecked bool            `json:"status_checked"`
	StatusError   string          `json:"status_error"`
	Status        map[string]bool `json:"status"`       // purpose → the bit checkStatus read
	Loaded        []string        `json:"loaded"`       // what the document loader fetched from the services
	ListLengths   map[string]int  `json:"list_lengths"` // list credential URL → entries, as the library decoded it
}

// TestOutsideVerifiers issues credentials from the demo home's departments — a household
// register that stays valid, one revoked, one suspended, and a marriage certificate from a
// second department — and has independent libraries verify them knowing only the public base
// URL: OWF @sd-jwt/sd-jwt-vc (its own status list fetching, type metadata, issuer key from the
// DID resolution endpoint, a KB-JWT presentation) and Digital Bazaar @digitalbazaar/vc with
// vc-bitstring-status-list (proof and both status entries, everything fetched from the
// gateway).
func TestOutsideVerifiers(t *testing.T) {
	ctx := context.Background()
	h, err := home.OpenDemo(ctx, t.TempDir(), &home.Options{EmptyBlocksInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	in := verifierInput{Base: h.Gateway().Base()}
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	holder, err := did.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding
	in.Holder = map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64.EncodeToString(pub), "d": b64.EncodeToString(priv.Seed())}

	ps, _ := h.Issuer("public-security")
	ca, _ := h.Issuer("civil-affairs")
	for _, c := range []struct {
		name, expect, action string
		dep                  *home.Department
		typ                  string
		claims               map[string]any
	}{
		{"household-valid", "valid", "", ps, "household-register", household()},
		{"household-revoked", "revoked", issuer.ActionRevoke, ps, "household-register", household()},
		{"household-suspended", "suspended", issuer.ActionSuspend, ps, "household-register", household()},
		{"marriage-valid", "valid", "", ca, "marriage-certificate", marriage()},
	} {
		is, err := c.dep.Core().Issue(ctx, issuer.Request{Type: c.typ, Claims: c.claims, Holder: holder})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if c.action != "" {
			if _, _, err := c.dep.Core().SetStatus(ctx, is.Record.ID, c.action); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
		}
		in.Cases = append(in.Cases, verifierCase{Name: c.name, Expect: c.expect, SDJWT: is.SDJWT, W3C: is.W3C})
	}
	// A control: the valid household register changed after signing (the SD-JWT's exp, a W3C
	// subject claim), which both libraries must refuse — so a pass above means they checked.
	in.Cases = append(in.Cases, tampered(t, in.Cases[0]))
	if err := h.Gateway().Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	zhName := map[string]string{"household-register": "居民户口簿", "marriage-certificate": "结婚证"}

	t.Run("SDJWTVC", func(t *testing.T) {
		var out struct {
			Cases map[string]sdjwtObservation `json:"cases"`
		}
		err := interop.RunNode(ctx, "sdjwt-vc.mjs", in, &out)
		mustRun(t, err)
		for _, c := range in.Cases {
			o, ok := out.Cases[c.Name]
			if !ok {
				t.Errorf("%s: no observation", c.Name)
				continue
			}
			logObservation(t, c.Name, o)
			if !strings.HasPrefix(o.IssuerKeyFrom, in.Base+"/1.0/identifiers/"+encodedDID(issuerOf(c.Name))+"?versionTime=") ||
				!strings.HasPrefix(o.StatusListURI, in.Base+"/status/") {
				t.Errorf("%s: key from %q, status list %q: not the public services", c.Name, o.IssuerKeyFrom, o.StatusListURI)
			}
			if c.Expect != "tampered" && o.StatusKeyFrom != in.Base+"/1.0/identifiers/"+issuerOf(c.Name) {
				t.Errorf("%s: status list token key from %q", c.Name, o.StatusKeyFrom)
			}
			wantStatus := map[string]int{"valid": 0, "revoked": 1, "suspended": 2}[c.Expect]
			if c.Expect != "tampered" && (o.StatusRead == nil || *o.StatusRead != wantStatus) {
				t.Errorf("%s: the library read status %v from the Token Status List, want %d", c.Name, o.StatusRead, wantStatus)
			}
			switch c.Expect {
			case "valid":
				if !o.Verified {
					t.Errorf("%s: OWF sd-jwt-vc refused a valid credential: %s: %s", c.Name, o.ErrorName, o.Error)
				}
				if o.TypeName != zhName[typeOf(c.Name)] || o.ClaimLabel == "" {
					t.Errorf("%s: type metadata from %s: name %q, first claim label %q", c.Name, o.TypeMetadataAt, o.TypeName, o.ClaimLabel)
				}
				if o.KBVerified == nil || !*o.KBVerified || o.KBDisclosed != 2 {
					t.Errorf("%s: presentation with a KB-JWT: verified %v, %d claims disclosed", c.Name, o.KBVerified, o.KBDisclosed)
				}
			case "tampered":
				if o.Verified || !strings.Contains(o.Error, "Signature") {
					t.Errorf("%s: OWF sd-jwt-vc did not refuse a changed payload for its signature: verified %v, %s: %s", c.Name, o.Verified, o.ErrorName, o.Error)
				}
			default:
				if o.Verified || o.ErrorName != "SDJWTException" || o.Error != "Status is not valid" {
					t.Errorf("%s: OWF sd-jwt-vc did not refuse it for its status: verified %v, %s: %s", c.Name, o.Verified, o.ErrorName, o.Error)
				}
			}
		}
	})

	t.Run("W3CVC", func(t *testing.T) {
		var out struct {
			Cases map[string]w3cObservation `json:"cases"`
		}
		err := interop.RunNode(ctx, "w3c-vc.mjs", in, &out)
		mustRun(t, err)
		for _, c := range in.Cases {
			o, ok := out.Cases[c.Name]
			if !ok {
				t.Errorf("%s: no observation", c.Name)
				continue
			}
			logObservation(t, c.Name, o)
			if c.Expect == "tampered" {
				if o.ProofVerified || o.ProofError == "" {
					t.Errorf("%s: Digital Bazaar vc accepted a changed credential: %+v", c.Name, o)
				}
				continue
			}
			if !o.ProofVerified {
				t.Errorf("%s: Digital Bazaar vc did not verify the proof: %s", c.Name, o.ProofError)
			}
			if !o.StatusChecked {
				t.Errorf("%s: checkStatus failed: %s", c.Name, o.StatusError)
			}
			for _, e := range []struct {
				purpose string
				want    bool
			}{{"revocation", c.Expect == "revoked"}, {"suspension", c.Expect == "suspended"}} {
				got, ok := o.Status[e.purpose]
				if !ok || got != e.want {
					t.Errorf("%s: checkStatus %s entry: read %v (present %v), want %v", c.Name, e.purpose, got, ok, e.want)
				}
			}
			if len(o.ListLengths) != 2 {
				t.Errorf("%s: %d list credentials decoded, want 2 (one per purpose)", c.Name, len(o.ListLengths))
			}
			for u, n := range o.ListLengths {
				if n < 131072 {
					t.Errorf("%s: %s holds %d entries, fewer than the 131,072 the Recommendation asks", c.Name, u, n)
				}
			}
			fetched := strings.Join(o.Loaded, " ")
			for _, u := range []string{in.Base + "/1.0/identifiers/" + encodedDID(issuerOf(c.Name)), in.Base + "/status/"} {
				if !strings.Contains(fetched, u) {
					t.Errorf("%s: the document loader did not fetch %s from the services (fetched: %s)", c.Name, u, fetched)
				}
			}
		}
	})
}

// mustRun fails the case when the script could not run (make interop installs Node and the
// packages first, so a missing install is a failure too) or exited non-zero (the library
// disagreed; the observations are asserted after, to say which case).
func mustRun(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, interop.ErrNoNode) {
		t.Fatalf("%v (run make interop, which installs them)", err)
	}
	if err != nil {
		t.Error(err)
	}
}

// tampered is c changed after signing: the SD-JWT's issuer-signed payload with exp a year
// later (re-encoded, old signature kept), the W3C subject with another household number.
func tampered(t *testing.T, c verifierCase) verifierCase {
	t.Helper()
	parts := strings.SplitN(c.SDJWT, "~", 2)
	seg := strings.Split(parts[0], ".")
	b64 := base64.RawURLEncoding
	raw, err := b64.DecodeString(seg[1])
	if err != nil {
		t.Fatal(err)
	}
	var payload map[string]any
	if err := json.Unmarshal(raw, &payload); err != nil {
		t.Fatal(err)
	}
	payload["exp"] = payload["exp"].(float64) + 365*86400
	raw, _ = json.Marshal(payload)
	seg[1] = b64.EncodeToString(raw)
	w3c := map[string]any{}
	for k, v := range c.W3C {
		w3c[k] = v
	}
	subj := map[string]any{}
	for k, v := range c.W3C["credentialSubject"].(map[string]any) {
		subj[k] = v
	}
	subj["household_number"] = "TEST-H-0002"
	w3c["credentialSubject"] = subj
	return verifierCase{Name: "household-tampered", Expect: "tampered", SDJWT: strings.Join(seg, ".") + "~" + parts[1], W3C: w3c}
}

func logObservation(t *testing.T, name string, o any) {
	t.Helper()
	b, _ := json.Marshal(o)
	t.Logf("%s: %s", name, b)
}

// encodedDID is a DID percent-encoded as a path segment the way the scripts send it
// (JavaScript's encodeURIComponent: ':' → %3A).
func encodedDID(d string) string { return strings.ReplaceAll(d, ":", "%3A") }

func issuerOf(caseName string) string {
	if strings.HasPrefix(caseName, "marriage") {
		return "did:lz:civil-affairs"
	}
	return "did:lz:public-security"
}

func typeOf(caseName string) string {
	if strings.HasPrefix(caseName, "marriage") {
		return "marriage-certificate"
	}
	return "household-register"
}

func household() map[string]any {
	return map[string]any{"name": "测试用户甲", "id_number": "TEST00000000000001", "birth_date": "1990-01-01",
		"relation_to_head": "户主", "household_number": "TEST-H-0001", "address": "示例市测试路1号"}
}

func marriage() map[string]any {
	return map[string]any{"holder_name": "测试用户甲", "spouse_name": "王䶮", "spouse_id_number": "TEST00000000000002",
		"registration_date": "2018-05-20", "certificate_number": "TEST-J-2018-0001", "registry": "示例市民政局婚姻登记处"}
}
