package wallet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lianzheng/credential/jws"
	"lianzheng/did"
	"lianzheng/issuer"
	"lianzheng/issuer/oid4vci"
)

// realIssuer is the department's real OpenID4VCI service (issuer/oid4vci) over HTTP, whose
// in-memory state can be lost as in a restart.
type realIssuer struct {
	d   *issuer.Department
	url string
	cur atomic.Pointer[http.Handler]
}

func newRealIssuer(t testing.TB, e *env) *realIssuer {
	t.Helper()
	dk := e.keys["civil-affairs"]
	d, err := issuer.Open(context.Background(), issuer.Config{ID: "civil-affairs", Signer: jws.NewEd25519Signer(dk.PrivateKey()),
		Ledger: e.cl, DBPath: filepath.Join(t.TempDir(), "i.db"), Sealer: issuer.DemoSealer(dk.PrivateKey().Seed())})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	ri := &realIssuer{d: d}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*ri.cur.Load()).ServeHTTP(w, r) }))
	t.Cleanup(hs.Close)
	ri.url = hs.URL
	ri.restart()
	return ri
}

// restart replaces the service by a new one over the same database: tokens are lost.
func (ri *realIssuer) restart() {
	h := (&oid4vci.Server{Dept: ri.d, IssuerURL: ri.url}).Handler()
	ri.cur.Store(&h)
}

