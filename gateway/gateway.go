package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"lianzheng/credential/dataintegrity"
	"lianzheng/credential/jws"
	"lianzheng/credential/statuslist"
	"lianzheng/did"
	"lianzheng/ledger"
	"lianzheng/ledgerclient"
)

// Ledger is where the gateway reads: a proof-checked view of the latest state.
type Ledger interface {
	View(ctx context.Context) (*ledgerclient.StateView, error)
}

// Signer signs one department's lists: its key's DID URL (did:lz:<member>#key-N, valid on
// the ledger) and an Ed25519 signer of that key.
type Signer struct {
	KeyID  string
	Signer jws.Signer
}

// Signers gives the current signer of a member's lists (a department that rotates its key
// signs with the new one from then on; a list signed by the old key is re-signed).
type Signers interface {
	Signer(member string) (Signer, bool)
}

// StaticSigners is a fixed set of signers by member id.
type StaticSigners map[string]Signer

// Signer implements Signers.
func (s StaticSigners) Signer(member string) (Signer, bool) {
	sg, ok := s[member]
	return sg, ok
}

// Config configures a gateway.
type Config struct {
	Ledger Ledger
	// Signers of the members whose lists this gateway publishes (nil: none). Lists of other
	// members are not served here.
	Signers Signers
	// TTL is how long a client may cache a status list (the token's ttl, Cache-Control);
	// default 5 minutes.
	TTL time.Duration
	// Validity is how long a signed list is valid (exp, validUntil); default 24 hours. A list
	// is re-signed when its bits change or half of this has passed.
	Validity time.Duration
	// Poll is how often Run looks for a new ledger height; default 1 s.
	Poll time.Duration
	// PerMinute and Burst limit each client's requests; defaults 1200 and 200.
	PerMinute, Burst int
	Log              *slog.Logger
	Now              func() time.Time
}

// Content types of what the gateway serves.
const (
	TypeStatusListJWT    = "application/statuslist+jwt"
	TypeVC               = "application/vc"
	TypeResolutionResult = "application/did-resolution" // DID Resolution 1.0 (was application/ld+json;profile=…)
	TypeDIDDocument      = "application/did+ld+json"
	TypeJSON             = "application/json"
	TypeJSONLD           = "application/ld+json"
)

// resource is one ready response.
type resource struct {
	body   []byte
	ctype  string
	etag   string
	maxAge int // seconds
}

func newResource(body []byte, ctype string, maxAge int) *resource {
	h := sha256.Sum256(body)
	return &resource{body: body, ctype: ctype, etag: `"` + hex.EncodeToString(h[:16]) + `"`, maxAge: maxAge}
}

// signedList is a department list as last signed.
type signedList struct {
	keyID    string
	hash     [32]byte
	signedAt time.Time
	token    *resource // Token Status List JWT
	w3c      map[string]*resource
}

// state is everything served, built from one ledger view.
type state struct {
	height    int64
	appHash   []byte // the state root everything was read under
	ledgerAt  time.Time
	base      string
	basePath  string // the base URL's path ("" or "/prefix"), stripped from request paths
	files     map[string]*resource
	histories map[string]*did.History
	lists     map[string]*signedList // "<member>/<list>"
}

// Server is a gateway.
type Server struct {
	cfg   Config
	cur   atomic.Pointer[state]
	mu    sync.Mutex // one Refresh at a time
	stats struct{ served, notFound, limited atomic.Int64 }
}

// Errors.
var (
	ErrNoBase = errors.New("gateway: the ledger has no public base URL (params.public_base_url; set it by governance)")
	ErrNotYet = errors.New("gateway: nothing read from the ledger yet")
)

