package ledgerclient

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	cmtmath "github.com/cometbft/cometbft/libs/math"
	"github.com/cometbft/cometbft/types"
)

// TrustRoot is what a client or a snapshot verifier trusts a priori: either the genesis
// validator set (from the genesis document the consortium distributed out of band) or
// one pinned header (height and hash, e.g. read off a department's notice). Nothing a
// node says is trusted unless it chains to this root.
type TrustRoot struct {
	ChainID string

	// Genesis root: header InitialHeight must be signed by more than 2/3 of this set and
	// carry its hash as ValidatorsHash.
	GenesisValidators *types.ValidatorSet
	InitialHeight     int64

	// Pinned root (used when GenesisValidators is nil): the header at Height whose
	// Header.Hash() is Hash.
	Height int64
	Hash   []byte
}

// GenesisRoot builds a trust root from a CometBFT genesis document (JSON).
func GenesisRoot(genesisJSON []byte) (TrustRoot, error) {
	doc, err := types.GenesisDocFromJSON(genesisJSON)
	if err != nil {
		return TrustRoot{}, fmt.Errorf("ledgerclient: genesis: %w", err)
	}
	if len(doc.Validators) == 0 {
		return TrustRoot{}, errors.New("ledgerclient: genesis: no validators (set them in the genesis document to use it as a trust root)")
	}
	vals := make([]*types.Validator, len(doc.Validators))
	for i, v := range doc.Validators {
		vals[i] = types.NewValidator(v.PubKey, v.Power)
	}
	set, err := types.ValidatorSetFromExistingValidators(vals)
	if err != nil {
		return TrustRoot{}, fmt.Errorf("ledgerclient: genesis validators: %w", err)
	}
	return TrustRoot{ChainID: doc.ChainID, GenesisValidators: set, InitialHeight: doc.InitialHeight}, nil
}

// GenesisRootFile reads a genesis document from path (the node home's config/genesis.json).
func GenesisRootFile(path string) (TrustRoot, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return TrustRoot{}, fmt.Errorf("ledgerclient: genesis: %w", err)
	}
	return GenesisRoot(b)
}

// PinnedRoot trusts the header of chainID at height whose hash is hashHex (as CometBFT
// prints block hashes, upper or lower case).
func PinnedRoot(chainID string, height int64, hashHex string) (TrustRoot, error) {
	h, err := hex.DecodeString(hashHex)
	if err != nil || len(h) != 32 {
		return TrustRoot{}, fmt.Errorf("ledgerclient: pinned header hash %q is not 32 bytes of hex", truncate(hashHex, 80))
	}
	if height < 1 || chainID == "" {
		return TrustRoot{}, errors.New("ledgerclient: pinned root needs a chain id and a height ≥ 1")
	}
	return TrustRoot{ChainID: chainID, Height: height, Hash: h}, nil
}

// RootHeight is the height of the first trusted header.
func (r TrustRoot) RootHeight() int64 {
	if r.GenesisValidators != nil {
		if r.InitialHeight < 1 {
			return 1
		}
		return r.InitialHeight
	}
	return r.Height
}

func (r TrustRoot) check() error {
	if r.ChainID == "" {
		return errors.New("ledgerclient: trust root has no chain id")
	}
	if r.GenesisValidators == nil && (r.Height < 1 || len(r.Hash) != 32) {
		return errors.New("ledgerclient: trust root has neither genesis validators nor a pinned header")
	}
	return nil
}

