package verifier

// Cross-region recognition (跨区域互认, docs/federation.md): a window of region A verifies a
// credential issued in region B, another consortium A recognises by an agreement on A's
// ledger (ledger.Recognition, recorded by A's governance), exactly as strictly as its own.
//
// Routing. did:lz member ids are unique across federated regions. A credential whose issuer
// is one of A's members is judged as A's, whatever any other region holds. An issuer that is
// not is looked up among the regions A's verified view recognises (its agreements read with
// proofs from A's ledger, in region id order): the first region whose verified state has
// that member is the issuing region. No region claims it: the issuer is unknown, as before.
//
// Foreign trust. For each region, a Federation keeps a ledgerclient.Client rooted in the
// agreement (ledgerclient.RecognitionRoot: B's chain id and genesis validators) reading B
// through one of the agreement's nodes (ledgerclient.NewHTTPRPC), behind a warm cache like
// OnlineTrust's: B's verified state (a *View of B, indexed the same way as A's) is reused for
// TTL, then refreshed. B's validator-set changes are followed by the light-client rules;
// every value read from B (the issuer's DID history, B's catalogue, B's status lists) is
// proven against a verified B header.
//
// Failure. A refresh that fails because B cannot be reached keeps the last verified B state,
// whose age (its header's time) the verdict shows; past the agreement's MaxAgeSeconds that
// region's credentials are refused (foreign_stale). A refresh whose answers do not verify —
// a forged header, a validator set that does not follow from the root, another chain id, a
// bad proof — refuses the region's credentials (foreign_untrusted) until a refresh verifies
// again; the agreement's other nodes are tried first. An agreement outside its validity, or
// one withdrawn while this window served its region, refuses them too (agreement_inactive).
//
// Policy. The credential's vct names B's type in B's catalogue; the agreement must list that
// type (RecognisedType), the window's service item must be one of its ServiceItems and that
// item's registration must ask for its AcceptedAs type (else foreign_not_recognised). B's
// member must be listed among B's issuers of the type, the status entry is read from B's
// list; B's claim names are mapped to A's (Claims) before the requested-field and
// over-disclosure checks, and the verdict speaks A's field names and labels, names the
// region and the department, and says 跨区域互认.
//
// Threats: a node of B lying (every answer is verified; at worst it withholds, which ends in
// foreign_stale), a region claiming A's member ids (A's members are routed home first), a
// withdrawn agreement (A's ledger is read with proofs on every refresh of A's view).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"lianzheng/credential"
	"lianzheng/credential/sdjwtcbor"
	"lianzheng/credential/sdjwtvc"
	"lianzheng/internal/bilingual"
	"lianzheng/ledger"
	"lianzheng/ledgerclient"
)

// RegionInfo names the region a credential recognised across regions was issued in, and the
// state of that region's ledger it was judged against.
type RegionInfo struct {
	ID         string         `json:"id"`         // the agreement's region id
	Name       bilingual.Text `json:"name"`       // the agreement's name of the region
	Department bilingual.Text `json:"department"` // the issuing member's name on the region's ledger
	Type       string         `json:"type,omitempty"`
	ChainID    string         `json:"chain_id"`
	Height     int64          `json:"height,omitempty"`
	Time       time.Time      `json:"time,omitzero"`
	Age        time.Duration  `json:"age_ns,omitempty"`
	MaxAge     time.Duration  `json:"max_age_ns"`
}

// Federation keeps one foreign trust source per region recognised on the ledger. The zero
// value is ready (the defaults below); OnlineTrust makes one. Safe for concurrent use.
type Federation struct {
	// TTL: a region's verified state is reused this long before it is refreshed; a failed
	// refresh is retried after TTL too. Default 30 s.
	TTL time.Duration
	// Timeout bounds one refresh of one region (trying its nodes in turn). Default 10 s.
	Timeout time.Duration
	// HTTP configures the connections to the regions' nodes (default ledgerclient's).
	HTTP ledgerclient.HTTPOptions
	// Client tunes the regions' light clients.
	Client ledgerclient.Config
	// Now is the refresh clock (default time.Now); ages are judged at the verdict's time.
	Now func() time.Time

	mu      sync.Mutex
	regions map[string]*foreignTrust
}

