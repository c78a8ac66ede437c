package did

import (
	"fmt"
	"slices"
	"time"
)

// KeyRecord is one key in a DID's history. It is valid on the half-open interval
// [ValidFrom, ValidUntil): a key rotated out at time R verified signatures made before R and
// none made at or after R.
type KeyRecord struct {
	ID                 string     `json:"id"`                   // fragment, e.g. "key-1"
	PublicKeyMultibase string     `json:"publicKeyMultibase"`   // Multikey value
	ValidFrom          time.Time  `json:"validFrom"`            // ledger time the key was added
	ValidUntil         *time.Time `json:"validUntil,omitempty"` // nil: still valid
	Purposes           []string   `json:"purposes"`             // verification relationships
	// Compromised marks a key that must not be trusted at any time, even for times inside
	// its validity interval: a signer holding a stolen key chooses the time it claims.
	Compromised bool `json:"compromised,omitempty"`
}

// ValidAt reports whether the record's interval contains t (ignoring Compromised).
func (r KeyRecord) ValidAt(t time.Time) bool {
	return !t.Before(r.ValidFrom) && (r.ValidUntil == nil || t.Before(*r.ValidUntil))
}

// HasPurpose reports whether the key is authorised for the verification relationship.
func (r KeyRecord) HasPurpose(purpose string) bool { return slices.Contains(r.Purposes, purpose) }

// PublicKey decodes the record's key.
func (r KeyRecord) PublicKey() (PublicKey, error) { return DecodeMultikey(r.PublicKeyMultibase) }

func (r KeyRecord) clone() KeyRecord {
	if r.ValidUntil != nil {
		u := *r.ValidUntil
		r.ValidUntil = &u
	}
	r.Purposes = slices.Clone(r.Purposes)
	return r
}

// History is the full key history of a DID, as the ledger records it.
type History struct {
	DID         string      `json:"id"`
	Controller  string      `json:"controller,omitempty"`
	Created     time.Time   `json:"created"`
	Deactivated *time.Time  `json:"deactivated,omitempty"` // nil: active
	Keys        []KeyRecord `json:"keys"`
}

// Clone returns a deep copy.
func (h *History) Clone() *History {
	if h == nil {
		return nil
	}
	c := *h
	if h.Deactivated != nil {
		d := *h.Deactivated
		c.Deactivated = &d
	}
	c.Keys = make([]KeyRecord, len(h.Keys))
	for i, k := range h.Keys {
		c.Keys[i] = k.clone()
	}
	return &c
}

// DeactivatedAt reports whether the DID was deactivated at time t.
func (h *History) DeactivatedAt(t time.Time) bool {
	return h.Deactivated != nil && !t.Before(*h.Deactivated)
}

// Validate checks the history: a valid DID and controller; key ids that are valid fragments
// and unique; keys that decode, each used by one record only; non-empty intervals starting
// no earlier than Created; known, non-repeated purposes; deactivation not before Created.
// The ledger applies the same rules before accepting an update.
func (h *History) Validate() error {
	if h == nil {
		return fmt.Errorf("%w: nil history", ErrInvalidDID)
	}
	if _, err := ParseDID(h.DID); err != nil {
		return err
	}
	if h.Controller != "" {
		if _, err := ParseDID(h.Controller); err != nil {
			return fmt.Errorf("controller: %w", err)
		}
	}
	if h.Deactivated != nil && h.Deactivated.Before(h.Created) {
		return fmt.Errorf("%w: %s deactivated before it was created", ErrInvalidDID, h.DID)
	}
	ids := map[string]bool{}
	keys := map[string]string{}
	for _, r := range h.Keys {
		if !ValidFragment(r.ID) {
			return fmt.Errorf("%w: %s: key id %s is not a valid fragment", ErrInvalidDID, h.DID, q(r.ID))
		}
		if ids[r.ID] {
			return fmt.Errorf("%w: %s: duplicate key id %s", ErrInvalidDID, h.DID, q(r.ID))
		}
		ids[r.ID] = true
		k, err := r.PublicKey()
		if err != nil {
			return fmt.Errorf("%s#%s: %w", h.DID, r.ID, err)
		}
		raw := string(k.Bytes())
		if other, ok := keys[raw]; ok {
			return fmt.Errorf("%w: %s: keys %s and %s are the same key", ErrInvalidDID, h.DID, q(other), q(r.ID))
		}
		keys[raw] = r.ID
		if r.ValidFrom.Before(h.Created) {
			return fmt.Errorf("%w: %s#%s valid before the DID was created", ErrInvalidDID, h.DID, r.ID)
		}
		if r.ValidUntil != nil && !r.ValidUntil.After(r.ValidFrom) {
			return fmt.Errorf("%w: %s#%s: validUntil is not after validFrom", ErrInvalidDID, h.DID, r.ID)
		}
		if len(r.Purposes) == 0 {
			return fmt.Errorf("%w: %s#%s has no purpose", ErrInvalidDID, h.DID, r.ID)
		}
		for i, p := range r.Purposes {
			if !slices.Contains(purposes, p) {
				return fmt.Errorf("%w: %s#%s: unknown purpose %s", ErrInvalidDID, h.DID, r.ID, q(p))
			}
			if slices.Contains(r.Purposes[:i], p) {
				return fmt.Errorf("%w: %s#%s: purpose %s repeated", ErrInvalidDID, h.DID, r.ID, p)
			}
		}
	}
	return nil
}

