//go:build interop

package interop_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"lianzheng/credential"
	"lianzheng/did"
	"lianzheng/home"
	"lianzheng/internal/keystore"
	"lianzheng/internal/rig/interop"
	"lianzheng/issuer"
	"lianzheng/portal"
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
