package wire

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"
)

const win = "did:lz:realestate-window-01"

func keys(t testing.TB) (ed25519.PublicKey, ed25519.PrivateKey, KeyAt) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	return pub, priv, func(u string, at time.Time) (ed25519.PublicKey, error) {
		if u != win+"#key-1" {
			return nil, fmt.Errorf("unknown key %s", u)
		}
		return pub, nil
	}
}

func sample(t testing.TB, now time.Time) *Request {
	r, err := New(win, win+"#key-1", "property-transfer", []FieldRequest{
		{Type: "household-register", Fields: []string{"name", "id_number"}},
		{Type: "marriage-certificate", Fields: []string{"spouse_name"}},
	}, now, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSignVerify(t *testing.T) {
	now := time.Now()
	_, priv, keyAt := keys(t)
	r := sample(t, now)
	body, err := r.Sign(priv)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Verify(body, keyAt, now, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got.NonceString() != r.NonceString() || got.Audience() != win || len(got.Requests) != 2 {
		t.Fatalf("%+v", got)
	}
	t.Logf("signed request: %d bytes of CBOR", len(body))
}

func TestVerifyRejects(t *testing.T) {
	now := time.Now()
	_, priv, keyAt := keys(t)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	good, _ := sample(t, now).Sign(priv)
	forged, _ := sample(t, now).Sign(other)
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)-1] ^= 1
	tampered := append([]byte(nil), good...)
	tampered[20] ^= 1
	cases := []struct {
		name string
		body []byte
		now  time.Time
		want error
	}{
		{"other key", forged, now, ErrSignature},
		{"flipped signature", flipped, now, ErrSignature},
		{"tampered payload", tampered, now, nil}, // malformed or bad signature, either way rejected
		{"expired", good, now.Add(10 * time.Minute), ErrExpired},
		{"not yet valid", good, now.Add(-10 * time.Minute), ErrNotYet},
		{"garbage", []byte("hello"), now, ErrMalformed},
		{"oversized", make([]byte, maxEncoded+1), now, ErrMalformed},
	}
	for _, c := range cases {
		_, err := Verify(c.body, keyAt, c.now, 0)
		if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
}

func TestNewRejects(t *testing.T) {
	now := time.Now()
	fr := []FieldRequest{{Type: "t", Fields: []string{"a"}}}
	for name, f := range map[string]func() (*Request, error){
		"key of other DID": func() (*Request, error) { return New(win, "did:lz:other#key-1", "i", fr, now, time.Minute) },
		"too long":         func() (*Request, error) { return New(win, win+"#k", "i", fr, now, time.Hour) },
		"no types":         func() (*Request, error) { return New(win, win+"#k", "i", nil, now, time.Minute) },
		"dup field": func() (*Request, error) {
			return New(win, win+"#k", "i", []FieldRequest{{Type: "t", Fields: []string{"a", "a"}}}, now, time.Minute)
		},
		"not did:lz": func() (*Request, error) { return New("did:key:z6Mk", "did:key:z6Mk#k", "i", fr, now, time.Minute) },
	} {
		if _, err := f(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestOverAsk(t *testing.T) {
	r := sample(t, time.Now())
	allowed := map[string][]string{"household-register": {"name"}, "marriage-certificate": {"spouse_name"}}
	got := OverAsk(r, allowed)
	if len(got) != 1 || got[0].Type != "household-register" || len(got[0].Fields) != 1 || got[0].Fields[0] != "id_number" {
		t.Fatalf("%+v", got)
	}
	if len(OverAsk(r, map[string][]string{"household-register": {"name", "id_number"}, "marriage-certificate": {"spouse_name"}})) != 0 {
		t.Fatal("within registration reported as over-asking")
	}
}

func FuzzParse(f *testing.F) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	body, _ := sample(f, time.Now()).Sign(priv)
	f.Add(body)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, payload, _, err := Parse(b)
		if err == nil && (r == nil || len(payload) == 0) {
			t.Fatal("accepted without content")
		}
	})
}
