package wallet

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"lianzheng/credential"
	"lianzheng/internal/bilingual"
	"slices"
	"sort"
	"time"

	"lianzheng/credential/jws"
	"lianzheng/credential/sdjwt"
	"lianzheng/credential/sdjwtcbor"
	"lianzheng/credential/wire"
	"lianzheng/did"
	"lianzheng/ledger"
	"lianzheng/ledgerclient"
	"lianzheng/qr"
)

// Status of a held credential.
type Status string

// Statuses.
const (
	StatusValid     Status = "valid"
	StatusSuspended Status = "suspended"
	StatusRevoked   Status = "revoked"
	StatusExpired   Status = "expired"
	StatusUnknown   Status = "unknown"
)

// Label is the status in Chinese and English.
func (s Status) Label() bilingual.Text {
	switch s {
	case StatusValid:
		return bilingual.Text{Zh: "有效", En: "valid"}
	case StatusSuspended:
		return bilingual.Text{Zh: "已暂停", En: "suspended"}
	case StatusRevoked:
		return bilingual.Text{Zh: "已撤销", En: "revoked"}
	case StatusExpired:
		return bilingual.Text{Zh: "已过期", En: "expired"}
	}
	return bilingual.Text{Zh: "未知（无法查询链上状态）", En: "unknown (ledger status unavailable)"}
}

// Item is a credential as listed: its catalogue labels and current status.
type Item struct {
	Credential
	Name   bilingual.Text
	Status Status
	// Claims: every claim the credential holds, with the catalogue's labels (detail view).
	Claims []Claim
}

// Claim is a labelled claim value (personal data: shown to the holder only).
type Claim struct {
	Name  string
	Label bilingual.Text
	Value any
}

// CheckStatus returns the credential's current status: expiry first, then the issuer's
// status list on the ledger.
func (w *Wallet) CheckStatus(ctx context.Context, c *Credential) (Status, error) {
	l, err := w.ledger()
	if err != nil {
		if c.StatusURI != "" && !w.expired(c) {
			return StatusUnknown, err
		}
		l = nil
	}
	return w.checkStatus(ctx, c, func(ctx context.Context, member string, list int) ([]byte, error) {
		return l.StatusList(ctx, member, list)
	})
}

// statusFetch reads one status list (List memoises it: a thousand credentials from a few
// issuers cost a few ledger reads, not a thousand).
type statusFetch func(ctx context.Context, member string, list int) ([]byte, error)

// expired: exp has passed by the wallet's clock — at once, with no skew (the holder's own
// credential is not judged against another party's clock).
func (w *Wallet) expired(c *Credential) bool {
	return !c.Expires.IsZero() && !w.now().Before(c.Expires)
}

func (w *Wallet) checkStatus(ctx context.Context, c *Credential, fetch statusFetch) (Status, error) {
	if w.expired(c) {
		return StatusExpired, nil
	}
	if c.StatusURI == "" {
		return StatusValid, nil
	}
	member, list, ok := ledger.ParseStatusListURI(c.StatusURI)
	if !ok {
		return StatusUnknown, fmt.Errorf("wallet: status list %q is not a ledger list", c.StatusURI)
	}
	bits, err := fetch(ctx, member, list)
	if err != nil {
		return StatusUnknown, fmt.Errorf("wallet: status list: %w", err)
	}
	s, err := ledger.StatusAt(bits, c.StatusIdx)
	if err != nil {
		return StatusUnknown, fmt.Errorf("wallet: status: %w", err)
	}
	switch s {
	case ledger.StatusValid:
		return StatusValid, nil
	case ledger.StatusRevoked:
		return StatusRevoked, nil
	case ledger.StatusSuspended:
		return StatusSuspended, nil
	}
	return StatusUnknown, fmt.Errorf("wallet: status index %d out of range or undefined", c.StatusIdx)
}