// foreignTrust is one region's light client and its last verified state.
type foreignTrust struct {
	refreshing sync.Mutex // serialises refreshes (held during network I/O)
	mu         sync.Mutex // guards the fields below (never held during I/O)
	rec        ledger.Recognition
	key        string      // the chain part and nodes of rec (a change makes a new link)
	link       *regionLink // the light clients of rec's nodes
	cur        *View
	fetched    time.Time // last refresh attempt
	err        error     // the last refresh's failure (nil: it verified)
	withdrawn  bool      // not in the latest agreements read
	static     bool      // cur (or err) came from a snapshot file (offline): never refreshed
}

// regionLink is the light clients of one agreement's chain part and nodes (one per node,
// made when first used). Used only under foreignTrust.refreshing.
type regionLink struct {
	rec     ledger.Recognition
	clients []*ledgerclient.Client
	next    int // node to try first
}

func (f *Federation) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// sync records the agreements of the latest verified view: regions no longer listed are
// marked withdrawn (their last state is kept only to say so), changed records replace the
// old ones (a changed chain part or node list rebuilds the light clients).
func (f *Federation) sync(recs []ledger.Recognition) {
	// The regions' own locks are taken after f.mu is released: a region being refreshed
	// (up to Timeout) must not hold up the others.
	f.mu.Lock()
	if f.regions == nil {
		f.regions = map[string]*foreignTrust{}
	}
	listed := map[string]ledger.Recognition{}
	for _, r := range recs {
		listed[r.Region] = r
		if _, ok := f.regions[r.Region]; !ok {
			f.regions[r.Region] = &foreignTrust{}
		}
	}
	all := make(map[string]*foreignTrust, len(f.regions))
	for id, ft := range f.regions {
		all[id] = ft
	}
	f.mu.Unlock()
	for id, ft := range all {
		if r, ok := listed[id]; ok {
			ft.set(r)
			continue
		}
		ft.mu.Lock()
		ft.withdrawn = true
		ft.mu.Unlock()
	}
}

func chainKey(r *ledger.Recognition) string {
	b, _ := json.Marshal([]any{r.ChainID, r.GenesisSHA256, r.InitialHeight, r.Validators, r.Nodes})
	return string(b)
}

func (ft *foreignTrust) set(r ledger.Recognition) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.withdrawn = false
	if k := chainKey(&r); k != ft.key {
		ft.key, ft.cur, ft.err, ft.fetched = k, nil, nil, time.Time{}
		ft.link = &regionLink{rec: r, clients: make([]*ledgerclient.Client, len(r.Nodes))}
	}
	ft.rec = r
}

func (f *Federation) region(id string) *foreignTrust {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.regions[id]
}

// setStatic gives region r a fixed state read from a snapshot file (v), or the reason it has
// none (err): an offline window's foreign trust.
func (f *Federation) setStatic(r ledger.Recognition, v *View, err error) {
	f.mu.Lock()
	if f.regions == nil {
		f.regions = map[string]*foreignTrust{}
	}
	ft := f.regions[r.Region]
	if ft == nil {
		ft = &foreignTrust{}
		f.regions[r.Region] = ft
	}
	f.mu.Unlock()
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.rec, ft.key, ft.cur, ft.err, ft.static, ft.withdrawn = r, chainKey(&r), v, err, true, false
}

// withdrawnRegions lists the regions marked withdrawn, in id order.
func (f *Federation) withdrawnRegions() []*foreignTrust {
	f.mu.Lock()
	ids := make([]string, 0, len(f.regions))
	for id := range f.regions {
		ids = append(ids, id)
	}
	f.mu.Unlock()
	sort.Strings(ids)
	var out []*foreignTrust
	for _, id := range ids {
		ft := f.region(id)
		ft.mu.Lock()
		w := ft.withdrawn
		ft.mu.Unlock()
		if w {
			out = append(out, ft)
		}
	}
	return out
}

// current returns the region's last verified state (refreshed when older than TTL) and the
// failure of the last refresh, if it failed. A withdrawn region is not refreshed.
func (f *Federation) current(ctx context.Context, ft *foreignTrust) (*View, ledger.Recognition, error) {
	ttl := f.TTL
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	now := f.now()
	ft.mu.Lock()
	done := ft.withdrawn || ft.static || (!ft.fetched.IsZero() && now.Sub(ft.fetched) < ttl)
	cur, rec, ferr := ft.cur, ft.rec, ft.err
	ft.mu.Unlock()
	if done {
		return cur, rec, ferr
	}
	ft.refreshing.Lock()
	defer ft.refreshing.Unlock()
	ft.mu.Lock()
	if ft.withdrawn || (!ft.fetched.IsZero() && now.Sub(ft.fetched) < ttl) { // refreshed meanwhile
		defer ft.mu.Unlock()
		return ft.cur, ft.rec, ft.err
	}
	ft.fetched = now
	link := ft.link
	ft.mu.Unlock()
	v, err := f.refresh(ctx, link)
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if ft.link == link { // else the agreement changed meanwhile: this result is void
		if err != nil {
			ft.err = err
		} else {
			ft.cur, ft.err = v, nil
		}
	}
	return ft.cur, ft.rec, ft.err
}

