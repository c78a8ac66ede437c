package dataintegrity

import (
	"errors"
	"testing"

	"lianzheng/credential"
	"lianzheng/internal/testvectors"
)

// FuzzVerify feeds arbitrary JSON text to Verify: it must never panic, and every failure
// must be a typed *credential.Error.
func FuzzVerify(f *testing.F) {
	for _, v := range suiteVectors {
		f.Add(testvectors.Read(f, v.dir+"signed"+v.suffix+".json"))
	}
	f.Add([]byte(`{"proof":{"type":"DataIntegrityProof","cryptosuite":"eddsa-jcs-2022"}}`))
	f.Add([]byte(`{"a":1,"a":2}`))
	_, pub, mb := vectorKey(f)
	resolve := didKeyResolver(mb, pub)
	f.Fuzz(func(t *testing.T, doc []byte) {
		_, err := Verify(doc, resolve)
		if err != nil {
			var ce *credential.Error
			if !errors.As(err, &ce) {
				t.Fatalf("untyped error %v", err)
			}
		}
	})
}

// FuzzCanonicalizeJSON: JCS output is stable (canonicalising it again changes nothing).
func FuzzCanonicalizeJSON(f *testing.F) {
	f.Add([]byte(`{"b":[1,2.5,1e300,-0],"a":"\u20ac\n"}`))
	f.Add([]byte(`{"\ud83d\ude00":1,"\ufb33":2}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := CanonicalizeJSON(in)
		if err != nil {
			return
		}
		c2, err := CanonicalizeJSON(c)
		if err != nil || string(c2) != string(c) {
			t.Fatalf("not idempotent: %s -> %s (%v)", c, c2, err)
		}
	})
}
