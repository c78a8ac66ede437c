package wallet

// Resumable receiving. A wallet can be killed at any point of an OpenID4VCI receive (a phone
// OS ends a backgrounded app; the citizen closes the laptop). Two moments matter: once the
// department has accepted the code and PIN the offer is used up, and once it has signed the
// credential only this wallet's holder key can use it. So the wallet records what it is doing
// BEFORE each step that has an effect elsewhere, and finishes it on the next start:
//
//   - before the token request: the offer (issuer, code, PIN), the endpoints it checked, and a
//     resume key it chose (sent as lz_resume_key; our issuer lets the same key, code and PIN
//     redeem the offer again while no credential was issued from it — a token lost to a kill
//     is replaced, not the offer);
//   - after the token response: the access token, the credential identifiers of its
//     authorization_details, and the c_nonce of older issuers;
//   - after creating a holder key: its key id (a kill between the two leaves a key nothing
//     refers to: SweepOrphanKeys deletes such keys when the wallet is opened);
//   - before the credential request: that it may have been sent (our issuer hands the same
//     credential out again to the same token and holder key until the token expires);
//   - after the credential response: the credential itself, so that verifying and storing it
//     needs the issuer no more;
//   - after the response for the same credential's W3C form (the offer's ldp_vc
//     configuration, fetched with the same token and holder key): that form too; a W3C form
//     the issuer no longer hands out (token expired or refused) is given up, the credential
//     is stored without it;
//   - the credential is then stored and the record removed in one transaction.
//
// The record holds an access token and the offer's PIN: it is sealed with the keystore like
// the credentials (AAD = bucket and id), never written in the clear, never logged (String
// redacts it), and removed as soon as the receive completes or is given up.
//
// Outcomes, per offer: the credential stored; or the receive given up cleanly — the issuer
// refused for good (wrong PIN, offer used, expired or burned, a credential that does not
// verify), its key deleted and, if the offer was never redeemed, the same offer can be
// scanned again; or kept pending on a transient failure (network, issuer 5xx, ledger
// unreachable) until PendingMaxAge, after which the issuer's offer and token are long dead.
// A received credential waiting only for the ledger is kept until it can be checked. The one
// loss left: a credential issued to this wallet whose token died before the wallet could
// fetch it again (the wallet was away longer than the token lifetime, 5 min by default, or
// the issuer service restarted in between): the issuer cannot hand it out again and the
// citizen needs a new offer (the error says so).

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"lianzheng/credential/jws"
	"lianzheng/did"
	"lianzheng/internal/keystore"
	"lianzheng/internal/strictjson"
)

// PendingMaxAge bounds how long a receive that cannot reach its issuer is kept: offers live
// 10 minutes and tokens 5 by default, so after an hour there is nothing left to resume.
const PendingMaxAge = time.Hour

// ParamResumeKey is the token request parameter carrying the wallet's resume key (our
// extension; other issuers ignore unknown parameters, as OAuth 2.0 requires).
const ParamResumeKey = "lz_resume_key"

// ErrReceivePending: receiving stopped on a transient failure (network, issuer or ledger
// unavailable). Its state is kept, sealed; scanning the same offer again, or the next start
// (ResumePending), continues it.
var ErrReceivePending = errors.New("wallet: receiving interrupted; it continues when the wallet next starts or the same offer is scanned again")

// ErrCredentialUnrecoverable: the issuer issued the credential to this wallet but can no
// longer hand it out (its token expired or the issuer service restarted before the wallet
// could fetch it again). The citizen needs a new offer.
var ErrCredentialUnrecoverable = errors.New("wallet: the issuer issued the credential but can no longer hand it out; ask the department for a new offer")

// Receive steps (pendingReceive.Step).
const (
	stepToken      = "token"      // the token request may have been sent: the offer may be redeemed
	stepCredential = "credential" // a token is kept
)

// Item steps (pendingItem.Step).
const (
	itemNew       = "new"       // nothing done yet
	itemKey       = "key"       // holder key created and recorded
	itemRequested = "requested" // the credential request may have been sent
	itemReceived  = "received"  // the issuer's answer is kept; verify and store remain
)

