package home

import (
	"context"
	"database/sql"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"lianzheng/issuer"
	"lianzheng/issuer/issuertest"
)

// TestServerFailureLogged (issue 14.2): a failure inside a service the wiring starts — here
// the demo's in-process OpenID4VCI service, whose records table has gone — reaches the
// citizen as a server error and is logged with its cause kind, the offer and the type, and
// no claim value. A window asked for the receipt of a verdict without one anchors nothing.
func TestServerFailureLogged(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded ledger node")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "lz-home-log-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	var logs syncBuffer
	o := testOptions
	o.Log = slog.New(slog.NewTextHandler(&logs, nil))
	h, err := OpenDemo(ctx, dir, &o)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ps, _ := h.Issuer("public-security")
	typ, err := h.Ledger().Type(ctx, "household-register")
	if err != nil {
		t.Fatal(err)
	}
	claims := issuertest.SampleClaims(*typ)
	offer, err := ps.Offer(ctx, issuer.Request{Type: typ.ID, Claims: claims})
	if err != nil {
		t.Fatal(err)
	}
	// the department's database loses its records table (a broken disk, a bad migration)
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: filepath.Join(dir, "issuer", "public-security.db")}).EscapedPath()+
		"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`ALTER TABLE records RENAME TO records_gone`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	c := h.Wallet()
	if err := c.Setup("246810"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Receive(ctx, offer.Text, offer.PIN); err == nil || !strings.Contains(err.Error(), "500") {
		t.Fatalf("receive against a broken department: %v", err)
	}
	s := logs.String()
	var line string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "issuance failed") {
			line = l
		}
	}
	if !strings.Contains(line, "level=ERROR") || !strings.Contains(line, "err_kind=records") ||
		!strings.Contains(line, "type=household-register") || !strings.Contains(line, "department=public-security") {
		t.Fatalf("no log line with the cause of the failure:\n%s", s)
	}
	for _, v := range claims {
		if strings.Contains(s, v.(string)) {
			t.Fatalf("claim value %q in the logs:\n%s", v, s)
		}
	}
	if strings.Contains(s, offer.PIN) {
		t.Fatal("PIN in the logs")
	}

	win, _ := h.Window(DemoWindow)
	if vd := win.Verify(ctx, "hello"); vd.OK || vd.ReceiptID != "" {
		t.Fatalf("unreadable text: %+v", vd)
	}
	if _, err := win.HandReceipt(ctx, ""); err == nil {
		t.Fatal("a receipt handed for a verdict without one")
	}
	if n := win.Core().Pending(); n != 0 {
		t.Fatalf("%d receipts pending after unreadable text", n)
	}
}

// TestOpenLogFile: info lines go to the file, warnings also to the echo; the file is private
// and turned over past MaxLogBytes (one old file kept).
func TestOpenLogFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "logs", "services.log")
	var echo syncBuffer
	lg, f, err := OpenLogFile(path, &echo)
	if err != nil {
		t.Fatal(err)
	}
	lg.Info("issuer service", "listen", "127.0.0.1:1")
	lg.Warn("receipts not anchored", "err_kind", "ledger")
	f.Close()
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), "issuer service") || !strings.Contains(string(b), "receipts not anchored") {
		t.Fatalf("file: %s", b)
	}
	if e := echo.String(); strings.Contains(e, "issuer service") || !strings.Contains(e, "receipts not anchored") {
		t.Fatalf("echo: %s", e)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
	if err := os.WriteFile(path, make([]byte, MaxLogBytes+1), 0o600); err != nil {
		t.Fatal(err)
	}
	lg, f, err = OpenLogFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	lg.Info("after the turn")
	f.Close()
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), "after the turn") || len(b) > 1000 {
		t.Fatalf("new file: %d bytes", len(b))
	}
	if fi, err := os.Stat(path + ".1"); err != nil || fi.Size() != MaxLogBytes+1 {
		t.Fatalf("old file: %v", err)
	}
}
