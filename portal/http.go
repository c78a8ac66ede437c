package portal

import (
	"embed"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"lianzheng/credential"
	"lianzheng/credential/oid4vp"
	"lianzheng/internal/ratelimit"
	"lianzheng/qr"
)

//go:embed static
var static embed.FS

// Handler serves the portal: pages, QR images, status, and the OpenID4VP endpoints, every
// path rate-limited per client, bodies and queries capped.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.index)
	mux.HandleFunc("GET /apply/{item}", s.apply)
	mux.HandleFunc("GET /s/{id}", s.page)
	mux.HandleFunc("GET /s/{id}/qr.png", s.qrPNG)
	mux.HandleFunc("GET /s/{id}/status", s.status)
	mux.HandleFunc("GET /s/{id}/receipt", s.receipt)
	mux.HandleFunc("POST /s/{id}/submit", s.submit)
	mux.HandleFunc("GET /oid4vp/request/{id}", s.requestObject)
	mux.HandleFunc("POST /oid4vp/response/{id}", s.response)
	mux.Handle("GET /static/", http.FileServerFS(static))
	lim := ratelimit.New(s.cfg.PerMinute, s.cfg.Burst)
	return lim.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.URL.RawQuery) > maxQuery || len(r.URL.Path) > 512 {
			http.Error(w, "request URI too long", http.StatusRequestURITooLong)
			return
		}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
		mux.ServeHTTP(w, r)
	}), func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "5")
		http.Error(w, "too many requests / 请求过于频繁", http.StatusTooManyRequests)
	})
}

func lang(r *http.Request) string {
	if r.URL.Query().Get("lang") == "en" {
		return "en"
	}
	return "zh"
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	win, _, err := s.Registration(r.Context())
	if err != nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, credential.CodeTrustUnavailable)
		return
	}
	s.render(w, r, "index", map[string]any{"Service": win})
}

func (s *Server) apply(w http.ResponseWriter, r *http.Request) {
	se, err := s.Start(r.Context(), r.PathValue("item"))
	switch {
	case errors.Is(err, ErrNotOnline):
		http.NotFound(w, r)
		return
	case errors.Is(err, ErrFull):
		w.Header().Set("Retry-After", "60")
		s.errorPage(w, r, http.StatusServiceUnavailable, "")
		return
	case err != nil:
		s.log.Error("session not started", "err", err.Error())
		s.errorPage(w, r, http.StatusServiceUnavailable, credential.CodeTrustUnavailable)
		return
	}
	http.Redirect(w, r, "/s/"+se.ID+"?lang="+lang(r), http.StatusSeeOther)
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	se, err := s.Session(r.PathValue("id"))
	if err != nil {
		s.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	win, view, _ := s.Registration(r.Context())
	s.render(w, r, "session", map[string]any{"S": se, "Service": win, "View": view})
}

func (s *Server) qrPNG(w http.ResponseWriter, r *http.Request) {
	se, err := s.Session(r.PathValue("id"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	png, err := qr.RenderPNG(se.Link, 0)
	if err != nil {
		http.Error(w, "QR", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(png)
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	se, err := s.Session(r.PathValue("id"))
	if err != nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"state": StateExpired})
		return
	}
	out := map[string]any{"state": se.State, "version": se.Version, "fetched": se.Fetched}
	if se.Verdict != nil {
		out["code"] = se.Verdict.Code
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) receipt(w http.ResponseWriter, r *http.Request) {
	b, err := s.Receipt(r.PathValue("id"))
	if err != nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found"})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, b)
}

func (s *Server) submit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "form", http.StatusBadRequest)
		return
	}
	extra := map[string]string{}
	for _, k := range []string{"property_location", "property_certificate", "phone"} {
		extra[k] = r.PostForm.Get(k)
	}
	id := r.PathValue("id")
	if _, err := s.Submit(id, extra); err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "")
		return
	}
	http.Redirect(w, r, "/s/"+id+"?lang="+lang(r), http.StatusSeeOther)
}

func (s *Server) requestObject(w http.ResponseWriter, r *http.Request) {
	jar, err := s.RequestObject(r.PathValue("id"))
	if err != nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "invalid_request_uri"})
		return
	}
	w.Header().Set("Content-Type", oid4vp.ContentTypeJAR)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(jar))
}

// response is the direct_post.jwt endpoint: form-encoded `response=<JWE>`; 200 with
// redirect_uri (and our receipt) when accepted, 400 with the reason code otherwise.
func (s *Server) response(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxResponseBody)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "form-encoded body required"})
		return
	}
	if err := r.ParseForm(); err != nil {
		code := credential.CodeMalformed
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			code = credential.CodeOversized
		}
		writeJSON(w, http.StatusBadRequest, refusal(code))
		return
	}
	if len(r.PostForm["response"]) != 1 {
		writeJSON(w, http.StatusBadRequest, refusal(credential.CodeMalformed))
		return
	}
	a, err := s.Respond(r.Context(), r.PathValue("id"), r.PostForm.Get("response"))
	if err != nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "invalid_request", "error_description": "unknown or expired session"})
		return
	}
	if !a.Verdict.OK {
		out := refusal(a.Verdict.Code)
		out["redirect_uri"] = a.RedirectURI
		writeJSON(w, http.StatusBadRequest, out)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"redirect_uri": a.RedirectURI, "lz_receipt": a.Receipt})
}

// refusal is the error body of a refused answer: OAuth error, and our code with its message.
func refusal(c credential.Code) map[string]any {
	return map[string]any{"error": "access_denied", "error_description": credential.Message(c, "en"),
		"lz_code": c, "lz_message": credential.Text(c)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
