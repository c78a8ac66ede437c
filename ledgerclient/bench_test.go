package ledgerclient

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"testing"
	"time"

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
	st := newTestState(b, depts)
	fc := newFakeChain(b, depts, st.seed)
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
