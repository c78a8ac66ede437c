package gateway

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"lianzheng/did"
	"lianzheng/internal/ratelimit"
)

// Request limits: a path or query longer than these is refused before any lookup.
const (
	MaxPathBytes  = 512
	MaxQueryBytes = 128
)

// Error codes of the gateway's JSON errors (error), stable for clients; the message
// (error_description) is in the client's language (Accept-Language zh first, else English).
const (
	CodeNotFound       = "not_found"
	CodeMethod         = "method_not_allowed"
	CodeTooLong        = "request_too_long"
	CodeBadQuery       = "invalid_query"
	CodeRateLimited    = "rate_limited"
	CodeNotReady       = "not_ready"
	CodeListsElsewhere = "status_list_not_here"
)

var messages = map[string][2]string{
	CodeNotFound:       {"没有这个地址。请核对凭证中的网址。", "Nothing is published at this address; check the URL in the credential."},
	CodeMethod:         {"只接受 GET 和 HEAD 请求。", "Only GET and HEAD are accepted."},
	CodeTooLong:        {"请求的地址或参数过长。", "The request's path or query is too long."},
	CodeBadQuery:       {"查询参数无效：只接受 versionTime（RFC 3339 时间，如 2026-12-01T08:00:00Z）。", "Invalid query: only versionTime (an RFC 3339 time such as 2026-12-01T08:00:00Z) is accepted."},
	CodeRateLimited:    {"请求过于频繁，请稍后再试（见 Retry-After）。", "Too many requests; try again later (see Retry-After)."},
	CodeNotReady:       {"网关尚未读到联盟账本的数据，请稍后再试。", "The gateway has not read the consortium ledger yet; try again shortly."},
	CodeListsElsewhere: {"此网关不发布该部门的状态列表；请向联盟公开地址的该部门路径请求。", "This gateway does not publish that department's status lists; ask the consortium's public address, where the department publishes them."},
}

func writeError(w http.ResponseWriter, r *http.Request, status int, code string) {
	m := messages[code]
	msg := m[1]
	if wantsChinese(r) {
		msg = m[0]
	}
	w.Header().Set("Content-Type", TypeJSON)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": msg})
}

// wantsChinese: Chinese unless the client's first language is another.
func wantsChinese(r *http.Request) bool {
	al := strings.TrimSpace(r.Header.Get("Accept-Language"))
	return al == "" || strings.HasPrefix(strings.ToLower(al), "zh")
}

// Handler serves the gateway, rate-limited per client. Paths are taken relative to the
// base URL's path when they carry it (behind a proxy that forwards the full path) or as they
// are (a proxy that strips it).
func (s *Server) Handler() http.Handler {
	lim := ratelimit.New(s.cfg.PerMinute, s.cfg.Burst)
	return lim.Handler(http.HandlerFunc(s.serve), func(w http.ResponseWriter, r *http.Request) {
		s.stats.limited.Add(1)
		writeError(w, r, http.StatusTooManyRequests, CodeRateLimited)
	})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, r, http.StatusMethodNotAllowed, CodeMethod)
		return
	}
	path := r.URL.EscapedPath()
	if len(path) > MaxPathBytes || len(r.URL.RawQuery) > MaxQueryBytes {
		writeError(w, r, http.StatusRequestURITooLong, CodeTooLong)
		return
	}
	st := s.cur.Load()
	if st == nil {
		w.Header().Set("Retry-After", "2")
		writeError(w, r, http.StatusServiceUnavailable, CodeNotReady)
		return
	}
	if st.basePath != "" && strings.HasPrefix(path, st.basePath+"/") {
		path = path[len(st.basePath):]
	}
	w.Header().Set("Access-Control-Allow-Origin", "*") // public data, read by browsers' wallets too
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if rest, ok := strings.CutPrefix(path, didPrefix); ok {
		s.serveDID(w, r, st, rest)
		return
	}
	if r.URL.RawQuery != "" {
		writeError(w, r, http.StatusBadRequest, CodeBadQuery)
		return
	}
	res, ok := st.files[path]
	if !ok {
		s.stats.notFound.Add(1)
		if member, isStatus := statusMember(path); isStatus {
			if _, signs := s.cfg.Signers.Signer(member); !signs {
				writeError(w, r, http.StatusNotFound, CodeListsElsewhere)
				return
			}
		}
		writeError(w, r, http.StatusNotFound, CodeNotFound)
		return
	}
	s.write(w, r, res, http.StatusOK)
}

// statusMember is the member a status path names, if it is one.
func statusMember(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, statusPrefix)
	if !ok {
		return "", false
	}
	m, _, _ := strings.Cut(rest, "/")
	return m, m != ""
}

