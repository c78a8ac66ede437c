package issuer

import (
	"crypto/ed25519"
	"crypto/rand"
	"reflect"
	"testing"
	"time"

	"lianzheng/credential/dataintegrity"
	"lianzheng/credential/statuslist"
	"lianzheng/did"
)

// newW3C must build exactly what dataintegrity.NewCredential builds, and fail where it fails.
func TestNewW3CMatchesDataIntegrity(t *testing.T) {
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Now().Truncate(time.Second)
	base := dataintegrity.CredentialConfig{
		ID: "urn:uuid:1", Types: []string{"MarriageCertificateCredential"}, Issuer: "did:lz:civil-affairs",
		Holder: did.KeyFromEd25519(k.Public().(ed25519.PublicKey)), ValidFrom: now, ValidUntil: now.AddDate(1, 0, 0),
		Claims: map[string]any{"holder_name": "甲", "n": int64(3), "b": true, "d": "2018-05-20"},
		Status: []dataintegrity.StatusEntry{{ListCredential: "urn:lz:status:civil-affairs:0", Index: 7, Purpose: statuslist.PurposeRevocation},
			{ListCredential: "urn:lz:status:civil-affairs:0", Index: 7, Purpose: statuslist.PurposeSuspension}},
	}
	variants := []func(*dataintegrity.CredentialConfig){
		func(c *dataintegrity.CredentialConfig) {},
		func(c *dataintegrity.CredentialConfig) { c.Status = c.Status[:1]; c.ID = "" },
		func(c *dataintegrity.CredentialConfig) { c.Status = nil; c.ValidUntil = time.Time{} },
		func(c *dataintegrity.CredentialConfig) { c.Issuer = "did:key:x" },
		func(c *dataintegrity.CredentialConfig) { c.Claims = map[string]any{"id": "x"} },
		func(c *dataintegrity.CredentialConfig) { c.Types = []string{"a b"} },
		func(c *dataintegrity.CredentialConfig) { c.ValidUntil = c.ValidFrom },
		func(c *dataintegrity.CredentialConfig) { c.Status[0].Purpose = "x" },
	}
	for i, v := range variants {
		c := base
		c.Status = append([]dataintegrity.StatusEntry(nil), base.Status...)
		v(&c)
		want, werr := dataintegrity.NewCredential(c)
		got, gerr := newW3C(c)
		if (werr != nil) != (gerr != nil) || !reflect.DeepEqual(want, got) {
			t.Fatalf("variant %d: %v / %v\n%v\n%v", i, werr, gerr, want, got)
		}
	}
}
