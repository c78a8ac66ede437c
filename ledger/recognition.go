package ledger

// Mutual recognition (跨区域互认). Two consortia run their ledgers independently; each records,
// by its own k-of-n governance (ActionRecognitionPut / ActionRecognitionRemove), the other
// region it recognises: which chain (chain id, the SHA-256 of the genesis document exchanged
// out of band, and the genesis validator set a light client starts from), which of the other
// region's credential types it accepts, what each counts as here (one of our catalogue types,
// the service items that accept it, claim names that differ), for how long, and how old the
// other region's data may be before verification fails closed. B records the same for A on
// its own ledger. Nothing personal crosses: only registries, status lists and block headers.
//
// Threats the record itself answers: a forged or replaced foreign chain (the light client
// starts from these validators and this chain id only, and a proof from any other chain id
// fails); a foreign type smuggled in (only listed types, each mapped onto a type of ours and
// accepted only at the listed service items); stale foreign state (MaxAgeSeconds); a lasting
// agreement nobody reviews (ValidUntil, at most MaxRecognitionYears after ValidFrom).

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Recognition is one consortium's record of a region it recognises (key KeyRecognition).
type Recognition struct {
	// Region is the other region's id here ([a-z0-9._-], 1-64), e.g. "region-b".
	Region string `json:"region"`
	Name   Text   `json:"name"`
	// ChainID is the other ledger's CometBFT chain id; GenesisSHA256 the lowercase hex SHA-256
	// of its genesis document as the other consortium distributed it (for out-of-band
	// comparison: both sides read it aloud, say); InitialHeight and Validators are that
	// document's, the light client's root.
	ChainID       string          `json:"chain_id"`
	GenesisSHA256 string          `json:"genesis_sha256"`
	InitialHeight int64           `json:"initial_height"`
	Validators    []RootValidator `json:"validators"`
	// Nodes are the other region's public ledger RPC endpoints (https, or http on a loopback
	// host) that our windows read it from; any of them will do, since every answer is
	// checked against the light client. Up to 16.
	Nodes []string `json:"nodes"`
	// Types lists the other region's credential types recognised here.
	Types []RecognisedType `json:"types"`
	// ValidFrom and ValidUntil bound the agreement (RFC 3339, UTC).
	ValidFrom  string `json:"valid_from"`
	ValidUntil string `json:"valid_until"`
	// MaxAgeSeconds: the other region's data (its last verified header) older than this is
	// refused, online and in a trust snapshot.
	MaxAgeSeconds int64 `json:"max_age_seconds"`
}

// RootValidator is one validator of the other chain's genesis set.
type RootValidator struct {
	PubKey string `json:"pub_key"` // standard base64 of the Ed25519 key, as in genesis.json
	Power  int64  `json:"power"`
}

// RecognisedType maps one of the other region's credential types onto our catalogue.
type RecognisedType struct {
	Type string `json:"type"` // the other region's catalogue type id
	// AcceptedAs is our catalogue type it counts as: the fields our service items ask of
	// that type are asked of it.
	AcceptedAs string `json:"accepted_as"`
	// ServiceItems are our service item ids that accept it (the 互认清单 entry).
	ServiceItems []string `json:"service_items"`
	// Claims renames the other region's claims where its names differ from ours; a claim
	// not listed keeps its name.
	Claims []ClaimRename `json:"claims,omitempty"`
}

// ClaimRename maps one claim name of the other region onto ours.
type ClaimRename struct {
	Theirs string `json:"theirs"`
	Ours   string `json:"ours"`
}

// Ours is our name of the other region's claim theirs.
func (t *RecognisedType) Ours(theirs string) string {
	for _, c := range t.Claims {
		if c.Theirs == theirs {
			return c.Ours
		}
	}
	return theirs
}

// ErrNodeURL: a recognition's node endpoint that is not an https URL (or http on loopback)
// with a host and nothing else but a path.
var ErrNodeURL = errors.New("ledger: node URL")

// Limits of a recognition record.
const (
	MaxRecognitionYears      = 10
	maxRecognitionValidators = 150
	maxRecognisedTypes       = 64
	maxRecognitionItems      = 64
	maxRecognitionClaims     = 64
	// MinForeignMaxAge and MaxForeignMaxAge bound MaxAgeSeconds: a minute to thirty days.
	MinForeignMaxAge = 60
	MaxForeignMaxAge = 30 * 24 * 3600
)

// KeyRecognition is where the record of region lives; PrefixRecognition lists them all.
func KeyRecognition(region string) []byte { return []byte(PrefixRecognition + region) }

// PrefixRecognition is the listing prefix of recognition records.
const PrefixRecognition = "recognition/"

// GenesisSHA256 is the hex SHA-256 of a genesis document's bytes, as Recognition records it.
func GenesisSHA256(genesisJSON []byte) string {
	h := sha256.Sum256(genesisJSON)
	return hex.EncodeToString(h[:])
}

// Period parses ValidFrom and ValidUntil.
func (r *Recognition) Period() (from, until time.Time, err error) {
	if from, err = time.Parse(time.RFC3339, r.ValidFrom); err != nil {
		return from, until, fmt.Errorf("recognition %s: valid_from %s is not an RFC 3339 time", r.Region, Quote(r.ValidFrom))
	}
	if until, err = time.Parse(time.RFC3339, r.ValidUntil); err != nil {
		return from, until, fmt.Errorf("recognition %s: valid_until %s is not an RFC 3339 time", r.Region, Quote(r.ValidUntil))
	}
	return from, until, nil
}

