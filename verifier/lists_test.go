package verifier

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"lianzheng/credential/sdjwtcbor"
	"lianzheng/credential/wire"
	"lianzheng/ledger"
	"lianzheng/ledgerclient"
	"lianzheng/qr"
)

// TestStatusListsBeyondOne: a department past its first two status lists (issuer/lists.go
// opens list 5 on the ledger before its first credential there) issues on list 5; a wallet
// names that list in its compact answer by a short reference (its dictionary holds the
// credential's own status URI, as wallet.Known makes it). The window's dictionary — online
// and from a snapshot — holds list 5 (and 6, the next one), so the answer decodes and
// verifies, and the window reads the entry from list 5: revoked there, refused. Until
// December 2026 the window knew only lists 0 and 1 (and, offline, the snapshot's URNs):
// "unknown reference".
func TestStatusListsBeyondOne(t *testing.T) {
	n := sharedNet(t)
	ctx := context.Background()
	k := n.keys["public-security"]
	ps := ledgerclient.Signer{KeyID: k.KeyID, Key: k.PrivateKey()}
	if _, err := n.client.StatusSet(ctx, ps, 5, ledger.StatusUpdate{Index: 0, Value: ledger.StatusValid}); err != nil { // opened
		t.Fatal(err)
	}
	online := NewOnlineTrust(n.client, time.Minute)
	view, err := online.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := view.StatusLists("public-security"); !slices.Equal(got, []int{0, 1, 5, 6}) {
		t.Fatalf("lists in the dictionary: %v", got)
	}
	snap := n.snapshot(t, filepath.Join(t.TempDir(), "trust.snapshot"))
	uri := ledger.StatusListURI("public-security", 5)
	for _, tc := range []struct {
		name  string
		trust Trust
	}{{"online", online}, {"snapshot", snap}} {
		t.Run(tc.name, func(t *testing.T) {
			v := n.newVerifier(t, tc.trust, nil, nil)
			h := n.issue(t, "household-register", issueOpt{statusURI: uri})
			hm := n.issue(t, "marriage-certificate", issueOpt{})
			r, err := v.NewRequest(ctx, "property-transfer")
			if err != nil {
				t.Fatal(err)
			}
			no, a := r.Request.NonceString(), r.Request.Audience()
			texts := []string{h.present(t, no, a), hm.present(t, no, a)}
			// the wallet's dictionary: the window, and per credential its issuer, kid, status
			// list, vct and claim names (what wallet.Known builds)
			cur, _ := tc.trust.Current(ctx)
			var parties []wire.KnownParty
			var kts []wire.KnownType
			parties = append(parties, wire.KnownParty{DID: window})
			for _, x := range []struct{ member, typ, list string }{{"public-security", "household-register", uri},
				{"civil-affairs", "marriage-certificate", ledger.StatusListURI("civil-affairs", 0)}} {
				p := wire.KnownParty{DID: "did:lz:" + x.member, StatusLists: []string{x.list}}
				if res, err := cur.Resolve(ctx, p.DID); err == nil {
					for _, kr := range res.History.Keys {
						p.KeyIDs = append(p.KeyIDs, p.DID+"#"+kr.ID)
					}
				}
				ty, _ := cur.Type(x.typ)
				kt := wire.KnownType{VCT: ty.VCT}
				for _, c := range ty.Claims {
					kt.Claims = append(kt.Claims, c.Name)
				}
				parties, kts = append(parties, p), append(kts, kt)
			}
			body, err := sdjwtcbor.Encode(texts, &sdjwtcbor.Context{Nonce: no, Audience: a, Known: wire.Known(parties, kts)})
			if err != nil {
				t.Fatal(err)
			}
			if vd := v.Verify(ctx, qr.Encode("LZ1R", body)); !vd.OK {
				t.Fatalf("%s: %s", vd.Code, vd.Detail)
			}
		})
	}
	// Revoked on list 5: the window reads list 5 (a fresh online view).
	h := n.issue(t, "household-register", issueOpt{statusURI: uri})
	if _, err := n.client.StatusSet(ctx, ps, 5, ledger.StatusUpdate{Index: h.index, Value: ledger.StatusRevoked}); err != nil {
		t.Fatal(err)
	}
	v := n.newVerifier(t, NewOnlineTrust(n.client, time.Minute), nil, nil)
	r, err := v.NewRequest(ctx, "property-transfer")
	if err != nil {
		t.Fatal(err)
	}
	no, a := r.Request.NonceString(), r.Request.Audience()
	if vd := v.Verify(ctx, answer(t, v, r, h.present(t, no, a), n.issue(t, "marriage-certificate", issueOpt{}).present(t, no, a))); vd.OK || vd.Code != "revoked" {
		t.Fatalf("revoked on list 5: %v %s", vd.OK, vd.Code)
	}
}

// TestListNumbers: lists 0 and 1, those in use, and the one after the highest.
func TestListNumbers(t *testing.T) {
	for _, tc := range []struct {
		in, want []int
	}{
		{nil, []int{0, 1}},
		{[]int{0}, []int{0, 1}},
		{[]int{1}, []int{0, 1, 2}},
		{[]int{0, 0, 3, 1}, []int{0, 1, 3, 4}},
		{[]int{-1, ledger.MaxStatusLists, 7}, []int{0, 1, 7, 8}},
		{[]int{ledger.MaxStatusLists - 1}, []int{0, 1, ledger.MaxStatusLists - 1}},
	} {
		if got := listNumbers(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("listNumbers(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if got := snapshotLists([]string{"urn:lz:status:public-security:5", "urn:lz:status:public-security:0", "bad"}); !slices.Equal(got["public-security"], []int{5, 0}) {
		t.Errorf("snapshotLists: %v", got)
	}
}
