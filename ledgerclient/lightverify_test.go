package ledgerclient

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto"
	cmtmath "github.com/cometbft/cometbft/libs/math"
	"github.com/cometbft/cometbft/light"
	cmtversion "github.com/cometbft/cometbft/proto/tendermint/version"
	"github.com/cometbft/cometbft/types"
	"github.com/cometbft/cometbft/version"
)

// The port in lightverify.go must decide exactly as CometBFT's light package (which the
// tests may link): same outcome, same error class, same message, for every case below.

var lvT0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// lvHeader signs a header at height h (time t0 + h seconds) of validator set vals (keys
// in keys; the validators at signers sign) announcing next as the next set.
func lvHeader(chainID string, h int64, vals, next *types.ValidatorSet, keys []crypto.PrivKey, signers []int, mutate func(*types.Header)) *types.SignedHeader {
	hdr := &types.Header{
		Version:            cmtversion.Consensus{Block: version.BlockProtocol},
		ChainID:            chainID,
		Height:             h,
		Time:               lvT0.Add(time.Duration(h) * time.Second),
		ValidatorsHash:     vals.Hash(),
		NextValidatorsHash: next.Hash(),
		ConsensusHash:      sha256.New().Sum(nil),
		AppHash:            sha256.New().Sum([]byte(fmt.Sprint(h))),
		ProposerAddress:    vals.Validators[0].Address,
	}
	if mutate != nil {
		mutate(hdr)
	}
	return &types.SignedHeader{Header: hdr, Commit: signCommit(chainID, hdr, vals, keys, signers)}
}

// lightClass names the error class of an error of either implementation.
func lightClass(err error) string {
	var (
		e1 light.ErrOldHeaderExpired
		e2 light.ErrNewValSetCantBeTrusted
		e3 light.ErrInvalidHeader
		o1 headerExpiredError
		o2 valSetNotTrustedError
		o3 invalidHeaderError
	)
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &e1), errors.As(err, &o1):
		return "expired"
	case errors.As(err, &e2), errors.As(err, &o2):
		return "cant-trust"
	case errors.As(err, &e3), errors.As(err, &o3):
		return "invalid"
	}
	return "other"
}

