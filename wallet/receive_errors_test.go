package wallet

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"lianzheng/credential/jws"
	"lianzheng/home/demonet"
	"lianzheng/issuer"
	"lianzheng/issuer/oid4vci"
)

// realDepartment is public security's issuance service (issuer/oid4vci over HTTP) on the
// embedded ledger, with a clock the test moves.
type realDepartment struct {
	d   *issuer.Department
	srv *oid4vci.Server
	hs  *httptest.Server

	mu  sync.Mutex
	now time.Time
}

func newRealDepartment(t *testing.T) *realDepartment {
	t.Helper()
	e := ledgerEnv(t)
	dk, err := demonet.LoadKey(demonet.KeyDir(e.home), "public-security")
	if err != nil {
		t.Fatal(err)
	}
	rd := &realDepartment{now: time.Now()}
	clock := func() time.Time { rd.mu.Lock(); defer rd.mu.Unlock(); return rd.now }
	rd.d, err = issuer.Open(context.Background(), issuer.Config{ID: "public-security", Signer: jws.NewEd25519Signer(dk.PrivateKey()),
		Ledger: e.cl, DBPath: filepath.Join(t.TempDir(), "i.db"), Sealer: issuer.DemoSealer(dk.PrivateKey().Seed()), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rd.d.Close() })
	rd.srv = &oid4vci.Server{Dept: rd.d, Now: clock}
	rd.hs = httptest.NewServer(rd.srv.Handler())
	t.Cleanup(rd.hs.Close)
	rd.srv.IssuerURL = rd.hs.URL
	return rd
}

func (rd *realDepartment) offer(t *testing.T) *issuer.Offer {
	t.Helper()
	o, err := rd.d.CreateOffer(context.Background(), issuer.Request{Type: "household-register", Claims: householdClaims}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func (rd *realDepartment) advance(d time.Duration) {
	rd.mu.Lock()
	rd.now = rd.now.Add(d)
	rd.mu.Unlock()
}

// TestReceiveErrorsAreTyped: every way receiving can fail that a citizen can meet comes back
// as a typed error (errors.Is on the wallet's Err* values; the PIN tries left on the
// *IssuerError), from the real department service and from a foreign issuer that gives no
// lz_reason — so that screens say what happened in words, never by reading error text.
func TestReceiveErrorsAreTyped(t *testing.T) {
	rd := newRealDepartment(t)
	w := newTestWallet(t, ledgerEnv(t).cl)
	ctx := context.Background()
	insecure := &ReceiveOptions{InsecureHTTP: true}
	receive := func(o *issuer.Offer, pin string) error {
		_, err := w.Receive(ctx, rd.srv.OfferURI(o), pin, insecure)
		return err
	}
	wrong := func(pin string) string { // a PIN that is not pin
		if pin == "000000" {
			return "111111"
		}
		return "000000"
	}

	// wrong PIN: the tries left count down, then the offer is blocked
	o := rd.offer(t)
	last := issuer.DefaultPINAttempts
	for i := 0; ; i++ {
		err := receive(o, wrong(o.PIN))
		var ie *IssuerError
		if errors.Is(err, ErrOfferBlocked) {
			if last > 1 {
				t.Fatalf("blocked with %d tries left", last)
			}
			break
		}
		if !errors.Is(err, ErrWrongOfferPIN) || !errors.Is(err, ErrOfferRefused) || !errors.As(err, &ie) {
			t.Fatalf("wrong PIN %d: %v", i+1, err)
		}
		if ie.AttemptsLeft != last-1 {
			t.Fatalf("wrong PIN %d: %d tries left, want %d", i+1, ie.AttemptsLeft, last-1)
		}
		last = ie.AttemptsLeft
		if i > issuer.DefaultPINAttempts {
			t.Fatal("offer never blocked")
		}
	}
	if err := receive(o, o.PIN); !errors.Is(err, ErrOfferBlocked) {
		t.Fatalf("blocked offer with the right PIN: %v", err)
	}

	// used: the right PIN twice
	o = rd.offer(t)
	if err := receive(o, o.PIN); err != nil {
		t.Fatal(err)
	}
	if err := receive(o, o.PIN); !errors.Is(err, ErrOfferUsed) {
		t.Fatalf("used offer: %v", err)
	}

	// unknown code
	o = rd.offer(t)
	forged := *o
	forged.Code = "not-" + o.Code
	if err := receive(&forged, o.PIN); !errors.Is(err, ErrOfferUnknown) {
		t.Fatalf("unknown code: %v", err)
	}

	// expired: the department's clock passes the offer's expiry
	rd.advance(issuer.DefaultOfferTTL + time.Minute)
	if err := receive(o, o.PIN); !errors.Is(err, ErrOfferExpired) {
		t.Fatalf("expired offer: %v", err)
	}

	// no PIN typed; not an offer at all
	if err := receive(o, ""); !errors.Is(err, ErrOfferNeedsPIN) {
		t.Fatalf("no PIN: %v", err)
	}
	for _, text := range []string{"hello", "https://example.org/", OfferScheme + "?credential_offer=%7B%7D", strings.Repeat("x", maxOfferLen+1)} {
		if _, err := w.Receive(ctx, text, "123456", insecure); !errors.Is(err, ErrBadOffer) {
			t.Fatalf("%.20q: %v", text, err)
		}
	}

	// the service is gone
	gone := httptest.NewServer(http.NotFoundHandler())
	url := gone.URL
	gone.Close()
	if _, err := w.Receive(ctx, oid4vci.OfferURI(url, o), o.PIN, insecure); !errors.Is(err, ErrIssuerUnreachable) {
		t.Fatalf("unreachable issuer: %v", err)
	}

	// a foreign issuer: its errors carry no lz_reason
	for _, tc := range []struct {
		status int
		code   string
		want   error
		not    error
	}{
		{500, "server_error", ErrIssuerFailed, ErrOfferRefused},
		{502, "", ErrIssuerFailed, ErrIssuerRefused},
		{400, "invalid_grant", ErrOfferRefused, ErrWrongOfferPIN},
		{400, "invalid_request", ErrIssuerRefused, ErrOfferRefused},
	} {
		foreign := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/token") {
				rw.Header().Set("Content-Type", "application/json")
				rw.WriteHeader(tc.status)
				if tc.code != "" {
					fmt.Fprintf(rw, `{"error":%q,"error_description":"x"}`, tc.code)
				}
				return
			}
			rw.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(rw, `{"credential_issuer":%q,"credential_endpoint":%q,"token_endpoint":%q}`,
				"http://"+r.Host, "http://"+r.Host+"/credential", "http://"+r.Host+"/token")
		}))
		_, err := w.Receive(ctx, oid4vci.OfferURI(foreign.URL, o), o.PIN, insecure)
		foreign.Close()
		var ie *IssuerError
		if !errors.Is(err, tc.want) || errors.Is(err, tc.not) || !errors.As(err, &ie) || ie.AttemptsLeft != -1 {
			t.Errorf("HTTP %d %q: %v", tc.status, tc.code, err)
		}
	}
}

