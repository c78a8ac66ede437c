package ledgerclient

import (
	"bytes"
	"fmt"

	ics23 "github.com/cosmos/ics23/go"

	"lianzheng/ledger"
)

// maxProofBytes bounds one encoded ICS23 proof (two neighbour leaves of a full status
// chunk plus their paths fit easily).
const maxProofBytes = 4 * ledger.MaxTxBytes

// decodeProof decodes one ICS23 commitment proof, accepting only the plain existence and
// non-existence forms (no batches, no compression).
func decodeProof(b []byte) (*ics23.CommitmentProof, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty proof", ErrUnverified)
	}
	if len(b) > maxProofBytes {
		return nil, fmt.Errorf("%w: proof of %d bytes exceeds %d", ErrUnverified, len(b), maxProofBytes)
	}
	var p ics23.CommitmentProof
	if err := p.Unmarshal(b); err != nil {
		return nil, fmt.Errorf("%w: cannot decode proof: %v", ErrUnverified, err)
	}
	if p.GetExist() == nil && p.GetNonexist() == nil {
		return nil, fmt.Errorf("%w: proof is neither an existence nor a non-existence proof", ErrUnverified)
	}
	return &p, nil
}

// proofFromOps extracts the single ICS23 proof of key from an ABCI query's ProofOps.
func proofFromOps(ops []ProofOp, key []byte) ([]byte, error) {
	if len(ops) == 0 {
		return nil, fmt.Errorf("%w: node returned no proof for %q", ErrUnverified, key)
	}
	if len(ops) != 1 {
		return nil, fmt.Errorf("%w: expected one proof op, got %d", ErrUnverified, len(ops))
	}
	op := ops[0]
	if op.Type != ledger.ProofOpType {
		return nil, fmt.Errorf("%w: proof op type %q, want %q", ErrUnverified, truncate(op.Type, 40), ledger.ProofOpType)
	}
	if !bytes.Equal(op.Key, key) {
		return nil, fmt.Errorf("%w: proof is for key %q, asked %q", ErrUnverified, truncate(string(op.Key), 80), key)
	}
	return op.Data, nil
}

// VerifyProof checks an ICS23 proof (protobuf CommitmentProof, as carried in the ProofOp
// of type ledger.ProofOpType) of key against appHash, the AppHash of the verified header
// H+1 for state at height H. A non-empty value must be proven to exist with exactly that
// value; an empty value must be proven absent. Errors wrap ErrUnverified.
func VerifyProof(appHash, key, value, proof []byte) error {
	p, err := decodeProof(proof)
	if err != nil {
		return err
	}
	return verifyDecoded(appHash, key, value, p)
}

func verifyDecoded(appHash, key, value []byte, p *ics23.CommitmentProof) error {
	if len(appHash) == 0 {
		return fmt.Errorf("%w: empty app hash", ErrUnverified)
	}
	if len(value) > 0 {
		ex := p.GetExist()
		if ex == nil {
			return fmt.Errorf("%w: %q: value returned without an existence proof", ErrUnverified, key)
		}
		if err := ex.Verify(ics23.IavlSpec, appHash, key, value); err != nil {
			return fmt.Errorf("%w: existence proof of %q: %v", ErrUnverified, key, err)
		}
		return nil
	}
	ne := p.GetNonexist()
	if ne == nil {
		return fmt.Errorf("%w: %q: no value returned and no absence proof", ErrUnverified, key)
	}
	if !bytes.Equal(ne.Key, key) {
		return fmt.Errorf("%w: absence proof is for another key", ErrUnverified)
	}
	if err := ne.Verify(ics23.IavlSpec, appHash, key); err != nil {
		return fmt.Errorf("%w: absence proof of %q: %v", ErrUnverified, key, err)
	}
	return nil
}

// gap is a verified absence proof of a probe key: the proven neighbours on either side.
// Left/Right are nil at the edges of the tree.
type gap struct {
	Left, Right *ics23.ExistenceProof
}

