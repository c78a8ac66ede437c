package sdjwtcbor

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"lianzheng/credential/jws"
	"lianzheng/credential/sdjwt"
	"lianzheng/internal/testvectors"
)

// A generator of random presentations in the canonical form LianZheng issuers use (the
// codec does not verify signatures, so random bytes stand in for them).
type gen struct{ r *rand.Rand }

func (g gen) bytes(n int) []byte {
	b := make([]byte, n)
	g.r.Read(b)
	return b
}

func (g gen) b64(n int) string { return jws.B64.EncodeToString(g.bytes(n)) }

func (g gen) scalar() any {
	switch g.r.Intn(7) {
	case 0:
		return fmt.Sprintf("值%d", g.r.Intn(1000))
	case 1:
		return g.r.Int63n(1 << 40)
	case 2:
		return -g.r.Int63n(1000)
	case 3:
		return g.r.Intn(2) == 0
	case 4:
		return nil
	case 5:
		return float64(g.r.Intn(1000)) / 8
	default:
		return g.b64(g.r.Intn(40) + 1)
	}
}

func mustJSON(v any) []byte {
	b, err := jws.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// presentation builds a random SD-JWT+KB with nested and array disclosures.
func (g gen) presentation(ctx *Context) string {
	var discs []string
	newDisc := func(arr []any) string {
		d := jws.B64.EncodeToString(mustJSON(arr))
		discs = append(discs, d)
		return sdjwt.Digest(d)
	}
	var object func(depth int) map[string]any
	object = func(depth int) map[string]any {
		obj := map[string]any{}
		var sd []any
		for i := 0; i < g.r.Intn(6)+1; i++ {
			name := fmt.Sprintf("claim_%d", g.r.Intn(50))
			var v any = g.scalar()
			switch g.r.Intn(5) {
			case 0:
				if depth < 3 {
					v = object(depth + 1)
				}
			case 1:
				arr := []any{}
				for j := 0; j < g.r.Intn(4); j++ {
					if g.r.Intn(2) == 0 {
						arr = append(arr, map[string]any{"...": newDisc([]any{g.b64(16), g.scalar()})})
					} else {
						arr = append(arr, g.scalar())
					}
				}
				v = arr
			}
			if g.r.Intn(2) == 0 {
				sd = append(sd, newDisc([]any{g.b64(16), name, v}))
			} else {
				obj[name] = v
			}
		}
		for i := 0; i < g.r.Intn(3); i++ {
			sd = append(sd, g.b64(32)) // decoys
		}
		if len(sd) > 0 {
			strs := make([]string, len(sd))
			for i, s := range sd {
				strs[i] = s.(string)
			}
			if g.r.Intn(4) != 0 {
				sort.Strings(strs)
			}
			for i, s := range strs {
				sd[i] = s
			}
			obj["_sd"] = sd
		}
		return obj
	}
	payload := object(0)
	payload["iss"] = "did:lz:demo-dept"
	payload["vct"] = "urn:lz:vct:test"
	payload["iat"] = 1760000000 + g.r.Intn(1000)
	payload["_sd_alg"] = "sha-256"
	payload["cnf"] = map[string]any{"jwk": map[string]any{"kty": "OKP", "crv": "Ed25519", "x": g.b64(32)}}
	header := map[string]any{"alg": "EdDSA", "typ": "dc+sd-jwt", "kid": "did:lz:demo-dept#key-1"}
	jwt := jws.B64.EncodeToString(mustJSON(header)) + "." + jws.B64.EncodeToString(mustJSON(payload)) + "." + g.b64(64)
	// Present a random subset of the disclosures, possibly reordered.
	g.r.Shuffle(len(discs), func(i, j int) { discs[i], discs[j] = discs[j], discs[i] })
	shown := discs[:g.r.Intn(len(discs)+1)]
	prefix := jwt + "~" + strings.Join(shown, "~")
	if len(shown) > 0 {
		prefix += "~"
	}
	if g.r.Intn(5) == 0 {
		return prefix // no key binding
	}
	kbh := mustJSON(map[string]any{"alg": "EdDSA", "typ": "kb+jwt"})
	kbp := mustJSON(map[string]any{"aud": ctx.Audience, "iat": 1760000500, "nonce": ctx.Nonce, "sd_hash": sdjwt.Digest(prefix)})
	if g.r.Intn(4) == 0 { // a KB-JWT for another verifier: must travel whole
		kbp = mustJSON(map[string]any{"aud": "did:lz:other", "iat": 1760000500, "nonce": "x", "sd_hash": sdjwt.Digest(prefix)})
	}
	return prefix + jws.B64.EncodeToString(kbh) + "." + jws.B64.EncodeToString(kbp) + "." + g.b64(64)
}

func testCtx() *Context {
	return &Context{Nonce: "bm9uY2UtMTIzNDU2", Audience: "did:lz:window-1",
		Known: []string{"did:lz:demo-dept", "did:lz:demo-dept#key-1", "urn:lz:vct:test", "claim_7", "did:lz:window-1"}}
}

// Property: decode(encode(p)) == p for random presentations.
func TestCompactRoundTripRandom(t *testing.T) {
	ctx := testCtx()
	g := gen{rand.New(rand.NewSource(1))}
	var plain, compact int
	for i := 0; i < 300; i++ {
		n := g.r.Intn(2) + 1
		var ps []string
		for j := 0; j < n; j++ {
			ps = append(ps, g.presentation(ctx))
		}
		b, err := Encode(ps, ctx)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		back, err := Decode(b, ctx)
		if err != nil {
			t.Fatalf("case %d decode: %v", i, err)
		}
		for j := range ps {
			if back[j] != ps[j] {
				t.Fatalf("case %d: presentation %d differs\n got %s\nwant %s", i, j, back[j], ps[j])
			}
			plain += len(ps[j])
		}
		compact += len(b)
	}
	t.Logf("compact form is %.1f%% of the text form", 100*float64(compact)/float64(plain))
	if compact*2 > plain {
		t.Errorf("compact form not compact: %d vs %d bytes", compact, plain)
	}
}

// The IETF example is not in canonical JSON: it must still round-trip exactly.
func TestCompactIETFVector(t *testing.T) {
	text := string(testvectors.Read(t, "sd-jwt/presentation-with-kb.txt"))
	ctx := &Context{Nonce: "1234567890", Audience: "https://verifier.example.org"}
	b, err := Encode([]string{text}, ctx)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(b, ctx)
	if err != nil || back[0] != text {
		t.Fatalf("round trip: %v", err)
	}
	t.Logf("IETF example: %d text bytes → %d CBOR bytes", len(text), len(b))
}

// The verifier's context matters: another nonce or audience rebuilds a different KB-JWT
// (which the SD-JWT verifier then rejects); an unknown reference is a clear error.
func TestCompactContextMismatch(t *testing.T) {
	ctx := testCtx()
	g := gen{rand.New(rand.NewSource(2))}
	var p string
	for p = g.presentation(ctx); !strings.Contains(p, "~ey") || strings.HasSuffix(p, "~"); p = g.presentation(ctx) {
	}
	b, err := Encode([]string{p}, ctx)
	if err != nil {
		t.Fatal(err)
	}
	other := *ctx
	other.Nonce = "another"
	if back, err := Decode(b, &other); err == nil && back[0] == p {
		t.Error("decoding with another nonce rebuilt the original")
	}
	empty := &Context{Nonce: ctx.Nonce, Audience: ctx.Audience}
	if _, err := Decode(b, empty); err == nil || !strings.Contains(err.Error(), "knows") {
		t.Errorf("unknown reference: err = %v", err)
	} else if !errors.Is(err, ErrUnknownReference) || !errors.Is(err, ErrMalformed) || errors.Is(err, ErrAmbiguousReference) {
		t.Errorf("unknown reference: not typed: %v", err)
	}
	// A list in which the reference's 2-byte prefix is shared: ambiguous, typed as such.
	ref := sha256.Sum256([]byte("did:lz:demo-dept"))
	var collider string
	for i := 0; ; i++ {
		s := fmt.Sprintf("collider-%d", i)
		if h := sha256.Sum256([]byte(s)); h[0] == ref[0] && h[1] == ref[1] {
			collider = s
			break
		}
	}
	crowded := *ctx
	crowded.Known = append(slices.Clone(ctx.Known), collider)
	if _, err := Decode(b, &crowded); !errors.Is(err, ErrAmbiguousReference) || !errors.Is(err, ErrMalformed) {
		t.Errorf("ambiguous reference: err = %v", err)
	}
}

func TestCompactRejects(t *testing.T) {
	ctx := testCtx()
	enc := func(v any) []byte {
		b, err := encMode.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var deep any = "x"
	for i := 0; i < 100; i++ {
		deep = []any{deep}
	}
	cases := map[string][]byte{
		"empty":         nil,
		"not cbor":      []byte("hello"),
		"wrong version": enc([]any{uint64(2), []any{}}),
		"no list":       enc([]any{uint64(1), "x"}),
		"bad pres":      enc([]any{uint64(1), []any{[]any{1, 2}}}),
		"cycle": enc([]any{uint64(1), []any{[]any{[]byte("{}"), []byte("{}"), []byte{1},
			[]any{map[any]any{uint64(15): []any{uint64(1)}}, map[any]any{uint64(15): []any{uint64(0)}}}, nil}}}),
		"bad ref":    enc([]any{uint64(1), []any{[]any{[]byte("{}"), map[any]any{uint64(15): []any{uint64(9)}}, []byte{1}, []any{}, nil}}}),
		"deep":       enc([]any{uint64(1), []any{[]any{[]byte("{}"), map[any]any{"a": deep}, []byte{1}, []any{}, nil}}}),
		"indefinite": {0x82, 0x01, 0x9f, 0xff},
		// #6.11([]) indexed an empty array (a panic on hostile input).
		"empty P-256 JWK": enc([]any{uint64(1), []any{[]any{[]byte("{}"), map[any]any{"a": cbor.Tag{Number: tagJWK, Content: []any{}}}, []byte{1}, []any{}, nil}}}),
		"short P-256 JWK": enc([]any{uint64(1), []any{[]any{[]byte("{}"), map[any]any{"a": cbor.Tag{Number: tagJWK, Content: []any{make([]byte, 32)}}}, []byte{1}, []any{}, nil}}}),
	}
	for name, b := range cases {
		if _, err := Decode(b, ctx); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzDecodeCompact: arbitrary bytes never panic, hang or allocate without bound.
func FuzzDecodeCompact(f *testing.F) {
	ctx := testCtx()
	g := gen{rand.New(rand.NewSource(3))}
	for i := 0; i < 5; i++ {
		b, err := Encode([]string{g.presentation(ctx)}, ctx)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := Decode(b, ctx)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to something that decodes to the same texts.
		b2, err := Encode(out, ctx)
		if err != nil {
			return // e.g. not an SD-JWT shape at all
		}
		out2, err := Decode(b2, ctx)
		if err != nil || len(out2) != len(out) {
			t.Fatalf("re-encode: %v", err)
		}
		for i := range out {
			if out[i] != out2[i] {
				t.Fatal("re-encoded form decodes differently")
			}
		}
	})
}

// golden keeps one encoded form stable: the wire format must not drift silently.
func TestCompactGolden(t *testing.T) {
	ctx := testCtx()
	g := gen{rand.New(rand.NewSource(42))}
	p := g.presentation(ctx)
	b, err := Encode([]string{p}, ctx)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	got := fmt.Sprintf("%x\n", h)
	path := filepath.Join("testdata", "compact-golden.sha256")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with UPDATE_GOLDEN=1 once)", err)
	}
	if !bytes.Equal(want, []byte(got)) {
		t.Fatalf("compact form changed: %s, golden %s", got, want)
	}
}
