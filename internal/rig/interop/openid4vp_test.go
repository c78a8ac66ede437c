//go:build interop

package interop_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"lianzheng/credential"
	"lianzheng/credential/oid4vp"
	"lianzheng/did"
	"lianzheng/home"
	"lianzheng/internal/bilingual"
	"lianzheng/internal/keystore"
	"lianzheng/internal/rig/interop"
	"lianzheng/issuer"
	"lianzheng/ledger"
	"lianzheng/ledgerclient"
	"lianzheng/portal"
	"lianzheng/wallet"
)

// onlineItem is the demo portal's online service item (assets/catalogue/demo.json).
const onlineItem = "property-transfer-online"

// walletCase is one answer the outside wallet gives a fresh portal session.
type walletCase struct {
	Name   string `json:"name"`
	Link   string `json:"link"`
	Mutate string `json:"mutate,omitempty"` // "", "nonce", "aud", "overdisclose"
	Expect struct {
		Status int             `json:"status"`
		Code   credential.Code `json:"lz_code,omitempty"`
	} `json:"expect"`
	session string
}

// walletObservation is what interop/openid4vp-wallet.mjs saw for one case.
type walletObservation struct {
	Parsed  struct{ Type, Provided string } `json:"parsed"`
	Request struct {
		Version      int      `json:"version"`
		Prefix       string   `json:"prefix"`
		Identifier   string   `json:"identifier"`
		Effective    string   `json:"effective"`
		DIDURL       string   `json:"didUrl"`
		Typ          string   `json:"typ"`
		Kid          string   `json:"kid"`
		Aud          string   `json:"aud"`
		KeyFrom      string   `json:"key_from"`
		ResponseMode string   `json:"response_mode"`
		VerifierInfo []string `json:"verifier_info"`
	} `json:"request"`
	DCQL struct {
		Satisfiable bool                `json:"can_be_satisfied"`
		Queries     map[string][]string `json:"queries"`
	} `json:"dcql"`
	KB struct {
		Aud            string `json:"aud"`
		NonceIsRequest bool   `json:"nonce_is_request"`
	} `json:"kb"`
	JWE struct {
		Alg, Enc, Kid string
		APVIsNonce    bool `json:"apv_is_nonce"`
	} `json:"jwe"`
	Status      int             `json:"status"`
	ContentType string          `json:"content_type"`
	Error       string          `json:"error"`
	Code        credential.Code `json:"lz_code"`
	RedirectURI string          `json:"redirect_uri"`
	Receipt     bool            `json:"receipt"`
	Exception   string          `json:"exception"`
}

