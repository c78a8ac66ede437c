package oid4vci_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"lianzheng/credential/jws"
	"lianzheng/did"
	"lianzheng/issuer/oid4vci"
)

// testWallet plays the wallet: parses the offer URI, redeems it, proves a fresh key.
type testWallet struct {
	t      testing.TB
	key    ed25519.PrivateKey
	signer jws.Signer // nil: key
	pub    did.PublicKey
	issuer string
	code   string
	cfg    string   // the SD-JWT VC configuration id (the offer's first)
	cfgs   []string // every configuration id of the offer
	token  string
	nonce  string
	// ids maps configuration ids to the credential identifiers of the last token response.
	ids map[string]string
	// resumeKey, if set, is sent with token requests (lz_resume_key).
	resumeKey string
	// lastW3C is the ldp_vc credential of the last W3C request, lastNotification the
	// notification_id of the last credential response.
	lastW3C          map[string]any
	lastNotification string
}

func newWallet(t testing.TB, offerURI string) *testWallet {
	t.Helper()
	rest, ok := strings.CutPrefix(offerURI, "openid-credential-offer://?credential_offer=")
	if !ok {
		t.Fatalf("offer uri %q", offerURI)
	}
	js, err := url.QueryUnescape(rest)
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		Issuer string   `json:"credential_issuer"`
		IDs    []string `json:"credential_configuration_ids"`
		Grants map[string]struct {
			Code   string `json:"pre-authorized_code"`
			TxCode struct {
				InputMode string `json:"input_mode"`
				Length    int    `json:"length"`
			} `json:"tx_code"`
		} `json:"grants"`
	}
	if err := json.Unmarshal([]byte(js), &o); err != nil {
		t.Fatal(err)
	}
	g := o.Grants[oid4vci.GrantPreAuth]
	if g.Code == "" || g.TxCode.InputMode != "numeric" || g.TxCode.Length != 6 || len(o.IDs) != 2 || o.IDs[1] != o.IDs[0]+oid4vci.LDPVCSuffix {
		t.Fatalf("offer %s", js)
	}
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	pub, _ := did.NewPublicKey(k.Public())
	return &testWallet{t: t, key: k, pub: pub, issuer: o.Issuer, code: g.Code, cfg: o.IDs[0], cfgs: o.IDs}
}

// useKey makes the wallet prove another key (an ES256 one, say).
func (w *testWallet) useKey(s jws.Signer) {
	w.signer = s
	w.pub, _ = did.NewPublicKey(s.Public())
}

func post(t testing.TB, u, ctype, auth string, body string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m, resp.Header
}

// tokenReq redeems the code with pin; on success keeps the token and nonce.
func (w *testWallet) tokenReq(pin string) (int, map[string]any) {
	f := url.Values{"grant_type": {oid4vci.GrantPreAuth}, "pre-authorized_code": {w.code}, "tx_code": {pin}}
	if w.resumeKey != "" {
		f.Set(oid4vci.ParamResumeKey, w.resumeKey)
	}
	st, m, _ := post(w.t, w.issuer+"/token", "application/x-www-form-urlencoded", "", f.Encode())
	if st == 200 {
		w.token, _ = m["access_token"].(string)
		w.nonce, _ = m["c_nonce"].(string)
		w.ids = map[string]string{}
		ds, _ := m["authorization_details"].([]any)
		for _, d := range ds {
			dm, _ := d.(map[string]any)
			ids, _ := dm["credential_identifiers"].([]any)
			if cfg, _ := dm["credential_configuration_id"].(string); len(ids) == 1 && dm["type"] == "openid_credential" {
				w.ids[cfg], _ = ids[0].(string)
			}
		}
	}
	return st, m
}

// freshNonce asks the nonce endpoint (no access token) for the next proof's nonce.
func (w *testWallet) freshNonce() {
	w.t.Helper()
	st, m, h := post(w.t, w.issuer+"/nonce", "", "", "")
	n, _ := m["c_nonce"].(string)
	if st != 200 || n == "" || h.Get("Cache-Control") != "no-store" {
		w.t.Fatalf("nonce: %d %v %v", st, m, h)
	}
	w.nonce = n
}

type proofOpt struct {
	aud    any
	iat    time.Time
	nonce  *string
	header map[string]any
	signer jws.Signer
	noJWK  bool
	// extra is raw JSON appended inside the payload object (e.g. a duplicate member).
	extra string
}

