package issuer_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"lianzheng/credential/dataintegrity"
	"lianzheng/credential/jws"
	"lianzheng/credential/sdjwtvc"
	"lianzheng/did"
	"lianzheng/issuer"
	"lianzheng/issuer/issuertest"
	"lianzheng/ledger"
	"lianzheng/ledgerclient"
)

type clock struct{ t atomic.Int64 }

func (c *clock) now() time.Time      { return time.Unix(0, c.t.Load()) }
func (c *clock) add(d time.Duration) { c.t.Add(int64(d)) }
func newClock(t time.Time) *clock    { c := &clock{}; c.t.Store(t.UnixNano()); return c }
func holderKey(t testing.TB) did.PublicKey {
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	p, err := did.NewPublicKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func marriage() map[string]any {
	return map[string]any{
		"holder_name": "测试用户甲", "spouse_name": "测试用户乙", "spouse_id_number": "TEST00000000000002",
		"registration_date": "2018-05-20", "certificate_number": "TEST-J-2018-0001", "registry": "示例市民政局婚姻登记处",
	}
}

func setup(t testing.TB, id string) (*issuer.Department, *issuertest.Ledger, *clock, string) {
	t.Helper()
	clk := newClock(time.Now())
	l, err := issuertest.New(clk.now().Add(-24 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	dbp := filepath.Join(t.TempDir(), "issuer.db")
	d, err := issuer.Open(context.Background(), issuer.Config{ID: id, Signer: l.Signer(id), Ledger: l, DBPath: dbp, Sealer: testSealer(id), Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, l, clk, dbp
}

func keyAt(r did.Resolver) sdjwtvc.KeyAt {
	return func(kid string, at time.Time) (crypto.PublicKey, error) {
		k, err := did.AssertionKeyAt(context.Background(), r, kid, at)
		return k.Key, err
	}
}

func TestIssueBothForms(t *testing.T) {
	ctx := context.Background()
	d, l, clk, dbp := setup(t, "civil-affairs")
	if d.KeyID != "did:lz:civil-affairs#key-1" {
		t.Fatal(d.KeyID)
	}
	ts, err := d.Types(ctx)
	if err != nil || len(ts) != 1 || ts[0].ID != "marriage-certificate" {
		t.Fatalf("types %v %v", ts, err)
	}
	hk := holderKey(t)
	is, err := d.Issue(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriage(), Holder: hk})
	if err != nil {
		t.Fatal(err)
	}
	v, err := sdjwtvc.Verify(is.SDJWT, sdjwtvc.VerifyOptions{IssuerKeyAt: keyAt(l), AllowNoKB: true, Now: clk.now()})
	if err != nil {
		t.Fatal(err)
	}
	if v.Issuer != d.DID || v.VCT != "urn:lz:vct:marriage-certificate" || !v.Holder.Equal(hk.Key) ||
		v.Status == nil || v.Status.URI != "urn:lz:status:civil-affairs:0" || v.Status.Index != is.Record.StatusIndex ||
		len(v.Disclosed) != 6 || v.Claims["spouse_name"] != "测试用户乙" {
		t.Fatalf("verified %+v", v)
	}
	maxExp := clk.now().AddDate(0, 0, 36500)
	if v.Expires.After(maxExp) || v.Expires.Before(maxExp.Add(-time.Minute)) {
		t.Fatalf("exp %v", v.Expires)
	}
	if _, err := dataintegrity.Verify(is.W3C, func(vm string) (ed25519.PublicKey, error) {
		k, err := did.AssertionKeyAt(ctx, l, vm, clk.now())
		pk, _ := k.Key.(ed25519.PublicKey)
		return pk, err
	}); err != nil {
		t.Fatal(err)
	}
	if is.W3C["id"] != "urn:uuid:"+is.Record.ID {
		t.Fatal(is.W3C["id"])
	}
	r, err := d.Record(ctx, is.Record.ID)
	if err != nil || r.State != issuer.StateValid || r.HolderThumbprint != hk.Thumbprint() || r.StatusIndex != is.Record.StatusIndex {
		t.Fatalf("record %+v %v", r, err)
	}
	// No claim value reaches the database files.
	d.Close()
	for _, f := range []string{dbp, dbp + "-wal"} {
		b, _ := os.ReadFile(f)
		for _, v := range marriage() {
			if bytes.Contains(b, []byte(v.(string))) {
				t.Fatalf("%s holds claim value %q", f, v)
			}
		}
	}
}

func TestNotAuthorised(t *testing.T) {
	ctx := context.Background()
	d, _, _, _ := setup(t, "civil-affairs")
	_, err := d.Issue(ctx, issuer.Request{Type: "household-register", Claims: map[string]any{"name": "x"}, Holder: holderKey(t)})
	var na *issuer.NotAuthorisedError
	if !errors.As(err, &na) || !errors.Is(err, issuer.ErrNotAuthorised) || na.Issuers[0] != "public-security" {
		t.Fatalf("%v", err)
	}
	if _, err := d.Issue(ctx, issuer.Request{Type: "no-such-type", Holder: holderKey(t)}); !errors.Is(err, issuer.ErrUnknownType) {
		t.Fatal(err)
	}
	if _, err := d.CreateOffer(ctx, issuer.Request{Type: "household-register"}, 0); !errors.Is(err, issuer.ErrNotAuthorised) {
		t.Fatal(err)
	}
	if n, _ := d.CountRecords(ctx); n != 0 {
		t.Fatal(n)
	}
}

func TestValidation(t *testing.T) {
	ctx := context.Background()
	d, _, clk, _ := setup(t, "civil-affairs")
	c := marriage()
	delete(c, "spouse_name")
	c["registration_date"] = "2018-02-30"
	c["favourite_colour"] = "blue"
	c["registry"] = 42.0
	_, err := d.Issue(ctx, issuer.Request{Type: "marriage-certificate", Claims: c, Holder: holderKey(t)})
	var ve *issuer.ValidationError
	if !errors.As(err, &ve) {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range ve.Fields {
		got[f.Field] = f.Code
		if f.Zh == "" || f.En == "" {
			t.Fatalf("%+v", f)
		}
	}
	want := map[string]string{"spouse_name": "required", "registration_date": "type_date", "favourite_colour": "unknown", "registry": "type_string"}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("field %s: %q, want %q (%v)", k, got[k], v, ve)
		}
	}
	if strings.Contains(err.Error(), "blue") {
		t.Fatal("error repeats a value")
	}
	// Validity over the cap.
	_, err = d.Issue(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriage(), Holder: holderKey(t),
		ValidUntil: clk.now().AddDate(0, 0, 36501)})
	if !errors.As(err, &ve) || ve.Fields[0].Field != "valid_until" {
		t.Fatal(err)
	}
	if n, _ := d.CountRecords(ctx); n != 0 {
		t.Fatal(n)
	}
	// Types: number and boolean from strings and values.
	ty := &ledger.CredentialType{ID: "x", Claims: []ledger.Claim{{Name: "n", Type: "number", Required: true}, {Name: "b", Type: "boolean"}, {Name: "d", Type: "date"}}}
	out, err := issuer.ValidateClaims(ty, map[string]any{"n": "12", "b": "true", "d": "2024-01-31"})
	if err != nil || out["n"] != int64(12) || out["b"] != true {
		t.Fatal(out, err)
	}
	if _, err := issuer.ValidateClaims(ty, map[string]any{"n": "x", "b": "maybe", "d": "2024-1-31"}); err == nil || len(err.(*issuer.ValidationError).Fields) != 3 {
		t.Fatal(err)
	}
}

func TestStatusChanges(t *testing.T) {
	ctx := context.Background()
	d, l, _, _ := setup(t, "civil-affairs")
	is, err := d.Issue(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriage(), Holder: holderKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	status := func() int {
		b, _ := l.StatusList(ctx, "civil-affairs", 0)
		s, err := ledger.StatusAt(b, is.Record.StatusIndex)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	steps := []struct {
		f     func(context.Context, string) (*issuer.Record, *ledgerclient.TxResult, error)
		state string
		value int
	}{
		{d.Suspend, issuer.StateSuspended, ledger.StatusSuspended},
		{d.Resume, issuer.StateValid, ledger.StatusValid},
		{d.Revoke, issuer.StateRevoked, ledger.StatusRevoked},
	}
	for _, s := range steps {
		r, _, err := s.f(ctx, is.Record.ID)
		if err != nil || r.State != s.state || status() != s.value {
			t.Fatalf("%s: %+v %v %d", s.state, r, err, status())
		}
	}
	if _, _, err := d.Resume(ctx, is.Record.ID); !errors.Is(err, issuer.ErrBadTransition) {
		t.Fatal(err)
	}
	if _, _, err := d.Suspend(ctx, "nope"); !errors.Is(err, issuer.ErrRecordNotFound) {
		t.Fatal(err)
	}
	// A ledger failure leaves the record unchanged.
	is2, _ := d.Issue(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriage(), Holder: holderKey(t)})
	l.FailStatus = ledgerclient.ErrTxNotConfirmed
	if _, _, err := d.Revoke(ctx, is2.Record.ID); err == nil {
		t.Fatal("revoked without the ledger")
	}
	if r, _ := d.Record(ctx, is2.Record.ID); r.State != issuer.StateValid {
		t.Fatal(r.State)
	}
}

func TestIndicesNeverReused(t *testing.T) {
	ctx := context.Background()
	d, l, clk, dbp := setup(t, "civil-affairs")
	seen := map[int]bool{}
	for i := 0; i < 20; i++ {
		is, err := d.Issue(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriage(), Holder: holderKey(t)})
		if err != nil {
			t.Fatal(err)
		}
		seen[is.Record.StatusIndex] = true
	}
	d.Close()
	d2, err := issuer.Open(ctx, issuer.Config{ID: "civil-affairs", Signer: l.Signer("civil-affairs"), Ledger: l, DBPath: dbp, Sealer: testSealer("civil-affairs"), Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	for i := 0; i < 20; i++ {
		is, err := d2.Issue(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriage(), Holder: holderKey(t)})
		if err != nil {
			t.Fatal(err)
		}
		if seen[is.Record.StatusIndex] {
			t.Fatalf("index %d reused", is.Record.StatusIndex)
		}
		seen[is.Record.StatusIndex] = true
	}
	rs, err := d2.Records(ctx, issuer.ListFilter{})
	if err != nil || len(rs) != 40 {
		t.Fatal(len(rs), err)
	}
}

func TestWrongKey(t *testing.T) {
	clk := newClock(time.Now())
	l, _ := issuertest.New(clk.now().Add(-time.Hour))
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	_, err := issuer.Open(context.Background(), issuer.Config{ID: "civil-affairs", Signer: jws.NewEd25519Signer(k), Ledger: l, DBPath: filepath.Join(t.TempDir(), "x.db"), Sealer: testSealer("x")})
	if !errors.Is(err, issuer.ErrKeyNotOnLedger) {
		t.Fatal(err)
	}
	// Another department's key.
	_, err = issuer.Open(context.Background(), issuer.Config{ID: "civil-affairs", Signer: l.Signer("public-security"), Ledger: l, DBPath: filepath.Join(t.TempDir(), "y.db"), Sealer: testSealer("y")})
	if !errors.Is(err, issuer.ErrKeyNotOnLedger) {
		t.Fatal(err)
	}
}

func TestOffers(t *testing.T) {
	ctx := context.Background()
	d, _, clk, _ := setup(t, "civil-affairs")
	o, err := d.CreateOffer(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriage()}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.PIN) != 6 {
		t.Fatal(o.PIN)
	}
	wrong := "000000"
	if o.PIN == wrong {
		wrong = "111111"
	}
	if _, err := d.RedeemOffer(ctx, o.Code, wrong, 3); !errors.Is(err, issuer.ErrWrongPIN) {
		t.Fatal(err)
	}
	if _, err := d.RedeemOffer(ctx, "bogus", o.PIN, 3); !errors.Is(err, issuer.ErrOfferUnknown) {
		t.Fatal(err)
	}
	r, err := d.RedeemOffer(ctx, o.Code, o.PIN, 3)
	if err != nil || r.OfferID != o.ID || r.Type != "marriage-certificate" {
		t.Fatal(r, err)
	}
	if _, err := d.RedeemOffer(ctx, o.Code, o.PIN, 3); !errors.Is(err, issuer.ErrOfferUsed) {
		t.Fatal(err)
	}
	is, err := d.IssueOffer(ctx, o.ID, holderKey(t))
	if err != nil || is.Record.OfferID != o.ID {
		t.Fatal(err)
	}
	if _, err := d.IssueOffer(ctx, o.ID, holderKey(t)); !errors.Is(err, issuer.ErrOfferUsed) {
		t.Fatal(err)
	}
	// Lockout.
	o2, _ := d.CreateOffer(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriage()}, time.Minute)
	wrong = "000000"
	if o2.PIN == wrong {
		wrong = "111111"
	}
	for i := 0; i < 2; i++ {
		if _, err := d.RedeemOffer(ctx, o2.Code, wrong, 3); !errors.Is(err, issuer.ErrWrongPIN) {
			t.Fatal(err)
		}
	}
	if _, err := d.RedeemOffer(ctx, o2.Code, wrong, 3); !errors.Is(err, issuer.ErrOfferBurned) {
		t.Fatal(err)
	}
	if _, err := d.RedeemOffer(ctx, o2.Code, o2.PIN, 3); !errors.Is(err, issuer.ErrOfferBurned) {
		t.Fatal(err)
	}
	// Expiry.
	o3, _ := d.CreateOffer(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriage()}, time.Minute)
	clk.add(time.Minute)
	if _, err := d.RedeemOffer(ctx, o3.Code, o3.PIN, 3); !errors.Is(err, issuer.ErrOfferExpired) {
		t.Fatal(err)
	}
	if n, _ := d.CountRecords(ctx); n != 1 {
		t.Fatal(n)
	}
}

