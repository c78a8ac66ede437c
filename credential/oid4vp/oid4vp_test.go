package oid4vp

import (
	"crypto"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"lianzheng/credential/jws"
)

const testDID = "did:lz:test-portal"

var testReqs = []Requested{
	{Type: "household-register", VCT: "urn:lz:vct:household-register", Fields: []string{"name", "id_number"}},
	{Type: "marriage-certificate", VCT: "urn:lz:vct:marriage-certificate", Fields: []string{"holder_name"}},
}

func testRequest(t testing.TB, now time.Time) (*Request, *EncKey) {
	t.Helper()
	ek, err := NewEncKey()
	if err != nil {
		t.Fatal(err)
	}
	reg, _ := json.Marshal(Registration{Service: testDID, Department: "realestate", Item: "x", Requests: testReqs})
	return &Request{
		ClientID: ClientIDFor(testDID), ResponseType: ResponseTypeVPToken, ResponseMode: ResponseModeDirectPostJWT,
		ResponseURI: "https://portal.example/oid4vp/response/abc", Nonce: NewState(), State: NewState(),
		DCQLQuery: QueryFor(testReqs),
		ClientMetadata: ClientMetadata{JWKS: &JWKSet{Keys: []JWK{ek.Public()}},
			VPFormatsSupported: map[string]FormatParams{FormatSDJWT: {SDJWTAlgValues: []string{"EdDSA", "ES256"}, KBJWTAlgValues: []string{"EdDSA", "ES256"}}}},
		VerifierInfo: []VerifierInfo{{Format: VerifierInfoFormat, Data: reg}},
		Aud:          SelfIssuedAudience, IssuedAt: now.Unix(), Expires: now.Add(3 * time.Minute).Unix(),
	}, ek
}

