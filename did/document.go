package did

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"lianzheng/internal/strictjson"
)

// JSON-LD contexts and the verification method type of every document this package builds.
const (
	ContextDIDv1      = "https://www.w3.org/ns/did/v1"
	ContextMultikeyV1 = "https://w3id.org/security/multikey/v1"
	TypeMultikey      = "Multikey"
)

// Verification relationships (the purposes of a KeyRecord).
const (
	PurposeAuthentication       = "authentication"
	PurposeAssertion            = "assertionMethod"
	PurposeCapabilityInvocation = "capabilityInvocation"
	PurposeCapabilityDelegation = "capabilityDelegation"
)

// Limits for ParseDocument.
const (
	MaxDocumentSize = 64 << 10
	maxJSONDepth    = 8
)

// Document is a DID document in the JSON-LD form used by LianZheng: @context DID v1 +
// Multikey v1, Multikey verification methods, and the verification relationships listing
// method ids (always absolute DID URLs). Its JSON encoding (encoding/json, struct field order)
// is deterministic; empty lists are omitted.
type Document struct {
	Context              []string             `json:"@context"`
	ID                   string               `json:"id"`
	Controller           string               `json:"controller,omitempty"`
	VerificationMethod   []VerificationMethod `json:"verificationMethod,omitempty"`
	Authentication       []string             `json:"authentication,omitempty"`
	AssertionMethod      []string             `json:"assertionMethod,omitempty"`
	CapabilityInvocation []string             `json:"capabilityInvocation,omitempty"`
	CapabilityDelegation []string             `json:"capabilityDelegation,omitempty"`
}

// VerificationMethod is a Multikey verification method.
type VerificationMethod struct {
	ID                 string `json:"id"`
	Type               string `json:"type"`
	Controller         string `json:"controller"`
	PublicKeyMultibase string `json:"publicKeyMultibase"`
}

// PublicKey decodes the method's key.
func (vm VerificationMethod) PublicKey() (PublicKey, error) {
	return DecodeMultikey(vm.PublicKeyMultibase)
}

func newDocument(id, controller string) *Document {
	return &Document{Context: []string{ContextDIDv1, ContextMultikeyV1}, ID: id, Controller: controller}
}

// relationship returns the list for a purpose, or nil for an unknown purpose.
func (d *Document) relationship(purpose string) *[]string {
	switch purpose {
	case PurposeAuthentication:
		return &d.Authentication
	case PurposeAssertion:
		return &d.AssertionMethod
	case PurposeCapabilityInvocation:
		return &d.CapabilityInvocation
	case PurposeCapabilityDelegation:
		return &d.CapabilityDelegation
	}
	return nil
}

var purposes = []string{PurposeAuthentication, PurposeAssertion, PurposeCapabilityInvocation, PurposeCapabilityDelegation}

// Validate checks the document's structure: the exact contexts, a valid DID as id and
// controllers, unique Multikey methods with valid keys whose ids are "<id>#<fragment>", and
// relationships that reference methods of this document without repetition. A did:key
// document must hold exactly its own key, with the multibase value as fragment.
func (d *Document) Validate() error {
	if d == nil {
		return fmt.Errorf("%w: nil document", ErrInvalidDID)
	}
	if !slices.Equal(d.Context, []string{ContextDIDv1, ContextMultikeyV1}) {
		return fmt.Errorf("%w: document @context must be [%q, %q]", ErrInvalidDID, ContextDIDv1, ContextMultikeyV1)
	}
	method, err := ParseDID(d.ID)
	if err != nil {
		return fmt.Errorf("document id: %w", err)
	}
	if d.Controller != "" {
		if _, err := ParseDID(d.Controller); err != nil {
			return fmt.Errorf("document controller: %w", err)
		}
	}
	ids := make(map[string]bool, len(d.VerificationMethod))
	for _, vm := range d.VerificationMethod {
		frag, ok := strings.CutPrefix(vm.ID, d.ID+"#")
		if !ok || !ValidFragment(frag) {
			return fmt.Errorf("%w: verification method id %s is not %s#<fragment>", ErrInvalidDID, q(vm.ID), d.ID)
		}
		if ids[vm.ID] {
			return fmt.Errorf("%w: duplicate verification method %s", ErrInvalidDID, q(vm.ID))
		}
		ids[vm.ID] = true
		if vm.Type != TypeMultikey {
			return fmt.Errorf("%w: verification method %s has type %s, want %s", ErrInvalidDID, q(vm.ID), q(vm.Type), TypeMultikey)
		}
		if _, err := ParseDID(vm.Controller); err != nil {
			return fmt.Errorf("verification method %s controller: %w", q(vm.ID), err)
		}
		if _, err := vm.PublicKey(); err != nil {
			return fmt.Errorf("verification method %s: %w", q(vm.ID), err)
		}
		if method == MethodKey {
			mb := strings.TrimPrefix(d.ID, keyPrefix)
			if len(d.VerificationMethod) != 1 || frag != mb || vm.PublicKeyMultibase != mb {
				return fmt.Errorf("%w: did:key document must hold exactly its own key", ErrInvalidDID)
			}
		}
	}
	for _, p := range purposes {
		seen := map[string]bool{}
		for _, ref := range *d.relationship(p) {
			if !ids[ref] {
				return fmt.Errorf("%w: %s references unknown verification method %s", ErrInvalidDID, p, q(ref))
			}
			if seen[ref] {
				return fmt.Errorf("%w: %s lists %s twice", ErrInvalidDID, p, q(ref))
			}
			seen[ref] = true
		}
	}
	return nil
}

