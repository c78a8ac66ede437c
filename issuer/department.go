// Package issuer is a department's issuing core: credential types from the ledger's
// catalogue (only those the catalogue authorises the department for), input validated
// against the type's schema with field-level errors, credentials issued as SD-JWT VC
// (bound to the holder's key) and as the same W3C VC 2.0 with an eddsa-rdfc-2022 proof,
// a random never-reused status index per credential, issuance records in SQLite (no claim
// values; the holder's masked name and number sealed, and keyed hashes to find them:
// search.go), and suspension, resumption and revocation written to the ledger's status lists
// (lists.go: as many lists as the department's credentials need), one at a time or in bulk
// (bulk.go). Batches stream from a CSV file through all cores into bounded transactions and
// resume after a crash with no row issued twice (batch.go).
//
// The OpenID4VCI service over it is the sub-package oid4vci.
package issuer

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"lianzheng/internal/bilingual"
	"slices"
	"strings"
	"sync"
	"time"

	"lianzheng/credential/dataintegrity"
	"lianzheng/credential/jws"
	"lianzheng/credential/sdjwtvc"
	"lianzheng/credential/statuslist"
	"lianzheng/did"
	"lianzheng/ledger"
	"lianzheng/ledgerclient"
)

// Ledger is what the department needs of the consortium ledger; *ledgerclient.Client is
// the implementation (verified reads, confirmed writes).
type Ledger interface {
	Type(ctx context.Context, id string) (*ledger.CredentialType, error)
	Types(ctx context.Context) ([]ledger.CredentialType, error)
	History(ctx context.Context, d string) (*did.History, error)
	// Params are the consortium parameters; PublicBaseURL names the status lists.
	Params(ctx context.Context) (*ledger.Params, error)
	ChainID() string
	// SubmitRaw broadcasts a signed envelope and confirms it committed.
	SubmitRaw(ctx context.Context, txType string, tx []byte) (*ledgerclient.TxResult, error)
}

var _ Ledger = (*ledgerclient.Client)(nil)

// Errors (match with errors.Is).
var (
	ErrUnknownType    = errors.New("issuer: credential type not in the ledger catalogue")
	ErrNotAuthorised  = errors.New("issuer: department not authorised by the catalogue to issue this type")
	ErrBadTransition  = errors.New("issuer: status change not allowed from the record's state")
	ErrKeyNotOnLedger = errors.New("issuer: signing key is not a valid assertion key of the department's DID on the ledger")
)

// NotAuthorisedError says which department may not issue which type.
type NotAuthorisedError struct {
	Department string
	Type       string
	Issuers    []string // who may
}

func (e *NotAuthorisedError) Error() string {
	return fmt.Sprintf("issuer: %s is not authorised by the catalogue to issue %s (issuers: %s)", e.Department, e.Type, strings.Join(e.Issuers, ", "))
}

// Unwrap makes errors.Is(err, ErrNotAuthorised) hold.
func (e *NotAuthorisedError) Unwrap() error { return ErrNotAuthorised }

// Config opens a Department.
type Config struct {
	ID string // member id, e.g. "civil-affairs"
	// Signer signs credentials and ledger transactions with the department's Ed25519 key
	// (registered in its did:lz history): a sealed key store's signer
	// (internal/keystore.Store.Signer) or jws.NewEd25519Signer.
	Signer jws.Signer
	// Key is an unsealed Ed25519 key, used when Signer is nil (tests, demos).
	Key    ed25519.PrivateKey
	KeyID  string // optional: expected DID URL of Key; found from the ledger if empty
	Ledger Ledger
	DBPath string // SQLite file for records, offers and the status allocator
	// Sealer seals the personal data kept in DBPath (offers' claims, records' masked holders,
	// the holder index key): the department's unlocked key store, or DemoSealer in demos and
	// tests. Required.
	Sealer Sealer
	Now    func() time.Time // default time.Now

	listSize int // entries per status list (tests: small lists); default ledger.StatusListSize
}

