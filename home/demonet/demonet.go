// Package demonet is the demo consortium that a demo home runs: its genesis (the five
// departments, the credential-type catalogue and the real-estate window of the embedded
// assets catalogue), the departments' and windows' demo keys, and a one-call embedded
// single-validator node home (InitEmbedded). It is production code of the demo: the app and
// `lz demo` create their ledger with it. Multi-validator loopback testnets, built on the same
// consortium, are a test rig (internal/rig/testnet).
//
// Demo departments and windows get fresh Ed25519 DID keys at every init. Their private keys
// are written UNSEALED to <home>/demo-keys/<id>.json (mode 0600) and every file says so in
// its "warning" member: they exist so that the demo, tests and benchmarks can sign ledger
// transactions on the departments' behalf. A real department keeps its DID key in its own
// sealed key store (issuer package) and never hands it to the node.
//
// Governance: params.approvals is 3 of the 5 members — a simple majority, so no two
// departments can change the consortium (members, catalogue, windows) on their own, and
// one or two absent departments cannot block it.
package demonet

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"

	"lianzheng/assets"
	"lianzheng/did"
	"lianzheng/ledger"
	"lianzheng/ledger/node"
	ledgernode "lianzheng/ledger/node"
	"lianzheng/ledgerclient"
)

// DemoApprovals is params.approvals of the demo consortium: 3 of its 5 members.
const DemoApprovals = 3

// DemoKeyWarning marks every demo key file.
const DemoKeyWarning = "DEMO KEY — unsealed private key of a demo department or window, for local demos and tests only; never use it for a real department. 演示密钥：未加密，仅供本地演示和测试。"

// KeyPurposes are the verification relationships of demo DID keys: ledger transactions need
// authentication or assertionMethod; credentials are signed with assertionMethod.
var KeyPurposes = []string{did.PurposeAuthentication, did.PurposeAssertion}

// DemoKey is one unsealed demo DID key, as stored in <home>/demo-keys/<id>.json.
type DemoKey struct {
	Warning string `json:"warning"`
	Demo    bool   `json:"demo"`
	ID      string `json:"id"`     // did:lz id: department id or window id
	DID     string `json:"did"`    // did:lz:<id>
	KeyID   string `json:"key_id"` // DID URL of the key, e.g. did:lz:civil-affairs#key-1
	// PublicKeyMultibase is the Multikey form registered on the ledger.
	PublicKeyMultibase string `json:"public_key_multibase"`
	// PrivateKeySeed is the Ed25519 seed (32 bytes), base64url without padding.
	PrivateKeySeed string `json:"private_key_seed"`

	priv ed25519.PrivateKey
}

// NewDemoKey generates a fresh key for did:lz:<id>, key fragment "key-1".
func NewDemoKey(id string) (*DemoKey, error) {
	d, err := did.LZ(id)
	if err != nil {
		return nil, err
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return newDemoKey(id, d, d+"#key-1", priv), nil
}

func newDemoKey(id, d, keyID string, priv ed25519.PrivateKey) *DemoKey {
	return &DemoKey{
		Warning: DemoKeyWarning, Demo: true, ID: id, DID: d, KeyID: keyID,
		PublicKeyMultibase: strings.TrimPrefix(did.KeyFromEd25519(priv.Public().(ed25519.PublicKey)), "did:key:"),
		PrivateKeySeed:     base64.RawURLEncoding.EncodeToString(priv.Seed()),
		priv:               priv,
	}
}

// Rotated returns a fresh key of the same DID with another fragment (the next key of a
// rotation: add it with did.add_key, then revoke the old one).
func (k *DemoKey) Rotated(fragment string) (*DemoKey, error) {
	if !did.ValidFragment(fragment) {
		return nil, fmt.Errorf("demonet: invalid key fragment %q", fragment)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return newDemoKey(k.ID, k.DID, k.DID+"#"+fragment, priv), nil
}

// Fragment is the key's fragment ("key-1").
func (k *DemoKey) Fragment() string { return k.KeyID[strings.IndexByte(k.KeyID, '#')+1:] }

// PrivateKey returns the Ed25519 private key.
func (k *DemoKey) PrivateKey() ed25519.PrivateKey { return k.priv }

// PublicKey returns the Ed25519 public key.
func (k *DemoKey) PublicKey() ed25519.PublicKey { return k.priv.Public().(ed25519.PublicKey) }

// Record is the key's DID history entry, valid from t.
func (k *DemoKey) Record(t time.Time) did.KeyRecord {
	return did.KeyRecord{ID: k.Fragment(), PublicKeyMultibase: k.PublicKeyMultibase, ValidFrom: t,
		Purposes: append([]string(nil), KeyPurposes...)}
}

// KeyDir is where demo keys live inside a home (or a testnet directory).
func KeyDir(home string) string { return filepath.Join(home, "demo-keys") }

// WriteKeys writes each key to dir/<id>.json with mode 0600 (dir 0700), refusing to
// overwrite an existing file.
func WriteKeys(dir string, keys []*DemoKey) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("demonet: %w", err)
	}
	for _, k := range keys {
		b, err := json.MarshalIndent(k, "", "  ")
		if err != nil {
			return err
		}
		f, err := os.OpenFile(filepath.Join(dir, k.ID+".json"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("demonet: write demo key: %w", err)
		}
		_, err = f.Write(append(b, '\n'))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("demonet: write demo key: %w", err)
		}
	}
	return nil
}

