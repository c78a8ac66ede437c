package ledger

// This file is the contract between the ledger's state machine (ledger/chain), its node
// runner (ledger/node) and ledgerclient: transaction envelope and bodies, state keys, query
// paths and result codes. Changing anything here is a wire-format change: update
// docs/ledger.md.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"lianzheng/did"
	"lianzheng/internal/bilingual"
)

// TxVersion is the envelope version.
const TxVersion = 1

// MaxTxBytes bounds a transaction. As JSON it holds about 2,500 status updates; a
// status.set in the bulk form (StatusBulk: one value, a bitmap of the whole list, ~22 KB)
// sets any number of entries of one list.
const MaxTxBytes = 64 << 10

// Limits on what one transaction may do (the state machine refuses more).
const (
	MinNonceLen      = 16
	MaxNonceLen      = 64
	MaxStatusUpdates = 4096
	// MaxStatusLists bounds a member's list numbers (0 to MaxStatusLists-1): 1,024 lists of
	// StatusListSize entries are 134 million credentials (status indices are never reused),
	// and at most 32 MiB of status state per member (StatusListBytes per list, written only
	// as chunks are first touched). Until December 2026 it was 16 (2 million credentials).
	MaxStatusLists   = 1024
	MaxAnchorCount   = 1_000_000
	MaxKeysPerDID    = 64 // history entries, revoked ones included
	MaxKeysPerCreate = 8
)

// Limits on the consortium itself.
const (
	MaxMembers        = 256
	MaxValidatorPower = 1_000_000
)

// Transaction types.
const (
	TxProposalCreate  = "proposal.create"  // body ProposalCreate; signer: a member's DID key
	TxProposalApprove = "proposal.approve" // body ProposalApprove; signer: a member's DID key
	TxDIDCreate       = "did.create"       // body DIDCreate; signer: the new DID's controller (a member)
	TxDIDAddKey       = "did.add_key"      // body DIDAddKey; signer: the DID or its controller
	TxDIDRevokeKey    = "did.revoke_key"   // body DIDRevokeKey; signer: the DID or its controller
	TxDIDDeactivate   = "did.deactivate"   // body DIDDeactivate; signer: the DID's controller
	TxStatusSet       = "status.set"       // body StatusSet; signer: the owning member's DID key
	TxAnchorPost      = "anchor.post"      // body AnchorPost; signer: a registered window's DID key
)

// Envelope is a signed transaction. On the wire it is the canonical JSON of the struct
// (encoding/json, fields in this order). Sig is Ed25519 by the key Signer names, over
// SigningBytes: the domain tag, then the canonical JSON of the envelope with Sig empty.
// Nonce is unique per signer (random 128 bits, base64url): a replayed envelope is refused.
// Chain binds the envelope to one consortium (the CometBFT chain id).
type Envelope struct {
	V      int             `json:"v"`
	Chain  string          `json:"chain"`
	Type   string          `json:"type"`
	Signer string          `json:"signer"` // DID URL of the signing key, e.g. did:lz:civil-affairs#key-1
	Nonce  string          `json:"nonce"`
	Body   json.RawMessage `json:"body"`
	Sig    string          `json:"sig,omitempty"` // base64url, no padding
}

// TxHash is the CometBFT transaction hash (SHA-256 of the wire bytes), hex upper-case as
// CometBFT prints it.
func TxHash(tx []byte) string {
	h := sha256.Sum256(tx)
	return fmt.Sprintf("%X", h[:])
}

// Text is a string in Simplified Chinese and English.
type Text = bilingual.Text

// Member is a consortium member: a department that runs a validator and may issue.
type Member struct {
	ID        string `json:"id"`  // did:lz id, e.g. "civil-affairs"
	DID       string `json:"did"` // did:lz:<id>
	Name      Text   `json:"name"`
	Validator string `json:"validator,omitempty"` // Ed25519 validator public key, base64 (std), as in genesis
	Power     int64  `json:"power,omitempty"`
}

// Claim is one claim of a credential type's schema.
type Claim struct {
	Name     string `json:"name"`
	Type     string `json:"type"` // "string", "date" (YYYY-MM-DD), "number", "boolean"
	Required bool   `json:"required"`
	Label    Text   `json:"label"`
}

