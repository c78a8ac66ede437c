package ledgerclient

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto"
	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"

	"lianzheng/internal/benchfloor"
	"lianzheng/ledger"
)

// timeNs runs op for ~200 ms and returns its mean time (testing.Benchmark cannot nest).
func timeNs(op func()) float64 {
	for i := 0; i < 50; i++ {
		op()
	}
	n, start := 0, time.Now()
	for time.Since(start) < 200*time.Millisecond {
		for i := 0; i < 50; i++ {
			op()
		}
		n += 50
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}

// sha256Floor is the time of the SHA-256 work an IAVL existence proof of a value of
// size n with depth inner nodes cannot avoid: the value's prehash, the leaf hash and one
// hash per inner node (each ~70 bytes).
func sha256Floor(n, depth int) float64 {
	v := make([]byte, n)
	small := make([]byte, 70)
	return timeNs(func() {
		sha256.Sum256(v)
		for i := 0; i <= depth; i++ {
			sha256.Sum256(small)
		}
	})
}

func benchTree(b *testing.B) ([]byte, []byte, []byte, []byte, int) {
	st := newTestState(b, 100)
	fc := newFakeChain(b, 1, st.seed)
	for m := 0; m < 100; m++ {
		for c := 0; c < ledger.StatusChunks; c++ {
			v := make([]byte, ledger.StatusChunkBytes)
			rand.Read(v)
			fc.set(string(ledger.KeyStatusChunk(deptID(m), 0, c)), v)
		}
	}
	fc.mine()
	imm, _ := fc.tree.GetImmutable(2)
	key := ledger.KeyStatusChunk(deptID(42), 0, 1)
	val, _ := imm.Get(key)
	p, _ := imm.GetProof(key)
	pb, _ := p.Marshal()
	return imm.Hash(), key, val, pb, len(p.GetExist().Path)
}

// BenchmarkVerifyProof: one ICS23 existence proof of an 8 KiB status chunk in a tree of
// ~900 keys (100 departments), against the SHA-256 it must compute.
func BenchmarkVerifyProof(b *testing.B) {
	root, key, val, proof, depth := benchTree(b)
	floor := sha256Floor(len(val), depth)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := VerifyProof(root, key, val, proof); err != nil {
			b.Fatal(err)
		}
	}
	benchfloor.Report(b, floor)
}

// snapshotFixture builds a consortium of depts departments, each a validator (power 10)
// with a member record and a DID, and writes statusBits bits of random status entries
// (whole lists, 262,144 bits each), then exports a snapshot with the client.
func snapshotFixture(b *testing.B, depts, statusBits int) (*fakeChain, []byte) {
	return snapshotFixtureWith(b, "lz-test", genKeys(depts), nil, depts, statusBits)
}

// snapshotFixtureWith is snapshotFixture with a chain id, validator keys and extra state.
func snapshotFixtureWith(b *testing.B, chainID string, keys []crypto.PrivKey, extra map[string][]byte, depts, statusBits int) (*fakeChain, []byte) {
	st := newTestState(b, depts)
	for k, v := range extra {
		st.seed[k] = v
	}
	fc := newFakeChainWith(b, chainID, keys, st.seed)
	lists := statusBits / (ledger.StatusListSize * 2)
	for m := 0; m < lists; m++ {
		for c := 0; c < ledger.StatusChunks; c++ {
			v := make([]byte, ledger.StatusChunkBytes)
			rand.Read(v)
			fc.set(string(ledger.KeyStatusChunk(deptID(m), 0, c)), v)
		}
	}
	for i := 0; i < 5; i++ {
		fc.mine()
	}
	cl, err := New(fc, fc.root(), Config{})
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := cl.Export(bg, &buf, 0); err != nil {
		b.Fatal(err)
	}
	return fc, buf.Bytes()
}

