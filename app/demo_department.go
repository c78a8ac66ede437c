package app

import (
	"context"
	"io"
	"time"

	"lianzheng/issuer"
	"lianzheng/issuer/oid4vci"
	"lianzheng/ledger"
)

// deptCore binds DepartmentCore to issuer.Department.
type deptCore struct {
	d   *issuer.Department
	srv *oid4vci.Server
}

func (d *deptCore) ID() string { return d.d.ID }
func (d *deptCore) Types(ctx context.Context) ([]ledger.CredentialType, error) {
	return d.d.Types(ctx)
}
func (d *deptCore) Check(ctx context.Context, r issuer.Request) error { return d.d.Check(ctx, r) }

// Offer creates a pre-authorised offer (issuer core) and renders it as the OpenID4VCI offer
// URI and QR of the department's service.
func (d *deptCore) Offer(ctx context.Context, r issuer.Request) (*OfferResult, error) {
	o, err := d.d.CreateOffer(ctx, r, 0)
	if err != nil {
		return nil, err
	}
	png, err := oid4vci.OfferQR(d.srv.IssuerURL, o)
	if err != nil {
		return nil, err
	}
	return &OfferResult{Text: d.srv.OfferURI(o), PNG: png, PIN: o.PIN, Expires: o.Expires}, nil
}
func (d *deptCore) Records(ctx context.Context) ([]issuer.Record, error) {
	return d.d.Records(ctx, issuer.ListFilter{})
}
func (d *deptCore) SetStatus(ctx context.Context, id, action string) error {
	_, _, err := d.d.SetStatus(ctx, id, action)
	return err
}

// Batch reads a CSV (a header of claim names, optionally a holder column of did:key), issues
// the rows as one batch (all or nothing, progress reported by the issuer core) and writes
// the result CSV to out (issuer.WriteBatchCSV; offers rendered as this service's offer URIs).
// Nothing is written to out when the batch fails.
func (d *deptCore) Batch(ctx context.Context, typeID string, in io.Reader, out io.Writer, progress func(done, total int)) (*issuer.BatchResult, error) {
	rows, err := issuer.ReadCSV(in)
	if err != nil {
		return nil, err
	}
	res, err := d.d.BatchWith(ctx, typeID, rows, issuer.BatchOptions{OfferTTL: 24 * time.Hour, Progress: progress})
	if err != nil {
		return res, err
	}
	return res, issuer.WriteBatchCSV(out, res, d.srv.OfferURI)
}
