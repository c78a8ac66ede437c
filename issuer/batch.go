package issuer

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"lianzheng/internal/bilingual"
	"strconv"
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

// BatchOptions tune a batch.
type BatchOptions struct {
	// OfferTTL is the lifetime of the offers a batch without holder keys creates (0: the
	// default).
	OfferTTL time.Duration
	// Progress, if set, is called on the calling goroutine with done rising monotonically
	// from 0 to total = 2 × rows: one step per row validated, then one step per row issued
	// (signed, or its offer written) up to total-1; total itself only once the batch's
	// single database transaction has committed, so done reaches total only when everything
	// is issued; a batch with invalid rows stops at rows (half way) and issues nothing.
	Progress func(done, total int)
}

// Batch validates every row first (authorisation once, schema and holder key per row) and
// issues nothing unless all rows are valid; then it issues every credential (rows with
// holders) or creates every offer (no holder column) in one database transaction: all or
// nothing. Mixed rows (some with a holder, some without) are an error.
func (d *Department) Batch(ctx context.Context, typeID string, rows []BatchRow, offerTTL time.Duration) (*BatchResult, error) {
	return d.BatchWith(ctx, typeID, rows, BatchOptions{OfferTTL: offerTTL})
}

// BatchWith is Batch with options (progress reporting). A cancelled ctx stops the
// validation; once issuing has started, cancellation rolls the whole transaction back.
func (d *Department) BatchWith(ctx context.Context, typeID string, rows []BatchRow, opt BatchOptions) (*BatchResult, error) {
	t, err := d.Type(ctx, typeID)
	if err != nil {
		return nil, err
	}
	now := d.now()
	res := &BatchResult{Rows: len(rows)}
	if len(rows) == 0 {
		return res, errors.New("issuer: empty batch")
	}
	total := 2 * len(rows)
	progress := func(done int) {
		if opt.Progress != nil {
			opt.Progress(done, total)
		}
	}
	progress(0)
	withHolder := rows[0].Holder != ""
	ps := make([]*prepared, len(rows))
	for i, r := range rows {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var fe []FieldError
		req := Request{Type: typeID, Claims: r.Claims}
		if (r.Holder != "") != withHolder {
			fe = append(fe, FieldError{Field: HolderColumn, Code: "required", Text: bilingual.Text{Zh: "持有人密钥（holder）须每行都填或都不填", En: "holder must be given on every row or on none"}})
		} else if withHolder {
			k, err := did.ParseKey(r.Holder)
			if err != nil {
				fe = append(fe, FieldError{Field: HolderColumn, Code: "type_did_key", Text: bilingual.Text{Zh: "持有人密钥应为 did:key", En: "holder must be a did:key"}})
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
		progress(i + 1)
		if len(fe) > 0 {
			res.Errors = append(res.Errors, RowError{Row: i + 1, Fields: fe})
			continue
		}
		ps[i] = p
	}
	if len(res.Errors) > 0 {
		return res, ErrBatchInvalid
	}
	// the second half: one step per credential signed (or offer written); total only once
	// the transaction has committed
	step := func(i int) { progress(len(rows) + i) }
	if withHolder {
		offers := make([]string, len(ps))
		if res.Issued, err = d.issuePrepared(ctx, ps, now, offers, step); err != nil {
			return nil, err
		}
	} else if res.Offers, err = d.storeOffers(ctx, ps, now, opt.OfferTTL, step); err != nil {
		return nil, err
	}
	progress(total)
	return res, nil
}

// WriteBatchCSV writes a successful batch's result CSV: for offers
// row,offer_id,tx_code,offer_uri (offerURI renders each offer as its OpenID4VCI offer URI);
// for credentials bound to a holder row,record_id,sd_jwt. The offers' tx_code column holds
// their PINs: the file is to be kept like the PINs themselves.
func WriteBatchCSV(w io.Writer, res *BatchResult, offerURI func(*Offer) string) error {
	if res == nil {
		return errors.New("issuer: no batch result")
	}
	cw := csv.NewWriter(w)
	if res.Offers != nil {
		_ = cw.Write([]string{"row", "offer_id", "tx_code", "offer_uri"})
		for i, o := range res.Offers {
			_ = cw.Write([]string{strconv.Itoa(i + 1), o.ID, o.PIN, offerURI(o)})
		}
	} else {
		_ = cw.Write([]string{"row", "record_id", "sd_jwt"})
		for i, is := range res.Issued {
			_ = cw.Write([]string{strconv.Itoa(i + 1), is.Record.ID, is.SDJWT})
		}
	}
	cw.Flush()
	return cw.Error()
}
