package ledgerclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"lianzheng/did"
	"lianzheng/ledger"
)

// TrustView is verified ledger state at one height: what verifiers, wallets and issuers
// decide with. The online Client (latest state) and a verified trust snapshot implement it.
// Every answer is proven; a missing object is ErrNotFound (proven absent).
type TrustView interface {
	did.Resolver
	Member(ctx context.Context, id string) (*ledger.Member, error)
	Type(ctx context.Context, id string) (*ledger.CredentialType, error)
	TypeByVCT(ctx context.Context, vct string) (*ledger.CredentialType, error)
	Window(ctx context.Context, did string) (*ledger.Window, error)
	Params(ctx context.Context) (*ledger.Params, error)
	// StatusList returns a member's whole list: ledger.StatusListSize 2-bit entries in
	// W3C bit order (entry 0 in the two most significant bits of byte 0); never-written
	// chunks are zeros.
	StatusList(ctx context.Context, member string, list int) ([]byte, error)
	// Height is the state height the answers are from (0 before the first read online).
	Height() int64
	// Time is the time of the signed header that carries that state's AppHash (H+1): the
	// state is proven current as of this ledger time.
	Time() time.Time
}

var (
	_ TrustView = (*StateView)(nil)
	_ TrustView = (*Client)(nil)
	_ TrustView = (*Snapshot)(nil)
)

// StateView is the verified state at one height, read from a node: every read is an ABCI
// query at that height with an ICS23 proof checked against the AppHash of the verified
// header Height()+1.
type StateView struct {
	c      *Client
	height int64
	lb     *lightBlock // header height+1
}

// Height is the state height.
func (v *StateView) Height() int64 { return v.height }

// Time is the time of header Height()+1.
func (v *StateView) Time() time.Time { return v.lb.SH.Time }

// AppHash is the root the view's proofs verify against.
func (v *StateView) AppHash() []byte { return v.lb.SH.AppHash }

// Proven is a value read with proof (Value nil: proven absent).
type Proven struct {
	Key    []byte
	Value  []byte
	Height int64
	Proof  []byte // ICS23 CommitmentProof (protobuf)
}

// query runs an ABCI query at the view's height and checks the response's framing.
func (v *StateView) query(ctx context.Context, path string, data []byte, prove bool) ([]byte, []byte, error) {
	r, err := v.c.rpc.ABCIQuery(ctx, path, data, v.height, prove)
	if err != nil {
		return nil, nil, fmt.Errorf("ledgerclient: query %s %q at %d: %w", path, truncate(string(data), 80), v.height, err)
	}
	if r.Code != 0 {
		return nil, nil, fmt.Errorf("ledgerclient: node refused query %s %q at %d: code %d: %s", path, truncate(string(data), 80), v.height, r.Code, truncate(r.Log, 200))
	}
	if r.Height != v.height {
		return nil, nil, fmt.Errorf("%w: query at %d answered for height %d", ErrUnverified, v.height, r.Height)
	}
	if !prove {
		return r.Value, nil, nil
	}
	proof, err := proofFromOps(r.ProofOps, data)
	if err != nil {
		return nil, nil, err
	}
	return r.Value, proof, nil
}

// Prove reads key with its proof and verifies it; a proven-absent key has Value nil.
func (v *StateView) Prove(ctx context.Context, key []byte) (*Proven, error) {
	val, proof, err := v.query(ctx, ledger.QueryKey, key, true)
	if err != nil {
		return nil, err
	}
	if err := VerifyProof(v.AppHash(), key, val, proof); err != nil {
		return nil, fmt.Errorf("state %d: %w", v.height, err)
	}
	if len(val) == 0 {
		val = nil
	}
	return &Proven{Key: key, Value: val, Height: v.height, Proof: proof}, nil
}

// Get returns the verified value of key; ErrNotFound if proven absent.
func (v *StateView) Get(ctx context.Context, key []byte) ([]byte, error) {
	p, err := v.Prove(ctx, key)
	if err != nil {
		return nil, err
	}
	if p.Value == nil {
		return nil, fmt.Errorf("%w: %q at height %d", ErrNotFound, key, v.height)
	}
	return p.Value, nil
}

// Entry is one verified key and value.
type Entry struct {
	Key   string
	Value []byte
}