// KeyAt answers "which key was valid at time t": the record with the given fragment if it
// was valid at t. Errors: ErrInvalidDID for an invalid history, ErrDeactivated if the DID
// was deactivated at t, ErrNotFound for an unknown fragment, ErrKeyNotValid if t is outside
// the key's interval or the key is marked compromised. The record returned is a copy.
func (h *History) KeyAt(fragment string, t time.Time) (KeyRecord, error) {
	if err := h.Validate(); err != nil {
		return KeyRecord{}, err
	}
	if h.DeactivatedAt(t) {
		return KeyRecord{}, fmt.Errorf("%w: %s deactivated at %s", ErrDeactivated, h.DID, h.Deactivated.UTC().Format(time.RFC3339))
	}
	for _, r := range h.Keys {
		if r.ID != fragment {
			continue
		}
		switch {
		case r.Compromised:
			return KeyRecord{}, fmt.Errorf("%w: %s#%s is marked compromised", ErrKeyNotValid, h.DID, r.ID)
		case !r.ValidAt(t):
			return KeyRecord{}, fmt.Errorf("%w: %s#%s not valid at %s", ErrKeyNotValid, h.DID, r.ID, t.UTC().Format(time.RFC3339Nano))
		}
		return r.clone(), nil
	}
	return KeyRecord{}, fmt.Errorf("%w: %s has no key %s", ErrNotFound, h.DID, q(fragment))
}

// Document builds the DID document as it stood at time at: the keys valid then and not
// marked compromised, in history order, each listed under its purposes. It fails with
// ErrDeactivated if the DID was deactivated at that time, ErrNotFound if it did not exist yet.
func (h *History) Document(at time.Time) (*Document, error) {
	if err := h.Validate(); err != nil {
		return nil, err
	}
	if h.DeactivatedAt(at) {
		return nil, fmt.Errorf("%w: %s deactivated at %s", ErrDeactivated, h.DID, h.Deactivated.UTC().Format(time.RFC3339))
	}
	if at.Before(h.Created) {
		return nil, fmt.Errorf("%w: %s did not exist at %s", ErrNotFound, h.DID, at.UTC().Format(time.RFC3339))
	}
	d := newDocument(h.DID, h.Controller)
	controller := h.DID
	for _, r := range h.Keys {
		if r.Compromised || !r.ValidAt(at) {
			continue
		}
		id := h.DID + "#" + r.ID
		d.VerificationMethod = append(d.VerificationMethod, VerificationMethod{
			ID: id, Type: TypeMultikey, Controller: controller, PublicKeyMultibase: r.PublicKeyMultibase,
		})
		for _, p := range purposes { // fixed order, whatever the order of r.Purposes
			if r.HasPurpose(p) {
				rel := d.relationship(p)
				*rel = append(*rel, id)
			}
		}
	}
	return d, nil
}