// TestOpenID4VPOutsideWallet: OWF @openid4vc/openid4vp 0.4.6, a wallet that is not ours, answers
// the demo home's live real-estate portal on 127.0.0.1. The library parses the openid4vp://
// link, fetches and verifies the signed request object (the portal's did:lz key from the
// gateway's DID Resolution endpoint), OWF dcql parses and matches the DCQL query, the
// presentations are made with @sd-jwt/sd-jwt-vc from credentials the departments issued to
// the script's holder key, and the library encrypts the direct_post.jwt response and posts it.
// The portal must accept the genuine answer (its page then shows the verdict and the
// read-only form) and refuse a KB-JWT with another nonce, a KB-JWT whose aud lacks the client
// id prefix, and an over-disclosure, each with its code.
func TestOpenID4VPOutsideWallet(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	h, err := home.OpenDemo(ctx, t.TempDir(), &home.Options{EmptyBlocksInterval: 300 * time.Millisecond,
		Keystore: &keystore.Options{KDF: &keystore.KDFParams{Time: 1, Memory: 8 * 1024, Threads: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	p := h.Portal()
	if p == nil || !strings.HasPrefix(p.URL(), "http://127.0.0.1:") {
		t.Fatal("the demo home runs no portal on loopback")
	}

	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	holder, err := did.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding
	in := map[string]any{
		"base":       h.Gateway().Base(),
		"holder_jwk": map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64.EncodeToString(pub), "d": b64.EncodeToString(priv.Seed())},
	}
	hr := household()
	hr["marital_status"] = "已婚"
	var creds []string
	for _, c := range []struct {
		dep, typ string
		claims   map[string]any
	}{{"public-security", "household-register", hr}, {"civil-affairs", "marriage-certificate", marriage()}} {
		dep, _ := h.Issuer(c.dep)
		is, err := dep.Core().Issue(ctx, issuer.Request{Type: c.typ, Claims: c.claims, Holder: holder})
		if err != nil {
			t.Fatal(err)
		}
		creds = append(creds, is.SDJWT)
	}
	in["credentials"] = creds

	cases := []*walletCase{
		{Name: "accepted"},
		{Name: "kb-nonce-not-the-request", Mutate: "nonce"},
		{Name: "kb-aud-without-prefix", Mutate: "aud"},
		{Name: "over-disclosure", Mutate: "overdisclose"},
	}
	want := map[string]credential.Code{"nonce": credential.CodeNonceMismatch, "aud": credential.CodeAudienceMismatch,
		"overdisclose": credential.CodeOverDisclosure}
	for _, c := range cases {
		c.session, c.Link = startSession(t, p.URL(), p.Server())
		c.Expect.Status, c.Expect.Code = http.StatusOK, ""
		if c.Mutate != "" {
			c.Expect.Status, c.Expect.Code = http.StatusBadRequest, want[c.Mutate]
		}
	}
	in["cases"] = cases

	var out struct {
		Cases map[string]walletObservation `json:"cases"`
	}
	err = interop.RunNode(ctx, "openid4vp-wallet.mjs", in, &out)
	mustRun(t, err)
	portalDID := "did:lz:" + home.DemoPortal
	for _, c := range cases {
		o, ok := out.Cases[c.Name]
		if !ok {
			t.Errorf("%s: no observation", c.Name)
			continue
		}
		logObservation(t, c.Name, o)
		r := o.Request
		if o.Parsed.Type != "jar" || r.Version != 100 || r.Prefix != "decentralized_identifier" || r.Identifier != portalDID ||
			r.Effective != "decentralized_identifier:"+portalDID || !strings.HasPrefix(r.DIDURL, portalDID+"#") ||
			r.Typ != "oauth-authz-req+jwt" || r.Aud != "https://self-issued.me/v2" || r.ResponseMode != "direct_post.jwt" ||
			len(r.VerifierInfo) != 1 || r.VerifierInfo[0] != "lz_ledger_registration" ||
			!strings.HasPrefix(r.KeyFrom, h.Gateway().Base()+"/1.0/identifiers/"+encodedDID(portalDID)+"?versionTime=") {
			t.Errorf("%s: the library read the request as %+v", c.Name, r)
		}
		if !o.DCQL.Satisfiable || strings.Join(o.DCQL.Queries["household-register"], ",") != "name,id_number,address,marital_status" ||
			len(o.DCQL.Queries["marriage-certificate"]) != 5 {
			t.Errorf("%s: OWF dcql read the query as %+v", c.Name, o.DCQL)
		}
		if o.JWE.Alg != "ECDH-ES" || o.JWE.Enc != "A128GCM" || !o.JWE.APVIsNonce {
			t.Errorf("%s: the library encrypted with %+v", c.Name, o.JWE)
		}
		if o.Status != c.Expect.Status || o.Code != c.Expect.Code || o.Exception != "" {
			t.Errorf("%s: the portal answered %d %q (%s), want %d %q", c.Name, o.Status, o.Code, o.Exception, c.Expect.Status, c.Expect.Code)
		}
		s, err := p.Server().Session(c.session)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		wantState := portal.StateVerified
		if c.Mutate != "" {
			wantState = portal.StateRefused
		}
		if s.State != wantState || s.Verdict == nil || s.Verdict.Code != c.Expect.Code {
			t.Errorf("%s: portal session %s, verdict %+v", c.Name, s.State, s.Verdict)
		}
		if c.Mutate == "" {
			if !strings.HasSuffix(o.RedirectURI, "/s/"+c.session) || !o.Receipt {
				t.Errorf("%s: redirect_uri %q, receipt %v", c.Name, o.RedirectURI, o.Receipt)
			}
			pg := getPage(t, p.URL()+"/s/"+c.session)
			for _, w := range []string{`data-ok="true"`, `name="household-register.name" value="测试用户甲" readonly`,
				`name="marriage-certificate.spouse_name" value="王䶮" readonly`} {
				if !strings.Contains(pg, w) {
					t.Errorf("%s: the portal page lacks %q", c.Name, w)
				}
			}
		}
	}
}

// startSession opens an application page as a browser does and returns the session id and
// its openid4vp:// link.
func startSession(t *testing.T, base string, srv *portal.Server) (string, string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base + "/apply/" + onlineItem)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/s/") {
		t.Fatalf("apply: %d %s", resp.StatusCode, loc)
	}
	id := strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], "/s/")
	s, err := srv.Session(id)
	if err != nil {
		t.Fatal(err)
	}
	return id, s.Link
}

