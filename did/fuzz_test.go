package did

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// FuzzParse: no DID or key parser panics, and whatever one accepts re-encodes to exactly
// the input (one spelling per DID, per key, per DID URL).
func FuzzParse(f *testing.F) {
	v := readDIDKeyVectors(f)
	for _, e := range v.Ed25519 {
		f.Add(e.DID)
		f.Add(e.DID + "#" + strings.TrimPrefix(e.DID, "did:key:"))
		f.Add(strings.TrimPrefix(e.DID, "did:key:"))
	}
	for _, p := range v.P256 {
		f.Add(p.DID)
		f.Add(strings.TrimPrefix(p.DID, "did:key:"))
	}
	for _, r := range readMultibaseCSV(f) {
		f.Add("did:key:" + r.encoded)
	}
	for _, s := range []string{"did:lz:gaj-beijing", "did:lz:gaj-beijing#key-1", "did:lz:a", "did:lz:-a", "did:lz:A",
		"did:lz:a%2d", "did:lz:a?x#k", "did:web:example.com#k", "", "did:", "#k"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if k, err := ParseKey(s); err == nil {
			if got := k.DIDKey(); got != s {
				t.Fatalf("ParseKey(%q) re-encodes to %q", s, got)
			}
			if p, err := k.JWK().PublicKey(); err != nil || !p.Equal(k) {
				t.Fatalf("JWK round trip of %q: %v", s, err)
			}
			if _, err := ResolveKey(s); err != nil {
				t.Fatalf("ResolveKey(%q) after ParseKey ok: %v", s, err)
			}
		}
		if k, err := DecodeMultikey(s); err == nil && k.Multikey() != s {
			t.Fatalf("DecodeMultikey(%q) re-encodes to %q", s, k.Multikey())
		}
		if id, err := ParseLZ(s); err == nil {
			if "did:lz:"+id != s {
				t.Fatalf("ParseLZ(%q) = %q", s, id)
			}
			if d, err := LZ(id); err != nil || d != s {
				t.Fatalf("LZ(%q) = %q, %v", id, d, err)
			}
		}
		if u, err := ParseDIDURL(s); err == nil {
			if u.String() != s {
				t.Fatalf("ParseDIDURL(%q).String() = %q", s, u.String())
			}
			if m, err := ParseDID(u.DID); err != nil || m != u.Method {
				t.Fatalf("ParseDID(%q) = %q, %v", u.DID, m, err)
			}
		}
	})
}

// FuzzDocumentJSON: ParseDocument never panics, and an accepted document re-encodes to JSON
// that parses to the same document and re-encodes to the same bytes.
func FuzzDocumentJSON(f *testing.F) {
	v := readDIDKeyVectors(f)
	for _, e := range v.Ed25519 {
		d, err := ResolveKey(e.DID)
		if err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(mustJSON(f, d)))
	}
	h := rotatedHistory()
	for _, at := range []time.Time{tCreated, tRotate} {
		d, err := h.Document(at)
		if err != nil {
			f.Fatal(err)
		}
		b := mustJSON(f, d)
		f.Add([]byte(b))
		f.Add([]byte(strings.Replace(b, `"id"`, `"ID"`, 1)))
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"@context":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseDocument(data)
		if err != nil {
			return
		}
		b1, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		d2, err := ParseDocument(b1)
		if err != nil {
			t.Fatalf("re-encoded document rejected: %v\n%s", err, b1)
		}
		if !reflect.DeepEqual(d, d2) {
			t.Fatalf("round trip differs:\n%+v\n%+v", d, d2)
		}
		b2, _ := json.Marshal(d2)
		if string(b1) != string(b2) {
			t.Fatalf("encoding not deterministic:\n%s\n%s", b1, b2)
		}
	})
}

// FuzzJWK: ParseJWKJSON never panics and accepts only keys that round-trip through JWK.
func FuzzJWK(f *testing.F) {
	for _, p := range readDIDKeyVectors(f).P256 {
		b, _ := json.Marshal(p.JWK)
		f.Add(b) // carries "d": must be rejected
		k, err := ParseKey(p.DID)
		if err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(mustJSON(f, k.JWK())))
	}
	f.Add([]byte(`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParseJWKJSON(data)
		if err != nil {
			return
		}
		var m map[string]any
		if json.Unmarshal(data, &m) != nil {
			t.Fatal("accepted invalid JSON")
		}
		if _, ok := m["d"]; ok {
			t.Fatal("accepted a private JWK")
		}
		j := k.JWK()
		if m["x"] != j.X || m["kty"] != j.Kty || m["crv"] != j.Crv {
			t.Fatalf("JWK %s re-encodes to %+v", data, j)
		}
		if k2, err := j.PublicKey(); err != nil || !k2.Equal(k) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
