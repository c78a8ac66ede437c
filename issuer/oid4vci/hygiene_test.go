package oid4vci_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"lianzheng/issuer"
	"lianzheng/issuer/oid4vci"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// The service logs ids, types and error kinds — never claims, codes, PINs, tokens or nonces.
func TestLogsHoldNoSecretsOrPersonalData(t *testing.T) {
	e := newEnv(t)
	var logs syncBuf
	e.srv.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	o, w := e.offer(t)
	wrong := "000000"
	if o.PIN == wrong {
		wrong = "111111"
	}
	w.tokenReq(wrong)
	if st, _ := w.tokenReq(o.PIN); st != 200 {
		t.Fatal(st)
	}
	bad := "x"
	if _, m, _ := w.credentialReq(w.requestBody(w.proof(proofOpt{nonce: &bad}))); m["c_nonce"] != nil {
		w.nonce = m["c_nonce"].(string)
	}
	w.credentialReq(w.requestBody(w.proof(proofOpt{aud: "y"})))
	if st, _, _ := w.credentialReq(w.requestBody(w.proof(proofOpt{}))); st != 200 {
		t.Fatal(st)
	}
	out := logs.String()
	if !strings.Contains(out, "credential issued") {
		t.Fatalf("expected an issuance log line:\n%s", out)
	}
	secrets := []string{o.Code, url.QueryEscape(o.Code), o.PIN, w.token, w.nonce}
	for _, v := range marriage() {
		secrets = append(secrets, v.(string))
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(out, s) {
			t.Fatalf("log holds %q:\n%s", s, out)
		}
	}
}

// Refused token requests say which offer (its record ID, or a reference for an unknown code,
// never the code) and which client, so that a brute-force attempt can be followed; a flood of
// refusals is logged at a bounded rate with a count of what was left out (issue 16.8).
func TestRefusedTokenRequestsAreTraceable(t *testing.T) {
	e := newEnv(t)
	var logs syncBuf
	e.srv.Log = slog.New(slog.NewTextHandler(&logs, nil))
	o, w := e.offer(t)
	wrong := "000000"
	if o.PIN == wrong {
		wrong = "111111"
	}
	if st, _ := w.tokenReq(wrong); st != 400 {
		t.Fatal(st)
	}
	out := logs.String()
	if !strings.Contains(out, "token refused") || !strings.Contains(out, "offer="+o.ID) || !strings.Contains(out, "client=127.0.0.1") {
		t.Fatalf("refusal not traceable to its offer and client:\n%s", out)
	}
	if strings.Contains(out, o.Code) || strings.Contains(out, o.PIN) || strings.Contains(out, wrong) {
		t.Fatalf("log holds the code or a PIN:\n%s", out)
	}
	// A flood of guesses at unknown codes: bounded lines, the rest counted.
	for i := range 200 {
		form := url.Values{"grant_type": {oid4vci.GrantPreAuth}, "pre-authorized_code": {fmt.Sprintf("guess-%d", i)}, "tx_code": {"123456"}}
		if st, _, _ := post(t, e.url+"/token", "application/x-www-form-urlencoded", "", form.Encode()); st != 400 {
			t.Fatal(st)
		}
	}
	out = logs.String()
	n := strings.Count(out, "token refused")
	if n < 2 || n > 60 {
		t.Fatalf("%d refusal lines for 201 refusals: want a bounded number", n)
	}
	if !strings.Contains(out, "offer=code:") {
		t.Fatalf("unknown codes carry no reference:\n%s", out)
	}
	if strings.Contains(out, "guess-") {
		t.Fatal("an unknown code was logged in clear")
	}
}

// Two wallets racing with the same code and PIN: exactly one gets a token; many concurrent
// issuances never share a status index.
func TestConcurrency(t *testing.T) {
	e := newEnv(t)
	o, w := e.offer(t)
	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			w2 := *w
			codes[i], _ = w2.tokenReq(o.PIN)
		}(i)
	}
	wg.Wait()
	ok := 0
	for _, c := range codes {
		if c == 200 {
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("%d token responses succeeded: %v", ok, codes)
	}
	ctx := context.Background()
	const n = 40
	idx := make(chan int, n)
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				o, err := e.dept.CreateOffer(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriage()}, time.Minute)
				if err != nil {
					errs <- err
					return
				}
				w := newWallet(t, oid4vci.OfferURI(e.url, o))
				w.fetch(o.PIN)
				idx <- -1
				return
			}
			_, w := e.offer(t)
			is, err := e.dept.Issue(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriage(), Holder: w.pub})
			if err != nil {
				errs <- err
				return
			}
			idx <- is.Record.StatusIndex
		}()
	}
	wg.Wait()
	close(idx)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rs, err := e.dept.Records(ctx, issuer.ListFilter{})
	if err != nil || len(rs) != n {
		t.Fatal(len(rs), err)
	}
	seen := map[int]bool{}
	for _, r := range rs {
		if seen[r.StatusIndex] {
			t.Fatalf("index %d used twice", r.StatusIndex)
		}
		seen[r.StatusIndex] = true
	}
}

// The nonce endpoint is public: one client flooding it gets 429 (with Retry-After) after its
// burst, and the server holds no more nonces than its cap (503 once full of live ones).
func TestNonceFlood(t *testing.T) {
	e := newEnv(t)
	e.srv.NonceBurst, e.srv.NonceRate, e.srv.MaxNonces = 20, 0.001, 1000
	var codes = map[int]int{}
	for range 100 {
		st, _, h := post(t, e.url+"/nonce", "", "", "")
		codes[st]++
		if st == 429 && h.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	}
	if codes[200] != 20 || codes[429] != 80 {
		t.Fatalf("%v", codes)
	}
	e2 := newEnv(t)
	e2.srv.MaxNonces = 5
	codes = map[int]int{}
	for range 10 {
		st, _, h := post(t, e2.url+"/nonce", "", "", "")
		codes[st]++
		if st == 503 && h.Get("Retry-After") == "" {
			t.Fatal("503 without Retry-After")
		}
	}
	if codes[200] != 5 || codes[503] != 5 {
		t.Fatalf("%v", codes)
	}
}