// List returns every credential with labels and status (status errors leave StatusUnknown).
func (w *Wallet) List(ctx context.Context) ([]Item, error) {
	cs, err := w.Store.Credentials()
	if err != nil {
		return nil, err
	}
	type listKey struct {
		member string
		list   int
	}
	type listVal struct {
		bits []byte
		err  error
	}
	names := map[string]bilingual.Text{}
	lists := map[listKey]listVal{}
	var l Ledger
	if w.Ledger != nil {
		l = pin(w.Ledger) // every status list and type of the listing from one height
	}
	fetch := func(ctx context.Context, member string, list int) ([]byte, error) {
		k := listKey{member, list}
		v, ok := lists[k]
		if !ok {
			if l == nil {
				v.err = errors.New("wallet: no ledger connection")
			} else {
				v.bits, v.err = l.StatusList(ctx, member, list)
			}
			lists[k] = v
		}
		return v.bits, v.err
	}
	out := make([]Item, 0, len(cs))
	for _, c := range cs {
		it := Item{Credential: c, Name: bilingual.Text{Zh: c.Type, En: c.Type}}
		if n, ok := names[c.Type]; ok {
			it.Name = n
		} else if l != nil {
			if t, err := l.Type(ctx, c.Type); err == nil {
				it.Name = t.Name
				names[c.Type] = it.Name
			}
		}
		it.Status, _ = w.checkStatus(ctx, &c, fetch)
		out = append(out, it)
	}
	return out, nil
}

// Detail returns one credential with its labelled claims.
func (w *Wallet) Detail(ctx context.Context, id string) (*Item, error) {
	c, err := w.Store.Credential(id)
	if err != nil {
		return nil, err
	}
	it := &Item{Credential: *c, Name: bilingual.Text{Zh: c.Type, En: c.Type}}
	sd, err := sdjwt.Parse(c.SDJWT)
	if err != nil {
		return nil, err
	}
	claims, err := sd.Resolve()
	if err != nil {
		return nil, err
	}
	var t *ledger.CredentialType
	if w.Ledger != nil {
		t, _ = w.Ledger.Type(ctx, c.Type)
	}
	if t != nil {
		it.Name = t.Name
		for _, cl := range t.Claims {
			if v, ok := claims[cl.Name]; ok {
				it.Claims = append(it.Claims, Claim{cl.Name, cl.Label, v})
			}
		}
	} else {
		for k, v := range claims {
			if !slices.Contains([]string{"iss", "vct", "iat", "exp", "cnf", "status", "nbf"}, k) {
				it.Claims = append(it.Claims, Claim{k, bilingual.Text{Zh: k, En: k}, v})
			}
		}
		sort.Slice(it.Claims, func(i, j int) bool { return it.Claims[i].Name < it.Claims[j].Name })
	}
	it.Status, _ = w.CheckStatus(ctx, c)
	return it, nil
}

// Ask is what a verified request asks of one credential type, after the registration check.
type Ask struct {
	Type      string
	TypeName  bilingual.Text
	Requested []string // what the window asked
	Allowed   []string // asked and registered: what may be disclosed
	Refused   []string // asked but not registered for the service item: never disclosed
	Labels    map[string]bilingual.Text
	// Candidates: held credentials of this type, presentable ones first; Chosen is the
	// default pick (a valid one, one holding every required field if there is such), "" if
	// none.
	Candidates []Item
	Chosen     string
	// Lacks: per candidate credential id, the allowed fields it does not hold (an optional
	// claim its department left empty is not in the credential at all); they are never
	// presented. Missing is Lacks of Chosen, in request order; MissingRequired those of them
	// the service item's registration requires — the window will refuse the answer
	// (field_missing), so the consent screen says so before the citizen presents.
	Lacks           map[string][]string
	Missing         []string
	MissingRequired []string
	// Rename maps the window's claim names to the credential's where another region's
	// agreement says they differ (a window of another region; nil at home).
	Rename map[string]string
}

