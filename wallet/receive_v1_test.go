package wallet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"lianzheng/credential/jws"
	"lianzheng/did"
	"lianzheng/issuer/oid4vci"
)

// recorded is one request the issuer received.
type recorded struct {
	path, auth string
	body       []byte
}

// recordRequests puts a recorder in front of the real issuer's service.
func recordRequests(ri *realIssuer) func() []recorded {
	var mu sync.Mutex
	var reqs []recorded
	inner := (&oid4vci.Server{Dept: ri.d, IssuerURL: ri.url}).Handler()
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
		mu.Lock()
		reqs = append(reqs, recorded{path: r.URL.Path, auth: r.Header.Get("Authorization"), body: b})
		mu.Unlock()
		inner.ServeHTTP(w, r)
	})
	ri.cur.Store(&h)
	return func() []recorded { mu.Lock(); defer mu.Unlock(); return append([]recorded(nil), reqs...) }
}

// TestReceiveSpeaksV1: against the department's service the wallet takes its nonces from the
// nonce endpoint without the access token, names each credential by the credential
// identifier of the token response (never by configuration id, 1.0 §8.2) with a 1.0
// proofs object, fetches the ldp_vc form of the same credential with the same holder key,
// and stores both forms.
func TestReceiveSpeaksV1(t *testing.T) {
	e := ledgerEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ri := newRealIssuer(t, e)
	reqs := recordRequests(ri)
	w := newTestWallet(t, e.cl)
	o := ri.offer(t)
	cs, err := w.Receive(ctx, ri.offerURI(o), o.PIN, &ReceiveOptions{InsecureHTTP: true})
	if err != nil || len(cs) != 1 {
		t.Fatal(len(cs), err)
	}
	var ids, jwks []string
	for _, r := range reqs() {
		switch r.path {
		case "/nonce":
			if r.auth != "" {
				t.Fatal("the access token sent to the nonce endpoint")
			}
		case "/credential":
			var req struct {
				ID     string          `json:"credential_identifier"`
				Config json.RawMessage `json:"credential_configuration_id"`
				Proof  json.RawMessage `json:"proof"`
				Proofs struct {
					JWT []string `json:"jwt"`
				} `json:"proofs"`
			}
			if err := json.Unmarshal(r.body, &req); err != nil || req.ID == "" || req.Config != nil || req.Proof != nil || len(req.Proofs.JWT) != 1 {
				t.Fatalf("credential request %s", r.body)
			}
			p, err := jws.Parse(req.Proofs.JWT[0])
			if err != nil {
				t.Fatal(err)
			}
			jb, _ := json.Marshal(p.Header["jwk"])
			ids, jwks = append(ids, req.ID), append(jwks, string(jb))
		}
	}
	if len(ids) != 2 || ids[0] == ids[1] || jwks[0] != jwks[1] {
		t.Fatalf("credential requests: %v %v", ids, jwks)
	}
	var vc struct {
		Type    []string `json:"type"`
		Subject struct {
			ID string `json:"id"`
		} `json:"credentialSubject"`
	}
	if err := json.Unmarshal([]byte(cs[0].W3CVC), &vc); err != nil {
		t.Fatalf("W3C form: %v", err)
	}
	pub, _ := w.Keys.Public(cs[0].HolderKID)
	hk, _ := did.NewPublicKey(pub)
	if vc.Subject.ID != hk.DIDKey() || !strings.Contains(strings.Join(vc.Type, " "), "MarriageCertificateCredential") {
		t.Fatalf("W3C form %+v", vc)
	}
	checkNoLossNoOrphan(t, w, ri)
}

// TestW3CFormGivenUp: the W3C form's request lost and then the issuer restarted (the token
// died with it): resuming stores the credential without its W3C form — not lost, not pending.
func TestW3CFormGivenUp(t *testing.T) {
	e := ledgerEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ri := newRealIssuer(t, e)
	w := newTestWallet(t, e.cl)
	o := ri.offer(t)
	// metadata, token, nonce, credential, nonce, credential (W3C form): the 6th lost
	lt := &lossyTransport{at: 6}
	if _, err := w.Receive(ctx, ri.offerURI(o), o.PIN, &ReceiveOptions{InsecureHTTP: true, HTTP: &http.Client{Transport: lt}}); !errors.Is(err, ErrReceivePending) {
		t.Fatal(err)
	}
	if lt.paths[5] != "/credential" {
		t.Fatalf("requests %v", lt.paths)
	}
	ri.restart()
	rep, err := w.ResumePending(ctx, nil)
	if err != nil || len(rep.Received) != 1 || len(rep.Abandoned)+len(rep.Waiting) != 0 {
		t.Fatalf("%v %+v", err, rep)
	}
	if rep.Received[0].W3CVC != "" || rep.Received[0].SDJWT == "" {
		t.Fatalf("%+v", rep.Received[0])
	}
	checkNoLossNoOrphan(t, w, ri)
}

// TestOfferCredentials: an offer's ldp_vc configuration "<id>+ldp_vc" is the W3C form of
// its configuration <id> (one credential), and is received only with it.
func TestOfferCredentials(t *testing.T) {
	md := &IssuerMetadata{Configurations: map[string]json.RawMessage{
		"a": json.RawMessage(`{"format":"dc+sd-jwt"}`), "a+ldp_vc": json.RawMessage(`{"format":"ldp_vc"}`),
		"b+ldp_vc": json.RawMessage(`{"format":"ldp_vc"}`), "c": json.RawMessage(`{}`),
		"d+ldp_vc": json.RawMessage(`{"format":"dc+sd-jwt"}`), "d": json.RawMessage(`{"format":"dc+sd-jwt"}`),
	}}
	ids := []string{"a", "a+ldp_vc", "b+ldp_vc", "c", "d+ldp_vc", "d"}
	var got []string
	for _, it := range itemsOf(ids, md) {
		got = append(got, it.ConfigID+"/"+it.W3CConfigID)
	}
	// b+ldp_vc has no SD-JWT VC partner; d+ldp_vc is not ldp_vc, so it is a credential
	if want := "a/a+ldp_vc c/ d+ldp_vc/ d/"; strings.Join(got, " ") != want {
		t.Fatalf("items %q, want %q", strings.Join(got, " "), want)
	}
	if got := strings.Join(credentialsOf(ids), " "); got != "a b+ldp_vc c d" {
		t.Fatalf("credentials %q", got)
	}
}
