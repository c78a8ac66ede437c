package wire

// The compact form's dictionary: strings the window holds from the ledger, which an answer
// may reference by a short SHA-256 prefix (sdjwtcbor.Context.Known). The encoder picks the
// shortest prefix that is unique in its list; the decoder must find it unique in its own.
// Both sides therefore build their list here, from the same kinds of ledger data:
//
//   - the wallet from what it presents: the window DID, and per credential its issuer's DID,
//     the key id that signed it, its status-list URI, its vct and its type's claim names;
//   - the window from its trust view: every registered DID with all its key ids and status
//     lists, every type's vct and claim names (its full list), or — when a wallet's prefix is
//     ambiguous there — the list such a wallet could have built for the request (its own DID,
//     per requested type the authorised issuers with their key ids and status lists).
//
// Only the set matters (order and duplicates do not change an encoding).

// KnownParty is a DID registered on the ledger with the strings of it a credential names.
type KnownParty struct {
	DID         string   // department or window DID ("" for strings without an owner)
	KeyIDs      []string // DID URLs of its keys (an issuer JWT's kid)
	StatusLists []string // its status-list URIs (ledger.StatusListURI)
}

// KnownType is a credential type of the ledger catalogue.
type KnownType struct {
	VCT    string
	Claims []string // claim names
}

// Known returns the dictionary of parties and types: each non-empty string once, in order
// (per party its DID, key ids and status lists, then per type its vct and claim names).
func Known(parties []KnownParty, types []KnownType) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, p := range parties {
		add(p.DID)
		for _, k := range p.KeyIDs {
			add(k)
		}
		for _, u := range p.StatusLists {
			add(u)
		}
	}
	for _, t := range types {
		add(t.VCT)
		for _, c := range t.Claims {
			add(c)
		}
	}
	return out
}