// claimNames are the credential's names of the window's fields.
func (a *Ask) claimNames(fields []string) []string {
	if len(a.Rename) == 0 {
		return fields
	}
	out := make([]string, len(fields))
	for i, f := range fields {
		if t, ok := a.Rename[f]; ok {
			f = t
		}
		out[i] = f
	}
	return out
}

// windowNames are the window's names of the credential's claims.
func (a *Ask) windowNames(claims []string) []string {
	if len(a.Rename) == 0 {
		return claims
	}
	back := map[string]string{}
	for ours, theirs := range a.Rename {
		back[theirs] = ours
	}
	out := make([]string, len(claims))
	for i, c := range claims {
		if o, ok := back[c]; ok {
			c = o
		}
		out[i] = c
	}
	return out
}

// Plan is a verified request with what the wallet proposes to present.
type Plan struct {
	Request    *wire.Request
	Window     *ledger.Window
	Item       *ledger.ServiceItem
	WindowName bilingual.Text
	ItemName   bilingual.Text
	Purpose    bilingual.Text
	// Department is the window's department (its member id); DepartmentName its name on the
	// ledger's member record (the id in both languages when the ledger has none).
	Department     string
	DepartmentName bilingual.Text
	Asks           []Ask
	// OverAsk is true when the window asked for fields beyond its registration.
	OverAsk bool
	Warning bilingual.Text
	// Online is the OpenID4VP request of an online service (nil for a window's QR request):
	// Present answers it with PresentOpenID4VP.
	Online *OnlineRequest
	// Region is the home ledger's agreement about the window's region when the window is
	// another region's (跨区域互认: region.go); nil at home.
	Region *ledger.Recognition
}

// ParseRequestQR decodes a scanned request QR text to its signed body (no checks).
func ParseRequestQR(text string) ([]byte, error) {
	prefix, body, err := qr.Decode(text, wire.MaxRequestBody)
	if err != nil {
		return nil, refuseCause(credential.CodeBadRequest, "无法读取请求二维码", "cannot read the request QR", err)
	}
	if prefix != wire.PrefixRequest {
		return nil, refuseCause(credential.CodeBadRequest, "这不是窗口的请求二维码", "not a window request QR", fmt.Errorf("prefix %s", prefix))
	}
	if _, _, _, err := wire.Parse(body); err != nil {
		return nil, refuseCause(credential.CodeBadRequest, "请求二维码格式错误", "malformed request QR", err)
	}
	return body, nil
}

// ParseRequestPNG reads a request QR image.
func ParseRequestPNG(png []byte) (string, error) {
	text, err := qr.DecodePNG(png)
	if err != nil {
		return "", refuseCause(credential.CodeBadRequest, "无法识别二维码图片", "cannot read the QR image", err)
	}
	return text, nil
}

// PlanRequest verifies a scanned request (signature by the window key valid at its iat on
// the ledger, validity, window registered, service item registered), computes per type
// what may be disclosed (requested ∩ registered; the rest is refused with a warning) and
// picks presentable credentials.
func (w *Wallet) PlanRequest(ctx context.Context, text string) (*Plan, error) {
	l, err := w.ledger()
	if err != nil {
		return nil, err
	}
	body, err := ParseRequestQR(text)
	if err != nil {
		return nil, err
	}
	var g *region // the window's region when it is not the home's (region.go)
	r, err := wire.Verify(body, func(kid string, at time.Time) (ed25519.PublicKey, error) {
		k, err := did.AssertionKeyAt(ctx, resolver(l), kid, at)
		if errors.Is(err, did.ErrNotFound) { // not a DID of the home ledger: another region's window?
			if wl, wg, werr := w.windowLedger(ctx, l, didOf(kid)); werr == nil && wg != nil {
				l, g = wl, wg
				k, err = did.AssertionKeyAt(ctx, resolver(l), kid, at)
			}
		}
		if err != nil {
			return nil, err
		}
		pk, ok := k.Key.(ed25519.PublicKey)
		if !ok {
			return nil, errors.New("not an Ed25519 key")
		}
		return pk, nil
	}, w.now(), 0)
	if err != nil {
		return nil, refuseCause(credential.CodeBadRequest, "请求二维码校验失败（签名、密钥或有效期）", "the request QR does not verify (signature, key or validity)", err)
	}
	return w.planIn(ctx, l, r, nil, g)
}