// CredentialType is a catalogue (目录) entry: what a credential of this type contains and
// which members may issue it.
type CredentialType struct {
	ID              string   `json:"id"`
	VCT             string   `json:"vct"`
	Name            Text     `json:"name"`
	Issuers         []string `json:"issuers"` // member ids
	MaxValidityDays int      `json:"max_validity_days"`
	Claims          []Claim  `json:"claims"`
	Disclosable     []string `json:"disclosable"`
}

// FieldRequest is what a service item may ask of one credential type. Every field asked is
// required unless Optional lists it: a credential lacking a required field (an optional
// catalogue claim its department left empty, or one the citizen withheld) fails the verdict
// with field_missing; one lacking an optional field passes, and the verdict names what it
// lacks. A registration without "optional" — every one made before it existed — requires
// every field it asks; its encoding is unchanged.
type FieldRequest struct {
	Type     string   `json:"type"` // credential type id
	Fields   []string `json:"fields"`
	Optional []string `json:"optional,omitempty"` // fields of Fields the item can do without
}

// ServiceItem is a service a window offers.
type ServiceItem struct {
	ID       string         `json:"id"`
	Name     Text           `json:"name"`
	Purpose  Text           `json:"purpose"`
	Requests []FieldRequest `json:"requests"`
}

// Window is a registered service window. Its DID (controlled by its department) signs
// requests, receipts and anchors.
//
// An online service (网上服务平台: a department's web portal that asks a wallet for
// credentials with OpenID4VP, docs/portal.md) is registered the same way, by the same
// governance (window.put), with its own did:lz key, and is marked by Channel "online". URL,
// when set, is the portal's origin: a wallet then refuses a request whose request_uri or
// response_uri lies elsewhere. Both are omitted from the encoding when empty, so every
// window registered before them is unchanged.
type Window struct {
	DID          string        `json:"did"`
	Department   string        `json:"department"` // member id
	Name         Text          `json:"name"`
	ServiceItems []ServiceItem `json:"service_items"`
	Channel      string        `json:"channel,omitempty"` // "" (a service hall window) or ChannelOnline
	URL          string        `json:"url,omitempty"`     // online only: the portal's origin (https)
}

// Channels of a Window.
const (
	ChannelHall   = ""       // a window in a service hall: in-person QR codes
	ChannelOnline = "online" // an online service portal: OpenID4VP
)

// Online reports whether the window is an online service portal.
func (w *Window) Online() bool { return w.Channel == ChannelOnline }

// Params are consortium-wide parameters.
type Params struct {
	Approvals int `json:"approvals"` // k: approvals (the proposer's included) a proposal needs
	// PublicBaseURL is where the consortium publishes what outside verifiers need (status
	// lists, DID resolution, type metadata; see publicurl.go). Empty: not published yet, and
	// credentials name their status list by URN. A params.set carries the whole Params, so
	// a change of approvals must repeat it.
	PublicBaseURL string `json:"public_base_url,omitempty"`
}

// Validate checks the parameters that do not depend on the membership.
func (p *Params) Validate() error {
	if p.PublicBaseURL != "" {
		return CheckPublicBaseURL(p.PublicBaseURL)
	}
	return nil
}

// Proposal actions (k-of-n governance).
const (
	ActionMemberAdd       = "member.add"       // Payload Member
	ActionMemberRemove    = "member.remove"    // Payload {"id": ...}
	ActionCataloguePut    = "catalogue.put"    // Payload CredentialType
	ActionCatalogueRemove = "catalogue.remove" // Payload {"id": ...}
	ActionWindowPut       = "window.put"       // Payload Window
	ActionWindowRemove    = "window.remove"    // Payload {"did": ...}
	ActionParamsSet       = "params.set"       // Payload Params
	// Mutual recognition of another region (recognition.go).
	ActionRecognitionPut    = "recognition.put"    // Payload Recognition
	ActionRecognitionRemove = "recognition.remove" // Payload {"region": ...}
)