// List returns every key under prefix with its value, verified and proven complete: the
// node's (unproven) key listing only tells which proofs to prefetch; a chain of absence
// proofs between consecutive keys proves what exists and that nothing was left out, so a
// node that omits or invents keys in its listing changes nothing. It costs one proof
// query per key plus one.
func (v *StateView) List(ctx context.Context, prefix string) ([]Entry, error) {
	w, _, err := v.walk(ctx, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(w.keys))
	for i := range w.keys {
		out[i] = Entry{Key: string(w.keys[i]), Value: w.values[i]}
	}
	return out, nil
}

// KeyHints lists the keys under prefix as the node reports them at the view's height (at
// most the node's MaxQueryKeys), WITHOUT proof: a node may leave keys out or invent some.
// Only for what may be wrong without harm — e.g. which status lists exist, to name them in
// a compression dictionary; anything trusted is read with Get, Prove or List.
func (v *StateView) KeyHints(ctx context.Context, prefix string) ([]string, error) {
	raw, _, err := v.query(ctx, ledger.QueryKeys, []byte(prefix), false)
	if err != nil {
		return nil, err
	}
	var keys []string
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &keys); err != nil {
			return nil, fmt.Errorf("%w: key listing of %q: %v", ErrUnverified, prefix, err)
		}
	}
	return keys, nil
}

// maxListed bounds a listing.
const maxListed = 100000

// walk proves the contents of prefix and returns the walker and the gap proofs in order.
func (v *StateView) walk(ctx context.Context, prefix string) (*rangeWalker, [][]byte, error) {
	var hint []string
	raw, _, err := v.query(ctx, ledger.QueryKeys, []byte(prefix), false)
	if err != nil {
		return nil, nil, err
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &hint); err != nil {
			return nil, nil, fmt.Errorf("%w: key listing of %q: %v", ErrUnverified, prefix, err)
		}
	}
	if len(hint) > maxListed {
		hint = hint[:maxListed]
	}
	// Prefetch the gap proofs the hint suggests, concurrently.
	probes := make([][]byte, 0, len(hint)+1)
	probes = append(probes, []byte(prefix))
	for _, k := range hint {
		if strings.HasPrefix(k, prefix) {
			probes = append(probes, successor([]byte(k)))
		}
	}
	cache := v.fetchProofs(ctx, probes)
	w := newRangeWalker(v.AppHash(), prefix)
	var gaps [][]byte
	for p := w.probe(); p != nil; p = w.probe() {
		if len(w.keys) > maxListed {
			return nil, nil, fmt.Errorf("ledgerclient: more than %d keys under %q", maxListed, prefix)
		}
		r, ok := cache[string(p)]
		if !ok { // beyond the node's listing (truncated, or the node left keys out)
			r = v.fetchProof(ctx, p)
		}
		if r.err != nil {
			return nil, nil, r.err
		}
		if len(r.value) != 0 {
			return nil, nil, fmt.Errorf("%w: probe key %q exists", ErrUnverified, p)
		}
		pr, err := decodeProof(r.proof)
		if err != nil {
			return nil, nil, err
		}
		if err := w.add(pr); err != nil {
			return nil, nil, fmt.Errorf("list %q at %d: %w", prefix, v.height, err)
		}
		gaps = append(gaps, r.proof)
	}
	return w, gaps, nil
}

type proofResult struct {
	value, proof []byte
	err          error
}

func (v *StateView) fetchProof(ctx context.Context, key []byte) proofResult {
	val, proof, err := v.query(ctx, ledger.QueryKey, key, true)
	return proofResult{value: val, proof: proof, err: err}
}

func (v *StateView) fetchProofs(ctx context.Context, keys [][]byte) map[string]proofResult {
	out := make(map[string]proofResult, len(keys))
	var mu sync.Mutex
	sem := make(chan struct{}, v.c.cfg.Concurrency)
	var wg sync.WaitGroup
	for _, k := range keys {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			r := v.fetchProof(ctx, k)
			<-sem
			mu.Lock()
			out[string(k)] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

func getJSON[T any](ctx context.Context, v *StateView, key []byte) (*T, error) {
	b, err := v.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	return decodeJSON[T](key, b)
}

func decodeJSON[T any](key, b []byte) (*T, error) {
	var x T
	if err := json.Unmarshal(b, &x); err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrBadState, key, err)
	}
	return &x, nil
}

func listJSON[T any](ctx context.Context, v *StateView, prefix string) ([]T, error) {
	es, err := v.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(es))
	for _, e := range es {
		x, err := decodeJSON[T]([]byte(e.Key), e.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, *x)
	}
	return out, nil
}

