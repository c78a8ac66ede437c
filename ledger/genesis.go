package ledger

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	"lianzheng/did"
)

// Claim value types of a credential type's schema.
var claimTypes = []string{"string", "date", "number", "boolean"}

// validID reports whether s is an identifier of the catalogue (type, service item): 1-64
// characters of [a-z0-9._-], starting with a letter or digit.
func validID(s string) bool {
	if len(s) == 0 || len(s) > 64 || s[0] == '-' || s[0] == '.' || s[0] == '_' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// validClaimName reports whether s can name a claim: 1-64 bytes, not starting with '_' (the
// SD-JWT names _sd, _sd_alg).
func validClaimName(s string) bool {
	return s != "" && len(s) <= 64 && !strings.HasPrefix(s, "_")
}

func validText(t Text) bool {
	return (t.Zh != "" || t.En != "") && len(t.Zh) <= 256 && len(t.En) <= 256
}

// ValidatorKeyString encodes an Ed25519 validator public key as Member.Validator and the
// genesis document write it (standard base64); ParseValidatorKey reads it back.
func ValidatorKeyString(pk []byte) string { return base64.StdEncoding.EncodeToString(pk) }

// ParseValidatorKey decodes a Member.Validator value (standard base64 of a 32-byte Ed25519
// key).
func ParseValidatorKey(s string) ([]byte, error) {
	pk, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(pk) != 32 {
		return nil, errors.New("validator must be the standard base64 of a 32-byte Ed25519 public key")
	}
	return pk, nil
}

// Validate checks a member record on its own (id, DID, name, validator key and power); the
// state machine and GenesisState.Validate check it against the rest of the state.
func (m *Member) Validate() error {
	if !did.ValidLZID(m.ID) {
		return fmt.Errorf("member id %s must be a did:lz id ([a-z0-9-], 1-64)", Quote(m.ID))
	}
	if m.DID != "did:lz:"+m.ID {
		return fmt.Errorf("member %s: did must be did:lz:%s, not %s", m.ID, m.ID, Quote(m.DID))
	}
	if !validText(m.Name) {
		return fmt.Errorf("member %s: name is missing or longer than 256 bytes", m.ID)
	}
	if m.Validator != "" {
		if _, err := ParseValidatorKey(m.Validator); err != nil {
			return fmt.Errorf("member %s: %v", m.ID, err)
		}
	}
	if m.Power < 0 || m.Power > MaxValidatorPower || (m.Validator == "" && m.Power != 0) {
		return fmt.Errorf("member %s: power must be 0-%d, and 0 without a validator key", m.ID, MaxValidatorPower)
	}
	return nil
}

// Validate checks a catalogue entry on its own: id, vct, name, issuers listed once, validity,
// claims (names, types, labels) and the disclosable claims.
func (t *CredentialType) Validate() error {
	if !validID(t.ID) {
		return fmt.Errorf("credential type id %s must be 1-64 characters of [a-z0-9._-]", Quote(t.ID))
	}
	if t.VCT == "" || len(t.VCT) > 256 {
		return fmt.Errorf("credential type %s: vct must be 1-256 characters", t.ID)
	}
	if !validText(t.Name) {
		return fmt.Errorf("credential type %s: name is missing", t.ID)
	}
	if len(t.Issuers) == 0 {
		return fmt.Errorf("credential type %s has no issuers", t.ID)
	}
	for i, is := range t.Issuers {
		if slices.Contains(t.Issuers[:i], is) {
			return fmt.Errorf("credential type %s lists issuer %s twice", t.ID, Quote(is))
		}
	}
	if t.MaxValidityDays < 1 || t.MaxValidityDays > 36500*2 {
		return fmt.Errorf("credential type %s: max_validity_days must be 1-73000", t.ID)
	}
	if len(t.Claims) == 0 || len(t.Claims) > 256 {
		return fmt.Errorf("credential type %s must have 1-256 claims", t.ID)
	}
	names := map[string]bool{}
	for _, c := range t.Claims {
		if !validClaimName(c.Name) {
			return fmt.Errorf("credential type %s: claim name %s must be 1-64 characters, not starting with '_'", t.ID, Quote(c.Name))
		}
		if names[c.Name] {
			return fmt.Errorf("credential type %s: claim %s repeated", t.ID, Quote(c.Name))
		}
		names[c.Name] = true
		if !slices.Contains(claimTypes, c.Type) {
			return fmt.Errorf("credential type %s: claim %s has type %s, want one of %v", t.ID, c.Name, Quote(c.Type), claimTypes)
		}
		if !validText(c.Label) {
			return fmt.Errorf("credential type %s: claim %s has no label", t.ID, c.Name)
		}
	}
	for i, d := range t.Disclosable {
		if !names[d] {
			return fmt.Errorf("credential type %s: disclosable %s is not a claim", t.ID, Quote(d))
		}
		if slices.Contains(t.Disclosable[:i], d) {
			return fmt.Errorf("credential type %s: disclosable %s repeated", t.ID, Quote(d))
		}
	}
	return nil
}

// Validate checks a window on its own: its DID, department id, name and service items
// (unique ids, names and purposes, each requesting at least one field of each type once).
// Whether the types and fields exist is checked against a catalogue (CheckFields).
func (w *Window) Validate() error {
	if _, err := did.ParseLZ(w.DID); err != nil {
		return fmt.Errorf("window did: %v", err)
	}
	if !did.ValidLZID(w.Department) {
		return fmt.Errorf("window %s: department %s is not a member id", w.DID, Quote(w.Department))
	}
	if !validText(w.Name) {
		return fmt.Errorf("window %s: name is missing", w.DID)
	}
	switch w.Channel {
	case ChannelHall:
		if w.URL != "" {
			return fmt.Errorf("window %s: only an online service has a URL", w.DID)
		}
	case ChannelOnline:
		if w.URL != "" {
			if err := CheckPortalURL(w.URL); err != nil {
				return fmt.Errorf("window %s: %v", w.DID, err)
			}
		}
	default:
		return fmt.Errorf("window %s: channel %s is neither hall (empty) nor %q", w.DID, Quote(w.Channel), ChannelOnline)
	}
	if len(w.ServiceItems) > 256 {
		return fmt.Errorf("window %s: more than 256 service items", w.DID)
	}
	ids := map[string]bool{}
	for _, si := range w.ServiceItems {
		if !validID(si.ID) {
			return fmt.Errorf("window %s: service item id %s must be 1-64 characters of [a-z0-9._-]", w.DID, Quote(si.ID))
		}
		if ids[si.ID] {
			return fmt.Errorf("window %s: service item %s repeated", w.DID, si.ID)
		}
		ids[si.ID] = true
		if !validText(si.Name) || !validText(si.Purpose) {
			return fmt.Errorf("window %s service %s: name and purpose are required", w.DID, si.ID)
		}
		if len(si.Requests) == 0 {
			return fmt.Errorf("window %s service %s requests no credential", w.DID, si.ID)
		}
		types := map[string]bool{}
		for _, r := range si.Requests {
			if types[r.Type] {
				return fmt.Errorf("window %s service %s: type %s requested twice", w.DID, si.ID, Quote(r.Type))
			}
			types[r.Type] = true
			if len(r.Fields) == 0 {
				return fmt.Errorf("window %s service %s: no fields requested of %s", w.DID, si.ID, Quote(r.Type))
			}
			for i, f := range r.Optional {
				if !slices.Contains(r.Fields, f) || slices.Contains(r.Optional[:i], f) {
					return fmt.Errorf("window %s service %s: optional field %s of %s is not asked, or listed twice", w.DID, si.ID, Quote(f), Quote(r.Type))
				}
			}
		}
	}
	return nil
}

// CheckFields checks that every field is a disclosable claim of t, each once.
func (t *CredentialType) CheckFields(fields []string) error {
	for i, f := range fields {
		if slices.Contains(fields[:i], f) {
			return fmt.Errorf("field %s of %s requested twice", Quote(f), t.ID)
		}
		if !slices.ContainsFunc(t.Claims, func(c Claim) bool { return c.Name == f }) {
			return fmt.Errorf("field %s is not a claim of %s", Quote(f), t.ID)
		}
		if !slices.Contains(t.Disclosable, f) {
			return fmt.Errorf("field %s of %s is not disclosable", Quote(f), t.ID)
		}
	}
	return nil
}

// Validate checks a genesis state on its own: every DID history valid and unique, every
// member with a did:lz DID that has a history, issuers that are members, windows whose
// department is a member, whose DID exists and is controlled by that department, and whose
// requested fields are disclosable claims of their types, and 1 <= approvals <= members.
func (g *GenesisState) Validate() error {
	if len(g.Members) == 0 {
		return errors.New("genesis has no members")
	}
	if len(g.Members) > MaxMembers {
		return fmt.Errorf("genesis has more than %d members", MaxMembers)
	}
	if g.Params.Approvals < 1 || g.Params.Approvals > len(g.Members) {
		return fmt.Errorf("params.approvals must be between 1 and the %d members, not %d", len(g.Members), g.Params.Approvals)
	}
	if err := g.Params.Validate(); err != nil {
		return fmt.Errorf("params: %w", err)
	}
	hs := map[string]*did.History{}
	for i, h := range g.DIDs {
		if h == nil {
			return fmt.Errorf("dids[%d] is null", i)
		}
		if err := h.Validate(); err != nil {
			return fmt.Errorf("dids[%d]: %v", i, err)
		}
		if _, err := did.ParseLZ(h.DID); err != nil {
			return fmt.Errorf("dids[%d]: only did:lz DIDs live on the ledger: %v", i, err)
		}
		if hs[h.DID] != nil {
			return fmt.Errorf("DID %s appears twice", h.DID)
		}
		hs[h.DID] = h
	}
	for _, h := range g.DIDs {
		if h.Controller != "" && hs[h.Controller] == nil {
			return fmt.Errorf("DID %s: controller %s is not a genesis DID", h.DID, Quote(h.Controller))
		}
	}
	members := map[string]*Member{}
	validators := map[string]string{}
	for i := range g.Members {
		m := &g.Members[i]
		if err := m.Validate(); err != nil {
			return err
		}
		if members[m.ID] != nil {
			return fmt.Errorf("member %s appears twice", m.ID)
		}
		members[m.ID] = m
		if hs[m.DID] == nil {
			return fmt.Errorf("member %s: DID %s has no history in dids", m.ID, m.DID)
		}
		if hs[m.DID].Deactivated != nil {
			return fmt.Errorf("member %s: DID %s is deactivated", m.ID, m.DID)
		}
		if m.Validator != "" {
			if other, ok := validators[m.Validator]; ok {
				return fmt.Errorf("members %s and %s have the same validator key", other, m.ID)
			}
			validators[m.Validator] = m.ID
		}
	}
	types := map[string]*CredentialType{}
	for i := range g.Types {
		t := &g.Types[i]
		if err := t.Validate(); err != nil {
			return err
		}
		if types[t.ID] != nil {
			return fmt.Errorf("credential type %s appears twice", t.ID)
		}
		types[t.ID] = t
		for _, is := range t.Issuers {
			if members[is] == nil {
				return fmt.Errorf("credential type %s: issuer %s is not a member", t.ID, Quote(is))
			}
		}
	}
	windows := map[string]bool{}
	for i := range g.Windows {
		w := &g.Windows[i]
		if err := w.Validate(); err != nil {
			return err
		}
		if windows[w.DID] {
			return fmt.Errorf("window %s appears twice", w.DID)
		}
		windows[w.DID] = true
		dept := members[w.Department]
		if dept == nil {
			return fmt.Errorf("window %s: department %s is not a member", w.DID, Quote(w.Department))
		}
		h := hs[w.DID]
		if h == nil {
			return fmt.Errorf("window %s: DID has no history in dids", w.DID)
		}
		if h.Controller != dept.DID {
			return fmt.Errorf("window %s: DID is controlled by %s, not by its department %s", w.DID, Quote(h.Controller), dept.DID)
		}
		for _, si := range w.ServiceItems {
			for _, r := range si.Requests {
				t := types[r.Type]
				if t == nil {
					return fmt.Errorf("window %s service %s: no credential type %s", w.DID, si.ID, Quote(r.Type))
				}
				if err := t.CheckFields(r.Fields); err != nil {
					return fmt.Errorf("window %s service %s: %v", w.DID, si.ID, err)
				}
			}
		}
	}
	return nil
}

// ParseGenesis decodes app_state strictly (unknown or misspelt members are errors) and
// validates it.
func ParseGenesis(appState []byte) (*GenesisState, error) {
	var g GenesisState
	if err := DecodeStrict(appState, &g); err != nil {
		return nil, fmt.Errorf("genesis app_state: %v", err)
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("genesis app_state: %v", err)
	}
	return &g, nil
}
