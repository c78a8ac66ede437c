package wallet

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"lianzheng/credential/jws"
	"lianzheng/credential/wire"
	"lianzheng/home/demonet"
	"lianzheng/issuer"
	"lianzheng/issuer/oid4vci"
	"lianzheng/ledgerclient"
	"lianzheng/verifier"

	"net/http/httptest"
)

// TestRealServices: the wallet against the real department service (issuer/oid4vci, over
// HTTP) and the real window verifier (verifier/), on the embedded ledger: receive a
// household register and a marriage certificate, answer the window's request with both in
// one QR, the window accepts; its receipt, once anchored, verifies in the wallet's history;
// one-way mode is accepted as one-way.
func TestRealServices(t *testing.T) {
	e := ledgerEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	w := newTestWallet(t, e.cl)
	claims := map[string]map[string]any{"public-security": householdClaims, "civil-affairs": marriageClaims}
	types := map[string]string{"public-security": "household-register", "civil-affairs": "marriage-certificate"}
	for _, dep := range []string{"public-security", "civil-affairs"} {
		dk, err := demonet.LoadKey(demonet.KeyDir(e.home), dep)
		if err != nil {
			t.Fatal(err)
		}
		d, err := issuer.Open(ctx, issuer.Config{ID: dep, Signer: jws.NewEd25519Signer(dk.PrivateKey()), Ledger: e.cl, DBPath: filepath.Join(t.TempDir(), "i.db"), Sealer: issuer.DemoSealer(dk.PrivateKey().Seed())})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		srv := &oid4vci.Server{Dept: d}
		hs := httptest.NewServer(srv.Handler())
		defer hs.Close()
		srv.IssuerURL = hs.URL
		o, err := d.CreateOffer(ctx, issuer.Request{Type: types[dep], Claims: claims[dep]}, 0)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := w.Receive(ctx, srv.OfferURI(o), o.PIN, &ReceiveOptions{InsecureHTTP: true})
		if err != nil {
			t.Fatalf("receive from the real %s service: %v", dep, err)
		}
		if cs[0].Type != types[dep] {
			t.Fatalf("%+v", cs[0])
		}
	}
	wk := e.keys["realestate-window-01"]
	v, err := verifier.New(verifier.Config{Trust: verifier.NewOnlineTrust(e.cl, time.Second), Window: wk.DID, KeyID: wk.KeyID,
		Key: wk.PrivateKey(), Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	win, _ := e.cl.Window(ctx, wk.DID)
	req, err := v.NewRequest(ctx, win.ServiceItems[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := w.PlanRequest(ctx, req.Text)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := w.Present(ctx, plan, nil)
	if err != nil {
		t.Fatal(err)
	}
	vd := v.Verify(ctx, resp.QR)
	if !vd.OK || len(vd.Credentials) != 2 {
		t.Fatalf("the window rejects the wallet's answer: %s %s %+v", vd.Code, vd.Message, vd.Detail)
	}
	if _, err := v.Anchor(ctx, e.cl); err != nil {
		t.Fatal(err)
	}
	b, err := v.Receipt(vd.ReceiptID)
	if err != nil {
		t.Fatal(err)
	}
	text, _ := b.Text()
	rb, err := wire.ParseReceiptBundle([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	h, err := w.ImportReceipt(ctx, rb, e.cl)
	if err != nil || !h.VerifiedLedger || h.Result != "accepted" {
		t.Fatalf("receipt from the real window: %v %+v", err, h)
	}
	items, _ := w.List(ctx)
	var hrID string
	for _, it := range items {
		if it.Type == win.ServiceItems[0].Requests[0].Type {
			hrID = it.ID
		}
	}
	ow, err := w.PresentOneWay(ctx, map[string][]string{hrID: {win.ServiceItems[0].Requests[0].Fields[0]}})
	if err != nil {
		t.Fatal(err)
	}
	if vd := v.Verify(ctx, ow.QR); vd.Mode != "one-way" {
		t.Fatalf("one-way: %+v", vd)
	} else {
		t.Logf("one-way verdict: ok=%v %s %s", vd.OK, vd.Code, vd.Message)
	}
	var _ ledgerclient.TrustView = e.cl
}