// Department issues credentials for one consortium member.
type Department struct {
	ID, DID string
	// KeyID is the DID URL of the signing key (changes with Rotate; read it with CurrentKeyID
	// while other goroutines may rotate).
	KeyID string

	signer jws.Signer
	ledger Ledger
	db     *sql.DB
	now    func() time.Time

	mu    sync.Mutex // signer and KeyID (Rotate holds it: issuance pauses)
	lists *lists     // status-list allocator (lists.go)

	statusMu sync.Mutex // status changes, single and bulk (bulk.go)

	batchMu sync.Mutex
	running map[string]bool // batches running in this process

	sealer Sealer
	macKey []byte // the holder index's keyed-hash key (search.go), unsealed at Open

	group groupCommitter // single issuances committed together (groupcommit.go)
}

// Open checks the key against the department's DID history on the ledger (it must be an
// assertion method valid now) and opens the department's database.
func Open(ctx context.Context, c Config) (*Department, error) {
	if !did.ValidLZID(c.ID) {
		return nil, fmt.Errorf("issuer: invalid department id %q", c.ID)
	}
	if c.Signer == nil && len(c.Key) == ed25519.PrivateKeySize {
		c.Signer = jws.NewEd25519Signer(c.Key)
	}
	if c.Signer == nil || c.Ledger == nil || c.DBPath == "" {
		return nil, errors.New("issuer: Config needs Signer (or Key), Ledger and DBPath")
	}
	if c.Sealer == nil {
		return nil, ErrNoSealer
	}
	if _, ok := c.Signer.Public().(ed25519.PublicKey); !ok || c.Signer.Alg() != jws.AlgEdDSA {
		return nil, errors.New("issuer: the department signer must be Ed25519 (EdDSA)")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	d := &Department{ID: c.ID, DID: "did:lz:" + c.ID, signer: c.Signer, ledger: c.Ledger, now: c.Now, sealer: c.Sealer,
		running: map[string]bool{}}
	kid, err := d.findKey(ctx, c.KeyID)
	if err != nil {
		return nil, err
	}
	d.KeyID = kid
	if d.db, err = openDB(c.DBPath); err != nil {
		return nil, err
	}
	if err := d.loadLists(ctx, c.listSize); err != nil {
		d.db.Close()
		return nil, err
	}
	if err := d.openHolderIndex(ctx); err != nil {
		d.db.Close()
		return nil, err
	}
	return d, nil
}

// CurrentKeyID is KeyID, read safely while a rotation may run.
func (d *Department) CurrentKeyID() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.KeyID
}

// Close closes the database.
func (d *Department) Close() error { return d.db.Close() }

func (d *Department) findKey(ctx context.Context, want string) (string, error) {
	h, err := d.ledger.History(ctx, d.DID)
	if err != nil {
		return "", fmt.Errorf("issuer: DID %s on the ledger: %w", d.DID, err)
	}
	pub := d.signer.Public().(ed25519.PublicKey)
	now := d.now()
	for _, r := range h.Keys {
		pk, err := r.PublicKey()
		if err != nil || !pk.Equal(pub) {
			continue
		}
		kid := d.DID + "#" + r.ID
		if want != "" && want != kid {
			continue
		}
		if !r.ValidAt(now) || !r.HasPurpose(did.PurposeAssertion) || h.DeactivatedAt(now) {
			return "", fmt.Errorf("%w: %s (not valid now, or not an assertion method)", ErrKeyNotOnLedger, kid)
		}
		return kid, nil
	}
	return "", fmt.Errorf("%w: %s", ErrKeyNotOnLedger, d.DID)
}

// W3CContext is the @context of the W3C credentials the department issues now (it depends on
// the consortium's public base URL, read from the ledger): what OpenID4VCI metadata
// announces for its ldp_vc configurations.
func (d *Department) W3CContext(ctx context.Context) ([]any, error) {
	base, err := d.statusBase(ctx)
	if err != nil {
		return nil, err
	}
	return dataintegrity.Context(d.refs(base, 0).vocab), nil
}

// ListSigner is the department's current key (its DID URL and signer) for what it publishes
// besides credentials: its status lists (package gateway). After Rotate it is the new key.
func (d *Department) ListSigner() (keyID string, s jws.Signer) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.KeyID, d.signer
}

// key is the current signer and its DID URL, taken together.
func (d *Department) key() (jws.Signer, string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.signer, d.KeyID
}