// write sends a ready resource with its validators; If-None-Match answers 304.
func (s *Server) write(w http.ResponseWriter, r *http.Request, res *resource, status int) {
	h := w.Header()
	h.Set("Content-Type", res.ctype)
	h.Set("ETag", res.etag)
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(res.maxAge))
	if status == http.StatusOK && etagMatch(r.Header.Get("If-None-Match"), res.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(res.body)))
	w.WriteHeader(status)
	s.stats.served.Add(1)
	if r.Method != http.MethodHead {
		w.Write(res.body)
	}
}

func etagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// serveDID is the DID Resolution 1.0 HTTP(S) GET binding: GET /1.0/identifiers/{did}
// [?versionTime=T]. The DID may come percent-encoded (the binding requires it when options
// follow: /1.0/identifiers/did%3Alz%3Am?versionTime=…) or as it is. Accept application/did,
// application/did+ld+json or application/did+json (and not application/did-resolution) gets
// the bare document; anything else the resolution result (application/did-resolution).
// Errors are the result with an error object, at the binding's status for its type.
func (s *Server) serveDID(w http.ResponseWriter, r *http.Request, st *state, escaped string) {
	fail := func(status int, code, detail string) {
		w.Header().Set("Content-Type", TypeResolutionResult)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		w.Write(failedResolution(code, detail))
	}
	var at *time.Time
	for k, vs := range r.URL.Query() {
		if k != "versionTime" {
			fail(http.StatusNotImplemented, errFeature, "the only resolution option supported is versionTime")
			return
		}
		if len(vs) != 1 {
			fail(http.StatusBadRequest, errInvalidOptions, "give versionTime once")
			return
		}
		t, err := time.Parse(time.RFC3339, vs[0])
		if err != nil {
			fail(http.StatusBadRequest, errInvalidOptions, "versionTime must be an RFC 3339 time, e.g. 2026-12-01T08:00:00Z")
			return
		}
		at = &t
	}
	d, err := url.PathUnescape(escaped)
	if err != nil {
		fail(http.StatusBadRequest, errInvalidDID, "not a valid DID")
		return
	}
	method, err := did.ParseDID(d)
	if err != nil {
		if strings.HasPrefix(d, "did:") && strings.Count(d, ":") >= 2 && !strings.HasPrefix(d, "did:lz:") && !strings.HasPrefix(d, "did:key:") {
			fail(http.StatusNotImplemented, errMethod, "this resolver resolves did:lz and did:key")
			return
		}
		fail(http.StatusBadRequest, errInvalidDID, "not a valid DID")
		return
	}
	var res *resource
	status := http.StatusOK
	switch method {
	case "key":
		rr, err := did.KeyResolver{}.Resolve(r.Context(), d)
		if err != nil || rr.Document == nil {
			fail(http.StatusBadRequest, errInvalidDID, "not a valid did:key")
			return
		}
		b, _ := json.Marshal(ResolutionResult{Context: resolutionContext, DIDDocument: rr.Document,
			DIDResolutionMetadata: ResolutionMetadata{ContentType: TypeDIDDocument}})
		res = newResource(b, TypeResolutionResult, 86400)
	default:
		h, ok := st.histories[d]
		if !ok {
			fail(http.StatusNotFound, errNotFound, d+" is not registered on the consortium ledger")
			return
		}
		if at == nil {
			res = st.files[didPath(d)]
			if res == nil {
				fail(http.StatusNotFound, errNotFound, d+" is not registered on the consortium ledger")
				return
			}
			if h.Deactivated != nil {
				status = http.StatusGone
			}
		} else {
			res, status, err = resolution(h, at, s.cfg.Now())
			if err != nil {
				fail(http.StatusInternalServerError, errInternal, "the DID history could not be rendered")
				return
			}
		}
	}
	if bareDocument(r.Header.Get("Accept")) && status == http.StatusOK {
		var rr ResolutionResult
		if json.Unmarshal(res.body, &rr) == nil && rr.DIDDocument != nil {
			b, _ := json.Marshal(rr.DIDDocument)
			res = newResource(b, TypeDIDDocument, res.maxAge)
		}
	}
	s.write(w, r, res, status)
}

// bareDocument: the client's Accept names a DID document media type and not the resolution
// result's.
func bareDocument(accept string) bool {
	doc := false
	for _, part := range strings.Split(strings.ToLower(accept), ",") {
		mt, _, _ := strings.Cut(part, ";")
		switch strings.TrimSpace(mt) {
		case "application/did", "application/did+ld+json", "application/did+json":
			doc = true
		case TypeResolutionResult:
			return false
		}
		if strings.Contains(part, "did-resolution") { // the pre-1.0 ld+json profile
			return false
		}
	}
	return doc
}
