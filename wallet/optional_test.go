package wallet

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"lianzheng/credential/jws"
	"lianzheng/home/demonet"
	"lianzheng/issuer"
	"lianzheng/issuer/issuertest"
	"lianzheng/issuer/oid4vci"
	"lianzheng/ledger"
	"lianzheng/verifier"
)

// TestReceiveOptionalEmpty (issue 14.1): every catalogue type, with each optional field left
// empty (as a department form leaves it: blank), is received through the real OpenID4VCI
// service (issuer/oid4vci over HTTP) — before the fix redemption failed with HTTP 500 — and
// the wallet holds exactly the fields given, in both forms. A household register without
// marital status then answers the real-estate window: the consent data says which requested
// field the credential lacks (and that the window can do without it), the wallet presents
// the rest, and the window accepts, naming the missing field. Under a registration that
// requires marital status, the wallet prefers a complete register, and with only the lacking
// one it says the window will refuse (MissingRequired).
func TestReceiveOptionalEmpty(t *testing.T) {
	e := ledgerEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	w := newTestWallet(t, e.cl)
	types, err := e.cl.Types(ctx)
	if err != nil {
		t.Fatal(err)
	}
	servers := map[string]*oid4vci.Server{}
	serve := func(dep string) *oid4vci.Server {
		if s, ok := servers[dep]; ok {
			return s
		}
		dk, err := demonet.LoadKey(demonet.KeyDir(e.home), dep)
		if err != nil {
			t.Fatal(err)
		}
		d, err := issuer.Open(ctx, issuer.Config{ID: dep, Signer: jws.NewEd25519Signer(dk.PrivateKey()), Ledger: e.cl,
			DBPath: filepath.Join(t.TempDir(), dep+".db"), Sealer: issuer.DemoSealer(dk.PrivateKey().Seed())})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		s := &oid4vci.Server{Dept: d}
		hs := httptest.NewServer(s.Handler())
		t.Cleanup(hs.Close)
		s.IssuerURL = hs.URL
		servers[dep] = s
		return s
	}
	var hrLacking string // a household register received without marital status
	optional := 0
	for _, typ := range types {
		optional += len(issuertest.Optional(typ))
		srv := serve(typ.Issuers[0])
		for _, empty := range issuertest.EmptyCases(typ) {
			claims := issuertest.SampleClaims(typ, empty...)
			for _, f := range empty {
				claims[f] = "" // the form's blank field
			}
			o, err := srv.Dept.CreateOffer(ctx, issuer.Request{Type: typ.ID, Claims: claims}, 0)
			if err != nil {
				t.Fatalf("%s without %v: offer: %v", typ.ID, empty, err)
			}
			cs, err := w.Receive(ctx, srv.OfferURI(o), o.PIN, &ReceiveOptions{InsecureHTTP: true})
			if err != nil {
				t.Fatalf("%s without %v: receive: %v", typ.ID, empty, err)
			}
			it, err := w.Detail(ctx, cs[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			want := issuertest.SampleClaims(typ, empty...)
			if len(it.Claims) != len(want) {
				t.Fatalf("%s without %v: holds %d claims, want %d", typ.ID, empty, len(it.Claims), len(want))
			}
			for _, c := range it.Claims {
				if want[c.Name] != c.Value {
					t.Fatalf("%s without %v: %s = %v", typ.ID, empty, c.Name, c.Value)
				}
			}
			var w3c map[string]any
			if err := json.Unmarshal([]byte(cs[0].W3CVC), &w3c); err != nil {
				t.Fatalf("%s without %v: W3C VC: %v", typ.ID, empty, err)
			}
			subj, _ := w3c["credentialSubject"].(map[string]any)
			for _, f := range empty {
				if _, ok := subj[f]; ok {
					t.Fatalf("%s: empty %s in the W3C VC", typ.ID, f)
				}
			}
			if typ.ID == "household-register" && slices.Equal(empty, []string{"marital_status"}) {
				hrLacking = cs[0].ID
			}
		}
	}
	if optional == 0 || hrLacking == "" {
		t.Fatal("no optional field in the catalogue's household register: the test tests nothing")
	}
	mc := serve("civil-affairs")
	o, err := mc.Dept.CreateOffer(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriageClaims}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Receive(ctx, mc.OfferURI(o), o.PIN, &ReceiveOptions{InsecureHTTP: true}); err != nil {
		t.Fatal(err)
	}

	wk := e.keys["realestate-window-01"]
	v, err := verifier.New(verifier.Config{Trust: verifier.NewOnlineTrust(e.cl, time.Second), Window: wk.DID, KeyID: wk.KeyID,
		Key: wk.PrivateKey(), Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	req, err := v.NewRequest(ctx, "property-transfer")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := w.PlanRequest(ctx, req.Text)
	if err != nil {
		t.Fatal(err)
	}
	var hr *Ask
	for i := range plan.Asks {
		if plan.Asks[i].Type == "household-register" {
			hr = &plan.Asks[i]
		}
	}
	if hr == nil || !slices.Equal(hr.Lacks[hrLacking], []string{"marital_status"}) {
		t.Fatalf("consent data: %+v (want the register without marital status to lack it)", hr)
	}
	for id, l := range hr.Lacks {
		if id != hrLacking {
			t.Fatalf("credential %s lacks %v", id, l)
		}
	}
	if !slices.Equal(hr.Missing, hr.Lacks[hr.Chosen]) || len(hr.MissingRequired) != 0 {
		t.Fatalf("chosen %s: missing %v, required %v (the window can do without marital status)", hr.Chosen, hr.Missing, hr.MissingRequired)
	}
	// A window whose registration requires marital status: the consent data says the window
	// will refuse the register that lacks it, and the wallet picks the complete one.
	w.Ledger = requireAll{e.cl}
	strict, err := w.PlanRequest(ctx, req.Text)
	w.Ledger = e.cl
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range strict.Asks {
		if a.Type != "household-register" {
			continue
		}
		if a.Chosen == hrLacking || len(a.Missing) != 0 || len(a.MissingRequired) != 0 {
			t.Fatalf("registration requiring marital status: chose %s (lacking one %s), missing %v", a.Chosen, hrLacking, a.Missing)
		}
		if !slices.Equal(a.Lacks[hrLacking], []string{"marital_status"}) {
			t.Fatalf("lacks %v", a.Lacks)
		}
	}
	// a wallet holding only the register without marital status is told the window will refuse
	w2 := newTestWallet(t, requireAll{e.cl})
	ps := serve("public-security")
	hrType, _ := e.cl.Type(ctx, "household-register")
	o2, err := ps.Dept.CreateOffer(ctx, issuer.Request{Type: "household-register", Claims: issuertest.SampleClaims(*hrType, "marital_status")}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w2.Receive(ctx, ps.OfferURI(o2), o2.PIN, &ReceiveOptions{InsecureHTTP: true}); err != nil {
		t.Fatal(err)
	}
	only, err := w2.PlanRequest(ctx, req.Text)
	if err != nil {
		t.Fatal(err)
	}
	if a := only.Asks[0]; a.Chosen == "" || !slices.Equal(a.MissingRequired, []string{"marital_status"}) || !slices.Equal(a.Missing, a.MissingRequired) {
		t.Fatalf("only a lacking register, marital status required: %+v", a)
	}
	// present the register that lacks it
	resp, err := w.Present(ctx, plan, &PresentOptions{Choose: map[string]string{"household-register": hrLacking}})
	if err != nil {
		t.Fatalf("present: %v", err)
	}
	if slices.Contains(resp.Fields["household-register"], "marital_status") {
		t.Fatalf("presented a field the credential lacks: %v", resp.Fields)
	}
	vd := v.Verify(ctx, resp.QR)
	if !vd.OK || len(vd.Credentials) != 2 {
		t.Fatalf("the window refuses: %s %s", vd.Code, vd.Detail)
	}
	cv := vd.Credentials[0]
	if len(cv.Missing) != 1 || cv.Missing[0].Name != "marital_status" || cv.Missing[0].Required {
		t.Fatalf("verdict does not name the missing field: %+v", cv)
	}
}

// requireAll is the ledger as a wallet reads it, except that every window's registration
// requires every field it asks (no "optional").
type requireAll struct{ Ledger }

func (r requireAll) Window(ctx context.Context, did string) (*ledger.Window, error) {
	w, err := r.Ledger.Window(ctx, did)
	if err != nil {
		return nil, err
	}
	c := *w
	c.ServiceItems = slices.Clone(w.ServiceItems)
	for i := range c.ServiceItems {
		c.ServiceItems[i].Requests = slices.Clone(c.ServiceItems[i].Requests)
		for j := range c.ServiceItems[i].Requests {
			c.ServiceItems[i].Requests[j].Optional = nil
		}
	}
	return &c, nil
}
