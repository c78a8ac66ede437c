package home

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"lianzheng/home/demonet"
	"lianzheng/internal/keystore"
	"lianzheng/issuer"
)

var testOptions = Options{Keystore: &keystore.Options{KDF: &keystore.KDFParams{Time: 1, Memory: 8 * 1024, Threads: 1}},
	EmptyBlocksInterval: 200 * time.Millisecond}

// syncBuffer is a log sink the services may write to from their goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestOpenDemo: a demo home is created on first use and only started after; its departments
// serve OpenID4VCI on loopback and log through the given logger (never the PIN); an offer
// reaches the citizen's wallet through the service; Close stops every server and the node,
// and the home opens again with the wallet's state.
func TestOpenDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded ledger node")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "lz-home-") // not t.TempDir: CometBFT may still be closing files
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if Exists(dir) {
		t.Fatal("empty dir is a home")
	}
	var logs syncBuffer
	o := testOptions
	o.Log = slog.New(slog.NewTextHandler(&logs, nil))
	h, err := OpenDemo(ctx, dir, &o)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if !Exists(dir) {
		t.Fatal("no home after OpenDemo")
	}
	want := []string{"public-security", "civil-affairs", "market-regulation", "vehicle-admin", "realestate"}
	if got := h.Departments(); !slices.Equal(got, want) {
		t.Fatalf("departments %v", got)
	}
	var urls []string
	for _, id := range want {
		d, ok := h.Issuer(id)
		if !ok || d.ID() != id || !strings.HasPrefix(d.IssuerURL(), "http://127.0.0.1:") {
			t.Fatalf("%s: %v %+v", id, ok, d)
		}
		resp, err := http.Get(d.IssuerURL() + "/.well-known/openid-credential-issuer")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s metadata: %d", id, resp.StatusCode)
		}
		urls = append(urls, d.IssuerURL())
	}
	if _, ok := h.Issuer("nobody"); ok {
		t.Fatal("unknown department found")
	}
	ps, _ := h.Issuer("public-security")
	if _, err := ps.Rotate(ctx, false); !errors.Is(err, ErrNoKeyStore) {
		t.Fatalf("demo department rotated: %v", err)
	}
	if _, ok := h.Window("elsewhere"); ok {
		t.Fatal("unknown window found")
	}
	win, ok := h.Window(DemoWindow)
	if !ok {
		t.Fatal("no demo window")
	}
	if items, err := win.Items(ctx); err != nil || len(items) == 0 {
		t.Fatalf("items: %v %v", items, err)
	}

	// offer → wallet, through the department's OpenID4VCI service
	c := h.Wallet()
	if ex, un := c.Ready(); ex || un {
		t.Fatal("fresh wallet exists")
	}
	if _, err := c.List(ctx); !errors.Is(err, ErrLocked) {
		t.Fatalf("locked wallet listed: %v", err)
	}
	if err := c.Setup("246810"); err != nil {
		t.Fatal(err)
	}
	o1, err := ps.Offer(ctx, issuer.Request{Type: "household-register", Claims: map[string]any{
		"name": "测试用户甲", "id_number": "TEST00000000000001", "birth_date": "1990-01-01",
		"relation_to_head": "户主", "household_number": "TEST-H-0001", "address": "示例路1号", "marital_status": "已婚"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Receive(ctx, o1.Text, o1.PIN); err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	if items, err := c.List(ctx); err != nil || len(items) != 1 {
		t.Fatalf("wallet: %v %v", items, err)
	}
	if s := logs.String(); !strings.Contains(s, "issuer service") || strings.Contains(s, o1.PIN) {
		t.Fatalf("logs: %s", s)
	}

	// Close stops every server and waits; a second Close says the same.
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	for _, u := range urls {
		if resp, err := http.Get(u + "/.well-known/openid-credential-issuer"); err == nil {
			resp.Body.Close()
			t.Fatalf("%s still serves after Close", u)
		}
	}

	// the second start opens the same home
	h2, err := OpenDemo(ctx, dir, &testOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	c2 := h2.Wallet()
	if ex, un := c2.Ready(); !ex || un {
		t.Fatal("the wallet is gone or unlocked after a restart")
	}
	if err := c2.Unlock("246810"); err != nil {
		t.Fatal(err)
	}
	if items, err := c2.List(ctx); err != nil || len(items) != 1 {
		t.Fatalf("wallet after restart: %v %v", items, err)
	}
}

// TestWindowWithoutLedger: a window opened without a ledger still opens (it can hand out its
// receipts) but every verdict, anchor or snapshot needing the ledger fails with ErrNoLedger.
func TestWindowWithoutLedger(t *testing.T) {
	k, err := demonet.NewDemoKey(DemoWindow)
	if err != nil {
		t.Fatal(err)
	}
	w, err := OpenWindow(WindowConfig{Key: k, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx := context.Background()
	if _, err := w.Trust(ctx, true); !errors.Is(err, ErrNoLedger) {
		t.Errorf("trust: %v", err)
	}
	if _, err := w.Anchor(ctx); !errors.Is(err, ErrNoLedger) {
		t.Errorf("anchor: %v", err)
	}
	if _, err := w.SaveSnapshot(ctx); !errors.Is(err, ErrNoLedger) {
		t.Errorf("snapshot: %v", err)
	}
	if _, err := w.SetOffline(ctx, false); !errors.Is(err, ErrNoLedger) {
		t.Errorf("online: %v", err)
	}
	if _, err := w.SetOffline(ctx, true); err == nil {
		t.Error("offline without a snapshot")
	}
	if vd := w.Verify(ctx, "LZ1R:ABC"); vd.OK {
		t.Error("verified without trust")
	}
	if _, err := OpenWindow(WindowConfig{Key: k, Offline: true}); !errors.Is(err, ErrNoLedger) {
		t.Errorf("offline without a trust root: %v", err)
	}
	if _, err := (Ledger{}).Dial(); !errors.Is(err, ErrNoLedger) {
		t.Errorf("dial nowhere: %v", err)
	}
}

func TestNodeURL(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:26657":       "http://127.0.0.1:26657",
		"tcp://127.0.0.1:26657": "http://127.0.0.1:26657",
		"http://node:26657":     "http://node:26657",
		"https://node.example":  "https://node.example",
	} {
		if got := NodeURL(in); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}
