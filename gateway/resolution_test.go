package gateway

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// TestResolutionBinding: the DID Resolution 1.0 HTTP(S) GET binding as a client that follows
// it sends requests — the DID percent-encoded when options follow, Accept
// application/did-resolution or application/did — and the error objects it must get back
// (type https://www.w3.org/ns/did#…, at the status the binding gives that type).
func TestResolutionBinding(t *testing.T) {
	h := fuzzServer(t).Handler()
	const doc, result = TypeDIDDocument, TypeResolutionResult
	for _, c := range []struct {
		target, accept string
		status         int
		ctype          string
		errType        string // "" for success
	}{
		{"/1.0/identifiers/did:lz:m", "", 200, result, ""},
		{"/1.0/identifiers/did:lz:m", "application/did-resolution", 200, result, ""},
		{"/1.0/identifiers/did%3Alz%3Am", "application/did-resolution", 200, result, ""},
		{"/1.0/identifiers/did%3Alz%3Am?versionTime=2026-06-01T00%3A00%3A00Z", "application/did-resolution", 200, result, ""},
		{"/lz/1.0/identifiers/did%3alz%3am?versionTime=2026-06-01T00:00:00Z", "", 200, result, ""},
		{"/1.0/identifiers/did:lz:m", "application/did", 200, doc, ""},
		{"/1.0/identifiers/did%3Alz%3Am", "application/did+ld+json;q=0.9, */*;q=0.1", 200, doc, ""},
		{"/1.0/identifiers/did:lz:m", "application/did-resolution, application/did;q=0.5", 200, result, ""},
		{"/1.0/identifiers/did:lz:m", `application/ld+json;profile="https://w3id.org/did-resolution"`, 200, result, ""},
		{"/1.0/identifiers/did%3Alz%3Am?versionTime=2001-01-01T00:00:00Z", "application/did-resolution", 404, result, "NOT_FOUND"},
		{"/1.0/identifiers/did%3Alz%3Anobody", "", 404, result, "NOT_FOUND"},
		{"/1.0/identifiers/did%3Alz%3Am?versionTime=yesterday", "", 400, result, "INVALID_OPTIONS"},
		{"/1.0/identifiers/did:lz:m?versionTime=2026-06-01T00:00:00Z&versionTime=2026-06-02T00:00:00Z", "", 400, result, "INVALID_OPTIONS"},
		{"/1.0/identifiers/did:lz:m?versionId=1", "", 501, result, "FEATURE_NOT_SUPPORTED"},
		{"/1.0/identifiers/did%3Alz%3AM", "", 400, result, "INVALID_DID"},
		{"/1.0/identifiers/did%3Aweb%3Aexample.org", "", 501, result, "METHOD_NOT_SUPPORTED"},
	} {
		u, err := url.ParseRequestURI(c.target)
		if err != nil {
			t.Fatal(err)
		}
		r := &http.Request{Method: "GET", URL: u, RequestURI: c.target, Header: http.Header{"Accept": {c.accept}}, RemoteAddr: "192.0.2.1:1"}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.status || w.Header().Get("Content-Type") != c.ctype {
			t.Errorf("%s (Accept %q): %d %s, want %d %s: %s", c.target, c.accept, w.Code, w.Header().Get("Content-Type"), c.status, c.ctype, w.Body)
			continue
		}
		if c.ctype == doc {
			var d struct{ ID string }
			if json.Unmarshal(w.Body.Bytes(), &d) != nil || d.ID != "did:lz:m" {
				t.Errorf("%s: not the bare document: %s", c.target, w.Body)
			}
			continue
		}
		var rr ResolutionResult
		if err := json.Unmarshal(w.Body.Bytes(), &rr); err != nil {
			t.Fatalf("%s: %v", c.target, err)
		}
		switch {
		case c.errType == "" && (rr.DIDDocument == nil || rr.DIDDocument.ID != "did:lz:m" || rr.DIDResolutionMetadata.Error != nil):
			t.Errorf("%s: not a successful result: %s", c.target, w.Body)
		case c.errType != "" && (rr.DIDDocument != nil || rr.DIDResolutionMetadata.Error == nil ||
			rr.DIDResolutionMetadata.Error.Type != ErrorType+c.errType || rr.DIDResolutionMetadata.Error.Title == ""):
			t.Errorf("%s: want error object of type %s: %s", c.target, ErrorType+c.errType, w.Body)
		}
	}
}
