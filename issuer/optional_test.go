package issuer_test

import (
	"context"
	"crypto/ed25519"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"lianzheng/credential/dataintegrity"
	"lianzheng/credential/sdjwtvc"
	"lianzheng/did"
	"lianzheng/issuer"
	"lianzheng/issuer/issuertest"
	"lianzheng/ledger"
)

// TestOptionalFieldsEmpty (issue 14.1): for every catalogue type, a credential with each of
// its optional fields left empty (and with all of them empty) is issued — directly, through
// an offer (created, redeemed, issued as the OpenID4VCI service does) and through a batch
// with and without holder keys — in both forms, and the empty field is simply not in it:
// no disclosure or digest in the SD-JWT VC, no member of the W3C credentialSubject. Before
// the fix the SD-JWT issuer refused ("disclosable claim ... is absent") at redemption.
func TestOptionalFieldsEmpty(t *testing.T) {
	ctx := context.Background()
	l0, err := issuertest.New(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	types, _ := l0.Types(ctx)
	optional := 0
	for _, typ := range types {
		optional += len(issuertest.Optional(typ))
		t.Run(typ.ID, func(t *testing.T) {
			d, l, clk, _ := setup(t, typ.Issuers[0])
			check := func(t *testing.T, is *issuer.Issued, empty []string) {
				t.Helper()
				want := issuertest.SampleClaims(typ, empty...)
				v, err := sdjwtvc.Verify(is.SDJWT, sdjwtvc.VerifyOptions{IssuerKeyAt: keyAt(l), AllowNoKB: true, Now: clk.now()})
				if err != nil {
					t.Fatal(err)
				}
				if len(v.Disclosed) != len(want) || len(v.Claims) != len(want) {
					t.Fatalf("disclosed %v, claims %v; want %d claims", v.Disclosed, v.Claims, len(want))
				}
				for k, val := range want {
					if v.Claims[k] != val {
						t.Fatalf("%s = %v, want %v", k, v.Claims[k], val)
					}
				}
				for _, e := range empty {
					if _, ok := v.Claims[e]; ok || slices.Contains(v.Disclosed, e) {
						t.Fatalf("empty field %s issued", e)
					}
				}
				_, err = dataintegrity.Verify(is.W3C, func(vm string) (ed25519.PublicKey, error) {
					k, err := did.AssertionKeyAt(ctx, l, vm, clk.now())
					pk, _ := k.Key.(ed25519.PublicKey)
					return pk, err
				})
				if err != nil {
					t.Fatalf("W3C VC: %v", err)
				}
				cs, _ := is.W3C["credentialSubject"].(map[string]any)
				for _, e := range empty {
					if _, ok := cs[e]; ok {
						t.Fatalf("empty field %s in the W3C credentialSubject", e)
					}
				}
				if len(cs) != len(want)+1 { // + id
					t.Fatalf("credentialSubject %v", cs)
				}
			}
			for _, empty := range issuertest.EmptyCases(typ) {
				name := "none-empty"
				if len(empty) > 0 {
					name = strings.Join(empty, "+") + "-empty"
				}
				t.Run(name, func(t *testing.T) {
					claims := issuertest.SampleClaims(typ, empty...)
					for _, e := range empty {
						claims[e] = "  " // a form's blank field
					}
					// directly
					is, err := d.Issue(ctx, issuer.Request{Type: typ.ID, Claims: claims, Holder: holderKey(t)})
					if err != nil {
						t.Fatalf("issue: %v", err)
					}
					check(t, is, empty)
					// through an offer, as the OpenID4VCI service redeems it
					o, err := d.CreateOffer(ctx, issuer.Request{Type: typ.ID, Claims: claims}, 0)
					if err != nil {
						t.Fatalf("offer: %v", err)
					}
					r, err := d.RedeemOffer(ctx, o.Code, o.PIN, 0)
					if err != nil {
						t.Fatal(err)
					}
					if is, err = d.IssueOffer(ctx, r.OfferID, holderKey(t)); err != nil {
						t.Fatalf("offer redeemed: %v (kind %s)", err, issuer.Kind(err))
					}
					check(t, is, empty)
					// a batch with holder keys, and one making offers
					for _, withHolder := range []bool{true, false} {
						rows, err := issuer.ReadCSV(strings.NewReader(batchCSV(t, typ, empty, 3, withHolder)))
						if err != nil {
							t.Fatal(err)
						}
						res, err := d.BatchWith(ctx, typ.ID, rows, issuer.BatchOptions{})
						if err != nil {
							t.Fatalf("batch (holder %v): %v %+v", withHolder, err, res)
						}
						if withHolder {
							if len(res.Issued) != 3 {
								t.Fatalf("%d issued", len(res.Issued))
							}
							for _, is := range res.Issued {
								check(t, is, empty)
							}
							continue
						}
						if len(res.Offers) != 3 {
							t.Fatalf("%d offers", len(res.Offers))
						}
						for _, o := range res.Offers {
							r, err := d.RedeemOffer(ctx, o.Code, o.PIN, 0)
							if err != nil {
								t.Fatal(err)
							}
							is, err := d.IssueOffer(ctx, r.OfferID, holderKey(t))
							if err != nil {
								t.Fatalf("batch offer redeemed: %v", err)
							}
							check(t, is, empty)
						}
					}
				})
			}
		})
	}
	if optional == 0 {
		t.Fatal("the catalogue has no optional field: the test tests nothing")
	}
}

// batchCSV is n rows of type t's sample claims, the fields in empty left as empty cells.
func batchCSV(t *testing.T, typ ledger.CredentialType, empty []string, n int, holder bool) string {
	t.Helper()
	var b strings.Builder
	w := csv.NewWriter(&b)
	var head []string
	for _, c := range typ.Claims {
		head = append(head, c.Name)
	}
	if holder {
		head = append(head, issuer.HolderColumn)
	}
	w.Write(head)
	for i := 0; i < n; i++ {
		var row []string
		for _, c := range typ.Claims {
			v := issuertest.SampleValue(c)
			if slices.Contains(empty, c.Name) {
				v = ""
			}
			row = append(row, v)
		}
		if holder {
			row = append(row, holderKey(t).DIDKey())
		}
		w.Write(row)
	}
	w.Flush()
	return b.String()
}

// TestKind: every cause of a failed issuance has its word for the logs, found through
// wrapping; an error the issuer does not know is "internal".
func TestKind(t *testing.T) {
	for want, err := range map[string]error{
		"validation":       fmt.Errorf("x: %w", &issuer.ValidationError{Type: "t"}),
		"not_authorised":   &issuer.NotAuthorisedError{Department: "a", Type: "b"},
		"unknown_type":     fmt.Errorf("%w: %q", issuer.ErrUnknownType, "x"),
		"offer_unknown":    &issuer.RedeemError{Err: issuer.ErrOfferUnknown},
		"offer_used":       issuer.ErrOfferUsed,
		"wrong_pin":        &issuer.RedeemError{Err: issuer.ErrWrongPIN},
		"catalogue":        fmt.Errorf("%w: %w", issuer.ErrCatalogue, errors.New("rpc")),
		"status_list_full": issuer.ErrStatusListFull,
		"sign_sd_jwt":      fmt.Errorf("%w: %w", issuer.ErrSignSDJWT, errors.New("sdjwt")),
		"sign_w3c":         issuer.ErrSignW3C,
		"records":          fmt.Errorf("%w: commit: %w", issuer.ErrRecords, errors.New("disk I/O error")),
		"canceled":         fmt.Errorf("%w: %w", issuer.ErrRecords, context.Canceled),
		"internal":         errors.New("something else"),
	} {
		if got := issuer.Kind(err); got != want {
			t.Errorf("Kind(%v) = %s, want %s", err, got, want)
		}
	}
	if issuer.Kind(nil) != "" {
		t.Error("Kind(nil)")
	}
}
