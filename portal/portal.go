package portal

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"lianzheng/credential"
	"lianzheng/credential/jws"
	"lianzheng/credential/oid4vp"
	"lianzheng/credential/wire"
	"lianzheng/internal/bilingual"
	"lianzheng/ledger"
	"lianzheng/verifier"
)

// Limits and defaults.
const (
	DefaultSessionTTL = 15 * time.Minute
	MaxSessions       = 10000
	MaxResponseBody   = oid4vp.MaxJWE + 1024
	maxQuery          = 256
)

// Errors.
var (
	ErrNoSession = errors.New("portal: no such session (unknown or expired)")
	ErrFull      = errors.New("portal: too many open sessions")
	ErrNotOnline = errors.New("portal: not an online service item of this portal")
)

// Config configures a portal.
type Config struct {
	// Verifier is the portal's verifier core (its Window is the portal's DID; made with
	// NoSession: the portal owns each verdict).
	Verifier *verifier.Verifier
	// Trust is the ledger view the verifier uses (the portal reads its registration there).
	Trust verifier.Trust
	DID   string             // the portal's did:lz
	KeyID string             // DID URL of its key (signs request objects)
	Key   ed25519.PrivateKey // its key
	// BaseURL is where wallets and browsers reach the portal (https; http on loopback in
	// tests and demos). It may be set later with SetBaseURL, before serving.
	BaseURL    string
	SessionTTL time.Duration // default DefaultSessionTTL
	// PerMinute and Burst are the per-client rate limit (default 600 a minute, bursts of 60).
	PerMinute, Burst int
	Logger           *slog.Logger
	Now              func() time.Time
}

// Server is a portal. Safe for concurrent use.
type Server struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	base     string
	sessions map[string]*session
	byKid    map[string]string // encryption key id → session id
}

// Status of a session.
const (
	StatePending  = "pending"
	StateVerified = "verified"
	StateRefused  = "refused"
	StateExpired  = "expired"
)

// session is one application (one applicant's page).
type session struct {
	id      string
	item    ledger.ServiceItem
	nonce   string
	state   string
	enc     *oid4vp.EncKey
	jar     string
	link    string
	reqExp  time.Time // the request's expiry
	expires time.Time // the session's
	version int       // changes with every verdict (the page reloads)
	verdict *verifier.Verdict
	fetched bool // the wallet fetched the request object
	applied string
}

// New makes a portal.
func New(cfg Config) (*Server, error) {
	if cfg.Verifier == nil || cfg.Trust == nil || len(cfg.Key) != ed25519.PrivateKeySize || !strings.HasPrefix(cfg.KeyID, cfg.DID+"#") {
		return nil, errors.New("portal: verifier, trust, DID and key are required")
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.PerMinute <= 0 {
		cfg.PerMinute, cfg.Burst = 600, 60
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, log: cfg.Logger.With("portal", cfg.DID), base: strings.TrimSuffix(cfg.BaseURL, "/"),
		sessions: map[string]*session{}, byKid: map[string]string{}}, nil
}

// SetBaseURL sets where the portal is reached (before serving).
func (s *Server) SetBaseURL(u string) {
	s.mu.Lock()
	s.base = strings.TrimSuffix(u, "/")
	s.mu.Unlock()
}

// BaseURL is where the portal is reached.
func (s *Server) BaseURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.base
}

// Registration is the portal's record on the ledger now (it must be an online service).
func (s *Server) Registration(ctx context.Context) (*ledger.Window, *verifier.View, error) {
	view, err := s.cfg.Trust.Current(ctx)
	if err != nil {
		return nil, nil, err
	}
	w, ok := view.Window(s.cfg.DID)
	if !ok || !w.Online() {
		return nil, nil, fmt.Errorf("%w: %s is not registered as an online service", ErrNotOnline, s.cfg.DID)
	}
	return w, view, nil
}

// Session is what a page shows of a session.
type Session struct {
	ID       string
	Item     ledger.ServiceItem
	Link     string // openid4vp://…
	State    string // StatePending, StateVerified, StateRefused, StateExpired
	Version  int
	Expires  time.Time // the request's expiry
	Fetched  bool
	Verdict  *verifier.Verdict // nil while pending
	Applied  string            // the application number once the form was submitted
	Services *ledger.Window
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return jws.B64.EncodeToString(b)
}