func (w *testWallet) proof(o proofOpt) string {
	h := map[string]any{"typ": oid4vci.ProofTyp, "jwk": w.pub.JWK()}
	if o.noJWK {
		delete(h, "jwk")
	}
	for k, v := range o.header {
		h[k] = v
	}
	p := map[string]any{"aud": w.issuer, "iat": time.Now().Unix(), "nonce": w.nonce}
	if o.aud != nil {
		p["aud"] = o.aud
	}
	if !o.iat.IsZero() {
		p["iat"] = o.iat.Unix()
	}
	if o.nonce != nil {
		p["nonce"] = *o.nonce
	}
	pb, _ := jws.Marshal(p)
	if o.extra != "" {
		pb = append(append(pb[:len(pb)-1], ","+o.extra...), '}')
	}
	s := o.signer
	if s == nil {
		s = w.signer
	}
	if s == nil {
		s = jws.NewEd25519Signer(w.key)
	}
	jwt, err := jws.Sign(h, pb, s)
	if err != nil {
		w.t.Fatal(err)
	}
	return jwt
}

func (w *testWallet) credentialReq(body string) (int, map[string]any, http.Header) {
	return post(w.t, w.issuer+"/credential", "application/json", w.token, body)
}

// requestBody is a draft 13 style request (credential_configuration_id and a single proof),
// as older wallets send it.
func (w *testWallet) requestBody(proof string) string {
	b, _ := json.Marshal(map[string]any{"credential_configuration_id": w.cfg, "proof": map[string]any{"proof_type": "jwt", "jwt": proof}})
	return string(b)
}

// request1 is a 1.0 request: sel names the credential (credential_identifier or
// credential_configuration_id), proofs.jwt the one proof.
func request1(sel map[string]any, proof string) string {
	m := map[string]any{"proofs": map[string]any{"jwt": []string{proof}}}
	for k, v := range sel {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// byID selects the credential of configuration cfg by its credential identifier.
func (w *testWallet) byID(cfg string) map[string]any {
	id := w.ids[cfg]
	if id == "" {
		w.t.Fatalf("no credential identifier for %s in the token response", cfg)
	}
	return map[string]any{"credential_identifier": id}
}

// fetch runs the whole flow and returns the SD-JWT VC.
func (w *testWallet) fetch(pin string) string {
	w.t.Helper()
	if st, m := w.tokenReq(pin); st != 200 {
		w.t.Fatalf("token: %d %v", st, m)
	}
	return w.credential()
}

// credential requests the SD-JWT VC with the wallet's token and key (a fresh nonce from the
// nonce endpoint, a fresh proof) by its credential identifier.
func (w *testWallet) credential() string {
	w.t.Helper()
	c, _ := w.fetchForm(w.cfg).(string)
	if c == "" {
		w.t.Fatal("SD-JWT VC response without a string credential")
	}
	return c
}

// w3c requests the ldp_vc form.
func (w *testWallet) w3c() map[string]any {
	w.t.Helper()
	c, _ := w.fetchForm(w.cfg + oid4vci.LDPVCSuffix).(map[string]any)
	if c == nil {
		w.t.Fatal("ldp_vc response without an object credential")
	}
	w.lastW3C = c
	return c
}

func (w *testWallet) fetchForm(cfg string) any {
	w.t.Helper()
	w.freshNonce()
	st, m, _ := w.credentialReq(request1(w.byID(cfg), w.proof(proofOpt{})))
	if st != 200 {
		w.t.Fatalf("credential %s: %d %v", cfg, st, m)
	}
	cs, _ := m["credentials"].([]any)
	if len(cs) != 1 || len(m) != 2 {
		w.t.Fatalf("credential response %v", m)
	}
	w.lastNotification, _ = m["notification_id"].(string)
	return cs[0].(map[string]any)["credential"]
}

// notify posts a notification (OpenID4VCI 1.0 §11) with the wallet's token.
func (w *testWallet) notify(id, event string) (int, map[string]any) {
	b, _ := json.Marshal(map[string]any{"notification_id": id, "event": event})
	st, m, _ := post(w.t, w.issuer+"/notification", "application/json", w.token, string(b))
	return st, m
}

func jsonDecode(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }
