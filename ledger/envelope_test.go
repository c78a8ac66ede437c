package ledger

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func testSigner(kid string) KeySigner {
	seed := sha256.Sum256([]byte("ledger-model-test/" + kid))
	return KeySigner{KeyID: kid, Key: ed25519.NewKeyFromSeed(seed[:])}
}

// failingSigner is a sealed key store that is locked.
type failingSigner struct{ err error }

func (f failingSigner) DIDURL() string              { return "did:lz:x#key-1" }
func (f failingSigner) Sign([]byte) ([]byte, error) { return nil, f.err }

func TestNewEnvelope(t *testing.T) {
	s := testSigner("did:lz:civil-affairs#key-1")
	e1, b1, err := NewEnvelope("lz-test", TxDIDAddKey, DIDAddKey{DID: "did:lz:x"}, s)
	if err != nil {
		t.Fatal(err)
	}
	e2, _, _ := NewEnvelope("lz-test", TxDIDAddKey, DIDAddKey{DID: "did:lz:x"}, s)
	if e1.Nonce == e2.Nonce || len(e1.Nonce) != 22 {
		t.Fatalf("nonces %q %q", e1.Nonce, e2.Nonce)
	}
	if e1.V != TxVersion || e1.Chain != "lz-test" || e1.Type != TxDIDAddKey || e1.Signer != s.KeyID {
		t.Fatalf("envelope %+v", e1)
	}
	back, err := DecodeEnvelope(b1)
	if err != nil {
		t.Fatalf("NewEnvelope's bytes do not decode: %v", err)
	}
	sb, _ := back.SigningBytes()
	sig, err := base64.RawURLEncoding.DecodeString(back.Sig)
	if err != nil || !ed25519.Verify(s.Key.Public().(ed25519.PublicKey), sb, sig) {
		t.Fatal("signature does not verify")
	}
	for name, c := range map[string]struct {
		s    Signer
		body any
	}{
		"key id without fragment": {KeySigner{KeyID: "did:lz:x", Key: s.Key}, 1},
		"missing key":             {KeySigner{KeyID: "did:lz:x#k"}, 1},
		"unencodable body":        {s, func() {}},
		"oversized":               {s, strings.Repeat("x", MaxTxBytes)},
	} {
		if _, _, err := NewEnvelope("c", "t", c.body, c.s); !errors.Is(err, ErrEnvelope) {
			t.Errorf("%s: %v", name, err)
		}
	}
	locked := errors.New("locked")
	if _, _, err := NewEnvelope("c", "t", 1, failingSigner{locked}); !errors.Is(err, ErrEnvelope) || !errors.Is(err, locked) {
		t.Errorf("a signer's error is not kept: %v", err)
	}
	// Sign signs only for the key the envelope names.
	e := &Envelope{V: TxVersion, Chain: "c", Type: "t", Signer: "did:lz:y#key-1", Nonce: "AAAAAAAAAAAAAAAAAAAAAA", Body: json.RawMessage(`{}`)}
	if err := e.Sign(s); !errors.Is(err, ErrEnvelope) || e.Sig != "" {
		t.Errorf("signed for another key: %v", err)
	}
}