// Start opens an application for a service item: a verifier request, a state, an encryption
// key, and the signed request object the wallet will fetch.
func (s *Server) Start(ctx context.Context, item string) (*Session, error) {
	w, view, err := s.Registration(ctx)
	if err != nil {
		return nil, err
	}
	si, ok := w.ServiceItem(item)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNotOnline, item)
	}
	base := s.BaseURL()
	if base == "" {
		return nil, errors.New("portal: no base URL")
	}
	now := s.cfg.Now()
	s.mu.Lock()
	s.sweep(now)
	full := len(s.sessions) >= MaxSessions
	s.mu.Unlock()
	if full {
		return nil, ErrFull
	}
	req, err := s.cfg.Verifier.NewRequest(ctx, si.ID)
	if err != nil {
		return nil, err
	}
	enc, err := oid4vp.NewEncKey()
	if err != nil {
		return nil, err
	}
	se := &session{id: newID(), item: *si, nonce: req.Request.NonceString(), state: oid4vp.NewState(), enc: enc,
		reqExp: time.Unix(req.Request.Expires, 0), expires: now.Add(s.cfg.SessionTTL)}
	reg := oid4vp.Registration{Service: w.DID, Department: w.Department, Name: bilingual.Text(w.Name), Item: si.ID,
		ItemName: bilingual.Text(si.Name), Purpose: bilingual.Text(si.Purpose)}
	// the query asks what the verifier's request asks: the registered fields, no more
	for _, fr := range req.Request.Requests {
		t, ok := view.Type(fr.Type)
		if !ok {
			return nil, fmt.Errorf("portal: type %s is not in the catalogue", fr.Type)
		}
		r := oid4vp.Requested{Type: fr.Type, VCT: t.VCT, Fields: slices.Clone(fr.Fields)}
		for _, f := range fr.Fields {
			if !si.Required(fr.Type, f) {
				r.Optional = append(r.Optional, f)
			}
		}
		reg.Requests = append(reg.Requests, r)
	}
	regJSON, err := json.Marshal(reg)
	if err != nil {
		return nil, err
	}
	o := &oid4vp.Request{ClientID: oid4vp.ClientIDFor(s.cfg.DID), ResponseType: oid4vp.ResponseTypeVPToken,
		ResponseMode: oid4vp.ResponseModeDirectPostJWT, ResponseURI: base + "/oid4vp/response/" + se.id,
		Nonce: se.nonce, State: se.state, DCQLQuery: oid4vp.QueryFor(reg.Requests),
		ClientMetadata: oid4vp.ClientMetadata{JWKS: &oid4vp.JWKSet{Keys: []oid4vp.JWK{enc.Public()}},
			VPFormatsSupported: map[string]oid4vp.FormatParams{oid4vp.FormatSDJWT: {
				SDJWTAlgValues: []string{jws.AlgEdDSA, jws.AlgES256}, KBJWTAlgValues: []string{jws.AlgEdDSA, jws.AlgES256}}},
			EncryptedResponseEncValuesSupported: []string{oid4vp.EncA128GCM, oid4vp.EncA256GCM}},
		VerifierInfo: []oid4vp.VerifierInfo{{Format: oid4vp.VerifierInfoFormat, Data: regJSON}},
		Aud:          oid4vp.SelfIssuedAudience, IssuedAt: req.Request.IssuedAt, Expires: req.Request.Expires}
	if se.jar, err = o.Sign(s.cfg.KeyID, jws.NewEd25519Signer(s.cfg.Key)); err != nil {
		return nil, err
	}
	se.link = oid4vp.Link{ClientID: o.ClientID, RequestURI: base + "/oid4vp/request/" + se.id}.String()
	s.mu.Lock()
	s.sessions[se.id] = se
	s.byKid[enc.Kid()] = se.id
	s.mu.Unlock()
	s.log.Info("session", "item", si.ID, "request_expires", req.Request.Expires)
	return s.Session(se.id)
}

// sweep forgets expired sessions and their disclosed values (caller holds mu).
func (s *Server) sweep(now time.Time) {
	for id, se := range s.sessions {
		if !now.Before(se.expires) {
			wipe(se.verdict)
			delete(s.byKid, se.enc.Kid())
			delete(s.sessions, id)
		}
	}
}

// wipe drops a verdict's disclosed values.
func wipe(vd *verifier.Verdict) {
	if vd == nil {
		return
	}
	for i := range vd.Credentials {
		for j := range vd.Credentials[i].Fields {
			vd.Credentials[i].Fields[j].Value = ""
		}
		vd.Credentials[i].Fields = nil
	}
}

func (s *Server) get(id string) (*session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	se, ok := s.sessions[id]
	if !ok || !s.cfg.Now().Before(se.expires) {
		return nil, ErrNoSession
	}
	return se, nil
}

