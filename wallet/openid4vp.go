package wallet

// Answering an online service (docs/portal.md): a department's portal asks with OpenID4VP
// 1.0 (credential/oid4vp). The wallet takes the openid4vp:// link (scanned, pasted, read from
// an image or opened as a link), fetches the signed request object from request_uri (https
// only; http on a loopback host only when the caller allows it, for tests and demos),
// verifies it with the key the portal's DID had on the ledger at its iat, and holds the
// request against the portal's registration on the ledger: the DID registered as an online
// service, the service item registered, the verifier_info registration equal to the ledger's
// (a portal cannot claim a purpose it did not register), the URLs on the registered origin
// when one is registered. What the DCQL query asks beyond the registration is refused
// exactly as at a window (wire.OverAsk: shown as a warning, never disclosed). The consent
// data is the window path's Plan (same code, plan), so the GUI shows the same consent screen.
//
// PresentOpenID4VP then binds each chosen credential's KB-JWT to the request's nonce and the
// full client id (decentralized_identifier:did:lz:…), encrypts the response to the request's
// key (ECDH-ES, apv = nonce), posts it to response_uri, records the access in the history,
// and attaches the portal's signed receipt to it (anchored later, as a window's).

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"lianzheng/credential"
	"lianzheng/credential/oid4vp"
	"lianzheng/credential/wire"
	"lianzheng/did"
	"lianzheng/internal/bilingual"
	"lianzheng/internal/strictjson"
	"lianzheng/ledger"
)

// OpenID4VPOptions tune the online path.
type OpenID4VPOptions struct {
	HTTP *http.Client // default: 30 s timeout, no redirects
	// InsecureLoopback allows http:// request and response URIs on a loopback host (tests
	// and local demos only); anything else must be https.
	InsecureLoopback bool
}

func (o *OpenID4VPOptions) client() *http.Client {
	var hc *http.Client
	if o != nil {
		hc = o.HTTP
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error {
		return errors.New("wallet: an online service's endpoints may not redirect")
	}
	return &c
}

func (o *OpenID4VPOptions) checkURL(u, origin string) error {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || p.User != nil {
		return fmt.Errorf("%w: %q", ErrUnsafeEndpoint, u)
	}
	switch {
	case p.Scheme == "https":
	case p.Scheme == "http" && o != nil && o.InsecureLoopback:
		if ip := net.ParseIP(p.Hostname()); p.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("%w: %q is http on a host that is not loopback", ErrUnsafeEndpoint, u)
		}
	default:
		return fmt.Errorf("%w: %q is not an https URL", ErrUnsafeEndpoint, u)
	}
	if origin != "" && u != origin && !strings.HasPrefix(u, origin+"/") {
		return fmt.Errorf("%w: %q is not under the registered %s", ErrUnsafeEndpoint, u, origin)
	}
	return nil
}

// OnlineRequest is a verified OpenID4VP request of an online service.
type OnlineRequest struct {
	Request  *oid4vp.Request
	Link     *oid4vp.Link
	KeyID    string // the portal key that signed it
	ClientID string
	// QueryIDs: catalogue type id → DCQL credential query id (the vp_token key).
	QueryIDs map[string]string
	reg      *oid4vp.Registration
	opts     *OpenID4VPOptions
}

// check holds the request against the portal's ledger record.
func (o *OnlineRequest) check(win *ledger.Window) error {
	if !win.Online() {
		return refuseCause(credential.CodeWindowUnregistered, "该网站未在联盟链登记为网上服务平台，请勿出示",
			"this site is not registered on the ledger as an online service; do not present", fmt.Errorf("%s is a hall window", win.DID))
	}
	if win.URL != "" {
		for _, u := range []string{o.Link.RequestURI, o.Request.ResponseURI} {
			if err := o.opts.checkURL(u, win.URL); err != nil {
				return refuseCause(credential.CodeBadRequest, "请求地址不在该平台登记的网址下，请勿出示",
					"the request's addresses are not on the portal's registered site; do not present", err)
			}
		}
	}
	if o.reg != nil && (o.reg.Service != win.DID || o.reg.Department != win.Department) {
		return refuseCause(credential.CodeBadRequest, "请求声称的登记信息与联盟链不符，请勿出示",
			"the registration the request claims differs from the ledger; do not present", errors.New("verifier_info service or department"))
	}
	return nil
}

