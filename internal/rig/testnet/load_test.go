package testnet

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	cmttypes "github.com/cometbft/cometbft/types"

	"lianzheng/home/demonet"
	"lianzheng/ledger"
)

// LoadResult is the outcome of a load run.
type LoadResult struct {
	Txs       int
	Elapsed   time.Duration   // first submission to last commit seen
	Latencies []time.Duration // submission to commit seen, per tx, sorted
	Resubmits int             // transactions sent again after not appearing in a block in time
	Blocks    int             // blocks holding the load
}

// TxPerSecond is the committed throughput.
func (r *LoadResult) TxPerSecond() float64 { return float64(r.Txs) / r.Elapsed.Seconds() }

// Percentile returns the p-th percentile (0-100) of the commit latency.
func (r *LoadResult) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(p / 100 * float64(len(r.Latencies)-1))
	return r.Latencies[i]
}

// StatusLoad makes n signed status.set transactions, spread over the departments' keys, each
// setting a random entry of the signer's list 0.
func StatusLoad(chainID string, keys []*demonet.DemoKey, n int) ([][]byte, error) {
	txs := make([][]byte, n)
	for i := range txs {
		k := keys[i%len(keys)]
		tx, err := NewTx(chainID, k, ledger.TxStatusSet, ledger.StatusSet{List: 0,
			Updates: []ledger.StatusUpdate{{Index: rand.IntN(ledger.StatusListSize), Value: 1 + rand.IntN(2)}}})
		if err != nil {
			return nil, err
		}
		txs[i] = tx
	}
	return txs, nil
}

// LoadBatch is how many broadcast_tx_sync calls RunLoad puts in one JSON-RPC batch request:
// CometBFT's default rpc.max_request_batch_size.
const LoadBatch = 10

