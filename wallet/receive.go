package wallet

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"lianzheng/credential"
	"lianzheng/internal/bilingual"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"lianzheng/credential/sdjwtvc"
	"lianzheng/did"
	"lianzheng/internal/keystore"
	"lianzheng/internal/strictjson"
	"lianzheng/ledger"
	"lianzheng/ledgerclient"
	"lianzheng/qr"
)

// OpenID4VCI constants.
const (
	OfferScheme      = "openid-credential-offer://"
	GrantPreAuthCode = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
	ProofTyp         = "openid4vci-proof+jwt"
	// FormatSDJWTVC and FormatLDPVC are the credential formats the wallet receives: the
	// SD-JWT VC it verifies and presents, and the W3C VC form of the same credential.
	FormatSDJWTVC = "dc+sd-jwt"
	FormatLDPVC   = "ldp_vc"
	// LDPVCSuffix: a LianZheng issuer names the ldp_vc configuration of configuration <id>
	// "<id>+ldp_vc" (docs/issuer.md); an offer naming both is one credential in two forms.
	LDPVCSuffix       = "+" + FormatLDPVC
	maxOfferLen       = 8 << 10
	maxHTTPBody       = 1 << 20
	metadataWellKnown = "/.well-known/openid-credential-issuer"
	asWellKnown       = "/.well-known/oauth-authorization-server"
)

// TxCode describes the transaction code (PIN) the offer needs.
type TxCode struct {
	InputMode   string `json:"input_mode,omitempty"`
	Length      int    `json:"length,omitempty"`
	Description string `json:"description,omitempty"`
}

// PreAuthGrant is the pre-authorised code grant of an offer.
type PreAuthGrant struct {
	Code   string  `json:"pre-authorized_code"`
	TxCode *TxCode `json:"tx_code,omitempty"`
}

// Offer is an OpenID4VCI credential offer.
type Offer struct {
	CredentialIssuer string                     `json:"credential_issuer"`
	ConfigurationIDs []string                   `json:"credential_configuration_ids"`
	Grants           map[string]json.RawMessage `json:"grants"`
	PreAuth          *PreAuthGrant              `json:"-"`
}

// ParseOffer reads an offer from the scanned text (openid-credential-offer://?credential_offer=…,
// an https link with the same query, or the bare JSON). credential_offer_uri is fetched by
// Receive, not here.
func ParseOffer(text string) (*Offer, string, error) {
	text = strings.TrimSpace(text)
	if len(text) > maxOfferLen {
		return nil, "", fmt.Errorf("%w: offer of %d bytes is too large", ErrBadOffer, len(text))
	}
	var raw string
	var uri string
	if strings.HasPrefix(text, "{") {
		raw = text
	} else {
		u, err := url.Parse(text)
		if err != nil {
			return nil, "", fmt.Errorf("%w: not a URL: %w", ErrBadOffer, err)
		}
		if u.Scheme != "openid-credential-offer" && u.Scheme != "https" && u.Scheme != "http" {
			return nil, "", fmt.Errorf("%w: scheme %q", ErrBadOffer, u.Scheme)
		}
		q := u.Query()
		raw, uri = q.Get("credential_offer"), q.Get("credential_offer_uri")
		if raw == "" && uri == "" {
			return nil, "", fmt.Errorf("%w: neither credential_offer nor credential_offer_uri", ErrBadOffer)
		}
		if raw == "" {
			return nil, uri, nil
		}
	}
	o, err := decodeOffer([]byte(raw))
	return o, "", err
}

func decodeOffer(b []byte) (*Offer, error) {
	var o Offer
	if err := strictjson.Decode(b, &o); err != nil {
		return nil, fmt.Errorf("%w: offer JSON: %w", ErrBadOffer, err)
	}
	iu, err := url.Parse(o.CredentialIssuer)
	if err != nil || (iu.Scheme != "https" && iu.Scheme != "http") || iu.Host == "" {
		return nil, fmt.Errorf("%w: credential_issuer %q is not an https URL", ErrBadOffer, o.CredentialIssuer)
	}
	if len(o.ConfigurationIDs) == 0 {
		return nil, fmt.Errorf("%w: no credential configuration named", ErrBadOffer)
	}
	if g, ok := o.Grants[GrantPreAuthCode]; ok {
		var p PreAuthGrant
		if err := strictjson.Decode(g, &p); err != nil || p.Code == "" {
			return nil, fmt.Errorf("%w: malformed pre-authorized_code grant", ErrBadOffer)
		}
		o.PreAuth = &p
	}
	if o.PreAuth == nil {
		return nil, fmt.Errorf("%w: no pre-authorised code grant (the only flow supported)", ErrBadOffer)
	}
	return &o, nil
}

