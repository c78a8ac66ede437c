package wallet

import (
	"context"
	"errors"
	"lianzheng/credential"
	"testing"
	"time"

	"lianzheng/credential/jws"
	"lianzheng/credential/sdjwtvc"
	"lianzheng/did"
	"lianzheng/ledger"
)

// TestExpiredAtOnce: a credential whose exp has passed counts as expired at once on the
// wallet side — refused when received, listed expired, not presented — although sdjwt
// verification tolerates 5 minutes of clock skew at exp (issue 16.9). Each case sits inside
// that skew: the old wallet accepted, listed or presented all of them.
func TestExpiredAtOnce(t *testing.T) {
	e := ledgerEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	w := newTestWallet(t, e.cl)
	start := time.Now()
	clock := start
	w.Now = func() time.Time { return clock }
	ca := e.keys["civil-affairs"]
	issue := func(exp time.Time) (string, string) {
		t.Helper()
		kid, err := w.Keys.NewEd25519()
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := w.Keys.Public(kid)
		hp, _ := did.NewPublicKey(pub)
		var disc []string
		for k := range marriageClaims {
			disc = append(disc, k)
		}
		sd, err := sdjwtvc.Issue(sdjwtvc.Credential{Issuer: ca.DID, KeyID: ca.KeyID, VCT: "urn:lz:vct:marriage-certificate",
			IssuedAt: start.Add(-time.Minute), Expires: exp, Claims: marriageClaims, Disclosable: disc, Holder: hp,
			Status: &sdjwtvc.Status{Index: 77, URI: ledger.StatusListURI(ca.ID, 0)}}, jws.NewEd25519Signer(ca.PrivateKey()))
		if err != nil {
			t.Fatal(err)
		}
		return sd.String(), kid
	}
	exp := start.Add(2 * time.Minute).Truncate(time.Second)

	// Receiving: one second past exp is refused as expired.
	clock = exp.Add(time.Second)
	text, kid := issue(exp)
	var ref *Refusal
	if _, err := w.Accept(ctx, e.cl, text, kid); !errors.As(err, &ref) || ref.Code != credential.CodeExpired {
		t.Fatalf("a credential 1 s past exp was accepted: %v", err)
	}
	clock = exp.Add(-time.Minute)
	c, err := w.Accept(ctx, e.cl, text, kid)
	if err != nil {
		t.Fatal(err)
	}
	items, _ := w.List(ctx)
	if len(items) != 1 || items[0].Status != StatusValid {
		t.Fatalf("%+v", items)
	}

	// Presenting: planned while valid, the consent screen left open past exp.
	reqText, _ := windowRequest(t, e, nil)
	plan, err := w.PlanRequest(ctx, reqText)
	if err != nil {
		t.Fatal(err)
	}
	clock = exp
	if _, err := w.Present(ctx, plan, nil); !errors.As(err, &ref) || ref.Code != credential.CodeNothingToPresent {
		t.Fatalf("presented at exp: %v", err)
	}
	if _, err := w.PresentOneWay(ctx, map[string][]string{c.ID: {"holder_name"}}); !errors.As(err, &ref) || ref.Code != credential.CodeNothingToPresent {
		t.Fatalf("one-way at exp: %v", err)
	}

	// Listing, detail, status: expired at exp.
	items, _ = w.List(ctx)
	if items[0].Status != StatusExpired {
		t.Fatalf("listed %s at exp", items[0].Status)
	}
	if st, err := w.CheckStatus(ctx, c); st != StatusExpired || err != nil {
		t.Fatal(st, err)
	}
	if d, err := w.Detail(ctx, c.ID); err != nil || d.Status != StatusExpired {
		t.Fatal(err, d.Status)
	}
	plan, err = w.PlanRequest(ctx, reqText)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range plan.Asks {
		if a.Chosen != "" {
			t.Fatalf("an expired credential chosen for %s", a.Type)
		}
	}
}
