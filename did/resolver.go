package did

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// Resolver resolves a DID (not a DID URL). The ledger client implements it for did:lz.
// A deactivated DID resolves without error, with Metadata.Deactivated set and no Document.
// An unknown DID is ErrNotFound; a malformed one ErrInvalidDID.
type Resolver interface {
	Resolve(ctx context.Context, did string) (*Resolution, error)
}

// Resolution is the result of resolving a DID.
type Resolution struct {
	Document *Document // the current document; nil if deactivated
	History  *History  // the full key history (for did:key: its one key, valid at all times)
	Metadata Metadata
}

// Metadata is DID document metadata.
type Metadata struct {
	Deactivated bool      `json:"deactivated,omitempty"`
	VersionID   string    `json:"versionId,omitempty"` // ledger version of the DID's state
	Height      uint64    `json:"height,omitempty"`    // ledger height the state was read at
	Created     time.Time `json:"created,omitzero"`
	Updated     time.Time `json:"updated,omitzero"`
}

// ResolveError is a failure to resolve DID (already saying which DID, so callers do not wrap
// it again); Err says why (ErrInvalidDID, ErrUnsupportedMethod, a resolver's own error…).
type ResolveError struct {
	DID string
	Err error
}

func (e *ResolveError) Error() string { return "resolve " + show(e.DID) + ": " + e.Err.Error() }
func (e *ResolveError) Unwrap() error { return e.Err }

func resolveErr(did string, err error) error { return &ResolveError{DID: did, Err: err} }

// KeyResolver resolves did:key DIDs locally, without any network.
type KeyResolver struct{}

// Resolve implements Resolver for did:key.
func (KeyResolver) Resolve(ctx context.Context, did string) (*Resolution, error) {
	if err := ctx.Err(); err != nil {
		return nil, resolveErr(did, err)
	}
	h, err := KeyHistory(did)
	if err != nil {
		return nil, resolveErr(did, err)
	}
	doc, err := h.Document(h.Created)
	if err != nil {
		return nil, resolveErr(did, err)
	}
	return &Resolution{Document: doc, History: h}, nil
}

// MultiResolver routes did:key to KeyResolver and did:lz to LZ (typically the ledger
// client). It checks that what LZ returns is about the DID asked for and is well formed.
type MultiResolver struct {
	LZ Resolver
}

// Resolve implements Resolver.
func (m MultiResolver) Resolve(ctx context.Context, did string) (*Resolution, error) {
	method, err := ParseDID(did)
	if err != nil {
		return nil, resolveErr(did, err)
	}
	var res *Resolution
	switch method {
	case MethodKey:
		res, err = KeyResolver{}.Resolve(ctx, did)
		if err != nil {
			return nil, err // already wrapped
		}
	case MethodLZ:
		if m.LZ == nil {
			return nil, resolveErr(did, fmt.Errorf("no did:lz resolver: %w", ErrUnsupportedMethod))
		}
		if err := ctx.Err(); err != nil {
			return nil, resolveErr(did, err)
		}
		res, err = m.LZ.Resolve(ctx, did)
		if err != nil {
			return nil, resolveErr(did, err)
		}
	}
	if err := checkResolution(did, res); err != nil {
		return nil, resolveErr(did, err)
	}
	return res, nil
}

// checkResolution verifies that a resolver's answer is about did and is well formed.
func checkResolution(did string, res *Resolution) error {
	if res == nil || res.History == nil {
		return fmt.Errorf("%w: resolver returned no history", ErrInvalidDID)
	}
	if res.History.DID != did {
		return fmt.Errorf("%w: resolver returned history of %s", ErrInvalidDID, q(res.History.DID))
	}
	if err := res.History.Validate(); err != nil {
		return err
	}
	if res.Document != nil {
		if res.Document.ID != did {
			return fmt.Errorf("%w: resolver returned document of %s", ErrInvalidDID, q(res.Document.ID))
		}
		if err := res.Document.Validate(); err != nil {
			return err
		}
	}
	if res.Document == nil && !res.Metadata.Deactivated {
		return fmt.Errorf("%w: resolver returned no document for an active DID", ErrInvalidDID)
	}
	return nil
}

// AssertionKeyAt returns the key that didURL ("did:lz:x#key-1", "did:key:z…#z…") named as
// an assertion method at time t: the issuer key check "issuer key in the issuer's DID
// document at issuance time". The URL must carry a fragment. It fails with ErrDeactivated
// if the DID is deactivated (at any time: the signer chooses t, so old signatures cannot be
// told from backdated ones), ErrNotFound for an unknown DID or key, ErrKeyNotValid if the
// key was not valid at t, is compromised, or is not an assertion method.
func AssertionKeyAt(ctx context.Context, r Resolver, didURL string, t time.Time) (PublicKey, error) {
	u, err := ParseDIDURL(didURL)
	if err != nil {
		return PublicKey{}, err
	}
	if u.Fragment == "" {
		return PublicKey{}, fmt.Errorf("%w: %s: key reference needs a fragment", ErrInvalidDID, q(didURL))
	}
	h, err := resolveHistory(ctx, r, u.DID)
	if err != nil {
		return PublicKey{}, err
	}
	rec, err := h.KeyAt(u.Fragment, t)
	if err != nil {
		return PublicKey{}, err // names the DID and key already
	}
	if !rec.HasPurpose(PurposeAssertion) {
		return PublicKey{}, fmt.Errorf("%w: %s is not an assertion method", ErrKeyNotValid, didURL)
	}
	k, err := rec.PublicKey()
	if err != nil {
		return PublicKey{}, fmt.Errorf("key %s: %w", didURL, err)
	}
	return k, nil
}

