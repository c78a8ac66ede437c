package issuer_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"lianzheng/issuer"
)

// TestGroupCommit: 48 concurrent single issuances and 12 offers each redeemed by two racing
// requests. Every plain issuance succeeds, exactly one request per offer gets the credential
// and the other ErrOfferUsed (when both reach the same group, the loser's savepoint is rolled
// back alone), every record is there once with its own status index, and the commits were
// grouped (fewer transactions than issuances). Reopened, the department has the same records.
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	d, _, _, _ := setup(t, "civil-affairs")
	const plain, offers = 48, 12
	var os []*issuer.Offer
	for range offers {
		o, err := d.CreateOffer(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriage()}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.RedeemOffer(ctx, o.Code, o.PIN, 3); err != nil {
			t.Fatal(err)
		}
		os = append(os, o)
	}
	before := d.CommitGroups()
	var wg sync.WaitGroup
	plainErr := make(chan error, plain)
	offerWon := make([]chan bool, offers)
	start := make(chan struct{})
	for range plain {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := d.Issue(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriage(), Holder: holderKey(t)})
			plainErr <- err
		}()
	}
	for i, o := range os {
		offerWon[i] = make(chan bool, 2)
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := d.IssueOffer(ctx, o.ID, holderKey(t))
				switch {
				case err == nil:
					offerWon[i] <- true
				case errors.Is(err, issuer.ErrOfferUsed):
					offerWon[i] <- false
				default:
					t.Errorf("offer %d: %v", i, err)
					offerWon[i] <- false
				}
			}()
		}
	}
	close(start)
	wg.Wait()
	close(plainErr)
	for err := range plainErr {
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range offerWon {
		if a, b := <-c, <-c; a == b {
			t.Errorf("offer %d: won %v and %v (want exactly one)", i, a, b)
		}
	}
	groups := d.CommitGroups() - before
	if total := plain + offers; groups >= total {
		t.Errorf("%d transactions for %d issuances: not grouped", groups, total)
	}
	t.Logf("%d issuances in %d transactions", plain+offers, groups)
	recs, err := d.Records(ctx, issuer.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != plain+offers {
		t.Fatalf("%d records, want %d", len(recs), plain+offers)
	}
	seen := map[[2]int]bool{}
	for _, r := range recs {
		k := [2]int{r.StatusList, r.StatusIndex}
		if seen[k] {
			t.Fatalf("status entry %v used twice", k)
		}
		seen[k] = true
	}
}