// Session returns a snapshot of a session for a page.
func (s *Server) Session(id string) (*Session, error) {
	se, err := s.get(id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &Session{ID: se.id, Item: se.item, Link: se.link, Version: se.version, Expires: se.reqExp,
		Fetched: se.fetched, Verdict: se.verdict, Applied: se.applied}
	switch {
	case se.verdict != nil && se.verdict.OK:
		out.State = StateVerified
	case se.verdict != nil:
		out.State = StateRefused
	case !s.cfg.Now().Before(se.reqExp):
		out.State = StateExpired
	default:
		out.State = StatePending
	}
	return out, nil
}

// RequestObject is the signed request object of a session (the wallet's GET of
// request_uri).
func (s *Server) RequestObject(id string) (string, error) {
	se, err := s.get(id)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	se.fetched = true
	se.version++
	s.mu.Unlock()
	return se.jar, nil
}

// Answer is the portal's reply to a wallet's response.
type Answer struct {
	Verdict     *verifier.Verdict
	RedirectURI string // where the wallet sends the applicant's browser (same device)
	// Receipt is the receipt bundle of a verdict that saw data, as JSON (wire.ReceiptBundle:
	// it travels in an HTTP answer, not a QR, so it is not deflated and Base45-encoded as the
	// window's LZ1E text is; wire.ParseReceiptBundle reads either).
	Receipt string
}

// Respond handles an encrypted response (the `response` form value) posted to a session's
// response URI: decryption with the session's key, state, then the verifier core. The verdict
// is recorded in the session (an accepted one is never replaced) and returned.
func (s *Server) Respond(ctx context.Context, id, jwe string) (*Answer, error) {
	se, err := s.get(id)
	if err != nil {
		return nil, err
	}
	v := s.cfg.Verifier
	refuse := func(code credential.Code, detail string) *Answer {
		return s.record(se, v.Refuse(ctx, se.item.ID, code, detail))
	}
	h, err := oid4vp.PeekJWE(jwe)
	switch {
	case errors.Is(err, oid4vp.ErrTooLarge):
		return refuse(credential.CodeOversized, err.Error()), nil
	case err != nil:
		return refuse(credential.CodeResponseTampered, err.Error()), nil
	case h.Kid != "" && h.Kid != se.enc.Kid():
		return refuse(credential.CodeWrongSession, "the response names another encryption key"), nil
	case string(h.APV) != se.nonce:
		return refuse(credential.CodeWrongSession, "the response's apv is not this session's nonce"), nil
	}
	pt, err := se.enc.Decrypt(jwe, se.nonce)
	if err != nil {
		return refuse(credential.CodeResponseTampered, err.Error()), nil
	}
	resp, err := oid4vp.ParseResponse(pt)
	if err != nil {
		code := credential.CodeMalformed
		if errors.Is(err, oid4vp.ErrTooLarge) {
			code = credential.CodeOversized
		}
		return refuse(code, err.Error()), nil
	}
	if resp.State != se.state {
		return refuse(credential.CodeStateMismatch, "state differs from the session's"), nil
	}
	return s.record(se, v.VerifyOpenID4VP(ctx, se.nonce, resp.Presentations())), nil
}

// record keeps a verdict in its session unless an accepted one is there already.
func (s *Server) record(se *session, vd *verifier.Verdict) *Answer {
	s.mu.Lock()
	if se.verdict == nil || !se.verdict.OK {
		wipe(se.verdict)
		se.verdict = vd
		se.version++
	}
	base := s.base
	s.mu.Unlock()
	a := &Answer{Verdict: vd, RedirectURI: base + "/s/" + se.id}
	if vd.ReceiptID != "" {
		if b, err := s.cfg.Verifier.Receipt(vd.ReceiptID); err == nil {
			if j, err := json.Marshal(b); err == nil {
				a.Receipt = string(j)
			}
		}
	}
	s.log.Info("answer", "item", se.item.ID, "ok", vd.OK, "code", string(vd.Code), "receipt", vd.ReceiptID)
	return a
}

// Receipt is the receipt bundle of a session's verdict (with its anchor proof once anchored).
func (s *Server) Receipt(id string) (*wire.ReceiptBundle, error) {
	sess, err := s.Session(id)
	if err != nil {
		return nil, err
	}
	if sess.Verdict == nil || sess.Verdict.ReceiptID == "" {
		return nil, verifier.ErrNoReceipt
	}
	return s.cfg.Verifier.Receipt(sess.Verdict.ReceiptID)
}

// Submit completes the application of a verified session: the form's verified fields come
// from the verdict (whatever the browser sent), the applicant's own entries from extra. The
// portal hands the application on (here: gives it a number) and drops the disclosed values.
func (s *Server) Submit(id string, extra map[string]string) (string, error) {
	se, err := s.get(id)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if se.verdict == nil || !se.verdict.OK {
		return "", errors.New("portal: the credentials of this application are not verified")
	}
	if se.applied == "" {
		se.applied = "WS" + s.cfg.Now().Format("20060102") + "-" + strings.ToUpper(newID()[:8])
		wipe(se.verdict)
		se.version++
	}
	_ = extra // a real portal forwards the application to the department's case system
	return se.applied, nil
}
