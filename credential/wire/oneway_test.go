package wire

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"lianzheng/qr"
)

func TestOneWayRoundTrip(t *testing.T) {
	nonce := bytes.Repeat([]byte{7}, OneWayNonceLen)
	iat := time.Unix(1760000000, 0)
	text, err := EncodeOneWay(nonce, iat, []byte{1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	p, body, err := qr.Decode(text, MaxBody)
	if err != nil || p != PrefixOneWay {
		t.Fatalf("%q %v", p, err)
	}
	ow, err := ParseOneWay(body)
	if err != nil {
		t.Fatal(err)
	}
	if ow.Version != OneWayVersion || !bytes.Equal(ow.Nonce, nonce) || ow.Expires != iat.Add(OneWayValidity).Unix() ||
		!bytes.Equal(ow.Response, []byte{1, 2, 3}) || ow.NonceString() != "BwcHBwcHBwcHBwcHBwcHBw" {
		t.Fatalf("%+v", ow)
	}
	if _, err := EncodeOneWay([]byte{1}, iat, nil); err == nil {
		t.Fatal("short nonce encoded")
	}
}

func TestParseOneWayRejects(t *testing.T) {
	enc := func(v any) []byte {
		b, err := cbor.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	n := make([]byte, OneWayNonceLen)
	for name, b := range map[string][]byte{
		"empty":         nil,
		"not cbor":      []byte("hello"),
		"version 2":     enc([]any{2, n, 1, []byte{}}),
		"short nonce":   enc([]any{1, n[:8], 1, []byte{}}),
		"three items":   enc([]any{1, n, 1}),
		"map":           enc(map[string]any{"v": 1}),
		"indefinite":    {0x9f, 0x01, 0xff},
		"trailing data": append(enc([]any{1, n, 1, []byte{}}), 0),
	} {
		if _, err := ParseOneWay(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// FuzzParseOneWay: arbitrary bodies never panic; what is accepted has the checked form and
// re-encodes to the same value.
func FuzzParseOneWay(f *testing.F) {
	f.Add([]byte{0x84, 0x01, 0x50, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x40})
	f.Add([]byte{0x83, 0x41, 0x00, 0x00, 0x40})
	f.Fuzz(func(t *testing.T, b []byte) {
		ow, err := ParseOneWay(b)
		if err != nil {
			return
		}
		if ow.Version != OneWayVersion || len(ow.Nonce) != OneWayNonceLen {
			t.Fatalf("accepted %+v", ow)
		}
		again, err := cbor.Marshal(ow)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseOneWay(again)
		if err != nil || !bytes.Equal(back.Nonce, ow.Nonce) || back.Expires != ow.Expires || !bytes.Equal(back.Response, ow.Response) {
			t.Fatalf("re-encoded form differs: %v", err)
		}
	})
}