// plan checks a verified request against its registration on the ledger (the window and
// service item registered; online, for an online service's request) and computes per type
// what may be disclosed (requested ∩ registered; the rest is refused with a warning) and
// the presentable credentials. The window QR path and the OpenID4VP path share it.
func (w *Wallet) plan(ctx context.Context, l Ledger, r *wire.Request, online *OnlineRequest) (*Plan, error) {
	return w.planIn(ctx, l, r, online, nil)
}

// planIn is plan for a window of region g (nil: the home region), whose ledger is l.
func (w *Wallet) planIn(ctx context.Context, l Ledger, r *wire.Request, online *OnlineRequest, g *region) (*Plan, error) {
	l = pin(l) // the window, its department and the catalogue at one height (List pins its own: status lists are the home ledger's)
	win, err := l.Window(ctx, r.Window)
	if errors.Is(err, ledgerclient.ErrNotFound) {
		return nil, refuseCause(credential.CodeWindowUnregistered, "该窗口未在联盟链登记，请勿出示", "this window is not registered on the ledger; do not present", fmt.Errorf("window %s", r.Window))
	} else if err != nil {
		return nil, fmt.Errorf("wallet: window: %w", err)
	}
	if online != nil {
		if err := online.check(win); err != nil {
			return nil, err
		}
	}
	item, ok := win.ServiceItem(r.Item)
	if !ok {
		return nil, refuseCause(credential.CodeItemUnknown, "该窗口没有登记此事项，请勿出示", "the window has not registered this service item; do not present", fmt.Errorf("service item %s", r.Item))
	}
	deptName := bilingual.Text{Zh: win.Department, En: win.Department}
	if m, err := l.Member(ctx, win.Department); err == nil {
		deptName = m.Name
	}
	p := &Plan{Request: r, Window: win, Item: item, Department: win.Department, DepartmentName: deptName,
		WindowName: win.Name, ItemName: item.Name,
		Purpose: item.Purpose, Online: online}
	if g != nil {
		p.Region = &g.rec
	}
	if online != nil {
		if err := online.checkItem(item); err != nil {
			return nil, err
		}
	}
	over := map[string][]string{}
	for _, fr := range wire.OverAsk(r, item.Allowed()) {
		over[fr.Type] = fr.Fields
	}
	items, err := w.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, fr := range r.Requests {
		a := Ask{Type: fr.Type, TypeName: bilingual.Text{Zh: fr.Type, En: fr.Type}, Requested: fr.Fields, Refused: over[fr.Type],
			Labels: map[string]bilingual.Text{}}
		for _, f := range fr.Fields {
			if !slices.Contains(a.Refused, f) {
				a.Allowed = append(a.Allowed, f)
			}
		}
		if t, err := l.Type(ctx, fr.Type); err == nil {
			a.TypeName = t.Name
			for _, c := range t.Claims {
				a.Labels[c.Name] = c.Label
			}
		}
		a.Lacks = map[string][]string{}
		for _, it := range items {
			ok, rn := g.accepts(it.Type, fr.Type, r.Item)
			if !ok {
				continue
			}
			if len(rn) > 0 {
				a.Rename = rn
			}
			a.Candidates = append(a.Candidates, it)
			if lacks := lacking(&it.Credential, a.claimNames(a.Allowed)); len(lacks) > 0 {
				a.Lacks[it.ID] = a.windowNames(lacks)
			}
		}
		required := func(id string) []string {
			var out []string
			for _, f := range a.Lacks[id] {
				if item.Required(fr.Type, f) {
					out = append(out, f)
				}
			}
			return out
		}
		// valid ones first; among them, those holding every field the item requires
		sort.SliceStable(a.Candidates, func(i, j int) bool {
			ci, cj := a.Candidates[i], a.Candidates[j]
			if (ci.Status == StatusValid) != (cj.Status == StatusValid) {
				return ci.Status == StatusValid
			}
			return len(required(ci.ID)) == 0 && len(required(cj.ID)) > 0
		})
		// a type none of whose requested fields is registered is not presented at all: even an
		// empty presentation would tell the window the citizen holds it (and its status index)
		if len(a.Candidates) > 0 && a.Candidates[0].Status == StatusValid && len(a.Allowed) > 0 {
			a.Chosen = a.Candidates[0].ID
			a.Missing, a.MissingRequired = a.Lacks[a.Chosen], required(a.Chosen)
		}
		p.Asks = append(p.Asks, a)
	}
	if len(over) > 0 {
		p.OverAsk = true
		var zh, en string
		for _, a := range p.Asks {
			for _, f := range a.Refused {
				lb := a.Labels[f]
				if lb.Zh == "" {
					lb = bilingual.Text{Zh: f, En: f}
				}
				zh += fmt.Sprintf("「%s·%s」", a.TypeName.Zh, lb.Zh)
				en += fmt.Sprintf(" %s/%s", a.TypeName.En, lb.En)
			}
		}
		p.Warning = bilingual.Text{
			Zh: "警告：该窗口索要的信息超出其链上登记范围，以下字段不会出示：" + zh,
			En: "Warning: this window asks for more than its ledger registration allows; these fields will not be disclosed:" + en,
		}
	}
	return p, nil
}