// New returns a gateway; call Refresh (or Run) before serving.
func New(cfg Config) (*Server, error) {
	if cfg.Ledger == nil {
		return nil, errors.New("gateway: no ledger")
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 5 * time.Minute
	}
	if cfg.Validity <= 0 {
		cfg.Validity = 24 * time.Hour
	}
	if cfg.Validity < 2*cfg.TTL {
		return nil, fmt.Errorf("gateway: validity %v must be at least twice the ttl %v", cfg.Validity, cfg.TTL)
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.PerMinute <= 0 {
		cfg.PerMinute = 1200
	}
	if cfg.Burst <= 0 {
		cfg.Burst = 200
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Signers == nil {
		cfg.Signers = StaticSigners{}
	}
	return &Server{cfg: cfg}, nil
}

// Height is the ledger height of what is served (0 before the first Refresh).
func (s *Server) Height() int64 {
	if st := s.cur.Load(); st != nil {
		return st.height
	}
	return 0
}

// Base is the public base URL served under ("" before the first Refresh).
func (s *Server) Base() string {
	if st := s.cur.Load(); st != nil {
		return st.base
	}
	return ""
}

// Run refreshes every Poll until ctx ends. Failures are logged; what was served stays
// served until its lists expire.
func (s *Server) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.Poll)
	defer t.Stop()
	failing := false
	for {
		if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
			if !failing {
				s.cfg.Log.Warn("gateway refresh failed", "err", err)
			}
			failing = true
		} else {
			failing = false
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Refresh reads the latest ledger state and rebuilds what is served if the height changed
// or a list needs re-signing.
func (s *Server) Refresh(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.cfg.Ledger.View(ctx)
	if err != nil {
		return fmt.Errorf("gateway: ledger: %w", err)
	}
	old := s.cur.Load()
	now := s.cfg.Now()
	if old != nil && (old.height == v.Height() || bytes.Equal(old.appHash, v.AppHash())) && !s.resignDue(old, now) {
		return nil // nothing changed (an empty block keeps the state root)
	}
	st, err := s.build(ctx, v, old, now)
	if err != nil {
		return err
	}
	s.cur.Store(st)
	return nil
}

func (s *Server) resignDue(st *state, now time.Time) bool {
	for key, l := range st.lists {
		member, _, _ := strings.Cut(key, "/")
		if sg, ok := s.cfg.Signers.Signer(member); now.Sub(l.signedAt) >= s.cfg.Validity/2 || !ok || sg.KeyID != l.keyID {
			return true
		}
	}
	return false
}

func (s *Server) build(ctx context.Context, v *ledgerclient.StateView, old *state, now time.Time) (*state, error) {
	params, err := v.Params(ctx)
	if err != nil {
		return nil, fmt.Errorf("gateway: params: %w", err)
	}
	if params.PublicBaseURL == "" {
		return nil, ErrNoBase
	}
	members, err := v.Members(ctx)
	if err != nil {
		return nil, fmt.Errorf("gateway: members: %w", err)
	}
	types, err := v.Types(ctx)
	if err != nil {
		return nil, fmt.Errorf("gateway: catalogue: %w", err)
	}
	windows, err := v.Windows(ctx)
	if err != nil {
		return nil, fmt.Errorf("gateway: windows: %w", err)
	}
	base := params.PublicBaseURL
	st := &state{height: v.Height(), appHash: bytes.Clone(v.AppHash()), ledgerAt: v.Time(), base: base, basePath: basePath(base),
		files: map[string]*resource{}, histories: map[string]*did.History{}, lists: map[string]*signedList{}}
	// DID documents of every member and window.
	var dids []string
	for _, m := range members {
		dids = append(dids, m.DID)
	}
	for _, w := range windows {
		dids = append(dids, w.DID)
	}
	for _, d := range dids {
		h, err := v.History(ctx, d)
		if errors.Is(err, ledgerclient.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("gateway: DID %s: %w", d, err)
		}
		st.histories[d] = h
		res, _, err := resolution(h, nil, now)
		if err != nil {
			return nil, err
		}
		st.files[didPath(d)] = res
	}
	// Type metadata and the claims' vocabulary.
	for _, t := range types {
		b, err := typeMetadata(t, members)
		if err != nil {
			return nil, err
		}
		st.files[typePath(t.VCT)] = newResource(b, TypeJSON, 300)
	}
	voc, err := vocabulary(base, types)
	if err != nil {
		return nil, err
	}
	st.files[vocabularyPath] = newResource(voc, TypeJSONLD, 86400)
	// Status lists of the departments this process signs for.
	for _, m := range members {
		sg, ok := s.cfg.Signers.Signer(m.ID)
		if !ok {
			continue
		}
		if !strings.HasPrefix(sg.KeyID, m.DID+"#") || sg.Signer == nil {
			return nil, fmt.Errorf("gateway: signer of %s: key id %q is not one of its keys", m.ID, sg.KeyID)
		}
		lists, err := listNumbers(ctx, v, m.ID)
		if err != nil {
			return nil, err
		}
		for _, n := range lists {
			raw, err := v.StatusList(ctx, m.ID, n)
			if err != nil {
				return nil, fmt.Errorf("gateway: status list %s/%d: %w", m.ID, n, err)
			}
			key := m.ID + "/" + strconv.Itoa(n)
			var prev *signedList
			if old != nil && old.base == base {
				prev = old.lists[key]
			}
			sl, err := s.signList(base, m, sg, n, raw, prev, now)
			if err != nil {
				return nil, err
			}
			st.lists[key] = sl
			st.files[strings.TrimPrefix(ledger.StatusListURL(base, m.ID, n), base)] = sl.token
			for p, r := range sl.w3c {
				st.files[strings.TrimPrefix(ledger.StatusListCredentialURL(base, m.ID, n, p), base)] = r
			}
		}
	}
	return st, nil
}

// listNumbers are the lists of member to publish: list 0 always (the one issuers use
// first), and every list with an entry written on the ledger.
func listNumbers(ctx context.Context, v *ledgerclient.StateView, member string) ([]int, error) {
	out := []int{0}
	es, err := v.List(ctx, ledger.PrefixStatus+member+"/")
	if err != nil {
		return nil, fmt.Errorf("gateway: status lists of %s: %w", member, err)
	}
	for _, e := range es {
		parts := strings.Split(strings.TrimPrefix(e.Key, ledger.PrefixStatus+member+"/"), "/")
		if n, err := strconv.Atoi(parts[0]); err == nil && n >= 0 && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out, nil
}

// signList signs a list in both encodings unless prev holds the same bits signed recently.
func (s *Server) signList(base string, m ledger.Member, sg Signer, n int, raw []byte, prev *signedList, now time.Time) (*signedList, error) {
	h := sha256.Sum256(raw)
	if prev != nil && prev.hash == h && prev.keyID == sg.KeyID && now.Sub(prev.signedAt) < s.cfg.Validity/2 {
		return prev, nil
	}
	l, err := statuslist.FromBytes(raw, 2)
	if err != nil {
		return nil, fmt.Errorf("gateway: status list %s/%d: %w", m.ID, n, err)
	}
	iat := now.UTC().Truncate(time.Second)
	exp := iat.Add(s.cfg.Validity)
	maxAge := int(s.cfg.TTL / time.Second)
	// IETF Token Status List: the ledger's 2-bit entries as they are (0 valid, 1 revoked =
	// INVALID, 2 suspended = SUSPENDED, 3 undefined).
	url := ledger.StatusListURL(base, m.ID, n)
	claims, err := l.IETFTokenClaims(statuslist.IETFTokenConfig{Subject: url, IssuedAt: iat, Expires: exp, TTL: s.cfg.TTL})
	if err != nil {
		return nil, err
	}
	claims["iss"] = m.DID
	payload, err := jws.Marshal(claims)
	if err != nil {
		return nil, err
	}
	tok, err := jws.Sign(map[string]any{"typ": statuslist.IETFTokenType, "kid": sg.KeyID}, payload, sg.Signer)
	if err != nil {
		return nil, fmt.Errorf("gateway: sign status list %s/%d: %w", m.ID, n, err)
	}
	out := &signedList{keyID: sg.KeyID, hash: h, signedAt: now, token: newResource([]byte(tok), TypeStatusListJWT, maxAge), w3c: map[string]*resource{}}
	// W3C: one 1-bit list per purpose. The undefined value 3 sets both (fail closed).
	for _, p := range []struct {
		purpose string
		value   uint8
	}{{ledger.PurposeRevocation, ledger.StatusRevoked}, {ledger.PurposeSuspension, ledger.StatusSuspended}} {
		one := l.Select(func(v uint8) bool { return v == p.value || v == 3 })
		id := ledger.StatusListCredentialURL(base, m.ID, n, p.purpose)
		cred, err := one.W3CCredential(statuslist.W3CCredentialConfig{ID: id, Issuer: m.DID, Purpose: p.purpose,
			ValidFrom: iat, ValidUntil: exp, TTL: s.cfg.TTL})
		if err != nil {
			return nil, err
		}
		signed, err := dataintegrity.SignWith(cred, dataintegrity.ProofConfig{Cryptosuite: dataintegrity.CryptosuiteRDFC,
			VerificationMethod: sg.KeyID, ProofPurpose: dataintegrity.PurposeAssertion, Created: iat}, sg.Signer)
		if err != nil {
			return nil, fmt.Errorf("gateway: sign %s list credential %s/%d: %w", p.purpose, m.ID, n, err)
		}
		b, err := json.Marshal(signed)
		if err != nil {
			return nil, err
		}
		out.w3c[p.purpose] = newResource(b, TypeVC, maxAge)
	}
	return out, nil
}
