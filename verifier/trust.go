package verifier

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"lianzheng/credential"
	"lianzheng/credential/sdjwtcbor"
	"lianzheng/credential/wire"
	"lianzheng/did"
	"lianzheng/ledger"
	"lianzheng/ledgerclient"
)

// Trust supplies verified ledger state. Online (NewOnlineTrust: a proof-checking
// ledgerclient.Client behind a warm cache) or offline (NewSnapshotTrust: a verified trust
// snapshot file). Current never returns unverified data.
type Trust interface {
	Current(ctx context.Context) (*View, error)
}

// View is verified ledger state at one height, indexed for the window: the catalogue, the
// members, the windows, and caches of DID histories and status lists. Safe for concurrent use.
type View struct {
	Source string // "online" or "snapshot"
	Height int64
	Time   time.Time // time of the signed header proving the state

	tv      ledgerclient.TrustView
	types   []ledger.CredentialType
	byVCT   map[string]*ledger.CredentialType
	members map[string]*ledger.Member
	windows map[string]*ledger.Window
	base    string           // the consortium's public base URL (ledger params), "" if none
	lists   map[string][]int // member → its status lists a credential may name (listNumbers)
	known   []string
	knownIx *sdjwtcbor.KnownIndex // known, hashed and sorted once for every response decoded in this view

	// recs are the agreements on this ledger (proven; online only), fed the foreign trust
	// sources they are read through (federation.go); nil offline.
	recs []ledger.Recognition
	fed  *Federation

	mu         sync.Mutex
	fedKnown   []string // known plus the strings of the regions in force (federatedKnown)
	fedKnownIx *sdjwtcbor.KnownIndex
	fedKnownOf []*View // the regional states fedKnown was built from
	res        map[string]*did.Resolution
	status     map[string][]byte
	keys       map[keyAt]crypto.PublicKey // assertion keys found (did.AssertionKeyAt), see assertionKeyAt
}

type keyAt struct {
	kid string
	at  int64 // Unix nanoseconds
}

// maxKeyCache bounds the assertion-key cache of one view (it is cleared when full).
const maxKeyCache = 4096

// assertionKeyAt is did.AssertionKeyAt against this view, remembered: the view's DID
// histories do not change, so neither does the key a DID URL names at a given time. Only
// keys found are remembered; a failure is looked up (and fails) again every time.
func (v *View) assertionKeyAt(ctx context.Context, kid string, at time.Time) (crypto.PublicKey, error) {
	ka := keyAt{kid, at.UnixNano()}
	v.mu.Lock()
	k, ok := v.keys[ka]
	v.mu.Unlock()
	if ok {
		return k, nil
	}
	pk, err := did.AssertionKeyAt(ctx, v, kid, at)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	if v.keys == nil || len(v.keys) >= maxKeyCache {
		v.keys = map[keyAt]crypto.PublicKey{}
	}
	v.keys[ka] = pk.Key
	v.mu.Unlock()
	return pk.Key, nil
}

var _ did.Resolver = (*View)(nil)

