package ledgerclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/cometbft/cometbft/types"
	"github.com/fxamacker/cbor/v2"

	"lianzheng/did"
	"lianzheng/ledger"
)

// SnapshotFormat names the trust snapshot format (see docs/trust-snapshot.md).
const SnapshotFormat = "lianzheng-trust-snapshot/1"

// MaxSnapshotBytes bounds a snapshot file.
const MaxSnapshotBytes = 256 << 20

// snapshotPrefixes are the key ranges a snapshot carries, each proven complete, in order.
// The last, the mutual-recognition agreements, was added in December 2026: a snapshot made
// before carries the first five only (oldSnapshotRanges), and has no agreements — an offline
// window then recognises no other region (fail closed).
var snapshotPrefixes = []string{ledger.PrefixMember, ledger.PrefixDID, ledger.PrefixType, ledger.PrefixWindow, ledger.PrefixStatus,
	ledger.PrefixRecognition}

const oldSnapshotRanges = 5

// The wire form (deterministic CBOR).
type snapshotWire struct {
	Format  string       `cbor:"format"`
	Chain   string       `cbor:"chain"`
	Height  int64        `cbor:"height"`
	Headers []wireHeader `cbor:"headers"`
	Params  []byte       `cbor:"params"`
	Ranges  []wireRange  `cbor:"ranges"`
}

type wireHeader struct {
	SignedHeader []byte `cbor:"signed_header"` // protobuf tendermint.types.SignedHeader
	Validators   []byte `cbor:"validators"`    // protobuf tendermint.types.ValidatorSet
}

type wireRange struct {
	Prefix string   `cbor:"prefix"`
	Proofs [][]byte `cbor:"proofs"` // ICS23 CommitmentProofs (protobuf), all non-existence
}

var (
	cborEnc cbor.EncMode
	cborDec cbor.DecMode
)

func init() {
	var err error
	if cborEnc, err = cbor.CoreDetEncOptions().EncMode(); err != nil {
		panic(err)
	}
	if cborDec, err = (cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		MaxNestedLevels:   6,
		MaxArrayElements:  4 << 20,
		MaxMapPairs:       16,
		IndefLength:       cbor.IndefLengthForbidden,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
	}).DecMode(); err != nil {
		panic(err)
	}
}

// Snapshot is a verified trust snapshot: the ledger's registries and status lists at one
// height, checked offline against a trust root. It implements TrustView and is read-only
// and safe for concurrent use.
type Snapshot struct {
	chainID string
	height  int64
	time    time.Time
	appHash []byte
	size    int

	params  *ledger.Params
	members []ledger.Member
	member  map[string]*ledger.Member
	dids    map[string]*did.History
	types   []ledger.CredentialType
	typ     map[string]*ledger.CredentialType
	windows []ledger.Window
	window  map[string]*ledger.Window
	status  map[statusRef][]byte // chunks present on the ledger; absent ones are zeros
	recs    []ledger.Recognition
}

type statusRef struct {
	member      string
	list, chunk int
}

// ChainID of the snapshot.
func (s *Snapshot) ChainID() string { return s.chainID }

// Height is the state height H the snapshot holds.
func (s *Snapshot) Height() int64 { return s.height }

// Time is the time of the signed header H+1 whose AppHash the snapshot's proofs verify
// against: the ledger vouches for the state as of this time.
func (s *Snapshot) Time() time.Time { return s.time }

// Age is how old the snapshot is at now.
func (s *Snapshot) Age(now time.Time) time.Duration {
	if a := now.Sub(s.time); a > 0 {
		return a
	}
	return 0
}

// AppHash the snapshot's proofs verify against.
func (s *Snapshot) AppHash() []byte { return bytes.Clone(s.appHash) }

// Size of the snapshot file in bytes.
func (s *Snapshot) Size() int { return s.size }

// Members lists the members (key order).
func (s *Snapshot) Members() []ledger.Member { return append([]ledger.Member(nil), s.members...) }

// Types lists the catalogue (key order).
func (s *Snapshot) Types() []ledger.CredentialType {
	return append([]ledger.CredentialType(nil), s.types...)
}

