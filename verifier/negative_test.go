package verifier

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"lianzheng/credential"
	"lianzheng/credential/jws"
	"lianzheng/credential/sdjwt"
	"lianzheng/credential/sdjwtcbor"
	"lianzheng/credential/wire"
	"lianzheng/ledger"
	"lianzheng/qr"
)

// corpus is the shared fixture of the negative tests: credentials issued on the shared
// ledger (two of them then revoked / suspended) and a verified snapshot taken afterwards.
type corpus struct {
	n                  *net
	snapPath           string
	trust              *SnapshotTrust
	hr, mc             *held
	revoked, suspended *held
}

var (
	corpusOnce sync.Once
	theCorpus  *corpus
)

func getCorpus(t testing.TB) *corpus {
	corpusOnce.Do(func() {
		n := sharedNet(t)
		c := &corpus{n: n}
		c.hr = n.issue(t, "household-register", issueOpt{})
		c.mc = n.issue(t, "marriage-certificate", issueOpt{})
		c.revoked = n.issue(t, "marriage-certificate", issueOpt{})
		c.suspended = n.issue(t, "marriage-certificate", issueOpt{})
		n.setStatus(t, c.revoked, ledger.StatusRevoked)
		n.setStatus(t, c.suspended, ledger.StatusSuspended)
		dir, _ := os.MkdirTemp("", "lz-verifier-corpus-")
		c.snapPath = dir + "/trust.snap"
		c.trust = n.snapshot(t, c.snapPath)
		theCorpus = c
	})
	if theCorpus == nil {
		t.Fatal("corpus setup failed")
	}
	return theCorpus
}