// LoadKey reads dir/<id>.json and checks that it is a demo key whose seed matches its public
// key.
func LoadKey(dir, id string) (*DemoKey, error) {
	if !did.ValidLZID(id) {
		return nil, fmt.Errorf("demonet: invalid id %q", id)
	}
	b, err := os.ReadFile(filepath.Join(dir, id+".json"))
	if err != nil {
		return nil, fmt.Errorf("demonet: %w", err)
	}
	var k DemoKey
	if err := json.Unmarshal(b, &k); err != nil {
		return nil, fmt.Errorf("demonet: demo key %s: %w", id, err)
	}
	if !k.Demo || k.Warning != DemoKeyWarning {
		return nil, fmt.Errorf("demonet: %s.json is not marked as a demo key", id)
	}
	if k.ID != id || k.DID != "did:lz:"+id || !strings.HasPrefix(k.KeyID, k.DID+"#") || !did.ValidFragment(k.Fragment()) {
		return nil, fmt.Errorf("demonet: %s.json holds the key of %q (%s)", id, k.ID, k.KeyID)
	}
	seed, err := base64.RawURLEncoding.Strict().DecodeString(k.PrivateKeySeed)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("demonet: demo key %s: bad seed", id)
	}
	k.priv = ed25519.NewKeyFromSeed(seed)
	if newDemoKey(k.ID, k.DID, k.KeyID, k.priv).PublicKeyMultibase != k.PublicKeyMultibase {
		return nil, fmt.Errorf("demonet: demo key %s: seed does not match the public key", id)
	}
	return &k, nil
}

// Consortium is a demo genesis state with its demo keys.
type Consortium struct {
	ChainID     string
	GenesisTime time.Time
	State       *ledger.GenesisState
	Keys        map[string]*DemoKey // by id: departments and windows
}

// Key returns the demo key of a department or window id.
func (c *Consortium) Key(id string) *DemoKey { return c.Keys[id] }

// KeyList returns the keys in genesis order (members, then windows).
func (c *Consortium) KeyList() []*DemoKey {
	var out []*DemoKey
	for _, m := range c.State.Members {
		out = append(out, c.Keys[m.ID])
	}
	for _, w := range c.State.Windows {
		id, _ := did.ParseLZ(w.DID)
		out = append(out, c.Keys[id])
	}
	return out
}

// NewConsortium builds the demo genesis state from the embedded catalogue, with a fresh key
// for every department and window. validators maps department ids to their Ed25519
// consensus keys (power 10 each); the other departments are members without a validator.
func NewConsortium(chainID string, genesisTime time.Time, validators map[string][]byte) (*Consortium, error) {
	return NewRegionConsortium(chainID, genesisTime, validators, "")
}

// NewRegionConsortium is NewConsortium for another region: every department and window id
// of the catalogue (and so its did:lz DID, the types' issuers and the windows' departments)
// gets prefix, so that its members are distinct from the demo city's — did:lz member ids
// are unique across federated regions (docs/federation.md). validators is keyed by the
// catalogue's department ids, without the prefix. Names, types and service items are the
// catalogue's; a caller changes them before installing the genesis (EmbeddedOptions.Edit).
func NewRegionConsortium(chainID string, genesisTime time.Time, validators map[string][]byte, prefix string) (*Consortium, error) {
	cat, err := assets.DemoCatalogue()
	if err != nil {
		return nil, err
	}
	return consortiumFrom(cat, chainID, genesisTime, validators, prefix)
}

// NewConsortiumFrom is NewConsortium over another catalogue (a second region's).
func NewConsortiumFrom(cat *assets.Catalogue, chainID string, genesisTime time.Time, validators map[string][]byte) (*Consortium, error) {
	return consortiumFrom(cat, chainID, genesisTime, validators, "")
}