// Windows lists the registered windows (key order).
func (s *Snapshot) Windows() []ledger.Window { return append([]ledger.Window(nil), s.windows...) }

// DIDs lists the did:lz DIDs (sorted).
func (s *Snapshot) DIDs() []string {
	out := make([]string, 0, len(s.dids))
	for d := range s.dids {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// Member implements TrustView.
func (s *Snapshot) Member(_ context.Context, id string) (*ledger.Member, error) {
	if m, ok := s.member[id]; ok {
		c := *m
		return &c, nil
	}
	return nil, fmt.Errorf("%w: member %q in snapshot at height %d", ErrNotFound, truncate(id, 60), s.height)
}

// Type implements TrustView.
func (s *Snapshot) Type(_ context.Context, id string) (*ledger.CredentialType, error) {
	if t, ok := s.typ[id]; ok {
		c := *t
		return &c, nil
	}
	return nil, fmt.Errorf("%w: credential type %q in snapshot at height %d", ErrNotFound, truncate(id, 60), s.height)
}

// TypeByVCT implements TrustView.
func (s *Snapshot) TypeByVCT(_ context.Context, vct string) (*ledger.CredentialType, error) {
	return findVCT(s.Types(), vct, s.height)
}

// Window implements TrustView.
func (s *Snapshot) Window(_ context.Context, d string) (*ledger.Window, error) {
	if w, ok := s.window[d]; ok {
		c := *w
		return &c, nil
	}
	return nil, fmt.Errorf("%w: window %q in snapshot at height %d", ErrNotFound, truncate(d, 80), s.height)
}

// Params implements TrustView.
func (s *Snapshot) Params(context.Context) (*ledger.Params, error) {
	if s.params == nil {
		return nil, fmt.Errorf("%w: params in snapshot at height %d", ErrNotFound, s.height)
	}
	p := *s.params
	return &p, nil
}

// StatusList implements TrustView. Every status key of the ledger is in the snapshot
// (proven complete), so chunks it lacks are proven never written: zeros.
func (s *Snapshot) StatusList(_ context.Context, member string, list int) ([]byte, error) {
	if err := checkListRef(member, list, 0); err != nil {
		return nil, err
	}
	out := make([]byte, ledger.StatusListBytes)
	for i := 0; i < ledger.StatusChunks; i++ {
		if c, ok := s.status[statusRef{member, list, i}]; ok {
			copy(out[i*ledger.StatusChunkBytes:], c)
		}
	}
	return out, nil
}

// StatusLists lists the (member, list) pairs with at least one chunk written.
func (s *Snapshot) StatusLists() []string {
	seen := map[string]bool{}
	for r := range s.status {
		seen[ledger.StatusListURI(r.member, r.list)] = true
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Resolve implements did.Resolver for did:lz from the snapshot.
func (s *Snapshot) Resolve(ctx context.Context, d string) (*did.Resolution, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, err := did.ParseLZ(d); err != nil {
		return nil, err
	}
	h, ok := s.dids[d]
	if !ok {
		return nil, fmt.Errorf("%w: %s in snapshot at height %d", did.ErrNotFound, d, s.height)
	}
	return resolution(h.Clone(), s.time, s.height)
}

// StaleError is returned (wrapping ErrSnapshotStale) for a snapshot that verified but is
// older than allowed.
type StaleError struct {
	Height int64
	Time   time.Time
	Age    time.Duration
	MaxAge time.Duration
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("%v: height %d signed %s, %s old (max %s)", ErrSnapshotStale, e.Height,
		e.Time.UTC().Format(time.RFC3339), e.Age.Round(time.Second), e.MaxAge)
}

func (e *StaleError) Unwrap() error { return ErrSnapshotStale }

// VerifySnapshotFile reads and verifies a snapshot file (see VerifySnapshot).
func VerifySnapshotFile(path string, root TrustRoot, now time.Time, maxAge time.Duration) (*Snapshot, error) {
	b, err := readSnapshotFile(path)
	if err != nil {
		return nil, err
	}
	return VerifySnapshot(b, root, now, maxAge)
}

// readSnapshotFile reads at most MaxSnapshotBytes+1 bytes of a snapshot file.
func readSnapshotFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ledgerclient: snapshot: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxSnapshotBytes+1))
	if err != nil {
		return nil, fmt.Errorf("ledgerclient: snapshot: %w", err)
	}
	return b, nil
}

// VerifySnapshot verifies a trust snapshot fully offline with the default Options: the
// header chain from the trust root to header H+1 (light-client rules), every proof
// against header H+1's AppHash, and completeness of every key range. Any failure is
// ErrSnapshotForged. A snapshot that verifies but whose header H+1 is older than maxAge
// at now (maxAge > 0) is a *StaleError (ErrSnapshotStale) and no snapshot is returned.
func VerifySnapshot(data []byte, root TrustRoot, now time.Time, maxAge time.Duration) (*Snapshot, error) {
	return VerifySnapshotWith(data, root, now, maxAge, Options{})
}

// VerifySnapshotWith is VerifySnapshot with explicit verification options.
func VerifySnapshotWith(data []byte, root TrustRoot, now time.Time, maxAge time.Duration, o Options) (*Snapshot, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := root.check(); err != nil {
		return nil, err
	}
	s, err := verifySnapshot(data, root, now, o)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSnapshotForged, err)
	}
	if age := s.Age(now); maxAge > 0 && age > maxAge {
		return nil, &StaleError{Height: s.height, Time: s.time, Age: age, MaxAge: maxAge}
	}
	return s, nil
}