// rebind replaces the issuer JWT and/or disclosures and binds again with the holder key.
func rebind(t testing.TB, h *held, issuerJWT string, discs []*sdjwt.Disclosure, nonce, aud string) string {
	t.Helper()
	s := &sdjwt.SDJWT{IssuerJWT: issuerJWT, Disclosures: discs}
	out, err := s.Bind(h.holder, nonce, aud, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func selected(t testing.TB, h *held, fields ...string) *sdjwt.SDJWT {
	t.Helper()
	if fields == nil {
		fields = requested[h.typ]
	}
	s, err := h.sd.Select(fields...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func b64json(v any) string {
	b, _ := jws.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestNegativeCorpus(t *testing.T) {
	c := getCorpus(t)
	n := c.n
	ctx := context.Background()
	type tc struct {
		name string
		want credential.Code
		// build returns the household-register presentation for the request (the marriage
		// certificate is always added, valid).
		build func(t *testing.T, r *Request) string
		only  bool // send only build's output
	}
	nonceOf := func(r *Request) (string, string) { return r.Request.NonceString(), r.Request.Audience() }
	parts := func(h *held) []string { return strings.Split(h.sd.IssuerJWT, ".") }
	cases := []tc{
		{"valid", "", func(t *testing.T, r *Request) string { no, a := nonceOf(r); return c.hr.present(t, no, a) }, false},
		{"unsigned", credential.CodeUnsigned, func(t *testing.T, r *Request) string {
			no, a := nonceOf(r)
			p := parts(c.hr)
			return rebind(t, c.hr, p[0]+"."+p[1]+".", selected(t, c.hr).Disclosures, no, a)
		}, false},
		{"alg none", credential.CodeAlgNone, func(t *testing.T, r *Request) string {
			no, a := nonceOf(r)
			p := parts(c.hr)
			h := b64json(map[string]any{"alg": "none", "kid": c.n.keys["public-security"].KeyID, "typ": "dc+sd-jwt"})
			return rebind(t, c.hr, h+"."+p[1]+".", selected(t, c.hr).Disclosures, no, a)
		}, false},
		{"wrong issuer key", credential.CodeBadSignature, func(t *testing.T, r *Request) string {
			_, k, _ := ed25519.GenerateKey(rand.Reader)
			no, a := nonceOf(r)
			return n.issue(t, "household-register", issueOpt{signKey: k}).present(t, no, a)
		}, false},
		{"key not valid at issuance", credential.CodeIssuerKeyMismatch, func(t *testing.T, r *Request) string {
			no, a := nonceOf(r)
			return n.issue(t, "household-register", issueOpt{iat: time.Now().Add(-2 * time.Hour)}).present(t, no, a)
		}, false},
		{"kid of another department", credential.CodeIssuerKeyMismatch, func(t *testing.T, r *Request) string {
			no, a := nonceOf(r)
			p := parts(c.hr)
			payload, _ := base64.RawURLEncoding.DecodeString(p[1])
			ca := n.keys["civil-affairs"]
			jwt, _ := jws.Sign(map[string]any{"kid": ca.KeyID, "typ": "dc+sd-jwt"}, payload, jws.NewEd25519Signer(ca.PrivateKey()))
			return rebind(t, c.hr, jwt, selected(t, c.hr).Disclosures, no, a)
		}, false},
		{"issuer not authorised", credential.CodeIssuerNotAuthorised, func(t *testing.T, r *Request) string {
			no, a := nonceOf(r)
			return n.issue(t, "household-register", issueOpt{issuer: "civil-affairs"}).present(t, no, a)
		}, false},
		{"unknown type", credential.CodeUnknownType, func(t *testing.T, r *Request) string {
			no, a := nonceOf(r)
			return n.issue(t, "household-register", issueOpt{vct: "urn:lz:vct:not-in-catalogue"}).present(t, no, a)
		}, false},
		{"status list of another member", credential.CodeStatusUnknown, func(t *testing.T, r *Request) string {
			no, a := nonceOf(r)
			return n.issue(t, "household-register", issueOpt{statusURI: ledger.StatusListURI("civil-affairs", 0)}).present(t, no, a)
		}, false},
		{"revoked", credential.CodeRevoked, func(t *testing.T, r *Request) string {
			no, a := nonceOf(r)
			return c.revoked.present(t, no, a)
		}, true},
		{"suspended", credential.CodeSuspended, func(t *testing.T, r *Request) string {
			no, a := nonceOf(r)
			return c.suspended.present(t, no, a)
		}, true},
		{"expired", credential.CodeExpired, func(t *testing.T, r *Request) string {
			no, a := nonceOf(r)
			return n.issue(t, "household-register", issueOpt{iat: time.Now().Add(-30 * time.Minute), exp: time.Now().Add(-10 * time.Minute)}).present(t, no, a)
		}, false},
		{"not yet valid", credential.CodeNotYetValid, func(t *testing.T, r *Request) string {
			no, a := nonceOf(r)
			return n.issue(t, "household-register", issueOpt{iat: time.Now().Add(time.Hour)}).present(t, no, a)
		}, false},
		{"wrong nonce", credential.CodeNonceMismatch, func(t *testing.T, r *Request) string {
			_, a := nonceOf(r)
			return c.hr.present(t, "c29tZW90aGVybm9uY2U", a)
		}, false},
		{"wrong audience", credential.CodeAudienceMismatch, func(t *testing.T, r *Request) string {
			no, _ := nonceOf(r)
			return c.hr.present(t, no, "did:lz:another-window")
		}, false},
		{"undisclosed digest tampered", credential.CodeBadSignature, func(t *testing.T, r *Request) string {
			no, a := nonceOf(r)
			p := parts(c.hr)
			raw, _ := base64.RawURLEncoding.DecodeString(p[1])
			var m map[string]any
			json.Unmarshal(raw, &m)
			sd := m["_sd"].([]any)
			d := []byte(sd[0].(string))
			if d[0] == 'A' {
				d[0] = 'B'
			} else {
				d[0] = 'A'
			}
			sd[0] = string(d)
			return rebind(t, c.hr, p[0]+"."+b64json(m)+"."+p[2], selected(t, c.hr).Disclosures, no, a)
		}, false},
		{"disclosure not committed", credential.CodeDisclosureUnbound, func(t *testing.T, r *Request) string {
			no, a := nonceOf(r)
			d, _ := sdjwt.NewDisclosure("c2FsdHNhbHRzYWx0c2FsdA", "name", "冒名者", false)
			s := selected(t, c.hr, "id_number", "address", "marital_status")
			return rebind(t, c.hr, s.IssuerJWT, append(s.Disclosures, d), no, a)
		}, false},
		{"extra disclosure", credential.CodeOverDisclosure, func(t *testing.T, r *Request) string {
			no, a := nonceOf(r)
			return c.hr.present(t, no, a, "name", "id_number", "address", "marital_status", "birth_date")
		}, false},
		{"missing KB-JWT", credential.CodeMissingKB, func(t *testing.T, r *Request) string {
			return selected(t, c.hr).SDHashInput()
		}, false},
		{"forged KB-JWT", credential.CodeBadKB, func(t *testing.T, r *Request) string {
			no, a := nonceOf(r)
			_, k, _ := ed25519.GenerateKey(rand.Reader)
			s, _ := selected(t, c.hr).Bind(jws.NewEd25519Signer(k), no, a, time.Now())
			return s
		}, false},
		{"sd_hash mismatch", credential.CodeSDHashMismatch, func(t *testing.T, r *Request) string {
			no, a := nonceOf(r)
			sub := selected(t, c.hr, "name", "id_number", "address")
			kbText, _ := sub.Bind(c.hr.holder, no, a, time.Now())
			all := selected(t, c.hr)
			all.KBJWT = kbText[strings.LastIndex(kbText, "~")+1:]
			return all.String()
		}, false},
		{"KB-JWT from the future", credential.CodeClockSkew, func(t *testing.T, r *Request) string {
			no, a := nonceOf(r)
			s, _ := selected(t, c.hr).Bind(c.hr.holder, no, a, time.Now().Add(10*time.Minute))
			return s
		}, false},
		{"missing credential", credential.CodeMissingCredential, func(t *testing.T, r *Request) string {
			no, a := nonceOf(r)
			return c.hr.present(t, no, a)
		}, true},
	}
	for _, k := range cases {
		t.Run(k.name, func(t *testing.T) {
			v := n.newVerifier(t, c.trust, nil, nil)
			r, err := v.NewRequest(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			texts := []string{k.build(t, r)}
			if !k.only {
				no, a := nonceOf(r)
				texts = append(texts, c.mc.present(t, no, a))
			}
			vd := v.Verify(ctx, answer(t, v, r, texts...))
			if k.want == "" {
				if !vd.OK {
					t.Fatalf("rejected: %s %s", vd.Code, vd.Detail)
				}
				return
			}
			if vd.OK || vd.Code != k.want {
				t.Fatalf("code %q (%s), want %q", vd.Code, vd.Detail, k.want)
			}
			if vd.Message.Zh == "" || vd.Message.En == "" {
				t.Fatalf("verdict lacks a message: %+v", vd)
			}
			if (vd.Receipt != "") != seenData(vd) {
				t.Fatalf("receipt %q for a verdict that saw data %v: a receipt is made exactly when a credential verified", vd.Receipt, seenData(vd))
			}
			for _, cv := range vd.Credentials {
				if !cv.OK && len(cv.Fields) > 0 {
					t.Fatal("a rejected credential shows fields")
				}
			}
		})
	}
}

// Replay within and after expiry; an answer to an expired request; an answer to a request
// never issued here; a request asking beyond the registration.
func TestReplayAndExpiry(t *testing.T) {
	c := getCorpus(t)
	ctx := context.Background()
	now := time.Now()
	clock := func() time.Time { return now }
	v := c.n.newVerifier(t, c.trust, clock, nil)
	r, _ := v.NewRequest(ctx, "")
	no, a := r.Request.NonceString(), r.Request.Audience()
	text := answer(t, v, r, c.hr.present(t, no, a), c.mc.present(t, no, a))
	if vd := v.Verify(ctx, text); !vd.OK {
		t.Fatalf("%s %s", vd.Code, vd.Detail)
	}
	if vd := v.Verify(ctx, text); vd.Code != credential.CodeReplayed {
		t.Fatalf("replay within expiry: %s", vd.Code)
	}
	// Another presentation for the answered request (same nonce).
	text2 := answer(t, v, r, c.hr.present(t, no, a), c.mc.present(t, no, a))
	if vd := v.Verify(ctx, text2); vd.Code != credential.CodeReplayed {
		t.Fatalf("second answer to one request: %s %s", vd.Code, vd.Detail)
	}
	// After expiry.
	r2, _ := v.NewRequest(ctx, "")
	no2 := r2.Request.NonceString()
	late := answer(t, v, r2, c.hr.present(t, no2, a), c.mc.present(t, no2, a))
	now = now.Add(10 * time.Minute)
	if vd := v.Verify(ctx, text); vd.Code != credential.CodeReplayed {
		t.Fatalf("replay after expiry: %s", vd.Code)
	}
	if vd := v.Verify(ctx, late); vd.Code != credential.CodeRequestExpired {
		t.Fatalf("answer to expired request: %s %s", vd.Code, vd.Detail)
	}
	// No request of this window.
	fresh := c.n.newVerifier(t, c.trust, nil, nil)
	if vd := fresh.Verify(ctx, text); vd.Code != credential.CodeNoRequest {
		t.Fatalf("no request: %s", vd.Code)
	}
	// A request beyond the registration (e.g. made by tampered software) is refused.
	k := c.n.keys["realestate-window-01"]
	over, _ := wire.New(window, k.KeyID, "property-transfer", []wire.FieldRequest{
		{Type: "household-register", Fields: []string{"name", "birth_date"}}}, time.Now(), time.Minute)
	body, _ := over.Sign(k.PrivateKey())
	sr := &storedRequest{Nonce: over.NonceString(), Text: qr.Encode("LZ1Q", body), Item: "property-transfer", Expires: over.Expires}
	fresh.store.st.Requests = append(fresh.store.st.Requests, sr)
	fresh.store.st.byNonce[sr.Nonce] = sr
	hr := c.hr.present(t, over.NonceString(), a, "name", "birth_date")
	if vd := fresh.Verify(ctx, answer(t, fresh, &Request{Request: over}, hr)); vd.Code != credential.CodeOverRequest {
		t.Fatalf("over-request: %s %s", vd.Code, vd.Detail)
	}
}

func TestOneWay(t *testing.T) {
	c := getCorpus(t)
	ctx := context.Background()
	v := c.n.newVerifier(t, c.trust, nil, nil)
	nb := make([]byte, 16)
	rand.Read(nb)
	nonce := base64.RawURLEncoding.EncodeToString(nb)
	known, _ := KnownStrings(ctx, c.trust)
	body, err := sdjwtcbor.Encode([]string{c.hr.present(t, nonce, wire.OneWayAudience, "name", "address")}, &sdjwtcbor.Context{Nonce: nonce, Audience: wire.OneWayAudience, Known: known})
	if err != nil {
		t.Fatal(err)
	}
	text, _ := wire.EncodeOneWay(nb, time.Now(), body)
	vd := v.Verify(ctx, text)
	if !vd.OK || vd.Mode != "one-way" || len(vd.Credentials[0].Fields) != 2 {
		t.Fatalf("%+v", vd)
	}
	if vd := v.Verify(ctx, text); vd.Code != credential.CodeReplayed {
		t.Fatalf("one-way replay: %s", vd.Code)
	}
	rand.Read(nb)
	text, _ = wire.EncodeOneWay(nb, time.Now().Add(-5*time.Minute), body)
	if vd := v.Verify(ctx, text); vd.Code != credential.CodePresentationExpired {
		t.Fatalf("old one-way: %s", vd.Code)
	}
}

func TestMalformedInput(t *testing.T) {
	c := getCorpus(t)
	ctx := context.Background()
	v := c.n.newVerifier(t, c.trust, nil, nil)
	v.NewRequest(ctx, "")
	deep := []byte{}
	for i := 0; i < 2000; i++ {
		deep = append(deep, 0x81)
	}
	deep = append(deep, 0x00)
	cases := map[string]struct {
		in   string
		want []credential.Code
	}{
		"garbage":      {"hello world", []credential.Code{credential.CodeMalformed}},
		"bad base45":   {"LZ1R:***", []credential.Code{credential.CodeMalformed}},
		"not zlib":     {"LZ1R:" + qr.Base45Encode([]byte("plain bytes")), []credential.Code{credential.CodeMalformed}},
		"oversized":    {"LZ1R:" + strings.Repeat("0", 9000), []credential.Code{credential.CodeOversized}},
		"zlib bomb":    {qr.Encode("LZ1R", make([]byte, 4<<20)), []credential.Code{credential.CodeOversized}},
		"cbor depth":   {qr.Encode("LZ1R", deep), []credential.Code{credential.CodeMalformed, credential.CodeOversized}},
		"wrong prefix": {qr.Encode("LZ1Q", []byte{0x80}), []credential.Code{credential.CodeMalformed}},
		"one-way junk": {qr.Encode("LZ1W", []byte{0x83, 0x41, 0x00, 0x00, 0x40}), []credential.Code{credential.CodeMalformed}},
		"empty":        {"", []credential.Code{credential.CodeMalformed}},
		"compact junk": {qr.Encode("LZ1R", []byte{0x82, 0x01, 0x81, 0x85, 0x40, 0x40, 0x40, 0x80, 0xf6}), []credential.Code{credential.CodeMalformed, credential.CodeUnsigned, credential.CodeBadSignature}},
	}
	before := v.Pending()
	refused := 0
	for name, k := range cases {
		vd := v.Verify(ctx, k.in)
		ok := false
		for _, w := range k.want {
			ok = ok || vd.Code == w
		}
		if vd.OK || !ok || vd.Receipt != "" || vd.ReceiptID != "" {
			t.Errorf("%s: code %q (%s), receipt %q; want one of %v and no receipt", name, vd.Code, vd.Detail, vd.ReceiptID, k.want)
		}
		refused++
	}
	// unreadable input saw no one's data: no receipt to anchor, only a count by reason
	if v.Pending() != before {
		t.Errorf("%d receipts made for unreadable input", v.Pending()-before)
	}
	n := 0
	for _, c := range v.Refusals() {
		n += c
	}
	if n < refused {
		t.Errorf("refusals counted %d, want at least %d", n, refused)
	}
}

// Stale and forged trust snapshots fail closed with their own codes.
func TestSnapshotPolicy(t *testing.T) {
	c := getCorpus(t)
	ctx := context.Background()
	later := func() time.Time { return time.Now().Add(25 * time.Hour) }
	v := c.n.newVerifier(t, c.trust, later, nil)
	if vd := v.Verify(ctx, "LZ1R:00"); vd.Code != credential.CodeStaleSnapshot || vd.Trust.Age < 24*time.Hour {
		t.Fatalf("stale: %+v", vd)
	}
	if _, err := v.NewRequest(ctx, ""); credential.CodeOf(err) != credential.CodeStaleSnapshot {
		t.Fatalf("request on stale trust: %v", err)
	}
	if _, err := LoadSnapshot(c.snapPath, c.n.root, time.Now().Add(2*time.Hour), time.Hour); credential.CodeOf(err) != credential.CodeStaleSnapshot {
		t.Fatalf("stale at load: %v", err)
	}
	raw, _ := os.ReadFile(c.snapPath)
	forged := append([]byte(nil), raw...)
	forged[len(forged)/2] ^= 0x01
	p := t.TempDir() + "/forged.snap"
	os.WriteFile(p, forged, 0o600)
	if _, err := LoadSnapshot(p, c.n.root, time.Now(), 0); credential.CodeOf(err) != credential.CodeForgedSnapshot {
		t.Fatalf("forged: %v", err)
	}
}

// The window's records on disk (requests, replay hashes, receipts) hold no personal value,
// and survive a restart (a replay is still recognised by a new process).
func TestStateOnDiskHasNoPersonalData(t *testing.T) {
	c := getCorpus(t)
	ctx := context.Background()
	dir := t.TempDir()
	k := c.n.keys["realestate-window-01"]
	mk := func() *Verifier {
		v, err := New(Config{Trust: c.trust, Window: window, KeyID: k.KeyID, Key: k.PrivateKey(), Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v := mk()
	r, _ := v.NewRequest(ctx, "")
	no, a := r.Request.NonceString(), r.Request.Audience()
	text := answer(t, v, r, c.hr.present(t, no, a), c.mc.present(t, no, a))
	if vd := v.Verify(ctx, text); !vd.OK {
		t.Fatalf("%s %s", vd.Code, vd.Detail)
	}
	files, _ := os.ReadDir(dir)
	for _, f := range files {
		b, _ := os.ReadFile(dir + "/" + f.Name())
		for _, cl := range demoClaims {
			for _, val := range cl {
				if strings.Contains(string(b), val.(string)) {
					t.Fatalf("%s holds the personal value %q", f.Name(), val)
				}
			}
		}
	}
	if vd := mk().Verify(ctx, text); vd.Code != credential.CodeReplayed {
		t.Fatalf("replay after restart: %s", vd.Code)
	}
}
