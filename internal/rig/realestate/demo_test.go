package realestate

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lianzheng/credential"
)

func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out := t.TempDir()
	rep, err := Run(ctx, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Verdict.OK || len(rep.Verdict.Credentials) != 2 || !rep.DecodedFromPNG || !rep.ReceiptOK || !rep.WalletHistory || rep.W3CVerified != 2 {
		t.Fatalf("%+v", rep)
	}
	if rep.AfterRevoke.Code != credential.CodeRevoked || rep.OfflineRevoked.Code != credential.CodeRevoked {
		t.Fatalf("after revocation: %s / %s", rep.AfterRevoke.Code, rep.OfflineRevoked.Code)
	}
	b, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	paths := []string{m.Request.Text, m.Request.PNG, m.Response.Text, m.Response.PNG, m.StatusListCredential, m.TrustSnapshot, m.Receipt}
	for _, c := range m.Credentials {
		paths = append(paths, c.SDJWTVC, c.W3CVC, c.IssuerJWK, c.IssuerDIDDocument)
	}
	paths = append(paths, m.Response.Presentations...)
	for _, p := range paths {
		if fi, err := os.Stat(filepath.Join(out, p)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", p, err)
		}
	}
	// The verdict file, after session close, holds labels but the receipt no values.
	r, _ := os.ReadFile(filepath.Join(out, m.Receipt))
	if strings.Contains(string(r), "测试用户甲") {
		t.Error("personal value in the receipt")
	}
}
