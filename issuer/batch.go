package issuer

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"lianzheng/did"
)

// HolderColumn is the optional CSV column holding each row's holder key as a did:key. With
// it, a batch issues credentials directly; without it, it creates one offer per row.
const HolderColumn = "holder"

// MaxBatchRows bounds a batch.
const MaxBatchRows = 100_000

// ErrBatchInvalid: at least one row failed validation; nothing was issued.
var ErrBatchInvalid = errors.New("issuer: batch has invalid rows; nothing was issued")

// RowError is a problem with one CSV data row (Row 1 = the first line after the header).
type RowError struct {
	Row    int          `json:"row"`
	Fields []FieldError `json:"fields"`
}

// BatchRow is one parsed CSV row.
type BatchRow struct {
	Claims map[string]any
	Holder string // did:key, empty without a holder column
}

// ReadCSV reads a batch: a header of claim names (and optionally "holder"), then one
// credential per row. Empty cells are absent claims. A UTF-8 BOM is tolerated.
func ReadCSV(r io.Reader) ([]BatchRow, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = false
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("issuer: CSV header: %w", err)
	}
	if len(head) > 0 {
		head[0] = strings.TrimPrefix(head[0], "\ufeff")
	}
	seen := map[string]bool{}
	for i, h := range head {
		head[i] = strings.TrimSpace(h)
		if head[i] == "" || seen[head[i]] {
			return nil, fmt.Errorf("issuer: CSV header: empty or repeated column %q", head[i])
		}
		seen[head[i]] = true
	}
	var rows []BatchRow
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("issuer: CSV: %w", err)
		}
		if len(rows) >= MaxBatchRows {
			return nil, fmt.Errorf("issuer: CSV has more than %d rows", MaxBatchRows)
		}
		row := BatchRow{Claims: make(map[string]any, len(head))}
		for i, v := range rec {
			if head[i] == HolderColumn {
				row.Holder = strings.TrimSpace(v)
			} else if strings.TrimSpace(v) != "" {
				row.Claims[head[i]] = v
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// BatchResult is the outcome of a batch: either Errors (nothing issued) or one Offer or
// Issued per row, in row order.
type BatchResult struct {
	Rows   int
	Errors []RowError
	Offers []*Offer
	Issued []*Issued
}

// Batch validates every row first (authorisation once, schema and holder key per row) and
// issues nothing unless all rows are valid; then it issues every credential (rows with
// holders) or creates every offer (no holder column) in one database transaction: all or
// nothing. Mixed rows (some with a holder, some without) are an error.
func (d *Department) Batch(ctx context.Context, typeID string, rows []BatchRow, offerTTL time.Duration) (*BatchResult, error) {
	t, err := d.Type(ctx, typeID)
	if err != nil {
		return nil, err
	}
	now := d.now()
	res := &BatchResult{Rows: len(rows)}
	if len(rows) == 0 {
		return res, errors.New("issuer: empty batch")
	}
	withHolder := rows[0].Holder != ""
	ps := make([]*prepared, len(rows))
	for i, r := range rows {
		var fe []FieldError
		req := Request{Type: typeID, Claims: r.Claims}
		if (r.Holder != "") != withHolder {
			fe = append(fe, FieldError{Field: HolderColumn, Code: "required", Zh: "持有人密钥（holder）须每行都填或都不填", En: "holder must be given on every row or on none"})
		} else if withHolder {
			k, err := did.ParseKey(r.Holder)
			if err != nil {
				fe = append(fe, FieldError{Field: HolderColumn, Code: "type_did_key", Zh: "持有人密钥应为 did:key", En: "holder must be a did:key"})
			}
			req.Holder = k
		}
		p, err := d.prepareType(t, req, now, withHolder && len(fe) == 0)
		var ve *ValidationError
		switch {
		case errors.As(err, &ve):
			fe = append(fe, ve.Fields...)
		case err != nil:
			return nil, err
		}
		if len(fe) > 0 {
			res.Errors = append(res.Errors, RowError{Row: i + 1, Fields: fe})
			continue
		}
		ps[i] = p
	}
	if len(res.Errors) > 0 {
		return res, ErrBatchInvalid
	}
	if withHolder {
		offers := make([]string, len(ps))
		if res.Issued, err = d.issuePrepared(ctx, ps, now, offers); err != nil {
			return nil, err
		}
		return res, nil
	}
	if res.Offers, err = d.storeOffers(ctx, ps, now, offerTTL); err != nil {
		return nil, err
	}
	return res, nil
}