// checkItem compares the claimed registration of the item with the ledger's.
func (o *OnlineRequest) checkItem(si *ledger.ServiceItem) error {
	if o.reg == nil {
		return nil
	}
	if o.reg.Item != si.ID || o.reg.Purpose != bilingual.Text(si.Purpose) {
		return refuseCause(credential.CodeBadRequest, "请求声称的事项或用途与联盟链登记不符，请勿出示",
			"the service item or purpose the request claims differs from the ledger; do not present", errors.New("verifier_info item or purpose"))
	}
	return nil
}

// PlanOpenID4VP takes an openid4vp:// link, fetches and verifies the request object, checks
// it against the portal's ledger registration and returns the same consent data as a
// window's request QR (Plan, with Online set).
func (w *Wallet) PlanOpenID4VP(ctx context.Context, link string, o *OpenID4VPOptions) (*Plan, error) {
	l, err := w.ledger()
	if err != nil {
		return nil, err
	}
	l = pin(l) // the request's key, the catalogue and the registration read at one height
	lk, err := oid4vp.ParseLink(link)
	if err != nil {
		return nil, refuseCause(credential.CodeBadRequest, "无法识别该网上服务请求链接", "cannot read the online service's request link", err)
	}
	if err := o.checkURL(lk.RequestURI, ""); err != nil {
		return nil, refuseCause(credential.CodeBadRequest, "请求地址不安全（须为 https），请勿出示", "the request address is not safe (https required); do not present", err)
	}
	jar, err := fetchJAR(ctx, o.client(), lk.RequestURI)
	if err != nil {
		return nil, refuseCause(credential.CodeBadRequest, "无法获取网上服务的请求", "cannot fetch the online service's request", err)
	}
	req, kid, err := oid4vp.VerifyJAR(jar, func(kid string, at time.Time) (crypto.PublicKey, error) {
		k, err := did.AssertionKeyAt(ctx, resolver(l), kid, at)
		if err != nil {
			return nil, err
		}
		return k.Key, nil
	}, w.now(), 2*time.Minute)
	if err != nil {
		return nil, refuseCause(credential.CodeBadRequest, "网上服务的请求校验失败（签名、密钥或有效期）", "the online service's request does not verify (signature, key or validity)", err)
	}
	if req.ClientID != lk.ClientID {
		return nil, refuseCause(credential.CodeBadRequest, "请求与链接的发起方不一致，请勿出示", "the request's client differs from the link's; do not present", errors.New("client_id"))
	}
	if err := o.checkURL(req.ResponseURI, ""); err != nil {
		return nil, refuseCause(credential.CodeBadRequest, "回应地址不安全（须为 https），请勿出示", "the response address is not safe (https required); do not present", err)
	}
	d, _ := oid4vp.DIDOf(req.ClientID)
	reg, err := req.Registration()
	if err != nil || reg == nil {
		return nil, refuseCause(credential.CodeBadRequest, "请求未携带联盟链登记信息", "the request carries no ledger registration", err)
	}
	or := &OnlineRequest{Request: req, Link: lk, KeyID: kid, ClientID: req.ClientID, QueryIDs: map[string]string{}, reg: reg, opts: o}
	// The request as the window path knows it: who, which item, per catalogue type the
	// fields the DCQL query asks (a query for a vct the registration does not name is asked
	// whole, and refused whole by OverAsk).
	wr := &wire.Request{Version: wire.Version, Window: d, KeyID: kid, Item: reg.Item, IssuedAt: req.IssuedAt, Expires: req.Expires}
	for _, cq := range req.DCQLQuery.Credentials {
		typ := "dcql:" + cq.ID
		for _, rr := range reg.Requests {
			if slices.Contains(cq.Meta.VCTValues, rr.VCT) {
				if t, err := l.Type(ctx, rr.Type); err == nil && t.VCT == rr.VCT {
					typ = rr.Type
				}
			}
		}
		if _, dup := or.QueryIDs[typ]; dup {
			return nil, refuseCause(credential.CodeBadRequest, "请求格式错误（同一凭证被重复请求）", "malformed request (a credential asked twice)", errors.New(typ))
		}
		or.QueryIDs[typ] = cq.ID
		wr.Requests = append(wr.Requests, wire.FieldRequest{Type: typ, Fields: cq.Fields()})
	}
	return w.plan(ctx, l, wr, or)
}

func fetchJAR(ctx context.Context, hc *http.Client, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", oid4vp.ContentTypeJAR)
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, oid4vp.MaxJAR+1))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("request_uri answered %d", resp.StatusCode)
	}
	if len(b) > oid4vp.MaxJAR {
		return "", fmt.Errorf("%w: request object over %d bytes", oid4vp.ErrTooLarge, oid4vp.MaxJAR)
	}
	return strings.TrimSpace(string(b)), nil
}