func consortiumFrom(cat *assets.Catalogue, chainID string, genesisTime time.Time, validators map[string][]byte, prefix string) (*Consortium, error) {
	t := genesisTime.UTC().Truncate(time.Second)
	c := &Consortium{ChainID: chainID, GenesisTime: t, Keys: map[string]*DemoKey{},
		State: &ledger.GenesisState{Params: ledger.Params{Approvals: DemoApprovals}}}
	for _, d := range cat.Departments {
		id := prefix + d.ID
		k, err := NewDemoKey(id)
		if err != nil {
			return nil, err
		}
		if prefix == "" && k.DID != d.DID {
			return nil, fmt.Errorf("demonet: department %s has DID %s, want %s", d.ID, d.DID, k.DID)
		}
		c.Keys[id] = k
		m := ledger.Member{ID: id, DID: k.DID, Name: d.Name}
		if v, ok := validators[d.ID]; ok {
			m.Validator = base64.StdEncoding.EncodeToString(v)
			m.Power = 10
		}
		c.State.Members = append(c.State.Members, m)
		c.State.DIDs = append(c.State.DIDs, &did.History{DID: k.DID, Created: t, Keys: []did.KeyRecord{k.Record(t)}})
	}
	for id := range validators {
		if _, ok := cat.Department(id); !ok {
			return nil, fmt.Errorf("demonet: validator for unknown department %q", id)
		}
	}
	for _, ct := range cat.Types {
		lt := credentialType(ct)
		for i := range lt.Issuers {
			lt.Issuers[i] = prefix + lt.Issuers[i]
		}
		c.State.Types = append(c.State.Types, lt)
	}
	for _, w := range cat.Windows {
		dept, ok := cat.Department(w.Department)
		if !ok {
			return nil, fmt.Errorf("demonet: window %s: unknown department %s", w.ID, w.Department)
		}
		k, err := NewDemoKey(prefix + w.ID)
		if err != nil {
			return nil, err
		}
		if prefix == "" && k.DID != w.DID {
			return nil, fmt.Errorf("demonet: window %s has DID %s, want %s", w.ID, w.DID, k.DID)
		}
		c.Keys[k.ID] = k
		dk := c.Keys[prefix+dept.ID]
		c.State.DIDs = append(c.State.DIDs, &did.History{DID: k.DID, Controller: dk.DID, Created: t, Keys: []did.KeyRecord{k.Record(t)}})
		lw := window(w)
		lw.DID, lw.Department = k.DID, prefix+w.Department
		c.State.Windows = append(c.State.Windows, lw)
	}
	if err := c.State.Validate(); err != nil {
		return nil, fmt.Errorf("demonet: demo genesis: %w", err)
	}
	return c, nil
}

// Genesis returns the CometBFT genesis document.
func (c *Consortium) Genesis() (*cmttypes.GenesisDoc, error) {
	return node.NewGenesis(c.ChainID, c.GenesisTime, c.State)
}

func credentialType(t assets.CredentialType) ledger.CredentialType {
	out := ledger.CredentialType{ID: t.ID, VCT: t.VCT, Name: t.Name,
		Issuers: append([]string(nil), t.Issuers...), MaxValidityDays: t.MaxValidityDays,
		Disclosable: append([]string(nil), t.Disclosable...)}
	for _, c := range t.Claims {
		out.Claims = append(out.Claims, ledger.Claim{Name: c.Name, Type: c.Type, Required: c.Required, Label: c.Label})
	}
	return out
}

func window(w assets.Window) ledger.Window {
	out := ledger.Window{DID: w.DID, Department: w.Department, Name: w.Name, Channel: w.Channel}
	for _, si := range w.ServiceItems {
		item := ledger.ServiceItem{ID: si.ID, Name: si.Name, Purpose: si.Purpose}
		for _, r := range si.Requests {
			item.Requests = append(item.Requests, ledger.FieldRequest{Type: r.Type, Fields: append([]string(nil), r.Fields...),
				Optional: append([]string(nil), r.Optional...)})
		}
		out.ServiceItems = append(out.ServiceItems, item)
	}
	return out
}

// ErrExists reports a directory that already holds a node home (or a testnet).
var ErrExists = errors.New("already initialised")

// Install writes the consortium's genesis into each node home and its demo keys into keyDir
// (see WriteKeys).
func (c *Consortium) Install(homes []string, keyDir string) error {
	doc, err := c.Genesis()
	if err != nil {
		return err
	}
	for _, h := range homes {
		if err := ledgernode.WriteGenesis(h, doc); err != nil {
			return err
		}
	}
	return WriteKeys(keyDir, c.KeyList())
}

// Govern passes a governance action on a demo consortium's ledger with its members' demo keys
// (key: by member id, e.g. LoadKey over KeyDir): proposed by the first member, approved by the
// next until the consortium's approvals are reached; an error unless it applied.
func Govern(ctx context.Context, cl *ledgerclient.Client, key func(id string) (*DemoKey, error), action string, payload any) error {
	p, err := cl.Params(ctx)
	if err != nil {
		return err
	}
	ms, err := cl.Members(ctx)
	if err != nil {
		return err
	}
	if len(ms) < p.Approvals {
		return errors.New("demonet: fewer members than approvals")
	}
	var id string
	for i := 0; i < p.Approvals; i++ {
		k, err := key(ms[i].ID)
		if err != nil {
			return err
		}
		s := ledgerclient.Signer{KeyID: k.KeyID, Key: k.PrivateKey()}
		if i == 0 {
			res, err := cl.ProposalCreate(ctx, s, action, payload)
			if err != nil {
				return err
			}
			id = res.ProposalID
			continue
		}
		if _, err := cl.ProposalApprove(ctx, s, id); err != nil {
			return err
		}
	}
	pr, err := cl.Proposal(ctx, id)
	if err != nil {
		return err
	}
	if pr.Status != "applied" {
		return fmt.Errorf("demonet: proposal %s %s: %s", action, pr.Status, pr.Error)
	}
	return nil
}