// ProposalCreate proposes a governance action; the proposer's approval is implied.
type ProposalCreate struct {
	Action  string          `json:"action"`
	Payload json.RawMessage `json:"payload"`
}

// ProposalApprove approves a pending proposal.
type ProposalApprove struct {
	ID string `json:"id"`
}

// Proposal is the stored state of a proposal. ID is hex(SHA-256(creating tx))[:32].
type Proposal struct {
	ID        string          `json:"id"`
	Action    string          `json:"action"`
	Payload   json.RawMessage `json:"payload"`
	Proposer  string          `json:"proposer"`  // member id
	Approvals []string        `json:"approvals"` // member ids, sorted
	Status    string          `json:"status"`    // "pending", "applied", "failed"
	Height    int64           `json:"height"`
	Error     string          `json:"error,omitempty"`
}

// DIDCreate creates a did:lz DID controlled by the signer's DID (windows by their
// department). Keys[i].ValidFrom is set by the ledger to the block time.
type DIDCreate struct {
	DID  string          `json:"did"`
	Keys []did.KeyRecord `json:"keys"`
}

// DIDAddKey adds a key (rotation = add the new key, then revoke the old).
type DIDAddKey struct {
	DID string        `json:"did"`
	Key did.KeyRecord `json:"key"`
}

// DIDRevokeKey ends a key's validity at the block time; Compromised marks it never valid.
type DIDRevokeKey struct {
	DID         string `json:"did"`
	KeyID       string `json:"key_id"`
	Compromised bool   `json:"compromised,omitempty"`
}

// DIDDeactivate deactivates a DID for good.
type DIDDeactivate struct {
	DID string `json:"did"`
}

// StatusUpdate sets one entry.
type StatusUpdate struct {
	Index int `json:"index"`
	Value int `json:"value"`
}

// StatusSet updates entries of the signer member's list, in one of two forms: Updates (an
// index and a value each, 1 to MaxStatusUpdates of them) or Bulk (one value for every entry
// a bitmap of the whole list marks). Exactly one is given. The bulk form was added in
// December 2026 (a wire-format change: nodes before it refuse the member as unknown).
type StatusSet struct {
	List    int            `json:"list"`
	Updates []StatusUpdate `json:"updates,omitempty"`
	Bulk    *StatusBulk    `json:"bulk,omitempty"`
}

// StatusBulk sets every entry whose bit is set in Bitmap to Value (0 valid, 1 revoked, 2
// suspended). Bitmap is unpadded base64url of exactly StatusBitmapBytes bytes: bit i is
// entry i, entry 0 in the most significant bit of byte 0 (the W3C bit order). At least one
// bit is set. It is the encoding of bulk status changes: a whole list in ~22 KB, where JSON
// updates need ~25 bytes each (EncodeStatusBitmap, DecodeStatusBitmap).
type StatusBulk struct {
	Value  int    `json:"value"`
	Bitmap string `json:"bitmap"`
}

// StatusListURI names a member's list the way credentials reference it.
func StatusListURI(member string, list int) string {
	return fmt.Sprintf("%s%s:%d", statusURIPrefix, member, list)
}

// StatusListURI and ParseStatusListURI are the one home of the status-list URI format
// (urn:lz:status:<member>:<list>): the ledger emits it in events, and the ledger model may
// import nothing of credential/*, so wallet, window and issuer call these.
const statusURIPrefix = "urn:lz:status:"

// maxStatusListNumber bounds the list number ParseStatusListURI accepts.
const maxStatusListNumber = 1 << 20

// ParseStatusListURI reads the list a credential's status reference names (from a
// credential, so untrusted): the URN form made by StatusListURI (the member is everything up
// to the last ':', not empty; the list number in canonical decimal, no sign or leading zero,
// at most 2^20), or the Token Status List URL made by StatusListURL (see
// ParseStatusReference). A W3C list-credential URL (with a purpose) is not a 2-bit list
// reference and is refused here.
func ParseStatusListURI(uri string) (member string, list int, ok bool) {
	r, ok := ParseStatusReference(uri)
	if !ok || r.Purpose != "" {
		return "", 0, false
	}
	return r.Member, r.List, true
}

