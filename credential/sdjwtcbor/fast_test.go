package sdjwtcbor

import (
	"bytes"
	"math/rand"
	"slices"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// sameAsGeneral checks the fast path's promise on data: whatever it decodes, the general
// decoder decodes to the same texts. It reports whether the fast path decoded data.
func sameAsGeneral(t *testing.T, data []byte, ctx *Context) bool {
	t.Helper()
	kn := ctx.knownIndex()
	fast, ok := decodeFast(data, ctx, kn)
	if !ok {
		return false
	}
	general, err := decodeGeneral(data, ctx, kn)
	if err != nil {
		t.Fatalf("fast path decoded what the general decoder refuses (%v): %x", err, data)
	}
	if !slices.Equal(fast, general) {
		t.Fatalf("fast path and general decoder differ on %x:\nfast    %q\ngeneral %q", data, fast, general)
	}
	return true
}

// hasFloat: a generic CBOR value holds a floating-point number (which the fast path leaves
// to the general decoder).
func hasFloat(v any) bool {
	switch t := v.(type) {
	case float64, float32:
		return true
	case []any:
		return slices.ContainsFunc(t, hasFloat)
	case map[any]any:
		for _, x := range t {
			if hasFloat(x) {
				return true
			}
		}
	case cbor.Tag:
		return hasFloat(t.Content)
	}
	return false
}

func mutate(r *rand.Rand, b []byte) []byte {
	b = bytes.Clone(b)
	switch r.Intn(5) {
	case 0:
		if len(b) > 0 {
			b[r.Intn(len(b))] ^= byte(1 << r.Intn(8))
		}
	case 1:
		if len(b) > 0 {
			b[r.Intn(len(b))] = byte(r.Intn(256))
		}
	case 2:
		if len(b) > 0 {
			b = b[:r.Intn(len(b))]
		}
	case 3:
		i := r.Intn(len(b) + 1)
		b = slices.Insert(b, i, byte(r.Intn(256)))
	default:
		if len(b) > 1 {
			i := r.Intn(len(b) - 1)
			b = slices.Delete(b, i, i+1)
		}
	}
	return b
}

// The fast path decodes every float-free form Encode makes, to the same texts as the
// general decoder; on mutated forms, whatever it still decodes, the general decoder
// decodes the same.
func TestFastMatchesGeneral(t *testing.T) {
	ctx := testCtx()
	g := gen{rand.New(rand.NewSource(5))}
	r := rand.New(rand.NewSource(6))
	var fast, mutants, mutantsFast int
	for i := 0; i < 400; i++ {
		ps := []string{g.presentation(ctx)}
		if i%3 == 0 {
			ps = append(ps, g.presentation(ctx))
		}
		b, err := Encode(ps, ctx)
		if err != nil {
			t.Fatal(err)
		}
		if sameAsGeneral(t, b, ctx) {
			fast++
		} else {
			var v any
			if err := decMode.Unmarshal(b, &v); err != nil || !hasFloat(v) {
				t.Fatalf("case %d: the fast path gave up on a float-free form (%v)", i, err)
			}
		}
		for j := 0; j < 50; j++ {
			mutants++
			m := b
			for k := r.Intn(3); k >= 0; k-- {
				m = mutate(r, m)
			}
			if sameAsGeneral(t, m, ctx) {
				mutantsFast++
			}
		}
	}
	t.Logf("fast path: %d of 400 encoded forms, %d of %d mutants", fast, mutantsFast, mutants)
	if fast < 100 || mutantsFast < 1000 {
		t.Fatal("the fast path is exercised too little")
	}
}

// Random compact values (every tag, key kind, digest position and refusal the generator
// knows) as segments and disclosures of one presentation.
func TestFastMatchesGeneralRandomValues(t *testing.T) {
	ctx := testCtx()
	known := ctx.Known
	r := rand.New(rand.NewSource(7))
	fast := 0
	for i := 0; i < 20000; i++ {
		discs := make([]any, r.Intn(4))
		for j := range discs {
			discs[j] = randCBORValue(r, known, 1)
		}
		var kb any
		switch r.Intn(3) {
		case 0:
			kb = []any{uint64(r.Intn(3)), uint64(1760000000), []byte{1, 2}}
		case 1:
			kb = []any{[]byte(`{"alg":"EdDSA"}`), []byte(`{}`), []byte{3}}
		}
		p := []any{randCBORValue(r, known, 1), randCBORValue(r, known, 1), []byte{9, 9}, discs, kb}
		b, err := encMode.Marshal([]any{uint64(Version), []any{p}})
		if err != nil {
			t.Fatal(err)
		}
		if sameAsGeneral(t, b, ctx) {
			fast++
		}
	}
	t.Logf("fast path decoded %d of 20000", fast)
	if fast < 2000 {
		t.Fatal("the fast path is exercised too little")
	}
}

// FuzzFastMatchesGeneral: on any input, whatever the fast path decodes, the general decoder
// decodes to the same texts.
func FuzzFastMatchesGeneral(f *testing.F) {
	ctx := testCtx()
	g := gen{rand.New(rand.NewSource(8))}
	for i := 0; i < 8; i++ {
		b, err := Encode([]string{g.presentation(ctx)}, ctx)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sameAsGeneral(t, b, ctx)
	})
}
