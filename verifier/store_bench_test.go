package verifier

import (
	"context"
	"testing"
	"time"
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
	timeVerify(b, v, 4, func() string { return m.realEstateAnswer(b, hr, mc) })
}
