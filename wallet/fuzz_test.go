package wallet

import (
	"context"
	"crypto/ed25519"
	"testing"
	"time"

	"lianzheng/credential/wire"
	"lianzheng/did"
	"lianzheng/qr"
)

// FuzzRequestQR feeds scanned text to the wallet's request-QR parsing and planning
// (Base45, zlib, CBOR, signature, registration): it must refuse or accept without
// panicking, and never accept an unsigned or wrongly signed request.
func FuzzRequestQR(f *testing.F) {
	_, key, _ := ed25519.GenerateKey(nil)
	r, _ := wire.New("did:lz:realestate-window-01", "did:lz:realestate-window-01#key-1", "item",
		[]wire.FieldRequest{{Type: "household-register", Fields: []string{"name", "address"}}}, time.Now(), time.Minute)
	body, _ := r.Sign(key)
	f.Add(qr.Encode(wire.PrefixRequest, body))
	f.Add("LZ1Q:")
	f.Add("lz1q：6BFOXN*TS0BI$ZD.P9")
	f.Add("LZ1R:00000")
	f.Add("openid-credential-offer://?credential_offer=%7B%7D")
	w := &Wallet{Store: nil, Ledger: emptyLedger{}, Now: time.Now}
	f.Fuzz(func(t *testing.T, text string) {
		if b, err := ParseRequestQR(text); err == nil && len(b) == 0 {
			t.Fatal("empty body accepted")
		}
		if _, err := w.PlanRequest(context.Background(), text); err == nil {
			t.Fatal("a request verified against a ledger that knows no key")
		}
		ParseOffer(text)
		wire.ParseReceiptBundle([]byte(text))
	})
}

// emptyLedger knows nothing: every lookup fails.
type emptyLedger struct{ Ledger }

func (emptyLedger) Resolve(context.Context, string) (*did.Resolution, error) {
	return nil, did.ErrNotFound
}
