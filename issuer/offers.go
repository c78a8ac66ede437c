package issuer

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"time"

	"lianzheng/did"
)

// Offer states.
const (
	OfferPending  = "pending"  // waiting for the wallet
	OfferRedeemed = "redeemed" // code and PIN accepted: an access token is out
	OfferIssued   = "issued"   // the credential was issued
	OfferBurned   = "burned"   // too many wrong PINs, or withdrawn
	OfferExpired  = "expired"
)

// Offer errors (the OpenID4VCI token endpoint answers invalid_grant to all of them).
var (
	ErrOfferUnknown = errors.New("issuer: unknown pre-authorised code")
	ErrOfferExpired = errors.New("issuer: credential offer expired")
	ErrOfferUsed    = errors.New("issuer: credential offer already used")
	ErrOfferBurned  = errors.New("issuer: credential offer blocked after too many wrong PINs")
	ErrWrongPIN     = errors.New("issuer: wrong transaction PIN")
)

// RedeemError is a refused redemption: which offer it concerned (its record ID, never the
// code; empty when the code matches no offer), how many PIN attempts remain (wrong PIN only)
// and why (one of the Err* values above, for errors.Is).
type RedeemError struct {
	OfferID      string
	AttemptsLeft int
	Err          error
}

func (e *RedeemError) Error() string {
	if errors.Is(e.Err, ErrWrongPIN) {
		return fmt.Sprintf("%v (%d attempt(s) left)", e.Err, e.AttemptsLeft)
	}
	return e.Err.Error()
}

func (e *RedeemError) Unwrap() error { return e.Err }

// DefaultOfferTTL is how long an offer can be redeemed; DefaultPINAttempts the wrong PINs
// that burn it.
const (
	DefaultOfferTTL    = 10 * time.Minute
	DefaultPINAttempts = 5
	PINDigits          = 6
)

// Offer is a pending issuance a wallet redeems with the pre-authorised code and the PIN
// (given to the citizen on another channel: shown at the counter, or by SMS).
type Offer struct {
	ID      string    `json:"id"`
	Type    string    `json:"type"`
	Code    string    `json:"pre_authorized_code"`
	PIN     string    `json:"tx_code"`
	Expires time.Time `json:"expires"`
}

// Redeemed is an offer whose code and PIN were accepted.
type Redeemed struct {
	OfferID string
	Type    string
}