// pendingReceive is one offer being received. It is stored sealed (Store.putPending).
type pendingReceive struct {
	ID        string    `json:"id"` // pendingID(issuer, code)
	Started   time.Time `json:"started"`
	Issuer    string    `json:"issuer"` // credential_issuer, no trailing slash
	Origin    string    `json:"origin"` // every endpoint must be on it
	Insecure  bool      `json:"insecure,omitempty"`
	Code      string    `json:"code"`
	PIN       string    `json:"pin,omitempty"`
	ResumeKey string    `json:"resume_key"`

	TokenEP        string `json:"token_endpoint"`
	NonceEP        string `json:"nonce_endpoint,omitempty"`
	CredentialEP   string `json:"credential_endpoint"`
	NotificationEP string `json:"notification_endpoint,omitempty"`

	Step     string        `json:"step"`
	Token    string        `json:"token,omitempty"`
	TokenExp time.Time     `json:"token_expires,omitzero"`
	CNonce   string        `json:"c_nonce,omitempty"`
	Items    []pendingItem `json:"items"` // not yet stored, in offer order
}

// pendingItem is one credential of the offer: its SD-JWT VC configuration and, when the
// offer also names it, the ldp_vc configuration of the same credential (W3CConfigID).
type pendingItem struct {
	ConfigID string `json:"config_id"`
	// CredentialID is the credential identifier the token response gave for ConfigID (1.0
	// §6.2; "" when it gave none: the request names the configuration).
	CredentialID string `json:"credential_identifier,omitempty"`
	// W3CConfigID is the ldp_vc configuration still to fetch ("" when none, or given up);
	// W3CCredentialID its credential identifier.
	W3CConfigID     string `json:"w3c_config_id,omitempty"`
	W3CCredentialID string `json:"w3c_credential_identifier,omitempty"`
	Step            string `json:"step"`
	KID             string `json:"kid,omitempty"`
	SDJWT           string `json:"sd_jwt,omitempty"`
	W3C             string `json:"w3c_vc,omitempty"`
	NotificationID  string `json:"notification_id,omitempty"`
}

// String never shows the token, the code or the PIN.
func (p *pendingReceive) String() string {
	return fmt.Sprintf("pending receive %.8s from %s (%s, %d credential(s) left)", p.ID, p.Issuer, p.Step, len(p.Items))
}

// GoString: as String (a %#v must not print secrets either).
func (p *pendingReceive) GoString() string { return p.String() }

func (p *pendingReceive) types() []string {
	var out []string
	for _, it := range p.Items {
		out = append(out, it.ConfigID)
	}
	return out
}

func pendingID(issuer, code string) string {
	h := sha256.Sum256([]byte("lianzheng wallet pending receive\n" + issuer + "\n" + code))
	return hex.EncodeToString(h[:])
}