// statusRefs are the status references of a credential on one of the department's lists:
// with the consortium's public base URL (read from the ledger at issuance) the SD-JWT VC
// names the Token Status List URL and the W3C form two 1-bit list credentials, one per
// purpose, with distinct entry ids; without one, both name the ledger URN (the form before
// December 2026).
type statusRefs struct {
	token                  string
	revocation, suspension string
	vocab                  string // the W3C form's @vocab ("" before a base was set)
}

// statusBase is the consortium's public base URL ("" while none is set): a proven ledger
// read, once per issuance or batch.
func (d *Department) statusBase(ctx context.Context) (string, error) {
	p, err := d.ledger.Params(ctx)
	if err != nil {
		return "", fmt.Errorf("%w: params: %w", ErrCatalogue, err)
	}
	return p.PublicBaseURL, nil
}

// refs are the status references of list n under base.
func (d *Department) refs(base string, n int) statusRefs {
	if base == "" {
		u := ledger.StatusListURI(d.ID, n)
		return statusRefs{token: u, revocation: u, suspension: u}
	}
	return statusRefs{
		token:      ledger.StatusListURL(base, d.ID, n),
		revocation: ledger.StatusListCredentialURL(base, d.ID, n, ledger.PurposeRevocation),
		suspension: ledger.StatusListCredentialURL(base, d.ID, n, ledger.PurposeSuspension),
		vocab:      ledger.VocabularyIRI(base),
	}
}

// Types returns the catalogue types the department is authorised to issue.
func (d *Department) Types(ctx context.Context) ([]ledger.CredentialType, error) {
	all, err := d.ledger.Types(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCatalogue, err)
	}
	var out []ledger.CredentialType
	for _, t := range all {
		if slices.Contains(t.Issuers, d.ID) {
			out = append(out, t)
		}
	}
	return out, nil
}

// Type returns a catalogue type the department may issue, or ErrUnknownType /
// *NotAuthorisedError.
func (d *Department) Type(ctx context.Context, id string) (*ledger.CredentialType, error) {
	t, err := d.ledger.Type(ctx, id)
	if errors.Is(err, ledgerclient.ErrNotFound) {
		return nil, fmt.Errorf("%w: %q", ErrUnknownType, id)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCatalogue, err)
	}
	if !slices.Contains(t.Issuers, d.ID) {
		return nil, &NotAuthorisedError{Department: d.ID, Type: id, Issuers: t.Issuers}
	}
	return t, nil
}

// Request is one credential to issue.
type Request struct {
	Type   string         // catalogue type id
	Claims map[string]any // claim values (typed, or strings as from a form or CSV)
	// ValidUntil: zero means the type's maximum validity; later than that is refused.
	ValidUntil time.Time
	Holder     did.PublicKey // the wallet's key (from its proof of possession)
}

// Issued is one issued credential in both forms.
type Issued struct {
	Record Record
	SDJWT  string         // SD-JWT VC, every disclosure attached, no KB-JWT
	W3C    map[string]any // the same credential as a W3C VC 2.0 with an eddsa-rdfc-2022 proof
}

// prepared is a validated request.
type prepared struct {
	t          *ledger.CredentialType
	claims     map[string]any
	validUntil time.Time
	holder     did.PublicKey
}

// Check validates a request without issuing: authorisation, schema and validity.
func (d *Department) Check(ctx context.Context, r Request) error {
	_, err := d.prepare(ctx, r, d.now(), false)
	return err
}

func (d *Department) prepare(ctx context.Context, r Request, now time.Time, needHolder bool) (*prepared, error) {
	t, err := d.Type(ctx, r.Type)
	if err != nil {
		return nil, err
	}
	return d.prepareType(t, r, now, needHolder)
}

func (d *Department) prepareType(t *ledger.CredentialType, r Request, now time.Time, needHolder bool) (*prepared, error) {
	claims, err := ValidateClaims(t, r.Claims)
	if err != nil {
		return nil, err
	}
	until := r.ValidUntil
	if t.MaxValidityDays > 0 {
		max := now.AddDate(0, 0, t.MaxValidityDays)
		if until.IsZero() {
			until = max
		} else if until.After(max) || !until.After(now) {
			return nil, &ValidationError{Type: t.ID, Fields: []FieldError{{Field: "valid_until", Code: "validity",
				Text: bilingual.Text{Zh: fmt.Sprintf("有效期须晚于现在且不超过 %d 天", t.MaxValidityDays),
					En: fmt.Sprintf("validity must end after now and within %d days", t.MaxValidityDays)}}}}
		}
	}
	if needHolder && r.Holder.Key == nil {
		return nil, errors.New("issuer: the holder's key is required")
	}
	return &prepared{t: t, claims: claims, validUntil: until.UTC().Truncate(time.Second), holder: r.Holder}, nil
}