func forged(format string, a ...any) error { return fmt.Errorf(format, a...) }

func verifySnapshot(data []byte, root TrustRoot, now time.Time, o Options) (*Snapshot, error) {
	if len(data) > MaxSnapshotBytes {
		return nil, forged("%d bytes exceeds %d", len(data), MaxSnapshotBytes)
	}
	var w snapshotWire
	if err := cborDec.Unmarshal(data, &w); err != nil {
		return nil, forged("cannot decode: %v", err)
	}
	if w.Format != SnapshotFormat {
		return nil, forged("format %q, want %q", truncate(w.Format, 60), SnapshotFormat)
	}
	if w.Chain != root.ChainID {
		return nil, forged("snapshot of chain %q, trusted chain is %q", truncate(w.Chain, 60), root.ChainID)
	}
	if w.Height < 1 || len(w.Headers) == 0 || len(w.Headers) > 10000 {
		return nil, forged("bad height %d or header count %d", w.Height, len(w.Headers))
	}
	chain := make([]*lightBlock, len(w.Headers))
	for i, h := range w.Headers {
		lb, err := decodeLightBlock(h)
		if err != nil {
			return nil, forged("header %d: %v", i, err)
		}
		chain[i] = lb
	}
	top := chain[len(chain)-1]
	if top.SH.Height != w.Height+1 {
		return nil, forged("last header has height %d, want %d (state %d)", top.SH.Height, w.Height+1, w.Height)
	}
	if err := verifyChain(root, o, chain, now); err != nil {
		return nil, err
	}
	s := &Snapshot{
		chainID: w.Chain,
		height:  w.Height,
		time:    top.SH.Time,
		appHash: top.SH.AppHash,
		size:    len(data),
		member:  map[string]*ledger.Member{},
		dids:    map[string]*did.History{},
		typ:     map[string]*ledger.CredentialType{},
		window:  map[string]*ledger.Window{},
		status:  map[statusRef][]byte{},
	}
	// Params.
	pp, err := decodeProof(w.Params)
	if err != nil {
		return nil, forged("params: %v", err)
	}
	var pv []byte
	if ex := pp.GetExist(); ex != nil {
		pv = ex.Value
	}
	if err := verifyDecoded(s.appHash, ledger.KeyParams(), pv, pp); err != nil {
		return nil, forged("params: %v", err)
	}
	if pv != nil {
		if s.params, err = decodeJSON[ledger.Params](ledger.KeyParams(), pv); err != nil {
			return nil, err
		}
	}
	// Ranges.
	if len(w.Ranges) != len(snapshotPrefixes) && len(w.Ranges) != oldSnapshotRanges {
		return nil, forged("%d key ranges, want %d", len(w.Ranges), len(snapshotPrefixes))
	}
	for i, r := range w.Ranges {
		if r.Prefix != snapshotPrefixes[i] {
			return nil, forged("range %d is %q, want %q", i, truncate(r.Prefix, 40), snapshotPrefixes[i])
		}
		walker := newRangeWalker(s.appHash, r.Prefix)
		for j, b := range r.Proofs {
			p, err := decodeProof(b)
			if err != nil {
				return nil, forged("%s proof %d: %v", r.Prefix, j, err)
			}
			if err := walker.add(p); err != nil {
				return nil, forged("%s proof %d: %v", r.Prefix, j, err)
			}
		}
		if !walker.done {
			return nil, forged("%s: proofs end before the range does (incomplete)", r.Prefix)
		}
		for j, k := range walker.keys {
			if err := s.add(r.Prefix, string(k), walker.values[j]); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

func decodeLightBlock(h wireHeader) (*lightBlock, error) {
	var shp cmtproto.SignedHeader
	if err := shp.Unmarshal(h.SignedHeader); err != nil {
		return nil, err
	}
	sh, err := types.SignedHeaderFromProto(&shp)
	if err != nil {
		return nil, err
	}
	var vp cmtproto.ValidatorSet
	if err := vp.Unmarshal(h.Validators); err != nil {
		return nil, err
	}
	if len(vp.Validators) > maxValidators {
		return nil, fmt.Errorf("validator set of %d", len(vp.Validators))
	}
	vals, err := types.ValidatorSetFromProto(&vp)
	if err != nil {
		return nil, err
	}
	if sh.Header == nil || sh.Commit == nil {
		return nil, errors.New("incomplete signed header")
	}
	return &lightBlock{SH: sh, Vals: vals}, nil
}

func encodeLightBlock(lb *lightBlock) (wireHeader, error) {
	shb, err := lb.SH.ToProto().Marshal()
	if err != nil {
		return wireHeader{}, err
	}
	vp, err := lb.Vals.ToProto()
	if err != nil {
		return wireHeader{}, err
	}
	vb, err := vp.Marshal()
	if err != nil {
		return wireHeader{}, err
	}
	return wireHeader{SignedHeader: shb, Validators: vb}, nil
}

// add decodes one proven entry into the snapshot's registries.
func (s *Snapshot) add(prefix, key string, value []byte) error {
	name := strings.TrimPrefix(key, prefix)
	kb := []byte(key)
	switch prefix {
	case ledger.PrefixMember:
		m, err := decodeJSON[ledger.Member](kb, value)
		if err != nil {
			return err
		}
		if m.ID != name {
			return fmt.Errorf("%w: %s holds member %q", ErrBadState, key, truncate(m.ID, 60))
		}
		s.members = append(s.members, *m)
		s.member[name] = &s.members[len(s.members)-1]
	case ledger.PrefixDID:
		h, err := decodeHistory(name, value)
		if err != nil {
			return err
		}
		s.dids[name] = h
	case ledger.PrefixType:
		t, err := decodeJSON[ledger.CredentialType](kb, value)
		if err != nil {
			return err
		}
		if t.ID != name {
			return fmt.Errorf("%w: %s holds type %q", ErrBadState, key, truncate(t.ID, 60))
		}
		s.types = append(s.types, *t)
		s.typ[name] = &s.types[len(s.types)-1]
	case ledger.PrefixWindow:
		w, err := decodeJSON[ledger.Window](kb, value)
		if err != nil {
			return err
		}
		if w.DID != name {
			return fmt.Errorf("%w: %s holds window %q", ErrBadState, key, truncate(w.DID, 60))
		}
		s.windows = append(s.windows, *w)
		s.window[name] = &s.windows[len(s.windows)-1]
	case ledger.PrefixStatus:
		ref, err := parseStatusKey(name)
		if err != nil {
			return err
		}
		if len(value) != ledger.StatusChunkBytes {
			return fmt.Errorf("%w: %s has %d bytes, want %d", ErrBadState, key, len(value), ledger.StatusChunkBytes)
		}
		s.status[ref] = value
	case ledger.PrefixRecognition:
		r, err := decodeJSON[ledger.Recognition](kb, value)
		if err != nil {
			return err
		}
		if r.Region != name {
			return fmt.Errorf("%w: %s holds region %q", ErrBadState, key, truncate(r.Region, 60))
		}
		s.recs = append(s.recs, *r)
	}
	return nil
}

// Recognitions lists the mutual-recognition agreements the snapshot's ledger holds (key
// order; none in a snapshot made before they were carried).
func (s *Snapshot) Recognitions() []ledger.Recognition {
	return append([]ledger.Recognition(nil), s.recs...)
}

// Recognition returns the agreement about region (ErrNotFound when none).
func (s *Snapshot) Recognition(region string) (*ledger.Recognition, error) {
	for i := range s.recs {
		if s.recs[i].Region == region {
			r := s.recs[i]
			return &r, nil
		}
	}
	return nil, fmt.Errorf("%w: recognition of %s in snapshot at height %d", ErrNotFound, region, s.height)
}

// parseStatusKey parses "<member>/<list>/<chunk>".
func parseStatusKey(name string) (statusRef, error) {
	parts := strings.Split(name, "/")
	if len(parts) != 3 {
		return statusRef{}, fmt.Errorf("%w: status key %q", ErrBadState, truncate(name, 80))
	}
	list, err1 := strconv.Atoi(parts[1])
	chunk, err2 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil || checkListRef(parts[0], list, chunk) != nil ||
		string(ledger.KeyStatusChunk(parts[0], list, chunk)) != ledger.PrefixStatus+name {
		return statusRef{}, fmt.Errorf("%w: status key %q", ErrBadState, truncate(name, 80))
	}
	return statusRef{parts[0], list, chunk}, nil
}

// Export writes a trust snapshot of the state at height (0: the latest verifiable state)
// to w, and returns it verified (the file is checked as a verifier would, against the
// client's trust root).
func (c *Client) Export(ctx context.Context, w io.Writer, height int64) (*Snapshot, error) {
	data, err := c.ExportBytes(ctx, height)
	if err != nil {
		return nil, err
	}
	s, err := VerifySnapshotWith(data, c.root, c.cfg.Now(), 0, c.cfg.Options)
	if err != nil {
		return nil, fmt.Errorf("ledgerclient: exported snapshot does not verify: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return nil, fmt.Errorf("ledgerclient: write snapshot: %w", err)
	}
	return s, nil
}

// ExportFile writes a trust snapshot to path (atomically: a temporary file renamed).
func (c *Client) ExportFile(ctx context.Context, path string, height int64) (*Snapshot, error) {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return nil, fmt.Errorf("ledgerclient: snapshot: %w", err)
	}
	s, err := c.Export(ctx, f, height)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("ledgerclient: snapshot: %w", cerr)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return nil, err
	}
	return s, nil
}

// ExportBytes builds the snapshot file's bytes (unverified by the caller's root; Export
// checks them).
func (c *Client) ExportBytes(ctx context.Context, height int64) ([]byte, error) {
	var v *StateView
	var err error
	if height == 0 {
		v, err = c.View(ctx)
	} else {
		v, err = c.At(ctx, height)
	}
	if err != nil {
		return nil, err
	}
	path, err := c.store.pathTo(ctx, c.src, v.height+1)
	if err != nil {
		return nil, err
	}
	wire := snapshotWire{Format: SnapshotFormat, Chain: c.root.ChainID, Height: v.height}
	for _, lb := range path {
		h, err := encodeLightBlock(lb)
		if err != nil {
			return nil, fmt.Errorf("ledgerclient: encode header %d: %w", lb.height(), err)
		}
		wire.Headers = append(wire.Headers, h)
	}
	p, err := v.Prove(ctx, ledger.KeyParams())
	if err != nil {
		return nil, err
	}
	wire.Params = p.Proof
	for _, prefix := range snapshotPrefixes {
		_, gaps, err := v.walk(ctx, prefix)
		if err != nil {
			return nil, err
		}
		wire.Ranges = append(wire.Ranges, wireRange{Prefix: prefix, Proofs: gaps})
	}
	return cborEnc.Marshal(&wire)
}
