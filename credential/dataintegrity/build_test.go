package dataintegrity

import (
	"crypto/ed25519"
	"crypto/rand"
	"reflect"
	"testing"
	"time"

	"lianzheng/credential/statuslist"
	"lianzheng/did"
)

// BuildCredential builds exactly what NewCredential builds, and fails where it fails (the
// configurations here are all canonicalisable; NewCredential only adds that check).
func TestBuildCredentialMatchesNewCredential(t *testing.T) {
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Now().Truncate(time.Second)
	base := CredentialConfig{
		ID: "urn:uuid:1", Types: []string{"MarriageCertificateCredential"}, Issuer: "did:lz:civil-affairs",
		Holder: did.KeyFromEd25519(k.Public().(ed25519.PublicKey)), ValidFrom: now, ValidUntil: now.AddDate(1, 0, 0),
		Claims: map[string]any{"holder_name": "甲", "n": int64(3), "b": true, "d": "2018-05-20"},
		Status: []StatusEntry{{ListCredential: "urn:lz:status:civil-affairs:0", Index: 7, Purpose: statuslist.PurposeRevocation},
			{ListCredential: "urn:lz:status:civil-affairs:0", Index: 7, Purpose: statuslist.PurposeSuspension}},
	}
	variants := []func(*CredentialConfig){
		func(c *CredentialConfig) {},
		func(c *CredentialConfig) { c.Status = c.Status[:1]; c.ID = "" },
		func(c *CredentialConfig) { c.Status = nil; c.ValidUntil = time.Time{} },
		func(c *CredentialConfig) { c.Issuer = "did:key:x" },
		func(c *CredentialConfig) { c.Claims = map[string]any{"id": "x"} },
		func(c *CredentialConfig) { c.Types = []string{"a b"} },
		func(c *CredentialConfig) { c.ValidUntil = c.ValidFrom },
		func(c *CredentialConfig) { c.Status[0].Purpose = "x" },
	}
	for i, v := range variants {
		c := base
		c.Status = append([]StatusEntry(nil), base.Status...)
		v(&c)
		want, werr := NewCredential(c)
		got, gerr := BuildCredential(c)
		if (werr != nil) != (gerr != nil) || !reflect.DeepEqual(want, got) {
			t.Fatalf("variant %d: %v / %v\n%v\n%v", i, werr, gerr, want, got)
		}
	}
}
