package refcred

import (
	"testing"
	"time"

	"lianzheng/credential"
	"lianzheng/credential/sdjwtvc"
)

func TestReferenceLicenceVerifies(t *testing.T) {
	now := time.Now()
	f, err := DrivingLicence(now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	sd, err := f.Issue()
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.Present(sd, now)
	if err != nil {
		t.Fatal(err)
	}
	v, err := sdjwtvc.Verify(p, f.VerifyOptions(now))
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Disclosed) != 4 || v.Claims["licence_class"] != "C1" || v.Status == nil || v.Status.Index != 91237 {
		t.Fatalf("verified: %+v", v)
	}
	// Issued before the issuer key existed: rejected.
	early := f.VerifyOptions(now)
	f2, _ := DrivingLicence(now.Add(-time.Hour))
	f2.IssuedAt = now.Add(-2 * 365 * 24 * time.Hour)
	sd2, _ := f2.Issue()
	p2, _ := f2.Present(sd2, now)
	if _, err := sdjwtvc.Verify(p2, early); credential.CodeOf(err) != credential.CodeIssuerKeyMismatch {
		t.Fatalf("backdated credential: %v", err)
	}
}
