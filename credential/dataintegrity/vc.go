package dataintegrity

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"time"

	"lianzheng/credential/ldcontext"
	"lianzheng/credential/statuslist"
)

// StatusEntry points a credential at its entry in a W3C Bitstring Status List.
type StatusEntry struct {
	// ListCredential is the URL of the BitstringStatusListCredential.
	ListCredential string
	// Index is the credential's entry in that list (drawn by statuslist.Allocator).
	Index int
	// Purpose is statuslist.PurposeRevocation or statuslist.PurposeSuspension.
	Purpose string
}

// CredentialConfig describes a W3C VC 2.0 credential issued by a LianZheng department.
type CredentialConfig struct {
	// ID is optional (e.g. urn:uuid:...).
	ID string
	// Types follow "VerifiableCredential", e.g. "HouseholdRegisterCredential".
	Types []string
	// Issuer is the department's DID (did:lz:...).
	Issuer string
	// Holder is the holder's DID (did:key:..., a fresh key per credential): credentialSubject.id.
	Holder string
	// ValidFrom is required; ValidUntil is optional.
	ValidFrom, ValidUntil time.Time
	// Claims are the credentialSubject's claims. Their names are kept by the LianZheng
	// context's @vocab; "id", "type" and names starting with "@" are reserved.
	Claims map[string]any
	// Status entries (revocation, suspension), optional.
	Status []StatusEntry
	// Vocab, if set, is the @vocab IRI that names the claims and the credential type: a
	// consortium context URL followed by "#" (ledger.VocabularyIRI,
	// ldcontext.ConsortiumContextURL), whose context document — published by the
	// consortium's gateway, built from the URL by ldcontext's loader — sets exactly that
	// @vocab. The credential's @context is then [VC 2.0, that URL]. Empty: the LianZheng
	// context ldcontext.LianZhengV1, as credentials issued before December 2026 were (its URL
	// never resolved outside our embedded loader, which keeps it so that they still verify).
	Vocab string
}

// NewCredential is BuildCredential followed by an RDF canonicalisation that fails now, not
// at signing, if JSON-LD would drop anything.
func NewCredential(c CredentialConfig) (map[string]any, error) {
	cred, err := BuildCredential(c)
	if err != nil {
		return nil, err
	}
	if _, err := CanonicalizeRDFC(cred); err != nil {
		return nil, err
	}
	return cred, nil
}

// BuildCredential returns the unsigned credential as a JSON object:
// @context [credentials/v2, LianZheng v1], type, issuer, validFrom, validUntil,
// credentialSubject {id: holder, claims...} and credentialStatus entries.
// It validates the configuration but does not canonicalise: signing (Sign) canonicalises
// anyway and fails on anything JSON-LD would drop, so issuers that sign at once skip
// NewCredential's early check, which is most of an issuance's CPU time.
func BuildCredential(c CredentialConfig) (map[string]any, error) {
	if !strings.HasPrefix(c.Issuer, "did:lz:") || len(c.Issuer) == len("did:lz:") {
		return nil, fmt.Errorf("dataintegrity: issuer %q is not a did:lz DID", c.Issuer)
	}
	if !strings.HasPrefix(c.Holder, "did:key:") || len(c.Holder) == len("did:key:") {
		return nil, fmt.Errorf("dataintegrity: holder %q is not a did:key DID", c.Holder)
	}
	if _, ok := ldcontext.ConsortiumContext(strings.TrimSuffix(c.Vocab, "#")); c.Vocab != "" && (!ok || !strings.HasSuffix(c.Vocab, "#")) {
		return nil, fmt.Errorf("dataintegrity: vocabulary %q is not a consortium context URL followed by #", c.Vocab)
	}
	if c.ValidFrom.IsZero() {
		return nil, errors.New("dataintegrity: validFrom is required")
	}
	if !c.ValidUntil.IsZero() && !c.ValidUntil.After(c.ValidFrom) {
		return nil, errors.New("dataintegrity: validUntil must be after validFrom")
	}
	types := []any{"VerifiableCredential"}
	for _, t := range c.Types {
		if t == "" || t == "VerifiableCredential" || strings.ContainsAny(t, ":/#@ ") {
			return nil, fmt.Errorf("dataintegrity: credential type %q", t)
		}
		types = append(types, t)
	}
	subject := map[string]any{"id": c.Holder}
	for k, v := range c.Claims {
		if k == "" || k == "id" || k == "type" || strings.HasPrefix(k, "@") || strings.ContainsAny(k, ":/#") {
			return nil, fmt.Errorf("dataintegrity: claim name %q is reserved or not a plain term", k)
		}
		subject[k] = v
	}
	cred := map[string]any{
		"@context":          Context(c.Vocab),
		"type":              types,
		"issuer":            c.Issuer,
		"validFrom":         c.ValidFrom.UTC().Format(time.RFC3339),
		"credentialSubject": subject,
	}
	if c.ID != "" {
		cred["id"] = c.ID
	}
	if !c.ValidUntil.IsZero() {
		cred["validUntil"] = c.ValidUntil.UTC().Format(time.RFC3339)
	}
	if len(c.Status) > 0 {
		var entries []any
		for _, s := range c.Status {
			if s.Purpose != statuslist.PurposeRevocation && s.Purpose != statuslist.PurposeSuspension {
				return nil, fmt.Errorf("dataintegrity: status purpose %q", s.Purpose)
			}
			if s.ListCredential == "" || s.Index < 0 {
				return nil, errors.New("dataintegrity: status entry needs a list URL and a non-negative index")
			}
			entries = append(entries, statuslist.W3CEntry(s.ListCredential, s.Index, s.Purpose))
		}
		if len(entries) == 1 {
			cred["credentialStatus"] = entries[0]
		} else {
			cred["credentialStatus"] = entries
		}
	}
	return cred, nil
}

// Context is the @context of a credential BuildCredential makes with vocabulary vocab: VC 2.0,
// then the claims' context (the consortium context whose @vocab is vocab, or the old
// LianZheng context when vocab is empty).
func Context(vocab string) []any {
	if vocab == "" {
		return []any{ldcontext.CredentialsV2, ldcontext.LianZhengV1}
	}
	return []any{ldcontext.CredentialsV2, strings.TrimSuffix(vocab, "#")}
}

// SignCredential signs a credential with eddsa-rdfc-2022 and proof purpose assertionMethod.
// verificationMethod is the issuer key's DID URL (did:lz:...#key-n).
func SignCredential(cred map[string]any, verificationMethod string, key ed25519.PrivateKey, created time.Time) (map[string]any, error) {
	return Sign(cred, ProofConfig{
		Cryptosuite:        CryptosuiteRDFC,
		VerificationMethod: verificationMethod,
		ProofPurpose:       PurposeAssertion,
		Created:            created,
	}, key)
}
