package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"io"
	"net/http"

	"lianzheng/credential/sdjwt"
	"lianzheng/did"
	"lianzheng/home/demonet"
)

// TestIssuerCLI drives lz issuer against an embedded demo ledger: init from the demo home
// (key imported into the sealed key store), types, offer, issue, suspend/resume/revoke,
// list, batch (a bad row stops the whole batch); and, by issue and batch, a household
// register whose optional 婚姻状况 is left empty (issued without it).
func TestIssuerCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	lh, _ := startDemoLedger(t, ctx, demonet.EmbeddedOptions{Now: time.Now()})
	t.Setenv("LZ_ISSUER_PASSPHRASE", "民政局 test passphrase")
	home := filepath.Join(t.TempDir(), "issuer")
	run := func(f func([]string, *bytes.Buffer) error, args ...string) string {
		t.Helper()
		var b bytes.Buffer
		if err := f(append(args, "--home", home), &b); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, b.String())
		}
		return b.String()
	}
	w := func(g func([]string, io.Writer) error) func([]string, *bytes.Buffer) error {
		return func(a []string, b *bytes.Buffer) error { return g(a, b) }
	}
	run(w(issuerInit), "--id", "civil-affairs", "--ledger-home", lh)
	if out := run(w(issuerTypes)); !strings.Contains(out, "marriage-certificate") || strings.Contains(out, "household-register") {
		t.Fatal(out)
	}
	claims := []string{"--claim", "holder_name=测试用户甲", "--claim", "spouse_name=测试用户乙", "--claim", "spouse_id_number=TEST2",
		"--claim", "registration_date=2018-05-20", "--claim", "certificate_number=J-1", "--claim", "registry=示例登记处"}
	qr := filepath.Join(t.TempDir(), "offer.png")
	out := run(w(issuerOffer), append([]string{"--type", "marriage-certificate", "--qr", qr}, claims...)...)
	if !strings.Contains(out, "openid-credential-offer://?credential_offer=") || !regexp.MustCompile(`PIN: \d{6}`).MatchString(out) {
		t.Fatal(out)
	}
	if st, err := os.Stat(qr); err != nil || st.Size() == 0 {
		t.Fatal(err)
	}
	_, hk, _ := ed25519.GenerateKey(rand.Reader)
	holder := did.KeyFromEd25519(hk.Public().(ed25519.PublicKey))
	dir := t.TempDir()
	run(w(issuerIssue), append([]string{"--type", "marriage-certificate", "--holder", holder, "--out", dir}, claims...)...)
	files, _ := filepath.Glob(filepath.Join(dir, "*.sd-jwt"))
	if len(files) != 1 {
		t.Fatal(files)
	}
	id := strings.TrimSuffix(filepath.Base(files[0]), ".sd-jwt")
	for _, a := range []string{"suspend", "resume", "revoke"} {
		out := run(func(args []string, b *bytes.Buffer) error { return issuerStatus(a, args, b) }, id)
		if !strings.Contains(out, "ledger block") {
			t.Fatal(out)
		}
	}
	if out := run(w(issuerList)); !strings.Contains(out, id) || !strings.Contains(out, "revoked") {
		t.Fatal(out)
	}
	// found by the holder's full name, shown masked; not by the spouse's
	if out := run(w(issuerList), "--search", "测试用户甲", "--state", "revoked"); !strings.Contains(out, id) ||
		!strings.Contains(out, "测****") || strings.Contains(out, "测试用户甲") || !strings.Contains(out, "1 of 1") {
		t.Fatal(out)
	}
	if out := run(w(issuerList), "--search", "测试用户乙"); strings.Contains(out, id) || !strings.Contains(out, "0 of 0") {
		t.Fatal(out)
	}
	if out := run(w(issuerRotate)); !strings.Contains(out, "#key-2") {
		t.Fatal(out)
	}
	if out := run(w(issuerIssue), append([]string{"--type", "marriage-certificate", "--holder", holder, "--out", dir}, claims...)...); out != "" {
		t.Fatal(out)
	}
	// The service: metadata from lz serve issuer on a free loopback port.
	sctx, stop := context.WithCancel(ctx)
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		f := newIssuerFlags("serve")
		f.fs.Parse([]string{"--home", home})
		done <- serveIssuerCtx(sctx, f, "127.0.0.1:0", "", 5, func(a string) { ready <- a })
	}()
	select {
	case a := <-ready:
		resp, err := http.Get("http://" + a + "/.well-known/openid-credential-issuer")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), `"vct":"urn:lz:vct:marriage-certificate"`) {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	case err := <-done:
		t.Fatal(err)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// DESIGN §5: the department key never lies unencrypted in the issuer home.
	dk, _ := demonet.LoadKey(demonet.KeyDir(lh), "civil-affairs")
	filepath.Walk(home, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, dk.PrivateKey().Seed()) || bytes.Contains(b, []byte(dk.PrivateKeySeed)) {
			t.Errorf("%s holds the raw department key", p)
		}
		if bytes.Contains(b, []byte("测试用户")) { // nor any holder's name in the clear
			t.Errorf("%s holds a holder's name", p)
		}
		return nil
	})
	// Batch: offers for 3 rows; a bad date on one row stops everything.
	csvp := filepath.Join(t.TempDir(), "in.csv")
	good := "holder_name,spouse_name,spouse_id_number,registration_date,certificate_number,registry\n" +
		"甲,乙,T1,2018-05-20,J-2,处\n丙,丁,T2,2019-01-01,J-3,处\n戊,己,T3,2020-02-29,J-4,处\n"
	os.WriteFile(csvp, []byte(strings.Replace(good, "2020-02-29", "2021-02-29", 1)), 0o600)
	var b bytes.Buffer
	if err := issuerBatch([]string{"--home", home, "--type", "marriage-certificate", "--csv", csvp, "--out", filepath.Join(t.TempDir(), "x.csv")}, &b); err == nil ||
		!strings.Contains(err.Error(), "nothing issued") {
		t.Fatal(err)
	}
	os.WriteFile(csvp, []byte(good), 0o600)
	outCSV := filepath.Join(t.TempDir(), "out.csv")
	if out := run(w(issuerBatch), "--type", "marriage-certificate", "--csv", csvp, "--out", outCSV); !strings.Contains(out, "3 offers") {
		t.Fatal(out)
	}

	// Issue 14.1: a household register with 婚姻状况 (optional) left empty is issued by lz
	// issuer issue and by lz issuer batch, without the field — it used to fail.
	home = filepath.Join(t.TempDir(), "public-security")
	run(w(issuerInit), "--id", "public-security", "--ledger-home", lh)
	lacksMarital := func(sd string) {
		t.Helper()
		p, err := sdjwt.Parse(strings.TrimSpace(sd))
		if err != nil {
			t.Fatal(err)
		}
		c, err := p.Resolve()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := c["marital_status"]; ok || c["name"] != "测试用户甲" {
			t.Fatalf("claims %v", c)
		}
	}
	hr := []string{"--claim", "name=测试用户甲", "--claim", "id_number=TEST1", "--claim", "birth_date=1990-01-01",
		"--claim", "relation_to_head=户主", "--claim", "household_number=H-1", "--claim", "address=示例路1号", "--claim", "marital_status="}
	dir = t.TempDir()
	run(w(issuerIssue), append([]string{"--type", "household-register", "--holder", holder, "--out", dir}, hr...)...)
	files, _ = filepath.Glob(filepath.Join(dir, "*.sd-jwt"))
	if len(files) != 1 {
		t.Fatal(files)
	}
	sd, _ := os.ReadFile(files[0])
	lacksMarital(string(sd))
	var rows strings.Builder
	rows.WriteString("name,id_number,birth_date,relation_to_head,household_number,address,marital_status,holder\n")
	for i := 0; i < 3; i++ {
		_, k, _ := ed25519.GenerateKey(rand.Reader)
		rows.WriteString("测试用户甲,TEST" + string(rune('1'+i)) + ",1990-01-01,户主,H-1,示例路1号,," + did.KeyFromEd25519(k.Public().(ed25519.PublicKey)) + "\n")
	}
	os.WriteFile(csvp, []byte(rows.String()), 0o600)
	outCSV = filepath.Join(t.TempDir(), "out.csv")
	if out := run(w(issuerBatch), "--type", "household-register", "--csv", csvp, "--out", outCSV); !strings.Contains(out, "3 credentials") {
		t.Fatal(out)
	}
	res, _ := os.ReadFile(outCSV)
	recs, err := csv.NewReader(bytes.NewReader(res)).ReadAll()
	if err != nil || len(recs) != 4 || recs[0][2] != "sd_jwt" {
		t.Fatalf("%v %q", err, res)
	}
	for _, r := range recs[1:] {
		lacksMarital(r[2])
	}

	// The batch is listed; revoked in bulk (one ledger transaction for its three records);
	// again by an ids file: nothing left to change.
	out = run(w(issuerBatches))
	batchID := regexp.MustCompile(`^[0-9a-f]{32}`).FindString(out)
	if batchID == "" || !strings.Contains(out, "finished") {
		t.Fatal(out)
	}
	if out := run(w(func(a []string, o io.Writer) error { return issuerStatus("revoke", a, o) }), "--batch", batchID); !strings.Contains(out, "3 of 3 records changed") ||
		!strings.Contains(out, "1 ledger transaction(s) on 1 list(s)") {
		t.Fatal(out)
	}
	ids := filepath.Join(t.TempDir(), "ids.txt")
	os.WriteFile(ids, []byte(recs[1][1]+"\n\nno-such-record\n"), 0o600)
	if out := run(w(func(a []string, o io.Writer) error { return issuerStatus("revoke", a, o) }), "--ids", ids); !strings.Contains(out, "0 of 2 records changed, 2 skipped") ||
		!strings.Contains(out, "0 ledger transaction(s)") {
		t.Fatal(out)
	}
	if out := run(w(issuerList), "--state", "revoked"); !strings.Contains(out, "3 of 3") {
		t.Fatal(out)
	}
}
