package issuer_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
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
