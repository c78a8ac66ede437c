package coredemo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lianzheng/credential"
)

func TestRealEstateScenario(t *testing.T) {
	dir := t.TempDir()
	rep, err := Run(dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.DecodedFromPNG {
		t.Error("the response QR image did not decode to the same text")
	}
	if len(rep.Verdicts) != 2 {
		t.Fatalf("%d verdicts", len(rep.Verdicts))
	}
	for _, v := range rep.Verdicts {
		if !v.OK {
			t.Errorf("%s: %s %s", v.TypeZh, v.Code, v.Message)
		}
	}
	hr := rep.Verdicts[0].raw
	for _, f := range []string{"name", "id_number", "address", "marital_status"} {
		if _, ok := hr.Claims[f]; !ok {
			t.Errorf("household register: requested field %s not disclosed", f)
		}
	}
	for _, f := range []string{"birth_date", "relation_to_head", "household_number"} {
		if _, ok := hr.Claims[f]; ok {
			t.Errorf("household register: %s disclosed but not requested", f)
		}
	}
	if !rep.AfterRevoke[0].OK || rep.AfterRevoke[1].OK || rep.AfterRevoke[1].Code != credential.CodeRevoked {
		t.Errorf("after revocation: %+v", rep.AfterRevoke)
	}
	if rep.W3CVerified != 2 {
		t.Errorf("W3C VCs verified: %d", rep.W3CVerified)
	}
	if !strings.HasPrefix(rep.ResponseQR, "LZ1R:") {
		t.Errorf("QR text %q", rep.ResponseQR[:10])
	}
	for _, f := range []string{"response-qr.png", "response-qr.txt", "household-register.w3c-vc.json", "marriage-certificate.presentation.txt"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	t.Logf("2-credential response: %d chars, QR version %d-M (plain text would need %d chars)", len(rep.ResponseQR), rep.QRVersion, rep.PlainChars)
}