func TestJARRoundTrip(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	otherPub, _, _ := ed25519.GenerateKey(nil)
	now := time.Unix(1_800_000_000, 0)
	r, _ := testRequest(t, now)
	tok, err := r.Sign(testDID+"#key-1", jws.NewEd25519Signer(priv))
	if err != nil {
		t.Fatal(err)
	}
	keyAt := func(k crypto.PublicKey) KeyAt {
		return func(kid string, _ time.Time) (crypto.PublicKey, error) {
			if kid != testDID+"#key-1" {
				return nil, errors.New("unknown key")
			}
			return k, nil
		}
	}
	got, kid, err := VerifyJAR(tok, keyAt(pub), now, 0)
	if err != nil || kid != testDID+"#key-1" || got.Nonce != r.Nonce || len(got.DCQLQuery.Credentials) != 2 {
		t.Fatalf("verify: %v %+v", err, got)
	}
	reg, err := got.Registration()
	if err != nil || reg.Service != testDID {
		t.Fatalf("registration %v %+v", err, reg)
	}
	cases := []struct {
		name string
		tok  string
		key  crypto.PublicKey
		now  time.Time
		want error
	}{
		{"wrong key", tok, otherPub, now, ErrSignature},
		{"expired", tok, pub, now.Add(4 * time.Minute), ErrExpired},
		{"not yet", tok, pub, now.Add(-time.Hour), ErrNotYet},
		{"too large", strings.Repeat("a", MaxJAR+1), pub, now, ErrTooLarge},
		{"alg none", unsignedVariant(t, tok, map[string]any{"alg": "none", "typ": TypJAR, "kid": testDID + "#key-1"}), pub, now, ErrMalformed},
		{"wrong typ", resign(t, r, priv, map[string]any{"typ": "JWT", "kid": testDID + "#key-1"}), pub, now, ErrMalformed},
		{"relative kid", resign(t, r, priv, map[string]any{"typ": TypJAR, "kid": "#key-1"}), pub, now, ErrMalformed},
		{"kid of another DID", resign(t, r, priv, map[string]any{"typ": TypJAR, "kid": "did:lz:other#key-1"}), pub, now, ErrMalformed},
		{"iss header", resign(t, r, priv, map[string]any{"typ": TypJAR, "kid": testDID + "#key-1", "iss": ClientIDFor(testDID)}), pub, now, ErrMalformed},
	}
	for _, c := range cases {
		if _, _, err := VerifyJAR(c.tok, keyAt(c.key), c.now, 0); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// state is optional (OpenID4VP 1.0 §5.2: required only without holder binding)
	noState, _ := testRequest(t, now)
	noState.State = ""
	if tok, err := noState.Sign(testDID+"#key-1", jws.NewEd25519Signer(priv)); err != nil {
		t.Errorf("a request without state: %v", err)
	} else if got, _, err := VerifyJAR(tok, keyAt(pub), now, 0); err != nil || got.State != "" {
		t.Errorf("a request without state: %v", err)
	}
	// request shapes refused at signing and at parsing
	bad := []func(*Request){
		func(r *Request) { r.ResponseMode = "direct_post" },
		func(r *Request) { r.ClientID = testDID },
		func(r *Request) { r.Nonce = "short" },
		func(r *Request) { r.State = "short" },
		func(r *Request) { r.Expires = r.IssuedAt + 3600 },
		func(r *Request) { r.ClientMetadata.JWKS = nil },
		func(r *Request) { r.DCQLQuery.Credentials[0].Format = "jwt_vc_json" },
		func(r *Request) { r.DCQLQuery.Credentials[0].Claims[0].Path = []any{"address", "street"} },
	}
	for i, f := range bad {
		r2, _ := testRequest(t, now)
		f(r2)
		if _, err := r2.Sign(testDID+"#key-1", jws.NewEd25519Signer(priv)); err == nil {
			t.Errorf("bad request %d signed", i)
		}
	}
}

func resign(t *testing.T, r *Request, priv ed25519.PrivateKey, h map[string]any) string {
	t.Helper()
	p, _ := jws.Marshal(r)
	tok, err := jws.Sign(h, p, jws.NewEd25519Signer(priv))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func unsignedVariant(t *testing.T, tok string, h map[string]any) string {
	hb, _ := json.Marshal(h)
	parts := strings.Split(tok, ".")
	return jws.B64.EncodeToString(hb) + "." + parts[1] + "." + parts[2]
}

func TestJWERoundTrip(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	r, ek := testRequest(t, now)
	other, _ := NewEncKey()
	to, err := r.EncryptionKey()
	if err != nil {
		t.Fatal(err)
	}
	pt := []byte(`{"vp_token":{"household-register":["a~b~c"]},"state":"` + r.State + `"}`)
	for _, enc := range []string{EncA128GCM, EncA256GCM} {
		c, err := Encrypt(to, enc, r.Nonce, pt)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ek.Decrypt(c, r.Nonce)
		if err != nil || string(got) != string(pt) {
			t.Fatalf("%s: %v %s", enc, err, got)
		}
		h, err := PeekJWE(c)
		if err != nil || h.Kid != ek.Kid() || string(h.APV) != r.Nonce {
			t.Fatalf("peek %v %+v", err, h)
		}
		resp, err := ParseResponse(got)
		if err != nil || resp.State != r.State || resp.Presentations()[0] != "a~b~c" {
			t.Fatalf("response %v %+v", err, resp)
		}
		// tampered ciphertext, wrong nonce, wrong key
		parts := strings.Split(c, ".")
		ct, _ := jws.B64.DecodeString(parts[3])
		ct[0] ^= 1
		parts[3] = jws.B64.EncodeToString(ct)
		if _, err := ek.Decrypt(strings.Join(parts, "."), r.Nonce); !errors.Is(err, ErrDecrypt) {
			t.Errorf("tampered: %v", err)
		}
		if _, err := ek.Decrypt(c, NewState()); !errors.Is(err, ErrNonce) {
			t.Errorf("other nonce: %v", err)
		}
		if _, err := other.Decrypt(c, r.Nonce); !errors.Is(err, ErrWrongKey) {
			t.Errorf("other key: %v", err)
		}
	}
	// an apv that is not the one the KDF used: the header is authenticated data, so
	// rewriting it to the right nonce breaks the tag
	pk := ek.Public()
	c, _ := Encrypt(&pk, EncA128GCM, "another-nonce-value-123", pt)
	parts := strings.Split(c, ".")
	hb, _ := jws.B64.DecodeString(parts[0])
	hb = []byte(strings.Replace(string(hb), jws.B64.EncodeToString([]byte("another-nonce-value-123")), jws.B64.EncodeToString([]byte(r.Nonce)), 1))
	parts[0] = jws.B64.EncodeToString(hb)
	if _, err := ek.Decrypt(strings.Join(parts, "."), r.Nonce); !errors.Is(err, ErrDecrypt) {
		t.Errorf("rewritten apv: %v", err)
	}
	if _, err := ek.Decrypt(strings.Repeat("a", MaxJWE+1), r.Nonce); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized: %v", err)
	}
}

func TestDCQL(t *testing.T) {
	q := QueryFor(testReqs)
	b, _ := json.Marshal(q)
	p, err := ParseQuery(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Credentials[0].Fields(); strings.Join(got, ",") != "name,id_number" {
		t.Fatalf("fields %v", got)
	}
	held := []Held{
		{ID: "c1", VCT: "urn:lz:vct:household-register", Claims: map[string]any{"name": "x"}},
		{ID: "c2", VCT: "urn:lz:vct:driving-licence", Claims: map[string]any{"name": "x"}},
	}
	ms := MatchQuery(p, held)
	if len(ms) != 2 || len(ms[0].Candidates) != 1 || ms[0].Candidates[0] != "c1" || ms[0].Lacks["c1"][0] != "id_number" || len(ms[1].Candidates) != 0 {
		t.Fatalf("match %+v", ms)
	}
	bad := []string{
		`{"credentials":[]}`,
		`{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["v"]},"claims":[{"path":["x"]}]}],"credential_sets":[{"options":[["a"]]}]}`,
		`{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["v"]},"claims":[{"path":["x"]},{"path":["x"]}]}]}`,
		`{"credentials":[{"id":"a b","format":"dc+sd-jwt","meta":{"vct_values":["v"]},"claims":[{"path":["x"]}]}]}`,
		`{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["v"]},"claims":[{"path":[1]}]}]}`,
		`{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["v"]},"claims":[{"path":["x"]}]}],"credentials":[]}`,
		`{"credentials":[{"id":"a","format":"mso_mdoc","meta":{"vct_values":["v"]},"claims":[{"path":["x"]}]}]}`,
	}
	for _, s := range bad {
		if _, err := ParseQuery([]byte(s)); err == nil {
			t.Errorf("accepted %s", s)
		}
	}
}

func TestLink(t *testing.T) {
	l := Link{ClientID: ClientIDFor(testDID), RequestURI: "https://portal.example/oid4vp/request/abc"}
	s := l.String()
	if !strings.HasPrefix(s, "openid4vp://?") {
		t.Fatal(s)
	}
	got, err := ParseLink(s)
	if err != nil || *got != l {
		t.Fatalf("%v %+v", err, got)
	}
	bad := []string{
		"https://x/?client_id=decentralized_identifier:did:lz:a&request_uri=https://x/r",
		"openid4vp://?client_id=did:lz:a&request_uri=https://x/r",
		"openid4vp://?client_id=decentralized_identifier:did:lz:a&request_uri=ftp://x/r",
		"openid4vp://?client_id=decentralized_identifier:did:lz:a&request_uri=https://x/r&request_uri_method=post",
		"openid4vp://?client_id=decentralized_identifier:did:lz:a&request=eyJ",
		"openid4vp://?client_id=decentralized_identifier:did:lz:a&client_id=decentralized_identifier:did:lz:b&request_uri=https://x/r",
	}
	for _, s := range bad {
		if _, err := ParseLink(s); err == nil {
			t.Errorf("accepted %s", s)
		}
	}
}
