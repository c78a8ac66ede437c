package issuer_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"lianzheng/internal/benchfloor"
	"lianzheng/issuer"
	"lianzheng/issuer/issuertest"
)

// BenchmarkIssue: one credential end to end without HTTP — schema validation, random
// status index, SD-JWT VC (6 disclosures) and the W3C VC with its eddsa-rdfc-2022 proof,
// the SQLite record and holder index row, committed durably (WAL, synchronous=FULL), one
// credential after the other. The floor is what a durable single issuance cannot avoid:
// the two raw Ed25519 signatures each credential contains and one fsync'd 4 KiB write on
// the same filesystem (benchfloor.Fsync), measured just before and after; x-sign-floor is the
// ratio to the two signatures alone.
func BenchmarkIssue(b *testing.B) {
	d, _, _, dbp := setup(b, "civil-affairs")
	ctx := context.Background()
	hk := holderKey(b)
	sign, _ := benchfloor.Ed25519()
	fsync, err := benchfloor.Fsync(filepath.Dir(dbp))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := d.Issue(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriage(), Holder: hk}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	after, err := benchfloor.Fsync(filepath.Dir(dbp)) // the disk's speed drifts: before and after
	if err != nil {
		b.Fatal(err)
	}
	fsync = (fsync + after) / 2
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cred/s")
	b.ReportMetric(fsync, "fsync-ns")
	benchfloor.Report(b, 2*sign+fsync)
	benchfloor.ReportAlso(b, 2*sign, "x-sign-floor")
}

// BenchmarkIssueConcurrent: single issuances as the OpenID4VCI service makes them when many
// wallets redeem offers at once — 16 goroutines per core, each issuing one credential at a
// time, their commits grouped (groupcommit.go). Per credential, wall time over the two raw
// signatures it contains (one core; on 2 cores ≤ 0.5 would be the signatures alone).
func BenchmarkIssueConcurrent(b *testing.B) {
	d, _, _, _ := setup(b, "civil-affairs")
	ctx := context.Background()
	hk := holderKey(b)
	sign, _ := benchfloor.Ed25519()
	before := d.CommitGroups()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := d.Issue(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriage(), Holder: hk}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cred/s")
	b.ReportMetric(float64(b.N)/float64(max(1, d.CommitGroups()-before)), "cred/commit")
	benchfloor.Report(b, 2*sign)
}

// BenchmarkBatch10k: a 10,000-row CSV file (with holder keys) checked, then issued through
// the streaming pipeline — validation, random status entry, both forms signed on
// GOMAXPROCS workers, holder index sealed, 500-row transactions with the allocator state,
// the result CSV written and fsynced per chunk. Floor: the 20,000 raw Ed25519 signatures the
// credentials contain, measured in the same run, one core (x-floor is wall time over it, so
// parallel signing counts in the ratio: on 2 cores ≤ 0.5 would be the raw signatures alone).
func BenchmarkBatch10k(b *testing.B) {
	const rows = 10_000
	dir := b.TempDir()
	in := filepath.Join(dir, "in.csv")
	if err := os.WriteFile(in, []byte(marriageCSV(rows, true, nil)), 0o600); err != nil {
		b.Fatal(err)
	}
	sign, _ := benchfloor.Ed25519()
	ctx := context.Background()
	var elapsed, cpu time.Duration
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
		out := filepath.Join(b.TempDir(), "out.csv")
		b.StartTimer()
		start, c0 := time.Now(), benchfloor.ProcessCPU()
		res, err := d.RunBatch(ctx, "marriage-certificate", in, out, issuer.BatchOptions{})
		if err != nil || res.Count != rows {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
		cpu += benchfloor.ProcessCPU() - c0
		b.StopTimer()
		d.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(rows*b.N)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(2*rows*sign, "floor-ns")
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N)/(2*rows*sign), "x-floor")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/(2*rows*sign), "cpu-x-floor")
	}
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