func getPage(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}

// outsideVerifier is the test-only online service the outside verifier is registered as.
const outsideVerifier = "interop-verifier"

// verifierReply is what interop/openid4vp-verifier.mjs answers a "request" command.
type verifierReply struct {
	Error    string `json:"error"`
	Link     string `json:"link"`
	ClientID string `json:"client_id"`
	Nonce    string `json:"nonce"`
	JAR      struct {
		Typ, Kid, Alg, Aud, Iss string
		Validity                int `json:"exp_minus_iat"`
	} `json:"jar"`
}

// verifierObservation is what the outside verifier saw of the response posted for a case.
type verifierObservation struct {
	Error       string `json:"error"`
	Fetched     bool   `json:"fetched"`
	Received    bool   `json:"received"`
	ContentType string `json:"content_type"`
	JWE         struct {
		Alg, Enc, Kid string
		APVIsNonce    bool `json:"apv_is_nonce"`
	} `json:"jwe"`
	Library struct {
		Type          string  `json:"type"`
		StateOK       bool    `json:"state_ok"`
		State         *string `json:"state"`
		ExpectedNonce bool    `json:"expected_nonce"`
	} `json:"library"`
	Presentations map[string]struct {
		Verified  bool     `json:"verified"`
		Error     string   `json:"error"`
		Iss, Vct  string   `json:"-"`
		KBAud     string   `json:"kb_aud"`
		KBNonceOK bool     `json:"kb_nonce_ok"`
		Disclosed []string `json:"disclosed"`
	} `json:"presentations"`
	DCQLSatisfied bool     `json:"dcql_satisfied"`
	Accepted      bool     `json:"accepted"`
	Failures      []string `json:"failures"`
	Exception     string   `json:"exception"`
}

