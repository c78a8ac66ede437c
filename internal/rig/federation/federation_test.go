package federation

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"lianzheng/internal/keystore"
)

// TestFederationDemo: the whole cross-region scenario on two real consortia on loopback
// (region B with three validators): every manifest boolean observed true, and the auditor's
// files written.
func TestFederationDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two consortia")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out := t.TempDir()
	res, err := Run(ctx, Options{Out: out, Keystore: &keystore.Options{KDF: &keystore.KDFParams{Time: 1, Memory: 8 * 1024, Threads: 1}},
		Step: func(zh, en string) { t.Log(en) }})
	if err != nil {
		t.Fatal(err)
	}
	if !res.CrossRegionVerifiedOnline || !res.CrossRegionVerifiedOffline || !res.ForeignRevokedRefusedOffline || !res.WithdrawnRefused {
		t.Fatalf("%+v", res)
	}
	if res.WithdrawnCode != "agreement_inactive" {
		t.Fatalf("withdrawn: refused with %s, want agreement_inactive", res.WithdrawnCode)
	}
	b, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Federation Result `json:"federation"`
	}
	if err := json.Unmarshal(b, &m); err != nil || !m.Federation.CrossRegionVerifiedOffline || len(m.Federation.Files) < 5 {
		t.Fatalf("manifest %s: %v", b, err)
	}
	for _, f := range m.Federation.Files {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
}
