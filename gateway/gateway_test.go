package gateway_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lianzheng/credential/dataintegrity"
	"lianzheng/credential/jws"
	"lianzheng/credential/statuslist"
	"lianzheng/did"
	"lianzheng/gateway"
	"lianzheng/home"
	"lianzheng/issuer"
	"lianzheng/ledger"
)

func household() map[string]any {
	return map[string]any{"name": "测试用户甲", "id_number": "TEST00000000000001", "birth_date": "1990-01-01",
		"relation_to_head": "户主", "household_number": "TEST-H-0001", "address": "示例市测试路1号"}
}

func holderKey(t *testing.T) did.PublicKey {
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	p, err := did.NewPublicKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type fetched struct {
	status int
	header http.Header
	body   []byte
}

func get(t *testing.T, url string, hdr ...string) fetched {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return fetched{r.StatusCode, r.Header, b}
}

// TestGateway runs the demo home (a real embedded ledger) and reads every URL a credential
// names the way an outside verifier would, before and after the department changes status.
func TestGateway(t *testing.T) {
	ctx := context.Background()
	h, err := home.OpenDemo(ctx, t.TempDir(), &home.Options{EmptyBlocksInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	gw := h.Gateway()
	base := gw.Base()
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("base %q", base)
	}
	dep, _ := h.Issuer("public-security")
	is, err := dep.Core().Issue(ctx, issuer.Request{Type: "household-register", Claims: household(), Holder: holderKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	sd, err := jws.Parse(strings.Split(is.SDJWT, "~")[0])
	if err != nil {
		t.Fatal(err)
	}
	var payload struct {
		Status struct {
			StatusList struct {
				Idx int    `json:"idx"`
				URI string `json:"uri"`
			} `json:"status_list"`
		} `json:"status"`
		VCT string `json:"vct"`
	}
	if err := json.Unmarshal(sd.Payload, &payload); err != nil {
		t.Fatal(err)
	}
	tokenURL := payload.Status.StatusList.URI
	if tokenURL != base+"/status/public-security/0/token" {
		t.Fatalf("status uri %q", tokenURL)
	}
	// The issuer key, from the DID resolution endpoint.
	r := get(t, ledger.DIDResolutionURL(base, "did:lz:public-security"))
	if r.status != 200 || r.header.Get("Content-Type") != gateway.TypeResolutionResult {
		t.Fatalf("resolve: %d %s %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	var rr gateway.ResolutionResult
	if err := json.Unmarshal(r.body, &rr); err != nil || rr.DIDDocument == nil {
		t.Fatalf("resolution %s: %v", r.body, err)
	}
	pk, err := rr.DIDDocument.KeyFor(sd.Header["kid"].(string), did.PurposeAssertion)
	if err != nil {
		t.Fatal(err)
	}
	if err := sd.Verify(pk.Key); err != nil {
		t.Fatalf("credential does not verify with the resolved key: %v", err)
	}
	readToken := func() int {
		t.Helper()
		r := get(t, tokenURL)
		if r.status != 200 || r.header.Get("Content-Type") != gateway.TypeStatusListJWT || r.header.Get("ETag") == "" ||
			r.header.Get("Cache-Control") != "public, max-age=300" {
			t.Fatalf("token: %d %v", r.status, r.header)
		}
		p, err := jws.Parse(string(r.body))
		if err != nil || p.Header["typ"] != "statuslist+jwt" || p.Header["kid"] != sd.Header["kid"] {
			t.Fatalf("token %+v %v", p, err)
		}
		if err := p.Verify(pk.Key); err != nil {
			t.Fatal(err)
		}
		var c struct {
			Sub        string                    `json:"sub"`
			Iat        int64                     `json:"iat"`
			Exp        int64                     `json:"exp"`
			TTL        int64                     `json:"ttl"`
			StatusList statuslist.IETFStatusList `json:"status_list"`
		}
		if err := json.Unmarshal(p.Payload, &c); err != nil || c.Sub != tokenURL || c.TTL != 300 || c.Iat == 0 || c.Exp <= c.Iat {
			t.Fatalf("claims %s %v", p.Payload, err)
		}
		l, err := statuslist.DecodeIETF(c.StatusList)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := l.Get(payload.Status.StatusList.Idx)
		return int(v)
	}
	readW3C := func(purpose string) int {
		t.Helper()
		u := ledger.StatusListCredentialURL(base, "public-security", 0, purpose)
		r := get(t, u)
		if r.status != 200 || r.header.Get("Content-Type") != gateway.TypeVC {
			t.Fatalf("%s: %d %s", u, r.status, r.body)
		}
		var cred map[string]any
		if err := json.Unmarshal(r.body, &cred); err != nil {
			t.Fatal(err)
		}
		if _, err := dataintegrity.Verify(cred, func(vm string) (ed25519.PublicKey, error) {
			k, err := rr.DIDDocument.KeyFor(vm, did.PurposeAssertion)
			pk, _ := k.Key.(ed25519.PublicKey)
			return pk, err
		}); err != nil {
			t.Fatalf("%s list credential: %v", purpose, err)
		}
		subj := cred["credentialSubject"].(map[string]any)
		if cred["id"] != u || subj["statusPurpose"] != purpose {
			t.Fatalf("list credential %v", cred)
		}
		l, err := statuslist.DecodeW3C(subj["encodedList"].(string), 1)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := l.Get(is.Record.StatusIndex)
		return int(v)
	}
	if readToken() != 0 || readW3C("revocation") != 0 || readW3C("suspension") != 0 {
		t.Fatal("a new credential is not valid in the lists")
	}
	for _, c := range []struct {
		action                 string
		token, revoked, suspen int
	}{{issuer.ActionSuspend, 2, 0, 1}, {issuer.ActionResume, 0, 0, 0}, {issuer.ActionRevoke, 1, 1, 0}} {
		if _, _, err := dep.Core().SetStatus(ctx, is.Record.ID, c.action); err != nil {
			t.Fatal(err)
		}
		if err := gw.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if tok, rv, sp := readToken(), readW3C("revocation"), readW3C("suspension"); tok != c.token || rv != c.revoked || sp != c.suspen {
			t.Fatalf("after %s: token %d revocation %d suspension %d", c.action, tok, rv, sp)
		}
	}
	// Type metadata of the vct, in both languages.
	r = get(t, ledger.TypeMetadataURL(base, payload.VCT))
	var tm gateway.TypeMetadata
	if r.status != 200 || json.Unmarshal(r.body, &tm) != nil || tm.VCT != payload.VCT || len(tm.Display) != 2 ||
		tm.Display[0].Locale != "zh-CN" || tm.Display[0].Name != "居民户口簿" || len(tm.Claims) != 7 || tm.Claims[0].Display[0].Label != "姓名" {
		t.Fatalf("type metadata %d %s", r.status, r.body)
	}
	// versionTime: before the DID existed, not found; now, the same key.
	r = get(t, ledger.DIDResolutionURL(base, "did:lz:public-security")+"?versionTime=2001-01-01T00:00:00Z")
	if r.status != 404 || !strings.Contains(string(r.body), `"`+gateway.ErrorType+`NOT_FOUND"`) {
		t.Fatalf("versionTime before creation: %d %s", r.status, r.body)
	}
	r = get(t, ledger.DIDResolutionURL(base, "did:lz:public-security")+"?versionTime="+time.Now().UTC().Format(time.RFC3339))
	if r.status != 200 || !strings.Contains(string(r.body), sd.Header["kid"].(string)) {
		t.Fatalf("versionTime now: %d %s", r.status, r.body)
	}
	// Bare document on request.
	r = get(t, ledger.DIDResolutionURL(base, "did:lz:public-security"), "Accept", "application/did+ld+json")
	if r.status != 200 || r.header.Get("Content-Type") != gateway.TypeDIDDocument {
		t.Fatalf("bare document: %d %v", r.status, r.header)
	}
	if _, err := did.ParseDocument(r.body); err != nil {
		t.Fatal(err)
	}
	// Conditional GET.
	first := get(t, tokenURL)
	if r := get(t, tokenURL, "If-None-Match", first.header.Get("ETag")); r.status != 304 || len(r.body) != 0 {
		t.Fatalf("If-None-Match: %d", r.status)
	}
	// Refusals, each with its code, in the client's language.
	for _, c := range []struct {
		url, lang, code string
		status          int
	}{
		{base + "/nothing", "", gateway.CodeNotFound, 404},
		{base + "/status/public-security/0/token?x=1", "en", gateway.CodeBadQuery, 400},
		{base + "/" + strings.Repeat("a", 600), "", gateway.CodeTooLong, 414},
	} {
		r := get(t, c.url, "Accept-Language", c.lang)
		var e map[string]string
		if r.status != c.status || json.Unmarshal(r.body, &e) != nil || e["error"] != c.code || e["error_description"] == "" {
			t.Errorf("%s: %d %s", c.url, r.status, r.body)
		}
		if (c.lang == "") != strings.ContainsAny(e["error_description"], "。") {
			t.Errorf("%s: message not in the asked language: %q", c.url, e["error_description"])
		}
	}
	for _, c := range []struct {
		d      string
		status int
		code   string
	}{{"did:lz:nobody", 404, "NOT_FOUND"}, {"did:lz:BAD", 400, "INVALID_DID"}, {"did:web:example.org", 501, "METHOD_NOT_SUPPORTED"}} {
		r := get(t, ledger.DIDResolutionURL(base, c.d))
		if r.status != c.status || !strings.Contains(string(r.body), `"`+gateway.ErrorType+c.code+`"`) {
			t.Errorf("%s: %d %s", c.d, r.status, r.body)
		}
	}
	req, _ := http.NewRequest("POST", tokenURL, strings.NewReader("x"))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 405 {
		t.Fatalf("POST: %v %v", resp, err)
	}
	// The static copy: every URL as a file, the index with content types.
	dir := t.TempDir()
	idx, err := gw.Export(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "status", "public-security", "0", "token"))
	if err != nil || string(b) != string(get(t, tokenURL).body) {
		t.Fatalf("exported token: %v", err)
	}
	types := map[string]string{}
	for _, e := range idx.Files {
		types[e.Path] = e.ContentType
	}
	if types["/status/public-security/0/token"] != gateway.TypeStatusListJWT || types["/status/civil-affairs/0/suspension"] != gateway.TypeVC ||
		types["/1.0/identifiers/did:lz:public-security"] == "" || types["/vct/"+payload.VCT] == "" || idx.PublicBaseURL != base {
		t.Fatalf("export index %+v", idx)
	}
}
