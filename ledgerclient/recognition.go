package ledgerclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	cmted "github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/types"

	"lianzheng/ledger"
)

// Recognition returns this ledger's record of region (ErrNotFound when it recognises no
// such region), proven against the verified header.
func (v *StateView) Recognition(ctx context.Context, region string) (*ledger.Recognition, error) {
	r, err := getJSON[ledger.Recognition](ctx, v, ledger.KeyRecognition(region))
	if err != nil {
		return nil, err
	}
	if r.Region != region {
		return nil, fmt.Errorf("%w: recognition/%s holds region %q", ErrBadState, region, truncate(r.Region, 60))
	}
	return r, nil
}

// Recognitions lists the regions this ledger recognises (proven complete).
func (v *StateView) Recognitions(ctx context.Context) ([]ledger.Recognition, error) {
	return listJSON[ledger.Recognition](ctx, v, ledger.PrefixRecognition)
}

// Recognition returns the latest record of region.
func (c *Client) Recognition(ctx context.Context, region string) (*ledger.Recognition, error) {
	return latest(ctx, c, func(v *StateView) (*ledger.Recognition, error) { return v.Recognition(ctx, region) })
}

// Recognitions lists the regions the ledger recognises now.
func (c *Client) Recognitions(ctx context.Context) ([]ledger.Recognition, error) {
	return latest(ctx, c, func(v *StateView) ([]ledger.Recognition, error) { return v.Recognitions(ctx) })
}

// RecognitionRoot is the trust root of the other region's light client: its chain id and
// the genesis validator set the agreement names (the same root a client of that ledger
// built from its genesis document would have).
func RecognitionRoot(r *ledger.Recognition) (TrustRoot, error) {
	if err := r.Validate(); err != nil {
		return TrustRoot{}, err
	}
	vals := make([]*types.Validator, len(r.Validators))
	for i, rv := range r.Validators {
		pk, err := ledger.ParseValidatorKey(rv.PubKey)
		if err != nil {
			return TrustRoot{}, err
		}
		vals[i] = types.NewValidator(cmted.PubKey(pk), rv.Power)
	}
	set, err := types.ValidatorSetFromExistingValidators(vals)
	if err != nil {
		return TrustRoot{}, fmt.Errorf("ledgerclient: recognition %s validators: %w", r.Region, err)
	}
	return TrustRoot{ChainID: r.ChainID, GenesisValidators: set, InitialHeight: r.InitialHeight}, nil
}

// RecognitionFromGenesis fills in the chain part of a recognition record — chain id, the
// genesis document's SHA-256, initial height and validators — from the other region's
// genesis.json as its consortium distributed it.
func RecognitionFromGenesis(r *ledger.Recognition, genesisJSON []byte) error {
	doc, err := types.GenesisDocFromJSON(genesisJSON)
	if err != nil {
		return fmt.Errorf("ledgerclient: the other region's genesis: %w", err)
	}
	if len(doc.Validators) == 0 {
		return errors.New("ledgerclient: the other region's genesis names no validators")
	}
	r.ChainID, r.GenesisSHA256, r.InitialHeight = doc.ChainID, ledger.GenesisSHA256(genesisJSON), max(doc.InitialHeight, 1)
	r.Validators = r.Validators[:0]
	for _, v := range doc.Validators {
		pk, ok := v.PubKey.(cmted.PubKey)
		if !ok {
			return fmt.Errorf("ledgerclient: the other region's validator %s is not Ed25519", v.Address)
		}
		r.Validators = append(r.Validators, ledger.RootValidator{PubKey: ledger.ValidatorKeyString(pk), Power: v.Power})
	}
	return nil
}

// Foreign is a light client of the region rec describes: rooted in rec's genesis validators
// and chain id (RecognitionRoot), reading through rec's nodes with Failover (the first that
// answers; every answer is checked against the root, so which node serves it does not matter
// to what is believed). newRPC replaces NewHTTPRPC (tests: a chain in the process); a node it
// cannot make a connection for is left out, and none at all is an error.
func Foreign(rec *ledger.Recognition, cfg Config, newRPC func(node string) (RPC, error)) (*Client, error) {
	root, err := RecognitionRoot(rec)
	if err != nil {
		return nil, fmt.Errorf("%w: region %s: %v", ErrUnverified, rec.Region, err)
	}
	if newRPC == nil {
		newRPC = func(node string) (RPC, error) { return NewHTTPRPC(node, HTTPOptions{}) }
	}
	var rpcs []RPC
	var errs []error
	for _, node := range rec.Nodes {
		rpc, err := newRPC(node)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rpcs = append(rpcs, rpc)
	}
	if len(rpcs) == 0 {
		return nil, fmt.Errorf("ledgerclient: region %s: %w", rec.Region, errors.Join(errs...))
	}
	return New(Failover(rpcs...), root, cfg)
}

