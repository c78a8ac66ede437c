package chain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	idb "github.com/cosmos/iavl/db"

	"lianzheng/did"
	"lianzheng/ledger"
)

// reader is read access to one view of the state: the committed tree (CheckTx, Query),
// the working tree (FinalizeBlock) or an overlay of pending writes over either.
type reader interface {
	get(key []byte) ([]byte, error)
	// keys returns the keys under prefix in ascending order, at most limit of them.
	keys(prefix []byte, limit int) ([][]byte, error)
}

// iavlTree is what MutableTree and ImmutableTree have in common.
type iavlTree interface {
	Get(key []byte) ([]byte, error)
	Iterator(start, end []byte, ascending bool) (idb.Iterator, error)
}

type treeReader struct{ t iavlTree }

func (r treeReader) get(key []byte) ([]byte, error) { return r.t.Get(key) }

func (r treeReader) keys(prefix []byte, limit int) ([][]byte, error) {
	it, err := r.t.Iterator(prefix, prefixEnd(prefix), true)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out [][]byte
	for ; it.Valid() && len(out) < limit; it.Next() {
		out = append(out, bytes.Clone(it.Key()))
	}
	return out, it.Error()
}

// mapReader serves the genesis state before the first block is committed.
type mapReader map[string][]byte

func (m mapReader) get(key []byte) ([]byte, error) { return m[string(key)], nil }

