package issuer

// The holder index: how a department finds a citizen's credential without keeping the
// citizen's data readable.
//
// For every record the department keeps, in the table record_holders:
//   - display: the masked holder ("张* 1101**********002X", Holder) as JSON, sealed with the
//     department's Sealer (its key store) and bound to the department and record id;
//   - name_mac, number_mac: HMAC-SHA256 of the normalised full name and of the normalised full
//     ID number (or credit code), under a random 256-bit key that is itself kept only sealed
//     (meta 'holder_mac_key').
// Nothing else of the claims is kept once a credential is issued. A lookup is exact: the
// operator types the full name or the full number, the department computes its keyed hashes
// and selects the equal ones. Without the key store's passphrase the file yields neither the
// masked forms nor a way to test guesses against the hashes (which a plain hash of an ID
// number, from a space of ~10^10, would allow). Offers' claims are sealed the same way until
// the credential is issued or the offer dies.
//
// Threats not addressed here: an operator who holds the passphrase sees every masked holder
// and can test any full name or number (that is the purpose); the process memory holds the
// unsealed key while the department is open.

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

const holderSchemaSQL = `
CREATE TABLE IF NOT EXISTS record_holders (
  record_id TEXT PRIMARY KEY,
  display BLOB NOT NULL,
  name_mac TEXT NOT NULL DEFAULT '',
  number_mac TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS record_holders_name ON record_holders(name_mac);
CREATE INDEX IF NOT EXISTS record_holders_number ON record_holders(number_mac);
CREATE INDEX IF NOT EXISTS records_issued ON records(issued_at DESC, id);
CREATE INDEX IF NOT EXISTS records_type_issued ON records(type, issued_at DESC, id);
CREATE INDEX IF NOT EXISTS records_state_issued ON records(state, issued_at DESC, id);
CREATE INDEX IF NOT EXISTS records_type_state_issued ON records(type, state, issued_at DESC, id);
CREATE INDEX IF NOT EXISTS offers_pending ON offers(state, created_at DESC, id);
CREATE INDEX IF NOT EXISTS records_batch ON records(batch_id, state);
`

// sealedClaims starts an offer's claims sealed with the department's Sealer (base64 of the
// ciphertext follows); legacy offers hold their claims as JSON ('{'), and are sealed on Open.
const sealedClaims = "sealed:"

// openHolderIndex creates the holder index (a database made before it gets it here: its
// records list as NoHolder, having kept no claims to fill it from), unseals or makes the
// keyed-hash key and seals the claims of offers stored before offers were sealed.
func (d *Department) openHolderIndex(ctx context.Context) error {
	if _, err := d.db.ExecContext(ctx, holderSchemaSQL); err != nil {
		return fmt.Errorf("issuer: holder index schema: %w", err)
	}
	aad := []byte("lz-issuer/holder-mac-key/" + d.ID)
	var sealed []byte
	switch err := d.db.QueryRowContext(ctx, `SELECT v FROM meta WHERE k = 'holder_mac_key'`).Scan(&sealed); {
	case errors.Is(err, sql.ErrNoRows):
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return err
		}
		if sealed, err = d.sealer.Seal(key, aad); err != nil {
			return fmt.Errorf("issuer: seal the holder index key: %w", err)
		}
		if _, err := d.db.ExecContext(ctx, `INSERT INTO meta (k, v) VALUES ('holder_mac_key', ?)`, sealed); err != nil {
			return err
		}
		d.macKey = key
	case err != nil:
		return err
	default:
		key, err := d.sealer.Unseal(sealed, aad)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrSealedElsewhere, err)
		}
		d.macKey = key
	}
	return d.sealLegacyOffers(ctx)
}

// ErrSealedElsewhere: the database's holder index key does not open with this Sealer (the
// database belongs to another key store).
var ErrSealedElsewhere = errors.New("issuer: the database's sealed data does not open with this key store")