// PresentOptions choose what to present.
type PresentOptions struct {
	// Choose overrides the credential picked per type id (credential id). A credential
	// that is not valid is presented only with AllowInvalid.
	Choose       map[string]string
	AllowInvalid bool
	// Omit leaves out fields the citizen declines to disclose (type id → field names).
	Omit map[string][]string

	noHistory bool // benchmarks: measure the build alone
}

// Response is a built response.
type Response struct {
	QR      string              // LZ1R:… (or LZ1W:… one-way)
	Texts   []string            // the standard SD-JWT+KB texts it encodes
	Fields  map[string][]string // type id → disclosed field names
	History *HistoryEntry
}

// Present builds the LZ1R response for a plan: per type the chosen credential with exactly
// the allowed (and not omitted) disclosures and a KB-JWT bound to the request's nonce and
// the window DID, all in one QR; the presentation is recorded in the access history.
func (w *Wallet) Present(ctx context.Context, p *Plan, o *PresentOptions) (*Response, error) {
	if o == nil {
		o = &PresentOptions{}
	}
	if p.Online != nil {
		return nil, errors.New("wallet: an online service's request is answered with PresentOpenID4VP")
	}
	r := p.Request
	sel, err := w.selectAndBind(p, o, r.NonceString(), r.Audience())
	if err != nil {
		return nil, err
	}
	texts, creds, fields := sel.texts, sel.creds, sel.fields
	text, err := wire.EncodeResponse(texts, &sdjwtcbor.Context{Nonce: r.NonceString(), Audience: r.Audience(), Known: Known(creds, r.Window, w.Ledger)})
	if err != nil {
		return nil, err
	}
	h := w.historyOf(p, HistoryModeRequest, fields)
	h.PresentationHash, h.BodyHash, h.Nonce = bodyHash(text), bodyHash(text), r.NonceString()
	if !o.noHistory {
		if err := w.Store.AddHistory(h); err != nil {
			return nil, err
		}
	}
	return &Response{QR: text, Texts: texts, Fields: fields, History: h}, nil
}

