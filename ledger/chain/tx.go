package chain

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"lianzheng/did"
	"lianzheng/ledger"
)

// Limits of the state machine beyond the model's (ledger.Max*).
const (
	maxListed    = 10_000 // objects of one kind read at once (members, types, windows)
	defaultPower = 10     // voting power of a member's validator that names none
)

// txError is a rejection: a result code and an English message.
type txError struct {
	code uint32
	msg  string
}

func (e *txError) Error() string { return e.msg }

func reject(code uint32, format string, args ...any) *txError {
	return &txError{code: code, msg: fmt.Sprintf(format, args...)}
}

// internal wraps an unexpected error (a storage failure or corrupt state).
func internal(err error) *txError {
	return &txError{code: ledger.CodeInternal, msg: "internal error: " + err.Error()}
}

// txCtx is everything one transaction executes with.
type txCtx struct {
	st      state
	height  int64
	time    time.Time
	chain   string
	tx      []byte
	env     *ledger.Envelope
	signer  did.DIDURL
	member  *ledger.Member // the signer's member record, when the signer is a member's DID
	vals    *valUpdates
	events  []abci.Event
	data    []byte
	deliver bool
	caches  *caches
}

// caches are an App's memos of pure functions that transactions evaluate again and again:
// signature verification and signing-key resolution.
type caches struct {
	sigs *sigCache
	keys *keyCache
}

func newCaches() *caches { return &caches{sigs: newSigCache(), keys: newKeyCache()} }

// txResult is the outcome of executing one transaction.
type txResult struct {
	code   uint32
	log    string
	data   []byte
	events []abci.Event
	env    *ledger.Envelope // the decoded envelope, when it decoded
}

// execTx decodes, authenticates, authorises and applies one transaction to a fresh overlay
// over base. On success the overlay holds the writes; on failure it must be dropped.
func execTx(base reader, tx []byte, chain string, height int64, now time.Time, vals *valUpdates, deliver bool, cs *caches) (res txResult, ov *overlay) {
	ov = newOverlay(base)
	defer func() {
		if r := recover(); r != nil {
			res = txResult{code: ledger.CodeInternal, log: fmt.Sprintf("internal error: transaction handler panicked: %v", r)}
		}
	}()
	ctx := &txCtx{st: state{ov}, height: height, time: now, chain: chain, tx: tx, vals: vals, deliver: deliver, caches: cs}
	if err := ctx.run(); err != nil {
		return txResult{code: err.code, log: err.msg, env: ctx.env}, ov
	}
	return txResult{code: ledger.CodeOK, log: "ok", data: ctx.data, events: ctx.events, env: ctx.env}, ov
}

func (c *txCtx) run() *txError {
	env, err := ledger.DecodeEnvelope(c.tx)
	if err != nil {
		return reject(ledger.CodeMalformed, "malformed transaction: %v", err)
	}
	c.env = env
	if env.Chain != c.chain {
		return reject(ledger.CodeMalformed, "transaction is for chain %s, this is chain %s", ledger.Quote(env.Chain), ledger.Quote(c.chain))
	}
	handler, ok := handlers[env.Type]
	if !ok {
		return reject(ledger.CodeMalformed, "unknown transaction type %s", ledger.Quote(env.Type))
	}
	body := handler.newBody()
	if err := ledger.DecodeStrict(env.Body, body); err != nil {
		return reject(ledger.CodeMalformed, "%s body: %v", env.Type, err)
	}
	if !validNonce(env.Nonce) {
		return reject(ledger.CodeMalformed, "nonce must be %d-%d characters of base64url", ledger.MinNonceLen, ledger.MaxNonceLen)
	}
	if err := c.authenticate(); err != nil {
		return err
	}
	used, e := c.st.nonceUsed(env.Signer, env.Nonce)
	if e != nil {
		return internal(e)
	}
	if used {
		return reject(ledger.CodeReplay, "nonce %s of %s was already used: the transaction is a replay", env.Nonce, env.Signer)
	}
	if err := handler.apply(c, body); err != nil {
		return err
	}
	c.st.set(ledger.KeyNonce(env.Signer, env.Nonce), []byte(ledger.TxHash(c.tx)))
	c.events = append(c.events, abci.Event{Type: "lz.tx", Attributes: []abci.EventAttribute{
		{Key: "type", Value: env.Type, Index: true},
		{Key: "signer", Value: env.Signer, Index: true},
	}})
	return nil
}