// sealLegacyOffers seals the claims that offers made before sealing hold in the clear, then
// checkpoints the write-ahead log away (with secure_delete on, the clear bytes are zeroed).
func (d *Department) sealLegacyOffers(ctx context.Context) error {
	rows, err := d.db.QueryContext(ctx, `SELECT id, claims FROM offers WHERE claims != '{}' AND claims NOT LIKE 'sealed:%'`)
	if err != nil {
		return err
	}
	type legacy struct{ id, claims string }
	var todo []legacy
	for rows.Next() {
		var l legacy
		if err := rows.Scan(&l.id, &l.claims); err != nil {
			rows.Close()
			return err
		}
		todo = append(todo, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(todo) == 0 {
		return err
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, l := range todo {
		ct, err := d.sealer.Seal([]byte(l.claims), offerAAD(d.ID, l.id))
		if err != nil {
			return fmt.Errorf("issuer: seal offer %s: %w", l.id, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE offers SET claims = ? WHERE id = ?`, sealedClaims+base64.StdEncoding.EncodeToString(ct), l.id); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = d.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

func offerAAD(dept, offerID string) []byte {
	return []byte("lz-issuer/offer-claims/" + dept + "/" + offerID)
}
func holderAAD(dept, recordID string) []byte {
	return []byte("lz-issuer/holder/" + dept + "/" + recordID)
}

// sealClaims is an offer's claims as stored.
func (d *Department) sealClaims(offerID string, claims map[string]any) (string, error) {
	b, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	ct, err := d.sealer.Seal(b, offerAAD(d.ID, offerID))
	if err != nil {
		return "", fmt.Errorf("issuer: seal offer claims: %w", err)
	}
	return sealedClaims + base64.StdEncoding.EncodeToString(ct), nil
}

// openClaims reads an offer's stored claims (sealed, or legacy JSON).
func (d *Department) openClaims(offerID, stored string) (map[string]any, error) {
	b := []byte(stored)
	if rest, ok := strings.CutPrefix(stored, sealedClaims); ok {
		ct, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return nil, fmt.Errorf("issuer: offer %s claims: %w", offerID, err)
		}
		if b, err = d.sealer.Unseal(ct, offerAAD(d.ID, offerID)); err != nil {
			return nil, fmt.Errorf("issuer: offer %s claims do not unseal: %w", offerID, err)
		}
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil {
		return nil, fmt.Errorf("issuer: offer %s claims: %w", offerID, err)
	}
	return claims, nil
}

// mac is the keyed hash of a normalised value in a domain ("name", "number"); names are
// compared without case (Latin-script names).
func (d *Department) mac(domain, v string) string {
	if v == "" {
		return ""
	}
	if domain == "name" {
		v = strings.ToLower(v)
	}
	m := hmac.New(sha256.New, d.macKey)
	m.Write([]byte(domain))
	m.Write([]byte{0})
	m.Write([]byte(v))
	return hex.EncodeToString(m.Sum(nil))
}

// holderRow is a record's row of the holder index.
type holderRow struct {
	recordID           string
	display            []byte
	nameMAC, numberMAC string
}

func (d *Department) holderRow(recordID string, claims map[string]any) (*holderRow, error) {
	h, nameKey, numberKey := holderOf(claims)
	b, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	ct, err := d.sealer.Seal(b, holderAAD(d.ID, recordID))
	if err != nil {
		return nil, fmt.Errorf("issuer: seal the record's holder: %w", err)
	}
	return &holderRow{display: ct, nameMAC: d.mac("name", nameKey), numberMAC: d.mac("number", numberKey), recordID: recordID}, nil
}

const insertHolderSQL = `INSERT INTO record_holders (record_id, display, name_mac, number_mac) VALUES (?,?,?,?)`

func insertHolder(ctx context.Context, tx *sql.Tx, h *holderRow) error {
	_, err := tx.ExecContext(ctx, insertHolderSQL, h.recordID, h.display, h.nameMAC, h.numberMAC)
	return err
}

func (d *Department) openHolder(recordID string, sealed []byte) (*Holder, error) {
	if sealed == nil {
		return nil, nil
	}
	b, err := d.sealer.Unseal(sealed, holderAAD(d.ID, recordID))
	if err != nil {
		return nil, fmt.Errorf("issuer: record %s holder does not unseal: %w", recordID, err)
	}
	var h Holder
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("issuer: record %s holder: %w", recordID, err)
	}
	return &h, nil
}

// SearchFilter selects records for Search. Zero values select everything.
type SearchFilter struct {
	Type  string
	State string
	// Query is a holder's full name or full ID number (or an organisation's name or credit
	// code), matched exactly after normalisation (NormaliseName, NormaliseNumber): the
	// department keeps only keyed hashes of them, so there is no partial match.
	Query  string
	Limit  int // page size: default 50, at most 1000
	Offset int // records to skip (page number × size)
	// After continues after a page's last record (Page.Next: keyset paging, stable while
	// records are added); Offset is then ignored.
	After string
}

// MaxPage is the largest page Search returns.
const MaxPage = 1000

// Listed is a record with its holder (nil: not known — a record from before the holder
// index, shown as NoHolder).
type Listed struct {
	Record
	Holder *Holder `json:"holder,omitempty"`
}

// Page is one page of Search.
type Page struct {
	Records []Listed `json:"records"`
	Total   int      `json:"total"`          // records matching the filter, on every page
	Next    string   `json:"next,omitempty"` // SearchFilter.After for the next page; "" on the last
}

// ErrBadCursor: SearchFilter.After is not a Page.Next.
var ErrBadCursor = errors.New("issuer: bad page cursor")

// Search lists records newest first (issue time, then record id: a stable order), with their
// masked holders, filtered by type, state and an exact holder name or number, one page at a
// time.
func (d *Department) Search(ctx context.Context, f SearchFilter) (*Page, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, MaxPage)
	var where []string
	var args []any
	if f.Type != "" {
		where, args = append(where, "r.type = ?"), append(args, f.Type)
	}
	if f.State != "" {
		where, args = append(where, "r.state = ?"), append(args, f.State)
	}
	if name, number := NormaliseName(f.Query), NormaliseNumber(f.Query); name != "" {
		where = append(where, "r.id IN (SELECT record_id FROM record_holders WHERE name_mac = ? UNION SELECT record_id FROM record_holders WHERE number_mac = ?)")
		args = append(args, d.mac("name", name), d.mac("number", number))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	p := &Page{}
	if err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM records r`+cond, args...).Scan(&p.Total); err != nil {
		return nil, err
	}
	offset := f.Offset
	if f.After != "" {
		at, id, err := parseCursor(f.After)
		if err != nil {
			return nil, err
		}
		// (the first term bounds the index range; the second breaks ties by id)
		where = append(where, "r.issued_at <= ? AND (r.issued_at < ? OR r.id > ?)")
		args = append(args, at, at, id)
		cond, offset = " WHERE "+strings.Join(where, " AND "), 0
	}
	cols := "r." + strings.ReplaceAll(recordCols, ", ", ", r.")
	rows, err := d.db.QueryContext(ctx, `SELECT `+cols+`, h.display FROM records r LEFT JOIN record_holders h ON h.record_id = r.id`+
		cond+` ORDER BY r.issued_at DESC, r.id LIMIT ? OFFSET ?`, append(args, f.Limit+1, max(offset, 0))...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var display []byte
		r, err := scanRecord(withExtra{rows, []any{&display}})
		if err != nil {
			return nil, err
		}
		if len(p.Records) == f.Limit {
			last := p.Records[len(p.Records)-1].Record
			p.Next = strconv.FormatInt(last.IssuedAt.Unix(), 10) + "." + last.ID
			break
		}
		h, err := d.openHolder(r.ID, display)
		if err != nil {
			return nil, err
		}
		p.Records = append(p.Records, Listed{Record: *r, Holder: h})
	}
	return p, rows.Err()
}

func parseCursor(s string) (int64, string, error) {
	at, id, ok := strings.Cut(s, ".")
	t, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || id == "" {
		return 0, "", fmt.Errorf("%w: %q", ErrBadCursor, s)
	}
	return t, id, nil
}

// withExtra scans a row's record columns followed by extra ones.
type withExtra struct {
	s     interface{ Scan(...any) error }
	extra []any
}

func (w withExtra) Scan(dest ...any) error { return w.s.Scan(append(dest, w.extra...)...) }

// PendingOffer is an offer waiting for the citizen's wallet.
type PendingOffer struct {
	ID      string    `json:"id"`
	Type    string    `json:"type"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	Holder  *Holder   `json:"holder,omitempty"`
}

// PendingOffers lists the offers still open (pending and not expired), newest first, at
// most limit (default 50) of them, with their masked holders, and how many there are.
func (d *Department) PendingOffers(ctx context.Context, limit int) ([]PendingOffer, int, error) {
	if limit <= 0 {
		limit = 50
	}
	now := d.now().Unix()
	var total int
	if err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM offers WHERE state = ? AND expires_at > ?`, OfferPending, now).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := d.db.QueryContext(ctx, `SELECT id, type, created_at, expires_at, claims FROM offers WHERE state = ? AND expires_at > ? ORDER BY created_at DESC, id LIMIT ?`,
		OfferPending, now, limit)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []PendingOffer
	for rows.Next() {
		var o PendingOffer
		var created, exp int64
		var stored string
		if err := rows.Scan(&o.ID, &o.Type, &created, &exp, &stored); err != nil {
			return nil, 0, err
		}
		o.Created, o.Expires = time.Unix(created, 0).UTC(), time.Unix(exp, 0).UTC()
		claims, err := d.openClaims(o.ID, stored)
		if err != nil {
			return nil, 0, err
		}
		h, _, _ := holderOf(claims)
		o.Holder = &h
		out = append(out, o)
	}
	return out, total, rows.Err()
}