// TestRedeemAgain: an offer redeemed with a resume key can be redeemed again with the same
// key, code and PIN while nothing was issued from it, until RedeemedTTL after its expiry;
// never with another key, never after issuance (issue 16.3). A database made before resume
// keys existed is migrated on open.
func TestRedeemAgain(t *testing.T) {
	ctx := context.Background()
	d, l, clk, dbp := setup(t, "civil-affairs")
	d.Close()
	db, err := sql.Open("sqlite", dbp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`ALTER TABLE offers DROP COLUMN resume_hash`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	d, err = issuer.Open(ctx, issuer.Config{ID: "civil-affairs", Signer: l.Signer("civil-affairs"), Ledger: l, DBPath: dbp, Sealer: testSealer("civil-affairs"), Now: clk.now})
	if err != nil {
		t.Fatal("open a database without resume_hash:", err)
	}
	defer d.Close()
	const key = "wallet-resume-key-0001"
	o, _ := d.CreateOffer(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriage()}, time.Minute)
	if r, err := d.RedeemOfferResumable(ctx, o.Code, o.PIN, key, 3); err != nil || r.Again {
		t.Fatal(r, err)
	}
	for _, k := range []string{"", "another-resume-key-01"} {
		if _, err := d.RedeemOfferResumable(ctx, o.Code, o.PIN, k, 3); !errors.Is(err, issuer.ErrOfferUsed) {
			t.Fatalf("key %q: %v", k, err)
		}
	}
	if _, err := d.RedeemOfferResumable(ctx, o.Code, o.PIN, "short", 3); !errors.Is(err, issuer.ErrBadResumeKey) {
		t.Fatal(err)
	}
	clk.add(time.Minute + issuer.RedeemedTTL/2) // past the offer's expiry, within RedeemedTTL
	if r, err := d.RedeemOfferResumable(ctx, o.Code, o.PIN, key, 3); err != nil || !r.Again || r.OfferID != o.ID {
		t.Fatal(r, err)
	}
	if _, err := d.IssueOffer(ctx, o.ID, holderKey(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.RedeemOfferResumable(ctx, o.Code, o.PIN, key, 3); !errors.Is(err, issuer.ErrOfferUsed) {
		t.Fatal("redeemed again after issuance:", err)
	}
	// Past RedeemedTTL: expired.
	o2, _ := d.CreateOffer(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriage()}, time.Minute)
	if _, err := d.RedeemOfferResumable(ctx, o2.Code, o2.PIN, key, 3); err != nil {
		t.Fatal(err)
	}
	clk.add(time.Minute + issuer.RedeemedTTL)
	if _, err := d.RedeemOfferResumable(ctx, o2.Code, o2.PIN, key, 3); !errors.Is(err, issuer.ErrOfferExpired) {
		t.Fatal(err)
	}
}
