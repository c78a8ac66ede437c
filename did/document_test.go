package did

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestResolveKeyDocumentJSON(t *testing.T) {
	const did = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
	const vm = did + "#z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
	doc, err := ResolveKey(did)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"@context":["https://www.w3.org/ns/did/v1","https://w3id.org/security/multikey/v1"],` +
		`"id":"` + did + `","verificationMethod":[{"id":"` + vm + `","type":"Multikey","controller":"` + did + `",` +
		`"publicKeyMultibase":"z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"}],` +
		`"authentication":["` + vm + `"],"assertionMethod":["` + vm + `"],` +
		`"capabilityInvocation":["` + vm + `"],"capabilityDelegation":["` + vm + `"]}`
	if got := mustJSON(t, doc); got != want {
		t.Errorf("ResolveKey JSON:\n got %s\nwant %s", got, want)
	}
	back, err := ParseDocument([]byte(want))
	if err != nil {
		t.Fatalf("ParseDocument: %v", err)
	}
	if !reflect.DeepEqual(back, doc) {
		t.Errorf("ParseDocument round trip differs: %+v", back)
	}
	k, err := back.KeyFor(vm, PurposeAssertion)
	if err != nil || k.DIDKey() != did {
		t.Errorf("KeyFor = %v, %v", k.DIDKey(), err)
	}
	if _, err := ResolveKey("did:lz:gaj"); !errors.Is(err, ErrInvalidDID) {
		t.Errorf("ResolveKey(did:lz) err = %v", err)
	}
}

func TestParseDocumentRejects(t *testing.T) {
	h := rotatedHistory()
	doc, err := h.Document(tRotate)
	if err != nil {
		t.Fatal(err)
	}
	good := mustJSON(t, doc)
	if _, err := ParseDocument([]byte(good)); err != nil {
		t.Fatalf("good document rejected: %v", err)
	}
	// Whitespace and member order are free.
	indented, _ := json.MarshalIndent(doc, "", "  ")
	if _, err := ParseDocument(indented); err != nil {
		t.Errorf("indented document rejected: %v", err)
	}
	rep := func(old, new string) string {
		if !strings.Contains(good, old) {
			t.Fatalf("%q not in document", old)
		}
		return strings.Replace(good, old, new, 1)
	}
	const id = `"id":"did:lz:gaj-beijing"`
	key2 := "did:lz:gaj-beijing#key-2"
	cases := map[string]string{
		"not json":              `{`,
		"trailing data":         good + `{}`,
		"array":                 `[` + good + `]`,
		"unknown member":        rep(id, id+`,"service":[]`),
		"uppercase member":      rep(`"id":"did:lz`, `"ID":"did:lz`),
		"duplicate member":      rep(id, id+`,"id":"did:lz:other"`),
		"null controller":       rep(id, id+`,"controller":null`),
		"empty controller":      rep(id, id+`,"controller":""`),
		"controller array":      rep(id, id+`,"controller":["did:lz:gaj-beijing"]`),
		"empty list":            rep(id, id+`,"capabilityInvocation":[]`),
		"one context":           rep(`,"https://w3id.org/security/multikey/v1"`, ``),
		"context string":        rep(`["https://www.w3.org/ns/did/v1","https://w3id.org/security/multikey/v1"]`, `"https://www.w3.org/ns/did/v1"`),
		"extra context":         rep(`multikey/v1"`, `multikey/v1","https://example.com"`),
		"bad id":                rep(id, `"id":"did:lz:GAJ"`),
		"vm of another did":     rep(`"id":"`+key2, `"id":"did:lz:other#key-2`),
		"vm relative id":        rep(`"id":"`+key2, `"id":"#key-2`),
		"vm without fragment":   rep(`"id":"`+key2, `"id":"did:lz:gaj-beijing`),
		"vm wrong type":         rep(`"type":"Multikey"`, `"type":"Ed25519VerificationKey2020"`),
		"vm missing type":       rep(`"type":"Multikey",`, ``),
		"vm bad controller":     rep(`"controller":"did:lz:gaj-beijing"`, `"controller":"gaj"`),
		"vm bad key":            rep(testKey(2), testKey(2)[:20]),
		"vm extra member":       rep(`"type":"Multikey"`, `"type":"Multikey","publicKeyJwk":{}`),
		"duplicate vm":          rep(`"verificationMethod":[`, `"verificationMethod":[{"id":"`+key2+`","type":"Multikey","controller":"did:lz:gaj-beijing","publicKeyMultibase":"`+testKey(2)+`"},`),
		"relationship unknown":  rep(`"assertionMethod":["`+key2, `"assertionMethod":["did:lz:gaj-beijing#key-9`),
		"relationship relative": rep(`"assertionMethod":["`+key2, `"assertionMethod":["#key-2`),
		"relationship twice":    rep(`"assertionMethod":["`+key2+`"`, `"assertionMethod":["`+key2+`","`+key2+`"`),
		"relationship embedded": rep(`"assertionMethod":["`+key2+`"]`, `"assertionMethod":[{"id":"`+key2+`"}]`),
		"too deep":              rep(id, id+`,"x":[[[[[[[[[[1]]]]]]]]]]`),
		"too large":             rep(id, id+`,"x":"`+strings.Repeat("a", MaxDocumentSize)+`"`),
	}
	for name, in := range cases {
		if d, err := ParseDocument([]byte(in)); !errors.Is(err, ErrInvalidDID) {
			t.Errorf("%s: ParseDocument accepted (%v) %+v", name, err, d)
		}
	}
	// A did:key document must hold exactly its own key.
	kd, _ := ResolveKey("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")
	other := "z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG"
	swapped := strings.Replace(mustJSON(t, kd), `"publicKeyMultibase":"z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"`, `"publicKeyMultibase":"`+other+`"`, 1)
	if _, err := ParseDocument([]byte(swapped)); !errors.Is(err, ErrInvalidDID) {
		t.Errorf("did:key document with another key accepted: %v", err)
	}
	var nilDoc *Document
	if err := nilDoc.Validate(); !errors.Is(err, ErrInvalidDID) {
		t.Errorf("nil document: %v", err)
	}
}
