// Package oid4vci is the department's OpenID for Verifiable Credential Issuance 1.0 service
// (pre-authorised code flow with a transaction PIN): issuer metadata, credential offers as
// text and QR, the token endpoint, the nonce endpoint, the credential endpoint taking a
// key-proof JWT, and the notification endpoint. Offers live in the department's database (so
// `lz issuer offer` and `lz serve issuer` may be different processes); access tokens and
// nonces live in the server's memory (nonce.go bounds them).
//
// One credential, two forms: each type is offered as an SD-JWT VC configuration and an
// ldp_vc (W3C VC) configuration (metadata.go). The first credential request of a token
// issues ONE record (one status index) bound to the key its proof proves; the other form of
// that record is then handed out to requests of the same token proving the same key.
//
// Interrupted receives: a wallet killed between the department signing its credential and
// storing it must not lose it. So an access token may fetch its credential again (either
// form), for the same holder key only (a retry proving another key is refused), until the
// token expires or the wallet reports with a notification that it stored (or gave up) the
// credential; the issued credential is kept in memory for that time and no longer. And a
// wallet killed after the department accepted its code and PIN but before it kept the token
// may redeem the offer again with the same resume key (the token request's lz_resume_key, our
// extension; issuer.RedeemOfferResumable), which replaces the earlier token. Neither lets a
// second credential be issued from one offer: the database allows one issuance per offer.
// Tokens do not survive a restart of the service: a wallet that resumes after one gets a
// new token only if no credential was issued yet.
//
// Threats: the nonce endpoint is public (no token): its nonces are bounded in number and
// rate per client (nonce.go). Request bodies are size-limited and parsed strictly
// (internal/strictjson). Logs carry offer and record ids, types, error kinds and client
// addresses — never claims, codes, PINs, tokens or nonces.
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
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"lianzheng/internal/ratelimit"
	"lianzheng/internal/strictjson"
	"lianzheng/issuer"
)

// GrantPreAuth is the pre-authorised code grant type.
const GrantPreAuth = "urn:ietf:params:oauth:grant-type:pre-authorized_code"

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
	// MaxNonces bounds the live nonces held (default DefaultMaxNonces); NonceBurst and
	// NonceRate the nonces one client gets (defaults DefaultNonceBurst, DefaultNonceRate
	// per second).
	MaxNonces  int
	NonceBurst int
	NonceRate  float64
	Now        func() time.Time
	Log        *slog.Logger // never given personal data, codes, PINs, tokens or nonces

	mu       sync.Mutex
	sessions map[string]*session // key: SHA-256 of the access token
	nonces   nonceStore
	refusals logLimiter // refused token requests: logged, but at a bounded rate
	limited  logLimiter // rate-limited nonce requests, and other noise a flood could cause
}

