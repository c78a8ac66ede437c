package verifier

import (
	"context"
	"testing"
	"time"

	"lianzheng/credential"
	"lianzheng/credential/oid4vp"
	"lianzheng/home/demonet"
)

const portalDID = "did:lz:realestate-portal"

// The online service path: a portal's verifier makes its request from the online
// registration and judges the OpenID4VP presentations with the window's checks — KB-JWT
// audience the full client id, nonce the request's — and the window's codes; an accepted
// answer consumes the request and gets a receipt signed by the portal's key.
func TestOpenID4VP(t *testing.T) {
	n := sharedNet(t)
	ctx := context.Background()
	k, err := demonet.LoadKey(demonet.KeyDir(n.home), "realestate-portal")
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Now()
	v, err := New(Config{Trust: NewOnlineTrust(n.client, time.Minute), Window: portalDID, KeyID: k.KeyID, Key: k.PrivateKey(),
		Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	hr := n.issue(t, "household-register", issueOpt{})
	mc := n.issue(t, "marriage-certificate", issueOpt{})
	clientID := oid4vp.ClientIDFor(portalDID)
	newReq := func() string {
		r, err := v.NewRequest(ctx, "property-transfer-online")
		if err != nil {
			t.Fatal(err)
		}
		return r.Request.NonceString()
	}
	nonce := newReq()
	if open, err := v.Open(nonce); !open || err != nil {
		t.Fatalf("open %v %v", open, err)
	}
	good := []string{hr.present(t, nonce, clientID), mc.present(t, nonce, clientID)}
	cases := []struct {
		name  string
		nonce string
		ps    []string
		want  credential.Code
	}{
		{"aud is the bare DID", nonce, []string{hr.present(t, nonce, portalDID), mc.present(t, nonce, portalDID)}, credential.CodeAudienceMismatch},
		{"aud is the hall window", nonce, []string{hr.present(t, nonce, window), mc.present(t, nonce, window)}, credential.CodeAudienceMismatch},
		{"wrong nonce", nonce, []string{hr.present(t, "AAAAAAAAAAAAAAAAAAAAAA", clientID), mc.present(t, "AAAAAAAAAAAAAAAAAAAAAA", clientID)}, credential.CodeNonceMismatch},
		{"over-disclosure", nonce, []string{hr.present(t, nonce, clientID, "name", "id_number", "address", "birth_date"), mc.present(t, nonce, clientID)}, credential.CodeOverDisclosure},
		{"no request", "BBBBBBBBBBBBBBBBBBBBBB", good, credential.CodeNoRequest},
		{"nothing", nonce, nil, credential.CodeMalformed},
		{"accepted", nonce, good, ""},
		{"replayed", nonce, good, credential.CodeReplayed},
		{"request already answered", nonce, []string{hr.present(t, nonce, clientID), mc.present(t, nonce, clientID)}, credential.CodeReplayed},
	}
	for _, c := range cases {
		vd := v.VerifyOpenID4VP(ctx, c.nonce, c.ps)
		if vd.Code != c.want || vd.OK != (c.want == "") || vd.Mode != ModeOpenID4VP {
			t.Errorf("%s: %s (%s), want %q", c.name, vd.Code, vd.Detail, c.want)
			continue
		}
		if c.want == "" {
			if len(vd.Credentials) != 2 || vd.Receipt == "" || vd.Purpose.Zh == "" || vd.Item != "property-transfer-online" {
				t.Errorf("accepted verdict %+v", vd)
			}
			if b, err := v.Receipt(vd.ReceiptID); err != nil || b.Window != portalDID {
				t.Errorf("receipt %v %+v", err, b)
			}
		}
	}
	// expiry, and revocation, each on a fresh request
	late := newReq()
	clock = clock.Add(10 * time.Minute)
	if vd := v.VerifyOpenID4VP(ctx, late, []string{hr.present(t, late, clientID), mc.present(t, late, clientID)}); vd.Code != credential.CodeRequestExpired {
		t.Errorf("expired request: %s", vd.Code)
	}
	clock = time.Now()
	n.setStatus(t, mc, 1)
	v.cfg.Trust.(*OnlineTrust).Invalidate()
	fresh := newReq()
	if vd := v.VerifyOpenID4VP(ctx, fresh, []string{hr.present(t, fresh, clientID), mc.present(t, fresh, clientID)}); vd.Code != credential.CodeRevoked {
		t.Errorf("revoked: %s (%s)", vd.Code, vd.Detail)
	}
	if vd := v.Refuse(ctx, "property-transfer-online", credential.CodeResponseTampered, "test"); vd.OK || vd.Message.Zh == "" || vd.Receipt != "" {
		t.Errorf("refusal %+v", vd)
	}
}
