package wallet

import (
	"context"
	"errors"
	"testing"
	"time"

	"lianzheng/ledger"
	"lianzheng/ledgerclient"
)

// TestRecognisedIn: the question is asked of the home ledger online — a wallet on a trust
// snapshot (any ledger view but the online client) is told so, and an unknown credential is
// not found; on the demo ledger, which recognises no region yet, a held household register
// is recognised nowhere else and no other region is dialled. (Which regions are listed when
// agreements exist both ways is ledgerclient's TestRecognisedIn, with two chains.)
func TestRecognisedIn(t *testing.T) {
	e := ledgerEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w := newTestWallet(t, e.cl)
	c := &Credential{ID: "c1", Type: "household-register", VCT: "urn:lz:vct:household-register", Issuer: "did:lz:public-security",
		Received: time.Now(), IssuedAt: time.Now()}
	if err := w.Store.PutCredential(c); err != nil {
		t.Fatal(err)
	}
	dialled := 0
	open := func(*ledger.Recognition) (*ledgerclient.Client, error) { dialled++; return nil, errors.New("no") }
	got, err := w.RecognisedIn(ctx, "c1", open)
	if err != nil || len(got) != 0 || dialled != 0 {
		t.Fatalf("on a ledger with no agreements: %+v %v (%d regions dialled)", got, err, dialled)
	}
	if _, err := w.RecognisedIn(ctx, "nope", open); err == nil {
		t.Fatal("an unknown credential")
	}
	w.Ledger = offlineView{e.cl}
	if _, err := w.RecognisedIn(ctx, "c1", open); !errors.Is(err, ErrNeedsOnlineLedger) {
		t.Fatalf("offline: %v", err)
	}
}

// offlineView is a ledger view that is not the online client (a snapshot, say).
type offlineView struct{ ledgerclient.TrustView }
