package verifier

import (
	"testing"
	"time"
)

// BenchmarkVerifyRealEstateNewHolders: VerifyRealEstate with the window's usual case, every
// answer from citizens it has not seen — both credentials issued afresh, each to a new
// holder key, before each answer (untimed) — so each verification decodes and checks two
// holder keys it has never met (internal/edkey.Check, then the KB-JWT verification on the
// decoded point). Same floor as VerifyRealEstate.
func BenchmarkVerifyRealEstateNewHolders(b *testing.B) {
	benchVerify(b, 4, func(m *memWindow, now time.Time) string {
		hr, mc := m.issue(b, "household-register", now), m.issue(b, "marriage-certificate", now)
		return m.realEstateAnswer(b, hr, mc)
	})
}