// errUnreachable marks a refresh that reached no node of the region.
var errUnreachable = errors.New("verifier: no node of the region answered")

// refresh reads the region's latest verified state through its nodes, starting with the
// one that answered last. A verification failure of any node is the result unless another
// node's answer verifies.
func (f *Federation) refresh(ctx context.Context, ft *regionLink) (*View, error) {
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var untrusted, unreachable error
	for i := range ft.clients {
		n := (ft.next + i) % len(ft.clients)
		v, err := f.read(ctx, ft, n)
		if err == nil {
			ft.next = n
			return v, nil
		}
		if errors.Is(err, ledgerclient.ErrUnverified) {
			if untrusted == nil {
				untrusted = err
			}
		} else if unreachable == nil {
			unreachable = err
		}
	}
	if untrusted != nil {
		return nil, credential.Errorf(credential.CodeForeignUntrusted, "region %s: %w", ft.rec.Region, untrusted)
	}
	return nil, fmt.Errorf("%w: region %s: %w", errUnreachable, ft.rec.Region, unreachable)
}

// read verifies the region's latest state through node n.
func (f *Federation) read(ctx context.Context, ft *regionLink, n int) (*View, error) {
	c := ft.clients[n]
	if c == nil {
		var err error
		c, err = ledgerclient.ForeignAt(&ft.rec, n, f.Client, func(node string) (ledgerclient.RPC, error) {
			return ledgerclient.NewHTTPRPC(node, f.HTTP)
		})
		if err != nil {
			return nil, err
		}
		ft.clients[n] = c
	}
	sv, err := c.View(ctx)
	if err != nil {
		return nil, err
	}
	ts, err := sv.Types(ctx)
	if err != nil {
		return nil, err
	}
	ms, err := sv.Members(ctx)
	if err != nil {
		return nil, err
	}
	v, err := newView(ctx, sv, "region:"+ft.rec.Region, ts, ms, nil, listsInUse(ctx, sv, ms))
	if err != nil {
		return nil, err
	}
	return v, nil
}

// foreignHit is the region an issuer belongs to, with the state it is judged against.
type foreignHit struct {
	rec    ledger.Recognition
	view   *View
	member *ledger.Member
	info   *RegionInfo
}

func regionInfo(rec *ledger.Recognition, fv *View, m *ledger.Member, now time.Time) *RegionInfo {
	ri := &RegionInfo{ID: rec.Region, Name: bilingual.Text(rec.Name), ChainID: rec.ChainID, MaxAge: rec.MaxAge()}
	if fv != nil {
		ri.Height, ri.Time, ri.Age = fv.Height, fv.Time, fv.Age(now)
	}
	if m != nil {
		ri.Department = bilingual.Text(m.Name)
	}
	return ri
}