func validNonce(n string) bool {
	if len(n) < ledger.MinNonceLen || len(n) > ledger.MaxNonceLen {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// authenticate checks the signature: by a key of the signer's did:lz DID that is valid at
// the transaction's time, not compromised, for authentication or assertionMethod, Ed25519.
func (c *txCtx) authenticate() *txError {
	u, err := did.ParseDIDURL(c.env.Signer)
	if err != nil || u.Method != did.MethodLZ || u.Fragment == "" {
		return reject(ledger.CodeMalformed, "signer %s must be a did:lz DID URL with a key fragment", ledger.Quote(c.env.Signer))
	}
	c.signer = u
	raw, e := c.st.get(ledger.KeyDID(u.DID))
	if e != nil {
		return internal(fmt.Errorf("read %s: %w", ledger.KeyDID(u.DID), e))
	}
	if raw == nil {
		return reject(ledger.CodeUnauthorized, "signer %s is not a DID registered on the ledger", u.DID)
	}
	edk, ok := c.caches.keys.get(raw, u.Fragment, c.time)
	if !ok {
		var err *txError
		if edk, err = c.signingKey(u); err != nil {
			return err
		}
		c.caches.keys.put(raw, u.Fragment, c.time, edk)
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(c.env.Sig)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return reject(ledger.CodeBadSignature, "signature is not %d bytes of unpadded base64url", ed25519.SignatureSize)
	}
	msg, ok := canonicalSigningBytes(c.tx, c.env.Sig)
	if !ok {
		if msg, err = c.env.SigningBytes(); err != nil {
			return reject(ledger.CodeMalformed, "envelope: %v", err)
		}
	}
	if !c.caches.sigs.verify(edk, msg, sig) {
		return reject(ledger.CodeBadSignature, "signature does not verify with %s", c.env.Signer)
	}
	m, e := c.st.memberByDID(u.DID)
	if e != nil {
		return internal(e)
	}
	c.member = m
	return nil
}

// canonicalSigningBytes is Envelope.SigningBytes of a transaction DecodeEnvelope accepted,
// without encoding it again: the canonical envelope ends with its sig member, and the
// signing bytes are the same JSON without it. It reports false if tx does not end that way.
func canonicalSigningBytes(tx []byte, sig string) ([]byte, bool) {
	suffix := len(`,"sig":""}`) + len(sig)
	if sig == "" || len(tx) < suffix || string(tx[len(tx)-suffix:]) != `,"sig":"`+sig+`"}` {
		return nil, false
	}
	msg := make([]byte, 0, len(ledger.SigDomain)+len(tx)-suffix+1)
	msg = append(msg, ledger.SigDomain...)
	msg = append(msg, tx[:len(tx)-suffix]...)
	return append(msg, '}'), true
}

// signingKey resolves the signer's key from its DID history: valid at the transaction's
// time, not compromised, for authentication or assertionMethod, Ed25519.
func (c *txCtx) signingKey(u did.DIDURL) (ed25519.PublicKey, *txError) {
	h, e := c.st.history(u.DID)
	if e != nil {
		return nil, internal(e)
	}
	if h == nil {
		return nil, reject(ledger.CodeUnauthorized, "signer %s is not a DID registered on the ledger", u.DID)
	}
	rec, err := h.KeyAt(u.Fragment, c.time)
	if err != nil {
		return nil, reject(ledger.CodeBadSignature, "signing key %s is not valid at %s: %v", c.env.Signer, c.time.UTC().Format(time.RFC3339), err)
	}
	if !rec.HasPurpose(did.PurposeAuthentication) && !rec.HasPurpose(did.PurposeAssertion) {
		return nil, reject(ledger.CodeBadSignature, "signing key %s is not an authentication or assertionMethod key", c.env.Signer)
	}
	pk, err := rec.PublicKey()
	if err != nil {
		return nil, reject(ledger.CodeBadSignature, "signing key %s: %v", c.env.Signer, err)
	}
	edk, ok := pk.Key.(ed25519.PublicKey)
	if !ok || pk.Alg != did.Ed25519 {
		return nil, reject(ledger.CodeBadSignature, "signing key %s is %s; ledger transactions are signed with Ed25519 keys", c.env.Signer, pk.Alg)
	}
	return edk, nil
}

func (c *txCtx) requireMember() *txError {
	if c.member == nil {
		return reject(ledger.CodeUnauthorized, "%s is not the DID of a consortium member; only members may send %s", c.signer.DID, c.env.Type)
	}
	return nil
}

func (c *txCtx) emit(typ string, kv ...string) {
	ev := abci.Event{Type: typ}
	for i := 0; i+1 < len(kv); i += 2 {
		ev.Attributes = append(ev.Attributes, abci.EventAttribute{Key: kv[i], Value: kv[i+1], Index: true})
	}
	c.events = append(c.events, ev)
}

type handler struct {
	newBody func() any
	apply   func(c *txCtx, body any) *txError
}

var handlers map[string]handler

func init() {
	handlers = map[string]handler{
		ledger.TxProposalCreate:  {func() any { return new(ledger.ProposalCreate) }, func(c *txCtx, b any) *txError { return c.proposalCreate(b.(*ledger.ProposalCreate)) }},
		ledger.TxProposalApprove: {func() any { return new(ledger.ProposalApprove) }, func(c *txCtx, b any) *txError { return c.proposalApprove(b.(*ledger.ProposalApprove)) }},
		ledger.TxDIDCreate:       {func() any { return new(ledger.DIDCreate) }, func(c *txCtx, b any) *txError { return c.didCreate(b.(*ledger.DIDCreate)) }},
		ledger.TxDIDAddKey:       {func() any { return new(ledger.DIDAddKey) }, func(c *txCtx, b any) *txError { return c.didAddKey(b.(*ledger.DIDAddKey)) }},
		ledger.TxDIDRevokeKey:    {func() any { return new(ledger.DIDRevokeKey) }, func(c *txCtx, b any) *txError { return c.didRevokeKey(b.(*ledger.DIDRevokeKey)) }},
		ledger.TxDIDDeactivate:   {func() any { return new(ledger.DIDDeactivate) }, func(c *txCtx, b any) *txError { return c.didDeactivate(b.(*ledger.DIDDeactivate)) }},
		ledger.TxStatusSet:       {func() any { return new(ledger.StatusSet) }, func(c *txCtx, b any) *txError { return c.statusSet(b.(*ledger.StatusSet)) }},
		ledger.TxAnchorPost:      {func() any { return new(ledger.AnchorPost) }, func(c *txCtx, b any) *txError { return c.anchorPost(b.(*ledger.AnchorPost)) }},
	}
}

// ---- governance ----

func (c *txCtx) proposalCreate(b *ledger.ProposalCreate) *txError {
	if err := c.requireMember(); err != nil {
		return err
	}
	if _, ok := actions[b.Action]; !ok {
		return reject(ledger.CodeInvalid, "unknown proposal action %s", ledger.Quote(b.Action))
	}
	// Check the action now against the current state, so that a proposal that cannot apply
	// is refused up front; it is checked again when it reaches its approvals.
	if err := c.checkAction(b.Action, b.Payload); err != nil {
		return err
	}
	id := ledger.ProposalID(c.tx)
	if p, e := c.st.proposal(id); e != nil {
		return internal(e)
	} else if p != nil {
		return reject(ledger.CodeConflict, "proposal %s already exists", id)
	}
	p := &ledger.Proposal{ID: id, Action: b.Action, Payload: b.Payload, Proposer: c.member.ID,
		Approvals: []string{c.member.ID}, Status: "pending", Height: c.height}
	return c.maybeApply(p)
}

func (c *txCtx) proposalApprove(b *ledger.ProposalApprove) *txError {
	if err := c.requireMember(); err != nil {
		return err
	}
	p, e := c.st.proposal(b.ID)
	if e != nil {
		return internal(e)
	}
	if p == nil {
		return reject(ledger.CodeNotFound, "no proposal %s", ledger.Quote(b.ID))
	}
	if p.Status != "pending" {
		return reject(ledger.CodeConflict, "proposal %s is %s, not pending", p.ID, p.Status)
	}
	if slices.Contains(p.Approvals, c.member.ID) {
		return reject(ledger.CodeConflict, "member %s has already approved proposal %s", c.member.ID, p.ID)
	}
	p.Approvals = append(p.Approvals, c.member.ID)
	slices.Sort(p.Approvals)
	return c.maybeApply(p)
}

// maybeApply stores the proposal, applying its action first if the approvals of current
// members reach params.approvals. A failing action marks the proposal failed (the approving
// transaction itself succeeds: the approval was recorded).
func (c *txCtx) maybeApply(p *ledger.Proposal) *txError {
	params, e := c.st.params()
	if e != nil {
		return internal(e)
	}
	n := 0
	for _, id := range p.Approvals {
		m, e := c.st.member(id)
		if e != nil {
			return internal(e)
		}
		if m != nil {
			n++
		}
	}
	if n >= params.Approvals {
		sub := &txCtx{st: state{newOverlay(c.st.overlay)}, height: c.height, time: c.time, chain: c.chain,
			tx: c.tx, env: c.env, signer: c.signer, member: c.member, vals: c.vals.child(), deliver: c.deliver}
		if err := sub.applyAction(p.Action, p.Payload); err != nil {
			p.Status, p.Error = "failed", err.msg
		} else {
			sub.st.flushInto(c.st.overlay)
			c.vals.merge(sub.vals)
			c.events = append(c.events, sub.events...)
			p.Status = "applied"
		}
	}
	if err := c.st.putJSON(ledger.KeyProposal(p.ID), p); err != nil {
		return internal(err)
	}
	c.emit("lz.proposal", "id", p.ID, "action", p.Action, "status", p.Status)
	c.data, _ = json.Marshal(p)
	return nil
}

type action struct {
	newPayload func() any
	check      func(c *txCtx, v any) *txError // validation against the current state
	apply      func(c *txCtx, v any) *txError // check has passed
}

type idPayload struct {
	ID string `json:"id"`
}

type didPayload struct {
	DID string `json:"did"`
}

var actions map[string]action

func init() {
	actions = map[string]action{
		ledger.ActionMemberAdd:         {func() any { return new(ledger.Member) }, (*txCtx).checkMemberAdd, (*txCtx).applyMemberAdd},
		ledger.ActionMemberRemove:      {func() any { return new(idPayload) }, (*txCtx).checkMemberRemove, (*txCtx).applyMemberRemove},
		ledger.ActionCataloguePut:      {func() any { return new(ledger.CredentialType) }, (*txCtx).checkCataloguePut, (*txCtx).applyCataloguePut},
		ledger.ActionCatalogueRemove:   {func() any { return new(idPayload) }, (*txCtx).checkCatalogueRemove, (*txCtx).applyCatalogueRemove},
		ledger.ActionWindowPut:         {func() any { return new(ledger.Window) }, (*txCtx).checkWindowPut, (*txCtx).applyWindowPut},
		ledger.ActionWindowRemove:      {func() any { return new(didPayload) }, (*txCtx).checkWindowRemove, (*txCtx).applyWindowRemove},
		ledger.ActionParamsSet:         {func() any { return new(ledger.Params) }, (*txCtx).checkParamsSet, (*txCtx).applyParamsSet},
		ledger.ActionRecognitionPut:    {func() any { return new(ledger.Recognition) }, (*txCtx).checkRecognitionPut, (*txCtx).applyRecognitionPut},
		ledger.ActionRecognitionRemove: {func() any { return new(regionPayload) }, (*txCtx).checkRecognitionRemove, (*txCtx).applyRecognitionRemove},
	}
}

func (c *txCtx) decodeAction(name string, payload json.RawMessage) (action, any, *txError) {
	a, ok := actions[name]
	if !ok {
		return a, nil, reject(ledger.CodeInvalid, "unknown proposal action %s", ledger.Quote(name))
	}
	v := a.newPayload()
	if len(payload) == 0 {
		return a, nil, reject(ledger.CodeMalformed, "%s payload is missing", name)
	}
	if err := ledger.DecodeStrict(payload, v); err != nil {
		return a, nil, reject(ledger.CodeMalformed, "%s payload: %v", name, err)
	}
	return a, v, nil
}

func (c *txCtx) checkAction(name string, payload json.RawMessage) *txError {
	a, v, err := c.decodeAction(name, payload)
	if err != nil {
		return err
	}
	return a.check(c, v)
}

func (c *txCtx) applyAction(name string, payload json.RawMessage) *txError {
	a, v, err := c.decodeAction(name, payload)
	if err != nil {
		return err
	}
	if err := a.check(c, v); err != nil {
		return err
	}
	return a.apply(c, v)
}

func (c *txCtx) checkMemberAdd(v any) *txError {
	m := v.(*ledger.Member)
	if err := m.Validate(); err != nil {
		return reject(ledger.CodeInvalid, "member.add: %v", err)
	}
	if old, e := c.st.member(m.ID); e != nil {
		return internal(e)
	} else if old != nil {
		return reject(ledger.CodeConflict, "member.add: %s is already a member", m.ID)
	}
	h, e := c.st.history(m.DID)
	if e != nil {
		return internal(e)
	}
	if h == nil {
		return reject(ledger.CodeNotFound, "member.add: DID %s does not exist; create it with did.create first", m.DID)
	}
	if h.Deactivated != nil {
		return reject(ledger.CodeConflict, "member.add: DID %s is deactivated", m.DID)
	}
	ms, e := c.st.members()
	if e != nil {
		return internal(e)
	}
	if len(ms) >= ledger.MaxMembers {
		return reject(ledger.CodeConflict, "member.add: the consortium already has %d members", len(ms))
	}
	if m.Validator != "" {
		for _, o := range ms {
			if o.Validator == m.Validator {
				return reject(ledger.CodeConflict, "member.add: validator key is already used by member %s", o.ID)
			}
		}
	}
	return nil
}

func (c *txCtx) applyMemberAdd(v any) *txError {
	m := v.(*ledger.Member)
	h, e := c.st.history(m.DID)
	if e != nil {
		return internal(e)
	}
	// A member controls its own DID: the member that created it loses control.
	h.Controller = ""
	if err := c.st.putJSON(ledger.KeyDID(m.DID), h); err != nil {
		return internal(err)
	}
	if err := c.st.putJSON(ledger.KeyMember(m.ID), m); err != nil {
		return internal(err)
	}
	if m.Validator != "" {
		pk, _ := base64.StdEncoding.DecodeString(m.Validator)
		c.vals.set(pk, memberPower(m), false)
	}
	c.emit("lz.member", "id", m.ID, "op", "add")
	return nil
}

func memberPower(m *ledger.Member) int64 {
	if m.Power > 0 {
		return m.Power
	}
	return defaultPower
}

func (c *txCtx) checkMemberRemove(v any) *txError {
	id := v.(*idPayload).ID
	m, e := c.st.member(id)
	if e != nil {
		return internal(e)
	}
	if m == nil {
		return reject(ledger.CodeNotFound, "member.remove: %s is not a member", ledger.Quote(id))
	}
	params, e := c.st.params()
	if e != nil {
		return internal(e)
	}
	ms, e := c.st.members()
	if e != nil {
		return internal(e)
	}
	if len(ms)-1 < params.Approvals {
		return reject(ledger.CodeConflict, "member.remove: %d members would remain, fewer than the %d approvals a proposal needs; lower params.approvals first", len(ms)-1, params.Approvals)
	}
	if m.Validator != "" {
		vals := 0
		for _, o := range ms {
			if o.Validator != "" {
				vals++
			}
		}
		if vals <= 1 {
			return reject(ledger.CodeConflict, "member.remove: %s runs the last validator", id)
		}
	}
	types, e := c.st.credTypes()
	if e != nil {
		return internal(e)
	}
	for _, t := range types {
		if slices.Contains(t.Issuers, id) {
			return reject(ledger.CodeConflict, "member.remove: %s is an issuer of credential type %s; update the catalogue first", id, t.ID)
		}
	}
	ws, e := c.st.windows()
	if e != nil {
		return internal(e)
	}
	for _, w := range ws {
		if w.Department == id {
			return reject(ledger.CodeConflict, "member.remove: %s is the department of window %s; remove the window first", id, w.DID)
		}
	}
	return nil
}

func (c *txCtx) applyMemberRemove(v any) *txError {
	id := v.(*idPayload).ID
	m, e := c.st.member(id)
	if e != nil {
		return internal(e)
	}
	c.st.remove(ledger.KeyMember(id))
	if m.Validator != "" {
		pk, _ := base64.StdEncoding.DecodeString(m.Validator)
		c.vals.set(pk, 0, true)
	}
	c.emit("lz.member", "id", id, "op", "remove")
	return nil
}

func (c *txCtx) checkCataloguePut(v any) *txError {
	t := v.(*ledger.CredentialType)
	if err := t.Validate(); err != nil {
		return reject(ledger.CodeInvalid, "catalogue.put: %v", err)
	}
	for _, is := range t.Issuers {
		m, e := c.st.member(is)
		if e != nil {
			return internal(e)
		}
		if m == nil {
			return reject(ledger.CodeNotFound, "catalogue.put: issuer %s is not a member", ledger.Quote(is))
		}
	}
	// Windows that ask for this type must still be satisfiable.
	ws, e := c.st.windows()
	if e != nil {
		return internal(e)
	}
	for _, w := range ws {
		for _, si := range w.ServiceItems {
			for _, r := range si.Requests {
				if r.Type != t.ID {
					continue
				}
				if err := t.CheckFields(r.Fields); err != nil {
					return reject(ledger.CodeConflict, "catalogue.put: window %s service %s: %v", w.DID, si.ID, err)
				}
			}
		}
	}
	return nil
}

func (c *txCtx) applyCataloguePut(v any) *txError {
	t := v.(*ledger.CredentialType)
	if err := c.st.putJSON(ledger.KeyType(t.ID), t); err != nil {
		return internal(err)
	}
	c.emit("lz.catalogue", "id", t.ID, "op", "put")
	return nil
}

func (c *txCtx) checkCatalogueRemove(v any) *txError {
	id := v.(*idPayload).ID
	t, e := c.st.credType(id)
	if e != nil {
		return internal(e)
	}
	if t == nil {
		return reject(ledger.CodeNotFound, "catalogue.remove: no credential type %s", ledger.Quote(id))
	}
	ws, e := c.st.windows()
	if e != nil {
		return internal(e)
	}
	for _, w := range ws {
		for _, si := range w.ServiceItems {
			for _, r := range si.Requests {
				if r.Type == id {
					return reject(ledger.CodeConflict, "catalogue.remove: window %s service %s requests %s; update the window first", w.DID, si.ID, id)
				}
			}
		}
	}
	return nil
}

func (c *txCtx) applyCatalogueRemove(v any) *txError {
	id := v.(*idPayload).ID
	c.st.remove(ledger.KeyType(id))
	c.emit("lz.catalogue", "id", id, "op", "remove")
	return nil
}

func (c *txCtx) checkWindowPut(v any) *txError {
	w := v.(*ledger.Window)
	if err := checkWindow(c.st, w); err != nil {
		return err
	}
	return nil
}

func (c *txCtx) applyWindowPut(v any) *txError {
	w := v.(*ledger.Window)
	if err := c.st.putJSON(ledger.KeyWindow(w.DID), w); err != nil {
		return internal(err)
	}
	c.emit("lz.window", "did", w.DID, "op", "put")
	return nil
}

func (c *txCtx) checkWindowRemove(v any) *txError {
	d := v.(*didPayload).DID
	w, e := c.st.window(d)
	if e != nil {
		return internal(e)
	}
	if w == nil {
		return reject(ledger.CodeNotFound, "window.remove: no registered window %s", ledger.Quote(d))
	}
	return nil
}

func (c *txCtx) applyWindowRemove(v any) *txError {
	d := v.(*didPayload).DID
	c.st.remove(ledger.KeyWindow(d))
	c.emit("lz.window", "did", d, "op", "remove")
	return nil
}

func (c *txCtx) checkParamsSet(v any) *txError {
	p := v.(*ledger.Params)
	ms, e := c.st.members()
	if e != nil {
		return internal(e)
	}
	if p.Approvals < 1 || p.Approvals > len(ms) {
		return reject(ledger.CodeInvalid, "params.set: approvals must be between 1 and the %d members, not %d", len(ms), p.Approvals)
	}
	if err := p.Validate(); err != nil {
		return reject(ledger.CodeInvalid, "params.set: %v", err)
	}
	return nil
}

func (c *txCtx) applyParamsSet(v any) *txError {
	if err := c.st.putJSON(ledger.KeyParams(), v.(*ledger.Params)); err != nil {
		return internal(err)
	}
	c.emit("lz.params", "approvals", strconv.Itoa(v.(*ledger.Params).Approvals))
	return nil
}

// checkWindow validates a window against the state: its DID exists, is active and is
// controlled by its department, a member; every requested field is a disclosable claim.
func checkWindow(st state, w *ledger.Window) *txError {
	if err := w.Validate(); err != nil {
		return reject(ledger.CodeInvalid, "window: %v", err)
	}
	dept, e := st.member(w.Department)
	if e != nil {
		return internal(e)
	}
	if dept == nil {
		return reject(ledger.CodeNotFound, "window %s: department %s is not a member", w.DID, ledger.Quote(w.Department))
	}
	h, e := st.history(w.DID)
	if e != nil {
		return internal(e)
	}
	if h == nil {
		return reject(ledger.CodeNotFound, "window %s: DID does not exist; create it with did.create first", w.DID)
	}
	if h.Deactivated != nil {
		return reject(ledger.CodeConflict, "window %s: DID is deactivated", w.DID)
	}
	if h.Controller != dept.DID {
		return reject(ledger.CodeUnauthorized, "window %s: DID is controlled by %s, not by its department %s", w.DID, ledger.Quote(h.Controller), dept.DID)
	}
	for _, si := range w.ServiceItems {
		for _, r := range si.Requests {
			t, e := st.credType(r.Type)
			if e != nil {
				return internal(e)
			}
			if t == nil {
				return reject(ledger.CodeNotFound, "window %s service %s: no credential type %s", w.DID, si.ID, ledger.Quote(r.Type))
			}
			if err := t.CheckFields(r.Fields); err != nil {
				return reject(ledger.CodeInvalid, "window %s service %s: %v", w.DID, si.ID, err)
			}
		}
	}
	return nil
}

// ---- DIDs ----

func (c *txCtx) didCreate(b *ledger.DIDCreate) *txError {
	if err := c.requireMember(); err != nil {
		return err
	}
	if _, err := did.ParseLZ(b.DID); err != nil {
		return reject(ledger.CodeInvalid, "did.create: %v", err)
	}
	if old, e := c.st.history(b.DID); e != nil {
		return internal(e)
	} else if old != nil {
		return reject(ledger.CodeConflict, "did.create: %s already exists", b.DID)
	}
	if len(b.Keys) == 0 || len(b.Keys) > ledger.MaxKeysPerCreate {
		return reject(ledger.CodeInvalid, "did.create: a new DID needs 1-%d keys, not %d", ledger.MaxKeysPerCreate, len(b.Keys))
	}
	h := &did.History{DID: b.DID, Controller: c.signer.DID, Created: c.time, Keys: make([]did.KeyRecord, len(b.Keys))}
	for i, k := range b.Keys {
		if err := freshKey(&k, c.time); err != nil {
			return err
		}
		h.Keys[i] = k
	}
	if err := h.Validate(); err != nil {
		return reject(ledger.CodeInvalid, "did.create: %v", err)
	}
	if err := c.st.putJSON(ledger.KeyDID(h.DID), h); err != nil {
		return internal(err)
	}
	c.emit("lz.did", "did", h.DID, "op", "create")
	return nil
}

// freshKey checks a key record sent by a client and stamps it with the block time.
func freshKey(k *did.KeyRecord, now time.Time) *txError {
	if k.ValidUntil != nil {
		return reject(ledger.CodeInvalid, "key %s: validUntil must not be set (revoke the key instead)", ledger.Quote(k.ID))
	}
	if k.Compromised {
		return reject(ledger.CodeInvalid, "key %s: a new key cannot be compromised", ledger.Quote(k.ID))
	}
	k.ValidFrom = now
	return nil
}

// manageable loads a DID the signer may manage: the DID itself or its controller.
func (c *txCtx) manageable(op, d string) (*did.History, *txError) {
	if _, err := did.ParseLZ(d); err != nil {
		return nil, reject(ledger.CodeInvalid, "%s: %v", op, err)
	}
	h, e := c.st.history(d)
	if e != nil {
		return nil, internal(e)
	}
	if h == nil {
		return nil, reject(ledger.CodeNotFound, "%s: DID %s does not exist", op, d)
	}
	if h.Deactivated != nil {
		return nil, reject(ledger.CodeConflict, "%s: DID %s is deactivated", op, d)
	}
	if c.signer.DID != h.DID && (h.Controller == "" || c.signer.DID != h.Controller) {
		return nil, reject(ledger.CodeUnauthorized, "%s: %s is neither %s nor its controller", op, c.signer.DID, d)
	}
	return h, nil
}

func (c *txCtx) didAddKey(b *ledger.DIDAddKey) *txError {
	h, err := c.manageable("did.add_key", b.DID)
	if err != nil {
		return err
	}
	if len(h.Keys) >= ledger.MaxKeysPerDID {
		return reject(ledger.CodeConflict, "did.add_key: %s already has %d keys in its history", h.DID, len(h.Keys))
	}
	k := b.Key
	if err := freshKey(&k, c.time); err != nil {
		return err
	}
	for _, o := range h.Keys {
		if o.ID == k.ID {
			return reject(ledger.CodeConflict, "did.add_key: %s already has a key %s (key ids are never reused)", h.DID, ledger.Quote(k.ID))
		}
	}
	h.Keys = append(h.Keys, k)
	if err := h.Validate(); err != nil {
		return reject(ledger.CodeInvalid, "did.add_key: %v", err)
	}
	if err := c.st.putJSON(ledger.KeyDID(h.DID), h); err != nil {
		return internal(err)
	}
	c.emit("lz.did", "did", h.DID, "op", "add_key", "key", k.ID)
	return nil
}

func (c *txCtx) didRevokeKey(b *ledger.DIDRevokeKey) *txError {
	h, err := c.manageable("did.revoke_key", b.DID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(h.Keys, func(k did.KeyRecord) bool { return k.ID == b.KeyID })
	if i < 0 {
		return reject(ledger.CodeNotFound, "did.revoke_key: %s has no key %s", h.DID, ledger.Quote(b.KeyID))
	}
	k := &h.Keys[i]
	switch {
	case k.Compromised:
		return reject(ledger.CodeConflict, "did.revoke_key: %s#%s is already marked compromised", h.DID, k.ID)
	case k.ValidUntil != nil && !c.time.Before(*k.ValidUntil):
		// Already ended: only marking it compromised is still meaningful.
		if !b.Compromised {
			return reject(ledger.CodeConflict, "did.revoke_key: %s#%s is already revoked", h.DID, k.ID)
		}
		k.Compromised = true
	default:
		if !c.time.After(k.ValidFrom) {
			return reject(ledger.CodeConflict, "did.revoke_key: %s#%s was added in this block; revoke it in a later block", h.DID, k.ID)
		}
		t := c.time
		k.ValidUntil = &t
		k.Compromised = b.Compromised
	}
	usable := false
	for _, o := range h.Keys {
		if !o.Compromised && o.ValidAt(c.time) && (o.HasPurpose(did.PurposeAuthentication) || o.HasPurpose(did.PurposeAssertion)) {
			usable = true
		}
	}
	if !usable {
		return reject(ledger.CodeConflict, "did.revoke_key: %s#%s is the last valid key of %s; add a new key first", h.DID, b.KeyID, h.DID)
	}
	if err := h.Validate(); err != nil {
		return reject(ledger.CodeInvalid, "did.revoke_key: %v", err)
	}
	if err := c.st.putJSON(ledger.KeyDID(h.DID), h); err != nil {
		return internal(err)
	}
	c.emit("lz.did", "did", h.DID, "op", "revoke_key", "key", b.KeyID, "compromised", strconv.FormatBool(k.Compromised))
	return nil
}

func (c *txCtx) didDeactivate(b *ledger.DIDDeactivate) *txError {
	if _, err := did.ParseLZ(b.DID); err != nil {
		return reject(ledger.CodeInvalid, "did.deactivate: %v", err)
	}
	h, e := c.st.history(b.DID)
	if e != nil {
		return internal(e)
	}
	if h == nil {
		return reject(ledger.CodeNotFound, "did.deactivate: DID %s does not exist", b.DID)
	}
	if h.Controller == "" || c.signer.DID != h.Controller {
		return reject(ledger.CodeUnauthorized, "did.deactivate: only the controller of %s may deactivate it", h.DID)
	}
	if h.Deactivated != nil {
		return reject(ledger.CodeConflict, "did.deactivate: %s is already deactivated", h.DID)
	}
	if m, e := c.st.memberByDID(h.DID); e != nil {
		return internal(e)
	} else if m != nil {
		return reject(ledger.CodeConflict, "did.deactivate: %s is a member's DID; remove the member through governance", h.DID)
	}
	t := c.time
	h.Deactivated = &t
	if err := c.st.putJSON(ledger.KeyDID(h.DID), h); err != nil {
		return internal(err)
	}
	c.emit("lz.did", "did", h.DID, "op", "deactivate")
	return nil
}

// ---- status lists ----

func (c *txCtx) statusSet(b *ledger.StatusSet) *txError {
	if err := c.requireMember(); err != nil {
		return err
	}
	if b.List < 0 || b.List >= ledger.MaxStatusLists {
		return reject(ledger.CodeInvalid, "status.set: list must be 0-%d, not %d", ledger.MaxStatusLists-1, b.List)
	}
	if b.Bulk != nil {
		if len(b.Updates) > 0 {
			return reject(ledger.CodeInvalid, "status.set: updates and bulk are exclusive")
		}
		return c.statusBulk(b.List, b.Bulk)
	}
	if len(b.Updates) == 0 || len(b.Updates) > ledger.MaxStatusUpdates {
		return reject(ledger.CodeInvalid, "status.set: 1-%d updates per transaction, not %d", ledger.MaxStatusUpdates, len(b.Updates))
	}
	for i, u := range b.Updates {
		if u.Index < 0 || u.Index >= ledger.StatusListSize {
			return reject(ledger.CodeInvalid, "status.set: update %d: index %d is outside 0-%d", i, u.Index, ledger.StatusListSize-1)
		}
		if u.Value < ledger.StatusValid || u.Value > ledger.StatusSuspended {
			return reject(ledger.CodeInvalid, "status.set: update %d: value %d is not 0 (valid), 1 (revoked) or 2 (suspended)", i, u.Value)
		}
	}
	chunks := map[int][]byte{}
	for _, u := range b.Updates {
		ci := u.Index / ledger.StatusChunkEntries
		ch, ok := chunks[ci]
		if !ok {
			var e error
			if ch, e = c.st.statusChunk(c.member.ID, b.List, ci); e != nil {
				return internal(e)
			}
			chunks[ci] = ch
		}
		if err := ledger.SetStatus(ch, u.Index%ledger.StatusChunkEntries, u.Value); err != nil {
			return internal(err) // the index and value were checked above
		}
	}
	for ci, ch := range chunks {
		c.st.set(ledger.KeyStatusChunk(c.member.ID, b.List, ci), ch)
	}
	c.emit("lz.status", "list", ledger.StatusListURI(c.member.ID, b.List), "updates", strconv.Itoa(len(b.Updates)))
	return nil
}

// statusBulk applies the bulk form: Value to every entry the bitmap marks. Only the chunks
// holding a marked entry are read and written.
func (c *txCtx) statusBulk(list int, b *ledger.StatusBulk) *txError {
	if b.Value < ledger.StatusValid || b.Value > ledger.StatusSuspended {
		return reject(ledger.CodeInvalid, "status.set: bulk value %d is not 0 (valid), 1 (revoked) or 2 (suspended)", b.Value)
	}
	bm, n, err := ledger.DecodeStatusBitmap(b.Bitmap)
	if err != nil {
		return reject(ledger.CodeInvalid, "status.set: bulk bitmap: %v", err)
	}
	const per = ledger.StatusChunkEntries / 8 // bitmap bytes per chunk
	for ci := 0; ci < ledger.StatusChunks; ci++ {
		part := bm[ci*per : (ci+1)*per]
		if !slices.ContainsFunc(part, func(x byte) bool { return x != 0 }) {
			continue
		}
		ch, e := c.st.statusChunk(c.member.ID, list, ci)
		if e != nil {
			return internal(e)
		}
		for j, x := range part {
			for x != 0 {
				k := bits.LeadingZeros8(x) // the marked entry's bit, from the most significant
				x &^= 0x80 >> k
				if err := ledger.SetStatus(ch, j*8+k, b.Value); err != nil {
					return internal(err)
				}
			}
		}
		c.st.set(ledger.KeyStatusChunk(c.member.ID, list, ci), ch)
	}
	c.emit("lz.status", "list", ledger.StatusListURI(c.member.ID, list), "updates", strconv.Itoa(n))
	return nil
}

// ---- anchors ----

func (c *txCtx) anchorPost(b *ledger.AnchorPost) *txError {
	w, e := c.st.window(c.signer.DID)
	if e != nil {
		return internal(e)
	}
	if w == nil {
		return reject(ledger.CodeUnauthorized, "anchor.post: %s is not a registered window", c.signer.DID)
	}
	if len(b.Root) != 64 || !isLowerHex(b.Root) {
		return reject(ledger.CodeInvalid, "anchor.post: root must be 64 lowercase hex characters (SHA-256)")
	}
	if b.Count < 1 || b.Count > ledger.MaxAnchorCount {
		return reject(ledger.CodeInvalid, "anchor.post: count must be 1-%d, not %d", ledger.MaxAnchorCount, b.Count)
	}
	seq, e := c.st.anchorSeq(w.DID)
	if e != nil {
		return internal(e)
	}
	seq++
	a := &ledger.Anchor{Window: w.DID, Seq: seq, Root: b.Root, Count: b.Count, Height: c.height, Time: c.time}
	if err := c.st.putJSON(ledger.KeyAnchor(w.DID, seq), a); err != nil {
		return internal(err)
	}
	c.st.setAnchorSeq(w.DID, seq)
	c.emit("lz.anchor", "window", w.DID, "seq", strconv.FormatUint(seq, 10))
	c.data, _ = json.Marshal(a)
	return nil
}

func isLowerHex(s string) bool {
	if _, err := hex.DecodeString(s); err != nil {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'F' {
			return false
		}
	}
	return true
}

// ---- validator updates ----

// valUpdates collects a block's validator changes. CometBFT refuses a block whose updates
// name one key twice, or remove a key that is not a validator, so updates are merged per
// key (last wins) and a key added and removed in the same block is dropped.
type valUpdates struct {
	order   []string
	power   map[string]int64
	existed map[string]bool // validator before this block (the first change was a removal)
}

func newValUpdates() *valUpdates {
	return &valUpdates{power: map[string]int64{}, existed: map[string]bool{}}
}

func (v *valUpdates) set(pk []byte, power int64, removing bool) {
	k := string(pk)
	if _, ok := v.power[k]; !ok {
		v.order = append(v.order, k)
		v.existed[k] = removing
	}
	v.power[k] = power
}

// child returns an empty set for a governance action; merge adds it on success.
func (v *valUpdates) child() *valUpdates { return newValUpdates() }

func (v *valUpdates) merge(o *valUpdates) {
	for _, k := range o.order {
		v.set([]byte(k), o.power[k], o.existed[k])
	}
}

func (v *valUpdates) list() []abci.ValidatorUpdate {
	var out []abci.ValidatorUpdate
	for _, k := range v.order {
		p := v.power[k]
		if p == 0 && !v.existed[k] {
			continue
		}
		out = append(out, abci.Ed25519ValidatorUpdate([]byte(k), p))
	}
	return out
}