// ForeignAt is Foreign reading through rec's node n only (a caller keeping one light client
// per node, as verifier.Federation does). An agreement whose root cannot be built is
// ErrUnverified.
func ForeignAt(rec *ledger.Recognition, n int, cfg Config, newRPC func(node string) (RPC, error)) (*Client, error) {
	root, err := RecognitionRoot(rec)
	if err != nil {
		return nil, fmt.Errorf("%w: region %s: %v", ErrUnverified, rec.Region, err)
	}
	if n < 0 || n >= len(rec.Nodes) {
		return nil, fmt.Errorf("ledgerclient: region %s has no node %d", rec.Region, n)
	}
	if newRPC == nil {
		newRPC = func(node string) (RPC, error) { return NewHTTPRPC(node, HTTPOptions{}) }
	}
	rpc, err := newRPC(rec.Nodes[n])
	if err != nil {
		return nil, fmt.Errorf("ledgerclient: region %s: %w", rec.Region, err)
	}
	return New(rpc, root, cfg)
}

// Recognised is one region where a credential type of the home ledger is recognised: the
// region as the home ledger names it, and the other region's own record of the home region
// (its service items that accept the type, and what it counts as there).
type Recognised struct {
	Region       string      `json:"region"`
	Name         ledger.Text `json:"name"`
	AcceptedAs   string      `json:"accepted_as"`
	ServiceItems []string    `json:"service_items"`
	ValidUntil   string      `json:"valid_until"`
}

// RecognisedIn lists the regions where a credential of typeID issued on the home ledger is
// recognised now, each read with proofs: the home ledger's agreements name the other regions
// (and are the roots of their light clients); each other region's ledger is asked for its own
// agreement about the home chain (matched by chain id), which must be in force and list the
// type. A region that recognises the home region only one way (no agreement at home), or
// that cannot be read, is left out; unreachable regions are returned in the error (joined)
// beside what could be read.
func RecognisedIn(ctx context.Context, home *Client, typeID string, now time.Time, open func(rec *ledger.Recognition) (*Client, error)) ([]Recognised, error) {
	recs, err := home.Recognitions(ctx)
	if err != nil {
		return nil, err
	}
	var out []Recognised
	var errs []error
	for i := range recs {
		rec := &recs[i]
		if !rec.InForce(now) {
			continue
		}
		c, err := open(rec)
		if err != nil {
			errs = append(errs, fmt.Errorf("region %s: %w", rec.Region, err))
			continue
		}
		back, err := AgreementAbout(ctx, c, home, now)
		if err != nil {
			if !errors.Is(err, ErrAgreementInactive) {
				errs = append(errs, fmt.Errorf("region %s: %w", rec.Region, err))
			}
			continue
		}
		if t, ok := back.Type(typeID); ok {
			out = append(out, Recognised{Region: rec.Region, Name: rec.Name, AcceptedAs: t.AcceptedAs,
				ServiceItems: t.ServiceItems, ValidUntil: back.ValidUntil})
		}
	}
	return out, errors.Join(errs...)
}

// sameRoot reports whether rec names the genesis validators of root (when root is a genesis
// root; a pinned root has none to compare, and the chain id must do).
func sameRoot(rec *ledger.Recognition, root TrustRoot) bool {
	if root.GenesisValidators == nil {
		return true
	}
	r, err := RecognitionRoot(rec)
	return err == nil && bytes.Equal(r.GenesisValidators.Hash(), root.GenesisValidators.Hash())
}

// AgreementAbout is the other region's agreement about the home region, read from the other
// region's ledger (other) with proofs: the one in force at now that names home's chain id and
// (for a genesis-rooted home) home's genesis validators; ErrAgreementInactive when there is
// none.
func AgreementAbout(ctx context.Context, other, home *Client, now time.Time) (*ledger.Recognition, error) {
	theirs, err := other.Recognitions(ctx)
	if err != nil {
		return nil, err
	}
	for j := range theirs {
		back := &theirs[j]
		if back.ChainID == home.ChainID() && back.InForce(now) && sameRoot(back, home.root) {
			return back, nil
		}
	}
	return nil, fmt.Errorf("%w: %s has none about %s", ErrAgreementInactive, other.ChainID(), home.ChainID())
}
