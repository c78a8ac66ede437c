package sdjwtvc_test

import (
	"testing"
	"time"

	"lianzheng/credential/sdjwtvc"
	"lianzheng/internal/benchfloor"
	"lianzheng/internal/rig/refcred"
)

// The reference driving licence (10 claims; 4 disclosed with a KB-JWT), each operation as a
// ratio to the raw Ed25519 operations it contains: issue = 1 sign, present = 1 sign,
// verify = 2 verifies (issuer + holder). Goal: verify ≤ 1.5× its floor.

func fixture(b *testing.B) (*refcred.Fixture, time.Time) {
	now := time.Now()
	f, err := refcred.DrivingLicence(now.Add(-time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	return f, now
}

func BenchmarkReferenceLicenceIssue(b *testing.B) {
	sign, _ := benchfloor.Ed25519()
	f, _ := fixture(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.Issue(); err != nil {
			b.Fatal(err)
		}
	}
	benchfloor.Report(b, sign)
}

func BenchmarkReferenceLicencePresent(b *testing.B) {
	sign, _ := benchfloor.Ed25519()
	f, now := fixture(b)
	sd, err := f.Issue()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.Present(sd, now); err != nil {
			b.Fatal(err)
		}
	}
	benchfloor.Report(b, sign)
}

func BenchmarkReferenceLicenceVerify(b *testing.B) {
	_, verify := benchfloor.Ed25519()
	f, now := fixture(b)
	sd, err := f.Issue()
	if err != nil {
		b.Fatal(err)
	}
	p, err := f.Present(sd, now)
	if err != nil {
		b.Fatal(err)
	}
	opt := f.VerifyOptions(now)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := sdjwtvc.Verify(p, opt); err != nil {
			b.Fatal(err)
		}
	}
	benchfloor.Report(b, 2*verify)
}