// OnlineResult is the outcome of answering an online service.
type OnlineResult struct {
	Accepted    bool
	Code        credential.Code // the portal's reason when refused
	Message     bilingual.Text
	RedirectURI string // where the applicant's browser continues (same-device flow)
	Texts       []string
	Fields      map[string][]string
	History     *HistoryEntry
	// ReceiptErr says why the portal's receipt could not be attached (nil: attached, or none).
	ReceiptErr error
}

// portalReply is the portal's answer to the posted response.
type portalReply struct {
	RedirectURI string          `json:"redirect_uri"`
	Receipt     string          `json:"lz_receipt"`
	Error       string          `json:"error"`
	Code        credential.Code `json:"lz_code"`
}

// PresentOpenID4VP answers a plan made by PlanOpenID4VP: the chosen disclosures bound to the
// request's nonce and client id, encrypted to the request's key, posted to response_uri. The
// access is recorded in the history (also when the portal refuses it: the data was sent), with
// the portal's signed receipt when it returns one.
func (w *Wallet) PresentOpenID4VP(ctx context.Context, p *Plan, o *PresentOptions) (*OnlineResult, error) {
	if p.Online == nil {
		return nil, errors.New("wallet: not an online service's plan (use Present)")
	}
	if o == nil {
		o = &PresentOptions{}
	}
	on := p.Online
	req := on.Request
	if !w.now().Before(time.Unix(req.Expires, 0)) {
		return nil, refuse(credential.CodeBadRequest, "网上服务的请求已过期，请在网页上重新开始", "the online service's request has expired; start again on the web page")
	}
	sel, err := w.selectAndBind(p, o, req.Nonce, on.ClientID)
	if err != nil {
		return nil, err
	}
	resp := &oid4vp.Response{VPToken: map[string][]string{}, State: req.State}
	for i, t := range sel.texts {
		id := on.QueryIDs[sel.types[i]]
		resp.VPToken[id] = append(resp.VPToken[id], t)
	}
	pt, err := json.Marshal(resp)
	if err != nil {
		return nil, err
	}
	to, err := req.EncryptionKey()
	if err != nil {
		return nil, err
	}
	jwe, err := oid4vp.Encrypt(to, req.Enc(), req.Nonce, pt)
	if err != nil {
		return nil, err
	}
	h := w.historyOf(p, HistoryModeOnline, sel.fields)
	h.PresentationHash, h.Nonce = oid4vp.HashPresentations(resp.Presentations()), req.Nonce
	reply, status, err := postResponse(ctx, on.opts.client(), req.ResponseURI, jwe)
	if err != nil {
		// nothing is known to have arrived: still recorded, the data may have been sent
		h.Result = HistoryNoAnswer
		_ = w.Store.AddHistory(h)
		return nil, fmt.Errorf("wallet: posting the answer: %w", err)
	}
	res := &OnlineResult{Accepted: status == http.StatusOK, RedirectURI: reply.RedirectURI, Texts: sel.texts, Fields: sel.fields, History: h}
	if !res.Accepted {
		res.Code = reply.Code
		if res.Code == "" {
			res.Code = credential.CodeMalformed
		}
		res.Message = credential.Text(res.Code)
		h.Result = historyRefusedPrefix + string(res.Code)
	}
	if err := w.Store.AddHistory(h); err != nil {
		return nil, err
	}
	if reply.Receipt != "" {
		b, err := wire.ParseReceiptBundle([]byte(reply.Receipt))
		if err == nil {
			var he *HistoryEntry
			if he, err = w.ImportReceipt(ctx, b, nil); err == nil {
				res.History = he
			}
		}
		res.ReceiptErr = err
	}
	return res, nil
}

func postResponse(ctx context.Context, hc *http.Client, u, jwe string) (*portalReply, int, error) {
	form := url.Values{"response": {jwe}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxHTTPBody+1))
	if err != nil || len(b) > maxHTTPBody {
		return nil, 0, fmt.Errorf("portal answer unreadable or too large")
	}
	var r portalReply
	if len(strings.TrimSpace(string(b))) > 0 {
		if err := strictjson.Decode(b, &r); err != nil {
			return nil, 0, fmt.Errorf("portal answer: %w", err)
		}
	}
	return &r, resp.StatusCode, nil
}