// verifyGap verifies a non-existence proof of probe against appHash. It is
// ics23.NonExistenceProof.Verify, except that a neighbour identical to known (an existence
// proof already verified against the same root, e.g. the right neighbour of the previous
// gap in a range) is not hashed again.
func verifyGap(appHash, probe []byte, p *ics23.CommitmentProof, known *ics23.ExistenceProof) (gap, error) {
	ne := p.GetNonexist()
	if ne == nil {
		return gap{}, fmt.Errorf("%w: %q: no absence proof", ErrUnverified, probe)
	}
	if len(appHash) == 0 {
		return gap{}, fmt.Errorf("%w: empty app hash", ErrUnverified)
	}
	if !bytes.Equal(ne.Key, probe) {
		return gap{}, fmt.Errorf("%w: absence proof is for another key", ErrUnverified)
	}
	if ne.Left == nil && ne.Right == nil {
		return gap{}, fmt.Errorf("%w: absence proof of %q has no neighbours", ErrUnverified, probe)
	}
	spec := ics23.IavlSpec
	for _, ex := range []*ics23.ExistenceProof{ne.Left, ne.Right} {
		if ex == nil || (known != nil && sameExistence(ex, known)) {
			continue
		}
		if err := ex.Verify(spec, appHash, ex.Key, ex.Value); err != nil {
			return gap{}, fmt.Errorf("%w: absence proof of %q: neighbour: %v", ErrUnverified, probe, err)
		}
	}
	// IAVL compares raw keys (no prehash before comparison).
	if ne.Right != nil && bytes.Compare(probe, ne.Right.Key) >= 0 {
		return gap{}, fmt.Errorf("%w: absence proof of %q: key is not left of its right neighbour", ErrUnverified, probe)
	}
	if ne.Left != nil && bytes.Compare(probe, ne.Left.Key) <= 0 {
		return gap{}, fmt.Errorf("%w: absence proof of %q: key is not right of its left neighbour", ErrUnverified, probe)
	}
	switch {
	case ne.Left == nil:
		if !ics23.IsLeftMost(spec.InnerSpec, ne.Right.Path) {
			return gap{}, fmt.Errorf("%w: absence proof of %q: right neighbour is not left-most", ErrUnverified, probe)
		}
	case ne.Right == nil:
		if !ics23.IsRightMost(spec.InnerSpec, ne.Left.Path) {
			return gap{}, fmt.Errorf("%w: absence proof of %q: left neighbour is not right-most", ErrUnverified, probe)
		}
	default:
		if !ics23.IsLeftNeighbor(spec.InnerSpec, ne.Left.Path, ne.Right.Path) {
			return gap{}, fmt.Errorf("%w: absence proof of %q: neighbours are not adjacent", ErrUnverified, probe)
		}
	}
	return gap{Left: ne.Left, Right: ne.Right}, nil
}

// sameExistence reports whether two existence proofs are identical in every field that
// enters the root computation.
func sameExistence(a, b *ics23.ExistenceProof) bool {
	if !bytes.Equal(a.Key, b.Key) || !bytes.Equal(a.Value, b.Value) || len(a.Path) != len(b.Path) {
		return false
	}
	la, lb := a.Leaf, b.Leaf
	if (la == nil) != (lb == nil) {
		return false
	}
	if la != nil && (la.Hash != lb.Hash || la.PrehashKey != lb.PrehashKey || la.PrehashValue != lb.PrehashValue ||
		la.Length != lb.Length || !bytes.Equal(la.Prefix, lb.Prefix)) {
		return false
	}
	for i := range a.Path {
		x, y := a.Path[i], b.Path[i]
		if (x == nil) != (y == nil) {
			return false
		}
		if x != nil && (x.Hash != y.Hash || !bytes.Equal(x.Prefix, y.Prefix) || !bytes.Equal(x.Suffix, y.Suffix)) {
			return false
		}
	}
	return true
}

// successor is the smallest key greater than k: k followed by a zero byte.
func successor(k []byte) []byte {
	s := make([]byte, len(k)+1)
	copy(s, k)
	return s
}

// rangeWalker proves the complete contents of a key prefix with a chain of absence
// proofs: the absence of the prefix itself names the first key under it (its right
// neighbour), and the absence of each key's successor (key + 0x00) names the next. A
// chain that ends with a neighbour outside the prefix (or none) proves there are no more.
// Each key's value comes from the verified existence proof of the neighbour.
type rangeWalker struct {
	appHash []byte
	prefix  []byte
	next    []byte // the probe expected next
	keys    [][]byte
	values  [][]byte
	done    bool
	last    *ics23.ExistenceProof // the verified right neighbour of the previous gap
}

func newRangeWalker(appHash []byte, prefix string) *rangeWalker {
	return &rangeWalker{appHash: appHash, prefix: []byte(prefix), next: []byte(prefix)}
}

// probe is the key whose absence proof is needed next (nil when done).
func (w *rangeWalker) probe() []byte {
	if w.done {
		return nil
	}
	return w.next
}

// add consumes the absence proof of w.probe().
func (w *rangeWalker) add(p *ics23.CommitmentProof) error {
	if w.done {
		return fmt.Errorf("%w: extra proof after the end of %q", ErrUnverified, w.prefix)
	}
	g, err := verifyGap(w.appHash, w.next, p, w.last)
	if err != nil {
		return err
	}
	if n := len(w.keys); n > 0 {
		if g.Left == nil || !bytes.Equal(g.Left.Key, w.keys[n-1]) {
			return fmt.Errorf("%w: gap proof after %q does not start at it", ErrUnverified, w.keys[n-1])
		}
	}
	if g.Right == nil || !bytes.HasPrefix(g.Right.Key, w.prefix) {
		w.done = true
		return nil
	}
	if len(g.Right.Value) == 0 {
		return fmt.Errorf("%w: empty value under %q", ErrUnverified, g.Right.Key)
	}
	w.last = g.Right
	w.keys = append(w.keys, g.Right.Key)
	w.values = append(w.values, g.Right.Value)
	w.next = successor(g.Right.Key)
	return nil
}