func TestStatusEntries(t *testing.T) {
	list := make([]byte, StatusListBytes)
	for i, v := range map[int]int{0: StatusRevoked, 1: StatusSuspended, 5: 3, 70000: StatusSuspended, StatusListSize - 1: StatusRevoked} {
		if err := SetStatus(list, i, v); err != nil {
			t.Fatal(err)
		}
	}
	// W3C bit order: entry 0 in the two most significant bits of byte 0.
	if list[0] != 0b01_10_00_00 || list[1] != 0b00_11_00_00 {
		t.Fatalf("bytes %08b %08b", list[0], list[1])
	}
	for i, want := range map[int]int{0: StatusRevoked, 1: StatusSuspended, 2: StatusValid, 5: 3, 70000: StatusSuspended, 70001: StatusValid, StatusListSize - 1: StatusRevoked} {
		if got, err := StatusAt(list, i); err != nil || got != want {
			t.Errorf("entry %d = %d, %v; want %d", i, got, err, want)
		}
	}
	if err := SetStatus(list, 5, StatusValid); err != nil {
		t.Fatal(err)
	}
	if got, _ := StatusAt(list, 5); got != StatusValid || list[1] != 0 {
		t.Errorf("entry 5 not cleared: %d", got)
	}
	for _, i := range []int{-1, StatusListSize} {
		if _, err := StatusAt(list, i); !errors.Is(err, ErrStatusIndex) {
			t.Errorf("StatusAt(%d): %v", i, err)
		}
		if err := SetStatus(list, i, 1); !errors.Is(err, ErrStatusIndex) {
			t.Errorf("SetStatus(%d): %v", i, err)
		}
	}
	if err := SetStatus(list, 0, 4); !errors.Is(err, ErrStatusIndex) {
		t.Errorf("value 4: %v", err)
	}
}

func TestServiceItemLookup(t *testing.T) {
	w := &Window{DID: "did:lz:w", ServiceItems: []ServiceItem{
		{ID: "a", Requests: []FieldRequest{{Type: "t1", Fields: []string{"x"}}}},
		{ID: "b", Requests: []FieldRequest{{Type: "t1", Fields: []string{"y"}}, {Type: "t2", Fields: []string{"z", "w"}}}},
	}}
	si, ok := w.ServiceItem("b")
	if !ok || si != &w.ServiceItems[1] {
		t.Fatalf("ServiceItem(b) = %v, %v", si, ok)
	}
	if _, ok := w.ServiceItem(""); ok {
		t.Fatal("empty id found")
	}
	if _, ok := w.ServiceItem("c"); ok {
		t.Fatal("unknown id found")
	}
	got := si.Allowed()
	if !reflect.DeepEqual(got, map[string][]string{"t1": {"y"}, "t2": {"z", "w"}}) {
		t.Fatalf("Allowed = %v", got)
	}
	got["t2"][0] = "changed"
	if w.ServiceItems[1].Requests[1].Fields[0] != "z" {
		t.Fatal("Allowed shares the window's slices")
	}
}

// FuzzDecodeEnvelope: DecodeEnvelope (canonical fast path first) answers exactly as the
// strict walk alone. (ledger/chain's FuzzDecodeTx runs the same bytes through CheckTx.)
func FuzzDecodeEnvelope(f *testing.F) {
	s := testSigner("did:lz:gaj#key-1")
	for _, body := range []any{
		StatusSet{List: 0, Updates: []StatusUpdate{{Index: 1, Value: 1}}},
		AnchorPost{Root: "00", Count: 1},
		DIDCreate{DID: "did:lz:x"},
		DIDRevokeKey{DID: "did:lz:gaj", KeyID: "key-1"},
	} {
		_, tx, err := NewEnvelope("lz-test-1", TxStatusSet, body, s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tx)
	}
	f.Add([]byte(`{"v":1,"chain":"lz-test-1","type":"status.set","signer":"did:lz:gaj#key-1","nonce":"aaaaaaaaaaaaaaaa","body":{"list":0,"updates":[{"index":1,"value":1}]}}`))
	f.Add([]byte(`{"v":1,"chain":"c","type":"t","signer":"s","nonce":"n","body":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]],"sig":"x"}`))
	f.Add([]byte(`{"v":1,"chain":"c","type":"t","signer":"s","nonce":"n","body":{"a":"\"[[[[[[[[[[[[[[[[[["},"sig":"x"}`))
	f.Fuzz(func(t *testing.T, tx []byte) {
		got, gotErr := DecodeEnvelope(tx)
		want, wantErr := decodeEnvelopeStrict(tx)
		if len(tx) > 0 && len(tx) <= MaxTxBytes && (fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want)) {
			t.Fatalf("DecodeEnvelope: %+v, %v; strict walk: %+v, %v", got, gotErr, want, wantErr)
		}
	})
}
