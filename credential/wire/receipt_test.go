package wire

import (
	"errors"
	"strings"
	"testing"
	"time"

	"lianzheng/credential/receipt"
	"lianzheng/qr"
)

const token = "eyJhbGciOiJFZERTQSJ9.eyJpZCI6IngifQ.c2ln"

func sampleBundle() *ReceiptBundle {
	return &ReceiptBundle{Receipt: token, Window: "did:lz:w",
		Proof:  &receipt.Proof{Index: 1, Count: 3, Path: []string{"00", "11"}},
		Anchor: &Anchor{Root: "ab", Count: 3, Height: 9, TxHash: "cd", Seq: 4, Time: time.Unix(1760000000, 0).UTC()}}
}

// The encoding the window has always handed out: field names and order, "receipts": null.
func TestReceiptBundleText(t *testing.T) {
	text, err := sampleBundle().Text()
	if err != nil {
		t.Fatal(err)
	}
	p, body, err := qr.Decode(text, MaxBody)
	if err != nil || p != PrefixReceipt {
		t.Fatalf("%q %v", p, err)
	}
	want := `{"receipt":"` + token + `","window":"did:lz:w","proof":{"index":1,"count":3,"path":["00","11"]},` +
		`"anchor":{"root":"ab","count":3,"height":9,"tx_hash":"cd","seq":4,"time":"2025-10-09T08:53:20Z","receipts":null}}`
	if string(body) != want {
		t.Fatalf("body\n%s\nwant\n%s", body, want)
	}
}

func TestParseReceiptBundle(t *testing.T) {
	text, _ := sampleBundle().Text()
	j := `{"receipt":"` + token + `","seq":7}`
	for name, c := range map[string]struct {
		in  string
		seq uint64
	}{
		"qr":              {text, 4},
		"qr as scanned":   {strings.ToLower(text) + "\r\n", 4},
		"json":            {"  " + j + "\n", 7},
		"bare token":      {token + "\n", 0},
		"json, no anchor": {`{"receipt":"` + token + `"}`, 0},
	} {
		b, err := ParseReceiptBundle([]byte(c.in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b.Receipt != token || b.AnchorSeq() != c.seq {
			t.Fatalf("%s: %+v seq %d", name, b, b.AnchorSeq())
		}
	}
	for name, in := range map[string]string{
		"empty":        " \n",
		"other prefix": qr.Encode(PrefixRequest, []byte(`{"receipt":"`+token+`"}`)),
		"not json":     qr.Encode(PrefixReceipt, []byte("hello")),
		"no receipt":   `{"window":"did:lz:w"}`,
		"bad json":     `{"receipt":`,
		"junk":         "hello world",
		"huge":         strings.Repeat("a", MaxBody+1),
	} {
		if _, err := ParseReceiptBundle([]byte(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// FuzzParseReceiptBundle: whatever a citizen imports never panics, and an accepted bundle
// always carries a receipt token of the compact JWS shape.
func FuzzParseReceiptBundle(f *testing.F) {
	text, _ := sampleBundle().Text()
	f.Add([]byte(text))
	f.Add([]byte(`{"receipt":"` + token + `","proof":{"index":0,"count":1,"path":[]}}`))
	f.Add([]byte(token))
	f.Add([]byte("LZ1E:"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rb, err := ParseReceiptBundle(b)
		if err != nil {
			return
		}
		if !compactJWS(rb.Receipt) {
			t.Fatalf("accepted receipt %q", rb.Receipt)
		}
	})
}