func randomID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40 // UUID v4
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// W3CType maps a catalogue id to a W3C VC type name (ledger.W3CType).
func W3CType(id string) string { return ledger.W3CType(id) }

// signingKey is the key a credential is signed with (taken once per credential: Rotate may
// switch it between two).
type signingKey struct {
	kid string
	s   jws.Signer
}

// sign produces both forms of a prepared request for record id on status entry sl, issued
// at iat (whole seconds).
func (d *Department) sign(k signingKey, p *prepared, refs statusRefs, sl slot, iat time.Time, id, offerID string) (*Issued, error) {
	sd, err := sdjwtvc.Issue(sdjwtvc.Credential{
		Issuer: d.DID, KeyID: k.kid, VCT: p.t.VCT, IssuedAt: iat, Expires: p.validUntil,
		Claims: p.claims, Disclosable: disclosable(p.t, p.claims), Holder: p.holder,
		Status: &sdjwtvc.Status{Index: sl.index, URI: refs.token},
	}, k.s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSignSDJWT, err)
	}
	vc, err := dataintegrity.BuildCredential(dataintegrity.CredentialConfig{
		ID: "urn:uuid:" + id, Types: []string{W3CType(p.t.ID)}, Issuer: d.DID, Holder: p.holder.DIDKey(),
		ValidFrom: iat, ValidUntil: p.validUntil, Claims: p.claims, Vocab: refs.vocab,
		Status: []dataintegrity.StatusEntry{
			{ListCredential: refs.revocation, Index: sl.index, Purpose: statuslist.PurposeRevocation},
			{ListCredential: refs.suspension, Index: sl.index, Purpose: statuslist.PurposeSuspension},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSignW3C, err)
	}
	signed, err := signW3C(vc, k.kid, k.s, iat)
	if err != nil {
		return nil, fmt.Errorf("%w: proof: %w", ErrSignW3C, err)
	}
	return &Issued{
		Record: Record{ID: id, Type: p.t.ID, HolderThumbprint: p.holder.Thumbprint(), StatusList: sl.list, StatusIndex: sl.index,
			IssuedAt: iat, ExpiresAt: p.validUntil, State: StateValid, UpdatedAt: iat, OfferID: offerID},
		SDJWT: sd.String(),
		W3C:   signed,
	}, nil
}

// signNew allocates a status entry and signs a new credential with the current key, issued
// now: the time is read with the key, so that a rotation (which revokes the old key only
// after switching) never leaves a credential with an iat its key was not valid at.
func (d *Department) signNew(ctx context.Context, base string, p *prepared, offerID string) (*Issued, error) {
	sl, err := d.lists.allocate(ctx)
	if err != nil {
		return nil, err // an index drawn for a signing that fails stays used: never handed out
	}
	d.mu.Lock()
	k, iat := signingKey{d.KeyID, d.signer}, d.now().UTC().Truncate(time.Second)
	d.mu.Unlock()
	return d.sign(k, p, d.refs(base, sl.list), sl, iat, randomID(), offerID)
}

