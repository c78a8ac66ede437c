// Package oid4vci is the department's OpenID for Verifiable Credential Issuance service
// (pre-authorised code flow with a transaction PIN): issuer metadata, credential offers as
// text and QR, token endpoint, c_nonce, the credential endpoint taking a key-proof JWT, and
// the notification endpoint. Offers live in the department's database (so `lz issuer offer`
// and `lz serve issuer` may be different processes); access tokens and nonces live in the
// server's memory.
//
// Interrupted receives: a wallet killed between the department signing its credential and
// storing it must not lose it. So an access token may fetch its credential again, for the
// same holder key only (a retry proving another key is refused), until the token expires or
// the wallet reports with a notification that it stored (or gave up) the credential; the
// issued credential is kept in memory for that time and no longer. And a wallet killed
// after the department accepted its code and PIN but before it kept the token may redeem
// the offer again with the same resume key (the token request's lz_resume_key, our
// extension; issuer.RedeemOfferResumable), which replaces the earlier token. Neither lets a
// second credential be issued from one offer: the database allows one issuance per offer.
// Tokens do not survive a restart of the service: a wallet that resumes after one gets a
// new token only if no credential was issued yet.
package oid4vci

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"lianzheng/internal/strictjson"
	"lianzheng/issuer"
	"lianzheng/ledger"
	"lianzheng/qr"
)

// GrantPreAuth is the pre-authorised code grant type.
const GrantPreAuth = "urn:ietf:params:oauth:grant-type:pre-authorized_code"

// FormatSDJWTVC is the OpenID4VCI format identifier of SD-JWT VC.
const FormatSDJWTVC = "dc+sd-jwt"

// Server serves one department's issuance endpoints.
type Server struct {
	Dept *issuer.Department
	// IssuerURL is the credential issuer identifier (https://…, or http://127.0.0.1:… in
	// tests); proofs must name it as aud.
	IssuerURL      string
	OfferTTL       time.Duration // default issuer.DefaultOfferTTL
	MaxPINAttempts int           // default issuer.DefaultPINAttempts
	TokenTTL       time.Duration // default 5 min
	NonceTTL       time.Duration // default 5 min
	ProofMaxAge    time.Duration // default 5 min
	Now            func() time.Time
	Log            *slog.Logger // never given personal data, codes, PINs or tokens

	mu       sync.Mutex
	sessions map[string]*session // key: SHA-256 of the access token
	refusals logLimiter          // refused token requests: logged, but at a bounded rate
}

type session struct {
	offerID, typ string
	expires      time.Time
	nonce        string // nonce and nonceExp: under Server.mu
	nonceExp     time.Time

	// issueMu serialises this token's credential requests: one issues, the others wait
	// and then get the same credential (same holder key) or a refusal.
	issueMu sync.Mutex
	issued  *issuedCredential // under issueMu; nil until issued, and once dropped
}

// issuedCredential is a token's credential, kept (in memory only) so that a wallet
// interrupted before storing it can fetch it again with the same token and holder key.
type issuedCredential struct {
	recordID, thumbprint, notificationID string
	sdjwt                                string
	w3c                                  map[string]any
}

