package dataintegrity

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"lianzheng/credential/ldcontext"
)

// Benchmarks on a 10-claim credential. Each of our benchmarks reports, from the same process,
// its time divided by the floors: raw Ed25519 (the one signature it contains) and aries'
// Ed25519Signature2020 doing the same job (both canonicalise with URDNA2015).
//
//	x-raw-ed25519  ours ÷ one raw Ed25519 sign (or verify)
//	x-aries-2020   ours ÷ aries Ed25519Signature2020 sign (or verify) of the same credential

type benchFixture struct {
	pub          ed25519.PublicKey
	priv         ed25519.PrivateKey
	vm           string
	cred         map[string]any
	signed       []byte // eddsa-rdfc-2022
	ariesUnsig   []byte
	ariesSigned  []byte
	resolve      KeyResolver
	rawSignNs    float64
	rawVerifyNs  float64
	ariesSignNs  float64
	ariesVerifNs float64
}

var (
	fixtureOnce sync.Once
	fixture     *benchFixture
)

// measure times fn like a benchmark does: doubling the iteration count until a run
// takes at least 300 ms. (testing.Benchmark cannot be nested inside a running benchmark:
// it takes the package's benchmark lock and deadlocks.)
func measure(fn func()) float64 {
	for n := 1; ; n *= 2 {
		start := time.Now()
		for i := 0; i < n; i++ {
			fn()
		}
		if d := time.Since(start); d >= 300*time.Millisecond || n >= 1<<24 {
			return float64(d.Nanoseconds()) / float64(n)
		}
	}
}

func getFixture(b *testing.B) *benchFixture {
	fixtureOnce.Do(func() {
		f := &benchFixture{vm: "did:lz:gongan#key-1"}
		f.pub, f.priv, _ = ed25519.GenerateKey(nil)
		f.resolve = func(m string) (ed25519.PublicKey, error) {
			if m != f.vm {
				return nil, errors.New("unknown key")
			}
			return f.pub, nil
		}
		f.cred = testCredential(b)
		created := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		s, err := SignCredential(f.cred, f.vm, f.priv, created)
		if err != nil {
			b.Fatal(err)
		}
		f.signed, _ = json.Marshal(s)
		ac := copyMap(f.cred)
		ac["@context"] = []any{ldcontext.CredentialsV2, ldcontext.LianZhengV1, ldcontext.Ed25519Signature2020}
		f.ariesUnsig, _ = json.Marshal(ac)
		if f.ariesSigned, err = SignEd25519Signature2020(f.ariesUnsig, f.vm, created, f.priv); err != nil {
			b.Fatal(err)
		}
		if err := VerifyEd25519Signature2020(f.ariesSigned, f.resolve); err != nil {
			b.Fatal(err)
		}
		// Floors, measured once per process, inside this run.
		msg := make([]byte, 64)
		sig := ed25519.Sign(f.priv, msg)
		f.rawSignNs = measure(func() { ed25519.Sign(f.priv, msg) })
		f.rawVerifyNs = measure(func() { ed25519.Verify(f.pub, msg, sig) })
		f.ariesSignNs = measure(func() {
			if _, err := SignEd25519Signature2020(f.ariesUnsig, f.vm, created, f.priv); err != nil {
				panic(err)
			}
		})
		f.ariesVerifNs = measure(func() {
			if err := VerifyEd25519Signature2020(f.ariesSigned, f.resolve); err != nil {
				panic(err)
			}
		})
		fixture = f
	})
	if fixture == nil {
		b.Fatal("fixture setup failed")
	}
	return fixture
}

func report(b *testing.B, raw, aries float64) {
	ours := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(ours/raw, "x-raw-ed25519")
	b.ReportMetric(ours/aries, "x-aries-2020")
	b.Logf("ours %.0f µs/op; raw Ed25519 %.1f µs/op; aries Ed25519Signature2020 %.0f µs/op", ours/1e3, raw/1e3, aries/1e3)
}

func BenchmarkSignRDFC10Claims(b *testing.B) {
	f := getFixture(b)
	created := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := SignCredential(f.cred, f.vm, f.priv, created); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	report(b, f.rawSignNs, f.ariesSignNs)
}

func BenchmarkVerifyRDFC10Claims(b *testing.B) {
	f := getFixture(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Verify(f.signed, f.resolve); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	report(b, f.rawVerifyNs, f.ariesVerifNs)
}

func BenchmarkSignJCS10Claims(b *testing.B) {
	f := getFixture(b)
	cfg := ProofConfig{Cryptosuite: CryptosuiteJCS, VerificationMethod: f.vm, Created: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Sign(f.cred, cfg, f.priv); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	report(b, f.rawSignNs, f.ariesSignNs)
}

func BenchmarkVerifyJCS10Claims(b *testing.B) {
	f := getFixture(b)
	s, err := Sign(f.cred, ProofConfig{Cryptosuite: CryptosuiteJCS, VerificationMethod: f.vm}, f.priv)
	if err != nil {
		b.Fatal(err)
	}
	signed, _ := json.Marshal(s)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Verify(signed, f.resolve); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	report(b, f.rawVerifyNs, f.ariesVerifNs)
}

// The baselines on their own, for reading ns/op directly.
func BenchmarkAriesEd25519Signature2020Sign(b *testing.B) {
	f := getFixture(b)
	created := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := SignEd25519Signature2020(f.ariesUnsig, f.vm, created, f.priv); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAriesEd25519Signature2020Verify(b *testing.B) {
	f := getFixture(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := VerifyEd25519Signature2020(f.ariesSigned, f.resolve); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawEd25519Sign(b *testing.B) {
	_, priv, _ := ed25519.GenerateKey(nil)
	msg := make([]byte, 64)
	for i := 0; i < b.N; i++ {
		ed25519.Sign(priv, msg)
	}
}

func BenchmarkRawEd25519Verify(b *testing.B) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	msg := make([]byte, 64)
	sig := ed25519.Sign(priv, msg)
	for i := 0; i < b.N; i++ {
		ed25519.Verify(pub, msg, sig)
	}
}
