package did

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"testing"
	"time"
)

// testKey returns the Multikey of the Ed25519 key with a seed of 32 bytes all equal to b.
func testKey(b byte) string {
	seed := make([]byte, 32)
	for i := range seed {
		seed[i] = b
	}
	k, err := NewPublicKey(ed25519.NewKeyFromSeed(seed).Public())
	if err != nil {
		panic(err)
	}
	return k.Multikey()
}

// The dates of a department's life used across the tests.
var (
	tCreated = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	tRotate  = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	tEnd     = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
)

func ptr(t time.Time) *time.Time { return &t }

// rotatedHistory: key-1 from creation until tRotate, key-2 (assertion + authentication)
// since, key-auth (authentication only) throughout.
func rotatedHistory() *History {
	return &History{
		DID:     "did:lz:gaj-beijing",
		Created: tCreated,
		Keys: []KeyRecord{
			{ID: "key-1", PublicKeyMultibase: testKey(1), ValidFrom: tCreated, ValidUntil: ptr(tRotate), Purposes: []string{PurposeAssertion, PurposeAuthentication}},
			{ID: "key-2", PublicKeyMultibase: testKey(2), ValidFrom: tRotate, Purposes: []string{PurposeAuthentication, PurposeAssertion}},
			{ID: "key-auth", PublicKeyMultibase: testKey(3), ValidFrom: tCreated, Purposes: []string{PurposeAuthentication}},
		},
	}
}

func TestKeyAtRotation(t *testing.T) {
	h := rotatedHistory()
	ns := time.Nanosecond
	cases := []struct {
		frag string
		at   time.Time
		want error
	}{
		{"key-1", tCreated, nil},
		{"key-1", tRotate.Add(-ns), nil},
		{"key-1", tRotate, ErrKeyNotValid},
		{"key-1", tRotate.Add(time.Hour), ErrKeyNotValid},
		{"key-1", tCreated.Add(-ns), ErrKeyNotValid},
		{"key-2", tRotate.Add(-ns), ErrKeyNotValid},
		{"key-2", tRotate, nil},
		{"key-2", tEnd.Add(100 * 24 * time.Hour), nil},
		{"key-auth", tRotate, nil},
		{"key-3", tRotate, ErrNotFound},
		{"", tRotate, ErrNotFound},
		{"did:lz:gaj-beijing#key-1", tCreated, ErrNotFound}, // a fragment, not a DID URL
	}
	for _, c := range cases {
		r, err := h.KeyAt(c.frag, c.at)
		if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
			t.Errorf("KeyAt(%q, %s) err = %v, want %v", c.frag, c.at, err, c.want)
			continue
		}
		if err == nil && r.ID != c.frag {
			t.Errorf("KeyAt(%q) = %s", c.frag, r.ID)
		}
	}
	// Times in other zones denote the same instant.
	if _, err := h.KeyAt("key-1", tRotate.In(time.FixedZone("CST", 8*3600))); !errors.Is(err, ErrKeyNotValid) {
		t.Errorf("KeyAt in CST at rotation: %v", err)
	}
	// The returned record is a copy.
	r, _ := h.KeyAt("key-1", tCreated)
	*r.ValidUntil = tEnd
	r.Purposes[0] = "x"
	if !h.Keys[0].ValidUntil.Equal(tRotate) || h.Keys[0].Purposes[0] != PurposeAssertion {
		t.Error("KeyAt returned a record sharing memory with the history")
	}
}

