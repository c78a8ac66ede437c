package wallet

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"lianzheng/credential"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// StoreFile is the bbolt file of credentials, history and settings in a wallet home.
const StoreFile = "wallet.db"

var (
	bucketCreds    = []byte("credentials")
	bucketHistory  = []byte("history")
	bucketSettings = []byte("settings")
	bucketPending  = []byte("pending") // interrupted receives (pending.go), always sealed
)

// Credential is a held credential. It holds personal data: it never leaves the wallet
// except as chosen disclosures (and in the encrypted backup).
type Credential struct {
	ID        string    `json:"id"`     // wallet-local id
	SDJWT     string    `json:"sd_jwt"` // issuer-signed SD-JWT with every disclosure
	Type      string    `json:"type"`   // catalogue type id
	VCT       string    `json:"vct"`
	Issuer    string    `json:"issuer"`     // did:lz of the department
	HolderKID string    `json:"holder_kid"` // key id in the keystore
	Received  time.Time `json:"received"`
	IssuedAt  time.Time `json:"issued_at"`
	Expires   time.Time `json:"expires,omitzero"`
	StatusURI string    `json:"status_uri,omitempty"`
	StatusIdx int       `json:"status_idx"`
	W3CVC     string    `json:"w3c_vc,omitempty"` // the W3C VC 2.0 JSON, if the issuer gave one
}

// The modes of a HistoryEntry and the results it is written with (stored as they are; the
// app reads them through these names and PortalRefusal, never by their text).
const (
	HistoryModeRequest = "request"   // an answer to a window's request QR
	HistoryModeOneWay  = "one-way"   // a one-way presentation without a request
	HistoryModeOnline  = "openid4vp" // an answer to an online service (OpenID4VP)

	HistoryPresented       = "presented"                       // given, no receipt yet
	HistoryPresentedOneWay = "presented (one-way, weaker)"     // a one-way presentation
	HistoryNoAnswer        = "sent, no answer from the portal" // posted; nothing came back
	historyRefusedPrefix   = "refused by the portal: "         // + the portal's reason code
)

// PortalRefusal reports the reason code when an online service refused this answer.
func (h HistoryEntry) PortalRefusal() (credential.Code, bool) {
	code, ok := strings.CutPrefix(h.Result, historyRefusedPrefix)
	if !ok {
		return "", false
	}
	return credential.Code(code), true
}

// HistoryEntry records one presentation: names, never values.
type HistoryEntry struct {
	ID         string              `json:"id"`
	Time       time.Time           `json:"time"`
	Mode       string              `json:"mode"` // HistoryModeRequest, HistoryModeOneWay or HistoryModeOnline
	Window     string              `json:"window,omitempty"`
	WindowName string              `json:"window_name,omitempty"`
	Department string              `json:"department,omitempty"`
	Item       string              `json:"item,omitempty"`
	ItemName   string              `json:"item_name,omitempty"`
	Purpose    string              `json:"purpose,omitempty"` // from the ledger
	Fields     map[string][]string `json:"fields"`            // type id → disclosed field names
	Refused    map[string][]string `json:"refused,omitempty"` // over-asked fields not disclosed
	Result     string              `json:"result"`            // HistoryPresented, … (below), or the window's receipt result
	// PresentationHash is receipt.HashPresentation of the response text, to match receipts.
	PresentationHash string `json:"presentation_hash"`
	// BodyHash is base64url SHA-256(prefix 0x00 decoded body): what verifier/ puts in its
	// receipts (robust to scanner case/width changes). Receipts match either hash.
	BodyHash string `json:"body_hash,omitempty"`
	Nonce    string `json:"nonce,omitempty"`
	// Receipt, once imported: the window's signed receipt and whether its Merkle proof
	// matched an anchor of that window on the ledger.
	Receipt        string `json:"receipt,omitempty"`
	ReceiptID      string `json:"receipt_id,omitempty"`
	AnchorSeq      uint64 `json:"anchor_seq,omitempty"`
	AnchorHeight   int64  `json:"anchor_height,omitempty"`
	VerifiedLedger bool   `json:"verified_on_ledger"`
}

// Store is the wallet's credential store (bbolt: every write is one fsynced transaction,
// so a crash leaves either the old or the new state and every acknowledged write survives).
type Store struct {
	db *bolt.DB
	// crypt, when set, seals credential and history records (the wallet's keystore: AES-GCM
	// under the PIN-derived master key); settings stay in the clear.
	crypt Sealer
}

// Sealer encrypts records; *keystore.Store is one.
type Sealer interface {
	Seal(pt, aad []byte) ([]byte, error)
	Unseal(ct, aad []byte) ([]byte, error)
}

// sealedTag starts a sealed record (a plain record is JSON and starts with '{').
const sealedTag = 0x01

func (s *Store) seal(bucket []byte, id string, v []byte) ([]byte, error) {
	if s.crypt == nil {
		return v, nil
	}
	ct, err := s.crypt.Seal(v, recordAAD(bucket, id))
	if err != nil {
		return nil, err
	}
	return append([]byte{sealedTag}, ct...), nil
}

func (s *Store) unseal(bucket, id, v []byte) ([]byte, error) {
	if len(v) == 0 || v[0] != sealedTag {
		return v, nil
	}
	if s.crypt == nil {
		return nil, errors.New("wallet: record is sealed and the store has no key")
	}
	return s.crypt.Unseal(v[1:], recordAAD(bucket, string(id)))
}

func recordAAD(bucket []byte, id string) []byte { return []byte(string(bucket) + "/" + id) }

