package issuer_test

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"lianzheng/internal/benchfloor"
	"lianzheng/issuer"
	"lianzheng/issuer/issuertest"
)

// BenchmarkIssue: one credential end to end without HTTP — schema validation, random
// status index, SD-JWT VC (6 disclosures) and the W3C VC with its eddsa-rdfc-2022 proof
// (RDF canonicalisation), the SQLite record and the persisted allocator state, committed.
// The floor is the two raw Ed25519 signatures each credential contains.
func BenchmarkIssue(b *testing.B) {
	d, _, _, _ := setup(b, "civil-affairs")
	ctx := context.Background()
	hk := holderKey(b)
	sign, _ := benchfloor.Ed25519()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := d.Issue(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriage(), Holder: hk}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cred/s")
	benchfloor.Report(b, 2*sign)
}

// BenchmarkBatch10k: a 10,000-row CSV (with holder keys) parsed, validated and issued
// (both forms, one transaction) — the batch path without HTTP. Floor: 20,000 raw signs.
func BenchmarkBatch10k(b *testing.B) {
	const rows = 10_000
	text := marriageCSV(rows, true, nil)
	sign, _ := benchfloor.Ed25519()
	ctx := context.Background()
	var elapsed time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		l, err := issuertest.New(time.Now().Add(-time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		d, err := issuer.Open(ctx, issuer.Config{ID: "civil-affairs", Signer: l.Signer("civil-affairs"), Ledger: l,
			DBPath: filepath.Join(b.TempDir(), "b.db"), Sealer: testSealer("civil-affairs")})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		rs, err := issuer.ReadCSV(strings.NewReader(text))
		if err != nil {
			b.Fatal(err)
		}
		res, err := d.Batch(ctx, "marriage-certificate", rs, 0)
		if err != nil || len(res.Issued) != rows {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
		b.StopTimer()
		d.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(rows*b.N)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(2*rows*sign, "floor-ns")
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N)/(2*rows*sign), "x-floor")
}

// BenchmarkSearch100k: the 已签发 list over 100,000 records — the first page of 50 with the
// total (count, page, 50 unseals), a page deep by keyset, and an exact search by ID number
// (two keyed hashes and an index lookup).
func BenchmarkSearch100k(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	d, _, clk, _ := setup(b, "public-security")
	gen := syntheticHousehold(clk.now().Add(-n * time.Second))
	if err := d.BulkInsertForTest(ctx, n, gen); err != nil {
		b.Fatal(err)
	}
	deep, err := d.Search(ctx, issuer.SearchFilter{Limit: 1, Offset: n / 2})
	if err != nil {
		b.Fatal(err)
	}
	after := strconv.FormatInt(deep.Records[0].IssuedAt.Unix(), 10) + "." + deep.Records[0].ID
	_, claims := gen(n / 3)
	for _, bc := range []struct {
		name string
		f    issuer.SearchFilter
	}{
		{"first-page", issuer.SearchFilter{}},
		{"keyset-page", issuer.SearchFilter{After: after}},
		{"by-id-number", issuer.SearchFilter{Query: claims["id_number"].(string)}},
		{"type-and-state", issuer.SearchFilter{Type: "residence-permit", State: issuer.StateSuspended}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := d.Search(ctx, bc.f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