// InForce reports whether the agreement covers time t.
func (r *Recognition) InForce(t time.Time) bool {
	from, until, err := r.Period()
	return err == nil && !t.Before(from) && t.Before(until)
}

// Type returns the entry for the other region's type id.
func (r *Recognition) Type(id string) (*RecognisedType, bool) {
	for i := range r.Types {
		if r.Types[i].Type == id {
			return &r.Types[i], true
		}
	}
	return nil, false
}

// Theirs is the other region's name of our claim ours (the inverse of Ours).
func (t *RecognisedType) Theirs(ours string) string {
	for _, c := range t.Claims {
		if c.Ours == ours {
			return c.Theirs
		}
	}
	return ours
}

// MaxAge is MaxAgeSeconds as a duration.
func (r *Recognition) MaxAge() time.Duration { return time.Duration(r.MaxAgeSeconds) * time.Second }

// Validate checks what does not depend on the ledger's other records (see the chain's
// recognition.put check for the rest: our types and service items exist, the chain is not
// our own).
func (r *Recognition) Validate() error {
	if !validID(r.Region) {
		return fmt.Errorf("recognition: region %s must be 1-64 characters of [a-z0-9._-]", Quote(r.Region))
	}
	if !validText(r.Name) {
		return fmt.Errorf("recognition %s: name is missing", r.Region)
	}
	if r.ChainID == "" || len(r.ChainID) > 50 {
		return fmt.Errorf("recognition %s: chain id must be 1-50 characters", r.Region)
	}
	if b, err := hex.DecodeString(r.GenesisSHA256); err != nil || len(b) != sha256.Size || hex.EncodeToString(b) != r.GenesisSHA256 {
		return fmt.Errorf("recognition %s: genesis_sha256 must be 64 lowercase hex digits", r.Region)
	}
	if r.InitialHeight < 1 {
		return fmt.Errorf("recognition %s: initial_height must be at least 1", r.Region)
	}
	if len(r.Validators) == 0 || len(r.Validators) > maxRecognitionValidators {
		return fmt.Errorf("recognition %s: 1 to %d validators", r.Region, maxRecognitionValidators)
	}
	keys := map[string]bool{}
	for _, v := range r.Validators {
		if _, err := ParseValidatorKey(v.PubKey); err != nil {
			return fmt.Errorf("recognition %s: %v", r.Region, err)
		}
		if keys[v.PubKey] {
			return fmt.Errorf("recognition %s: validator %s listed twice", r.Region, v.PubKey)
		}
		keys[v.PubKey] = true
		if v.Power < 1 || v.Power > 1<<40 {
			return fmt.Errorf("recognition %s: validator power must be 1 to 2^40", r.Region)
		}
	}
	if len(r.Nodes) == 0 || len(r.Nodes) > 16 {
		return fmt.Errorf("recognition %s: 1 to 16 nodes", r.Region)
	}
	for _, n := range r.Nodes {
		if err := checkBaseURL(n, ErrNodeURL); err != nil {
			return fmt.Errorf("recognition %s: %w", r.Region, err)
		}
	}
	if len(r.Types) == 0 || len(r.Types) > maxRecognisedTypes {
		return fmt.Errorf("recognition %s: 1 to %d recognised types", r.Region, maxRecognisedTypes)
	}
	seen := map[string]bool{}
	for _, t := range r.Types {
		if !validID(t.Type) || !validID(t.AcceptedAs) {
			return fmt.Errorf("recognition %s: type %s / accepted_as %s must be catalogue ids", r.Region, Quote(t.Type), Quote(t.AcceptedAs))
		}
		if seen[t.Type] {
			return fmt.Errorf("recognition %s: type %s listed twice", r.Region, t.Type)
		}
		seen[t.Type] = true
		if len(t.ServiceItems) == 0 || len(t.ServiceItems) > maxRecognitionItems {
			return fmt.Errorf("recognition %s type %s: 1 to %d service items", r.Region, t.Type, maxRecognitionItems)
		}
		for _, si := range t.ServiceItems {
			if !validID(si) {
				return fmt.Errorf("recognition %s type %s: service item %s is not an id", r.Region, t.Type, Quote(si))
			}
		}
		if len(t.Claims) > maxRecognitionClaims {
			return fmt.Errorf("recognition %s type %s: more than %d claim renamings", r.Region, t.Type, maxRecognitionClaims)
		}
		from, to := map[string]bool{}, map[string]bool{}
		for _, c := range t.Claims {
			if !validClaimName(c.Theirs) || !validClaimName(c.Ours) {
				return fmt.Errorf("recognition %s type %s: claim renaming %s → %s", r.Region, t.Type, Quote(c.Theirs), Quote(c.Ours))
			}
			if from[c.Theirs] || to[c.Ours] {
				return fmt.Errorf("recognition %s type %s: claim %s or %s renamed twice", r.Region, t.Type, c.Theirs, c.Ours)
			}
			from[c.Theirs], to[c.Ours] = true, true
		}
	}
	from, until, err := r.Period()
	if err != nil {
		return err
	}
	if !until.After(from) || until.After(from.AddDate(MaxRecognitionYears, 0, 0)) {
		return fmt.Errorf("recognition %s: valid_until must follow valid_from by at most %d years", r.Region, MaxRecognitionYears)
	}
	if r.MaxAgeSeconds < MinForeignMaxAge || r.MaxAgeSeconds > MaxForeignMaxAge {
		return fmt.Errorf("recognition %s: max_age_seconds must be %d to %d", r.Region, MinForeignMaxAge, MaxForeignMaxAge)
	}
	return nil
}
