package oid4vci_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"image/png"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"lianzheng/credential/dataintegrity"
	"lianzheng/credential/jws"
	"lianzheng/credential/sdjwtvc"
	"lianzheng/did"
	"lianzheng/issuer"
	"lianzheng/issuer/issuertest"
	"lianzheng/issuer/oid4vci"
)

func marriage() map[string]any {
	return map[string]any{
		"holder_name": "测试用户甲", "spouse_name": "测试用户乙", "spouse_id_number": "TEST00000000000002",
		"registration_date": "2018-05-20", "certificate_number": "TEST-J-2018-0001", "registry": "示例市民政局婚姻登记处",
	}
}

type env struct {
	dept *issuer.Department
	l    *issuertest.Ledger
	srv  *oid4vci.Server
	url  string
	skew atomic.Int64
}

func newEnv(t *testing.T) *env {
	e := &env{}
	l, err := issuertest.New(time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Now().Add(time.Duration(e.skew.Load())) }
	d, err := issuer.Open(context.Background(), issuer.Config{ID: "civil-affairs", Signer: l.Signer("civil-affairs"), Ledger: l,
		DBPath: filepath.Join(t.TempDir(), "i.db"), Sealer: issuer.DemoSealer([]byte("oid4vci test")), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	e.dept, e.l = d, l
	e.srv = &oid4vci.Server{Dept: d, MaxPINAttempts: 3, Now: now}
	hs := httptest.NewServer(e.srv.Handler())
	t.Cleanup(hs.Close)
	e.srv.IssuerURL, e.url = hs.URL, hs.URL
	return e
}

func (e *env) offer(t *testing.T) (*issuer.Offer, *testWallet) {
	o, err := e.dept.CreateOffer(context.Background(), issuer.Request{Type: "marriage-certificate", Claims: marriage()}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return o, newWallet(t, e.srv.OfferURI(o))
}

func (e *env) records(t *testing.T) int {
	n, err := e.dept.CountRecords(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestFlow(t *testing.T) {
	e := newEnv(t)
	o, w := e.offer(t)
	png1, err := oid4vci.OfferQR(e.url, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(png1)); err != nil {
		t.Fatal(err)
	}
	text := w.fetch(o.PIN)
	v, err := sdjwtvc.Verify(text, sdjwtvc.VerifyOptions{AllowNoKB: true, IssuerKeyAt: func(kid string, at time.Time) (crypto.PublicKey, error) {
		k, err := did.AssertionKeyAt(context.Background(), e.l, kid, at)
		return k.Key, err
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !v.Holder.Equal(w.pub.Key) || v.Issuer != "did:lz:civil-affairs" || v.Claims["holder_name"] != "测试用户甲" {
		t.Fatalf("%+v", v)
	}
	// The same credential as a W3C VC (the ldp_vc configuration), bound to the same key.
	vc := w.w3c()
	if _, err := dataintegrity.Verify(vc, func(vm string) (ed25519.PublicKey, error) {
		k, err := did.AssertionKeyAt(context.Background(), e.l, vm, time.Now())
		pk, _ := k.Key.(ed25519.PublicKey)
		return pk, err
	}); err != nil {
		t.Fatal(err)
	}
	if sub, _ := vc["credentialSubject"].(map[string]any); sub["id"] != w.pub.DIDKey() || sub["holder_name"] != "测试用户甲" {
		t.Fatalf("%v", vc)
	}
	if st, _, _ := e.dept.OfferState(context.Background(), o.ID); st != issuer.OfferIssued || e.records(t) != 1 {
		t.Fatal(st)
	}
	// Reused offer: refused. Reused token, same key: the same credential again (a wallet
	// killed before storing it); nothing new is issued.
	if st, m := w.tokenReq(o.PIN); st != 400 || m["error"] != "invalid_grant" {
		t.Fatal(st, m)
	}
	if again := w.credential(); again != text {
		t.Fatal("a refetch returned another credential")
	}
	// Reused token, another key: refused.
	thief := *w
	_, thief.key, _ = ed25519.GenerateKey(rand.Reader)
	thief.pub, _ = did.NewPublicKey(thief.key.Public())
	for _, cfg := range thief.cfgs {
		thief.freshNonce()
		if st, m, _ := thief.credentialReq(request1(thief.byID(cfg), thief.proof(proofOpt{}))); st != 400 || m["error"] != "credential_request_denied" {
			t.Fatal(cfg, st, m)
		}
	}
	// The wallet reports it stored the credential: the token and the kept copy are dropped.
	if st, m := w.notify("not-the-id", "credential_accepted"); st != 400 || m["error"] != "invalid_notification_id" {
		t.Fatal(st, m)
	}
	if st, m := w.notify(w.lastNotification, "credential_kept"); st != 400 || m["error"] != "invalid_notification_request" {
		t.Fatal(st, m)
	}
	if st, m := w.notify(w.lastNotification, "credential_accepted"); st != 204 {
		t.Fatal(st, m)
	}
	if st, m, h := w.credentialReq(w.requestBody(w.proof(proofOpt{}))); st != 401 || m["error"] != "invalid_token" || h.Get("WWW-Authenticate") == "" {
		t.Fatal(st, m)
	}
	if e.records(t) != 1 {
		t.Fatal("issued twice")
	}
}

// TestResumeKey: a wallet that lost its token redeems the offer again with its resume key
// (same code and PIN), and only it: the earlier token stops working, and once the credential
// is issued the offer cannot be redeemed again, key or not (issue 16.3).
func TestResumeKey(t *testing.T) {
	e := newEnv(t)
	o, w := e.offer(t)
	w.resumeKey = "resume-key-0123456789abcdef"
	if st, m := w.tokenReq(o.PIN); st != 200 {
		t.Fatal(st, m)
	}
	first := w.token
	other := *w
	for _, c := range []struct{ name, key string }{{"no key", ""}, {"another key", "another-key-0123456789"}} {
		other.resumeKey = c.key
		if st, m := other.tokenReq(o.PIN); st != 400 || m["error"] != "invalid_grant" {
			t.Fatal(c.name, st, m)
		}
	}
	other.resumeKey = "short"
	if st, m := other.tokenReq(o.PIN); st != 400 || m["error"] != "invalid_request" {
		t.Fatal(st, m)
	}
	wrong := "000000"
	if o.PIN == wrong {
		wrong = "111111"
	}
	if st, m := w.tokenReq(wrong); st != 400 || m["error"] != "invalid_grant" {
		t.Fatal(st, m)
	}
	if st, att, _ := e.dept.OfferState(context.Background(), o.ID); st != issuer.OfferRedeemed || att != 1 {
		t.Fatal("a wrong PIN with the resume key:", st, att)
	}
	if st, m := w.tokenReq(o.PIN); st != 200 || w.token == first {
		t.Fatal(st, m)
	}
	old := *w
	old.token = first
	if st, m, _ := old.credentialReq(old.requestBody(old.proof(proofOpt{}))); st != 401 || m["error"] != "invalid_token" {
		t.Fatal("the replaced token still works:", st, m)
	}
	w.credential()
	if st, m := w.tokenReq(o.PIN); st != 400 || m["error"] != "invalid_grant" {
		t.Fatal("redeemed again after issuance:", st, m)
	}
	if e.records(t) != 1 {
		t.Fatal(e.records(t))
	}
}

// TestConcurrentRefetch: requests racing on one token issue one credential; each gets it.
func TestConcurrentRefetch(t *testing.T) {
	e := newEnv(t)
	o, w := e.offer(t)
	if st, m := w.tokenReq(o.PIN); st != 200 {
		t.Fatal(st, m)
	}
	// Half ask for the SD-JWT VC, half for the W3C VC, each with its own nonce.
	const n = 6
	got := make([]string, n)
	nonces := make([]string, n)
	for i := range n {
		w.freshNonce()
		nonces[i] = w.nonce
	}
	done := make(chan struct{})
	for i := range n {
		go func() {
			defer func() { done <- struct{}{} }()
			st, m, _ := w.credentialReq(request1(w.byID(w.cfgs[i%2]), w.proof(proofOpt{nonce: &nonces[i]})))
			if st == 200 {
				cs, _ := m["credentials"].([]any)
				switch c := cs[0].(map[string]any)["credential"].(type) {
				case string:
					got[i] = c
				case map[string]any:
					got[i], _ = c["id"].(string)
				}
			}
		}()
	}
	for range n {
		<-done
	}
	for i := range n {
		if got[i] == "" || got[i] != got[i%2] {
			t.Fatalf("request %d: %.40q vs %.40q", i, got[i], got[i%2])
		}
	}
	if e.records(t) != 1 {
		t.Fatal(e.records(t))
	}
}

// TestMetadata: the OpenID4VCI 1.0 shape (§12.2, A.1.2, A.3): two configurations per type,
// display and claims under credential_metadata, no private members, the department's name
// from its member record.
func TestMetadata(t *testing.T) {
	e := newEnv(t)
	resp, err := http.Get(e.url + "/.well-known/openid-credential-issuer")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := jsonDecode(resp, &m); err != nil {
		t.Fatal(err)
	}
	if m["credential_issuer"] != e.url || m["nonce_endpoint"] != e.url+"/nonce" || m["credential_endpoint"] != e.url+"/credential" {
		t.Fatalf("%v", m)
	}
	want := []any{map[string]any{"name": "示例市民政局", "locale": "zh-CN"}, map[string]any{"name": "Civil Affairs Bureau (demo)", "locale": "en"}}
	if !reflect.DeepEqual(m["display"], want) {
		t.Fatalf("issuer display %v", m["display"])
	}
	confs, _ := m["credential_configurations_supported"].(map[string]any)
	if len(confs) != 2 {
		t.Fatalf("%d configurations", len(confs))
	}
	allowed := map[string]bool{"format": true, "scope": true, "cryptographic_binding_methods_supported": true,
		"credential_signing_alg_values_supported": true, "proof_types_supported": true, "credential_metadata": true,
		"vct": true, "credential_definition": true}
	for id, v := range confs {
		c := v.(map[string]any)
		for k := range c {
			if !allowed[k] {
				t.Errorf("%s: member %s", id, k)
			}
		}
		pt := c["proof_types_supported"].(map[string]any)["jwt"].(map[string]any)["proof_signing_alg_values_supported"]
		if !reflect.DeepEqual(pt, []any{"EdDSA", "ES256"}) || c["scope"] != "marriage-certificate" {
			t.Errorf("%s: %v", id, c)
		}
		cm := c["credential_metadata"].(map[string]any)
		if !reflect.DeepEqual(cm["display"], []any{map[string]any{"name": "结婚证", "locale": "zh-CN"}, map[string]any{"name": "Marriage certificate", "locale": "en"}}) {
			t.Errorf("%s: display %v", id, cm["display"])
		}
		cl := cm["claims"].([]any)
		first := cl[0].(map[string]any)
		path := []any{"holder_name"}
		if c["format"] == "ldp_vc" {
			path = []any{"credentialSubject", "holder_name"}
		}
		if len(cl) != 6 || !reflect.DeepEqual(first["path"], path) || first["mandatory"] != true || len(first) != 3 ||
			!reflect.DeepEqual(first["display"], []any{map[string]any{"name": "持证人", "locale": "zh-CN"}, map[string]any{"name": "Holder", "locale": "en"}}) {
			t.Errorf("%s: claims %v", id, cl)
		}
	}
	sd := confs["marriage-certificate"].(map[string]any)
	if sd["format"] != "dc+sd-jwt" || sd["vct"] != "urn:lz:vct:marriage-certificate" ||
		!reflect.DeepEqual(sd["cryptographic_binding_methods_supported"], []any{"jwk"}) ||
		!reflect.DeepEqual(sd["credential_signing_alg_values_supported"], []any{"EdDSA"}) || sd["credential_definition"] != nil {
		t.Fatalf("%v", sd)
	}
	ldp := confs["marriage-certificate+ldp_vc"].(map[string]any)
	def, _ := ldp["credential_definition"].(map[string]any)
	if ldp["format"] != "ldp_vc" || ldp["vct"] != nil || def == nil || len(def["@context"].([]any)) == 0 ||
		!reflect.DeepEqual(def["type"], []any{"VerifiableCredential", "MarriageCertificateCredential"}) ||
		!reflect.DeepEqual(ldp["cryptographic_binding_methods_supported"], []any{"did:key"}) ||
		!reflect.DeepEqual(ldp["credential_signing_alg_values_supported"], []any{"eddsa-rdfc-2022"}) {
		t.Fatalf("%v", ldp)
	}
}

// TestTwoForms: one record in two forms — the SD-JWT VC and the ldp_vc W3C VC — requested
// by credential identifier or configuration id, in either order, bound to the one key the
// first proof proved (an Ed25519 or a P-256 key); the W3C VC's @context and types are the
// ones the metadata announces.
func TestTwoForms(t *testing.T) {
	e := newEnv(t)
	resp, err := http.Get(e.url + "/.well-known/openid-credential-issuer")
	if err != nil {
		t.Fatal(err)
	}
	var md struct {
		Confs map[string]struct {
			Def map[string]any `json:"credential_definition"`
		} `json:"credential_configurations_supported"`
	}
	if err := jsonDecode(resp, &md); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, c := range []struct {
		name      string
		w3cFirst  bool
		es256     bool
		byConfigs bool
		kid       bool // the key as a did:key kid instead of a jwk
	}{{"SD-JWT first, by identifier", false, false, false, false}, {"W3C first, by configuration id", true, false, true, false},
		{"ES256 holder key", false, true, false, false}, {"did:key kid", true, true, false, true}} {
		o, w := e.offer(t)
		if c.es256 {
			sg, err := jws.NewES256Signer(p256)
			if err != nil {
				t.Fatal(err)
			}
			w.useKey(sg)
		}
		if st, m := w.tokenReq(o.PIN); st != 200 {
			t.Fatal(st, m)
		}
		if len(w.ids) != 2 || w.ids[w.cfgs[0]] == "" || w.ids[w.cfgs[1]] == "" || w.ids[w.cfgs[0]] == w.ids[w.cfgs[1]] {
			t.Fatalf("%s: authorization_details identifiers %v", c.name, w.ids)
		}
		get := func(cfg string) any {
			w.freshNonce()
			sel := w.byID(cfg)
			if c.byConfigs {
				sel = map[string]any{"credential_configuration_id": cfg}
			}
			po := proofOpt{}
			if c.kid {
				po = proofOpt{noJWK: true, header: map[string]any{"kid": w.pub.DIDKey() + "#" + w.pub.Multikey()}}
			}
			st, m, _ := w.credentialReq(request1(sel, w.proof(po)))
			if st != 200 {
				t.Fatalf("%s: %s: %d %v", c.name, cfg, st, m)
			}
			return m["credentials"].([]any)[0].(map[string]any)["credential"]
		}
		var sd string
		var vc map[string]any
		if c.w3cFirst {
			vc, _ = get(w.cfgs[1]).(map[string]any)
			sd, _ = get(w.cfgs[0]).(string)
		} else {
			sd, _ = get(w.cfgs[0]).(string)
			vc, _ = get(w.cfgs[1]).(map[string]any)
		}
		v, err := sdjwtvc.Verify(sd, sdjwtvc.VerifyOptions{AllowNoKB: true, IssuerKeyAt: func(kid string, at time.Time) (crypto.PublicKey, error) {
			k, err := did.AssertionKeyAt(context.Background(), e.l, kid, at)
			return k.Key, err
		}})
		if err != nil || !v.Holder.Equal(w.pub.Key) {
			t.Fatalf("%s: %v %+v", c.name, err, v)
		}
		if _, err := dataintegrity.Verify(vc, func(vm string) (ed25519.PublicKey, error) {
			k, err := did.AssertionKeyAt(context.Background(), e.l, vm, time.Now())
			pk, _ := k.Key.(ed25519.PublicKey)
			return pk, err
		}); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		sub, _ := vc["credentialSubject"].(map[string]any)
		def := md.Confs[w.cfgs[1]].Def
		if sub["id"] != w.pub.DIDKey() || !reflect.DeepEqual(vc["@context"], def["@context"]) ||
			!reflect.DeepEqual(vc["type"], def["type"]) {
			t.Fatalf("%s: %v vs %v", c.name, vc, def)
		}
		rs, _ := e.dept.Records(context.Background(), issuer.ListFilter{})
		found := 0
		for _, r := range rs {
			if r.OfferID == o.ID {
				found++
				if r.StatusIndex != v.Status.Index {
					t.Fatalf("%s: record index %d, credential %d", c.name, r.StatusIndex, v.Status.Index)
				}
			}
		}
		if found != 1 {
			t.Fatalf("%s: %d records for one offer", c.name, found)
		}
	}
}

// TestNonceEndpoint (1.0 §7): no access token needed (one sent is ignored), no-store, every
// nonce single use and expiring; a nonce from the nonce endpoint, from the token response
// and from an invalid_nonce error are all accepted.
func TestNonceEndpoint(t *testing.T) {
	e := newEnv(t)
	o, w := e.offer(t)
	for _, auth := range []string{"", "not-a-token"} {
		st, m, h := post(t, e.url+"/nonce", "", auth, "")
		if n, _ := m["c_nonce"].(string); st != 200 || len(n) < 20 || h.Get("Cache-Control") != "no-store" || len(m) != 1 {
			t.Fatal(st, m, h)
		}
	}
	if resp, err := http.Get(e.url + "/nonce"); err != nil || resp.StatusCode != 405 {
		t.Fatal(resp, err)
	}
	if st, m := w.tokenReq(o.PIN); st != 200 || w.nonce == "" || m["c_nonce_expires_in"] == nil {
		t.Fatal(st, m)
	}
	tokenNonce := w.nonce
	// the token response's nonce issues the credential; used once, it is spent
	if st, m, _ := w.credentialReq(request1(w.byID(w.cfg), w.proof(proofOpt{}))); st != 200 {
		t.Fatal(st, m)
	}
	st, m, _ := w.credentialReq(request1(w.byID(w.cfg), w.proof(proofOpt{nonce: &tokenNonce})))
	if st != 400 || m["error"] != "invalid_nonce" || m["c_nonce"] == nil {
		t.Fatal("a spent nonce accepted:", st, m)
	}
	// the fresh nonce of the invalid_nonce error works
	errNonce := m["c_nonce"].(string)
	if st, m, _ := w.credentialReq(request1(w.byID(w.cfg), w.proof(proofOpt{nonce: &errNonce}))); st != 200 {
		t.Fatal(st, m)
	}
	// an expired nonce (the token outlives it here)
	e.srv.TokenTTL = time.Hour
	o2, w2 := e.offer(t)
	if st, m := w2.tokenReq(o2.PIN); st != 200 {
		t.Fatal(st, m)
	}
	w2.freshNonce()
	e.skew.Store(int64(5*time.Minute + time.Second))
	defer e.skew.Store(0)
	if st, m, _ := w2.credentialReq(request1(w2.byID(w2.cfg), w2.proof(proofOpt{iat: time.Now().Add(5 * time.Minute)}))); st != 400 || m["error"] != "invalid_nonce" {
		t.Fatal("an expired nonce accepted:", st, m)
	}
	if e.records(t) != 1 {
		t.Fatal(e.records(t))
	}
}
func TestPINAndExpiry(t *testing.T) {
	e := newEnv(t)
	o, w := e.offer(t)
	wrong := "000000"
	if o.PIN == wrong {
		wrong = "111111"
	}
	for i := 0; i < 3; i++ {
		if st, m := w.tokenReq(wrong); st != 400 || m["error"] != "invalid_grant" {
			t.Fatal(st, m)
		}
	}
	if st, m := w.tokenReq(o.PIN); st != 400 || m["error"] != "invalid_grant" {
		t.Fatal("locked offer redeemed", st, m)
	}
	if st, _, _ := e.dept.OfferState(context.Background(), o.ID); st != issuer.OfferBurned {
		t.Fatal(st)
	}
	// Expired.
	o2, w2 := e.offer(t)
	e.skew.Store(int64(2 * time.Minute))
	if st, m := w2.tokenReq(o2.PIN); st != 400 || m["error"] != "invalid_grant" {
		t.Fatal(st, m)
	}
	// Missing PIN, wrong grant, unknown code.
	if st, m := w2.tokenReq(""); st != 400 || m["error"] != "invalid_request" {
		t.Fatal(st, m)
	}
	if st, m, _ := post(t, e.url+"/token", "application/x-www-form-urlencoded", "", "grant_type=authorization_code&code=x"); st != 400 || m["error"] != "unsupported_grant_type" {
		t.Fatal(st, m)
	}
	if st, m, _ := post(t, e.url+"/token", "application/json", "", `{}`); st != 400 || m["error"] != "invalid_request" {
		t.Fatal(st, m)
	}
	w2.code = "unknown"
	if st, m := w2.tokenReq("123456"); st != 400 || m["error"] != "invalid_grant" {
		t.Fatal(st, m)
	}
	if e.records(t) != 0 {
		t.Fatal("issued")
	}
}

func TestBadProofs(t *testing.T) {
	e := newEnv(t)
	o, w := e.offer(t)
	if st, m := w.tokenReq(o.PIN); st != 200 {
		t.Fatal(st, m)
	}
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	wrongNonce := "not-the-nonce"
	empty := ""
	cases := []struct {
		name string
		body string
		code string
	}{
		{"wrong aud", w.requestBody(w.proof(proofOpt{aud: "https://evil.example"})), "invalid_proof"},
		{"aud list of two", w.requestBody(w.proof(proofOpt{aud: []any{w.issuer, "x"}})), "invalid_proof"},
		{"stale", w.requestBody(w.proof(proofOpt{iat: time.Now().Add(-time.Hour)})), "invalid_proof"},
		{"future", w.requestBody(w.proof(proofOpt{iat: time.Now().Add(time.Hour)})), "invalid_proof"},
		{"no jwk", w.requestBody(w.proof(proofOpt{noJWK: true})), "invalid_proof"},
		{"kid", w.requestBody(w.proof(proofOpt{header: map[string]any{"kid": "did:key:z#z"}})), "invalid_proof"},
		{"typ", w.requestBody(w.proof(proofOpt{header: map[string]any{"typ": "JWT"}})), "invalid_proof"},
		{"signed by another key", w.requestBody(w.proof(proofOpt{signer: jws.NewEd25519Signer(other)})), "invalid_proof"},
		{"alg none", w.requestBody(algNone(w.proof(proofOpt{}))), "invalid_proof"},
		{"no proof", `{"credential_configuration_id":"marriage-certificate"}`, "invalid_proof"},
		{"proof type", `{"credential_configuration_id":"marriage-certificate","proof":{"proof_type":"ldp_vp","jwt":"x"}}`, "invalid_proof"},
		{"garbage", `{"credential_configuration_id":`, "invalid_credential_request"},
		{"type of another department", request1(map[string]any{"credential_configuration_id": "household-register"}, w.proof(proofOpt{})), "unknown_credential_configuration"},
		{"unknown configuration", request1(map[string]any{"credential_configuration_id": "marriage-certificate+jwt_vc_json"}, w.proof(proofOpt{})), "unknown_credential_configuration"},
		{"unknown identifier", request1(map[string]any{"credential_identifier": "marriage-certificate#not-this-offer"}, w.proof(proofOpt{})), "unknown_credential_identifier"},
		{"configuration as identifier", request1(map[string]any{"credential_identifier": "marriage-certificate"}, w.proof(proofOpt{})), "unknown_credential_identifier"},
		{"identifier and configuration", request1(map[string]any{"credential_identifier": w.ids[w.cfg], "credential_configuration_id": w.cfg}, w.proof(proofOpt{})), "invalid_credential_request"},
		{"neither identifier nor configuration", request1(nil, w.proof(proofOpt{})), "invalid_credential_request"},
		{"draft 13 format of another vct", `{"format":"dc+sd-jwt","vct":"urn:lz:vct:household-register","proof":{"proof_type":"jwt","jwt":"` + w.proof(proofOpt{}) + `"}}`, "unknown_credential_configuration"},
		{"proof and proofs", `{"credential_configuration_id":"marriage-certificate","proof":{"proof_type":"jwt","jwt":"x"},"proofs":{"jwt":["x"]}}`, "invalid_credential_request"},
		{"two proofs", `{"credential_identifier":"` + w.ids[w.cfg] + `","proofs":{"jwt":["a.b.c","d.e.f"]}}`, "invalid_proof"},
		{"kid not did:key", request1(w.byID(w.cfg), w.proof(proofOpt{noJWK: true, header: map[string]any{"kid": "did:lz:civil-affairs#key-1"}})), "invalid_proof"},
		{"encryption", `{"credential_configuration_id":"marriage-certificate","credential_response_encryption":{"alg":"x"}}`, "invalid_encryption_parameters"},
		{"wrong nonce", w.requestBody(w.proof(proofOpt{nonce: &wrongNonce})), "invalid_nonce"},
		{"empty nonce", w.requestBody(w.proof(proofOpt{nonce: &empty})), "invalid_nonce"},
		// Duplicate members: with encoding/json alone the last one wins, so an attacker's
		// nonce (or aud) could ride beside the real one (issue 16.5).
		{"duplicate nonce in proof", w.requestBody(w.proof(proofOpt{nonce: &wrongNonce, extra: `"nonce":"` + w.nonce + `"`})), "invalid_proof"},
		{"duplicate aud in proof", w.requestBody(w.proof(proofOpt{aud: "https://evil.example", extra: `"aud":"` + w.issuer + `"`})), "invalid_proof"},
		{"duplicate member in request", `{"credential_configuration_id":"marriage-certificate","credential_configuration_id":"marriage-certificate","proof":{"proof_type":"jwt","jwt":"` + w.proof(proofOpt{}) + `"}}`, "invalid_credential_request"},
		{"invalid UTF-8 in request", "{\"credential_configuration_id\":\"marriage-certificate\xff\"}", "invalid_credential_request"},
	}
	for _, c := range cases {
		st, m, _ := w.credentialReq(c.body)
		if st != 400 || m["error"] != c.code {
			t.Errorf("%s: %d %v", c.name, st, m)
		}
		if c.code == "invalid_nonce" {
			if n, _ := m["c_nonce"].(string); n == "" || n == w.nonce {
				t.Errorf("%s: no fresh c_nonce: %v", c.name, m)
			} else {
				w.nonce = n
			}
		}
	}
	if st, m, _ := post(t, e.url+"/credential", "application/json", "", w.requestBody(w.proof(proofOpt{}))); st != 401 || m["error"] != "invalid_token" {
		t.Fatal(st, m)
	}
	if st, m, _ := post(t, e.url+"/credential", "application/json", "forged", w.requestBody(w.proof(proofOpt{}))); st != 401 || m["error"] != "invalid_token" {
		t.Fatal(st, m)
	}
	if e.records(t) != 0 {
		t.Fatal("a bad proof issued a credential")
	}
	// The token survives bad proofs; the fresh nonce works.
	if st, m, _ := w.credentialReq(w.requestBody(w.proof(proofOpt{}))); st != 200 {
		t.Fatal(st, m)
	}
	if e.records(t) != 1 {
		t.Fatal(e.records(t))
	}
}

func algNone(jwt string) string {
	p, _ := jws.Parse(jwt)
	h := map[string]any{}
	for k, v := range p.Header {
		h[k] = v
	}
	h["alg"] = "none"
	hb, _ := jws.Marshal(h)
	return jws.B64.EncodeToString(hb) + "." + jws.B64.EncodeToString(p.Payload) + "."
}

func TestNotAuthorisedAtIssuance(t *testing.T) {
	// The catalogue may change between offer and issuance: authorisation is re-checked.
	e := newEnv(t)
	if _, err := e.dept.CreateOffer(context.Background(), issuer.Request{Type: "household-register", Claims: map[string]any{}}, 0); !errors.Is(err, issuer.ErrNotAuthorised) {
		t.Fatal(err)
	}
}

func FuzzCredentialRequest(f *testing.F) {
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	pub, _ := did.NewPublicKey(k.Public())
	pb, _ := jws.Marshal(map[string]any{"aud": "https://i", "iat": 1700000000, "nonce": "n"})
	good, _ := jws.Sign(map[string]any{"typ": oid4vci.ProofTyp, "jwk": pub.JWK()}, pb, jws.NewEd25519Signer(k))
	f.Add([]byte(`{"credential_configuration_id":"x","proof":{"proof_type":"jwt","jwt":"` + good + `"}}`))
	f.Add([]byte(`{"format":"dc+sd-jwt","vct":"v","proofs":{"jwt":["a.b.c"]}}`))
	f.Add([]byte(`{"credential_identifier":"x+ldp_vc#o","proofs":{"jwt":["` + good + `"]}}`))
	f.Add([]byte(`{"credential_identifier":"x","credential_configuration_id":"x","proofs":{"jwt":["a.b.c","d.e.f"]}}`))
	f.Add([]byte(`{"credential_configuration_id":"x","proof":{"proof_type":"jwt","jwt":"eyJhbGciOiJub25lIn0.e30."}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, proof, err := oid4vci.ParseCredentialRequest(body)
		if err != nil {
			var e *oid4vci.Error
			if !errors.As(err, &e) || e.Status < 400 {
				t.Fatalf("%T %v", err, err)
			}
			return
		}
		key, err := oid4vci.VerifyProof(proof, oid4vci.ProofCheck{Audience: "https://i", Nonce: "n", Now: time.Unix(1700000000, 0)})
		if err == nil && key.Key == nil {
			t.Fatal("accepted without a key")
		}
	})
}