func benchSnapshot(b *testing.B, depts, bits int) {
	fc, data := snapshotFixture(b, depts, bits)
	root := fc.root()
	now := time.Now()
	s, err := VerifySnapshot(data, root, now, 0)
	if err != nil {
		b.Fatal(err)
	}
	w := decodeWire(&testing.T{}, data)
	// Ed25519 floor: the signatures the light-client rules must check — the root commit
	// (> 2/3 of the set) and, per later header, the trust check (> 1/3 of the trusted set)
	// and the commit check (> 2/3 of its own set) — as the batch verifications CometBFT
	// does (cheaper than one-by-one; both reported).
	n := depts*2/3 + 1
	sigs := n + (len(w.Headers)-1)*(depts/3+1+n)
	_, verify := benchfloor.Ed25519()
	batches := []int{n}
	for i := 1; i < len(w.Headers); i++ {
		batches = append(batches, depts/3+1, n)
	}
	batchFloor := 0.0
	for _, k := range batches {
		batchFloor += batchVerifyNs(k)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := VerifySnapshot(data, root, now, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	benchfloor.Report(b, batchFloor)
	per := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(per/(float64(sigs)*verify), "x-single-verify-floor")
	b.ReportMetric(per/float64(50*time.Millisecond), "x-goal50ms")
	b.ReportMetric(float64(sigs), "sigs")
	b.ReportMetric(float64(len(s.Members())), "members")
	b.ReportMetric(float64(len(data))/1e6, "MB")
}

// BenchmarkVerifySnapshot100Depts1MBits: 100 departments (all validators), 1 Mibit of
// written status entries (4 whole lists; the other 96 lists proven never written), goal
// ≤ 50 ms.
func BenchmarkVerifySnapshot100Depts1MBits(b *testing.B) { benchSnapshot(b, 100, 1<<20) }

// BenchmarkVerifySnapshot100DeptsFull: every one of the 100 lists written (26 Mibit).
func BenchmarkVerifySnapshot100DeptsFull(b *testing.B) {
	benchSnapshot(b, 100, 100*ledger.StatusListSize*2)
}

// batchVerifyNs times CometBFT's batch verification of k Ed25519 vote signatures.
func batchVerifyNs(k int) float64 {
	keys := genKeys(k)
	msgs := make([][]byte, k)
	sigs := make([][]byte, k)
	for i, key := range keys {
		msgs[i] = make([]byte, 120) // a canonical vote's sign bytes are ~110-130 bytes
		msgs[i][0] = byte(i)
		sigs[i], _ = key.Sign(msgs[i])
	}
	return timeNs(func() {
		bv := cmted25519.NewBatchVerifier()
		for i, key := range keys {
			bv.Add(key.PubKey(), msgs[i], sigs[i])
		}
		if ok, _ := bv.Verify(); !ok {
			panic("batch")
		}
	})
}

// BenchmarkVerifyTwoRegionSnapshots: an offline window of region A verifying its trust
// snapshot and region B's (100 departments each, 1 Mibit of status entries each): A's
// snapshot against A's genesis, the agreement about B read from it, B's snapshot against
// the agreement (VerifyForeignSnapshot). Goal ≤ 50 ms (x-goal50ms); x-one-region is the
// ratio to verifying A's snapshot alone, measured in the same run.
func BenchmarkVerifyTwoRegionSnapshots(b *testing.B) {
	const depts, bits = 100, 1 << 20
	bKeys := genKeys(depts)
	fb, bData := snapshotFixtureWith(b, "lz-region-b", bKeys, nil, depts, bits)
	rec := &ledger.Recognition{Region: "region-b", Name: ledger.Text{Zh: "乙", En: "B"}, ChainID: fb.chainID,
		GenesisSHA256: strings.Repeat("0f", 32), InitialHeight: 1, Nodes: []string{"https://b.example"},
		Types:     []ledger.RecognisedType{{Type: "household-register", AcceptedAs: "household-register", ServiceItems: []string{"real-estate"}}},
		ValidFrom: "2026-01-01T00:00:00Z", ValidUntil: "2035-01-01T00:00:00Z", MaxAgeSeconds: 86400}
	for _, v := range fb.root().GenesisValidators.Validators {
		rec.Validators = append(rec.Validators, ledger.RootValidator{PubKey: ledger.ValidatorKeyString(v.PubKey.Bytes()), Power: v.VotingPower})
	}
	recJSON, _ := json.Marshal(rec)
	fa, aData := snapshotFixtureWith(b, "lz-region-a", genKeys(depts), map[string][]byte{string(ledger.KeyRecognition("region-b")): recJSON}, depts, bits)
	aRoot, now := fa.root(), time.Now()
	both := func() {
		as, err := VerifySnapshot(aData, aRoot, now, 0)
		if err != nil {
			b.Fatal(err)
		}
		r, err := as.Recognition("region-b")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := VerifyForeignSnapshot(r, bData, now); err != nil {
			b.Fatal(err)
		}
	}
	both()
	one := timeNs(func() {
		if _, err := VerifySnapshot(aData, aRoot, now, 0); err != nil {
			panic(err)
		}
	})
	b.SetBytes(int64(len(aData) + len(bData)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		both()
	}
	b.StopTimer()
	per := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(per/float64(50*time.Millisecond), "x-goal50ms")
	b.ReportMetric(one/1e6, "one-region-ms")
	b.ReportMetric(per/one, "x-one-region")
}
