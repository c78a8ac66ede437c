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
	// Again: the offer had already been redeemed and was redeemed again by the same wallet
	// (same resume key): any access token issued before for it must be dropped.
	Again bool
}

// Resume keys: a wallet may send one with its first redemption (the OpenID4VCI token
// request's lz_resume_key); presenting the code, the PIN and the same key again redeems the
// offer again as long as no credential was issued from it (see RedeemOfferResumable).
const (
	MinResumeKeyLen = 16
	MaxResumeKeyLen = 128
)

// ErrBadResumeKey: a resume key of the wrong length.
var ErrBadResumeKey = errors.New("issuer: resume key must be 16 to 128 characters")

// migrateOffers adds the columns later versions keep about offers to a database created
// before them (SQLite has no ADD COLUMN IF NOT EXISTS).
func migrateOffers(db *sql.DB) error {
	have, err := columns(db, "offers")
	if err != nil {
		return err
	}
	if !have["resume_hash"] {
		if _, err := db.Exec(`ALTER TABLE offers ADD COLUMN resume_hash TEXT NOT NULL DEFAULT ''`); err != nil {
			return err
		}
	}
	if !have["batch_id"] {
		for _, q := range []string{`ALTER TABLE offers ADD COLUMN batch_id TEXT`, `ALTER TABLE offers ADD COLUMN batch_row INTEGER`} {
			if _, err := db.Exec(q); err != nil {
				return err
			}
		}
	}
	_, err = db.Exec(`CREATE UNIQUE INDEX IF NOT EXISTS offers_batch_row ON offers(batch_id, batch_row)`)
	return err
}

// recErr marks a failure of the department's database (Kind: records).
func recErr(what string, err error) error { return fmt.Errorf("%w: %s: %w", ErrRecords, what, err) }

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
	if ttl <= 0 {
		ttl = DefaultOfferTTL
	}
	o, row, err := d.newOffer(p, now, ttl)
	if err != nil {
		return nil, err
	}
	_ = d.PurgeOffers(ctx)
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, recErr("begin", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, insertOfferSQL, row.args()...); err != nil {
		return nil, recErr("offer", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, recErr("commit", err)
	}
	return o, nil
}

// offerRow is an offer as stored: only hashes of its code and PIN, its claims sealed.
type offerRow struct {
	id, codeHash, pinHash, typ, claims string
	validUntil, created, expires       int64
	batchID                            string // "" unless made by a batch
	batchRow                           int
}

const insertOfferSQL = `INSERT INTO offers (id, code_hash, pin_hash, type, claims, valid_until, created_at, expires_at, state, batch_id, batch_row) VALUES (?,?,?,?,?,?,?,?,?,?,?)`

func (r *offerRow) args() []any {
	var batch, row any
	if r.batchID != "" {
		batch, row = r.batchID, r.batchRow
	}
	return []any{r.id, r.codeHash, r.pinHash, r.typ, r.claims, r.validUntil, r.created, r.expires, OfferPending, batch, row}
}

// newOffer makes an offer (random code and PIN) and its stored row, without writing it.
func (d *Department) newOffer(p *prepared, now time.Time, ttl time.Duration) (*Offer, *offerRow, error) {
	o := &Offer{ID: randomID(), Type: p.t.ID, Expires: now.Add(ttl).UTC().Truncate(time.Second)}
	if err := rekey(o); err != nil {
		return nil, nil, err
	}
	claims, err := d.sealClaims(o.ID, p.claims)
	if err != nil {
		return nil, nil, err
	}
	return o, &offerRow{id: o.ID, codeHash: hashHex(o.Code), pinHash: hashHex(o.ID, o.PIN), typ: o.Type, claims: claims,
		validUntil: unixOrZero(p.validUntil), created: now.Unix(), expires: o.Expires.Unix()}, nil
}

// rekey gives an offer a new random pre-authorised code (256 bits) and PIN.
func rekey(o *Offer) error {
	cb := make([]byte, 32)
	if _, err := rand.Read(cb); err != nil {
		return err
	}
	o.Code, o.PIN = base64.RawURLEncoding.EncodeToString(cb), randomPIN()
	return nil
}