// newView indexes verified state. inUse lists, per member, the status lists with an entry
// written on the ledger (a department opens each list it issues on before its first
// credential there: issuer/lists.go); nil: none known beyond lists 0 and 1.
func newView(ctx context.Context, tv ledgerclient.TrustView, source string, types []ledger.CredentialType,
	members []ledger.Member, windows []ledger.Window, inUse map[string][]int) (*View, error) {
	v := &View{Source: source, Height: tv.Height(), Time: tv.Time(), tv: tv, types: types,
		byVCT: map[string]*ledger.CredentialType{}, members: map[string]*ledger.Member{},
		windows: map[string]*ledger.Window{}, res: map[string]*did.Resolution{}, status: map[string][]byte{}, lists: map[string][]int{}}
	for i := range types {
		v.byVCT[types[i].VCT] = &types[i]
	}
	for i := range members {
		v.members[members[i].ID] = &members[i]
	}
	for i := range windows {
		v.windows[windows[i].DID] = &windows[i]
	}
	if p, err := tv.Params(ctx); err == nil {
		v.base = p.PublicBaseURL
	}
	// The compact response's dictionary (wire.Known): every department and window DID with
	// its key ids, the departments' status lists (by every name a credential may give them:
	// ledger.StatusListNames) — lists 0 and 1, every list with an entry on the ledger and the
	// one after the highest (a list a department opened since) — every type's vct and claim
	// names. Until December 2026 only lists 0 and 1 (and, offline, the snapshot's URNs) were
	// in it: a wallet naming a credential on list 2 or more by a short reference got "unknown
	// reference" from the window.
	var parties []wire.KnownParty
	for _, m := range members {
		v.lists[m.ID] = listNumbers(inUse[m.ID])
		p := wire.KnownParty{DID: m.DID}
		for _, n := range v.lists[m.ID] {
			p.StatusLists = append(p.StatusLists, ledger.StatusListNames(v.base, m.ID, n)...)
		}
		parties = append(parties, p)
	}
	for _, w := range windows {
		parties = append(parties, wire.KnownParty{DID: w.DID})
	}
	sort.SliceStable(parties, func(i, j int) bool { return parties[i].DID < parties[j].DID })
	for i := range parties {
		if r, err := v.Resolve(ctx, parties[i].DID); err == nil && r.History != nil {
			for _, k := range r.History.Keys {
				parties[i].KeyIDs = append(parties[i].KeyIDs, parties[i].DID+"#"+k.ID)
			}
		}
	}
	kts := make([]wire.KnownType, 0, len(types))
	for _, t := range types {
		kt := wire.KnownType{VCT: t.VCT}
		for _, c := range t.Claims {
			kt.Claims = append(kt.Claims, c.Name)
		}
		kts = append(kts, kt)
	}
	v.known = wire.Known(parties, kts)
	v.knownIx = sdjwtcbor.NewKnownIndex(v.known)
	return v, nil
}