// TestDescribeOffer: an offer is named from the ledger — its type's catalogue name and the
// department the catalogue authorises for it — without spending its PIN; a text that is
// not an offer is ErrBadOffer.
func TestDescribeOffer(t *testing.T) {
	rd := newRealDepartment(t)
	w := newTestWallet(t, ledgerEnv(t).cl)
	ctx := context.Background()
	o := rd.offer(t)
	s, err := w.DescribeOffer(ctx, rd.srv.OfferURI(o), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Types) != 1 || s.Types[0].ID != "household-register" || !s.Types[0].Known || s.Types[0].Name.Zh != "居民户口簿" {
		t.Fatalf("types: %+v", s.Types)
	}
	if len(s.Departments) != 1 || s.Departments[0].ID != "public-security" || s.Departments[0].Name.Zh != "示例市公安局" {
		t.Fatalf("departments: %+v", s.Departments)
	}
	if !s.NeedsPIN || s.PINLength != issuer.PINDigits || s.CredentialIssuer != rd.hs.URL {
		t.Fatalf("summary: %+v", s)
	}
	// the PIN was not spent: the offer is still redeemable with all its tries
	if _, err := w.Receive(ctx, rd.srv.OfferURI(o), o.PIN, &ReceiveOptions{InsecureHTTP: true}); err != nil {
		t.Fatalf("receive after describing: %v", err)
	}
	// a type the catalogue does not know: named by its id, no department
	unknown := *o
	unknown.Type = "no-such-type"
	s, err = w.DescribeOffer(ctx, rd.srv.OfferURI(&unknown), nil)
	if err != nil || len(s.Types) != 1 || s.Types[0].Known || s.Types[0].Name.Zh != "no-such-type" || len(s.Departments) != 0 {
		t.Fatalf("unknown type: %+v %v", s, err)
	}
	if _, err := w.DescribeOffer(ctx, "LZ1R:ABC", nil); !errors.Is(err, ErrBadOffer) {
		t.Fatalf("not an offer: %v", err)
	}
}
