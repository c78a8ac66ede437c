package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lianzheng/did"
	"lianzheng/gateway"
	"lianzheng/home/demonet"
)

// TestGatewayExport: a department home exports the static gateway with its own signed
// status lists; a ledger home alone exports what needs no signature.
func TestGatewayExport(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	base := "http://" + ln.Addr().String()
	ln.Close()
	var out bytes.Buffer
	if err := ledgerInit([]string{"--home", t.TempDir(), "--demo", "--public-base-url", "http://gateway.example"}, &out); err == nil {
		t.Fatal("plain http off loopback accepted as the public base URL")
	}
	lh, _ := startDemoLedger(t, ctx, demonet.EmbeddedOptions{PublicBaseURL: base})
	t.Setenv("LZ_ISSUER_PASSPHRASE", "民政局 test passphrase")
	ih := filepath.Join(t.TempDir(), "issuer")
	if err := issuerInit([]string{"--home", ih, "--id", "civil-affairs", "--ledger-home", lh}, &out); err != nil {
		t.Fatal(err)
	}
	_, hk, _ := ed25519.GenerateKey(rand.Reader)
	holder := did.KeyFromEd25519(hk.Public().(ed25519.PublicKey))
	cdir := t.TempDir()
	if err := issuerIssue([]string{"--home", ih, "--type", "marriage-certificate", "--holder", holder, "--out", cdir,
		"--claim", "holder_name=测试用户甲", "--claim", "spouse_name=测试用户乙", "--claim", "spouse_id_number=TEST2",
		"--claim", "registration_date=2018-05-20", "--claim", "certificate_number=J-1", "--claim", "registry=示例登记处"}, &out); err != nil {
		t.Fatal(err)
	}
	sd, _ := filepath.Glob(filepath.Join(cdir, "*.sd-jwt"))
	if len(sd) != 1 {
		t.Fatal("no credential written")
	}
	// With the department home: its lists, signed.
	dir := t.TempDir()
	out.Reset()
	if err := cmdGateway([]string{"export", dir, "--issuer-home", ih}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), base) {
		t.Fatal(out.String())
	}
	for _, f := range []string{"status/civil-affairs/0/token", "status/civil-affairs/0/revocation", "status/civil-affairs/0/suspension",
		"1.0/identifiers/did:lz:civil-affairs", "vct/urn:lz:vct:marriage-certificate", "ns/credentials/v1", gateway.IndexFile} {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f))); err != nil {
			t.Errorf("export lacks %s: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "status", "public-security")); err == nil {
		t.Error("a department home exported another department's lists")
	}
	// The ledger alone: no lists (nobody's key), everything else.
	dir2 := t.TempDir()
	if err := cmdGateway([]string{"export", dir2, "--ledger-home", lh}, &out); err != nil {
		t.Fatal(err)
	}
	var idx gateway.ExportIndex
	ib, _ := os.ReadFile(filepath.Join(dir2, gateway.IndexFile))
	if err := json.Unmarshal(ib, &idx); err != nil || idx.PublicBaseURL != base {
		t.Fatalf("index %s %v", ib, err)
	}
	for _, e := range idx.Files {
		if strings.HasPrefix(e.Path, "/status/") {
			t.Errorf("unsigned export has %s", e.Path)
		}
	}
	if err := cmdGateway([]string{"export", dir2}, &out); err == nil {
		t.Fatal("export without a ledger accepted")
	}
}