func TestHistoryDocument(t *testing.T) {
	h := rotatedHistory()
	before, err := h.Document(tRotate.Add(-time.Second))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"@context":["https://www.w3.org/ns/did/v1","https://w3id.org/security/multikey/v1"],"id":"did:lz:gaj-beijing",` +
		`"verificationMethod":[` +
		`{"id":"did:lz:gaj-beijing#key-1","type":"Multikey","controller":"did:lz:gaj-beijing","publicKeyMultibase":"` + testKey(1) + `"},` +
		`{"id":"did:lz:gaj-beijing#key-auth","type":"Multikey","controller":"did:lz:gaj-beijing","publicKeyMultibase":"` + testKey(3) + `"}],` +
		`"authentication":["did:lz:gaj-beijing#key-1","did:lz:gaj-beijing#key-auth"],` +
		`"assertionMethod":["did:lz:gaj-beijing#key-1"]}`
	if got := mustJSON(t, before); got != want {
		t.Errorf("document before rotation:\n got %s\nwant %s", got, want)
	}
	after, err := h.Document(tRotate)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.VerificationMethod) != 2 || after.VerificationMethod[0].ID != "did:lz:gaj-beijing#key-2" ||
		len(after.AssertionMethod) != 1 || after.AssertionMethod[0] != "did:lz:gaj-beijing#key-2" {
		t.Errorf("document after rotation: %s", mustJSON(t, after))
	}
	if _, err := after.KeyFor("key-2", PurposeAssertion); err != nil {
		t.Errorf("KeyFor key-2: %v", err)
	}
	if _, err := after.KeyFor("#key-auth", PurposeAssertion); !errors.Is(err, ErrKeyNotValid) {
		t.Errorf("KeyFor key-auth assertion: %v", err)
	}
	if _, err := after.KeyFor("did:lz:gaj-beijing#key-1", PurposeAssertion); !errors.Is(err, ErrNotFound) {
		t.Errorf("KeyFor rotated key: %v", err)
	}
	if _, err := h.Document(tCreated.Add(-time.Second)); !errors.Is(err, ErrNotFound) {
		t.Errorf("document before creation: %v", err)
	}
	// Deterministic: the same history gives byte-identical JSON, whatever the purpose order.
	h2 := rotatedHistory()
	h2.Keys[0].Purposes = []string{PurposeAuthentication, PurposeAssertion}
	again, _ := h2.Document(tRotate.Add(-time.Second))
	if mustJSON(t, again) != want {
		t.Error("document JSON depends on purpose order")
	}
	for _, d := range []*Document{before, after} {
		if err := d.Validate(); err != nil {
			t.Errorf("built document invalid: %v", err)
		}
	}
}

func TestDeactivationAndCompromise(t *testing.T) {
	h := rotatedHistory()
	h.Deactivated = ptr(tEnd)
	if _, err := h.KeyAt("key-2", tEnd); !errors.Is(err, ErrDeactivated) {
		t.Errorf("KeyAt at deactivation: %v", err)
	}
	if _, err := h.KeyAt("key-2", tEnd.Add(-time.Nanosecond)); err != nil {
		t.Errorf("KeyAt before deactivation (history): %v", err)
	}
	if _, err := h.Document(tEnd); !errors.Is(err, ErrDeactivated) {
		t.Errorf("Document at deactivation: %v", err)
	}
	if _, err := h.Document(tEnd.Add(-time.Second)); err != nil {
		t.Errorf("Document before deactivation: %v", err)
	}

	h = rotatedHistory()
	h.Keys[0].Compromised = true
	for _, at := range []time.Time{tCreated, tRotate.Add(-time.Second)} {
		if _, err := h.KeyAt("key-1", at); !errors.Is(err, ErrKeyNotValid) {
			t.Errorf("compromised key at %s: %v", at, err)
		}
		d, err := h.Document(at)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Method("key-1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("compromised key listed in document at %s", at)
		}
	}
}

func TestHistoryValidateRejects(t *testing.T) {
	mod := func(f func(h *History)) *History { h := rotatedHistory(); f(h); return h }
	cases := map[string]*History{
		"nil":                      nil,
		"bad did":                  mod(func(h *History) { h.DID = "did:lz:GAJ" }),
		"did url":                  mod(func(h *History) { h.DID = "did:lz:gaj#key-1" }),
		"bad controller":           mod(func(h *History) { h.Controller = "gaj" }),
		"duplicate id":             mod(func(h *History) { h.Keys[1].ID = "key-1" }),
		"bad fragment":             mod(func(h *History) { h.Keys[1].ID = "key 2" }),
		"empty fragment":           mod(func(h *History) { h.Keys[1].ID = "" }),
		"bad multikey":             mod(func(h *History) { h.Keys[1].PublicKeyMultibase = "z6Mk" }),
		"same key twice":           mod(func(h *History) { h.Keys[1].PublicKeyMultibase = h.Keys[0].PublicKeyMultibase }),
		"empty interval":           mod(func(h *History) { h.Keys[0].ValidUntil = ptr(h.Keys[0].ValidFrom) }),
		"reversed interval":        mod(func(h *History) { h.Keys[0].ValidUntil = ptr(tCreated.Add(-time.Hour)) }),
		"valid before creation":    mod(func(h *History) { h.Keys[2].ValidFrom = tCreated.Add(-time.Second) }),
		"no purpose":               mod(func(h *History) { h.Keys[2].Purposes = nil }),
		"unknown purpose":          mod(func(h *History) { h.Keys[2].Purposes = []string{"keyAgreement"} }),
		"repeated purpose":         mod(func(h *History) { h.Keys[2].Purposes = []string{PurposeAuthentication, PurposeAuthentication} }),
		"deactivated before birth": mod(func(h *History) { h.Deactivated = ptr(tCreated.Add(-time.Second)) }),
	}
	for name, h := range cases {
		if err := h.Validate(); !errors.Is(err, ErrInvalidDID) {
			t.Errorf("%s: Validate err = %v", name, err)
		}
		if _, err := h.KeyAt("key-1", tCreated); !errors.Is(err, ErrInvalidDID) {
			t.Errorf("%s: KeyAt err = %v", name, err)
		}
		if _, err := h.Document(tRotate); !errors.Is(err, ErrInvalidDID) {
			t.Errorf("%s: Document err = %v", name, err)
		}
	}
}

func TestKeyHistoryDIDKey(t *testing.T) {
	seed, _ := hex.DecodeString("0000000000000000000000000000000000000000000000000000000000000000")
	did := KeyFromEd25519(ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey))
	h, err := KeyHistory(did)
	if err != nil {
		t.Fatal(err)
	}
	frag := did[len("did:key:"):]
	for _, at := range []time.Time{{}, tCreated, tEnd.AddDate(50, 0, 0)} {
		if _, err := h.KeyAt(frag, at); err != nil {
			t.Errorf("did:key key at %s: %v", at, err)
		}
	}
}