// disclosable: every catalogue-disclosable claim, plus every schema claim (DESIGN: every
// catalogue claim is selectively disclosable), that the credential holds. An optional claim
// left empty is not issued at all — no disclosure, no digest, no W3C subject member — so a
// credential never carries a claim that was not given (issue 14.1: listing it made the
// SD-JWT issuer refuse the credential at redemption).
func disclosable(t *ledger.CredentialType, claims map[string]any) []string {
	var out []string
	add := func(name string) {
		if _, held := claims[name]; held && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	for _, n := range t.Disclosable {
		add(n)
	}
	for _, c := range t.Claims {
		add(c.Name)
	}
	return out
}

// Issue validates r and issues it: nothing is issued (and no index used) if the
// department is not authorised for the type or the input is invalid.
func (d *Department) Issue(ctx context.Context, r Request) (*Issued, error) {
	now := d.now()
	p, err := d.prepare(ctx, r, now, true)
	if err != nil {
		return nil, err
	}
	out, err := d.issuePrepared(ctx, []*prepared{p}, now, []string{""})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// issuePrepared signs (allocating a status entry for) each prepared request and commits
// every record, its holder index row and the current list number in one database transaction
// (shared with concurrent issuances: groupcommit.go): all or nothing. offers[i] is the
// offer the i-th credential is issued from ("" for none).
func (d *Department) issuePrepared(ctx context.Context, ps []*prepared, now time.Time, offers []string) ([]*Issued, error) {
	base, err := d.statusBase(ctx) // a proven ledger read
	if err != nil {
		return nil, err
	}
	out := make([]*Issued, len(ps))
	holders := make([]*holderRow, len(ps))
	for i, p := range ps {
		if out[i], err = d.signNew(ctx, base, p, offers[i]); err != nil {
			return nil, err
		}
		if holders[i], err = d.holderRow(out[i].Record.ID, p.claims); err != nil {
			return nil, err
		}
	}
	if err := d.commit(ctx, &pendingCommit{out: out, holders: holders, now: now}); err != nil {
		return nil, err
	}
	return out, nil
}

// Status actions.
const (
	ActionSuspend = "suspend"
	ActionResume  = "resume"
	ActionRevoke  = "revoke"
)

// transition is what an action does: the ledger value, the next state, and the states it
// applies to.
type transition struct {
	value int
	next  string
	from  []string
}

var transitions = map[string]transition{
	ActionSuspend: {ledger.StatusSuspended, StateSuspended, []string{StateValid}},
	ActionResume:  {ledger.StatusValid, StateValid, []string{StateSuspended}},
	ActionRevoke:  {ledger.StatusRevoked, StateRevoked, []string{StateValid, StateSuspended}},
}

// SetStatus suspends, resumes or revokes a credential: the ledger status list entry is
// written (and confirmed committed) first, then the record. Revocation is final. A bulk
// status change left unfinished (a crash) is completed first (bulk.go).
func (d *Department) SetStatus(ctx context.Context, recordID, action string) (*Record, *ledgerclient.TxResult, error) {
	d.statusMu.Lock()
	defer d.statusMu.Unlock()
	if err := d.finishBulkInto(ctx, nil); err != nil {
		return nil, nil, err
	}
	r, err := d.Record(ctx, recordID)
	if err != nil {
		return nil, nil, err
	}
	tr, ok := transitions[action]
	if !ok || !slices.Contains(tr.from, r.State) {
		return nil, nil, fmt.Errorf("%w: %s a %s credential", ErrBadTransition, action, r.State)
	}
	value, next := tr.value, tr.next
	signer, kid := d.key()
	res, err := d.submit(ctx, signer, kid, ledger.TxStatusSet, ledger.StatusSet{List: r.StatusList,
		Updates: []ledger.StatusUpdate{{Index: r.StatusIndex, Value: value}}})
	if err != nil {
		return nil, nil, fmt.Errorf("issuer: status.set on the ledger: %w", err)
	}
	now := d.now().UTC()
	if _, err := d.db.ExecContext(ctx, `UPDATE records SET state = ?, updated_at = ?, status_height = ? WHERE id = ?`,
		next, now.Unix(), res.Height, r.ID); err != nil {
		return nil, res, fmt.Errorf("issuer: ledger updated (block %d) but the record was not: %w", res.Height, err)
	}
	r.State, r.UpdatedAt, r.StatusHeight = next, now.Truncate(time.Second), res.Height
	return r, res, nil
}

// Suspend, Resume and Revoke are SetStatus shorthands.
func (d *Department) Suspend(ctx context.Context, id string) (*Record, *ledgerclient.TxResult, error) {
	return d.SetStatus(ctx, id, ActionSuspend)
}

// Resume lifts a suspension.
func (d *Department) Resume(ctx context.Context, id string) (*Record, *ledgerclient.TxResult, error) {
	return d.SetStatus(ctx, id, ActionResume)
}

// Revoke revokes for good.
func (d *Department) Revoke(ctx context.Context, id string) (*Record, *ledgerclient.TxResult, error) {
	return d.SetStatus(ctx, id, ActionRevoke)
}