// resolveHistory resolves did and returns its history, refusing deactivated DIDs.
func resolveHistory(ctx context.Context, r Resolver, did string) (*History, error) {
	if r == nil {
		return nil, resolveErr(did, fmt.Errorf("nil resolver: %w", ErrUnsupportedMethod))
	}
	res, err := r.Resolve(ctx, did)
	if err != nil {
		if re := (*ResolveError)(nil); errors.As(err, &re) && re.DID == did { // MultiResolver, KeyResolver
			return nil, err
		}
		return nil, resolveErr(did, err)
	}
	if err := checkResolution(did, res); err != nil {
		return nil, resolveErr(did, err)
	}
	if res.Metadata.Deactivated || res.History.Deactivated != nil {
		return nil, resolveErr(did, ErrDeactivated)
	}
	return res.History, nil
}

// CheckAssertionKey verifies that key (a crypto public key, PublicKey or JWK) is the
// assertion key didURL named at time t. Errors as AssertionKeyAt, plus ErrKeyNotValid if the
// key differs.
func CheckAssertionKey(ctx context.Context, r Resolver, didURL string, key crypto.PublicKey, t time.Time) error {
	k, err := AssertionKeyAt(ctx, r, didURL, t)
	if err != nil {
		return err
	}
	if !k.Equal(key) {
		return fmt.Errorf("%w: %s names a different key", ErrKeyNotValid, didURL)
	}
	return nil
}

// FindAssertionKey looks for key (a crypto public key, PublicKey or JWK) among the
// assertion keys of did valid at time t, for credentials that name no key id, and returns
// the DID URL of the matching method. ErrKeyNotValid if none matches.
func FindAssertionKey(ctx context.Context, r Resolver, did string, key crypto.PublicKey, t time.Time) (string, error) {
	if _, err := ParseDID(did); err != nil {
		return "", err
	}
	h, err := resolveHistory(ctx, r, did)
	if err != nil {
		return "", err
	}
	for _, rec := range h.Keys {
		if rec.Compromised || !rec.ValidAt(t) || !rec.HasPurpose(PurposeAssertion) {
			continue
		}
		k, err := rec.PublicKey()
		if err != nil {
			return "", fmt.Errorf("key %s#%s: %w", did, rec.ID, err)
		}
		if k.Equal(key) {
			return did + "#" + rec.ID, nil
		}
	}
	return "", fmt.Errorf("%s at %s: %w: key is not an assertion method", did, t.UTC().Format(time.RFC3339), ErrKeyNotValid)
}

// StaticResolver is an in-memory Resolver over a map of histories, for tests, demos and
// offline fixtures. Now (nil: time.Now) fixes "current" for the document it returns. Each
// Put advances a simulated ledger height; VersionID counts the DID's updates. It is safe for
// concurrent use; histories are copied in and out.
type StaticResolver struct {
	Now func() time.Time

	mu      sync.RWMutex
	height  uint64
	entries map[string]staticEntry
}

type staticEntry struct {
	h       *History
	version uint64
}

// NewStaticResolver returns a StaticResolver holding the given histories.
func NewStaticResolver(hs ...*History) (*StaticResolver, error) {
	s := &StaticResolver{}
	for _, h := range hs {
		if err := s.Put(h); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Put validates h and stores a copy, replacing any earlier history of the same DID.
func (s *StaticResolver) Put(h *History) error {
	if err := h.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.entries == nil {
		s.entries = map[string]staticEntry{}
	}
	s.height++
	s.entries[h.DID] = staticEntry{h: h.Clone(), version: s.entries[h.DID].version + 1}
	return nil
}

// Resolve implements Resolver.
func (s *StaticResolver) Resolve(ctx context.Context, did string) (*Resolution, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, err := ParseDID(did); err != nil {
		return nil, err
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	s.mu.RLock()
	e, ok := s.entries[did]
	height := s.height
	s.mu.RUnlock()
	if !ok || now.Before(e.h.Created) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, did)
	}
	h := e.h.Clone()
	res := &Resolution{
		History: h,
		Metadata: Metadata{
			Deactivated: h.DeactivatedAt(now),
			VersionID:   strconv.FormatUint(e.version, 10),
			Height:      height,
			Created:     h.Created,
			Updated:     lastChange(h, now),
		},
	}
	if !res.Metadata.Deactivated {
		doc, err := h.Document(now)
		if err != nil {
			return nil, err
		}
		res.Document = doc
	}
	return res, nil
}

// lastChange is the time of the latest event in h at or before now.
func lastChange(h *History, now time.Time) time.Time {
	last := h.Created
	consider := func(t time.Time) {
		if t.After(last) && !t.After(now) {
			last = t
		}
	}
	for _, r := range h.Keys {
		consider(r.ValidFrom)
		if r.ValidUntil != nil {
			consider(*r.ValidUntil)
		}
	}
	if h.Deactivated != nil {
		consider(*h.Deactivated)
	}
	return last
}
