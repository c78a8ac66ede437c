package issuer

import (
	"context"
	"errors"
	"fmt"

	"lianzheng/ledger"
)

// MemberReader is the optional part of a Ledger that reads the consortium's member records
// (*ledgerclient.Client has it). The department's own record gives its display name.
type MemberReader interface {
	Member(ctx context.Context, id string) (*ledger.Member, error)
}

// ErrNoMemberRecord: the department's ledger cannot read member records, or holds none for
// the department.
var ErrNoMemberRecord = errors.New("issuer: no member record for the department")

// Member returns the department's member record from the ledger (its name in zh-CN and en,
// as governance registered it).
func (d *Department) Member(ctx context.Context) (*ledger.Member, error) {
	mr, ok := d.ledger.(MemberReader)
	if !ok {
		return nil, ErrNoMemberRecord
	}
	m, err := mr.Member(ctx, d.ID)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoMemberRecord, err)
	}
	return m, nil
}