// historyOf is the history record of a presentation for plan p (hashes to be filled in).
func (w *Wallet) historyOf(p *Plan, mode string, fields map[string][]string) *HistoryEntry {
	refused := map[string][]string{}
	for _, a := range p.Asks {
		if len(a.Refused) > 0 {
			refused[a.Type] = a.Refused
		}
	}
	h := &HistoryEntry{ID: newID(), Time: w.now().UTC(), Mode: mode, Window: p.Request.Window, WindowName: p.WindowName.Zh,
		Department: p.Department, Item: p.Request.Item, ItemName: p.ItemName.Zh, Purpose: p.Purpose.Zh, Fields: fields,
		Refused: refused, Result: HistoryPresented}
	if len(refused) == 0 {
		h.Refused = nil
	}
	return h
}

// selection is what a plan's answer presents: per type one credential's chosen disclosures,
// bound to the request.
type selection struct {
	texts  []string
	types  []string // type id of each text
	creds  []*Credential
	fields map[string][]string
}

// selectAndBind picks per type the chosen credential with exactly the allowed (and not
// omitted) disclosures it holds, each bound to nonce and aud by a KB-JWT.
func (w *Wallet) selectAndBind(p *Plan, o *PresentOptions, nonce, aud string) (*selection, error) {
	out := &selection{fields: map[string][]string{}}
	for _, a := range p.Asks {
		id := a.Chosen
		if c, ok := o.Choose[a.Type]; ok {
			id = c
		}
		if id == "" {
			continue
		}
		var it *Item
		for i := range a.Candidates {
			if a.Candidates[i].ID == id {
				it = &a.Candidates[i]
			}
		}
		if it == nil {
			return nil, fmt.Errorf("wallet: credential %s is not a %s held by this wallet", id, a.Type)
		}
		st := it.Status
		if w.expired(&it.Credential) { // it may have expired while the consent screen was open
			st = StatusExpired
		}
		if st != StatusValid && !o.AllowInvalid {
			return nil, refuseText(credential.CodeNothingToPresent,
				fmt.Sprintf("凭证“%s”状态为%s，默认不出示", a.TypeName.Zh, st.Label().Zh),
				fmt.Sprintf("credential %q is %s and is not presented by default", a.TypeName.En, st.Label().En))
		}
		lacks := a.windowNames(lacking(&it.Credential, a.claimNames(a.Allowed)))
		var sel []string
		for _, f := range a.Allowed { // never a refused (over-asked) field, nor one it lacks
			if !slices.Contains(o.Omit[a.Type], f) && !slices.Contains(lacks, f) {
				sel = append(sel, f)
			}
		}
		if len(sel) == 0 {
			continue // nothing registered (or left) to disclose: the credential is not shown
		}
		text, err := w.bind(&it.Credential, a.claimNames(sel), nonce, aud)
		if err != nil {
			return nil, err
		}
		out.texts = append(out.texts, text)
		out.types = append(out.types, a.Type)
		out.creds = append(out.creds, &it.Credential)
		out.fields[a.Type] = sel
	}
	if len(out.texts) == 0 {
		return nil, refuse(credential.CodeNothingToPresent, "没有可出示的有效凭证", "no valid credential to present")
	}
	return out, nil
}

// lacking returns the fields of fields that credential c does not hold (an optional claim
// left empty at issuance is not in the credential at all). A credential that does not parse
// lacks nothing here: presenting it fails with the parse error.
func lacking(c *Credential, fields []string) []string {
	sd, err := sdjwt.Parse(c.SDJWT)
	if err != nil {
		return nil
	}
	claims, err := sd.Resolve()
	if err != nil {
		return nil
	}
	var out []string
	for _, f := range fields {
		if _, ok := claims[f]; !ok {
			out = append(out, f)
		}
	}
	return out
}

