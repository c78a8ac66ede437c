package issuer_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"lianzheng/did"
	"lianzheng/issuer"
)

func marriageCSV(n int, holder bool, bad map[int]string) string {
	var b strings.Builder
	b.WriteString("\ufeffholder_name,spouse_name,spouse_id_number,registration_date,certificate_number,registry")
	if holder {
		b.WriteString(",holder")
	}
	b.WriteString("\n")
	for i := 0; i < n; i++ {
		date := "2018-05-20"
		if v, ok := bad[i+1]; ok {
			date = v
		}
		fmt.Fprintf(&b, "测试用户%d,测试配偶%d,TEST%014d,%s,TEST-J-%06d,\"示例市民政局婚姻登记处, 一处\"", i, i, i, date, i)
		if holder {
			_, k, _ := ed25519.GenerateKey(rand.Reader)
			b.WriteString("," + did.KeyFromEd25519(k.Public().(ed25519.PublicKey)))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestBatch(t *testing.T) {
	ctx := context.Background()
	d, _, _, _ := setup(t, "civil-affairs")
	// Two bad rows: nothing issued, both reported.
	rows, err := issuer.ReadCSV(strings.NewReader(marriageCSV(50, true, map[int]string{7: "2018-13-01", 42: ""})))
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.Batch(ctx, "marriage-certificate", rows, 0)
	if !errors.Is(err, issuer.ErrBatchInvalid) || len(res.Errors) != 2 || res.Errors[0].Row != 7 || res.Errors[1].Row != 42 ||
		res.Errors[0].Fields[0].Code != "type_date" || res.Errors[1].Fields[0].Code != "required" {
		t.Fatalf("%v %+v", err, res)
	}
	if n, _ := d.CountRecords(ctx); n != 0 {
		t.Fatal(n)
	}
	// A bad holder key.
	rows[6].Claims["registration_date"], rows[41].Claims["registration_date"] = "2018-05-20", "2018-05-20"
	rows[3].Holder = "did:key:zBAD"
	if res, err := d.Batch(ctx, "marriage-certificate", rows, 0); !errors.Is(err, issuer.ErrBatchInvalid) || res.Errors[0].Fields[0].Field != "holder" {
		t.Fatal(err)
	}
	rows, _ = issuer.ReadCSV(strings.NewReader(marriageCSV(50, true, nil)))
	res, err = d.Batch(ctx, "marriage-certificate", rows, 0)
	if err != nil || len(res.Issued) != 50 {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, is := range res.Issued {
		seen[is.Record.StatusIndex] = true
	}
	if n, _ := d.CountRecords(ctx); n != 50 || len(seen) != 50 {
		t.Fatal(n, len(seen))
	}
	// Without holders: offers.
	rows, _ = issuer.ReadCSV(strings.NewReader(marriageCSV(5, false, nil)))
	res, err = d.Batch(ctx, "marriage-certificate", rows, 0)
	if err != nil || len(res.Offers) != 5 || res.Offers[4].PIN == "" {
		t.Fatal(err)
	}
	// Not authorised: nothing.
	if _, err := d.Batch(ctx, "household-register", rows, 0); !errors.Is(err, issuer.ErrNotAuthorised) {
		t.Fatal(err)
	}
	// Malformed CSV.
	if _, err := issuer.ReadCSV(strings.NewReader("a,a\n1,2\n")); err == nil {
		t.Fatal("repeated column")
	}
	if _, err := issuer.ReadCSV(strings.NewReader("a,b\n1\n")); err == nil {
		t.Fatal("short row")
	}
}

// TestBatchProgress: progress rises monotonically from 0, one step per row validated and one
// per row issued, and reaches total only when the batch is issued; with invalid rows it stops
// half way and nothing is issued.
func TestBatchProgress(t *testing.T) {
	ctx := context.Background()
	d, _, _, _ := setup(t, "civil-affairs")
	issued := 0
	for _, tc := range []struct {
		name    string
		rows    int
		holder  bool
		bad     map[int]string
		wantErr error
		issued  int // records or offers expected
	}{
		{"offers", 12, false, nil, nil, 12},
		{"credentials", 7, true, nil, nil, 7},
		{"one row", 1, false, nil, nil, 1},
		{"bad rows", 9, true, map[int]string{2: "2018-02-30", 9: "x"}, issuer.ErrBatchInvalid, 0},
		{"bad offers", 5, false, map[int]string{1: ""}, issuer.ErrBatchInvalid, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := issuer.ReadCSV(strings.NewReader(marriageCSV(tc.rows, tc.holder, tc.bad)))
			if err != nil {
				t.Fatal(err)
			}
			var calls [][2]int
			res, err := d.BatchWith(ctx, "marriage-certificate", rows, issuer.BatchOptions{
				Progress: func(done, total int) { calls = append(calls, [2]int{done, total}) }})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			total := 2 * tc.rows
			if len(calls) == 0 || calls[0] != [2]int{0, total} {
				t.Fatalf("first call %v", calls)
			}
			for i, c := range calls {
				if c[1] != total || c[0] < 0 || c[0] > total || (i > 0 && c[0] < calls[i-1][0]) {
					t.Fatalf("call %d: %v (all: %v)", i, c, calls)
				}
			}
			last := calls[len(calls)-1][0]
			if tc.wantErr == nil {
				if last != total || len(res.Issued)+len(res.Offers) != tc.issued {
					t.Fatalf("last %d/%d, %d issued, %d offers", last, total, len(res.Issued), len(res.Offers))
				}
				// the issuing half moves per credential or offer: every step up to total-1 is seen
				seen := map[int]bool{}
				for _, c := range calls {
					seen[c[0]] = true
				}
				for k := tc.rows; k < total; k++ {
					if !seen[k] {
						t.Fatalf("issuing progress skips %d of %d (calls %v)", k, total, calls)
					}
				}
			} else if last != tc.rows || len(res.Errors) != len(tc.bad) {
				t.Fatalf("invalid batch: progress ends at %d of %d, %d row errors", last, total, len(res.Errors))
			}
			if tc.holder {
				issued += tc.issued
			}
			if n, _ := d.CountRecords(ctx); n != issued {
				t.Fatalf("%d records, want %d", n, issued)
			}
		})
	}
	// Cancelled: nothing issued, no progress past validation.
	c, cancel := context.WithCancel(ctx)
	rows, _ := issuer.ReadCSV(strings.NewReader(marriageCSV(4, true, nil)))
	n := 0
	_, err := d.BatchWith(c, "marriage-certificate", rows, issuer.BatchOptions{Progress: func(done, total int) {
		if n++; done == 2 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || n != 3 {
		t.Fatalf("cancelled: %v after %d calls", err, n)
	}
	if got, _ := d.CountRecords(ctx); got != issued {
		t.Fatal(got)
	}
}

// TestWriteBatchCSV: the result CSV, exactly.
func TestWriteBatchCSV(t *testing.T) {
	uri := func(o *issuer.Offer) string { return "openid-credential-offer://?id=" + o.ID }
	for _, tc := range []struct {
		name string
		res  *issuer.BatchResult
		want string
	}{
		{"offers", &issuer.BatchResult{Rows: 2, Offers: []*issuer.Offer{
			{ID: "o-1", PIN: "012345"}, {ID: "o-2", PIN: "678901"}}},
			"row,offer_id,tx_code,offer_uri\n" +
				"1,o-1,012345,openid-credential-offer://?id=o-1\n" +
				"2,o-2,678901,openid-credential-offer://?id=o-2\n"},
		{"credentials", &issuer.BatchResult{Rows: 2, Issued: []*issuer.Issued{
			{Record: issuer.Record{ID: "r-1"}, SDJWT: "eyJ.a.b~d1~"}, {Record: issuer.Record{ID: "r-2"}, SDJWT: "eyJ.c,d~"}}},
			"row,record_id,sd_jwt\n1,r-1,eyJ.a.b~d1~\n2,r-2,\"eyJ.c,d~\"\n"},
		{"empty offers", &issuer.BatchResult{Offers: []*issuer.Offer{}}, "row,offer_id,tx_code,offer_uri\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := issuer.WriteBatchCSV(&b, tc.res, uri); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Fatalf("got\n%s\nwant\n%s", b.String(), tc.want)
			}
		})
	}
	if err := issuer.WriteBatchCSV(io.Discard, nil, uri); err == nil {
		t.Fatal("nil result written")
	}
}