func randKey(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ReceiveFailure is a pending receive that ResumePending could not complete.
type ReceiveFailure struct {
	Issuer string
	Types  []string // credential configuration ids not received
	Err    error
}

// ResumeReport is what ResumePending did.
type ResumeReport struct {
	Received  []*Credential    // credentials of interrupted receives, now stored
	Abandoned []ReceiveFailure // given up for good (their keys deleted)
	Waiting   []ReceiveFailure // still pending (errors.Is(Err, ErrReceivePending))
}

// HasPending reports whether an interrupted receive waits to be resumed.
func (w *Wallet) HasPending() bool { return w.Store.hasPending() }

// ResumePending completes (or cleanly gives up) every interrupted receive: call it once the
// wallet is unlocked and its ledger set. o's HTTP client is used; whether http:// is allowed
// is what was allowed when the receive began.
func (w *Wallet) ResumePending(ctx context.Context, o *ReceiveOptions) (*ResumeReport, error) {
	w.recv.Lock()
	defer w.recv.Unlock()
	ps, err := w.Store.pendings()
	if err != nil {
		return nil, err
	}
	rep := &ResumeReport{}
	hc := o.client()
	for _, p := range ps {
		issuer, types := p.Issuer, p.types()
		cs, err := w.run(ctx, hc, p)
		rep.Received = append(rep.Received, cs...)
		switch {
		case err == nil:
		case errors.Is(err, ErrReceivePending):
			rep.Waiting = append(rep.Waiting, ReceiveFailure{Issuer: issuer, Types: p.types(), Err: err})
		default:
			rep.Abandoned = append(rep.Abandoned, ReceiveFailure{Issuer: issuer, Types: types, Err: err})
		}
	}
	return rep, nil
}

// SweepOrphanKeys deletes the keys no credential and no pending receive refer to — holder
// keys of receives killed between creating the key and recording it — and returns how many.
// Run it when the wallet is opened, before anything else creates keys: a key a caller made
// for Accept is unreferenced until Accept stores its credential. Nothing is deleted unless
// every credential and pending record could be read.
func (w *Wallet) SweepOrphanKeys() (int, error) {
	w.recv.Lock()
	defer w.recv.Unlock()
	cs, err := w.Store.Credentials()
	if err != nil {
		return 0, err
	}
	ps, err := w.Store.pendings()
	if err != nil {
		return 0, err
	}
	refs := map[string]bool{}
	for _, c := range cs {
		refs[c.HolderKID] = true
	}
	for _, p := range ps {
		for _, it := range p.Items {
			refs[it.KID] = true
		}
	}
	n := 0
	for _, kid := range w.Keys.KeyIDs() {
		if !refs[kid] {
			if err := w.Keys.Delete(kid); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// errTokenDead: the issuer no longer knows the access token (expired, replaced, or the
// service restarted).
var errTokenDead = errors.New("wallet: access token no longer valid")

// errKeyLost: a recorded holder key is not in the keystore any more.
var errKeyLost = errors.New("wallet: the holder key of this receive is gone")

// badResponse is an issuer answer that can never become right by retrying.
type badResponse struct{ msg string }

func (e *badResponse) Error() string { return "wallet: " + e.msg }

// transient reports whether err may go away by trying again later: network and transport
// failures, issuer 5xx and 429, an unreachable ledger. Refusals, issuer 4xx answers,
// unsafe endpoints and malformed answers are final.
func transient(err error) bool {
	var ie *IssuerError
	var ref *Refusal
	var br *badResponse
	switch {
	case errors.As(err, &ie):
		return ie.Status >= 500 || ie.Status == http.StatusTooManyRequests
	case errors.As(err, &ref), errors.As(err, &br), errors.Is(err, ErrUnsafeEndpoint), errors.Is(err, errKeyLost),
		errors.Is(err, errTokenDead), errors.Is(err, ErrCredentialUnrecoverable):
		return false
	}
	return true
}

// run drives p to its end: every credential stored, or given up, or kept for later.
func (w *Wallet) run(ctx context.Context, hc *http.Client, p *pendingReceive) ([]*Credential, error) {
	rule := endpointRule{origin: p.Origin, insecure: p.Insecure}
	var out []*Credential
	var first error
	// Token requests in this run: a token can die under us when a request of an earlier,
	// killed run of this receive reaches the issuer late and redeems the offer again (which
	// replaces our token); a few tries, then give up.
	redeems := 0
	for len(p.Items) > 0 {
		if p.Token == "" {
			if err := w.redeem(ctx, hc, rule, p); err != nil {
				if !transient(err) || w.now().Sub(p.Started) > PendingMaxAge {
					if p.requested() { // issued, perhaps, and no token will fetch it now
						err = fmt.Errorf("%w (%w)", ErrCredentialUnrecoverable, err)
					}
					w.abandon(p)
					return out, errors.Join(first, err)
				}
				return out, errors.Join(first, fmt.Errorf("%w: %w", ErrReceivePending, err))
			}
			redeems++
		}
		c, err := w.runItem(ctx, hc, rule, p)
		switch {
		case err == nil:
			out = append(out, c)
			continue
		case errors.Is(err, errTokenDead) && redeems < maxRedeems:
			// Redeem the offer again with the resume key: our issuer allows it while no
			// credential was issued; if one was, the old token was the only way to it.
			p.Token, p.Step = "", stepToken
			if err := w.Store.putPending(p); err != nil {
				return out, errors.Join(first, fmt.Errorf("%w: %w", ErrReceivePending, err))
			}
			continue
		case transient(err) && (p.Items[0].Step == itemReceived || w.now().Sub(p.Started) <= PendingMaxAge):
			return out, errors.Join(first, fmt.Errorf("%w: %w", ErrReceivePending, err))
		}
		if errors.Is(err, errTokenDead) && p.Items[0].Step == itemRequested {
			err = fmt.Errorf("%w (%w)", ErrCredentialUnrecoverable, err)
		}
		if first == nil {
			first = err
		}
		w.dropItem(p)
	}
	return out, first
}

// maxRedeems bounds the token requests of one run.
const maxRedeems = 3

// requested reports whether a credential request of p may have reached the issuer.
func (p *pendingReceive) requested() bool {
	for _, it := range p.Items {
		if it.Step == itemRequested {
			return true
		}
	}
	return false
}

// redeem sends the token request (code, PIN, resume key) and records the token.
func (w *Wallet) redeem(ctx context.Context, hc *http.Client, rule endpointRule, p *pendingReceive) error {
	form := url.Values{"grant_type": {GrantPreAuthCode}, "pre-authorized_code": {p.Code}, ParamResumeKey: {p.ResumeKey}}
	if p.PIN != "" {
		form.Set("tx_code", p.PIN)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
		CNonce      string `json:"c_nonce"`
		Details     []struct {
			Type     string   `json:"type"`
			ConfigID string   `json:"credential_configuration_id"`
			IDs      []string `json:"credential_identifiers"`
		} `json:"authorization_details"`
	}
	if err := rule.check(p.TokenEP); err != nil { // checked before the PIN is put in a request
		return fmt.Errorf("wallet: token endpoint: %w", err)
	}
	if err := postForm(ctx, hc, rule, p.TokenEP, form, &tok); err != nil {
		return fmt.Errorf("wallet: token: %w", err)
	}
	if tok.AccessToken == "" {
		return &badResponse{"token response without access_token"}
	}
	p.Token, p.CNonce, p.Step = tok.AccessToken, tok.CNonce, stepCredential
	// The credential identifiers (1.0): one per configuration, for this token.
	ids := map[string]string{}
	for _, d := range tok.Details {
		if d.Type == "openid_credential" && len(d.IDs) > 0 && d.IDs[0] != "" {
			ids[d.ConfigID] = d.IDs[0]
		}
	}
	for i := range p.Items {
		it := &p.Items[i]
		it.CredentialID, it.W3CCredentialID = ids[it.ConfigID], ids[it.W3CConfigID]
	}
	if tok.ExpiresIn > 0 {
		p.TokenExp = w.now().Add(time.Duration(tok.ExpiresIn) * time.Second).UTC()
	}
	return w.Store.putPending(p)
}

// runItem receives p.Items[0]: holder key, credential request (and the W3C form's),
// verification, storage.
func (w *Wallet) runItem(ctx context.Context, hc *http.Client, rule endpointRule, p *pendingReceive) (*Credential, error) {
	it := &p.Items[0]
	if it.Step != itemReceived {
		if it.KID == "" {
			kid, err := w.Keys.NewEd25519() // a fresh holder key for every credential
			if err != nil {
				return nil, err
			}
			it.KID, it.Step = kid, itemKey
			if err := w.Store.putPending(p); err != nil {
				_ = w.Keys.Delete(kid)
				it.KID, it.Step = "", itemNew
				return nil, err
			}
		}
		raw, nid, err := w.fetchCredential(ctx, hc, rule, p, it, it.ConfigID, it.CredentialID)
		if err != nil {
			return nil, err
		}
		var text string
		if err := strictjson.Decode(raw, &text); err != nil || text == "" {
			return nil, &badResponse{"credential response has no SD-JWT VC string"}
		}
		it.SDJWT, it.NotificationID, it.Step = text, nid, itemReceived
		if err := w.Store.putPending(p); err != nil {
			return nil, err
		}
	}
	if err := w.fetchW3C(ctx, hc, rule, p, it); err != nil {
		return nil, err
	}
	l, err := w.ledger()
	if err != nil {
		return nil, err // kept: checked once a ledger is there
	}
	c, err := w.verifyCredential(ctx, l, it.SDJWT, it.KID)
	if err != nil {
		if !transient(err) {
			w.notify(ctx, hc, rule, p, it.NotificationID, "credential_failure")
		}
		return nil, err
	}
	if it.W3C != "" && w3cMatches(it.W3C, c, it.KID, w) {
		c.W3CVC = it.W3C
	}
	nid := it.NotificationID
	rest := *p
	rest.Items = p.Items[1:]
	if err := w.Store.commitReceived(&rest, c); err != nil {
		return nil, err
	}
	p.Items = rest.Items
	w.notify(ctx, hc, rule, p, nid, "credential_accepted")
	return c, nil
}

// fetchW3C fetches the W3C form of the item's credential (its ldp_vc configuration) with the
// same token and holder key, once the SD-JWT VC is kept. A transient failure keeps the
// receive pending while the token lives; anything else — the token expired or refused, a
// refusal, a malformed answer — gives the W3C form up: the credential is stored without it.
func (w *Wallet) fetchW3C(ctx context.Context, hc *http.Client, rule endpointRule, p *pendingReceive, it *pendingItem) error {
	if it.W3CConfigID == "" || it.W3C != "" {
		return nil
	}
	giveUp := func() error {
		it.W3CConfigID, it.W3CCredentialID = "", ""
		return w.Store.putPending(p)
	}
	if !p.TokenExp.IsZero() && !w.now().Before(p.TokenExp) {
		return giveUp()
	}
	raw, _, err := w.fetchCredential(ctx, hc, rule, p, it, it.W3CConfigID, it.W3CCredentialID)
	switch {
	case err == nil:
	case transient(err) && w.now().Sub(p.Started) <= PendingMaxAge:
		return err
	default:
		return giveUp()
	}
	var vc map[string]any
	if strictjson.Decode(raw, &vc) != nil || vc == nil {
		return giveUp()
	}
	it.W3C = string(raw)
	return w.Store.putPending(p)
}

// w3cMatches reports whether a W3C VC is the W3C form of c: same issuer, its subject the
// holder key kid as did:key. (Its Data Integrity proof is the issuer's to answer for: the
// wallet checks the SD-JWT VC, the form it presents.)
func w3cMatches(vcJSON string, c *Credential, kid string, w *Wallet) bool {
	var vc struct {
		Issuer  any `json:"issuer"`
		Subject struct {
			ID string `json:"id"`
		} `json:"credentialSubject"`
	}
	if strictjson.Decode([]byte(vcJSON), &vc) != nil {
		return false
	}
	iss, _ := vc.Issuer.(string)
	if m, ok := vc.Issuer.(map[string]any); ok {
		iss, _ = m["id"].(string)
	}
	pub, err := w.Keys.Public(kid)
	if err != nil {
		return false
	}
	hk, err := did.NewPublicKey(pub)
	return err == nil && iss == c.Issuer && vc.Subject.ID == hk.DIDKey()
}

// fetchCredential proves the item's key and returns the issuer's credential for the
// configuration cfg (by its credential identifier credID when the token response gave one),
// with the response's notification_id.
func (w *Wallet) fetchCredential(ctx context.Context, hc *http.Client, rule endpointRule, p *pendingReceive, it *pendingItem, cfg, credID string) (json.RawMessage, string, error) {
	signer, err := w.Keys.Signer(it.KID)
	if errors.Is(err, keystore.ErrNotFound) {
		return nil, "", errKeyLost
	}
	if err != nil {
		return nil, "", err
	}
	hpub, err := did.NewPublicKey(signer.Public())
	if err != nil {
		return nil, "", err
	}
	for attempt := 0; ; attempt++ {
		nonce := p.CNonce
		if p.NonceEP != "" {
			var nr struct {
				CNonce string `json:"c_nonce"`
			}
			// OpenID4VCI 1.0 §7: the nonce endpoint is not a protected resource (no token)
			if err := postJSON(ctx, hc, rule, p.NonceEP, "", nil, &nr); err != nil {
				return nil, "", fmt.Errorf("wallet: nonce: %w", err)
			}
			nonce = nr.CNonce
		}
		claims := map[string]any{"aud": p.Issuer, "iat": w.now().Unix()}
		if nonce != "" {
			claims["nonce"] = nonce
		}
		payload, _ := jws.Marshal(claims)
		proof, err := jws.Sign(map[string]any{"typ": ProofTyp, "jwk": hpub.JWK()}, payload, signer)
		if err != nil {
			return nil, "", err
		}
		req := map[string]any{}
		if credID != "" { // OpenID4VCI 1.0 §8.2: the token response named the credential
			req["credential_identifier"] = credID
		} else {
			req["credential_configuration_id"] = cfg
		}
		if p.NonceEP != "" { // OpenID4VCI 1.0
			req["proofs"] = map[string]any{"jwt": []string{proof}}
		} else { // draft 13 issuers (c_nonce in the token response)
			req["proof"] = map[string]any{"proof_type": "jwt", "jwt": proof}
		}
		if it.Step == itemNew || it.Step == itemKey {
			it.Step = itemRequested
			if err := w.Store.putPending(p); err != nil {
				return nil, "", err
			}
		}
		var resp struct {
			Credentials []struct {
				Credential json.RawMessage `json:"credential"`
			} `json:"credentials"`
			Credential     json.RawMessage `json:"credential"`
			NotificationID string          `json:"notification_id,omitempty"`
		}
		err = postJSON(ctx, hc, rule, p.CredentialEP, p.Token, req, &resp)
		var ie *IssuerError
		if errors.As(err, &ie) && ie.Code == "invalid_nonce" && attempt < 2 {
			if ie.CNonce != "" {
				p.CNonce = ie.CNonce
			}
			continue
		}
		if tokenRefused(err) {
			return nil, "", errTokenDead
		}
		if err != nil {
			return nil, "", fmt.Errorf("wallet: credential: %w", err)
		}
		raw := resp.Credential
		if len(resp.Credentials) > 0 {
			raw = resp.Credentials[0].Credential
		}
		return raw, resp.NotificationID, nil
	}
}

func tokenRefused(err error) bool {
	var ie *IssuerError
	return errors.As(err, &ie) && (ie.Status == http.StatusUnauthorized || ie.Code == "invalid_token")
}

// notify tells the issuer (OpenID4VCI 1.0 notification endpoint) that the credential was
// stored or refused, so that it forgets the copy it kept for a retry; best effort.
func (w *Wallet) notify(ctx context.Context, hc *http.Client, rule endpointRule, p *pendingReceive, id, event string) {
	if p.NotificationEP == "" || id == "" || p.Token == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_ = postJSON(ctx, hc, rule, p.NotificationEP, p.Token, map[string]any{"notification_id": id, "event": event}, nil)
}

// dropItem gives up p.Items[0]: the record first, then its key (a crash in between leaves
// an orphan key, which SweepOrphanKeys removes).
func (w *Wallet) dropItem(p *pendingReceive) {
	it := p.Items[0]
	rest := *p
	rest.Items = p.Items[1:]
	var err error
	if len(rest.Items) == 0 {
		err = w.Store.deletePending(p.ID)
	} else {
		err = w.Store.putPending(&rest)
	}
	p.Items = rest.Items
	if err == nil && it.KID != "" {
		_ = w.Keys.Delete(it.KID)
	}
}

// abandon gives up the whole receive.
func (w *Wallet) abandon(p *pendingReceive) {
	if err := w.Store.deletePending(p.ID); err != nil {
		return
	}
	for _, it := range p.Items {
		if it.KID != "" {
			_ = w.Keys.Delete(it.KID)
		}
	}
	p.Items = nil
}

// newPending is the record of a receive about to send its token request.
func (w *Wallet) newPending(offer *Offer, base, origin string, insecure bool, pin string, md *IssuerMetadata, tokenEP string) *pendingReceive {
	p := &pendingReceive{ID: pendingID(base, offer.PreAuth.Code), Started: w.now().UTC(), Issuer: base, Origin: origin,
		Insecure: insecure, Code: offer.PreAuth.Code, ResumeKey: randKey(24), TokenEP: tokenEP, NonceEP: md.NonceEndpoint,
		CredentialEP: md.CredentialEndpoint, NotificationEP: md.NotificationEndpoint, Step: stepToken}
	if offer.NeedsPIN() {
		p.PIN = pin
	}
	p.Items = itemsOf(offer.ConfigurationIDs, md)
	return p
}

// itemsOf groups an offer's configurations into the credentials to receive: every
// configuration that is not ldp_vc is one (received as an SD-JWT VC); an ldp_vc
// configuration "<id>+ldp_vc" is the W3C form of the offered configuration <id> (the
// naming of LianZheng issuers, docs/issuer.md) and is fetched with it. An ldp_vc
// configuration without its SD-JWT VC partner is not received: the wallet verifies and
// presents the SD-JWT VC.
func itemsOf(ids []string, md *IssuerMetadata) []pendingItem {
	var items []pendingItem
	for _, id := range ids {
		if md.format(id) == FormatLDPVC {
			continue // with its partner below, or not at all
		}
		it := pendingItem{ConfigID: id, Step: itemNew}
		if w3c := id + LDPVCSuffix; slices.Contains(ids, w3c) && md.format(w3c) == FormatLDPVC {
			it.W3CConfigID = w3c
		}
		items = append(items, it)
	}
	return items
}