// foreignIssuer routes a member id that is not one of ours to the region it belongs to
// (package comment: Routing). It returns nil, nil when no region claims it. An error
// carries the region's reason (foreign_stale, foreign_untrusted, agreement_inactive) and,
// when known, the hit, so that the verdict can name the region.
func (v *View) foreignIssuer(ctx context.Context, member string, now time.Time) (*foreignHit, error) {
	if v.fed == nil {
		return nil, nil
	}
	var first error
	var firstHit *foreignHit
	for i := range v.recs {
		ft := v.fed.region(v.recs[i].Region)
		if ft == nil {
			continue
		}
		fv, rec, err := v.fed.current(ctx, ft)
		var m *ledger.Member
		if fv != nil {
			m, _ = fv.Member(member)
		}
		hit := &foreignHit{rec: rec, view: fv, member: m, info: regionInfo(&rec, fv, m, now)}
		switch {
		case m == nil:
			if err != nil && first == nil { // the issuer may be this region's: say why it cannot be read
				first, firstHit = err, hit
			}
			continue
		case !rec.InForce(now):
			return hit, credential.Errorf(credential.CodeAgreementInactive, "agreement with region %s in force %s to %s", rec.Region, rec.ValidFrom, rec.ValidUntil)
		case credential.CodeOf(err) == credential.CodeForeignUntrusted:
			return hit, err
		case fv.Age(now) > rec.MaxAge():
			return hit, credential.Errorf(credential.CodeForeignStale, "region %s state is %s old (agreement max %s): %v",
				rec.Region, fv.Age(now).Round(time.Second), rec.MaxAge(), err)
		}
		return hit, nil
	}
	for _, ft := range v.fed.withdrawnRegions() {
		ft.mu.Lock()
		fv, rec := ft.cur, ft.rec
		ft.mu.Unlock()
		if fv == nil {
			continue
		}
		if m, ok := fv.Member(member); ok {
			return &foreignHit{rec: rec, view: fv, member: m, info: regionInfo(&rec, fv, m, now)},
				credential.Errorf(credential.CodeAgreementInactive, "agreement with region %s withdrawn", rec.Region)
		}
	}
	if first != nil {
		if credential.CodeOf(first) == "" {
			first = credential.Errorf(credential.CodeForeignStale, "region %s: no verified state: %w", firstHit.rec.Region, first)
		}
		return firstHit, first
	}
	return nil, nil
}

// foreignViews are the regions in force at now with a verified state (for the compact
// response's dictionary), in region id order.
func (v *View) foreignViews(ctx context.Context, now time.Time) []*foreignHit {
	if v.fed == nil {
		return nil
	}
	var out []*foreignHit
	for i := range v.recs {
		if !v.recs[i].InForce(now) {
			continue
		}
		if ft := v.fed.region(v.recs[i].Region); ft != nil {
			if fv, rec, _ := v.fed.current(ctx, ft); fv != nil {
				out = append(out, &foreignHit{rec: rec, view: fv})
			}
		}
	}
	return out
}

