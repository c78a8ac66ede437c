// Package benchfloor measures the floor a benchmark is judged against — the raw
// cryptographic operations it cannot avoid — in the same process and run, and reports the
// benchmark's time as a ratio to it (metric "x-floor"). Ratios, unlike absolute times, are
// comparable across machines and survive noisy neighbours reasonably well.
package benchfloor

import (
	"crypto/ed25519"
	"crypto/sha256"
	"sync"
	"testing"
	"time"
)

var (
	once             sync.Once
	signNs, verifyNs float64
)

func measure() {
	seed := sha256.Sum256([]byte("benchfloor"))
	k := ed25519.NewKeyFromSeed(seed[:])
	msg := make([]byte, 600)
	sig := ed25519.Sign(k, msg)
	pub := k.Public().(ed25519.PublicKey)
	signNs = timeOp(func() { ed25519.Sign(k, msg) })
	verifyNs = timeOp(func() { ed25519.Verify(pub, msg, sig) })
}

// timeOp runs op for about 300 ms and returns its mean time in nanoseconds. (testing.Benchmark
// cannot be called from inside a running benchmark: it waits on the same lock.)
func timeOp(op func()) float64 {
	for i := 0; i < 100; i++ { // warm up
		op()
	}
	n, start := 0, time.Now()
	for time.Since(start) < 300*time.Millisecond {
		for i := 0; i < 100; i++ {
			op()
		}
		n += 100
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}

// Ed25519 returns the time of one raw Ed25519 sign and one verify of a 600-byte message, in
// nanoseconds, measured once per process.
func Ed25519() (sign, verify float64) {
	once.Do(measure)
	return signNs, verifyNs
}

// Report adds the floor (ns) and the ratio of the benchmark's time per op to it. Call it
// after the timed loop.
func Report(b *testing.B, floorNs float64) {
	b.Helper()
	if b.N == 0 || floorNs <= 0 {
		return
	}
	per := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(floorNs, "floor-ns")
	b.ReportMetric(per/floorNs, "x-floor")
}
