//go:build interop

package interop

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"lianzheng/did"
	"lianzheng/home"
	"lianzheng/issuer"
	"lianzheng/issuer/issuertest"
	"lianzheng/issuer/oid4vci"
)

// openid4vciOut is what interop/openid4vci.mjs reports.
type openid4vciOut struct {
	Version  string `json:"version"`
	Received []struct {
		Alg            string                     `json:"alg"`
		HolderJWK      json.RawMessage            `json:"holderJwk"`
		Identifiers    map[string][]string        `json:"identifiers"`
		Configurations map[string]json.RawMessage `json:"configurations"`
		Notified       bool                       `json:"notified"`
	} `json:"received"`
	WrongPin struct {
		Error  string `json:"error"`
		Reason string `json:"lz_reason"`
	} `json:"wrongPin"`
	BadNonce struct {
		Error string `json:"error"`
	} `json:"badNonce"`
	AfterBadNonce bool `json:"afterBadNonce"`
}

// TestOpenID4VCI: OWF @openid4vc/openid4vci, a wallet that is not ours, receives a
// department's credentials through its OpenID4VCI 1.0 flow (offer, metadata classified as
// 1.0, token with tx_code, requestNonce, jwt key proof, credential, notification) with an
// EdDSA and an ES256 holder key, in both configurations of the offer: the SD-JWT VC (issuer
// signature, cnf.jwk, vct, disclosures checked by the script) and the ldp_vc W3C VC (bound to
// the same key as did:key). A wrong tx_code surfaces invalid_grant and a proof with a bad
// nonce invalid_nonce. Each receive is one issuance record.
func TestOpenID4VCI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	h, err := home.OpenDemo(ctx, t.TempDir(), &home.Options{EmptyBlocksInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	const depID, typeID = "civil-affairs", "marriage-certificate"
	dep, ok := h.Issuer(depID)
	if !ok {
		t.Fatal("no demo department", depID)
	}
	if dep.IssuerURL() == "" { // the demo home serves its departments; serve this one if not
		svc, err := dep.Serve("127.0.0.1:0", home.ServeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer svc.Close()
	}
	if !strings.HasPrefix(dep.IssuerURL(), "http://127.0.0.1:") {
		t.Fatalf("issuer URL %s", dep.IssuerURL())
	}
	ty, err := h.Ledger().Type(ctx, typeID)
	if err != nil {
		t.Fatal(err)
	}
	offer := func() map[string]any {
		t.Helper()
		o, err := dep.Offer(ctx, issuer.Request{Type: typeID, Claims: issuertest.SampleClaims(*ty)})
		if err != nil {
			t.Fatal(err)
		}
		return map[string]any{"offer": o.Text, "pin": o.PIN}
	}
	dk, err := h.DemoKey(depID)
	if err != nil {
		t.Fatal(err)
	}
	ik, err := did.NewPublicKey(dk.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	eddsa, es256, badNonce := offer(), offer(), offer()
	wrong := offer()
	if wrong["pin"] == "000000" {
		wrong["pin"] = "111111"
	} else {
		wrong["pin"] = "000000"
	}
	in := map[string]any{
		"issuerJwk": ik.JWK(), "issuerDid": "did:lz:" + depID, "vct": ty.VCT, "w3cType": issuer.W3CType(typeID),
		"receive":  []any{map[string]any{"alg": "EdDSA", "offer": eddsa["offer"], "pin": eddsa["pin"]}, map[string]any{"alg": "ES256", "offer": es256["offer"], "pin": es256["pin"]}},
		"wrongPin": wrong, "badNonce": badNonce,
	}
	var out openid4vciOut
	if err := RunNode(ctx, "openid4vci.mjs", in, &out); err != nil {
		t.Fatal(err)
	}
	if out.Version != "V1" || len(out.Received) != 2 || out.WrongPin.Error != "invalid_grant" ||
		out.WrongPin.Reason != oid4vci.ReasonWrongPIN || out.BadNonce.Error != "invalid_nonce" || !out.AfterBadNonce {
		t.Fatalf("%+v", out)
	}
	w3cID := typeID + oid4vci.LDPVCSuffix
	for _, r := range out.Received {
		holder, err := did.ParseJWKJSON(r.HolderJWK)
		if err != nil {
			t.Fatalf("%s: holder key %s: %v", r.Alg, r.HolderJWK, err)
		}
		if want := map[string]string{"EdDSA": "EdDSA", "ES256": "ES256"}[r.Alg]; holder.JWSAlg() != want || !r.Notified ||
			len(r.Identifiers[typeID]) != 1 || len(r.Identifiers[w3cID]) != 1 || len(r.Configurations) != 2 {
			t.Fatalf("%s: %+v", r.Alg, r)
		}
		var sd struct {
			SDJWT struct {
				Iss    string         `json:"iss"`
				Claims map[string]any `json:"claims"`
			} `json:"sdjwt"`
		}
		var ldp struct {
			LDP struct {
				Issuer    string `json:"issuer"`
				SubjectID string `json:"subjectId"`
			} `json:"ldp"`
		}
		if json.Unmarshal(r.Configurations[typeID], &sd) != nil || json.Unmarshal(r.Configurations[w3cID], &ldp) != nil {
			t.Fatalf("%s: %+v", r.Alg, r.Configurations)
		}
		if sd.SDJWT.Iss != "did:lz:"+depID || len(sd.SDJWT.Claims) == 0 {
			t.Fatalf("%s: SD-JWT VC %+v", r.Alg, sd)
		}
		if ldp.LDP.Issuer != "did:lz:"+depID || ldp.LDP.SubjectID != holder.DIDKey() {
			t.Fatalf("%s: W3C VC bound to %s, holder key is %s", r.Alg, ldp.LDP.SubjectID, holder.DIDKey())
		}
	}
	// one record per receive (two forms each), and the bad-nonce offer's after its retry
	rs, err := dep.Records(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 {
		t.Fatalf("%d issuance records, want 3", len(rs))
	}
}