// normaliseRef turns a fragment ("key-1", "#key-1") or an absolute DID URL into an absolute id.
func (d *Document) normaliseRef(ref string) string {
	if strings.HasPrefix(ref, "did:") {
		return ref
	}
	return d.ID + "#" + strings.TrimPrefix(ref, "#")
}

// Method returns the verification method with the given id (absolute DID URL, "#fragment"
// or "fragment"), or ErrNotFound.
func (d *Document) Method(ref string) (VerificationMethod, error) {
	id := d.normaliseRef(ref)
	for _, vm := range d.VerificationMethod {
		if vm.ID == id {
			return vm, nil
		}
	}
	return VerificationMethod{}, fmt.Errorf("%w: verification method %s in %s", ErrNotFound, q(ref), d.ID)
}

// KeyFor returns the key of the verification method ref if the document lists it under the
// verification relationship purpose (e.g. PurposeAssertion); ErrNotFound if there is no
// such method, ErrKeyNotValid if it is not authorised for the purpose.
func (d *Document) KeyFor(ref, purpose string) (PublicKey, error) {
	vm, err := d.Method(ref)
	if err != nil {
		return PublicKey{}, err
	}
	rel := d.relationship(purpose)
	if rel == nil || !slices.Contains(*rel, vm.ID) {
		return PublicKey{}, fmt.Errorf("%w: %s is not listed under %s", ErrKeyNotValid, vm.ID, q(purpose))
	}
	return vm.PublicKey()
}

// ParseDocument decodes and validates a DID document in JSON. It is strict: only the members
// of Document and VerificationMethod, spelled exactly, each at most once, as the types this
// package emits (relationships as arrays of id strings, a single controller string, no empty
// arrays, no nulls); anything else is ErrInvalidDID. Re-encoding an accepted document with
// json.Marshal gives the same JSON value.
func ParseDocument(data []byte) (*Document, error) {
	if len(data) > MaxDocumentSize {
		return nil, fmt.Errorf("%w: document larger than %d bytes", ErrInvalidDID, MaxDocumentSize)
	}
	if err := checkJSON(data); err != nil {
		return nil, fmt.Errorf("%w: document: %v", ErrInvalidDID, err)
	}
	var d Document
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("%w: document: %v", ErrInvalidDID, err)
	}
	// encoding/json matches member names case-insensitively, ignores unknown members and
	// accepts null for anything: compare the generic JSON value with the re-encoding.
	canon, err := json.Marshal(&d)
	if err != nil {
		return nil, fmt.Errorf("%w: document: %v", ErrInvalidDID, err)
	}
	var in, out any
	if json.Unmarshal(data, &in) != nil || json.Unmarshal(canon, &out) != nil || !reflect.DeepEqual(in, out) {
		return nil, fmt.Errorf("%w: document has unknown, misspelt, null or empty members", ErrInvalidDID)
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return &d, nil
}

// checkJSON rejects duplicate object members, invalid UTF-8, nesting deeper than
// maxJSONDepth and trailing data: encoding/json silently keeps the last of duplicate
// members, a classic source of parser disagreement.
func checkJSON(data []byte) error { return strictjson.Check(data, maxJSONDepth) }