// RedeemOffer checks a pre-authorised code and PIN. A wrong PIN counts an attempt; the
// maxAttempts-th wrong PIN burns the offer. Success moves the offer to redeemed (single use).
func (d *Department) RedeemOffer(ctx context.Context, code, pin string, maxAttempts int) (*Redeemed, error) {
	return d.RedeemOfferResumable(ctx, code, pin, "", maxAttempts)
}

// RedeemOfferResumable is RedeemOffer for a wallet that can resume an interrupted receive.
// The first redemption stores a hash of resumeKey (a secret the wallet chose and keeps with
// its pending receive). An offer already redeemed but from which no credential was issued yet
// is redeemed again (Redeemed.Again) when the same code, the right PIN and the same resume key
// are presented, until RedeemedTTL after the offer's expiry — the time a redeemed offer stays
// issuable anyway: a wallet killed after the department accepted its code but before it kept
// the access token gets a new token instead of losing the offer. Without the key, or with
// another, a redeemed offer is ErrOfferUsed as before; an issued offer is always ErrOfferUsed.
// Wrong PINs count against the offer in both cases.
func (d *Department) RedeemOfferResumable(ctx context.Context, code, pin, resumeKey string, maxAttempts int) (*Redeemed, error) {
	if maxAttempts <= 0 {
		maxAttempts = DefaultPINAttempts
	}
	if resumeKey != "" && (len(resumeKey) < MinResumeKeyLen || len(resumeKey) > MaxResumeKeyLen) {
		return nil, ErrBadResumeKey
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, recErr("begin", err)
	}
	defer tx.Rollback()
	var id, pinHash, typ, state, resumeHash string
	var exp int64
	var attempts int
	err = tx.QueryRowContext(ctx, `SELECT id, pin_hash, type, state, expires_at, attempts, resume_hash FROM offers WHERE code_hash = ?`, hashHex(code)).
		Scan(&id, &pinHash, &typ, &state, &exp, &attempts, &resumeHash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &RedeemError{Err: ErrOfferUnknown}
	}
	if err != nil {
		return nil, recErr("offer", err)
	}
	now := d.now()
	again := false
	switch state {
	case OfferPending:
	case OfferRedeemed:
		if resumeKey == "" || resumeHash == "" ||
			subtle.ConstantTimeCompare([]byte(hashHex(id, "resume", resumeKey)), []byte(resumeHash)) != 1 {
			return nil, &RedeemError{OfferID: id, Err: ErrOfferUsed}
		}
		again = true
		exp += int64(RedeemedTTL / time.Second) // a redeemed offer stays issuable this long
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
		st := state // pending, or redeemed (a wrong PIN with the resume key)
		if attempts >= maxAttempts {
			st = OfferBurned
		}
		if _, err := tx.ExecContext(ctx, `UPDATE offers SET attempts = ?, state = ?, claims = CASE WHEN ? = 'burned' THEN '{}' ELSE claims END WHERE id = ?`, attempts, st, st, id); err != nil {
			return nil, recErr("attempts", err)
		}
		if err := tx.Commit(); err != nil {
			return nil, recErr("commit", err)
		}
		if st == OfferBurned {
			return nil, &RedeemError{OfferID: id, Err: ErrOfferBurned}
		}
		return nil, &RedeemError{OfferID: id, AttemptsLeft: maxAttempts - attempts, Err: ErrWrongPIN}
	}
	if again {
		return &Redeemed{OfferID: id, Type: typ, Again: true}, nil // nothing changes
	}
	rh := ""
	if resumeKey != "" {
		rh = hashHex(id, "resume", resumeKey)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE offers SET state = ?, resume_hash = ? WHERE id = ?`, OfferRedeemed, rh, id); err != nil {
		return nil, recErr("redeem", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, recErr("commit", err)
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
		return nil, recErr("offer", err)
	}
	if state != OfferRedeemed {
		return nil, ErrOfferUsed
	}
	claims, err := d.openClaims(offerID, claimsJSON)
	if err != nil {
		return nil, recErr("offer claims", err)
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
	out, err := d.issuePrepared(ctx, []*prepared{p}, now, []string{offerID})
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
