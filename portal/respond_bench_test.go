package portal_test

import (
	"context"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"runtime"
	"testing"
	"time"

	"lianzheng/internal/benchfloor"
	"lianzheng/internal/rig/onlinerig"
)

// BenchmarkRespondToVerdict (issue 12, `make bench`): an encrypted response received →
// verdict ready. Timed: portal.Server.Respond on the wallet core's real two-credential
// answer (household register 4 fields + marriage certificate 5): the JWE header checked
// against the session, ECDH-ES decryption (P-256) and AES-GCM, the response parsed, state
// checked, and the verifier core's pipeline (replay, request, registration, per credential
// the issuer's signature and the KB-JWT, catalogue, authorisation, status, fields), the
// receipt signed and recorded, the session's verdict set. Trust is the portal's warm cache
// and its records are in memory (a portal's SQLite records are outside: see docs/portal.md).
//
// Floor, measured interleaved with each timed call (so that the shared machine's load at
// that moment is in both): the raw cryptography the answer contains — one P-256 ECDH (the
// JWE's key agreement) and 4 Ed25519 verifications (issuer + KB-JWT per credential).
// x-floor is the time per op over that; x-sigops adds the receipt's Ed25519 signature.
// Goal ≤ 2× floor.
func BenchmarkRespondToVerdict(b *testing.B) {
	r := onlinerig.New(b)
	ctx := context.Background()
	// warm the caches (DID histories, catalogue, status lists) as a running portal has them
	if id, jwe := r.Answer(b); true {
		if a, err := r.Server.Respond(ctx, id, jwe); err != nil || !a.Verdict.OK {
			b.Fatalf("warm-up: %v %+v", err, a)
		}
	}
	fl := newFloor()
	benchfloor.Ed25519()
	b.ReportAllocs()
	b.ResetTimer()
	b.StopTimer()
	var timed time.Duration
	for done := 0; done < b.N; {
		batch := make([][2]string, min(8, b.N-done))
		for i := range batch {
			batch[i][0], batch[i][1] = r.Answer(b)
		}
		runtime.GC()
		b.StartTimer()
		for _, a := range batch {
			t0 := time.Now()
			ans, err := r.Server.Respond(ctx, a[0], a[1])
			timed += time.Since(t0)
			if err != nil || !ans.Verdict.OK {
				b.Fatalf("%v %+v", err, ans)
			}
			fl.run()
		}
		b.StopTimer()
		done += len(batch)
	}
	per := float64(timed.Nanoseconds()) / float64(b.N)
	floor := float64(fl.ecdh+fl.verify) / float64(b.N)
	b.ReportMetric(per, "respond-ns/op")
	b.ReportMetric(floor, "floor-ns")
	b.ReportMetric(per/floor, "x-floor")
	b.ReportMetric(per/(floor+float64(fl.sign)/float64(b.N)), "x-sigops")
}

// floor is the interleaved raw cryptography of one answer.
type floor struct {
	priv               *ecdh.PrivateKey
	peer               *ecdh.PublicKey
	key                ed25519.PrivateKey
	pub                ed25519.PublicKey
	msg, sig           []byte
	ecdh, verify, sign time.Duration
}

func newFloor() *floor {
	priv, _ := ecdh.P256().GenerateKey(rand.Reader)
	eph, _ := ecdh.P256().GenerateKey(rand.Reader)
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	msg := make([]byte, 600)
	return &floor{priv: priv, peer: eph.PublicKey(), key: k, pub: k.Public().(ed25519.PublicKey), msg: msg, sig: ed25519.Sign(k, msg)}
}

// run: one P-256 ECDH, 4 Ed25519 verifications, 1 Ed25519 signature.
func (f *floor) run() {
	t0 := time.Now()
	if _, err := f.priv.ECDH(f.peer); err != nil {
		panic(err)
	}
	t1 := time.Now()
	for i := 0; i < 4; i++ {
		ed25519.Verify(f.pub, f.msg, f.sig)
	}
	t2 := time.Now()
	ed25519.Sign(f.key, f.msg)
	f.ecdh += t1.Sub(t0)
	f.verify += t2.Sub(t1)
	f.sign += time.Since(t2)
}