// Member returns a consortium member.
func (v *StateView) Member(ctx context.Context, id string) (*ledger.Member, error) {
	m, err := getJSON[ledger.Member](ctx, v, ledger.KeyMember(id))
	if err != nil {
		return nil, err
	}
	if m.ID != id {
		return nil, fmt.Errorf("%w: member/%s holds member %q", ErrBadState, id, truncate(m.ID, 60))
	}
	return m, nil
}

// Members lists all members (proven complete).
func (v *StateView) Members(ctx context.Context) ([]ledger.Member, error) {
	return listJSON[ledger.Member](ctx, v, ledger.PrefixMember)
}

// Type returns a credential type by id.
func (v *StateView) Type(ctx context.Context, id string) (*ledger.CredentialType, error) {
	t, err := getJSON[ledger.CredentialType](ctx, v, ledger.KeyType(id))
	if err != nil {
		return nil, err
	}
	if t.ID != id {
		return nil, fmt.Errorf("%w: type/%s holds type %q", ErrBadState, id, truncate(t.ID, 60))
	}
	return t, nil
}

// Types lists the catalogue (proven complete).
func (v *StateView) Types(ctx context.Context) ([]ledger.CredentialType, error) {
	return listJSON[ledger.CredentialType](ctx, v, ledger.PrefixType)
}

// TypeByVCT finds the credential type with the given vct in the (proven complete) catalogue.
func (v *StateView) TypeByVCT(ctx context.Context, vct string) (*ledger.CredentialType, error) {
	ts, err := v.Types(ctx)
	if err != nil {
		return nil, err
	}
	return findVCT(ts, vct, v.height)
}

func findVCT(ts []ledger.CredentialType, vct string, h int64) (*ledger.CredentialType, error) {
	for i := range ts {
		if ts[i].VCT == vct {
			return &ts[i], nil
		}
	}
	return nil, fmt.Errorf("%w: credential type with vct %q at height %d", ErrNotFound, truncate(vct, 100), h)
}

// Window returns a registered window by DID.
func (v *StateView) Window(ctx context.Context, d string) (*ledger.Window, error) {
	w, err := getJSON[ledger.Window](ctx, v, ledger.KeyWindow(d))
	if err != nil {
		return nil, err
	}
	if w.DID != d {
		return nil, fmt.Errorf("%w: window/%s holds window %q", ErrBadState, d, truncate(w.DID, 60))
	}
	return w, nil
}

// Windows lists all registered windows (proven complete).
func (v *StateView) Windows(ctx context.Context) ([]ledger.Window, error) {
	return listJSON[ledger.Window](ctx, v, ledger.PrefixWindow)
}

// Params returns the consortium parameters.
func (v *StateView) Params(ctx context.Context) (*ledger.Params, error) {
	return getJSON[ledger.Params](ctx, v, ledger.KeyParams())
}

// Proposal returns a governance proposal.
func (v *StateView) Proposal(ctx context.Context, id string) (*ledger.Proposal, error) {
	p, err := getJSON[ledger.Proposal](ctx, v, ledger.KeyProposal(id))
	if err != nil {
		return nil, err
	}
	if p.ID != id {
		return nil, fmt.Errorf("%w: proposal/%s holds proposal %q", ErrBadState, id, truncate(p.ID, 60))
	}
	return p, nil
}

// AnchorSeq returns the number of anchors a window has posted (0 if none).
func (v *StateView) AnchorSeq(ctx context.Context, window string) (uint64, error) {
	p, err := v.Prove(ctx, ledger.KeyAnchorSeq(window))
	if err != nil {
		return 0, err
	}
	if p.Value == nil {
		return 0, nil
	}
	n, err := strconv.ParseUint(string(p.Value), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: anchorseq/%s: %v", ErrBadState, window, err)
	}
	return n, nil
}

// Anchor returns a window's anchor by sequence number.
func (v *StateView) Anchor(ctx context.Context, window string, seq uint64) (*ledger.Anchor, error) {
	a, err := getJSON[ledger.Anchor](ctx, v, ledger.KeyAnchor(window, seq))
	if err != nil {
		return nil, err
	}
	if a.Window != window || a.Seq != seq {
		return nil, fmt.Errorf("%w: anchor/%s/%d holds anchor %d of %q", ErrBadState, window, seq, a.Seq, truncate(a.Window, 60))
	}
	return a, nil
}