// Options tune light-client verification. The zero value means the defaults.
type Options struct {
	// TrustingPeriod: how long a verified header may serve to verify later ones (light
	// client rules). The consortium has no unbonding; this bounds how long the keys of
	// departed validators matter. Default DefaultTrustingPeriod.
	TrustingPeriod time.Duration
	// MaxClockDrift: how far in the future a header time may be. Default 10 s.
	MaxClockDrift time.Duration
	// TrustLevel for skipping verification, within [1/3, 1]. Default 1/3.
	TrustLevel cmtmath.Fraction
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// DefaultTrustingPeriod is ten years: a deployment that lives longer pins a newer header.
const DefaultTrustingPeriod = 10 * 365 * 24 * time.Hour

func (o Options) withDefaults() (Options, error) {
	if o.TrustingPeriod <= 0 {
		o.TrustingPeriod = DefaultTrustingPeriod
	}
	if o.MaxClockDrift <= 0 {
		o.MaxClockDrift = 10 * time.Second
	}
	if o.TrustLevel.Denominator == 0 {
		o.TrustLevel = defaultTrustLevel
	}
	if err := validateTrustLevel(o.TrustLevel); err != nil {
		return o, fmt.Errorf("ledgerclient: %w", err)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}

// lightBlock is a signed header and the validator set of its height.
type lightBlock struct {
	SH   *types.SignedHeader
	Vals *types.ValidatorSet
}

func (lb *lightBlock) height() int64 { return lb.SH.Height }

// verifyRoot verifies lb as the trust root's header.
func verifyRoot(root TrustRoot, lb *lightBlock) error {
	sh := lb.SH
	if sh == nil || sh.Header == nil || sh.Commit == nil || lb.Vals == nil {
		return fmt.Errorf("%w: incomplete root header", ErrUnverified)
	}
	if sh.Height != root.RootHeight() {
		return fmt.Errorf("%w: root header has height %d, want %d", ErrUnverified, sh.Height, root.RootHeight())
	}
	if err := sh.ValidateBasic(root.ChainID); err != nil {
		return fmt.Errorf("%w: root header: %v", ErrUnverified, err)
	}
	if !bytes.Equal(lb.Vals.Hash(), sh.ValidatorsHash) {
		return fmt.Errorf("%w: root header's validator set does not match its ValidatorsHash", ErrUnverified)
	}
	if root.GenesisValidators != nil {
		if !bytes.Equal(sh.ValidatorsHash, root.GenesisValidators.Hash()) {
			return fmt.Errorf("%w: header %d is not signed by the genesis validator set", ErrUnverified, sh.Height)
		}
	} else if !bytes.Equal(sh.Hash(), root.Hash) {
		return fmt.Errorf("%w: header %d hash %X differs from the pinned %X", ErrUnverified, sh.Height, sh.Hash(), root.Hash)
	}
	// More than 2/3 of the root's validators signed it (for the pinned root this is a
	// consistency check: the hash already fixes the header).
	if err := lb.Vals.VerifyCommitLight(root.ChainID, sh.Commit.BlockID, sh.Height, sh.Commit); err != nil {
		return fmt.Errorf("%w: root header %d: %v", ErrUnverified, sh.Height, err)
	}
	return nil
}

// verifyStep verifies untrusted from trusted with CometBFT's light-client rules
// (adjacent: NextValidatorsHash chain; non-adjacent: trust level of the trusted set and
// more than 2/3 of the new one; see lightverify.go).
func verifyStep(chainID string, o Options, trusted, untrusted *lightBlock, now time.Time) error {
	if untrusted.SH == nil || untrusted.SH.Header == nil || untrusted.SH.Commit == nil || untrusted.Vals == nil {
		return fmt.Errorf("%w: incomplete header", ErrUnverified)
	}
	if untrusted.SH.ChainID != chainID {
		return fmt.Errorf("%w: header of chain %q, want %q", ErrUnverified, truncate(untrusted.SH.ChainID, 60), chainID)
	}
	return verifyLight(trusted.SH, trusted.Vals, untrusted.SH, untrusted.Vals,
		o.TrustingPeriod, now, o.MaxClockDrift, o.TrustLevel)
}

// headerSource fetches unverified light blocks (from a node).
type headerSource interface {
	lightBlock(ctx context.Context, height int64) (*lightBlock, error)
}

// verifiedStore keeps verified light blocks: the root, and a bounded cache of later ones
// (the newest kept). Safe for concurrent use.
type verifiedStore struct {
	root TrustRoot
	opts Options

	mu     sync.Mutex
	rootLB *lightBlock
	byH    map[int64]*lightBlock
	max    int
}

const verifiedCacheSize = 512

func newVerifiedStore(root TrustRoot, opts Options) *verifiedStore {
	return &verifiedStore{root: root, opts: opts, byH: map[int64]*lightBlock{}, max: verifiedCacheSize}
}

func (s *verifiedStore) get(h int64) *lightBlock {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rootLB != nil && h == s.rootLB.height() {
		return s.rootLB
	}
	return s.byH[h]
}

// below returns the highest verified block under h.
func (s *verifiedStore) below(h int64) *lightBlock {
	s.mu.Lock()
	defer s.mu.Unlock()
	best := s.rootLB
	for k, lb := range s.byH {
		if k < h && (best == nil || k > best.height()) {
			best = lb
		}
	}
	return best
}

func (s *verifiedStore) latest() *lightBlock {
	return s.below(1 << 62)
}

func (s *verifiedStore) put(lb *lightBlock) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byH[lb.height()] = lb
	if len(s.byH) > s.max {
		hs := make([]int64, 0, len(s.byH))
		for k := range s.byH {
			hs = append(hs, k)
		}
		sort.Slice(hs, func(i, j int) bool { return hs[i] < hs[j] })
		for _, k := range hs[:len(hs)-s.max/2] {
			delete(s.byH, k)
		}
	}
}

// bootstrap fetches and verifies the root header once.
func (s *verifiedStore) bootstrap(ctx context.Context, src headerSource) (*lightBlock, error) {
	s.mu.Lock()
	r := s.rootLB
	s.mu.Unlock()
	if r != nil {
		return r, nil
	}
	lb, err := src.lightBlock(ctx, s.root.RootHeight())
	if err != nil {
		return nil, err
	}
	if err := verifyRoot(s.root, lb); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.rootLB = lb
	s.mu.Unlock()
	return lb, nil
}

// verifyTo returns the verified light block at height h, verifying it from the highest
// verified block below it: skipping verification first and, where the trusted set cannot
// vouch for the target (trust level not reached), bisection down to adjacent headers.
// hops, if not nil, receives every block verified on the way, in order.
func (s *verifiedStore) verifyTo(ctx context.Context, src headerSource, h int64, hops *[]*lightBlock) (*lightBlock, error) {
	if _, err := s.bootstrap(ctx, src); err != nil {
		return nil, err
	}
	if h < s.root.RootHeight() {
		return nil, fmt.Errorf("%w: header %d, root %d", ErrBeforeTrustRoot, h, s.root.RootHeight())
	}
	if lb := s.get(h); lb != nil {
		return lb, nil
	}
	cur := s.below(h)
	target, err := src.lightBlock(ctx, h)
	if err != nil {
		return nil, err
	}
	stack := []*lightBlock{target}
	now := s.opts.Now()
	for steps := 0; len(stack) > 0; steps++ {
		if steps > 256 {
			return nil, fmt.Errorf("%w: header %d: bisection did not converge", ErrUnverified, h)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		u := stack[len(stack)-1]
		err := verifyStep(s.root.ChainID, s.opts, cur, u, now)
		if err == nil {
			s.put(u)
			if hops != nil {
				*hops = append(*hops, u)
			}
			cur = u
			stack = stack[:len(stack)-1]
			continue
		}
		var cant valSetNotTrustedError
		if !errors.As(err, &cant) {
			return nil, fmt.Errorf("%w: header %d from trusted %d: %v", ErrUnverified, u.height(), cur.height(), err)
		}
		pivot := (cur.height() + u.height()) / 2
		if pivot <= cur.height() {
			return nil, fmt.Errorf("%w: header %d: %v", ErrUnverified, u.height(), err)
		}
		p, err := src.lightBlock(ctx, pivot)
		if err != nil {
			return nil, err
		}
		stack = append(stack, p)
	}
	return target, nil
}

// pathTo returns a chain of verified light blocks from the root to h (root first): what a
// snapshot carries so that an offline verifier can repeat the verification. It is
// computed afresh from the root (skipping, bisecting where needed), so that it is short.
func (s *verifiedStore) pathTo(ctx context.Context, src headerSource, h int64) ([]*lightBlock, error) {
	root, err := s.bootstrap(ctx, src)
	if err != nil {
		return nil, err
	}
	fresh := newVerifiedStore(s.root, s.opts)
	fresh.rootLB = root
	path := []*lightBlock{root}
	if h == root.height() {
		return path, nil
	}
	cached := &cachingSource{src: src, store: s}
	if _, err := fresh.verifyTo(ctx, cached, h, &path); err != nil {
		return nil, err
	}
	return path, nil
}

// cachingSource serves light blocks already verified by store before asking src.
type cachingSource struct {
	src   headerSource
	store *verifiedStore
}

func (c *cachingSource) lightBlock(ctx context.Context, h int64) (*lightBlock, error) {
	if lb := c.store.get(h); lb != nil {
		return lb, nil
	}
	return c.src.lightBlock(ctx, h)
}

// verifyChain verifies an explicit chain of light blocks, root first (offline).
func verifyChain(root TrustRoot, o Options, chain []*lightBlock, now time.Time) error {
	if len(chain) == 0 {
		return fmt.Errorf("%w: no headers", ErrUnverified)
	}
	if err := verifyRoot(root, chain[0]); err != nil {
		return err
	}
	if headerExpired(chain[0].SH, o.TrustingPeriod, now) && len(chain) == 1 {
		return fmt.Errorf("%w: root header expired (trusting period)", ErrUnverified)
	}
	for i := 1; i < len(chain); i++ {
		if err := verifyStep(root.ChainID, o, chain[i-1], chain[i], now); err != nil {
			return fmt.Errorf("%w: header %d from %d: %v", ErrUnverified, chain[i].height(), chain[i-1].height(), err)
		}
	}
	return nil
}