// listNumbers are the status lists a member's credentials may name, given those in use: 0,
// 1, every one in use, and the one after the highest (sorted, once each).
func listNumbers(inUse []int) []int {
	out := []int{0, 1}
	top := 0
	for _, n := range inUse {
		if n >= 0 && n < ledger.MaxStatusLists {
			out = append(out, n)
			top = max(top, n)
		}
	}
	if top+1 < ledger.MaxStatusLists {
		out = append(out, top+1)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// StatusLists are the status lists of member the view's dictionary names (listNumbers).
func (v *View) StatusLists(member string) []int { return slices.Clone(v.lists[member]) }

// listsInUse reads, per member, the status lists with an entry on the ledger from the node's
// key listing. The listing is not proven (ledgerclient.StateView.KeyHints): it only feeds the
// compact response's dictionary, where a wrong entry can make a response fail to decode but
// never makes anything verify. A member whose listing fails keeps lists 0 and 1.
func listsInUse(ctx context.Context, sv *ledgerclient.StateView, members []ledger.Member) map[string][]int {
	out := map[string][]int{}
	for _, m := range members {
		keys, err := sv.KeyHints(ctx, ledger.PrefixStatus+m.ID+"/")
		if err != nil {
			continue
		}
		for _, k := range keys {
			rest := strings.TrimPrefix(k, ledger.PrefixStatus+m.ID+"/")
			if n, err := strconv.Atoi(rest[:max(strings.IndexByte(rest, '/'), 0)]); err == nil {
				out[m.ID] = append(out[m.ID], n)
			}
		}
	}
	return out
}

// snapshotLists are the status lists a snapshot holds entries of, per member.
func snapshotLists(uris []string) map[string][]int {
	out := map[string][]int{}
	for _, u := range uris {
		if m, n, ok := ledger.ParseStatusListURI(u); ok {
			out[m] = append(out[m], n)
		}
	}
	return out
}

// Known returns the strings the compact response may reference (see docs/wire-formats.md).
// A wallet must use the same list (KnownStrings) so that references resolve.
func (v *View) Known() []string { return slices.Clone(v.known) }

// Age of the view at now.
func (v *View) Age(now time.Time) time.Duration {
	if a := now.Sub(v.Time); a > 0 {
		return a
	}
	return 0
}

// Resolve implements did.Resolver with a cache (histories do not change within one view).
func (v *View) Resolve(ctx context.Context, d string) (*did.Resolution, error) {
	v.mu.Lock()
	r, ok := v.res[d]
	v.mu.Unlock()
	if ok {
		return r, nil
	}
	r, err := v.tv.Resolve(ctx, d)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	v.res[d] = r
	v.mu.Unlock()
	return r, nil
}

// TypeByVCT returns the catalogue type with that vct.
func (v *View) TypeByVCT(vct string) (*ledger.CredentialType, bool) {
	t, ok := v.byVCT[vct]
	return t, ok
}

// Type returns a catalogue type by id.
func (v *View) Type(id string) (*ledger.CredentialType, bool) {
	for i := range v.types {
		if v.types[i].ID == id {
			return &v.types[i], true
		}
	}
	return nil, false
}

// Member returns a consortium member by id.
func (v *View) Member(id string) (*ledger.Member, bool) {
	m, ok := v.members[id]
	return m, ok
}

// Window returns a registered window.
func (v *View) Window(d string) (*ledger.Window, bool) {
	w, ok := v.windows[d]
	return w, ok
}

// StatusList returns a member's status list (cached).
func (v *View) StatusList(ctx context.Context, member string, list int) ([]byte, error) {
	k := ledger.StatusListURI(member, list)
	v.mu.Lock()
	b, ok := v.status[k]
	v.mu.Unlock()
	if ok {
		return b, nil
	}
	b, err := v.tv.StatusList(ctx, member, list)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	v.status[k] = b
	v.mu.Unlock()
	return b, nil
}

// OnlineTrust reads the ledger through a proof-checking client and keeps a warm cache: the
// verified view is reused for TTL (default 30 s), then refreshed. With a Federation (as
// NewOnlineTrust makes it), every refresh also reads the ledger's mutual-recognition
// agreements, and credentials of the regions they recognise are verified against those
// regions' ledgers (federation.go).
type OnlineTrust struct {
	Client     *ledgerclient.Client
	TTL        time.Duration
	Now        func() time.Time
	Federation *Federation

	mu      sync.Mutex
	cur     *View
	fetched time.Time
}

// NewOnlineTrust wraps a client.
func NewOnlineTrust(c *ledgerclient.Client, ttl time.Duration) *OnlineTrust {
	return &OnlineTrust{Client: c, TTL: ttl, Federation: &Federation{TTL: ttl}}
}

// Invalidate drops the cache (e.g. after the window learns of a status change).
func (o *OnlineTrust) Invalidate() {
	o.mu.Lock()
	o.cur = nil
	o.mu.Unlock()
}

// Current returns the cached view, refreshing it when older than TTL.
func (o *OnlineTrust) Current(ctx context.Context) (*View, error) {
	now := time.Now()
	if o.Now != nil {
		now = o.Now()
	}
	ttl := o.TTL
	if ttl == 0 {
		ttl = 30 * time.Second
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cur != nil && now.Sub(o.fetched) < ttl {
		return o.cur, nil
	}
	sv, err := o.Client.View(ctx)
	if err != nil {
		return nil, credential.Errorf(credential.CodeTrustUnavailable, "ledger view: %w", err)
	}
	ts, err := sv.Types(ctx)
	if err != nil {
		return nil, credential.Errorf(credential.CodeTrustUnavailable, "catalogue: %w", err)
	}
	ms, err := sv.Members(ctx)
	if err != nil {
		return nil, credential.Errorf(credential.CodeTrustUnavailable, "members: %w", err)
	}
	ws, err := sv.Windows(ctx)
	if err != nil {
		return nil, credential.Errorf(credential.CodeTrustUnavailable, "windows: %w", err)
	}
	var recs []ledger.Recognition
	if o.Federation != nil {
		if recs, err = sv.Recognitions(ctx); err != nil {
			return nil, credential.Errorf(credential.CodeTrustUnavailable, "agreements: %w", err)
		}
		sort.Slice(recs, func(i, j int) bool { return recs[i].Region < recs[j].Region })
	}
	v, err := newView(ctx, sv, "online", ts, ms, ws, listsInUse(ctx, sv, ms))
	if err != nil {
		return nil, err
	}
	if o.Federation != nil {
		o.Federation.sync(recs)
		v.recs, v.fed = recs, o.Federation
	}
	o.cur, o.fetched = v, now
	return v, nil
}

// SnapshotTrust serves a verified trust snapshot (offline window).
type SnapshotTrust struct {
	Snapshot *ledgerclient.Snapshot
	view     *View
}

// NewSnapshotTrust indexes a verified snapshot.
func NewSnapshotTrust(s *ledgerclient.Snapshot) (*SnapshotTrust, error) {
	v, err := newView(context.Background(), s, "snapshot", s.Types(), s.Members(), s.Windows(), snapshotLists(s.StatusLists()))
	if err != nil {
		return nil, err
	}
	// The agreements the snapshot proves: the regions an offline window may recognise, each
	// with no state until its own snapshot is added (AddForeign, LoadForeign).
	if recs := s.Recognitions(); len(recs) > 0 {
		v.recs, v.fed = recs, &Federation{}
		for _, r := range recs {
			v.fed.setStatic(r, nil, credential.Errorf(credential.CodeForeignStale, "no snapshot of region %s loaded", r.Region))
		}
	}
	return &SnapshotTrust{Snapshot: s, view: v}, nil
}

// ForeignSnapshotFile is where a window keeps its snapshot of a recognised region, beside
// its own snapshot file (path).
func ForeignSnapshotFile(path, region string) string { return path + ".region-" + region }

// AddForeign gives the offline window region's state from that region's snapshot data,
// verified against the agreement this snapshot proves (ledgerclient.VerifyForeignSnapshot):
// an agreement not in force (agreement_inactive), data that does not verify against it
// (foreign_untrusted) or older than it allows (foreign_stale) leaves the region's credentials
// refused with that code, and is returned.
func (s *SnapshotTrust) AddForeign(ctx context.Context, region string, data []byte, now time.Time) error {
	rec, err := s.Snapshot.Recognition(region)
	if err != nil || s.view.fed == nil {
		return credential.Errorf(credential.CodeAgreementInactive, "the snapshot holds no agreement with region %s", region)
	}
	fs, err := ledgerclient.VerifyForeignSnapshot(rec, data, now)
	if err != nil {
		code := credential.CodeForeignUntrusted
		switch {
		case errors.Is(err, ledgerclient.ErrForeignStale):
			code = credential.CodeForeignStale
		case errors.Is(err, ledgerclient.ErrAgreementInactive):
			code = credential.CodeAgreementInactive
		}
		cerr := credential.Errorf(code, "region %s: %w", region, err)
		s.view.fed.setStatic(*rec, nil, cerr)
		return cerr
	}
	fv, err := newView(ctx, fs, "snapshot:region-"+region, fs.Types(), fs.Members(), nil, snapshotLists(fs.StatusLists()))
	if err != nil {
		return err
	}
	s.view.fed.setStatic(*rec, fv, nil)
	return nil
}

// LoadForeign reads the snapshot of every region the window's snapshot (at path) recognises
// from ForeignSnapshotFile(path, region). A missing or failing file leaves that region's
// credentials refused with its code (foreign_stale when missing); the errors are returned
// joined, the window works on.
func (s *SnapshotTrust) LoadForeign(ctx context.Context, path string, now time.Time) error {
	var errs []error
	for _, r := range s.Snapshot.Recognitions() {
		b, err := os.ReadFile(ForeignSnapshotFile(path, r.Region))
		if err != nil {
			errs = append(errs, fmt.Errorf("region %s: %w", r.Region, err))
			continue
		}
		if err := s.AddForeign(ctx, r.Region, b, now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Current returns the snapshot's view (its age is checked by the verifier on every use).
func (s *SnapshotTrust) Current(context.Context) (*View, error) { return s.view, nil }

// LoadSnapshot verifies a snapshot file against the trust root and returns it as Trust.
// A forged or corrupt file is a credential.Error with CodeForgedSnapshot; one older than
// maxAge (if > 0) CodeStaleSnapshot — the window fails closed either way.
func LoadSnapshot(path string, root ledgerclient.TrustRoot, now time.Time, maxAge time.Duration) (*SnapshotTrust, error) {
	s, err := ledgerclient.VerifySnapshotFile(path, root, now, maxAge)
	switch {
	case errors.Is(err, ledgerclient.ErrSnapshotStale):
		return nil, credential.Errorf(credential.CodeStaleSnapshot, "%w", err)
	case errors.Is(err, ledgerclient.ErrSnapshotForged):
		return nil, credential.Errorf(credential.CodeForgedSnapshot, "%w", err)
	case err != nil:
		return nil, credential.Errorf(credential.CodeTrustUnavailable, "%w", err)
	}
	return NewSnapshotTrust(s)
}

// KnownStrings returns the compact-response dictionary of a trust view, for wallets.
func KnownStrings(ctx context.Context, t Trust) ([]string, error) {
	v, err := t.Current(ctx)
	if err != nil {
		return nil, err
	}
	return v.Known(), nil
}

func errCode(err error, def credential.Code) credential.Code {
	if c := credential.CodeOf(err); c != "" {
		return c
	}
	return def
}