// History returns a DID's full key history.
func (v *StateView) History(ctx context.Context, d string) (*did.History, error) {
	b, err := v.Get(ctx, ledger.KeyDID(d))
	if err != nil {
		return nil, err
	}
	return decodeHistory(d, b)
}

func decodeHistory(d string, b []byte) (*did.History, error) {
	var h did.History
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("%w: did/%s: %v", ErrBadState, d, err)
	}
	if h.DID != d {
		return nil, fmt.Errorf("%w: did/%s holds the history of %q", ErrBadState, d, truncate(h.DID, 60))
	}
	if err := h.Validate(); err != nil {
		return nil, fmt.Errorf("%w: did/%s: %v", ErrBadState, d, err)
	}
	return &h, nil
}

// StatusChunk returns one chunk of a member's status list; a chunk never written is
// proven absent and returned as zeros.
func (v *StateView) StatusChunk(ctx context.Context, member string, list, chunk int) ([]byte, error) {
	if err := checkListRef(member, list, chunk); err != nil {
		return nil, err
	}
	p, err := v.Prove(ctx, ledger.KeyStatusChunk(member, list, chunk))
	if err != nil {
		return nil, err
	}
	if p.Value == nil {
		return make([]byte, ledger.StatusChunkBytes), nil
	}
	if len(p.Value) != ledger.StatusChunkBytes {
		return nil, fmt.Errorf("%w: status chunk %s/%d/%d has %d bytes", ErrBadState, member, list, chunk, len(p.Value))
	}
	return p.Value, nil
}

func checkListRef(member string, list, chunk int) error {
	if !did.ValidLZID(member) || list < 0 || chunk < 0 || chunk >= ledger.StatusChunks {
		return fmt.Errorf("ledgerclient: bad status list reference %q/%d/%d", truncate(member, 60), list, chunk)
	}
	return nil
}

// StatusList returns a member's whole status list (every chunk proven).
func (v *StateView) StatusList(ctx context.Context, member string, list int) ([]byte, error) {
	out := make([]byte, 0, ledger.StatusListBytes)
	for i := 0; i < ledger.StatusChunks; i++ {
		c, err := v.StatusChunk(ctx, member, list, i)
		if err != nil {
			return nil, err
		}
		out = append(out, c...)
	}
	return out, nil
}

// Resolve implements did.Resolver for did:lz from verified state: the document is the
// one current at the view's time (header Height()+1).
func (v *StateView) Resolve(ctx context.Context, d string) (*did.Resolution, error) {
	if _, err := did.ParseLZ(d); err != nil {
		return nil, err
	}
	h, err := v.History(ctx, d)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("%w: %s at height %d", did.ErrNotFound, d, v.height)
		}
		return nil, err
	}
	return resolution(h, v.Time(), v.height)
}

func resolution(h *did.History, now time.Time, height int64) (*did.Resolution, error) {
	if now.Before(h.Created) {
		// Created by a later block than the header time: cannot happen on a sane ledger.
		now = h.Created
	}
	version, updated := versionOf(h, now)
	res := &did.Resolution{
		History: h,
		Metadata: did.Metadata{
			Deactivated: h.Deactivated != nil, // the state already holds it
			VersionID:   strconv.Itoa(version),
			Height:      uint64(height),
			Created:     h.Created,
			Updated:     updated,
		},
	}
	if !res.Metadata.Deactivated {
		doc, err := h.Document(now)
		if err != nil {
			return nil, fmt.Errorf("%w: did %s: %v", ErrBadState, h.DID, err)
		}
		res.Document = doc
	}
	return res, nil
}

// versionOf counts the DID's recorded changes (creation, key additions and revocations,
// deactivation) up to now, and returns the time of the last one.
func versionOf(h *did.History, now time.Time) (int, time.Time) {
	var ts []time.Time
	for _, k := range h.Keys {
		if k.ValidFrom.After(h.Created) {
			ts = append(ts, k.ValidFrom)
		}
		if k.ValidUntil != nil {
			ts = append(ts, *k.ValidUntil)
		}
	}
	if h.Deactivated != nil {
		ts = append(ts, *h.Deactivated)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	n, last := 1, h.Created
	for _, t := range ts {
		if !t.After(now) {
			n++
			last = t
		}
	}
	return n, last
}
