package verifier

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"lianzheng/credential"
	"lianzheng/credential/receipt"
	"lianzheng/credential/wire"
	"lianzheng/ledger"
	"lianzheng/qr"
)

// The real-estate scenario online: request from the registration, one scan of both
// credentials, labels, receipt, anchor on the ledger, inclusion proof; no personal value in
// the logs; values wiped at session close; revocation seen online.
func TestRealEstateOnline(t *testing.T) {
	n := sharedNet(t)
	ctx := context.Background()
	var logs bytes.Buffer
	trust := NewOnlineTrust(n.client, time.Minute)
	v := n.newVerifier(t, trust, nil, &logs)
	req, err := v.NewRequest(ctx, "property-transfer")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(req.Text, "LZ1Q:") || len(req.Request.Requests) != 2 || req.Request.Expires-req.Request.IssuedAt != 180 {
		t.Fatalf("request %+v", req.Request)
	}
	if png, err := req.PNG(); err != nil || len(png) < 100 {
		t.Fatalf("png: %v", err)
	}
	hr := n.issue(t, "household-register", issueOpt{})
	mc := n.issue(t, "marriage-certificate", issueOpt{})
	nonce, aud := req.Request.NonceString(), req.Request.Audience()
	text := answer(t, v, req, hr.present(t, nonce, aud), mc.present(t, nonce, aud))
	// As a keyboard-wedge scanner with Caps Lock and a trailing CR/LF types it.
	vd := v.Verify(ctx, "  "+strings.ToLower(text)+"\r\n")
	if !vd.OK || len(vd.Credentials) != 2 {
		t.Fatalf("verdict %+v", vd)
	}
	if vd.Trust.Source != "online" || vd.Trust.Height < 1 || vd.Purpose.Zh == "" || vd.Mode != "request" {
		t.Fatalf("verdict %+v", vd)
	}
	c0 := vd.Credentials[0]
	if c0.Type != "household-register" || c0.TypeName.Zh != "户口簿" && c0.TypeName.Zh == "" || len(c0.Fields) != 4 || c0.Fields[0].Label.Zh == "" || c0.Hidden != 3 {
		t.Fatalf("credential %+v", c0)
	}
	if c0.Fields[0].Name != "name" || c0.Fields[0].Value != "测试用户甲" {
		t.Fatalf("fields %+v", c0.Fields)
	}
	// Receipt: signed, no values, anchored, provable.
	b, err := v.Receipt(vd.ReceiptID)
	if err != nil || b.Proof != nil {
		t.Fatalf("receipt %v %+v", err, b)
	}
	for _, val := range demoClaims["household-register"] {
		if strings.Contains(b.Receipt, val.(string)) || strings.Contains(logs.String(), val.(string)) {
			t.Fatalf("personal value %q in receipt or logs", val)
		}
	}
	a, err := v.Anchor(ctx, n.client)
	if err != nil || a == nil || a.Count != 1 {
		t.Fatalf("anchor %+v %v", a, err)
	}
	b, err = v.Receipt(vd.ReceiptID)
	if err != nil || b.Proof == nil {
		t.Fatal(err)
	}
	on, err := n.client.Anchor(ctx, window, a.Seq)
	if err != nil || on.Root != a.Root {
		t.Fatalf("ledger anchor %+v %v (seq %d)", on, err, a.Seq)
	}
	qrText, err := b.Text()
	if err != nil {
		t.Fatal(err)
	}
	b2, err := wire.ParseReceiptBundle([]byte(qrText))
	if err != nil {
		t.Fatal(err)
	}
	r, err := CheckReceipt(ctx, b2, trust, on.Root)
	if err != nil || r.Result != receipt.ResultAccepted || len(r.Fields["household-register"]) != 4 || r.Item != "property-transfer" {
		t.Fatalf("receipt check %+v %v", r, err)
	}
	// Session close drops the values.
	v.CloseSession()
	if len(vd.Credentials[0].Fields) != 0 {
		t.Fatal("values kept after session close")
	}
	for _, val := range demoClaims["marriage-certificate"] {
		if strings.Contains(logs.String(), val.(string)) {
			t.Fatalf("personal value %q in logs", val)
		}
	}

	// Revoked online: the department revokes, the window's cache is refreshed.
	req2, _ := v.NewRequest(ctx, "")
	n.setStatus(t, mc, ledger.StatusRevoked)
	trust.Invalidate()
	vd = v.Verify(ctx, answer(t, v, req2, hr.present(t, req2.Request.NonceString(), aud), mc.present(t, req2.Request.NonceString(), aud)))
	if vd.OK || vd.Code != credential.CodeRevoked || !vd.Credentials[0].OK || vd.Credentials[1].Code != credential.CodeRevoked {
		t.Fatalf("after revocation: %+v", vd)
	}
	// ... and offline after a snapshot refresh.
	st := n.snapshot(t, t.TempDir()+"/trust.snap")
	off := n.newVerifier(t, st, nil, nil)
	req3, _ := off.NewRequest(ctx, "")
	vd = off.Verify(ctx, answer(t, off, req3, hr.present(t, req3.Request.NonceString(), aud), mc.present(t, req3.Request.NonceString(), aud)))
	if vd.OK || vd.Code != credential.CodeRevoked || vd.Trust.Source != "snapshot" {
		t.Fatalf("offline after revocation: %+v", vd)
	}
}

// An offline window verifies with a snapshot while the ledger node is stopped.
func TestOfflineNodeStopped(t *testing.T) {
	n := startNet(t, t.TempDir())
	path := t.TempDir() + "/trust.snap"
	n.snapshot(t, path)
	hr := n.issue(t, "household-register", issueOpt{})
	mc := n.issue(t, "marriage-certificate", issueOpt{})
	if err := n.node.Stop(); err != nil {
		t.Fatal(err)
	}
	st, err := LoadSnapshot(path, n.root, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	v := n.newVerifier(t, st, nil, nil)
	req, err := v.NewRequest(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	nonce, aud := req.Request.NonceString(), req.Request.Audience()
	vd := v.Verify(context.Background(), answer(t, v, req, hr.present(t, nonce, aud), mc.present(t, nonce, aud)))
	if !vd.OK || vd.Trust.Source != "snapshot" {
		t.Fatalf("%+v", vd)
	}
	// Online trust with the node down fails closed.
	on := n.newVerifier(t, NewOnlineTrust(n.client, time.Minute), nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if vd := on.Verify(ctx, "LZ1R:00"); vd.OK || vd.Code != credential.CodeTrustUnavailable {
		t.Fatalf("%+v", vd)
	}
}

// The request and the receipt round-trip as PNG.
func TestVerifyPNG(t *testing.T) {
	n := sharedNet(t)
	st := n.snapshot(t, t.TempDir()+"/s")
	v := n.newVerifier(t, st, nil, nil)
	req, _ := v.NewRequest(context.Background(), "")
	hr := n.issue(t, "household-register", issueOpt{})
	mc := n.issue(t, "marriage-certificate", issueOpt{})
	nonce, aud := req.Request.NonceString(), req.Request.Audience()
	png, err := qr.RenderPNG(answer(t, v, req, hr.present(t, nonce, aud), mc.present(t, nonce, aud)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if vd := v.VerifyPNG(context.Background(), png); !vd.OK {
		t.Fatalf("%+v", vd)
	}
	if vd := v.VerifyPNG(context.Background(), []byte("not a png")); vd.OK || vd.Code != credential.CodeMalformed {
		t.Fatalf("%+v", vd)
	}
}
