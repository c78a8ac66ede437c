package ledgerclient

// Offline across regions. A window that may go offline carries, beside its own region's trust
// snapshot, one snapshot of each region its ledger recognises: an ordinary snapshot of that
// region's ledger (exported by a client of it, Foreign + Export), checked here against the
// agreement the home snapshot proves — the other region's genesis validators and chain id as
// its light-client root, its maximum data age, its validity. Nothing else about the other
// region is trusted, whoever hands the file over.

import (
	"errors"
	"fmt"
	"time"

	"lianzheng/ledger"
)

// Errors of foreign trust (match with errors.Is).
var (
	// ErrForeignUntrusted: the other region's data does not verify against the agreement's
	// root (forged headers or proofs, a validator set that does not follow from the root,
	// another chain).
	ErrForeignUntrusted = errors.New("ledgerclient: the other region's data does not verify against the agreement")
	// ErrForeignStale: the other region's verified data is older than the agreement allows.
	ErrForeignStale = errors.New("ledgerclient: the other region's data is older than the agreement allows")
	// ErrAgreementInactive: no agreement with the region, or not in force at that time.
	ErrAgreementInactive = errors.New("ledgerclient: no mutual-recognition agreement in force with the region")
)

// VerifyForeignSnapshot verifies the other region's snapshot data against rec (this
// region's agreement about it, itself proven: from the home snapshot or ledger) at now:
// the agreement must be in force (ErrAgreementInactive), the snapshot must verify against
// RecognitionRoot(rec) (ErrForeignUntrusted) and be no older than rec.MaxAge()
// (ErrForeignStale, also a *StaleError).
func VerifyForeignSnapshot(rec *ledger.Recognition, data []byte, now time.Time) (*Snapshot, error) {
	if rec == nil || !rec.InForce(now) {
		return nil, ErrAgreementInactive
	}
	root, err := RecognitionRoot(rec)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAgreementInactive, err)
	}
	s, err := VerifySnapshotWith(data, root, now, 0, Options{})
	if err != nil {
		return nil, fmt.Errorf("%w (region %s): %w", ErrForeignUntrusted, rec.Region, err)
	}
	if age := s.Age(now); age > rec.MaxAge() {
		return nil, fmt.Errorf("%w (region %s): %w", ErrForeignStale, rec.Region,
			&StaleError{Height: s.height, Time: s.time, Age: age, MaxAge: rec.MaxAge()})
	}
	return s, nil
}

// VerifyForeignSnapshotFile is VerifyForeignSnapshot on a file.
func VerifyForeignSnapshotFile(rec *ledger.Recognition, path string, now time.Time) (*Snapshot, error) {
	b, err := readSnapshotFile(path)
	if err != nil {
		return nil, err
	}
	return VerifyForeignSnapshot(rec, b, now)
}