// OpenStore opens (creating if needed) the store in dir.
func OpenStore(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	db, err := bolt.Open(filepath.Join(dir, StoreFile), 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("wallet: open store: %w", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketCreds, bucketHistory, bucketSettings, bucketPending} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Store{db: db}, nil
}

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// ErrNoCredential: no credential with that id.
var ErrNoCredential = errors.New("wallet: no such credential")

func put(s *Store, bucket []byte, id string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if b, err = s.seal(bucket, id, b); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Put([]byte(id), b) })
}

// PutCredential stores c; it is durable when PutCredential returns nil.
func (s *Store) PutCredential(c *Credential) error {
	if c.ID == "" {
		return errors.New("wallet: credential without id")
	}
	return put(s, bucketCreds, c.ID, c)
}

// DeleteCredential removes a credential.
func (s *Store) DeleteCredential(id string) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketCreds).Delete([]byte(id)) })
}

// Credential returns one credential.
func (s *Store) Credential(id string) (*Credential, error) {
	var c Credential
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCreds).Get([]byte(id))
		if b == nil {
			return ErrNoCredential
		}
		b, err := s.unseal(bucketCreds, []byte(id), b)
		if err != nil {
			return err
		}
		return json.Unmarshal(b, &c)
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// Credentials lists every credential, newest received first.
func (s *Store) Credentials() ([]Credential, error) {
	var out []Credential
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCreds).ForEach(func(k, v []byte) error {
			var c Credential
			v, err := s.unseal(bucketCreds, k, v)
			if err != nil {
				return err
			}
			if err := json.Unmarshal(v, &c); err != nil {
				return err
			}
			out = append(out, c)
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Received.After(out[j].Received) })
	return out, err
}

// ErrUnsealedStore: the store has no key to seal with, and the record (a pending receive
// holds an access token and the offer's PIN) is never written in the clear.
var ErrUnsealedStore = errors.New("wallet: the store has no sealing key")

func (s *Store) sealedJSON(bucket []byte, id string, v any) ([]byte, error) {
	if s.crypt == nil {
		return nil, ErrUnsealedStore
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return s.seal(bucket, id, b)
}

// putPending records a pending receive (sealed, durable when it returns nil).
func (s *Store) putPending(p *pendingReceive) error {
	b, err := s.sealedJSON(bucketPending, p.ID, p)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketPending).Put([]byte(p.ID), b) })
}

// deletePending removes a pending receive.
func (s *Store) deletePending(id string) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketPending).Delete([]byte(id)) })
}

// pending returns the pending receive id, or nil if there is none.
func (s *Store) pending(id string) (*pendingReceive, error) {
	var p *pendingReceive
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketPending).Get([]byte(id))
		if v == nil {
			return nil
		}
		var err error
		p, err = s.decodePending([]byte(id), v)
		return err
	})
	return p, err
}

// pendings lists every pending receive, oldest first.
func (s *Store) pendings() ([]*pendingReceive, error) {
	var out []*pendingReceive
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPending).ForEach(func(k, v []byte) error {
			p, err := s.decodePending(k, v)
			if err != nil {
				return err
			}
			out = append(out, p)
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out, err
}

// hasPending reports whether any receive is pending (nothing is unsealed).
func (s *Store) hasPending() bool {
	n := 0
	_ = s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketPending).Stats().KeyN
		return nil
	})
	return n > 0
}

func (s *Store) decodePending(k, v []byte) (*pendingReceive, error) {
	if len(v) == 0 || v[0] != sealedTag {
		return nil, fmt.Errorf("wallet: pending receive %x is not sealed", k[:min(len(k), 8)])
	}
	b, err := s.unseal(bucketPending, k, v)
	if err != nil {
		return nil, err
	}
	var p pendingReceive
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// commitReceived stores c and, in the same transaction, records p (the rest of its receive)
// or removes it when nothing is left: a crash leaves either the credential still pending or
// the credential stored, never both or neither.
func (s *Store) commitReceived(p *pendingReceive, c *Credential) error {
	cb, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if cb, err = s.seal(bucketCreds, c.ID, cb); err != nil {
		return err
	}
	var pb []byte
	if len(p.Items) > 0 {
		if pb, err = s.sealedJSON(bucketPending, p.ID, p); err != nil {
			return err
		}
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketCreds).Put([]byte(c.ID), cb); err != nil {
			return err
		}
		if pb == nil {
			return tx.Bucket(bucketPending).Delete([]byte(p.ID))
		}
		return tx.Bucket(bucketPending).Put([]byte(p.ID), pb)
	})
}

// AddHistory records a presentation.
func (s *Store) AddHistory(h *HistoryEntry) error { return put(s, bucketHistory, h.ID, h) }

// History lists the access history, newest first.
func (s *Store) History() ([]HistoryEntry, error) {
	var out []HistoryEntry
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketHistory).ForEach(func(k, v []byte) error {
			var h HistoryEntry
			v, err := s.unseal(bucketHistory, k, v)
			if err != nil {
				return err
			}
			if err := json.Unmarshal(v, &h); err != nil {
				return err
			}
			out = append(out, h)
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	return out, err
}

// Setting reads a setting ("" if unset).
func (s *Store) Setting(k string) string {
	var v string
	_ = s.db.View(func(tx *bolt.Tx) error {
		v = string(tx.Bucket(bucketSettings).Get([]byte(k)))
		return nil
	})
	return v
}

// SetSetting writes a setting.
func (s *Store) SetSetting(k, v string) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketSettings).Put([]byte(k), []byte(v)) })
}

// writeTo writes a consistent copy of the store file (backups).
func (s *Store) writeTo(w io.Writer) error {
	return s.db.View(func(tx *bolt.Tx) error {
		_, err := tx.WriteTo(w)
		return err
	})
}
