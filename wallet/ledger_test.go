package wallet

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"lianzheng/credential"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"lianzheng/credential/receipt"
	"lianzheng/credential/sdjwtcbor"
	"lianzheng/credential/sdjwtvc"
	"lianzheng/credential/wire"
	"lianzheng/did"
	"lianzheng/home/demonet"
	"lianzheng/internal/democitizen"
	"lianzheng/ledger"
	"lianzheng/ledgerclient"
	"lianzheng/qr"
)

var householdClaims = democitizen.HouseholdRegister()

var marriageClaims = democitizen.MarriageCertificate()

const windowDID = "did:lz:realestate-window-01"

// windowRequest is the window's signed request QR for its first service item, plus extra
// fields (over-asking) per type.
func windowRequest(t *testing.T, e *env, extra map[string][]string) (string, *wire.Request) {
	t.Helper()
	win, err := e.cl.Window(context.Background(), windowDID)
	if err != nil {
		t.Fatal(err)
	}
	item := win.ServiceItems[0]
	var reqs []wire.FieldRequest
	for _, fr := range item.Requests {
		reqs = append(reqs, wire.FieldRequest{Type: fr.Type, Fields: append(slices.Clone(fr.Fields), extra[fr.Type]...)})
	}
	k := e.keys["realestate-window-01"]
	r, err := wire.New(windowDID, k.KeyID, item.ID, reqs, time.Now(), 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	body, err := r.Sign(k.PrivateKey())
	if err != nil {
		t.Fatal(err)
	}
	return qr.Encode(wire.PrefixRequest, body), r
}

// windowVerify is what the window does with the response: decode, rebuild the standard
// texts, verify each against the ledger keys with its nonce and DID.
func windowVerify(t *testing.T, e *env, w *Wallet, resp *Response, r *wire.Request, creds []*Credential) map[string][]string {
	t.Helper()
	prefix, body, err := qr.Decode(resp.QR, 64<<10)
	if err != nil || prefix != wire.PrefixResponse {
		t.Fatalf("decode %q: %v", prefix, err)
	}
	texts, err := sdjwtcbor.Decode(body, &sdjwtcbor.Context{Nonce: r.NonceString(), Audience: r.Audience(), Known: Known(creds, windowDID, e.cl)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(texts, resp.Texts) {
		t.Fatal("compact response is not lossless")
	}
	got := map[string][]string{}
	for _, text := range texts {
		v, err := sdjwtvc.Verify(text, sdjwtvc.VerifyOptions{
			IssuerKeyAt: func(kid string, at time.Time) (crypto.PublicKey, error) {
				k, err := did.AssertionKeyAt(context.Background(), did.MultiResolver{LZ: e.cl}, kid, at)
				return k.Key, err
			},
			Nonce: r.NonceString(), Audience: r.Audience(), Now: time.Now(),
		})
		if err != nil {
			t.Fatalf("window rejects the presentation: %v", err)
		}
		ty, _ := e.cl.TypeByVCT(context.Background(), v.VCT)
		d := slices.Clone(v.Disclosed)
		sort.Strings(d)
		got[ty.ID] = d
	}
	return got
}

func sorted(s []string) []string { s = slices.Clone(s); sort.Strings(s); return s }

// TestRealEstateRoundTrip: receive two credentials over OpenID4VCI (verified against the
// ledger), present both in one QR to the registered window, over-asking refused, receipt
// anchored and verified, revocation shown and honoured, one-way mode, backup and restore.
func TestRealEstateRoundTrip(t *testing.T) {
	e := ledgerEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	w := newTestWallet(t, e.cl)
	ps := newTestIssuer(t, e.keys["public-security"], "urn:lz:vct:household-register", householdClaims, "493817")
	ca := newTestIssuer(t, e.keys["civil-affairs"], "urn:lz:vct:marriage-certificate", marriageClaims, "")
	ca.draft13 = true // c_nonce in the token response, single "proof"
	insecure := &ReceiveOptions{InsecureHTTP: true}

	// receive
	if _, err := w.Receive(ctx, ps.offer(), "", insecure); err == nil {
		t.Fatal("received without the PIN")
	}
	if _, err := w.Receive(ctx, ps.offer(), "000000", insecure); err == nil {
		t.Fatal("received with a wrong PIN")
	}
	hr, err := w.Receive(ctx, ps.offer(), "493817", insecure)
	if err != nil {
		t.Fatalf("receive household register: %v (issuer saw %v)", err, ps.lastErr)
	}
	// by reference: credential_offer_uri
	mc, err := w.Receive(ctx, OfferScheme+"?credential_offer_uri="+url.QueryEscape(ca.srv.URL+"/offer"), "123456", insecure)
	if err != nil {
		t.Fatalf("receive marriage certificate: %v (issuer saw %v)", err, ca.lastErr)
	}
	if hr[0].Type != "household-register" || mc[0].Type != "marriage-certificate" || hr[0].HolderKID == mc[0].HolderKID {
		t.Fatalf("stored %+v %+v", hr[0], mc[0])
	}
	// an issuer not authorised for the type is refused, with a message saying so
	rogue := newTestIssuer(t, e.keys["civil-affairs"], "urn:lz:vct:household-register", householdClaims, "")
	_, err = w.Receive(ctx, rogue.offer(), "111111", insecure)
	var ref *Refusal
	if !errors.As(err, &ref) || ref.Code != credential.CodeIssuerNotAuthorised || !strings.Contains(ref.Msg.Zh, "未获链上目录授权") || !strings.Contains(ref.Msg.En, "not authorised") {
		t.Fatalf("unauthorised issuer: %v", err)
	}
	items, _ := w.List(ctx)
	if len(items) != 2 {
		t.Fatalf("%d credentials stored", len(items))
	}
	for _, it := range items {
		if it.Status != StatusValid || it.Name.Zh == "" || it.Name.En == "" || it.Name.Zh == it.Type {
			t.Fatalf("list item %s: %v %+v", it.Type, it.Status, it.Name)
		}
	}
	det, err := w.Detail(ctx, hr[0].ID)
	if err != nil || len(det.Claims) != len(householdClaims) || det.Claims[0].Label.Zh == "" {
		t.Fatalf("detail: %v %+v", err, det)
	}

	// present both in one QR
	text, r := windowRequest(t, e, nil)
	plan, err := w.PlanRequest(ctx, text)
	if err != nil {
		t.Fatal(err)
	}
	if plan.OverAsk || len(plan.Asks) != 2 || plan.Purpose.Zh == "" {
		t.Fatalf("plan %+v", plan)
	}
	resp, err := w.Present(ctx, plan, nil)
	if err != nil {
		t.Fatal(err)
	}
	creds := []*Credential{hr[0], mc[0]}
	got := windowVerify(t, e, w, resp, r, creds)
	for _, fr := range plan.Item.Requests {
		if !slices.Equal(got[fr.Type], sorted(fr.Fields)) {
			t.Errorf("%s disclosed %v, registered %v", fr.Type, got[fr.Type], fr.Fields)
		}
	}
	ver, _ := qr.Version(resp.QR)
	t.Logf("two-credential response: %d characters, QR version %d-M", len(resp.QR), ver)

	// over-asking: the extra field is refused and never disclosed
	extraField := ""
	ty, _ := e.cl.Type(ctx, "household-register")
	for _, c := range ty.Claims {
		if !slices.Contains(plan.Item.Requests[0].Fields, c.Name) {
			extraField = c.Name
			break
		}
	}
	text2, r2 := windowRequest(t, e, map[string][]string{"household-register": {extraField}})
	plan2, err := w.PlanRequest(ctx, text2)
	if err != nil {
		t.Fatal(err)
	}
	if !plan2.OverAsk || !strings.Contains(plan2.Warning.Zh, "超出") || !slices.Contains(plan2.Asks[0].Refused, extraField) {
		t.Fatalf("over-ask not flagged: %+v", plan2)
	}
	resp2, err := w.Present(ctx, plan2, nil)
	if err != nil {
		t.Fatal(err)
	}
	got2 := windowVerify(t, e, w, resp2, r2, creds)
	if slices.Contains(got2["household-register"], extraField) {
		t.Fatalf("over-asked field %s disclosed", extraField)
	}
	if !slices.Contains(resp2.History.Refused["household-register"], extraField) {
		t.Fatalf("history does not record the refusal: %+v", resp2.History)
	}

	// a request signed by a key that is not the window's is refused
	if _, err := w.PlanRequest(ctx, forgeRequest(t, e, r)); err == nil {
		t.Fatal("forged request accepted")
	}

	// receipt anchored on the ledger → history verified
	ws := ledgerclient.Signer{KeyID: e.keys["realestate-window-01"].KeyID, Key: e.keys["realestate-window-01"].PrivateKey()}
	rc := &receipt.Receipt{ID: receipt.NewID(), Window: windowDID, Department: "realestate", Item: r.Item,
		Purpose: plan.Purpose.Zh, Types: []string{"household-register", "marriage-certificate"}, Fields: resp.Fields,
		Time: time.Now().Unix(), Result: receipt.ResultAccepted, PresentationHash: bodyHash(resp.QR)}
	tok, err := receipt.Sign(rc, ws.KeyID, ws.Key)
	if err != nil {
		t.Fatal(err)
	}
	other1, _ := receipt.Sign(&receipt.Receipt{ID: receipt.NewID(), Window: windowDID, Time: time.Now().Unix(), Result: receipt.ResultAccepted, PresentationHash: "x"}, ws.KeyID, ws.Key)
	other2, _ := receipt.Sign(&receipt.Receipt{ID: receipt.NewID(), Window: windowDID, Time: time.Now().Unix(), Result: receipt.ResultRejected, PresentationHash: "y"}, ws.KeyID, ws.Key)
	leaves := [][32]byte{receipt.LeafHash(other1), receipt.LeafHash(tok), receipt.LeafHash(other2)}
	root, _ := receipt.RootHex(leaves)
	proof, _ := receipt.Prove(leaves, 1)
	// before anchoring: the receipt is attached but not verified on the ledger
	h, err := w.ImportReceipt(ctx, &wire.ReceiptBundle{Receipt: tok, Proof: proof}, e.cl)
	if err == nil || h == nil || h.VerifiedLedger || h.ReceiptID != rc.ID {
		t.Fatalf("unanchored receipt: %v %+v", err, h)
	}
	if _, err := e.cl.AnchorPost(ctx, ws, root, len(leaves)); err != nil {
		t.Fatal(err)
	}
	h, err = w.ImportReceipt(ctx, &wire.ReceiptBundle{Receipt: tok, Proof: proof}, e.cl)
	if err != nil || !h.VerifiedLedger || h.AnchorSeq == 0 {
		t.Fatalf("anchored receipt: %v %+v", err, h)
	}
	hist, _ := w.Store.History()
	if len(hist) != 2 {
		t.Fatalf("%d history entries", len(hist))
	}
	for _, he := range hist {
		if he.Purpose == "" || he.Window != windowDID || len(he.Fields) != 2 {
			t.Errorf("history entry %+v", he)
		}
		for _, fs := range he.Fields { // names only
			for _, f := range fs {
				if strings.Contains(f, "TEST") || strings.Contains(f, "测试") {
					t.Errorf("history holds a value: %s", f)
				}
			}
		}
	}
	// no personal value and no record of where the citizen went is readable on disk
	filepath.WalkDir(w.Home, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		for _, secret := range []string{"测试用户甲", "TEST00000000000001", "示例省示例市", windowDID, plan.Purpose.Zh} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds %q in the clear", p, secret)
			}
		}
		return nil
	})

	// civil affairs revokes the marriage certificate: shown as revoked, not presented by default
	cs := ledgerclient.Signer{KeyID: e.keys["civil-affairs"].KeyID, Key: e.keys["civil-affairs"].PrivateKey()}
	if _, err := e.cl.StatusSet(ctx, cs, 0, ledger.StatusUpdate{Index: mc[0].StatusIdx, Value: ledger.StatusRevoked}); err != nil {
		t.Fatal(err)
	}
	st, err := w.CheckStatus(ctx, mc[0])
	if err != nil || st != StatusRevoked {
		t.Fatalf("status after revoke: %v %v", st, err)
	}
	text3, r3 := windowRequest(t, e, nil)
	plan3, err := w.PlanRequest(ctx, text3)
	if err != nil {
		t.Fatal(err)
	}
	if plan3.Asks[1].Chosen != "" || plan3.Asks[1].Candidates[0].Status != StatusRevoked {
		t.Fatalf("revoked credential chosen: %+v", plan3.Asks[1])
	}
	resp3, err := w.Present(ctx, plan3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got3 := windowVerify(t, e, w, resp3, r3, creds); len(got3) != 1 || got3["household-register"] == nil {
		t.Fatalf("after revocation presented %v", got3)
	}
	if _, err := w.Present(ctx, plan3, &PresentOptions{Choose: map[string]string{"marriage-certificate": mc[0].ID}}); !errors.As(err, &ref) {
		t.Fatalf("revoked credential presented on explicit choice without AllowInvalid: %v", err)
	}

	// one-way
	ow, err := w.PresentOneWay(ctx, map[string][]string{hr[0].ID: {"name"}})
	if err != nil {
		t.Fatal(err)
	}
	checkOneWay(t, e, ow, hr[0])

	// backup and restore
	bak := filepath.Join(t.TempDir(), "wallet.lzbak")
	if err := w.Backup(bak, "backup passphrase"); err != nil {
		t.Fatal(err)
	}
	testRestore(t, bak, e)

	// suspension and expiry are shown too
	pss := ledgerclient.Signer{KeyID: e.keys["public-security"].KeyID, Key: e.keys["public-security"].PrivateKey()}
	if _, err := e.cl.StatusSet(ctx, pss, 0, ledger.StatusUpdate{Index: hr[0].StatusIdx, Value: ledger.StatusSuspended}); err != nil {
		t.Fatal(err)
	}
	if st, err := w.CheckStatus(ctx, hr[0]); err != nil || st != StatusSuspended {
		t.Fatalf("status after suspension: %v %v", st, err)
	}
	if _, err := w.PresentOneWay(ctx, map[string][]string{hr[0].ID: {"name"}}); !errors.As(err, &ref) {
		t.Fatalf("suspended credential presented one-way: %v", err)
	}
	w.Now = func() time.Time { return time.Now().AddDate(2, 0, 0) }
	if st, _ := w.CheckStatus(ctx, hr[0]); st != StatusExpired {
		t.Fatalf("status in two years: %v", st)
	}
}

func forgeRequest(t *testing.T, e *env, r *wire.Request) string {
	k, _ := demonet.NewDemoKey("realestate-window-01")
	r2 := *r
	body, err := r2.Sign(k.PrivateKey())
	if err != nil {
		t.Fatal(err)
	}
	return qr.Encode(wire.PrefixRequest, body)
}

func checkOneWay(t *testing.T, e *env, ow *Response, c *Credential) {
	t.Helper()
	prefix, body, err := qr.Decode(ow.QR, 64<<10)
	if err != nil || prefix != wire.PrefixOneWay {
		t.Fatalf("one-way %q %v", prefix, err)
	}
	var b wire.OneWay
	if err := cbor.Unmarshal(body, &b); err != nil || b.Version != 1 || len(b.Nonce) != 16 {
		t.Fatalf("one-way body %v %+v", err, b)
	}
	if d := time.Until(time.Unix(b.Expires, 0)); d > wire.OneWayValidity || d < wire.OneWayValidity-10*time.Second {
		t.Fatalf("one-way expiry in %v", d)
	}
	nonce := (&wire.Request{Nonce: b.Nonce}).NonceString()
	texts, err := sdjwtcbor.Decode(b.Response, &sdjwtcbor.Context{Nonce: nonce, Audience: wire.OneWayAudience, Known: Known([]*Credential{c}, "", e.cl)})
	if err != nil || len(texts) != 1 {
		t.Fatal(err)
	}
	if _, err := sdjwtvc.Verify(texts[0], sdjwtvc.VerifyOptions{
		IssuerKeyAt: func(kid string, at time.Time) (crypto.PublicKey, error) {
			k, err := did.AssertionKeyAt(context.Background(), did.MultiResolver{LZ: e.cl}, kid, at)
			return k.Key, err
		}, Nonce: nonce, Audience: wire.OneWayAudience, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

func testRestore(t *testing.T, bak string, e *env) {
	data, _ := os.ReadFile(bak)
	// wrong passphrase and every kind of tampering: rejected, nothing written
	for name, mutate := range map[string]func([]byte) []byte{
		"flip ciphertext": func(b []byte) []byte { b[len(b)-40] ^= 1; return b },
		"flip header":     func(b []byte) []byte { b[12] ^= 1; return b },
		"truncate":        func(b []byte) []byte { return b[:len(b)/2] },
		"flip tag":        func(b []byte) []byte { b[len(b)-1] ^= 0x80; return b },
	} {
		p := filepath.Join(t.TempDir(), "bad.lzbak")
		os.WriteFile(p, mutate(bytes.Clone(data)), 0o600)
		home := filepath.Join(t.TempDir(), "w")
		if err := Restore(p, "backup passphrase", home); !errors.Is(err, ErrBackup) {
			t.Errorf("%s: %v", name, err)
		}
		if _, err := os.Stat(home); !os.IsNotExist(err) {
			t.Errorf("%s: restore created %s", name, home)
		}
	}
	home := filepath.Join(t.TempDir(), "w")
	if err := Restore(bak, "wrong passphrase", home); !errors.Is(err, ErrBackup) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if err := Restore(bak, "backup passphrase", home); err != nil {
		t.Fatal(err)
	}
	w2, err := Open(home, &Options{Keystore: testKS})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	w2.Ledger = e.cl
	if err := w2.Unlock("123456"); err != nil {
		t.Fatal(err)
	}
	items, _ := w2.List(context.Background())
	hist, _ := w2.Store.History()
	if len(items) != 2 || len(hist) != 4 {
		t.Fatalf("restored %d credentials, %d history entries", len(items), len(hist))
	}
	// the restored keys still sign for the restored credentials
	text, r := windowRequest(t, e, nil)
	plan, err := w2.PlanRequest(context.Background(), text)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := w2.Present(context.Background(), plan, nil)
	if err != nil {
		t.Fatal(err)
	}
	var cs []*Credential
	for i := range items {
		cs = append(cs, &items[i].Credential)
	}
	windowVerify(t, e, w2, resp, r, cs)
	if err := Restore(bak, "backup passphrase", home); err == nil {
		t.Fatal("restored over an existing wallet")
	}
}
