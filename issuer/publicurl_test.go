package issuer_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"testing"

	"lianzheng/credential/dataintegrity"
	"lianzheng/credential/ldcontext"
	"lianzheng/credential/sdjwtvc"
	"lianzheng/did"
	"lianzheng/issuer"
	"lianzheng/ledger"
)

// TestPublicBaseURL: once the consortium has a public base URL, a credential names URLs an
// outside verifier can fetch — the SD-JWT VC the Token Status List, the W3C form one 1-bit
// list credential per purpose with distinct entry ids, and an inline @vocab under the base
// — and both forms still verify. Before a base is set, the URN form (TestIssueBothForms).
func TestPublicBaseURL(t *testing.T) {
	ctx := context.Background()
	d, l, clk, _ := setup(t, "civil-affairs")
	const base = "https://gateway.example.gov.cn/lz"
	l.PublicBaseURL = base
	is, err := d.Issue(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriage(), Holder: holderKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	v, err := sdjwtvc.Verify(is.SDJWT, sdjwtvc.VerifyOptions{IssuerKeyAt: keyAt(l), AllowNoKB: true, Now: clk.now()})
	if err != nil {
		t.Fatal(err)
	}
	if v.Status == nil || v.Status.URI != base+"/status/civil-affairs/0/token" {
		t.Fatalf("status %+v", v.Status)
	}
	if m, n, ok := ledger.ParseStatusListURI(v.Status.URI); !ok || m != "civil-affairs" || n != 0 {
		t.Fatalf("status URL read as %q %d %v", m, n, ok)
	}
	entries, _ := is.W3C["credentialStatus"].([]any)
	if len(entries) != 2 {
		t.Fatalf("credentialStatus %v", is.W3C["credentialStatus"])
	}
	ids := map[string]bool{}
	for i, purpose := range []string{"revocation", "suspension"} {
		e := entries[i].(map[string]any)
		list := base + "/status/civil-affairs/0/" + purpose
		want := map[string]any{"id": fmt.Sprintf("%s#%d", list, is.Record.StatusIndex), "type": "BitstringStatusListEntry",
			"statusPurpose": purpose, "statusListIndex": fmt.Sprint(is.Record.StatusIndex), "statusListCredential": list}
		for k, w := range want {
			if e[k] != w {
				t.Errorf("entry %d %s = %v, want %v", i, k, e[k], w)
			}
		}
		if _, has := e["statusSize"]; has {
			t.Errorf("entry %d has statusSize: its list is 1 bit", i)
		}
		ids[e["id"].(string)] = true
	}
	if len(ids) != 2 {
		t.Fatal("the two status entries share an id")
	}
	ctxs := is.W3C["@context"].([]any)
	if len(ctxs) != 2 || ctxs[0] != "https://www.w3.org/ns/credentials/v2" || ctxs[1] != base+"/ns/credentials/v1" ||
		ledger.VocabularyURL(base) != ldcontext.ConsortiumContextURL(base) {
		t.Fatalf("@context %v", ctxs)
	}
	if _, err := dataintegrity.Verify(is.W3C, func(vm string) (ed25519.PublicKey, error) {
		k, err := did.AssertionKeyAt(ctx, l, vm, clk.now())
		pk, _ := k.Key.(ed25519.PublicKey)
		return pk, err
	}); err != nil {
		t.Fatal(err)
	}
}
