package home

import (
	"context"

	"lianzheng/issuer"
)

// Search lists the department's issuance records, newest first, with their masked holders:
// filtered by type, state and an exact full name or ID number (issuer.Department.Search).
func (d *Department) Search(ctx context.Context, f issuer.SearchFilter) (*issuer.Page, error) {
	return d.core.Search(ctx, f)
}

// PendingOffers are the offers still waiting for the citizen's wallet (at most limit, newest
// first) and how many there are.
func (d *Department) PendingOffers(ctx context.Context, limit int) ([]issuer.PendingOffer, int, error) {
	return d.core.PendingOffers(ctx, limit)
}

// WithdrawOffer burns an offer not yet collected (its claims are erased).
func (d *Department) WithdrawOffer(ctx context.Context, offerID string) error {
	return d.core.WithdrawOffer(ctx, offerID)
}
