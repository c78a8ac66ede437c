package wallet

import (
	"errors"
	"testing"
	"time"

	"lianzheng/internal/keystore"
	"lianzheng/qr"
)

// TestOfferAndRequestFromPNG: both QR kinds are read from images.
func TestOfferAndRequestFromPNG(t *testing.T) {
	offer := OfferScheme + "?credential_offer=%7B%22credential_issuer%22%3A%22https%3A%2F%2Fps.example%22%2C%22credential_configuration_ids%22%3A%5B%22household-register%22%5D%2C%22grants%22%3A%7B%22urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code%22%3A%7B%22pre-authorized_code%22%3A%22abc%22%2C%22tx_code%22%3A%7B%22length%22%3A6%7D%7D%7D%7D"
	png, err := qr.RenderPNG(offer, 0)
	if err != nil {
		t.Fatal(err)
	}
	o, _, err := ParseOfferPNG(png)
	if err != nil || o.CredentialIssuer != "https://ps.example" || !o.NeedsPIN() || o.PreAuth.Code != "abc" {
		t.Fatalf("%v %+v", err, o)
	}
	for _, bad := range []string{"", "https://x.example/", "openid-credential-offer://?credential_offer=%7B%7D",
		`{"credential_issuer":"ftp://x","credential_configuration_ids":["a"]}`,
		`{"credential_issuer":"https://x","credential_configuration_ids":["a"],"grants":{}}`} {
		if _, _, err := ParseOffer(bad); err == nil {
			t.Errorf("offer %q accepted", bad)
		}
	}
	text := qr.Encode("LZ1Q", []byte("not a request"))
	png, _ = qr.RenderPNG(text, 0)
	got, err := ParseRequestPNG(png)
	if err != nil || got != text {
		t.Fatalf("%v %q", err, got)
	}
	if _, err := ParseRequestQR(got); err == nil {
		t.Fatal("garbage request accepted")
	}
}

// TestWalletLockout: the wallet PIN is rate-limited through restarts and locks for good.
func TestWalletLockout(t *testing.T) {
	home := t.TempDir()
	now := time.Unix(1_900_000_000, 0)
	o := &Options{Keystore: &keystore.Options{KDF: testKS.KDF, Now: func() time.Time { return now }}}
	w, err := Init(home, "123456", o)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	for i := 0; i < 10; i++ {
		w, err := Open(home, o)
		if err != nil {
			t.Fatal(err)
		}
		err = w.Unlock("999999")
		w.Close()
		if i < 9 && !errors.Is(err, keystore.ErrWrongPIN) {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
		if i == 9 && !errors.Is(err, keystore.ErrLockedOut) {
			t.Fatalf("attempt 10: %v", err)
		}
		now = now.Add(time.Hour) // wait out each back-off
	}
	w, _ = Open(home, o)
	defer w.Close()
	if err := w.Unlock("123456"); !errors.Is(err, keystore.ErrLockedOut) {
		t.Fatalf("right PIN after lockout: %v", err)
	}
}