func parseStatusURN(uri string) (member string, list int, ok bool) {
	rest, ok := strings.CutPrefix(uri, statusURIPrefix)
	if !ok {
		return "", 0, false
	}
	i := strings.LastIndexByte(rest, ':')
	if i <= 0 {
		return "", 0, false
	}
	n, ok := listNumber(rest[i+1:])
	if !ok {
		return "", 0, false
	}
	return rest[:i], n, true
}

// AnchorPost anchors the Merkle root of a batch of verification receipts.
type AnchorPost struct {
	Root  string `json:"root"`  // hex SHA-256 Merkle root
	Count int    `json:"count"` // receipts in the batch
}

// Anchor is the stored form.
type Anchor struct {
	Window string    `json:"window"`
	Seq    uint64    `json:"seq"`
	Root   string    `json:"root"`
	Count  int       `json:"count"`
	Height int64     `json:"height"`
	Time   time.Time `json:"time"`
}

// State keys. Values are the canonical JSON of the type named, except status chunks (raw
// bytes, W3C bit order: entry 0 in the two most significant bits of byte 0).
func KeyParams() []byte                   { return []byte("params") }
func KeyMember(id string) []byte          { return []byte("member/" + id) }
func KeyDID(d string) []byte              { return []byte("did/" + d) }            // did.History
func KeyType(id string) []byte            { return []byte("type/" + id) }          // CredentialType
func KeyWindow(d string) []byte           { return []byte("window/" + d) }         // Window
func KeyProposal(id string) []byte        { return []byte("proposal/" + id) }      // Proposal
func KeyAnchorSeq(window string) []byte   { return []byte("anchorseq/" + window) } // uint64 decimal
func KeyNonce(signer, n string) []byte    { return []byte("nonce/" + signer + "/" + n) }
func KeyAnchor(w string, s uint64) []byte { return []byte(fmt.Sprintf("anchor/%s/%020d", w, s)) }
func KeyStatusChunk(member string, list, chunk int) []byte {
	return []byte(fmt.Sprintf("status/%s/%d/%d", member, list, chunk))
}

// Prefixes for listing (ABCI query path QueryKeys).
const (
	PrefixMember = "member/"
	PrefixDID    = "did/"
	PrefixType   = "type/"
	PrefixWindow = "window/"
	PrefixStatus = "status/"
	PrefixAnchor = "anchor/"
)

// ABCI query paths. QueryKey: Data is the raw key; with Prove the response carries
// ProofOps with one ICS23 commitment proof (existence, or non-existence when Value is
// empty), verifiable against the AppHash of header Height+1. QueryKeys: Data is a prefix;
// the value is a JSON array of keys (strings), unproven — each must then be read with
// QueryKey.
const (
	QueryKey  = "/key"
	QueryKeys = "/keys"
)

// ProofOpType is the ProofOp type carrying an ICS23 CommitmentProof over the IAVL tree.
const ProofOpType = "ics23:iavl"

// Result codes of CheckTx/FinalizeBlock (Codespace "lianzheng").
const (
	CodeOK           uint32 = 0
	CodeMalformed    uint32 = 1 // cannot decode, wrong version/chain, oversized
	CodeBadSignature uint32 = 2 // signature invalid, or key not valid now
	CodeUnauthorized uint32 = 3 // signer may not do this
	CodeReplay       uint32 = 4 // nonce already used
	CodeNotFound     uint32 = 5 // referenced object does not exist
	CodeInvalid      uint32 = 6 // body fails validation
	CodeConflict     uint32 = 7 // already exists / already approved / wrong state
	CodeInternal     uint32 = 8 // storage failure or a handler fault; the transaction changed nothing
)

// Codespace of our result codes.
const Codespace = "lianzheng"

// ProposalID derives a proposal's id from its creating transaction.
func ProposalID(tx []byte) string {
	h := sha256.Sum256(tx)
	return hex.EncodeToString(h[:16])
}

// GenesisState is the app_state of the genesis document.
type GenesisState struct {
	Params  Params           `json:"params"`
	Members []Member         `json:"members"`
	DIDs    []*did.History   `json:"dids"`
	Types   []CredentialType `json:"types"`
	Windows []Window         `json:"windows"`
}