// ParseOfferPNG reads an offer from a QR image.
func ParseOfferPNG(png []byte) (*Offer, string, error) {
	text, err := qr.DecodePNG(png)
	if err != nil {
		return nil, "", fmt.Errorf("%w: QR image: %w", ErrBadOffer, err)
	}
	return ParseOffer(text)
}

// NeedsPIN reports whether the offer needs a transaction code.
func (o *Offer) NeedsPIN() bool { return o.PreAuth != nil && o.PreAuth.TxCode != nil }

// IssuerMetadata is the part of the credential issuer metadata the wallet uses.
type IssuerMetadata struct {
	CredentialIssuer     string                     `json:"credential_issuer"`
	CredentialEndpoint   string                     `json:"credential_endpoint"`
	NonceEndpoint        string                     `json:"nonce_endpoint,omitempty"`
	TokenEndpoint        string                     `json:"token_endpoint,omitempty"` // non-standard shortcut
	NotificationEndpoint string                     `json:"notification_endpoint,omitempty"`
	AuthorizationServers []string                   `json:"authorization_servers,omitempty"`
	Configurations       map[string]json.RawMessage `json:"credential_configurations_supported"`
	Display              json.RawMessage            `json:"display,omitempty"`
}

// format is the format of configuration id ("" when the metadata does not say).
func (md *IssuerMetadata) format(id string) string {
	var c struct {
		Format string `json:"format"`
	}
	if raw, ok := md.Configurations[id]; ok && strictjson.Decode(raw, &c) == nil {
		return c.Format
	}
	return ""
}

// ReceiveOptions tune Receive.
type ReceiveOptions struct {
	HTTP *http.Client // default: 30 s timeout
	// InsecureHTTP allows http:// issuers (tests and loopback demos only).
	InsecureHTTP bool
}