// response is the credential response body.
func (c *issuedCredential) response() map[string]any {
	return map[string]any{"credentials": []any{map[string]any{"credential": c.sdjwt}}, "w3c_vc": c.w3c,
		"notification_id": c.notificationID}
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func dur(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("/.well-known/openid-credential-issuer", s.metadata)
	m.HandleFunc("/.well-known/oauth-authorization-server", s.asMetadata)
	m.HandleFunc("/token", s.token)
	m.HandleFunc("/nonce", s.nonceEndpoint)
	m.HandleFunc("/credential", s.credential)
	m.HandleFunc("/notification", s.notification)
	return m
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, e *Error) {
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer error="`+e.Code+`"`)
	}
	writeJSON(w, e.Status, e)
}

func randToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// codeRef is a reference to a pre-authorised code for logs: a truncated hash that lets
// repeated attempts on one code be followed without revealing (or allowing to rebuild) it.
func codeRef(code string) string {
	h := sha256.Sum256([]byte("lianzheng oid4vci code ref\n" + code))
	return hex.EncodeToString(h[:6])
}

// clientAddr is the client's IP address (the connection's, never a forwarded header, which a
// client can set).
func clientAddr(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// logLimiter bounds how many lines a kind of event may log: at most burst lines, refilled at
// one per refill interval; lines over the limit are counted and the count is reported with
// the next line that gets through, so a flood of refusals cannot fill the disk or hide others.
type logLimiter struct {
	mu         sync.Mutex
	tokens     float64
	last       time.Time
	suppressed int
}

const (
	logBurst  = 20
	logRefill = time.Second / 5 // 5 lines per second sustained
)

func (l *logLimiter) log(lg *slog.Logger, now time.Time, msg string, args ...any) {
	l.mu.Lock()
	if l.last.IsZero() {
		l.tokens = logBurst
	} else if d := now.Sub(l.last); d > 0 {
		l.tokens = min(logBurst, l.tokens+float64(d)/float64(logRefill))
	}
	l.last = now
	if l.tokens < 1 {
		l.suppressed++
		l.mu.Unlock()
		return
	}
	l.tokens--
	n := l.suppressed
	l.suppressed = 0
	l.mu.Unlock()
	if n > 0 {
		args = append(args, "suppressed_before", n)
	}
	lg.Info(msg, args...)
}

func tokenKey(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

// Metadata builds the credential issuer metadata: one dc+sd-jwt configuration per type
// the department is authorised for (id = the catalogue type id).
func (s *Server) Metadata(ctx context.Context) (map[string]any, error) {
	ts, err := s.Dept.Types(ctx)
	if err != nil {
		return nil, err
	}
	confs := map[string]any{}
	for _, t := range ts {
		confs[t.ID] = configuration(t)
	}
	return map[string]any{
		"credential_issuer":                   s.IssuerURL,
		"credential_endpoint":                 s.IssuerURL + "/credential",
		"nonce_endpoint":                      s.IssuerURL + "/nonce",
		"token_endpoint":                      s.IssuerURL + "/token",
		"notification_endpoint":               s.IssuerURL + "/notification",
		"display":                             []any{map[string]any{"name": s.Dept.ID, "locale": "zh-CN"}, map[string]any{"name": s.Dept.ID, "locale": "en"}},
		"credential_configurations_supported": confs,
	}, nil
}

func configuration(t ledger.CredentialType) map[string]any {
	var claims []any
	for _, c := range t.Claims {
		claims = append(claims, map[string]any{
			"path":       []any{c.Name},
			"mandatory":  c.Required,
			"display":    []any{map[string]any{"name": c.Label.Zh, "locale": "zh-CN"}, map[string]any{"name": c.Label.En, "locale": "en"}},
			"value_type": c.Type,
		})
	}
	return map[string]any{
		"format": FormatSDJWTVC,
		"vct":    t.VCT,
		"scope":  t.ID,
		"cryptographic_binding_methods_supported": []any{"jwk"},
		"credential_signing_alg_values_supported": []any{"EdDSA"},
		"proof_types_supported":                   map[string]any{"jwt": map[string]any{"proof_signing_alg_values_supported": []any{"EdDSA", "ES256"}}},
		"display":                                 []any{map[string]any{"name": t.Name.Zh, "locale": "zh-CN"}, map[string]any{"name": t.Name.En, "locale": "en"}},
		"claims":                                  claims,
		"max_validity_days":                       t.MaxValidityDays,
	}
}

func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeErr(w, errf(405, "invalid_request", "GET only"))
		return
	}
	m, err := s.Metadata(r.Context())
	if err != nil {
		s.log().Error("metadata", "err", err)
		writeErr(w, errf(500, "server_error", "catalogue unavailable"))
		return
	}
	writeJSON(w, 200, m)
}

func (s *Server) asMetadata(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, map[string]any{
		"issuer":                s.IssuerURL,
		"token_endpoint":        s.IssuerURL + "/token",
		"grant_types_supported": []any{GrantPreAuth},
		"pre-authorized_grant_anonymous_access_supported": true,
	})
}

// OfferURI renders an offer as openid-credential-offer://?credential_offer=… (by value).
func (s *Server) OfferURI(o *issuer.Offer) string { return OfferURI(s.IssuerURL, o) }

// OfferURI renders an offer of issuerURL by value.
func OfferURI(issuerURL string, o *issuer.Offer) string {
	b, _ := json.Marshal(map[string]any{
		"credential_issuer":            issuerURL,
		"credential_configuration_ids": []string{o.Type},
		"grants": map[string]any{GrantPreAuth: map[string]any{
			"pre-authorized_code": o.Code,
			"tx_code": map[string]any{"input_mode": "numeric", "length": issuer.PINDigits,
				"description": "请输入窗口提供的 6 位数字码 / Enter the 6-digit code given at the counter"},
		}},
	})
	return "openid-credential-offer://?credential_offer=" + url.QueryEscape(string(b))
}

// OfferQR renders the offer URI as a QR PNG (byte mode: the URI is not Base45).
func OfferQR(issuerURL string, o *issuer.Offer) ([]byte, error) {
	return qr.RenderPNG(OfferURI(issuerURL, o), 0)
}

func (s *Server) newNonce(ss *session, now time.Time) {
	ss.nonce = randToken(16)
	ss.nonceExp = now.Add(dur(s.NonceTTL, 5*time.Minute))
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeErr(w, errf(405, "invalid_request", "POST only"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		writeErr(w, errf(400, "invalid_request", "form-encoded body required"))
		return
	}
	f := r.PostForm
	for k, v := range f {
		if len(v) != 1 {
			writeErr(w, errf(400, "invalid_request", "parameter %s repeated", k))
			return
		}
	}
	if f.Get("grant_type") != GrantPreAuth {
		writeErr(w, errf(400, "unsupported_grant_type", "only the pre-authorized_code grant is supported"))
		return
	}
	code, pin, resumeKey := f.Get("pre-authorized_code"), f.Get("tx_code"), f.Get(ParamResumeKey)
	if code == "" {
		writeErr(w, errf(400, "invalid_request", "pre-authorized_code missing"))
		return
	}
	if pin == "" {
		writeErr(w, errf(400, "invalid_request", "tx_code required"))
		return
	}
	if _, ok := f[ParamResumeKey]; ok && !validResumeKey(resumeKey) {
		writeErr(w, errf(400, "invalid_request", "%s must be %d to %d base64url characters", ParamResumeKey, issuer.MinResumeKeyLen, issuer.MaxResumeKeyLen))
		return
	}
	red, err := s.Dept.RedeemOfferResumable(r.Context(), code, pin, resumeKey, s.MaxPINAttempts)
	if err != nil {
		var desc, reason string
		var left *int
		var re *issuer.RedeemError
		switch {
		case !errors.As(err, &re):
			s.log().Error("token: redemption failed", "client", clientAddr(r), "err_kind", errKind(err))
			writeErr(w, errf(500, "server_error", "try again later"))
			return
		case errors.Is(err, issuer.ErrWrongPIN):
			desc, reason, left = fmt.Sprintf("wrong tx_code (%d attempt(s) left)", re.AttemptsLeft), ReasonWrongPIN, &re.AttemptsLeft
		case errors.Is(err, issuer.ErrOfferBurned):
			desc, reason = "offer blocked after too many wrong tx_code attempts", ReasonOfferBlocked
		case errors.Is(err, issuer.ErrOfferExpired):
			desc, reason = "offer expired", ReasonOfferExpired
		case errors.Is(err, issuer.ErrOfferUsed):
			desc, reason = "offer already used", ReasonOfferUsed
		default: // issuer.ErrOfferUnknown
			desc, reason = "unknown pre-authorized_code", ReasonOfferUnknown
		}
		// Which offer (its record ID; for an unknown code a keyed reference, never the code)
		// and which client, so that a brute-force attempt can be followed; rate-limited.
		ref := re.OfferID
		if ref == "" {
			ref = "code:" + codeRef(code)
		}
		s.refusals.log(s.log(), s.now(), "token refused", "reason", desc, "offer", ref, "client", clientAddr(r))
		e := errf(400, "invalid_grant", "%s", desc)
		e.Reason, e.AttemptsLeft = reason, left
		writeErr(w, e)
		return
	}
	now := s.now()
	tok := randToken(32)
	ss := &session{offerID: red.OfferID, typ: red.Type, expires: now.Add(dur(s.TokenTTL, 5*time.Minute))}
	s.newNonce(ss, now)
	s.mu.Lock()
	if s.sessions == nil {
		s.sessions = map[string]*session{}
	}
	var dropped []*session
	for k, v := range s.sessions {
		// expired tokens, and (offer redeemed again) the tokens it replaces
		if now.After(v.expires) || (red.Again && v.offerID == red.OfferID) {
			delete(s.sessions, k)
			dropped = append(dropped, v)
		}
	}
	s.sessions[tokenKey(tok)] = ss
	nonce, nexp := ss.nonce, ss.nonceExp
	s.mu.Unlock()
	for _, v := range dropped {
		v.forget()
	}
	if red.Again {
		s.log().Info("token issued again (offer redeemed again with its resume key)", "offer", red.OfferID, "type", red.Type)
	} else {
		s.log().Info("token issued", "offer", red.OfferID, "type", red.Type)
	}
	writeJSON(w, 200, map[string]any{
		"access_token": tok, "token_type": "Bearer", "expires_in": int(dur(s.TokenTTL, 5*time.Minute).Seconds()),
		"c_nonce": nonce, "c_nonce_expires_in": int(nexp.Sub(now).Seconds()),
		"authorization_details": []any{map[string]any{"type": "openid_credential", "credential_configuration_id": red.Type}},
	})
}

func (s *Server) bearer(r *http.Request) (string, *session, *Error) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return "", nil, errf(401, "invalid_token", "Bearer access token required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.sessions[tokenKey(tok)]
	if ss == nil || s.now().After(ss.expires) {
		return "", nil, errf(401, "invalid_token", "access token unknown, used or expired")
	}
	return tokenKey(tok), ss, nil
}

// postWithToken admits a POST carrying a live access token, answering the refusal itself
// (405, or 401 invalid_token) when it does not.
func (s *Server) postWithToken(w http.ResponseWriter, r *http.Request) (string, *session, bool) {
	if r.Method != http.MethodPost {
		writeErr(w, errf(405, "invalid_request", "POST only"))
		return "", nil, false
	}
	key, ss, e := s.bearer(r)
	if e != nil {
		writeErr(w, e)
		return "", nil, false
	}
	return key, ss, true
}

// nonceEndpoint hands out a fresh c_nonce for the bearer's session (OpenID4VCI 1.0 §7).
func (s *Server) nonceEndpoint(w http.ResponseWriter, r *http.Request) {
	_, ss, ok := s.postWithToken(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	s.newNonce(ss, s.now())
	n := ss.nonce
	s.mu.Unlock()
	writeJSON(w, 200, map[string]any{"c_nonce": n})
}

func (s *Server) credential(w http.ResponseWriter, r *http.Request) {
	key, ss, ok := s.postWithToken(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestBytes+1))
	if err != nil {
		writeErr(w, errf(400, "invalid_request", "cannot read body"))
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		writeErr(w, errf(400, "invalid_request", "Content-Type must be application/json"))
		return
	}
	req, proof, err := ParseCredentialRequest(body)
	if err != nil {
		writeErr(w, err.(*Error))
		return
	}
	t, err := s.Dept.Type(r.Context(), ss.typ)
	if err != nil {
		s.log().Warn("credential: type no longer issuable", "offer", ss.offerID, "type", ss.typ, "err", err)
		writeErr(w, errf(400, "unsupported_credential_type", "this department may not issue %s", ss.typ))
		return
	}
	if (req.ConfigurationID != "" && req.ConfigurationID != ss.typ) ||
		(req.ConfigurationID == "" && (req.Format != FormatSDJWTVC || req.VCT != t.VCT)) {
		writeErr(w, errf(400, "unsupported_credential_type", "the access token grants %s", ss.typ))
		return
	}
	now := s.now()
	s.mu.Lock()
	nonce := ss.nonce
	if now.After(ss.nonceExp) {
		nonce = ""
	}
	s.mu.Unlock()
	holder, err := VerifyProof(proof, ProofCheck{Audience: s.IssuerURL, Nonce: nonce, Now: now, MaxAge: s.ProofMaxAge})
	if err != nil {
		pe := err.(*Error)
		if pe.Code == "invalid_nonce" {
			s.mu.Lock()
			s.newNonce(ss, now)
			resp := map[string]any{"error": pe.Code, "error_description": pe.Description, "c_nonce": ss.nonce,
				"c_nonce_expires_in": int(ss.nonceExp.Sub(now).Seconds())}
			s.mu.Unlock()
			writeJSON(w, 400, resp)
			return
		}
		s.log().Info("credential: proof refused", "offer", ss.offerID, "code", pe.Code)
		writeErr(w, pe)
		return
	}
	// One issuance per token: concurrent requests wait here; the first issues, the others
	// (and any later retry) get that credential again if they prove the same key.
	ss.issueMu.Lock()
	defer ss.issueMu.Unlock()
	s.mu.Lock()
	live := s.sessions[key] == ss && !s.now().After(ss.expires)
	s.mu.Unlock()
	if !live {
		writeErr(w, errf(401, "invalid_token", "access token unknown, replaced or expired"))
		return
	}
	if c := ss.issued; c != nil {
		if holder.Thumbprint() != c.thumbprint {
			s.log().Info("credential: refetch by another key refused", "offer", ss.offerID, "record", c.recordID)
			writeErr(w, errf(400, "credential_request_denied", "this access token's credential was issued to another key"))
			return
		}
		s.log().Info("credential handed out again", "offer", ss.offerID, "record", c.recordID)
		writeJSON(w, 200, c.response())
		return
	}
	is, err := s.Dept.IssueOffer(r.Context(), ss.offerID, holder)
	if err != nil {
		s.log().Error("credential: issuance failed", "offer", ss.offerID, "type", ss.typ, "err_kind", errKind(err))
		writeErr(w, errf(500, "server_error", "issuance failed; ask the department for a new offer"))
		return
	}
	// w3c_vc (an extension, ignored by other wallets): the same credential as a W3C VC 2.0
	// with an eddsa-rdfc-2022 proof, credentialSubject.id = the proven key as did:key.
	ss.issued = &issuedCredential{recordID: is.Record.ID, thumbprint: is.Record.HolderThumbprint,
		notificationID: randToken(16), sdjwt: is.SDJWT, w3c: is.W3C}
	s.forgetAtExpiry(key, ss)
	s.log().Info("credential issued", "offer", ss.offerID, "record", is.Record.ID, "type", is.Record.Type)
	writeJSON(w, 200, ss.issued.response())
}

// ParamResumeKey is the token request parameter (our extension; other issuers ignore
// unknown parameters) carrying the wallet's resume key (issuer.RedeemOfferResumable).
const ParamResumeKey = "lz_resume_key"

func validResumeKey(k string) bool {
	if len(k) < issuer.MinResumeKeyLen || len(k) > issuer.MaxResumeKeyLen {
		return false
	}
	for _, c := range k {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// forget erases the credential a session kept.
func (ss *session) forget() {
	ss.issueMu.Lock()
	ss.issued = nil
	ss.issueMu.Unlock()
}

// drop ends a session (its token stops working) and erases the credential it kept.
func (s *Server) drop(key string, ss *session) {
	s.mu.Lock()
	if s.sessions[key] == ss {
		delete(s.sessions, key)
	}
	s.mu.Unlock()
	ss.forget()
}

// forgetAtExpiry drops the session when its token expires, so that the credential it keeps
// (personal data) does not outlive the token even if no request comes to purge it.
func (s *Server) forgetAtExpiry(key string, ss *session) {
	d := min(max(ss.expires.Sub(s.now()), 0), dur(s.TokenTTL, 5*time.Minute))
	time.AfterFunc(d+time.Second, func() { s.drop(key, ss) })
}

// notification is the OpenID4VCI 1.0 notification endpoint (§11): the wallet reports that
// it stored (credential_accepted), refused (credential_failure) or deleted the credential;
// the token and the credential kept for a retry are dropped at once.
func (s *Server) notification(w http.ResponseWriter, r *http.Request) {
	key, ss, ok := s.postWithToken(w, r)
	if !ok {
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		writeErr(w, errf(400, "invalid_notification_request", "Content-Type must be application/json"))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxNotificationBytes+1))
	if err != nil || len(body) > maxNotificationBytes {
		writeErr(w, errf(400, "invalid_notification_request", "body unreadable or too large"))
		return
	}
	var n struct {
		ID    string `json:"notification_id"`
		Event string `json:"event"`
		Desc  string `json:"event_description,omitempty"`
	}
	if err := strictjson.Decode(body, &n); err != nil || n.ID == "" {
		writeErr(w, errf(400, "invalid_notification_request", "body is not a strict JSON notification"))
		return
	}
	switch n.Event {
	case "credential_accepted", "credential_failure", "credential_deleted":
	default:
		writeErr(w, errf(400, "invalid_notification_request", "unknown event"))
		return
	}
	ss.issueMu.Lock()
	match := ss.issued != nil && ss.issued.notificationID == n.ID
	ss.issueMu.Unlock()
	if !match {
		writeErr(w, errf(400, "invalid_notification_id", "notification_id unknown for this token"))
		return
	}
	s.drop(key, ss)
	s.log().Info("credential notification", "offer", ss.offerID, "event", n.Event)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

const maxNotificationBytes = 4 << 10

// errKind names an error without its text (which could carry input): issuer.Kind.
func errKind(err error) string { return issuer.Kind(err) }
