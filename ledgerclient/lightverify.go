package ledgerclient

// The light-client verification rules, ported from CometBFT v0.38.26 light/verifier.go
// (Apache 2.0) so that the client does not link CometBFT's light package, whose provider
// and RPC dependencies pull in the p2p stack. The checks, their order and their error
// messages are CometBFT's; only the error types are ours (unexported; the client
// branches on valSetNotTrustedError to bisect). lightverify_test.go compares every
// outcome with the light package itself.

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	cmtmath "github.com/cometbft/cometbft/libs/math"
	"github.com/cometbft/cometbft/types"
)

// defaultTrustLevel: a new header can be trusted if at least one correct validator of
// the trusted set signed it (light.DefaultTrustLevel).
var defaultTrustLevel = cmtmath.Fraction{Numerator: 1, Denominator: 3}

// headerExpiredError: the trusted header is older than the trusting period at now
// (light.ErrOldHeaderExpired).
type headerExpiredError struct {
	At  time.Time
	Now time.Time
}

func (e headerExpiredError) Error() string {
	return fmt.Sprintf("old header has expired at %v (now: %v)", e.At, e.Now)
}

// valSetNotTrustedError: less than the trust level of the trusted set signed the new
// header, so it cannot vouch for it; bisection may still reach it through intermediate
// headers (light.ErrNewValSetCantBeTrusted).
type valSetNotTrustedError struct {
	Reason types.ErrNotEnoughVotingPowerSigned
}

func (e valSetNotTrustedError) Error() string {
	return fmt.Sprintf("cant trust new val set: %v", e.Reason)
}

// invalidHeaderError: the new header fails basic validation or is not signed by more
// than 2/3 of its own validator set (light.ErrInvalidHeader).
type invalidHeaderError struct {
	Reason error
}

func (e invalidHeaderError) Error() string {
	return fmt.Sprintf("invalid header: %v", e.Reason)
}

func (e invalidHeaderError) Unwrap() error { return e.Reason }

// verifyNonAdjacent verifies untrustedHeader (height Y) from trustedHeader (height X,
// X+1 < Y), as light.VerifyNonAdjacent: the trusted header has not expired, the new
// header is valid, trustLevel of trustedVals signed it (else valSetNotTrustedError), and
// more than 2/3 of untrustedVals signed it (checked last: untrustedVals may be made huge
// to slow the client down).
func verifyNonAdjacent(
	trustedHeader *types.SignedHeader, // height=X
	trustedVals *types.ValidatorSet, // height=X or height=X+1
	untrustedHeader *types.SignedHeader, // height=Y
	untrustedVals *types.ValidatorSet, // height=Y
	trustingPeriod time.Duration,
	now time.Time,
	maxClockDrift time.Duration,
	trustLevel cmtmath.Fraction,
) error {
	if untrustedHeader.Height == trustedHeader.Height+1 {
		return errors.New("headers must be non adjacent in height")
	}
	if headerExpired(trustedHeader, trustingPeriod, now) {
		return headerExpiredError{trustedHeader.Time.Add(trustingPeriod), now}
	}
	if err := verifyNewHeaderAndVals(untrustedHeader, untrustedVals, trustedHeader, now, maxClockDrift); err != nil {
		return invalidHeaderError{err}
	}
	// trustLevel (default 1/3) or more of the trusted validators signed correctly.
	if err := trustedVals.VerifyCommitLightTrusting(trustedHeader.ChainID, untrustedHeader.Commit, trustLevel); err != nil {
		// As CometBFT: only the unwrapped ErrNotEnoughVotingPowerSigned (what
		// VerifyCommitLightTrusting returns) means "cannot vouch"; anything else is fatal.
		if e, ok := err.(types.ErrNotEnoughVotingPowerSigned); ok {
			return valSetNotTrustedError{e}
		}
		return err
	}
	// More than 2/3 of the new validators signed correctly.
	if err := untrustedVals.VerifyCommitLight(trustedHeader.ChainID, untrustedHeader.Commit.BlockID,
		untrustedHeader.Height, untrustedHeader.Commit); err != nil {
		return invalidHeaderError{err}
	}
	return nil
}

