package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"lianzheng/credential/ldcontext"
	"lianzheng/did"
	"lianzheng/ledger"
)

// Paths under the base (ledger/publicurl.go is the layout's one home).
const (
	didPrefix      = "/1.0/identifiers/"
	typePrefix     = "/vct/"
	statusPrefix   = "/status/"
	vocabularyPath = "/ns/credentials/v1"
)

func didPath(d string) string    { return didPrefix + d }
func typePath(vct string) string { return typePrefix + vct }

// basePath is the path part of a base URL ("" or "/prefix").
func basePath(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return ""
	}
	return u.Path
}

// ResolutionResult is the DID Resolution HTTP binding's answer (W3C DID Resolution 1.0 §9,
// media type application/did-resolution).
type ResolutionResult struct {
	Context               string             `json:"@context"`
	DIDDocument           *did.Document      `json:"didDocument"`
	DIDResolutionMetadata ResolutionMetadata `json:"didResolutionMetadata"`
	DIDDocumentMetadata   DocumentMetadata   `json:"didDocumentMetadata"`
}

// ResolutionMetadata: contentType on success, error on failure.
type ResolutionMetadata struct {
	ContentType string `json:"contentType,omitempty"`
	// Error is DID Resolution 1.0's error object: an RFC 9457 problem whose type is one of
	// the https://www.w3.org/ns/did# error URIs (ErrorType + NOT_FOUND, INVALID_DID, …).
	Error *Problem `json:"error,omitempty"`
}

// Problem is an RFC 9457 problem detail.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Detail string `json:"detail,omitempty"`
}

// DocumentMetadata is the DID document metadata of a did:lz DID at the time resolved.
type DocumentMetadata struct {
	Created     string `json:"created,omitempty"`
	Updated     string `json:"updated,omitempty"`
	Deactivated bool   `json:"deactivated,omitempty"`
	VersionID   string `json:"versionId,omitempty"` // number of key events up to then
}

const resolutionContext = "https://w3id.org/did-resolution/v1"

// ErrorType is the namespace of DID Resolution 1.0's error types (didResolutionMetadata
// error.type is ErrorType + one of the codes below).
const ErrorType = "https://www.w3.org/ns/did#"

// DID resolution error codes; the HTTP binding answers each with the status in the comment.
const (
	errInvalidDID     = "INVALID_DID"           // 400
	errInvalidOptions = "INVALID_OPTIONS"       // 400
	errNotFound       = "NOT_FOUND"             // 404
	errMethod         = "METHOD_NOT_SUPPORTED"  // 501
	errFeature        = "FEATURE_NOT_SUPPORTED" // 501 (a resolution option other than versionTime)
	errInternal       = "INTERNAL_ERROR"        // 500
)

var problemTitles = map[string]string{
	errInvalidDID: "Invalid DID", errInvalidOptions: "Invalid resolution options", errNotFound: "DID not found",
	errMethod: "DID method not supported", errFeature: "Resolution option not supported", errInternal: "Internal error",
}

func problem(code, detail string) ResolutionMetadata {
	return ResolutionMetadata{Error: &Problem{Type: ErrorType + code, Title: problemTitles[code], Detail: detail}}
}

// resolution renders h as it stood at at (nil: now). A DID deactivated by then answers 410
// with deactivated metadata and no document; one not yet created, 404 notFound.
func resolution(h *did.History, at *time.Time, now time.Time) (*resource, int, error) {
	t := now
	if at != nil {
		t = *at
	}
	res := ResolutionResult{Context: resolutionContext}
	status := 200
	doc, err := h.Document(t)
	switch {
	case err == nil:
		res.DIDDocument = doc
		res.DIDResolutionMetadata.ContentType = TypeDIDDocument
	case errors.Is(err, did.ErrDeactivated):
		status = 410
		res.DIDDocumentMetadata.Deactivated = true
		res.DIDResolutionMetadata.ContentType = TypeDIDDocument
	case errors.Is(err, did.ErrNotFound):
		status = 404
		res.DIDResolutionMetadata = problem(errNotFound, fmt.Sprintf("%s did not exist at %s", h.DID, t.UTC().Format(time.RFC3339)))
	default:
		return nil, 0, fmt.Errorf("gateway: DID document of %s: %w", h.DID, err)
	}
	if status != 404 {
		res.DIDDocumentMetadata.Created = h.Created.UTC().Format(time.RFC3339)
		var updated time.Time
		events := 0
		for _, k := range h.Keys {
			for _, e := range []*time.Time{&k.ValidFrom, k.ValidUntil} {
				if e != nil && !e.After(t) {
					events++
					if e.After(updated) {
						updated = *e
					}
				}
			}
		}
		if !updated.IsZero() {
			res.DIDDocumentMetadata.Updated = updated.UTC().Format(time.RFC3339)
		}
		res.DIDDocumentMetadata.VersionID = fmt.Sprint(events)
	}
	b, err := json.Marshal(res)
	if err != nil {
		return nil, 0, err
	}
	maxAge := 300
	if at != nil {
		maxAge = 3600 // a past version changes only if time moves past a key's end
	}
	return newResource(b, TypeResolutionResult, maxAge), status, nil
}