func TestLightVerifyMatchesCometBFT(t *testing.T) {
	const chain = "lz-light"
	keysA := genKeys(4)
	valsA := valSet(keysA)
	keysB := genKeys(4) // a wholly new set
	valsB := valSet(keysB)
	// Sets sharing 1 or 2 of A's 4 validators (25% and 50% of A's power).
	keys1 := append([]crypto.PrivKey{keysA[0]}, genKeys(3)...)
	vals1 := valSet(keys1)
	keys2 := append([]crypto.PrivKey{keysA[0], keysA[1]}, genKeys(2)...)
	vals2 := valSet(keys2)
	// A grown to eight: A's four hold half the power.
	keys8 := append(append([]crypto.PrivKey{}, keysA...), genKeys(4)...)
	vals8 := valSet(keys8)

	trusted := lvHeader(chain, 10, valsA, valsA, keysA, allIdx(4), nil)
	now := lvT0.Add(time.Hour)
	const period, drift = 24 * time.Hour, 10 * time.Second
	third := cmtmath.Fraction{Numerator: 1, Denominator: 3}
	all := cmtmath.Fraction{Numerator: 1, Denominator: 1}
	flipSig := func(sh *types.SignedHeader) *types.SignedHeader {
		c := *sh.Commit
		c.Signatures = append([]types.CommitSig(nil), c.Signatures...)
		s := append([]byte(nil), c.Signatures[0].Signature...)
		s[3] ^= 1
		c.Signatures[0].Signature = s
		return &types.SignedHeader{Header: sh.Header, Commit: &c}
	}

	cases := []struct {
		name      string
		tHdr      *types.SignedHeader
		tVals     *types.ValidatorSet
		uHdr      *types.SignedHeader
		uVals     *types.ValidatorSet
		now       time.Time
		level     cmtmath.Fraction
		wantClass string
	}{
		{"adjacent", trusted, valsA, lvHeader(chain, 11, valsA, valsA, keysA, allIdx(4), nil), valsA, now, third, "ok"},
		{"adjacent signed by 3 of 4", trusted, valsA, lvHeader(chain, 11, valsA, valsA, keysA, []int{0, 1, 2}, nil), valsA, now, third, "ok"},
		{"adjacent signed by 2 of 4", trusted, valsA, lvHeader(chain, 11, valsA, valsA, keysA, []int{0, 1}, nil), valsA, now, third, "invalid"},
		{"adjacent with a set not announced", trusted, valsA, lvHeader(chain, 11, valsB, valsB, keysB, allIdx(4), nil), valsB, now, third, "other"},
		{"adjacent with supplied set not the header's", trusted, valsA, lvHeader(chain, 11, valsA, valsA, keysA, allIdx(4), nil), valsB, now, third, "invalid"},
		{"adjacent forged commit (wrong keys)", trusted, valsA, lvHeader(chain, 11, valsA, valsA, keysB, allIdx(4), nil), valsA, now, third, "invalid"},
		{"adjacent flipped signature", trusted, valsA, flipSig(lvHeader(chain, 11, valsA, valsA, keysA, allIdx(4), nil)), valsA, now, third, "invalid"},
		{"adjacent other chain", trusted, valsA, lvHeader("other", 11, valsA, valsA, keysA, allIdx(4), nil), valsA, now, third, "invalid"},
		{"adjacent time not after", trusted, valsA, lvHeader(chain, 11, valsA, valsA, keysA, allIdx(4), func(h *types.Header) { h.Time = trusted.Time }), valsA, now, third, "invalid"},
		{"adjacent from the future", trusted, valsA, lvHeader(chain, 11, valsA, valsA, keysA, allIdx(4), func(h *types.Header) { h.Time = now.Add(drift) }), valsA, now, third, "invalid"},
		{"adjacent just within drift", trusted, valsA, lvHeader(chain, 11, valsA, valsA, keysA, allIdx(4), func(h *types.Header) { h.Time = now.Add(drift - time.Nanosecond) }), valsA, now, third, "ok"},
		{"adjacent trusted expired", trusted, valsA, lvHeader(chain, 11, valsA, valsA, keysA, allIdx(4), nil), valsA, trusted.Time.Add(period), third, "expired"},
		{"non-adjacent same set", trusted, valsA, lvHeader(chain, 20, valsA, valsA, keysA, allIdx(4), nil), valsA, now, third, "ok"},
		{"non-adjacent 2 of 4 sign (1/3 reached, 2/3 not)", trusted, valsA, lvHeader(chain, 20, valsA, valsA, keysA, []int{0, 1}, nil), valsA, now, third, "invalid"},
		{"non-adjacent 1 of 4 sign", trusted, valsA, lvHeader(chain, 20, valsA, valsA, keysA, []int{0}, nil), valsA, now, third, "cant-trust"},
		{"non-adjacent whole new set", trusted, valsA, lvHeader(chain, 20, valsB, valsB, keysB, allIdx(4), nil), valsB, now, third, "cant-trust"},
		{"non-adjacent sharing 1 of 4 (25%)", trusted, valsA, lvHeader(chain, 20, vals1, vals1, keys1, allIdx(4), nil), vals1, now, third, "cant-trust"},
		{"non-adjacent sharing 2 of 4 (50%)", trusted, valsA, lvHeader(chain, 20, vals2, vals2, keys2, allIdx(4), nil), vals2, now, third, "ok"},
		{"non-adjacent sharing 2 of 4, trust level 1", trusted, valsA, lvHeader(chain, 20, vals2, vals2, keys2, allIdx(4), nil), vals2, now, all, "cant-trust"},
		{"non-adjacent grown set, only old half signs", trusted, valsA, lvHeader(chain, 20, vals8, vals8, keys8, []int{0, 1, 2, 3}, nil), vals8, now, third, "invalid"},
		{"non-adjacent grown set, 6 of 8 sign", trusted, valsA, lvHeader(chain, 20, vals8, vals8, keys8, []int{0, 1, 4, 5, 6, 7}, nil), vals8, now, third, "ok"},
		{"non-adjacent supplied set not the header's", trusted, valsA, lvHeader(chain, 20, valsA, valsA, keysA, allIdx(4), nil), valsB, now, third, "invalid"},
		{"non-adjacent forged commit (wrong keys)", trusted, valsA, lvHeader(chain, 20, valsA, valsA, keysB, allIdx(4), nil), valsA, now, third, "cant-trust"},
		{"non-adjacent flipped signature", trusted, valsA, flipSig(lvHeader(chain, 20, valsA, valsA, keysA, allIdx(4), nil)), valsA, now, third, "other"},
		{"non-adjacent forged state, attackers' set", trusted, valsA, lvHeader(chain, 20, valsB, valsB, keysB, allIdx(4), func(h *types.Header) { h.AppHash = make([]byte, 32) }), valsB, now, third, "cant-trust"},
		{"non-adjacent trusted expired", trusted, valsA, lvHeader(chain, 20, valsA, valsA, keysA, allIdx(4), nil), valsA, trusted.Time.Add(period).Add(time.Second), third, "expired"},
		{"non-adjacent from the future", trusted, valsA, lvHeader(chain, 20, valsA, valsA, keysA, allIdx(4), func(h *types.Header) { h.Time = now.Add(time.Minute) }), valsA, now, third, "invalid"},
		{"non-adjacent lower height", trusted, valsA, lvHeader(chain, 5, valsA, valsA, keysA, allIdx(4), nil), valsA, now, third, "invalid"},
		{"non-adjacent same height", trusted, valsA, lvHeader(chain, 10, valsA, valsA, keysA, allIdx(4), nil), valsA, now, third, "invalid"},
		{"non-adjacent other chain", trusted, valsA, lvHeader("other", 20, valsA, valsA, keysA, allIdx(4), nil), valsA, now, third, "invalid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := light.Verify(tc.tHdr, tc.tVals, tc.uHdr, tc.uVals, period, tc.now, drift, tc.level)
			got := verifyLight(tc.tHdr, tc.tVals, tc.uHdr, tc.uVals, period, tc.now, drift, tc.level)
			if lightClass(want) != tc.wantClass {
				t.Fatalf("case expectation stale: CometBFT gives %s (%v), table says %s", lightClass(want), want, tc.wantClass)
			}
			if lightClass(got) != lightClass(want) {
				t.Fatalf("class %s (%v), CometBFT %s (%v)", lightClass(got), got, lightClass(want), want)
			}
			if (got == nil) != (want == nil) || (got != nil && got.Error() != want.Error()) {
				t.Fatalf("error %q, CometBFT %q", got, want)
			}
			// The explicit entry points agree as well.
			if tc.uHdr.Height == tc.tHdr.Height+1 {
				w := light.VerifyAdjacent(tc.tHdr, tc.uHdr, tc.uVals, period, tc.now, drift)
				g := verifyAdjacent(tc.tHdr, tc.uHdr, tc.uVals, period, tc.now, drift)
				if fmt.Sprint(g) != fmt.Sprint(w) || lightClass(g) != lightClass(w) {
					t.Fatalf("adjacent: %v, CometBFT %v", g, w)
				}
			}
			w := light.VerifyNonAdjacent(tc.tHdr, tc.tVals, tc.uHdr, tc.uVals, period, tc.now, drift, tc.level)
			g := verifyNonAdjacent(tc.tHdr, tc.tVals, tc.uHdr, tc.uVals, period, tc.now, drift, tc.level)
			if fmt.Sprint(g) != fmt.Sprint(w) || lightClass(g) != lightClass(w) {
				t.Fatalf("non-adjacent: %v, CometBFT %v", g, w)
			}
		})
	}
}

func TestLightTrustLevelAndExpiry(t *testing.T) {
	for _, nd := range [][2]uint64{{0, 0}, {1, 0}, {0, 1}, {1, 4}, {1, 3}, {2, 6}, {1, 2}, {2, 3}, {1, 1}, {4, 3}, {3, 3}, {100, 301}, {100, 299}} {
		f := cmtmath.Fraction{Numerator: nd[0], Denominator: nd[1]}
		got, want := validateTrustLevel(f), light.ValidateTrustLevel(f)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("trust level %v: %v, CometBFT %v", f, got, want)
		}
	}
	if defaultTrustLevel != light.DefaultTrustLevel {
		t.Errorf("default trust level %v, CometBFT %v", defaultTrustLevel, light.DefaultTrustLevel)
	}
	sh := &types.SignedHeader{Header: &types.Header{Time: lvT0}}
	for _, d := range []time.Duration{-time.Second, -time.Nanosecond, 0, time.Nanosecond, time.Hour} {
		now := lvT0.Add(time.Hour + d)
		if got, want := headerExpired(sh, time.Hour, now), light.HeaderExpired(sh, time.Hour, now); got != want {
			t.Errorf("expiry at period%+v: %v, CometBFT %v", d, got, want)
		}
	}
}
