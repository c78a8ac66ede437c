package wallet_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"lianzheng/internal/benchfloor"
	"lianzheng/internal/rig/onlinerig"
)

// BenchmarkScanToConsent (issue 12, `make bench`): an online service's request link scanned →
// the consent screen's data ready. Timed: wallet.PlanOpenID4VP — the request object fetched
// from the portal on 127.0.0.1, its signature verified with the portal's key on the ledger
// at its iat, the request held against the portal's online registration and the service
// item on the ledger, and the candidates found (the wallet's credentials read, with their
// status from the ledger's lists). The ledger is the embedded demo node through the wallet's
// light client (each read proof-checked against a verified header).
//
// Floor, measured interleaved with each timed call: the signature verifications the plan
// itself contains — one Ed25519 verification (the request object's). (The light client's
// header checks are verifications too, but per new block, not per scan: outside the floor.)
// Goal ≤ 3× floor; see docs/portal.md for what the time is spent on.
func BenchmarkScanToConsent(b *testing.B) {
	r := onlinerig.New(b)
	ctx := context.Background()
	_, link := r.Start(b)
	if _, err := r.Wallet.PlanOpenID4VP(ctx, link, r.Loopback); err != nil { // warm the caches
		b.Fatal(err)
	}
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	pub, msg := k.Public().(ed25519.PublicKey), make([]byte, 600)
	sig := ed25519.Sign(k, msg)
	benchfloor.Ed25519()
	var timed, floor time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%32 == 0 { // a fresh session now and then (a request lives 3 minutes)
			b.StopTimer()
			_, link = r.Start(b)
			b.StartTimer()
		}
		t0 := time.Now()
		p, err := r.Wallet.PlanOpenID4VP(ctx, link, r.Loopback)
		t1 := time.Now()
		if err != nil || len(p.Asks) != 2 || p.Asks[0].Chosen == "" || p.OverAsk {
			b.Fatalf("%v %+v", err, p)
		}
		ed25519.Verify(pub, msg, sig)
		timed, floor = timed+t1.Sub(t0), floor+time.Since(t1)
	}
	b.StopTimer()
	per := float64(timed.Nanoseconds()) / float64(b.N)
	fl := float64(floor.Nanoseconds()) / float64(b.N)
	b.ReportMetric(per, "plan-ns/op")
	b.ReportMetric(fl, "floor-ns")
	b.ReportMetric(per/fl, "x-floor")
}