// RunLoad submits txs with broadcast_tx_sync from several goroutines, in JSON-RPC batches of
// up to LoadBatch calls (batches round-robin over the clients), at most inFlight unconfirmed
// at a time, and confirms each by hash from the blocks a watcher reads through watch. A
// transaction not in a block resubmitAfter after its submission is sent again (the mempool
// may drop what broadcast_tx_sync accepted). Every transaction must succeed in its block.
func RunLoad(ctx context.Context, clients []*rpchttp.HTTP, watch *rpchttp.HTTP, txs [][]byte, workers, inFlight int, resubmitAfter time.Duration) (*LoadResult, error) {
	if workers < 1 || inFlight < 1 || len(clients) == 0 {
		return nil, errors.New("testnet: RunLoad: bad parameters")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type pending struct {
		tx   []byte
		sent time.Time // first submission
		last time.Time // last submission
		done bool
	}
	var (
		mu        sync.Mutex
		byHash    = make(map[string]*pending, len(txs))
		lat       = make([]time.Duration, 0, len(txs))
		resubmits int
		failure   error
		slots     = make(chan struct{}, inFlight)
		allDone   = make(chan struct{})
		blocks    int
	)
	st, err := watch.Status(ctx)
	if err != nil {
		return nil, err
	}
	startHeight := st.SyncInfo.LatestBlockHeight
	fail := func(err error) {
		mu.Lock()
		if failure == nil {
			failure = err
		}
		mu.Unlock()
		cancel()
	}
	send := func(c *rpchttp.HTTP, tx []byte) error {
		for {
			res, err := c.BroadcastTxSync(ctx, tx)
			switch {
			case err == nil && res.Code == ledger.CodeOK:
				return nil
			case err == nil:
				return fmt.Errorf("testnet: CheckTx refused a load transaction: code %d: %s", res.Code, res.Log)
			case strings.Contains(err.Error(), "already exists in cache"):
				return nil
			case ctx.Err() != nil:
				return ctx.Err()
			}
			time.Sleep(20 * time.Millisecond) // mempool full or RPC busy: retry
		}
	}
	// sendBatch sends txs in one JSON-RPC batch; if any call did not succeed (a batch reports
	// errors for the whole), each is sent again alone, where "already in the cache" is success.
	sendBatch := func(c *rpchttp.HTTP, txs [][]byte) error {
		if len(txs) > 1 {
			b := c.NewBatch()
			for _, tx := range txs {
				if _, err := b.BroadcastTxSync(ctx, tx); err != nil {
					return err
				}
			}
			res, err := b.Send(ctx)
			ok := err == nil && len(res) == len(txs)
			for _, r := range res {
				if br, isTx := r.(*coretypes.ResultBroadcastTx); !isTx || br.Code != ledger.CodeOK {
					ok = false
				}
			}
			if ok {
				return nil
			}
		}
		for _, tx := range txs {
			if err := send(c, tx); err != nil {
				return err
			}
		}
		return nil
	}

	// Watcher: confirm by hash from each new block and its results.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		next := startHeight + 1
		for ctx.Err() == nil {
			st, err := watch.Status(ctx)
			if err != nil || st.SyncInfo.LatestBlockHeight < next {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			for ; next <= st.SyncInfo.LatestBlockHeight; next++ {
				h := next
				blk, err := watch.Block(ctx, &h)
				if err != nil {
					fail(err)
					return
				}
				if len(blk.Block.Txs) == 0 {
					continue
				}
				// The block is stored a moment before its results: retry briefly.
				res, err := watch.BlockResults(ctx, &h)
				for try := 0; err != nil && try < 200 && ctx.Err() == nil; try++ {
					time.Sleep(10 * time.Millisecond)
					res, err = watch.BlockResults(ctx, &h)
				}
				if err != nil {
					fail(err)
					return
				}
				now := time.Now()
				mu.Lock()
				blocks++
				for i, tx := range blk.Block.Txs {
					p := byHash[string(tx.Hash())]
					if p == nil || p.done {
						continue
					}
					if c := res.TxsResults[i].Code; c != ledger.CodeOK {
						mu.Unlock()
						fail(fmt.Errorf("testnet: load transaction failed in block %d: code %d: %s", h, c, res.TxsResults[i].Log))
						return
					}
					p.done = true
					lat = append(lat, now.Sub(p.sent))
					<-slots
				}
				finished := len(lat) == len(txs)
				mu.Unlock()
				if finished {
					close(allDone)
					return
				}
			}
		}
	}()

	// Resubmitter: anything not committed in time is sent again.
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(resubmitAfter / 4)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-allDone:
				return
			case <-t.C:
			}
			var again [][]byte
			mu.Lock()
			for _, p := range byHash {
				if !p.done && time.Since(p.last) > resubmitAfter {
					p.last = time.Now()
					again = append(again, p.tx)
				}
			}
			resubmits += len(again)
			mu.Unlock()
			for i, tx := range again {
				if err := send(clients[i%len(clients)], tx); err != nil {
					fail(err)
					return
				}
			}
		}
	}()

	start := time.Now()
	work := make(chan int, LoadBatch)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			batch := make([][]byte, 0, LoadBatch)
			for i := range work {
				// Take what else is ready, up to a batch.
				batch = append(batch[:0], txs[i])
			more:
				for len(batch) < LoadBatch {
					select {
					case j, ok := <-work:
						if !ok {
							break more
						}
						batch = append(batch, txs[j])
					default:
						break more
					}
				}
				now := time.Now()
				mu.Lock()
				for _, tx := range batch {
					byHash[string(cmttypes.Tx(tx).Hash())] = &pending{tx: tx, sent: now, last: now}
				}
				mu.Unlock()
				if err := sendBatch(clients[i%len(clients)], batch); err != nil {
					fail(err)
					return
				}
			}
		}(w)
	}
feed:
	for i := range txs {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			break feed
		}
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	select {
	case <-allDone:
	case <-ctx.Done():
	}
	elapsed := time.Since(start)
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(lat) < len(txs) {
		if failure == nil {
			failure = fmt.Errorf("testnet: %d of %d transactions committed: %w", len(lat), len(txs), ctx.Err())
		}
		return nil, failure
	}
	slices.Sort(lat)
	return &LoadResult{Txs: len(txs), Elapsed: elapsed, Latencies: lat, Resubmits: resubmits, Blocks: blocks}, nil
}