type session struct {
	offerID, typ string
	expires      time.Time

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

// response is the credential response body (1.0 §8.3) with the credential in format: the
// SD-JWT VC as a string, the W3C VC as an object. One notification_id covers both forms.
func (c *issuedCredential) response(format string) map[string]any {
	var cred any = c.sdjwt
	if format == FormatLDPVC {
		cred = c.w3c
	}
	return map[string]any{"credentials": []any{map[string]any{"credential": cred}}, "notification_id": c.notificationID}
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
func clientAddr(r *http.Request) string { return ratelimit.ClientIP(r) }

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
	s.mu.Unlock()
	for _, v := range dropped {
		v.forget()
	}
	if red.Again {
		s.log().Info("token issued again (offer redeemed again with its resume key)", "offer", red.OfferID, "type", red.Type)
	} else {
		s.log().Info("token issued", "offer", red.OfferID, "type", red.Type)
	}
	var details []any
	for _, id := range ConfigurationIDs(red.Type) {
		details = append(details, map[string]any{"type": "openid_credential", "credential_configuration_id": id,
			"credential_identifiers": []any{credentialIdentifier(id, red.OfferID)}})
	}
	resp := map[string]any{
		"access_token": tok, "token_type": "Bearer", "expires_in": int(dur(s.TokenTTL, 5*time.Minute).Seconds()),
		"authorization_details": details,
	}
	// c_nonce in the token response: draft 13 wallets take it from here (1.0 ones ask the
	// nonce endpoint); either is accepted.
	s.addNonce(resp, r, now)
	writeJSON(w, 200, resp)
}

// addNonce puts a fresh c_nonce (and its lifetime) in resp, unless the client is over its
// rate or the store is full (the member is optional where it is used).
func (s *Server) addNonce(resp map[string]any, r *http.Request, now time.Time) {
	if n, why := s.newNonce(r, now); why == nonceOK {
		resp["c_nonce"], resp["c_nonce_expires_in"] = n, int(s.nonceTTL().Seconds())
	}
}

func (s *Server) nonceTTL() time.Duration { return dur(s.NonceTTL, 5*time.Minute) }

func (s *Server) newNonce(r *http.Request, now time.Time) (string, nonceRefusal) {
	burst, rate, maxLive := s.NonceBurst, s.NonceRate, s.MaxNonces
	if burst <= 0 {
		burst = DefaultNonceBurst
	}
	if rate <= 0 {
		rate = DefaultNonceRate
	}
	if maxLive <= 0 {
		maxLive = DefaultMaxNonces
	}
	return s.nonces.issue(ratelimit.ClientKey(clientAddr(r)), now, s.nonceTTL(), maxLive, burst, rate)
}

func (s *Server) bearer(r *http.Request) (string, *session, *Error) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return "", nil, errf(401, ErrCodeInvalidToken, "Bearer access token required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.sessions[tokenKey(tok)]
	if ss == nil || s.now().After(ss.expires) {
		return "", nil, errf(401, ErrCodeInvalidToken, "access token unknown, used or expired")
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

// nonceEndpoint hands out a fresh c_nonce (OpenID4VCI 1.0 §7): POST, no access token
// needed (one sent is ignored), Cache-Control: no-store. A client over its rate gets 429, and
// everyone gets 503 while the store is full of live nonces; both with Retry-After.
func (s *Server) nonceEndpoint(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeErr(w, errf(405, "invalid_request", "POST only"))
		return
	}
	now := s.now()
	n, why := s.newNonce(r, now)
	switch why {
	case nonceLimited:
		s.limited.log(s.log(), now, "nonce request over the client's rate", "client", clientAddr(r))
		w.Header().Set("Retry-After", "1")
		writeErr(w, errf(http.StatusTooManyRequests, "temporarily_unavailable", "too many nonce requests; retry later"))
		return
	case nonceFull:
		s.limited.log(s.log(), now, "nonce store full", "client", clientAddr(r))
		w.Header().Set("Retry-After", strconv.Itoa(int(min(s.nonceTTL(), time.Minute).Seconds())))
		writeErr(w, errf(http.StatusServiceUnavailable, "temporarily_unavailable", "no nonce available; retry later"))
		return
	}
	writeJSON(w, 200, map[string]any{"c_nonce": n})
}

// requested resolves what a credential request asks for against the session's grant: the
// configuration's format, or the error answering it.
func (s *Server) requested(ctx context.Context, ss *session, req *CredentialRequest) (string, *Error) {
	t, err := s.Dept.Type(ctx, ss.typ)
	if err != nil { // the catalogue changed since the offer
		s.log().Warn("credential: type no longer issuable", "offer", ss.offerID, "type", ss.typ, "err_kind", errKind(err))
		return "", errf(400, ErrCodeRequestDenied, "this department may no longer issue %s", ss.typ)
	}
	granted := ConfigurationIDs(ss.typ)
	switch {
	case req.Identifier != "":
		for _, id := range granted {
			if req.Identifier == credentialIdentifier(id, ss.offerID) {
				_, f := ParseConfigurationID(id)
				return f, nil
			}
		}
		return "", errf(400, ErrCodeUnknownID, "credential_identifier is not one the access token grants")
	case req.ConfigurationID != "":
		if slices.Contains(granted, req.ConfigurationID) {
			_, f := ParseConfigurationID(req.ConfigurationID)
			return f, nil
		}
		if typ, _ := ParseConfigurationID(req.ConfigurationID); typ != "" {
			if _, err := s.Dept.Type(ctx, typ); err == nil {
				return "", errf(400, ErrCodeRequestDenied, "the access token grants %s, not %s", ss.typ, req.ConfigurationID)
			}
		}
		return "", errf(400, ErrCodeUnknownConfig, "unknown credential configuration")
	}
	// draft 13: format and vct
	if req.Format == FormatSDJWTVC && req.VCT == t.VCT {
		return FormatSDJWTVC, nil
	}
	return "", errf(400, ErrCodeUnknownConfig, "no credential configuration of this format and vct for the access token")
}

func (s *Server) credential(w http.ResponseWriter, r *http.Request) {
	key, ss, ok := s.postWithToken(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestBytes+1))
	if err != nil {
		writeErr(w, errf(400, ErrCodeInvalidRequest, "cannot read body"))
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		writeErr(w, errf(400, ErrCodeInvalidRequest, "Content-Type must be application/json"))
		return
	}
	req, proof, err := ParseCredentialRequest(body)
	if err != nil {
		writeErr(w, err.(*Error))
		return
	}
	format, e := s.requested(r.Context(), ss, req)
	if e != nil {
		writeErr(w, e)
		return
	}
	now := s.now()
	holder, err := VerifyProof(proof, ProofCheck{Audience: s.IssuerURL, Now: now, MaxAge: s.ProofMaxAge,
		ConsumeNonce: func(n string) bool { return s.nonces.consume(n, now) }})
	if err != nil {
		pe := err.(*Error)
		if pe.Code == ErrCodeInvalidNonce {
			// a fresh c_nonce with the error, as draft 13 wallets expect (1.0 ones ask the
			// nonce endpoint again)
			resp := map[string]any{"error": pe.Code, "error_description": pe.Description}
			s.addNonce(resp, r, now)
			writeJSON(w, 400, resp)
			return
		}
		s.log().Info("credential: proof refused", "offer", ss.offerID, "code", pe.Code)
		writeErr(w, pe)
		return
	}
	// One issuance per token: concurrent requests wait here; the first issues, the others
	// (and any later retry, for either form) get that credential if they prove the same key.
	ss.issueMu.Lock()
	defer ss.issueMu.Unlock()
	s.mu.Lock()
	live := s.sessions[key] == ss && !s.now().After(ss.expires)
	s.mu.Unlock()
	if !live {
		writeErr(w, errf(401, ErrCodeInvalidToken, "access token unknown, replaced or expired"))
		return
	}
	if c := ss.issued; c != nil {
		if holder.Thumbprint() != c.thumbprint {
			s.log().Info("credential: refetch by another key refused", "offer", ss.offerID, "record", c.recordID)
			writeErr(w, errf(400, ErrCodeRequestDenied, "this access token's credential was issued to another key"))
			return
		}
		s.log().Info("credential handed out again", "offer", ss.offerID, "record", c.recordID, "format", format)
		writeJSON(w, 200, c.response(format))
		return
	}
	is, err := s.Dept.IssueOffer(r.Context(), ss.offerID, holder)
	if err != nil {
		s.log().Error("credential: issuance failed", "offer", ss.offerID, "type", ss.typ, "err_kind", errKind(err))
		writeErr(w, errf(500, "server_error", "issuance failed; ask the department for a new offer"))
		return
	}
	// Both forms of the one record are kept for the token: the W3C VC 2.0 (eddsa-rdfc-2022
	// proof, credentialSubject.id = the proven key as did:key) is the ldp_vc configuration.
	ss.issued = &issuedCredential{recordID: is.Record.ID, thumbprint: is.Record.HolderThumbprint,
		notificationID: randToken(16), sdjwt: is.SDJWT, w3c: is.W3C}
	s.forgetAtExpiry(key, ss)
	s.log().Info("credential issued", "offer", ss.offerID, "record", is.Record.ID, "type", is.Record.Type, "format", format)
	writeJSON(w, 200, ss.issued.response(format))
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
