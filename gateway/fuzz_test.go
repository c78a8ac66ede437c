package gateway

import (
	"crypto/ed25519"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"lianzheng/did"
)

// fuzzServer serves a fixed state (no ledger): one did:lz history, one file.
func fuzzServer(t testing.TB) *Server {
	pub, _, _ := ed25519.GenerateKey(nil)
	pk, err := did.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := &did.History{DID: "did:lz:m", Created: created, Keys: []did.KeyRecord{{ID: "key-1",
		PublicKeyMultibase: pk.Multikey(), ValidFrom: created, Purposes: []string{did.PurposeAssertion}}}}
	s, err := New(Config{Ledger: nilLedger{}, PerMinute: 1 << 30, Burst: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	res, _, err := resolution(h, nil, created.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	s.cur.Store(&state{height: 1, base: "https://gw.example/lz", basePath: "/lz",
		files:     map[string]*resource{"/status/m/0/token": newResource([]byte("x.y.z"), TypeStatusListJWT, 300), didPath(h.DID): res},
		histories: map[string]*did.History{h.DID: h}})
	return s
}

type nilLedger struct{ Ledger }

// FuzzHandler: any path, query and Accept header gets a well-formed answer with a status
// the gateway means (no panic, no 5xx but 501/503), and only GET/HEAD succeed.
func FuzzHandler(f *testing.F) {
	for _, s := range []string{"/status/m/0/token", "/lz/status/m/0/token", "/1.0/identifiers/did:lz:m",
		"/1.0/identifiers/did:lz:m?versionTime=2026-06-01T00:00:00Z", "/1.0/identifiers/did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
		"/1.0/identifiers/did:web:x", "/1.0/identifiers/did:lz:m?versionTime=x&versionTime=y", "/vct/urn:lz:vct:x", "/%zz", "/status/../.."} {
		f.Add(s, "application/did+ld+json")
	}
	s := fuzzServer(f)
	h := s.Handler()
	f.Fuzz(func(t *testing.T, target, accept string) {
		u, err := url.ParseRequestURI(target)
		if err != nil || len(target) > 4096 {
			return
		}
		r := &http.Request{Method: "GET", URL: u, RequestURI: target, Header: http.Header{"Accept": {accept}}, RemoteAddr: "192.0.2.1:1"}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch w.Code {
		case 200, 304, 400, 404, 410, 414, 501:
		default:
			t.Fatalf("%q: status %d %s", target, w.Code, w.Body)
		}
		if w.Header().Get("Content-Type") == "" {
			t.Fatalf("%q: no content type", target)
		}
	})
}