// failedResolution is a resolution result for an error.
func failedResolution(code, detail string) []byte {
	b, _ := json.Marshal(ResolutionResult{Context: resolutionContext, DIDResolutionMetadata: problem(code, detail)})
	return b
}

// TypeMetadata is SD-JWT VC type metadata (draft-ietf-oauth-sd-jwt-vc, "Type Metadata").
type TypeMetadata struct {
	VCT         string          `json:"vct"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Display     []TypeDisplay   `json:"display"`
	Claims      []ClaimMetadata `json:"claims"`
}

// TypeDisplay is the type's name and description in one locale.
type TypeDisplay struct {
	Locale      string `json:"locale"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// ClaimMetadata describes one claim.
type ClaimMetadata struct {
	Path      []string       `json:"path"`
	Display   []ClaimDisplay `json:"display"`
	SD        string         `json:"sd"`
	Mandatory bool           `json:"mandatory,omitempty"`
}

// ClaimDisplay is a claim's label in one locale.
type ClaimDisplay struct {
	Locale string `json:"locale"`
	Label  string `json:"label"`
}

func typeMetadata(t ledger.CredentialType, members []ledger.Member) ([]byte, error) {
	var zh, en []string
	for _, m := range members {
		if slices.Contains(t.Issuers, m.ID) {
			zh, en = append(zh, m.Name.Zh), append(en, m.Name.En)
		}
	}
	descZh := "由" + join(zh, "、") + "签发的" + t.Name.Zh + "（链证通联盟目录）"
	descEn := t.Name.En + " issued by " + join(en, ", ") + " (LianZheng consortium catalogue)"
	tm := TypeMetadata{VCT: t.VCT, Name: t.Name.En, Description: descEn,
		Display: []TypeDisplay{{Locale: "zh-CN", Name: t.Name.Zh, Description: descZh}, {Locale: "en", Name: t.Name.En, Description: descEn}}}
	for _, c := range t.Claims {
		sd := "allowed"
		if slices.Contains(t.Disclosable, c.Name) {
			sd = "always"
		}
		tm.Claims = append(tm.Claims, ClaimMetadata{Path: []string{c.Name}, SD: sd, Mandatory: c.Required,
			Display: []ClaimDisplay{{Locale: "zh-CN", Label: c.Label.Zh}, {Locale: "en", Label: c.Label.En}}})
	}
	return json.Marshal(tm)
}

func join(s []string, sep string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += sep
		}
		out += x
	}
	return out
}

// vocabulary is the W3C form's claims context at ledger.VocabularyURL(base): the context
// ldcontext builds for that URL (only @vocab <url>#, so every claim and type IRI dereferences
// here), plus "terms" listing each credential type and claim with its labels and value type —
// for people; JSON-LD processors read only "@context".
func vocabulary(base string, types []ledger.CredentialType) ([]byte, error) {
	u := ledger.VocabularyURL(base)
	doc, ok := ldcontext.ConsortiumContext(u)
	if !ok {
		return nil, fmt.Errorf("gateway: %s is not a consortium context URL", u)
	}
	type term struct {
		ID    string         `json:"id"`
		Label map[string]any `json:"label"`
		Type  string         `json:"valueType,omitempty"`
	}
	type credType struct {
		ID     string         `json:"id"`
		VCT    string         `json:"vct"`
		Label  map[string]any `json:"label"`
		Claims []term         `json:"claims"`
	}
	iri := ledger.VocabularyIRI(base)
	var terms []credType
	for _, t := range types {
		ct := credType{ID: iri + ledger.W3CType(t.ID), VCT: t.VCT, Label: map[string]any{"zh-CN": t.Name.Zh, "en": t.Name.En}}
		for _, c := range t.Claims {
			ct.Claims = append(ct.Claims, term{ID: iri + c.Name, Type: c.Type, Label: map[string]any{"zh-CN": c.Label.Zh, "en": c.Label.En}})
		}
		terms = append(terms, ct)
	}
	doc["terms"] = terms
	return json.Marshal(doc)
}