// TestOpenID4VPOutsideVerifier: OWF @openid4vc/openid4vp 0.4.6, a verifier that is not ours,
// asks our wallet core for credentials. Our wallet answers only services registered on the
// ledger, so the outside verifier's own Ed25519 key (made by the script) is registered
// test-only: did:lz:interop-verifier, created by the real-estate department, and an online
// service item on it by the consortium's governance. The library makes the signed request
// (decentralized_identifier:did:lz:interop-verifier, JAR by reference, DCQL with its own
// query ids, direct_post.jwt to its own key), serves it on 127.0.0.1, and our
// wallet.PlanOpenID4VP / PresentOpenID4VP answer; the library decrypts and validates the
// response, and the script verifies each SD-JWT with @sd-jwt/sd-jwt-vc (issuer key and status
// from the gateway, KB-JWT nonce, aud = the full client id) and the DCQL result with OWF dcql.
// A request without state (optional in OpenID4VP 1.0 when holder binding is asked) is answered
// too. Refusals: a request object signed by a key that is not the registered one, and one
// with the library's default aud (its request_uri, where OpenID4VP 1.0 §5.8 wants
// https://self-issued.me/v2), both refused by the wallet before anything is sent; a query
// asking a field beyond the registration (the wallet never discloses it, so the outside
// verifier finds its query unsatisfied).
func TestOpenID4VPOutsideVerifier(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	h, err := home.OpenDemo(ctx, t.TempDir(), &home.Options{EmptyBlocksInterval: 300 * time.Millisecond,
		Keystore: &keystore.Options{KDF: &keystore.KDFParams{Time: 1, Memory: 8 * 1024, Threads: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()

	// the citizen's wallet with both credentials
	if err := h.Wallet().Setup("20261125"); err != nil {
		t.Fatal(err)
	}
	w, err := h.Wallet().Core()
	if err != nil {
		t.Fatal(err)
	}
	hr := household()
	hr["marital_status"] = "已婚"
	for _, c := range []struct {
		dep, typ string
		claims   map[string]any
	}{{"public-security", "household-register", hr}, {"civil-affairs", "marriage-certificate", marriage()}} {
		kid, err := w.Keys.NewEd25519()
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := w.Keys.Public(kid)
		hp, _ := did.NewPublicKey(pub)
		dep, _ := h.Issuer(c.dep)
		is, err := dep.Core().Issue(ctx, issuer.Request{Type: c.typ, Claims: c.claims, Holder: hp})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Accept(ctx, h.Ledger(), is.SDJWT, kid); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Gateway().Refresh(ctx); err != nil { // the status lists the outside verifier fetches
		t.Fatal(err)
	}

	s, err := interop.StartNode(ctx, "openid4vp-verifier.mjs")
	mustRun(t, err)
	if err != nil {
		return
	}
	defer s.Close()
	var ready struct {
		JWK    json.RawMessage `json:"jwk"`
		Origin string          `json:"origin"`
	}
	if err := s.Recv(&ready); err != nil {
		t.Fatal(err)
	}
	reg := registerOutsideVerifier(t, ctx, h, ready.JWK)
	var ok struct {
		OK bool `json:"ok"`
	}
	if err := s.Call(map[string]any{"cmd": "configure", "base": h.Gateway().Base(), "did": "did:lz:" + outsideVerifier,
		"kid": "did:lz:" + outsideVerifier + "#key-1", "registration": reg}, &ok); err != nil || !ok.OK {
		t.Fatalf("configure: %v %v", err, ok)
	}
	hrVCT, mcVCT := vctOf(t, ctx, h, "household-register"), vctOf(t, ctx, h, "marriage-certificate")
	opts := &wallet.OpenID4VPOptions{InsecureLoopback: true}
	request := func(name, sign, expect string, hrClaims []string) verifierReply {
		t.Helper()
		var r verifierReply
		err := s.Call(map[string]any{"cmd": "request", "case": name, "sign": sign, "expect": expect, "omit_state": name == "no-state", "library_default_aud": name == "aud-request-uri", "queries": []map[string]any{
			{"id": "hr", "vct": hrVCT, "claims": hrClaims},
			{"id": "mc", "vct": mcVCT, "claims": []string{"holder_name", "spouse_name"}},
		}}, &r)
		if err != nil || r.Error != "" || !strings.HasPrefix(r.Link, "openid4vp://?") {
			t.Fatalf("%s: request: %v %+v", name, err, r)
		}
		wantAud := "https://self-issued.me/v2"
		if name == "aud-request-uri" {
			wantAud = ready.Origin + "/request/" + name
		}
		if r.ClientID != "decentralized_identifier:did:lz:"+outsideVerifier || r.JAR.Typ != "oauth-authz-req+jwt" ||
			r.JAR.Kid != "did:lz:"+outsideVerifier+"#key-1" || r.JAR.Aud != wantAud || r.JAR.Iss != "" {
			t.Fatalf("%s: the library's request %+v", name, r)
		}
		return r
	}
	result := func(name string) verifierObservation {
		t.Helper()
		var o verifierObservation
		if err := s.Call(map[string]any{"cmd": "result", "case": name}, &o); err != nil || o.Error != "" {
			t.Fatalf("%s: result: %v %+v", name, err, o)
		}
		logObservation(t, name, o)
		return o
	}

	// 1. accepted
	r := request("accepted", "registered", "accepted", []string{"name", "id_number", "address"})
	pl, err := w.PlanOpenID4VP(ctx, r.Link, opts)
	if err != nil {
		t.Fatalf("our wallet refused the outside verifier's request: %v", err)
	}
	if pl.OverAsk || pl.WindowName.Zh != reg.Name.Zh || pl.Purpose.Zh != reg.Purpose.Zh || len(pl.Asks) != 2 ||
		pl.Online.QueryIDs["household-register"] != "hr" || pl.Online.QueryIDs["marriage-certificate"] != "mc" {
		t.Fatalf("plan %+v", pl)
	}
	res, err := w.PresentOpenID4VP(ctx, pl, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := result("accepted")
	if !res.Accepted || res.RedirectURI != ready.Origin+"/done/accepted" {
		t.Errorf("accepted: the outside verifier answered %+v (its failures: %v)", res, o.Failures)
	}
	if !o.Fetched || !o.Received || !o.Accepted || o.JWE.Alg != "ECDH-ES" || o.JWE.Enc != "A128GCM" || !o.JWE.APVIsNonce ||
		o.Library.Type != "dcql" || !o.Library.StateOK || !o.DCQLSatisfied || len(o.Presentations) != 2 {
		t.Errorf("accepted: the outside verifier saw %+v", o)
	}
	for id, want := range map[string]string{"hr": "address,id_number,name", "mc": "holder_name,spouse_name"} {
		p := o.Presentations[id]
		if !p.Verified || p.KBAud != r.ClientID || !p.KBNonceOK || strings.Join(p.Disclosed, ",") != want {
			t.Errorf("accepted: presentation %s: %+v, want %s disclosed", id, p, want)
		}
	}

	// 2. a request without state (OpenID4VP 1.0 §5.2: optional when holder binding is asked)
	r = request("no-state", "registered", "accepted", []string{"name"})
	if pl, err = w.PlanOpenID4VP(ctx, r.Link, opts); err != nil {
		t.Fatalf("no state: our wallet refused the request: %v", err)
	}
	if res, err = w.PresentOpenID4VP(ctx, pl, nil); err != nil || !res.Accepted {
		t.Errorf("no state: %v %+v", err, res)
	}
	if o = result("no-state"); !o.Accepted || o.Library.State != nil || strings.Join(o.Presentations["hr"].Disclosed, ",") != "name" {
		t.Errorf("no state: the outside verifier saw %+v", o)
	}

	// 3. a request object signed by another key under the registered kid: our wallet refuses it
	r = request("unregistered-key", "unregistered", "unanswered", []string{"name"})
	var ref *wallet.Refusal
	if _, err := w.PlanOpenID4VP(ctx, r.Link, opts); !errors.As(err, &ref) || ref.Code != credential.CodeBadRequest {
		t.Errorf("unregistered key: our wallet answered %v", err)
	}

	// 4. the library's default request object aud (its request_uri; OpenID4VP 1.0 §5.8 wants
	// https://self-issued.me/v2 under static discovery): refused, nothing is sent
	r = request("aud-request-uri", "registered", "unanswered", []string{"name"})
	if _, err := w.PlanOpenID4VP(ctx, r.Link, opts); !errors.As(err, &ref) || ref.Code != credential.CodeBadRequest {
		t.Errorf("request object aud %s: our wallet answered %v", r.JAR.Aud, err)
	}

	// 5. asking a field beyond the registration: refused by our wallet, never disclosed
	r = request("over-asking", "registered", "refused", []string{"name", "id_number", "birth_date"})
	pl, err = w.PlanOpenID4VP(ctx, r.Link, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !pl.OverAsk || strings.Join(pl.Asks[0].Refused, ",") != "birth_date" {
		t.Fatalf("over-asking: plan %+v", pl.Asks)
	}
	if res, err = w.PresentOpenID4VP(ctx, pl, nil); err != nil || res.Accepted {
		t.Errorf("over-asking: %v %+v", err, res)
	}
	o = result("over-asking")
	if !o.Received || o.Accepted || o.DCQLSatisfied || strings.Join(o.Presentations["hr"].Disclosed, ",") != "id_number,name" {
		t.Errorf("over-asking: the outside verifier saw %+v", o)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
}

// registerOutsideVerifier registers, on the test ledger only, the outside verifier's key as
// did:lz:interop-verifier (controlled by the real-estate department) and an online service
// item on it (window.put by the consortium's k-of-n governance), and waits until the key is
// valid at a whole second (a request object's iat has one-second resolution). It returns
// the registration the verifier carries in verifier_info.
func registerOutsideVerifier(t *testing.T, ctx context.Context, h *home.Home, jwk []byte) oid4vp.Registration {
	t.Helper()
	pk, err := did.ParseJWKJSON(jwk)
	if err != nil {
		t.Fatal(err)
	}
	const dept = "realestate"
	dk, err := h.DemoKey(dept)
	if err != nil {
		t.Fatal(err)
	}
	d := "did:lz:" + outsideVerifier
	if _, err := h.Ledger().DIDCreate(ctx, ledgerclient.Signer{KeyID: dk.KeyID, Key: dk.PrivateKey()}, d,
		[]did.KeyRecord{{ID: "key-1", PublicKeyMultibase: pk.Multikey(), Purposes: []string{did.PurposeAuthentication, did.PurposeAssertion}}}); err != nil {
		t.Fatal(err)
	}
	item := ledger.ServiceItem{ID: "interop-identity-check",
		Name:    ledger.Text{Zh: "互通测试：身份与婚姻核验（测试专用）", En: "Interop test: identity and marriage check (test only)"},
		Purpose: ledger.Text{Zh: "测试外部核验方与钱包的互通", En: "Test interoperability of an outside verifier with the wallet"},
		Requests: []ledger.FieldRequest{{Type: "household-register", Fields: []string{"name", "id_number", "address"}},
			{Type: "marriage-certificate", Fields: []string{"holder_name", "spouse_name"}}}}
	win := ledger.Window{DID: d, Department: dept, Channel: ledger.ChannelOnline,
		Name: ledger.Text{Zh: "互通测试核验方（测试专用）", En: "Interop test verifier (test only)"}, ServiceItems: []ledger.ServiceItem{item}}
	governOnTestLedger(t, ctx, h, ledger.ActionWindowPut, win)
	hist, err := h.Ledger().History(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if wait := time.Until(hist.Keys[0].ValidFrom.Truncate(time.Second).Add(time.Second)); wait > 0 {
		time.Sleep(wait)
	}
	reg := oid4vp.Registration{Service: d, Department: dept, Name: bilingual.Text(win.Name), Item: item.ID,
		ItemName: bilingual.Text(item.Name), Purpose: bilingual.Text(item.Purpose)}
	for _, fr := range item.Requests {
		reg.Requests = append(reg.Requests, oid4vp.Requested{Type: fr.Type, VCT: vctOf(t, ctx, h, fr.Type), Fields: fr.Fields})
	}
	return reg
}

// governOnTestLedger passes a governance action with the demo members' keys (proposed by the
// first, approved by the next until the consortium's approvals are reached).
func governOnTestLedger(t *testing.T, ctx context.Context, h *home.Home, action string, payload any) {
	t.Helper()
	p, err := h.Ledger().Params(ctx)
	if err != nil {
		t.Fatal(err)
	}
	members, err := h.Ledger().Members(ctx)
	if err != nil || len(members) < p.Approvals {
		t.Fatalf("members: %v (%d)", err, len(members))
	}
	var id string
	for i := 0; i < p.Approvals; i++ {
		k, err := h.DemoKey(members[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		s := ledgerclient.Signer{KeyID: k.KeyID, Key: k.PrivateKey()}
		if i == 0 {
			res, err := h.Ledger().ProposalCreate(ctx, s, action, payload)
			if err != nil {
				t.Fatal(err)
			}
			id = res.ProposalID
			continue
		}
		if _, err := h.Ledger().ProposalApprove(ctx, s, id); err != nil {
			t.Fatal(err)
		}
	}
	pr, err := h.Ledger().Proposal(ctx, id)
	if err != nil || pr.Status != "applied" {
		t.Fatalf("proposal %s: %v %+v", id, err, pr)
	}
}

func vctOf(t *testing.T, ctx context.Context, h *home.Home, typ string) string {
	t.Helper()
	ty, err := h.Ledger().Type(ctx, typ)
	if err != nil {
		t.Fatal(err)
	}
	return ty.VCT
}