// client is the HTTP client to use: o's (default 30 s timeout), following no redirect.
func (o *ReceiveOptions) client() *http.Client {
	var hc *http.Client
	if o != nil {
		hc = o.HTTP
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return noRedirects(hc)
}

// resolveOffer parses the scanned offer text and, for an offer by reference
// (credential_offer_uri), fetches it.
func resolveOffer(ctx context.Context, hc *http.Client, text string, insecure bool) (*Offer, error) {
	offer, uri, err := ParseOffer(text)
	if err != nil {
		return nil, err
	}
	if uri != "" {
		var b json.RawMessage
		if err := getJSON(ctx, hc, endpointRule{insecure: insecure}, uri, &b); err != nil {
			return nil, fmt.Errorf("wallet: credential_offer_uri: %w", err)
		}
		if offer, err = decodeOffer(b); err != nil {
			return nil, err
		}
	}
	return offer, nil
}

// OfferSummary is what an offer is, for the citizen to see before typing its PIN: the
// credential types it offers, with their names from the ledger catalogue, and the
// departments the catalogue authorises to issue them — the one a credential received from
// this offer can come from (Receive refuses any other). An OpenID4VCI offer names no expiry
// and no issuer DID, so the summary has neither: the department tells the expiry with the PIN.
type OfferSummary struct {
	CredentialIssuer string // the issuance service's URL (credential_issuer)
	Types            []OfferedType
	// Departments are the members the catalogue authorises for every offered type (usually
	// one); empty when no member may issue them all, or a type is not in the catalogue.
	Departments []ledger.Member
	NeedsPIN    bool
	PINLength   int // digits of the PIN, when the offer says (0: not said)
}

// OfferedType is one credential type an offer names.
type OfferedType struct {
	ID   string         // the credential configuration id (our issuers use the catalogue type id)
	Name bilingual.Text // its catalogue name; the id in both languages when not in the catalogue
	// Known reports whether the ledger catalogue has the type.
	Known bool
}

// DescribeOffer reads an offer (fetching it when given by reference) and names what it
// offers from the ledger catalogue, without contacting the issuer otherwise and without
// spending its PIN. A text that is not an offer is ErrBadOffer.
func (w *Wallet) DescribeOffer(ctx context.Context, offerText string, o *ReceiveOptions) (*OfferSummary, error) {
	l, err := w.ledger()
	if err != nil {
		return nil, err
	}
	offer, err := resolveOffer(ctx, o.client(), offerText, o != nil && o.InsecureHTTP)
	if err != nil {
		return nil, err
	}
	s := &OfferSummary{CredentialIssuer: offer.CredentialIssuer, NeedsPIN: offer.NeedsPIN()}
	if s.NeedsPIN && offer.PreAuth.TxCode.Length > 0 {
		s.PINLength = offer.PreAuth.TxCode.Length
	}
	var issuers []string // member ids authorised for every type so far
	for i, id := range credentialsOf(offer.ConfigurationIDs) {
		ot := OfferedType{ID: id, Name: bilingual.Text{Zh: id, En: id}}
		t, err := l.Type(ctx, id)
		switch {
		case err == nil:
			ot.Name, ot.Known = t.Name, true
			if i == 0 {
				issuers = slices.Clone(t.Issuers)
			} else {
				issuers = slices.DeleteFunc(issuers, func(m string) bool { return !slices.Contains(t.Issuers, m) })
			}
		case errors.Is(err, ledgerclient.ErrNotFound):
			issuers = nil
		default:
			return nil, fmt.Errorf("wallet: catalogue: %w", err)
		}
		s.Types = append(s.Types, ot)
	}
	for _, id := range issuers {
		m, err := l.Member(ctx, id)
		if err != nil {
			if errors.Is(err, ledgerclient.ErrNotFound) {
				continue
			}
			return nil, fmt.Errorf("wallet: member %s: %w", id, err)
		}
		s.Departments = append(s.Departments, *m)
	}
	return s, nil
}

// credentialsOf lists the credentials an offer names: its configuration ids without the
// ldp_vc forms "<id>+ldp_vc" of configurations it also names (one credential in two forms).
func credentialsOf(ids []string) []string {
	var out []string
	for _, id := range ids {
		if base, ok := strings.CutSuffix(id, LDPVCSuffix); ok && slices.Contains(ids, base) {
			continue
		}
		out = append(out, id)
	}
	return out
}

// Receive runs the OpenID4VCI pre-authorised code flow for every configuration of the offer:
// metadata, token (with the PIN as tx_code), a nonce from the nonce endpoint, a key proof by
// a fresh holder key, the credential (by the credential identifier of the token response);
// then, with the same holder key, the W3C form of the same credential when the offer names
// its ldp_vc configuration. Each credential is verified against the ledger before it is
// stored, with its W3C form.
//
// Receiving is resumable (pending.go): its state is recorded, sealed, before every step with
// an effect at the issuer. Scanning an offer whose receive was interrupted continues it
// (with pin, if the offer was not redeemed yet). An error wrapping ErrReceivePending means
// the receive is kept and continues later; any other error means it was given up (and its
// holder keys deleted).
func (w *Wallet) Receive(ctx context.Context, offerText, pin string, o *ReceiveOptions) ([]*Credential, error) {
	if o == nil {
		o = &ReceiveOptions{}
	}
	hc := o.client()
	if _, err := w.ledger(); err != nil {
		return nil, err
	}
	offer, err := resolveOffer(ctx, hc, offerText, o.InsecureHTTP)
	if err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(offer.CredentialIssuer, "/")
	w.recv.Lock()
	defer w.recv.Unlock()
	if p, err := w.Store.pending(pendingID(base, offer.PreAuth.Code)); err != nil {
		return nil, err
	} else if p != nil { // this offer's receive was interrupted: continue it
		if pin != "" && p.Token == "" && offer.NeedsPIN() {
			p.PIN = pin
		}
		return w.run(ctx, hc, p)
	}
	if offer.NeedsPIN() && pin == "" {
		return nil, ErrOfferNeedsPIN
	}
	if err := (endpointRule{insecure: o.InsecureHTTP}).check(offer.CredentialIssuer); err != nil {
		return nil, fmt.Errorf("wallet: issuer %s: %w", offer.CredentialIssuer, err)
	}
	origin, err := originOf(base)
	if err != nil {
		return nil, err
	}
	// Every endpoint below (metadata, authorisation server, token, nonce, credential,
	// notification) must be https on the issuer's own origin: the PIN and the token go
	// nowhere else.
	rule := endpointRule{origin: origin, insecure: o.InsecureHTTP}
	var md IssuerMetadata
	if err := getJSON(ctx, hc, rule, base+metadataWellKnown, &md); err != nil {
		return nil, fmt.Errorf("wallet: issuer metadata: %w", err)
	}
	if strings.TrimSuffix(md.CredentialIssuer, "/") != base {
		return nil, fmt.Errorf("%w: metadata credential_issuer %q differs from the offer's %q", ErrIssuerFailed, md.CredentialIssuer, offer.CredentialIssuer)
	}
	if md.CredentialEndpoint == "" {
		return nil, fmt.Errorf("%w: issuer metadata has no credential_endpoint", ErrIssuerFailed)
	}
	for _, ep := range []string{md.CredentialEndpoint, md.NonceEndpoint, md.TokenEndpoint, md.NotificationEndpoint} {
		if ep == "" {
			continue
		}
		if err := rule.check(ep); err != nil { // before the PIN is spent on this issuer
			return nil, fmt.Errorf("wallet: issuer metadata: %w", err)
		}
	}
	tokenEP := md.TokenEndpoint
	if tokenEP == "" {
		as := base
		if len(md.AuthorizationServers) > 0 {
			as = strings.TrimSuffix(md.AuthorizationServers[0], "/")
		}
		var asm struct {
			TokenEndpoint string `json:"token_endpoint"`
		}
		if err := getJSON(ctx, hc, rule, as+asWellKnown, &asm); err == nil && asm.TokenEndpoint != "" {
			tokenEP = asm.TokenEndpoint
		} else {
			tokenEP = as + "/token"
		}
	}
	if err := rule.check(tokenEP); err != nil { // checked before the PIN is put in a request
		return nil, fmt.Errorf("wallet: token endpoint: %w", err)
	}
	p := w.newPending(offer, base, origin, o.InsecureHTTP, pin, &md, tokenEP)
	if len(p.Items) == 0 {
		return nil, fmt.Errorf("%w: the offer names no SD-JWT VC configuration (only W3C forms)", ErrBadOffer)
	}
	if err := w.Store.putPending(p); err != nil { // before the offer can be used up
		return nil, err
	}
	return w.run(ctx, hc, p)
}

// Accept verifies an SD-JWT VC for the holder key kid against the ledger (issuer key at
// iat, issuer authorised for the type, not expired) and stores it.
func (w *Wallet) Accept(ctx context.Context, l Ledger, text, kid string) (*Credential, error) {
	c, err := w.verifyCredential(ctx, l, text, kid)
	if err != nil {
		return nil, err
	}
	if err := w.Store.PutCredential(c); err != nil {
		return nil, err
	}
	return c, nil
}

// verifyCredential checks a credential for the holder key kid and returns its record. A
// credential that does not verify is a *Refusal; an unreachable ledger is another error
// (receiving keeps the credential and checks it again later).
func (w *Wallet) verifyCredential(ctx context.Context, l Ledger, text, kid string) (*Credential, error) {
	var ledgerErr error
	now := w.now()
	v, err := sdjwtvc.Verify(text, sdjwtvc.VerifyOptions{
		IssuerKeyAt: func(k string, at time.Time) (crypto.PublicKey, error) {
			pk, err := did.AssertionKeyAt(ctx, resolver(l), k, at)
			if err != nil && ledgerUnavailable(err) {
				ledgerErr = err
			}
			return pk.Key, err
		},
		AllowNoKB: true,
		Now:       now,
	})
	if err != nil {
		if ledgerErr != nil {
			return nil, fmt.Errorf("wallet: issuer key: %w", ledgerErr)
		}
		return nil, refuseCause(credential.CodeInvalidCredential, "凭证校验失败", "the credential does not verify", err)
	}
	// sdjwt tolerates clock skew (5 min) at exp, as a verifier comparing two clocks must;
	// the wallet judges its own credential by its own clock: expired is expired at once.
	if !v.Expires.IsZero() && !now.Before(v.Expires) {
		return nil, refuse(credential.CodeExpired, "凭证已于 %s 过期，已拒收", "the credential expired at %s; refused",
			v.Expires.UTC().Format(time.RFC3339))
	}
	t, err := checkAuthorised(ctx, l, v.VCT, v.Issuer)
	if err != nil {
		return nil, err
	}
	pub, err := w.Keys.Public(kid)
	if errors.Is(err, keystore.ErrNotFound) {
		return nil, fmt.Errorf("%w: %w", errKeyLost, err)
	}
	if err != nil {
		return nil, err
	}
	if hk, ok := v.Holder.Key.(ed25519.PublicKey); !ok || !hk.Equal(pub) {
		return nil, refuse(credential.CodeWrongHolderKey, "凭证未绑定到本钱包的密钥", "the credential is not bound to this wallet's key")
	}
	c := &Credential{ID: newID(), SDJWT: text, Type: t.ID, VCT: v.VCT, Issuer: v.Issuer, HolderKID: kid,
		Received: now.UTC(), IssuedAt: v.IssuedAt.UTC(), Expires: v.Expires.UTC()}
	if v.Expires.IsZero() {
		c.Expires = time.Time{}
	}
	if v.Status != nil {
		c.StatusURI, c.StatusIdx = v.Status.URI, v.Status.Index
	}
	return c, nil
}

// ledgerUnavailable reports whether a ledger read failed for want of an answer (node
// unreachable, snapshot not covering it, cancelled), not because the ledger said no.
func ledgerUnavailable(err error) bool {
	return errors.Is(err, ledgerclient.ErrRPC) || errors.Is(err, ledgerclient.ErrNotInSnapshot) ||
		errors.Is(err, ledgerclient.ErrSnapshotStale) || errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded)
}