func (ri *realIssuer) offer(t testing.TB) *issuer.Offer {
	t.Helper()
	o, err := ri.d.CreateOffer(context.Background(), issuer.Request{Type: "marriage-certificate", Claims: marriageClaims}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func (ri *realIssuer) offerURI(o *issuer.Offer) string { return oid4vci.OfferURI(ri.url, o) }

// checkNoLossNoOrphan: nothing pending, every key holds a stored credential, and every
// credential the department issued is in the wallet, bound to the key it was issued to.
func checkNoLossNoOrphan(t testing.TB, w *Wallet, ri *realIssuer) {
	t.Helper()
	ps, err := w.Store.pendings()
	if err != nil || len(ps) != 0 {
		t.Fatalf("pending receives left: %v %v", ps, err)
	}
	cs, err := w.Store.Credentials()
	if err != nil {
		t.Fatal(err)
	}
	held := map[string]bool{}
	var kids []string
	for _, c := range cs {
		pub, err := w.Keys.Public(c.HolderKID)
		if err != nil {
			t.Fatalf("credential %s: holder key: %v", c.ID, err)
		}
		hp, _ := did.NewPublicKey(pub)
		held[hp.Thumbprint()] = true
		kids = append(kids, c.HolderKID)
	}
	keys := w.Keys.KeyIDs()
	slices.Sort(keys)
	slices.Sort(kids)
	if !slices.Equal(keys, slices.Compact(kids)) {
		t.Fatalf("orphaned keys: keystore %v, credentials' keys %v", keys, kids)
	}
	recs, err := ri.d.Records(context.Background(), issuer.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if !held[r.HolderThumbprint] {
			t.Fatalf("credential lost: record %s (offer %s) issued but not in the wallet", r.ID, r.OfferID)
		}
	}
	if len(recs) != len(cs) {
		t.Fatalf("%d credentials issued, %d held", len(recs), len(cs))
	}
}

// lossyTransport fails one request of a receive: dropped before it reaches the issuer, or
// its answer lost after the issuer acted on it (what a kill at that moment looks like).
type lossyTransport struct {
	mu      sync.Mutex
	n       int
	at      int  // 1-based request number
	reached bool // the issuer gets the request; only the answer is lost
	paths   []string
}

func (lt *lossyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	lt.mu.Lock()
	lt.n++
	n := lt.n
	lt.paths = append(lt.paths, r.URL.Path)
	lt.mu.Unlock()
	if n == lt.at && !lt.reached {
		return nil, errors.New("test: request lost")
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if n == lt.at && err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, errors.New("test: answer lost")
	}
	return resp, err
}

// TestReceiveResumesAfterEveryStep: the answer of each request of a receive (metadata,
// token, nonce, credential, notification) lost — or the request itself — and the wallet
// resumes: the credential is stored exactly once, no key is left over, and a receive lost
// before the offer was redeemed works again with the same offer (issue 16.3).
func TestReceiveResumesAfterEveryStep(t *testing.T) {
	e := ledgerEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ri := newRealIssuer(t, e)
	w := newTestWallet(t, e.cl)
	clean := &lossyTransport{}
	o := ri.offer(t)
	if _, err := w.Receive(ctx, ri.offerURI(o), o.PIN, &ReceiveOptions{InsecureHTTP: true, HTTP: &http.Client{Transport: clean}}); err != nil {
		t.Fatal(err)
	}
	t.Logf("requests of one receive: %v", clean.paths)
	for at := 1; at <= len(clean.paths); at++ {
		for _, reached := range []bool{false, true} {
			name := fmt.Sprintf("%s %d (%s)", map[bool]string{false: "request lost", true: "answer lost"}[reached], at, clean.paths[at-1])
			o := ri.offer(t)
			lt := &lossyTransport{at: at, reached: reached}
			cs, err := w.Receive(ctx, ri.offerURI(o), o.PIN, &ReceiveOptions{InsecureHTTP: true, HTTP: &http.Client{Transport: lt}})
			if clean.paths[at-1] == "/notification" {
				if err != nil || len(cs) != 1 { // best effort: the credential is stored anyway
					t.Fatalf("%s: %v", name, err)
				}
			} else if err == nil {
				t.Fatalf("%s: no error", name)
			}
			if w.HasPending() != errors.Is(err, ErrReceivePending) {
				t.Fatalf("%s: pending %v, error %v", name, w.HasPending(), err)
			}
			rep, err := w.ResumePending(ctx, &ReceiveOptions{})
			if err != nil || len(rep.Abandoned)+len(rep.Waiting) != 0 {
				t.Fatalf("%s: resume: %v %+v", name, err, rep)
			}
			st, _, _ := ri.d.OfferState(ctx, o.ID)
			switch {
			case st == issuer.OfferPending: // never redeemed: the same offer works
				if _, err := w.Receive(ctx, ri.offerURI(o), o.PIN, &ReceiveOptions{InsecureHTTP: true}); err != nil {
					t.Fatalf("%s: the same offer again: %v", name, err)
				}
			case st != issuer.OfferIssued:
				t.Fatalf("%s: offer %s after resuming", name, st)
			}
			checkNoLossNoOrphan(t, w, ri)
			checkBothForms(t, w)
		}
	}
}

// checkBothForms: every credential held has its W3C form (the token lived throughout).
func checkBothForms(t testing.TB, w *Wallet) {
	t.Helper()
	cs, err := w.Store.Credentials()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.W3CVC == "" {
			t.Fatalf("credential %s without its W3C form", c.ID)
		}
	}
}

// TestResumeAcrossIssuerRestart: a token lost before the wallet kept it is replaced after an
// issuer restart (the offer is redeemed again with the resume key); a credential issued
// whose token died with the restart cannot be fetched again: the wallet says so, and keeps
// neither a pending record nor the key.
func TestResumeAcrossIssuerRestart(t *testing.T) {
	e := ledgerEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ri := newRealIssuer(t, e)
	w := newTestWallet(t, e.cl)
	receive := func(lt *lossyTransport) (*issuer.Offer, error) {
		o := ri.offer(t)
		_, err := w.Receive(ctx, ri.offerURI(o), o.PIN, &ReceiveOptions{InsecureHTTP: true, HTTP: &http.Client{Transport: lt}})
		return o, err
	}
	// token answer lost (request 2), then the issuer restarts
	if _, err := receive(&lossyTransport{at: 2, reached: true}); !errors.Is(err, ErrReceivePending) {
		t.Fatal(err)
	}
	ri.restart()
	if rep, err := w.ResumePending(ctx, nil); err != nil || len(rep.Received) != 1 {
		t.Fatalf("%v %+v", err, rep)
	}
	checkNoLossNoOrphan(t, w, ri)
	// credential answer lost (request 4), then the issuer restarts: unrecoverable
	o, err := receive(&lossyTransport{at: 4, reached: true})
	if !errors.Is(err, ErrReceivePending) {
		t.Fatal(err)
	}
	ri.restart()
	rep, err := w.ResumePending(ctx, nil)
	if err != nil || len(rep.Abandoned) != 1 || !errors.Is(rep.Abandoned[0].Err, ErrCredentialUnrecoverable) {
		t.Fatalf("%v %+v", err, rep)
	}
	if st, _, _ := ri.d.OfferState(ctx, o.ID); st != issuer.OfferIssued || w.HasPending() || len(w.Keys.KeyIDs()) != 1 {
		t.Fatalf("offer %s, pending %v, keys %d", st, w.HasPending(), len(w.Keys.KeyIDs()))
	}
}

// TestPendingSealedAndSwept: the pending record (access token, code, PIN) is never on disk
// in the clear, and a key nothing refers to is deleted when the wallet opens.
func TestPendingSealedAndSwept(t *testing.T) {
	e := ledgerEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ri := newRealIssuer(t, e)
	w := newTestWallet(t, e.cl)
	o := ri.offer(t)
	var token []byte
	lt := &lossyTransport{at: 4, reached: false} // stop before the credential request
	if _, err := w.Receive(ctx, ri.offerURI(o), o.PIN, &ReceiveOptions{InsecureHTTP: true, HTTP: &http.Client{Transport: lt}}); !errors.Is(err, ErrReceivePending) {
		t.Fatal(err)
	}
	ps, _ := w.Store.pendings()
	if len(ps) != 1 || ps[0].Token == "" || ps[0].Items[0].KID == "" {
		t.Fatalf("%+v", ps)
	}
	token = []byte(ps[0].Token)
	if s := fmt.Sprintf("%v %+v %#v", ps[0], ps[0], ps[0]); bytes.Contains([]byte(s), token) || bytes.Contains([]byte(s), []byte(o.Code)) {
		t.Fatal("a pending receive prints its token or code")
	}
	raw, err := os.ReadFile(filepath.Join(w.Home, StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range [][]byte{token, []byte(o.Code), []byte(ps[0].ResumeKey)} {
		if bytes.Contains(raw, secret) {
			t.Fatalf("wallet.db holds %q in the clear", secret)
		}
	}
	orphan, _ := w.Keys.NewEd25519() // as if killed before recording it
	if n, err := w.SweepOrphanKeys(); err != nil || n != 1 || slices.Contains(w.Keys.KeyIDs(), orphan) {
		t.Fatalf("swept %d: %v", n, err)
	}
	if !slices.Contains(w.Keys.KeyIDs(), ps[0].Items[0].KID) {
		t.Fatal("the pending receive's key was swept")
	}
	if rep, err := w.ResumePending(ctx, nil); err != nil || len(rep.Received) != 1 {
		t.Fatalf("%v %+v", err, rep)
	}
	checkNoLossNoOrphan(t, w, ri)
}