func hashHex(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func randomPIN() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// CreateOffer validates r (authorisation, schema, validity; the holder key comes later
// from the wallet's proof) and stores a pending offer. The claims are kept only until the
// credential is issued or the offer dies. Only hashes of the code and PIN are stored.
func (d *Department) CreateOffer(ctx context.Context, r Request, ttl time.Duration) (*Offer, error) {
	now := d.now()
	p, err := d.prepare(ctx, r, now, false)
	if err != nil {
		return nil, err
	}
	os, err := d.storeOffers(ctx, []*prepared{p}, now, ttl, nil)
	if err != nil {
		return nil, err
	}
	return os[0], nil
}

// stored, if not nil, is called after the i-th offer is written (batch progress).
func (d *Department) storeOffers(ctx context.Context, ps []*prepared, now time.Time, ttl time.Duration, stored func(i int)) ([]*Offer, error) {
	if ttl <= 0 {
		ttl = DefaultOfferTTL
	}
	_ = d.PurgeOffers(ctx)
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	out := make([]*Offer, 0, len(ps))
	for _, p := range ps {
		o, err := d.insertOffer(ctx, tx, p, now, ttl)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
		if stored != nil {
			stored(len(out) - 1)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return out, nil
}

func (d *Department) insertOffer(ctx context.Context, tx *sql.Tx, p *prepared, now time.Time, ttl time.Duration) (*Offer, error) {
	cb := make([]byte, 32)
	if _, err := rand.Read(cb); err != nil {
		return nil, err
	}
	o := &Offer{ID: randomID(), Type: p.t.ID, Code: base64.RawURLEncoding.EncodeToString(cb), PIN: randomPIN(),
		Expires: now.Add(ttl).UTC().Truncate(time.Second)}
	claims, err := d.sealClaims(o.ID, p.claims)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO offers (id, code_hash, pin_hash, type, claims, valid_until, created_at, expires_at, state) VALUES (?,?,?,?,?,?,?,?,?)`,
		o.ID, hashHex(o.Code), hashHex(o.ID, o.PIN), o.Type, claims, unixOrZero(p.validUntil), now.Unix(), o.Expires.Unix(), OfferPending); err != nil {
		return nil, err
	}
	return o, nil
}

// RedeemOffer checks a pre-authorised code and PIN. A wrong PIN counts an attempt; the
// maxAttempts-th wrong PIN burns the offer. Success moves the offer to redeemed (single use).
func (d *Department) RedeemOffer(ctx context.Context, code, pin string, maxAttempts int) (*Redeemed, error) {
	if maxAttempts <= 0 {
		maxAttempts = DefaultPINAttempts
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var id, pinHash, typ, state string
	var exp int64
	var attempts int
	err = tx.QueryRowContext(ctx, `SELECT id, pin_hash, type, state, expires_at, attempts FROM offers WHERE code_hash = ?`, hashHex(code)).
		Scan(&id, &pinHash, &typ, &state, &exp, &attempts)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &RedeemError{Err: ErrOfferUnknown}
	}
	if err != nil {
		return nil, err
	}
	now := d.now()
	switch state {
	case OfferPending:
	case OfferBurned:
		return nil, &RedeemError{OfferID: id, Err: ErrOfferBurned}
	case OfferExpired:
		return nil, &RedeemError{OfferID: id, Err: ErrOfferExpired}
	default:
		return nil, &RedeemError{OfferID: id, Err: ErrOfferUsed}
	}
	if now.Unix() >= exp {
		if _, err := tx.ExecContext(ctx, `UPDATE offers SET state = ?, claims = '{}' WHERE id = ?`, OfferExpired, id); err == nil {
			_ = tx.Commit()
		}
		return nil, &RedeemError{OfferID: id, Err: ErrOfferExpired}
	}
	if subtle.ConstantTimeCompare([]byte(hashHex(id, pin)), []byte(pinHash)) != 1 {
		attempts++
		st := OfferPending
		if attempts >= maxAttempts {
			st = OfferBurned
		}
		if _, err := tx.ExecContext(ctx, `UPDATE offers SET attempts = ?, state = ?, claims = CASE WHEN ? = 'burned' THEN '{}' ELSE claims END WHERE id = ?`, attempts, st, st, id); err != nil {
			return nil, err
		}
		if err := tx.Commit(); err != nil {
			return nil, err
		}
		if st == OfferBurned {
			return nil, &RedeemError{OfferID: id, Err: ErrOfferBurned}
		}
		return nil, &RedeemError{OfferID: id, AttemptsLeft: maxAttempts - attempts, Err: ErrWrongPIN}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE offers SET state = ? WHERE id = ?`, OfferRedeemed, id); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return &Redeemed{OfferID: id, Type: typ}, nil
}

// IssueOffer issues a redeemed offer's credential to the holder key proven by the wallet.
// The offer's claims are erased in the same transaction that stores the record.
func (d *Department) IssueOffer(ctx context.Context, offerID string, holder did.PublicKey) (*Issued, error) {
	var typ, claimsJSON, state string
	var until int64
	err := d.db.QueryRowContext(ctx, `SELECT type, claims, state, valid_until FROM offers WHERE id = ?`, offerID).Scan(&typ, &claimsJSON, &state, &until)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrOfferUnknown
	}
	if err != nil {
		return nil, err
	}
	if state != OfferRedeemed {
		return nil, ErrOfferUsed
	}
	claims, err := d.openClaims(offerID, claimsJSON)
	if err != nil {
		return nil, err
	}
	r := Request{Type: typ, Claims: claims, Holder: holder}
	if until != 0 {
		r.ValidUntil = time.Unix(until, 0)
	}
	now := d.now()
	t, err := d.Type(ctx, typ) // authorisation re-checked at issuance time
	if err != nil {
		return nil, err
	}
	p, err := d.prepareType(t, r, now, true)
	if err != nil {
		return nil, err
	}
	out, err := d.issuePrepared(ctx, []*prepared{p}, now, []string{offerID}, nil)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

func offerIssued(ctx context.Context, tx *sql.Tx, offerID, recordID string, now time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE offers SET state = ?, claims = '{}', record_id = ? WHERE id = ? AND state = ?`,
		OfferIssued, recordID, offerID, OfferRedeemed)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrOfferUsed
	}
	return nil
}

// WithdrawOffer burns a pending or redeemed offer (its claims are erased).
func (d *Department) WithdrawOffer(ctx context.Context, offerID string) error {
	res, err := d.db.ExecContext(ctx, `UPDATE offers SET state = ?, claims = '{}' WHERE id = ? AND state IN (?, ?)`,
		OfferBurned, offerID, OfferPending, OfferRedeemed)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrOfferUnknown
	}
	return nil
}

// OfferState returns an offer's state and failed PIN attempts.
func (d *Department) OfferState(ctx context.Context, offerID string) (state string, attempts int, err error) {
	err = d.db.QueryRowContext(ctx, `SELECT state, attempts FROM offers WHERE id = ?`, offerID).Scan(&state, &attempts)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrOfferUnknown
	}
	return
}

// RedeemedTTL is how long a redeemed offer waits for its credential request.
const RedeemedTTL = 10 * time.Minute

// PurgeOffers marks expired offers and erases the claims of every offer that can no
// longer be issued (expired, burned, or redeemed but not collected within RedeemedTTL).
func (d *Department) PurgeOffers(ctx context.Context) error {
	now := d.now().Unix()
	_, err := d.db.ExecContext(ctx, `UPDATE offers SET state = ?, claims = '{}' WHERE (state = ? AND expires_at <= ?) OR (state = ? AND expires_at + ? <= ?)`,
		OfferExpired, OfferPending, now, OfferRedeemed, int64(RedeemedTTL/time.Second), now)
	return err
}
