package ledgerclient

import (
	"context"
	"errors"
	"fmt"

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