// ErrUnsafeEndpoint marks an issuer endpoint the wallet refuses to contact: not https, or not
// on the issuer's own origin (the offer's credential_issuer). Issuer metadata is not signed
// (we do not accept signed_metadata), so it cannot vouch for another origin: an https issuer
// whose metadata named an http:// token endpoint would otherwise receive the PIN in clear.
var ErrUnsafeEndpoint = errors.New("wallet: unsafe issuer endpoint")

// endpointRule is what every URL the wallet contacts during receiving must satisfy.
type endpointRule struct {
	origin   string // scheme://host[:port] of the credential issuer; "" = any (the offer URI)
	insecure bool   // http allowed (tests and loopback demos only)
}

func (e endpointRule) check(u string) error {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || p.User != nil || (p.Scheme != "https" && !(e.insecure && p.Scheme == "http")) {
		return fmt.Errorf("%w: %q is not an https URL", ErrUnsafeEndpoint, u)
	}
	if e.origin != "" && !strings.EqualFold(p.Scheme+"://"+p.Host, e.origin) {
		return fmt.Errorf("%w: %q is not on the issuer's origin %s", ErrUnsafeEndpoint, u, e.origin)
	}
	return nil
}

// originOf returns scheme://host[:port] of an absolute URL.
func originOf(u string) (string, error) {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return "", fmt.Errorf("%w: %q is not an absolute URL", ErrUnsafeEndpoint, u)
	}
	return p.Scheme + "://" + p.Host, nil
}

