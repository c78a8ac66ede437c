package verifier

import (
	"context"
	"runtime"
	"testing"
	"time"

	"lianzheng/internal/benchfloor"
)

// BenchmarkVerifyRealEstateDir is BenchmarkVerifyRealEstate with the window's state kept in
// a directory (the SQLite store: one claim transaction and one receipt INSERT per verdict),
// after prior verdicts already stored (a window some way into its day).
func BenchmarkVerifyRealEstateDir(b *testing.B) {
	now := time.Now()
	m := newMemWindow(b, now)
	v, err := New(Config{Trust: m.trust, Window: m.v.cfg.Window, KeyID: m.v.cfg.KeyID, Key: m.v.cfg.Key,
		Dir: b.TempDir(), Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	m.v = v
	hr, mc := m.issue(b, "household-register", now), m.issue(b, "marriage-certificate", now)
	ctx := context.Background()
	for i := 0; i < 500; i++ { // prior verdicts of the day
		if vd := v.Verify(ctx, m.realEstateAnswer(b, hr, mc)); !vd.OK {
			b.Fatalf("%s %s", vd.Code, vd.Detail)
		}
	}
	benchfloor.Ed25519()
	il := newInterleaved()
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		b.StopTimer()
		batch := make([]string, min(16, b.N-done))
		for i := range batch {
			batch[i] = m.realEstateAnswer(b, hr, mc)
		}
		runtime.GC()
		b.StartTimer()
		for i := len(batch) - 1; i >= 0; i-- {
			il.run(b, 4, func() {
				if vd := v.Verify(ctx, batch[i]); !vd.OK {
					b.Fatalf("%s %s", vd.Code, vd.Detail)
				}
			})
		}
		done += len(batch)
	}
	b.StopTimer()
	il.report(b, 4)
}