// bind selects the disclosures of fields and binds the result to nonce and aud with the
// credential's holder key.
func (w *Wallet) bind(c *Credential, fields []string, nonce, aud string) (string, error) {
	sd, err := sdjwt.Parse(c.SDJWT)
	if err != nil {
		return "", err
	}
	if _, err := sd.Resolve(); err != nil {
		return "", err
	}
	sub, err := sd.Select(fields...)
	if err != nil {
		return "", err
	}
	signer, err := w.Keys.Signer(c.HolderKID)
	if err != nil {
		return "", err
	}
	return sub.Bind(signer, nonce, aud, w.now())
}

// Known is the compact form's dictionary for a response (wire.Known): the window DID and,
// per presented credential, its issuer's DID, the key id that signed it, its status-list
// URI, its vct and its type's claim names from the ledger catalogue.
func Known(creds []*Credential, window string, l Ledger) []string {
	parties := []wire.KnownParty{{DID: window}}
	var types []wire.KnownType
	for _, c := range creds {
		p := wire.KnownParty{DID: c.Issuer, StatusLists: []string{c.StatusURI}}
		if sd, err := sdjwt.Parse(c.SDJWT); err == nil {
			if j, err := jws.Parse(sd.IssuerJWT); err == nil {
				if kid, ok := j.Header["kid"].(string); ok {
					p.KeyIDs = []string{kid}
				}
			}
		}
		t := wire.KnownType{VCT: c.VCT}
		if l != nil {
			if ct, err := l.Type(context.Background(), c.Type); err == nil {
				for _, cl := range ct.Claims {
					t.Claims = append(t.Claims, cl.Name)
				}
			}
		}
		parties, types = append(parties, p), append(types, t)
	}
	return wire.Known(parties, types)
}

// PresentOneWay builds a one-way presentation (no request QR): weaker — the window did not
// choose the nonce, so it must detect replays itself; valid wire.OneWayValidity.
func (w *Wallet) PresentOneWay(ctx context.Context, picks map[string][]string) (*Response, error) {
	n := make([]byte, wire.OneWayNonceLen)
	_, _ = rand.Read(n)
	nonce := wire.NonceString(n)
	var texts []string
	var creds []*Credential
	fields := map[string][]string{}
	ids := make([]string, 0, len(picks))
	for id := range picks {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if len(picks[id]) == 0 {
			return nil, refuseText(credential.CodeNothingToPresent, "未选择要出示的字段", "no field chosen to disclose")
		}
		c, err := w.Store.Credential(id)
		if err != nil {
			return nil, err
		}
		st, err := w.CheckStatus(ctx, c)
		if st != StatusValid {
			r := refuseText(credential.CodeNothingToPresent, fmt.Sprintf("凭证状态为%s，不出示", st.Label().Zh),
				fmt.Sprintf("credential is %s; not presented", st.Label().En))
			if err != nil {
				r.Detail = err.Error()
			}
			return nil, r
		}
		text, err := w.bind(c, picks[id], nonce, wire.OneWayAudience)
		if err != nil {
			return nil, err
		}
		texts, creds = append(texts, text), append(creds, c)
		fields[c.Type] = picks[id]
	}
	if len(texts) == 0 {
		return nil, refuse(credential.CodeNothingToPresent, "未选择凭证", "no credential chosen")
	}
	inner, err := sdjwtcbor.Encode(texts, &sdjwtcbor.Context{Nonce: nonce, Audience: wire.OneWayAudience, Known: Known(creds, "", w.Ledger)})
	if err != nil {
		return nil, err
	}
	text, err := wire.EncodeOneWay(n, w.now(), inner)
	if err != nil {
		return nil, err
	}
	h := &HistoryEntry{ID: newID(), Time: w.now().UTC(), Mode: HistoryModeOneWay, Fields: fields, Result: HistoryPresentedOneWay,
		PresentationHash: bodyHash(text), BodyHash: bodyHash(text), Nonce: nonce}
	if err := w.Store.AddHistory(h); err != nil {
		return nil, err
	}
	return &Response{QR: text, Texts: texts, Fields: fields, History: h}, nil
}