func (m mapReader) keys(prefix []byte, limit int) ([][]byte, error) {
	var out []string
	for k := range m {
		if bytes.HasPrefix([]byte(k), prefix) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	if len(out) > limit {
		out = out[:limit]
	}
	res := make([][]byte, len(out))
	for i, k := range out {
		res[i] = []byte(k)
	}
	return res, nil
}

// prefixEnd returns the smallest key greater than every key with the prefix (nil: none).
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// overlay buffers the writes of one transaction (or one governance action) over a base
// view, so that a rejected transaction changes nothing. Writes reach the tree in sorted
// key order: an AVL tree's shape, and so its hash, depends on insertion order.
type overlay struct {
	base   reader
	writes map[string][]byte // nil value: deleted
}

func newOverlay(base reader) *overlay { return &overlay{base: base, writes: map[string][]byte{}} }

func (o *overlay) get(key []byte) ([]byte, error) {
	if v, ok := o.writes[string(key)]; ok {
		return v, nil
	}
	return o.base.get(key)
}

func (o *overlay) set(key, value []byte) { o.writes[string(key)] = value }
func (o *overlay) remove(key []byte)     { o.writes[string(key)] = nil }

func (o *overlay) keys(prefix []byte, limit int) ([][]byte, error) {
	base, err := o.base.keys(prefix, limit+len(o.writes))
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, k := range base {
		set[string(k)] = true
	}
	for k, v := range o.writes {
		if bytes.HasPrefix([]byte(k), prefix) {
			set[k] = v != nil
		}
	}
	var ks []string
	for k, ok := range set {
		if ok {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	if len(ks) > limit {
		ks = ks[:limit]
	}
	out := make([][]byte, len(ks))
	for i, k := range ks {
		out[i] = []byte(k)
	}
	return out, nil
}

func (o *overlay) sortedKeys() []string {
	ks := make([]string, 0, len(o.writes))
	for k := range o.writes {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// flushInto moves the writes into a parent overlay.
func (o *overlay) flushInto(p *overlay) {
	for k, v := range o.writes {
		p.writes[k] = v
	}
}

// treeWriter is the write side of the working tree.
type treeWriter interface {
	Set(key, value []byte) (bool, error)
	Remove(key []byte) ([]byte, bool, error)
}

// flushTree writes the overlay into the tree in sorted key order.
func (o *overlay) flushTree(t treeWriter) error {
	for _, k := range o.sortedKeys() {
		v := o.writes[k]
		if v == nil {
			if _, _, err := t.Remove([]byte(k)); err != nil {
				return err
			}
			continue
		}
		if _, err := t.Set([]byte(k), v); err != nil {
			return err
		}
	}
	return nil
}

// state is typed access to the keys of types.go over an overlay.
type state struct{ *overlay }

func (s state) getJSON(key []byte, v any) (bool, error) {
	b, err := s.get(key)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", key, err)
	}
	if b == nil {
		return false, nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("stored %s is corrupt: %w", key, err)
	}
	return true, nil
}

func (s state) putJSON(key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	s.set(key, b)
	return nil
}

func (s state) params() (ledger.Params, error) {
	var p ledger.Params
	_, err := s.getJSON(ledger.KeyParams(), &p)
	return p, err
}

func (s state) member(id string) (*ledger.Member, error) {
	var m ledger.Member
	ok, err := s.getJSON(ledger.KeyMember(id), &m)
	if !ok || err != nil {
		return nil, err
	}
	return &m, nil
}

// memberByDID returns the member whose DID is d, or nil.
func (s state) memberByDID(d string) (*ledger.Member, error) {
	id, err := did.ParseLZ(d)
	if err != nil {
		return nil, nil
	}
	m, err := s.member(id)
	if err != nil || m == nil || m.DID != d {
		return nil, err
	}
	return m, nil
}

func (s state) members() ([]ledger.Member, error) {
	ks, err := s.keys([]byte(ledger.PrefixMember), ledger.MaxMembers+1)
	if err != nil {
		return nil, err
	}
	out := make([]ledger.Member, 0, len(ks))
	for _, k := range ks {
		var m ledger.Member
		if _, err := s.getJSON(k, &m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func (s state) history(d string) (*did.History, error) {
	var h did.History
	ok, err := s.getJSON(ledger.KeyDID(d), &h)
	if !ok || err != nil {
		return nil, err
	}
	return &h, nil
}

func (s state) credType(id string) (*ledger.CredentialType, error) {
	var t ledger.CredentialType
	ok, err := s.getJSON(ledger.KeyType(id), &t)
	if !ok || err != nil {
		return nil, err
	}
	return &t, nil
}

func (s state) credTypes() ([]ledger.CredentialType, error) {
	ks, err := s.keys([]byte(ledger.PrefixType), maxListed)
	if err != nil {
		return nil, err
	}
	out := make([]ledger.CredentialType, 0, len(ks))
	for _, k := range ks {
		var t ledger.CredentialType
		if _, err := s.getJSON(k, &t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func (s state) window(d string) (*ledger.Window, error) {
	var w ledger.Window
	ok, err := s.getJSON(ledger.KeyWindow(d), &w)
	if !ok || err != nil {
		return nil, err
	}
	return &w, nil
}

func (s state) windows() ([]ledger.Window, error) {
	ks, err := s.keys([]byte(ledger.PrefixWindow), maxListed)
	if err != nil {
		return nil, err
	}
	out := make([]ledger.Window, 0, len(ks))
	for _, k := range ks {
		var w ledger.Window
		if _, err := s.getJSON(k, &w); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

func (s state) proposal(id string) (*ledger.Proposal, error) {
	var p ledger.Proposal
	ok, err := s.getJSON(ledger.KeyProposal(id), &p)
	if !ok || err != nil {
		return nil, err
	}
	return &p, nil
}

func (s state) anchorSeq(window string) (uint64, error) {
	b, err := s.get(ledger.KeyAnchorSeq(window))
	if err != nil || b == nil {
		return 0, err
	}
	n, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stored anchor sequence of %s is corrupt: %w", window, err)
	}
	return n, nil
}

func (s state) setAnchorSeq(window string, n uint64) {
	s.set(ledger.KeyAnchorSeq(window), []byte(strconv.FormatUint(n, 10)))
}

func (s state) nonceUsed(signer, n string) (bool, error) {
	b, err := s.get(ledger.KeyNonce(signer, n))
	return b != nil, err
}

// statusChunk returns a copy of the chunk, all zero when it was never written.
func (s state) statusChunk(member string, list, chunk int) ([]byte, error) {
	b, err := s.get(ledger.KeyStatusChunk(member, list, chunk))
	if err != nil {
		return nil, err
	}
	out := make([]byte, ledger.StatusChunkBytes)
	if b != nil {
		if len(b) != ledger.StatusChunkBytes {
			return nil, fmt.Errorf("stored status chunk %s/%d/%d has %d bytes", member, list, chunk, len(b))
		}
		copy(out, b)
	}
	return out, nil
}