// verifyAdjacent verifies untrustedHeader (height X+1) from trustedHeader (height X), as
// light.VerifyAdjacent: the trusted header has not expired, the new header is valid, its
// ValidatorsHash is the trusted header's NextValidatorsHash, and more than 2/3 of
// untrustedVals signed it.
func verifyAdjacent(
	trustedHeader *types.SignedHeader, // height=X
	untrustedHeader *types.SignedHeader, // height=X+1
	untrustedVals *types.ValidatorSet, // height=X+1
	trustingPeriod time.Duration,
	now time.Time,
	maxClockDrift time.Duration,
) error {
	if untrustedHeader.Height != trustedHeader.Height+1 {
		return errors.New("headers must be adjacent in height")
	}
	if headerExpired(trustedHeader, trustingPeriod, now) {
		return headerExpiredError{trustedHeader.Time.Add(trustingPeriod), now}
	}
	if err := verifyNewHeaderAndVals(untrustedHeader, untrustedVals, trustedHeader, now, maxClockDrift); err != nil {
		return invalidHeaderError{err}
	}
	if !bytes.Equal(untrustedHeader.ValidatorsHash, trustedHeader.NextValidatorsHash) {
		return fmt.Errorf("expected old header next validators (%X) to match those from new header (%X)",
			trustedHeader.NextValidatorsHash, untrustedHeader.ValidatorsHash)
	}
	if err := untrustedVals.VerifyCommitLight(trustedHeader.ChainID, untrustedHeader.Commit.BlockID,
		untrustedHeader.Height, untrustedHeader.Commit); err != nil {
		return invalidHeaderError{err}
	}
	return nil
}

// verifyLight is light.Verify: verifyAdjacent for the next height, verifyNonAdjacent
// otherwise.
func verifyLight(
	trustedHeader *types.SignedHeader, // height=X
	trustedVals *types.ValidatorSet, // height=X or height=X+1
	untrustedHeader *types.SignedHeader, // height=Y
	untrustedVals *types.ValidatorSet, // height=Y
	trustingPeriod time.Duration,
	now time.Time,
	maxClockDrift time.Duration,
	trustLevel cmtmath.Fraction,
) error {
	if untrustedHeader.Height != trustedHeader.Height+1 {
		return verifyNonAdjacent(trustedHeader, trustedVals, untrustedHeader, untrustedVals,
			trustingPeriod, now, maxClockDrift, trustLevel)
	}
	return verifyAdjacent(trustedHeader, untrustedHeader, untrustedVals, trustingPeriod, now, maxClockDrift)
}

func verifyNewHeaderAndVals(
	untrustedHeader *types.SignedHeader,
	untrustedVals *types.ValidatorSet,
	trustedHeader *types.SignedHeader,
	now time.Time,
	maxClockDrift time.Duration,
) error {
	if err := untrustedHeader.ValidateBasic(trustedHeader.ChainID); err != nil {
		return fmt.Errorf("untrustedHeader.ValidateBasic failed: %w", err)
	}
	if untrustedHeader.Height <= trustedHeader.Height {
		return fmt.Errorf("expected new header height %d to be greater than one of old header %d",
			untrustedHeader.Height, trustedHeader.Height)
	}
	if !untrustedHeader.Time.After(trustedHeader.Time) {
		return fmt.Errorf("expected new header time %v to be after old header time %v",
			untrustedHeader.Time, trustedHeader.Time)
	}
	if !untrustedHeader.Time.Before(now.Add(maxClockDrift)) {
		return fmt.Errorf("new header has a time from the future %v (now: %v; max clock drift: %v)",
			untrustedHeader.Time, now, maxClockDrift)
	}
	if !bytes.Equal(untrustedHeader.ValidatorsHash, untrustedVals.Hash()) {
		return fmt.Errorf("expected new header validators (%X) to match those that were supplied (%X) at height %d",
			untrustedHeader.ValidatorsHash, untrustedVals.Hash(), untrustedHeader.Height)
	}
	return nil
}

// validateTrustLevel checks that lvl is within [1/3, 1] (light.ValidateTrustLevel): less
// than 1/3 breaks the security model.
func validateTrustLevel(lvl cmtmath.Fraction) error {
	if lvl.Numerator*3 < lvl.Denominator || // < 1/3
		lvl.Numerator > lvl.Denominator || // > 1
		lvl.Denominator == 0 {
		return fmt.Errorf("trustLevel must be within [1/3, 1], given %v", lvl)
	}
	return nil
}

// headerExpired reports whether h is older than the trusting period at now
// (light.HeaderExpired).
func headerExpired(h *types.SignedHeader, trustingPeriod time.Duration, now time.Time) bool {
	expirationTime := h.Time.Add(trustingPeriod)
	return !expirationTime.After(now)
}
