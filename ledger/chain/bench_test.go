package chain

import (
	"context"
	"math/rand/v2"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"lianzheng/internal/benchfloor"
	"lianzheng/ledger"
)

// BenchmarkFinalizeBlock: blocks of 1,000 status.set transactions (one revocation each, the
// common case), FinalizeBlock + Commit on memdb. Reports tx/s and the time per transaction
// as a multiple of one raw Ed25519 verify (x-floor), the one signature check each needs.
func BenchmarkFinalizeBlock(b *testing.B) {
	const perBlock = 1000
	_, verify := benchfloor.Ed25519()
	h := newHarness(b)
	h.mustOK()
	signers := []string{gaj, mzj, bdc}
	rng := rand.New(rand.NewPCG(1, 2))
	makeBlock := func() [][]byte {
		txs := make([][]byte, perBlock)
		for i := range txs {
			txs[i] = h.tx(signers[i%len(signers)], ledger.TxStatusSet, ledger.StatusSet{List: rng.IntN(ledger.MaxStatusLists),
				Updates: []ledger.StatusUpdate{{Index: rng.IntN(ledger.StatusListSize), Value: 1 + rng.IntN(2)}}})
		}
		return txs
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		txs := makeBlock()
		h.height++
		h.now = h.now.Add(1e9)
		b.StartTimer()
		res, err := h.app.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: h.height, Time: h.now, Txs: txs})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := h.app.Commit(ctx, &abci.RequestCommit{}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		for _, r := range res.TxResults {
			if r.Code != ledger.CodeOK {
				b.Fatalf("code %d: %s", r.Code, r.Log)
			}
		}
		b.StartTimer()
	}
	b.StopTimer()
	perTx := float64(b.Elapsed().Nanoseconds()) / float64(b.N*perBlock)
	b.ReportMetric(1e9/perTx, "tx/s")
	benchfloor.Report(b, perBlock*verify)
}

// BenchmarkDecodeEnvelope: the strict decoding of one status.set envelope, as CheckTx,
// PrepareProposal, ProcessProposal and FinalizeBlock each do it. x-floor: one Ed25519 verify.
func BenchmarkDecodeEnvelope(b *testing.B) {
	_, verify := benchfloor.Ed25519()
	h := newHarness(b)
	h.mustOK()
	tx := h.tx(gaj, ledger.TxStatusSet, ledger.StatusSet{List: 1, Updates: []ledger.StatusUpdate{{Index: 12345, Value: 1}}})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ledger.DecodeEnvelope(tx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	benchfloor.Report(b, verify)
}

// BenchmarkCheckTx: CheckTx of status.set transactions whose signatures were verified before
// (as in a recheck, or FinalizeBlock after CheckTx). x-floor: one Ed25519 verify.
func BenchmarkCheckTx(b *testing.B) {
	_, verify := benchfloor.Ed25519()
	h := newHarness(b)
	h.mustOK()
	tx := h.tx(gaj, ledger.TxStatusSet, ledger.StatusSet{List: 1, Updates: []ledger.StatusUpdate{{Index: 12345, Value: 1}}})
	ctx := context.Background()
	req := &abci.RequestCheckTx{Tx: tx, Type: abci.CheckTxType_Recheck}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r, err := h.app.CheckTx(ctx, req); err != nil || r.Code != ledger.CodeOK {
			b.Fatal(err, r.Log)
		}
	}
	b.StopTimer()
	benchfloor.Report(b, verify)
}