// noRedirects makes a copy of hc that follows no redirect: an https endpoint answering 307
// to an http:// (or foreign) URL would otherwise have the PIN or token re-sent there.
func noRedirects(hc *http.Client) *http.Client {
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error {
		return fmt.Errorf("%w: issuer endpoints may not redirect", ErrUnsafeEndpoint)
	}
	return &c
}

func getJSON(ctx context.Context, hc *http.Client, rule endpointRule, u string, out any) error {
	if err := rule.check(u); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	return do(hc, req, out)
}

func postForm(ctx context.Context, hc *http.Client, rule endpointRule, u string, form url.Values, out any) error {
	if err := rule.check(u); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(hc, req, out)
}

func postJSON(ctx context.Context, hc *http.Client, rule endpointRule, u, bearer string, body, out any) error {
	if err := rule.check(u); err != nil {
		return err
	}
	var r io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return do(hc, req, out)
}

// do sends req and decodes the JSON answer into out. A request that gets no answer is
// ErrIssuerUnreachable (unless refused by the endpoint rule, or cancelled); an error answer is
// an *IssuerError; an answer that cannot be read is ErrIssuerFailed.
func do(hc *http.Client, req *http.Request, out any) error {
	resp, err := hc.Do(req)
	if err != nil {
		if errors.Is(err, ErrUnsafeEndpoint) || errors.Is(err, context.Canceled) {
			return err
		}
		return fmt.Errorf("%w: %w", ErrIssuerUnreachable, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxHTTPBody+1))
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrIssuerUnreachable, req.URL.Path, err)
	}
	if len(b) > maxHTTPBody {
		return fmt.Errorf("%w: %s: response too large", ErrIssuerFailed, req.URL.Path)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error    string `json:"error"`
			Desc     string `json:"error_description"`
			CNonce   string `json:"c_nonce"`
			Reason   string `json:"lz_reason"`
			Attempts *int   `json:"lz_attempts_left"`
		}
		ie := &IssuerError{Endpoint: req.URL.Path, Status: resp.StatusCode, AttemptsLeft: -1}
		if strictjson.Decode(b, &e) == nil {
			ie.Code, ie.Description, ie.Reason, ie.CNonce = e.Error, e.Desc, e.Reason, e.CNonce
			if e.Attempts != nil && *e.Attempts >= 0 {
				ie.AttemptsLeft = *e.Attempts
			}
		}
		return ie
	}
	if out == nil {
		return nil
	}
	if err := strictjson.Decode(b, out); err != nil {
		return fmt.Errorf("%w: %s: JSON: %w", ErrIssuerFailed, req.URL.Path, err)
	}
	return nil
}
