package oid4vp

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"

	"lianzheng/internal/strictjson"
)

// Query is a DCQL query (OpenID4VP 1.0 §6). LianZheng asks for SD-JWT VCs by vct, each
// claim by a one-element path (a top-level claim name: catalogue claims are flat).
// credential_sets and claim_sets are not supported and refused rather than ignored (ignoring
// them would change what is asked).
type Query struct {
	Credentials    []CredentialQuery `json:"credentials"`
	CredentialSets json.RawMessage   `json:"credential_sets,omitempty"`
}

// CredentialQuery asks for one credential.
type CredentialQuery struct {
	ID        string          `json:"id"`
	Format    string          `json:"format"`
	Multiple  bool            `json:"multiple,omitempty"`
	Meta      Meta            `json:"meta"`
	Claims    []ClaimQuery    `json:"claims,omitempty"`
	ClaimSets json.RawMessage `json:"claim_sets,omitempty"`
}

// Meta constrains the credential (dc+sd-jwt: its vct).
type Meta struct {
	VCTValues []string `json:"vct_values"`
}

// ClaimQuery asks for one claim by path.
type ClaimQuery struct {
	ID     string `json:"id,omitempty"`
	Path   []any  `json:"path"`
	Values []any  `json:"values,omitempty"`
}

// Limits of a query.
const (
	MaxCredentialQueries = 8
	MaxClaimQueries      = 32
)

var queryID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ParseQuery reads a DCQL query strictly (size, strict JSON, the limits and rules of
// validate).
func ParseQuery(b []byte) (*Query, error) {
	if len(b) > MaxQuery {
		return nil, fmt.Errorf("%w: DCQL query of %d bytes", ErrTooLarge, len(b))
	}
	var q Query
	if err := strictjson.Decode(b, &q); err != nil {
		return nil, fmt.Errorf("%w: DCQL query: %v", ErrMalformed, err)
	}
	if err := q.validate(); err != nil {
		return nil, err
	}
	return &q, nil
}

func (q *Query) validate() error {
	bad := func(f string, a ...any) error {
		return fmt.Errorf("%w: DCQL: "+f, append([]any{ErrMalformed}, a...)...)
	}
	if len(q.CredentialSets) > 0 && string(q.CredentialSets) != "null" {
		return fmt.Errorf("%w: DCQL credential_sets", ErrUnsupported)
	}
	if len(q.Credentials) == 0 || len(q.Credentials) > MaxCredentialQueries {
		return bad("%d credential queries (1-%d)", len(q.Credentials), MaxCredentialQueries)
	}
	ids := map[string]bool{}
	for _, c := range q.Credentials {
		if !queryID.MatchString(c.ID) || ids[c.ID] {
			return bad("credential query id %q invalid or repeated", short(c.ID))
		}
		ids[c.ID] = true
		if c.Format != FormatSDJWT {
			return fmt.Errorf("%w: DCQL format %q (only %s)", ErrUnsupported, short(c.Format), FormatSDJWT)
		}
		if c.Multiple {
			return fmt.Errorf("%w: DCQL multiple", ErrUnsupported)
		}
		if len(c.ClaimSets) > 0 && string(c.ClaimSets) != "null" {
			return fmt.Errorf("%w: DCQL claim_sets", ErrUnsupported)
		}
		if len(c.Meta.VCTValues) == 0 || len(c.Meta.VCTValues) > 8 {
			return bad("credential query %s: vct_values", c.ID)
		}
		for _, v := range c.Meta.VCTValues {
			if v == "" || len(v) > 256 {
				return bad("credential query %s: a vct value is empty or too long", c.ID)
			}
		}
		if len(c.Claims) == 0 || len(c.Claims) > MaxClaimQueries {
			return bad("credential query %s: %d claims (1-%d)", c.ID, len(c.Claims), MaxClaimQueries)
		}
		seen := map[string]bool{}
		for _, cl := range c.Claims {
			name, err := cl.name()
			if err != nil {
				return err
			}
			if seen[name] {
				return bad("credential query %s: claim %q asked twice", c.ID, short(name))
			}
			seen[name] = true
			if cl.ID != "" && !queryID.MatchString(cl.ID) {
				return bad("claim id %q", short(cl.ID))
			}
			if len(cl.Values) > 0 {
				return fmt.Errorf("%w: DCQL claim values", ErrUnsupported)
			}
		}
	}
	return nil
}

// name is the top-level claim a one-element path names.
func (c *ClaimQuery) name() (string, error) {
	if len(c.Path) != 1 {
		return "", fmt.Errorf("%w: DCQL claim path of %d elements (only a top-level claim name)", ErrUnsupported, len(c.Path))
	}
	s, ok := c.Path[0].(string)
	if !ok || s == "" || len(s) > 256 {
		return "", fmt.Errorf("%w: DCQL claim path element %v", ErrMalformed, c.Path[0])
	}
	return s, nil
}

// Fields returns the claim names a credential query asks, in query order.
func (c *CredentialQuery) Fields() []string {
	out := make([]string, 0, len(c.Claims))
	for _, cl := range c.Claims {
		if n, err := cl.name(); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// Find returns the credential query of id.
func (q *Query) Find(id string) (*CredentialQuery, bool) {
	for i := range q.Credentials {
		if q.Credentials[i].ID == id {
			return &q.Credentials[i], true
		}
	}
	return nil, false
}

// QueryFor builds the DCQL query of a registration: one credential query per registered
// credential type (id = the catalogue type id, vct_values = its vct), asking exactly the
// registered fields, no more.
func QueryFor(reqs []Requested) Query {
	q := Query{}
	for _, r := range reqs {
		c := CredentialQuery{ID: r.Type, Format: FormatSDJWT, Meta: Meta{VCTValues: []string{r.VCT}}}
		for _, f := range r.Fields {
			c.Claims = append(c.Claims, ClaimQuery{Path: []any{f}})
		}
		q.Credentials = append(q.Credentials, c)
	}
	return q
}

// Held is a credential a wallet holds, as DCQL matching sees it.
type Held struct {
	ID     string         // the wallet's id for it
	VCT    string         // its vct
	Claims map[string]any // its claims (resolved)
}

// Match is the result of matching one credential query.
type Match struct {
	Query      *CredentialQuery
	Candidates []string            // ids of held credentials of an asked vct
	Lacks      map[string][]string // per candidate: asked claims it does not hold
}

// MatchQuery matches each credential query against held credentials: a credential is a
// candidate when its vct is one of the query's vct_values; the asked claims it does not
// hold are listed (the caller decides, with the registration, whether it may still answer).
func MatchQuery(q *Query, held []Held) []Match {
	out := make([]Match, 0, len(q.Credentials))
	for i := range q.Credentials {
		c := &q.Credentials[i]
		m := Match{Query: c, Lacks: map[string][]string{}}
		for _, h := range held {
			if !slices.Contains(c.Meta.VCTValues, h.VCT) {
				continue
			}
			m.Candidates = append(m.Candidates, h.ID)
			for _, f := range c.Fields() {
				if _, ok := h.Claims[f]; !ok {
					m.Lacks[h.ID] = append(m.Lacks[h.ID], f)
				}
			}
		}
		out = append(out, m)
	}
	return out
}

func sortStrings(s []string) { slices.Sort(s) }