// federatedKnown is the compact response's dictionary with the strings of every region in
// force (and of a withdrawn one this window still remembers) added (a wallet of region B names B's issuer, keys, lists, vct and claim names by
// reference), indexed once per set of regional states.
func (v *View) federatedKnown(ctx context.Context, now time.Time) ([]string, *sdjwtcbor.KnownIndex) {
	fvs := v.foreignViews(ctx, now)
	views := make([]*View, 0, len(fvs))
	for _, h := range fvs {
		views = append(views, h.view)
	}
	// A region whose agreement was withdrawn while this window served it: its strings still
	// decode an answer, so that the verdict can say why it is refused (agreement_inactive)
	// rather than that it cannot be read.
	if v.fed != nil {
		for _, ft := range v.fed.withdrawnRegions() {
			ft.mu.Lock()
			if ft.cur != nil {
				views = append(views, ft.cur)
			}
			ft.mu.Unlock()
		}
	}
	if len(views) == 0 {
		return nil, nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.fedKnown != nil && slices.Equal(v.fedKnownOf, views) {
		return v.fedKnown, v.fedKnownIx
	}
	seen := map[string]bool{}
	known := slices.Clone(v.known)
	for _, s := range known {
		seen[s] = true
	}
	for _, fv := range views {
		for _, s := range fv.known {
			if !seen[s] {
				seen[s] = true
				known = append(known, s)
			}
		}
	}
	v.fedKnown, v.fedKnownIx, v.fedKnownOf = known, sdjwtcbor.NewKnownIndex(known), views
	return known, v.fedKnownIx
}

// verifyForeign finishes the verification of a credential whose signature verified under
// the key of member of region hit (package comment: Policy).
func (v *Verifier) verifyForeign(ctx context.Context, cv *CredentialVerdict, vc *sdjwtvc.Verified, b *binding, view *View, hit *foreignHit,
	fail func(credential.Code, error) (*CredentialVerdict, error)) (*CredentialVerdict, error) {
	rec, fv := &hit.rec, hit.view
	cv.Issuer = vc.Issuer
	bt, ok := fv.TypeByVCT(vc.VCT)
	if !ok {
		return fail(credential.CodeUnknownType, fmt.Errorf("vct %q not in region %s's catalogue", vc.VCT, rec.Region))
	}
	cv.Region.Type = bt.ID
	rt, ok := rec.Type(bt.ID)
	if !ok {
		cv.TypeName = bilingual.Text(bt.Name)
		return fail(credential.CodeForeignNotRecognised, fmt.Errorf("region %s type %s is not in the agreement", rec.Region, bt.ID))
	}
	ours, ok := view.Type(rt.AcceptedAs)
	if !ok {
		cv.TypeName = bilingual.Text(bt.Name)
		return fail(credential.CodeForeignNotRecognised, fmt.Errorf("region %s type %s counts as %s, not in our catalogue", rec.Region, bt.ID, rt.AcceptedAs))
	}
	cv.Type, cv.TypeName = ours.ID, bilingual.Text(ours.Name)
	if b.item != "" {
		if !slices.Contains(rt.ServiceItems, b.item) {
			return fail(credential.CodeForeignNotRecognised, fmt.Errorf("region %s type %s is not accepted at service item %s", rec.Region, bt.ID, b.item))
		}
		if _, ok := registered(view, v.cfg.Window, b.item)[ours.ID]; !ok {
			return fail(credential.CodeForeignNotRecognised, fmt.Errorf("service item %s does not ask for %s", b.item, ours.ID))
		}
	}
	member := hit.member.ID
	if hit.member.DID != vc.Issuer || !slices.Contains(bt.Issuers, member) {
		return fail(credential.CodeIssuerNotAuthorised, fmt.Errorf("%s may not issue %s in region %s", vc.Issuer, bt.ID, rec.Region))
	}
	if code, err := v.checkStatus(ctx, vc, fv, member); code != "" {
		if code == credential.CodeTrustUnavailable {
			code = credential.CodeForeignStale
		}
		return fail(code, err)
	}
	// B's claim names become ours before anything is compared with the request.
	claims := make(map[string]any, len(vc.Claims))
	for k, val := range vc.Claims {
		o := rt.Ours(k)
		if _, dup := claims[o]; dup {
			return fail(credential.CodeForeignNotRecognised, fmt.Errorf("region %s claims collide on %s", rec.Region, o))
		}
		claims[o] = val
	}
	disclosed := make([]string, len(vc.Disclosed))
	for i, p := range vc.Disclosed {
		disclosed[i] = rt.Ours(strings.SplitN(p, ".", 2)[0])
	}
	return v.finishFields(cv, b, view, ours, disclosed, claims, len(bt.Disclosable), fail)
}

// foreignMessage is the verdict's words for a credential recognised across regions.
func foreignMessage(ri *RegionInfo) bilingual.Text {
	return bilingual.Text{
		Zh: "核验通过（跨区域互认：" + ri.Name.Zh + "·" + ri.Department.Zh + "）",
		En: "Valid (cross-region recognition: " + ri.Name.En + ", " + ri.Department.En + ")",
	}
}

// RegionTrust is what a window's trust bar says of one recognised region: its name, how old
// the verified data of it is and the agreement's maximum, or why there is none (Problem: the
// code its credentials are refused with now; "" when usable).
type RegionTrust struct {
	ID      string          `json:"id"`
	Name    bilingual.Text  `json:"name"`
	Known   bool            `json:"known"` // a verified state of the region is held
	Age     time.Duration   `json:"age_ns,omitempty"`
	MaxAge  time.Duration   `json:"max_age_ns"`
	Problem credential.Code `json:"problem,omitempty"`
}

// Regions reports the regions this view recognises (in force or not), in region id order,
// each as its credentials would be judged at now. Online, it may refresh a region's state
// (bounded by the Federation's Timeout).
func (v *View) Regions(ctx context.Context, now time.Time) []RegionTrust {
	if v.fed == nil {
		return nil
	}
	var out []RegionTrust
	for i := range v.recs {
		rec := v.recs[i]
		rt := RegionTrust{ID: rec.Region, Name: bilingual.Text(rec.Name), MaxAge: rec.MaxAge()}
		ft := v.fed.region(rec.Region)
		if ft == nil {
			continue
		}
		fv, _, err := v.fed.current(ctx, ft)
		if fv != nil {
			rt.Known, rt.Age = true, fv.Age(now)
		}
		switch {
		case !rec.InForce(now):
			rt.Problem = credential.CodeAgreementInactive
		case credential.CodeOf(err) == credential.CodeForeignUntrusted:
			rt.Problem = credential.CodeForeignUntrusted
		case fv == nil:
			rt.Problem = credential.CodeForeignStale
			if c := credential.CodeOf(err); c != "" {
				rt.Problem = c
			}
		case rt.Age > rt.MaxAge:
			rt.Problem = credential.CodeForeignStale
		}
		out = append(out, rt)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
