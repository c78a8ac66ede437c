// Package benchfloor measures the floor a benchmark is judged against — the raw
// cryptographic operations it cannot avoid — in the same process and run, and reports the
// benchmark's time as a ratio to it (metric "x-floor"). Ratios, unlike absolute times, are
// comparable across machines and survive noisy neighbours reasonably well.
package benchfloor

import (
	"crypto/ed25519"
	"crypto/sha256"
	"os"
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

// Fsync returns the time, in nanoseconds, of the least a durable commit costs on the
// filesystem holding dir: one 4 KiB write at the end of a file followed by fsync (what a
// SQLite commit in WAL mode with synchronous=FULL does at the very least: append its frames
// to the WAL and fsync it). Measured on each call (the disk's speed depends on the moment),
// for about 300 ms.
func Fsync(dir string) (float64, error) {
	f, err := os.CreateTemp(dir, "benchfloor-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	page := make([]byte, 4096)
	var werr error
	op := func() {
		if _, err := f.Write(page); err != nil && werr == nil {
			werr = err
		}
		if err := f.Sync(); err != nil && werr == nil {
			werr = err
		}
	}
	n, start := 0, time.Now()
	for time.Since(start) < 300*time.Millisecond || n < 20 {
		op()
		n++
	}
	ns := float64(time.Since(start).Nanoseconds()) / float64(n)
	if werr != nil {
		return 0, werr
	}
	return ns, nil
}

// ReportAlso adds a second ratio of the benchmark's time per op, to another floor, under
// the metric name unit (e.g. "x-sign-floor").
func ReportAlso(b *testing.B, floorNs float64, unit string) {
	b.Helper()
	if b.N == 0 || floorNs <= 0 {
		return
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/floorNs, unit)
}
