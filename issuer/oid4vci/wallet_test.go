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
	pub    did.PublicKey
	issuer string
	code   string
	cfg    string
	token  string
	nonce  string
	// resumeKey, if set, is sent with token requests (lz_resume_key).
	resumeKey string
	// lastW3C is the w3c_vc of the last credential response, lastNotification its
	// notification_id.
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
	if g.Code == "" || g.TxCode.InputMode != "numeric" || g.TxCode.Length != 6 || len(o.IDs) != 1 {
		t.Fatalf("offer %s", js)
	}
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	pub, _ := did.NewPublicKey(k.Public())
	return &testWallet{t: t, key: k, pub: pub, issuer: o.Issuer, code: g.Code, cfg: o.IDs[0]}
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
	}
	return st, m
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

func (w *testWallet) requestBody(proof string) string {
	b, _ := json.Marshal(map[string]any{"credential_configuration_id": w.cfg, "proof": map[string]any{"proof_type": "jwt", "jwt": proof}})
	return string(b)
}

// fetch runs the whole flow and returns the SD-JWT VC.
func (w *testWallet) fetch(pin string) string {
	w.t.Helper()
	if st, m := w.tokenReq(pin); st != 200 {
		w.t.Fatalf("token: %d %v", st, m)
	}
	return w.credential()
}

// credential requests the credential with the wallet's token and key (a fresh proof).
func (w *testWallet) credential() string {
	w.t.Helper()
	st, m, _ := w.credentialReq(w.requestBody(w.proof(proofOpt{})))
	if st != 200 {
		w.t.Fatalf("credential: %d %v", st, m)
	}
	cs, _ := m["credentials"].([]any)
	if len(cs) != 1 {
		w.t.Fatalf("credential response %v", m)
	}
	c, _ := cs[0].(map[string]any)["credential"].(string)
	w.lastW3C, _ = m["w3c_vc"].(map[string]any)
	w.lastNotification, _ = m["notification_id"].(string)
	return c
}

// notify posts a notification (OpenID4VCI 1.0 §11) with the wallet's token.
func (w *testWallet) notify(id, event string) (int, map[string]any) {
	b, _ := json.Marshal(map[string]any{"notification_id": id, "event": event})
	st, m, _ := post(w.t, w.issuer+"/notification", "application/json", w.token, string(b))
	return st, m
}

func jsonDecode(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }
