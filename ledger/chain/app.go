package chain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/libs/log"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/cosmos/iavl"
	idb "github.com/cosmos/iavl/db"

	"lianzheng/ledger"
)

// AppVersion is the ABCI application protocol version reported by Info.
const AppVersion uint64 = 1

// Version is the software version reported by Info.
const Version = "lianzheng-ledger/1"

// Key prefixes inside the database NewApp is given.
var (
	treePrefix = []byte("t/") // the IAVL tree (all versions)
	metaKey    = []byte("m/meta")
)

// meta is what the app keeps beside the tree: the chain id (fixed at InitChain) and the
// time of the last committed block (the time CheckTx checks signing keys against).
type meta struct {
	ChainID string    `json:"chain_id"`
	Height  int64     `json:"height"`
	Time    time.Time `json:"time"`
}

// App is the ledger's ABCI++ application. It is safe for concurrent use: every ABCI call
// holds one mutex.
type App struct {
	abci.BaseApplication

	mu     sync.Mutex
	db     dbm.DB
	ownDB  bool
	tree   *iavl.MutableTree
	logger log.Logger

	caches    *caches // signature checks and key resolutions already done
	meta      meta
	lastHash  []byte
	committed reader    // state at the last commit (CheckTx)
	genesis   mapReader // state after InitChain, before the first commit

	// pendingNonces: nonce keys of transactions CheckTx accepted since the last commit, with
	// their hashes, so a second, different transaction reusing a nonce is refused before it
	// reaches a block (FinalizeBlock would refuse it anyway).
	pendingNonces map[string]string

	// the block between FinalizeBlock and Commit
	pending    bool
	blockMeta  meta
	blockCount int
}

// Option configures NewApp.
type Option func(*config)

type config struct {
	logger    log.Logger
	cacheSize int
}

// WithLogger sets the logger (default: none).
func WithLogger(l log.Logger) Option { return func(c *config) { c.logger = l } }

// WithCacheSize sets the IAVL node cache size in nodes (default 100,000).
func WithCacheSize(n int) Option { return func(c *config) { c.cacheSize = n } }

var _ abci.Application = (*App)(nil)

// NewApp opens the ledger state in db (memdb in tests, goleveldb on a node), loading the
// latest committed version if there is one.
func NewApp(db dbm.DB, opts ...Option) (*App, error) {
	cfg := config{logger: log.NewNopLogger(), cacheSize: 100_000}
	for _, o := range opts {
		o(&cfg)
	}
	a := &App{db: db, logger: cfg.logger, caches: newCaches()}
	a.tree = iavl.NewMutableTree(idb.NewWrapper(dbm.NewPrefixDB(db, treePrefix)), cfg.cacheSize, true, iavl.NewNopLogger())
	version, err := a.tree.Load()
	if err != nil {
		return nil, fmt.Errorf("ledger: load state: %w", err)
	}
	if b, err := db.Get(metaKey); err != nil {
		return nil, fmt.Errorf("ledger: load meta: %w", err)
	} else if b != nil {
		if err := json.Unmarshal(b, &a.meta); err != nil {
			return nil, fmt.Errorf("ledger: corrupt meta: %w", err)
		}
	}
	if version > 0 {
		if err := a.loadCommitted(version); err != nil {
			return nil, err
		}
	}
	a.meta.Height = version
	return a, nil
}

// NewPersistentApp opens (or creates) the ledger state in a goleveldb database under dir.
// Close releases it.
func NewPersistentApp(dir string, opts ...Option) (*App, error) {
	db, err := dbm.NewGoLevelDB("ledger", dir, nil)
	if err != nil {
		return nil, fmt.Errorf("ledger: open %s: %w", dir, err)
	}
	a, err := NewApp(db, opts...)
	if err != nil {
		db.Close()
		return nil, err
	}
	a.ownDB = true
	return a, nil
}

// Close closes the database if NewPersistentApp opened it.
func (a *App) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ownDB {
		return a.db.Close()
	}
	return nil
}

func (a *App) loadCommitted(version int64) error {
	it, err := a.tree.GetImmutable(version)
	if err != nil {
		return fmt.Errorf("ledger: load version %d: %w", version, err)
	}
	a.committed = treeReader{it}
	a.lastHash = it.Hash()
	a.genesis = nil
	return nil
}

// ChainID returns the chain id fixed at InitChain ("" before).
func (a *App) ChainID() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.meta.ChainID
}

// LastCommit returns the height, app hash and block time of the last committed block.
func (a *App) LastCommit() (height int64, appHash []byte, t time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.meta.Height, append([]byte(nil), a.lastHash...), a.meta.Time
}

// Info reports the last committed height and app hash, so CometBFT replays what is missing.
func (a *App) Info(context.Context, *abci.RequestInfo) (*abci.ResponseInfo, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return &abci.ResponseInfo{
		Data:             "lianzheng ledger",
		Version:          Version,
		AppVersion:       AppVersion,
		LastBlockHeight:  a.meta.Height,
		LastBlockAppHash: a.lastHash,
	}, nil
}

// InitChain validates the genesis app_state and writes it into the tree.
func (a *App) InitChain(_ context.Context, req *abci.RequestInitChain) (resp *abci.ResponseInitChain, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	defer recoverErr("InitChain", &err)
	if a.meta.Height > 0 {
		return nil, fmt.Errorf("ledger: InitChain on a chain already at height %d", a.meta.Height)
	}
	if req.ChainId == "" || len(req.ChainId) > 50 {
		return nil, errors.New("ledger: InitChain: chain id must be 1-50 characters")
	}
	g, err := ledger.ParseGenesis(req.AppStateBytes)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	a.tree.Rollback() // a repeated InitChain (crash before the first commit) starts afresh
	if req.InitialHeight > 1 {
		a.tree.SetInitialVersion(uint64(req.InitialHeight))
	}
	ov := newOverlay(mapReader{})
	st := state{ov}
	if err := st.putJSON(ledger.KeyParams(), g.Params); err != nil {
		return nil, err
	}
	var vals []abci.ValidatorUpdate
	for i := range g.Members {
		m := &g.Members[i]
		if err := st.putJSON(ledger.KeyMember(m.ID), m); err != nil {
			return nil, err
		}
		if m.Validator != "" {
			pk, _ := ledger.ParseValidatorKey(m.Validator)
			vals = append(vals, abci.Ed25519ValidatorUpdate(pk, memberPower(m)))
		}
	}
	for _, h := range g.DIDs {
		if err := st.putJSON(ledger.KeyDID(h.DID), h); err != nil {
			return nil, err
		}
	}
	for i := range g.Types {
		if err := st.putJSON(ledger.KeyType(g.Types[i].ID), &g.Types[i]); err != nil {
			return nil, err
		}
	}
	for i := range g.Windows {
		if err := st.putJSON(ledger.KeyWindow(g.Windows[i].DID), &g.Windows[i]); err != nil {
			return nil, err
		}
	}
	if err := ov.flushTree(a.tree); err != nil {
		return nil, fmt.Errorf("ledger: write genesis: %w", err)
	}
	a.genesis = mapReader(ov.writes)
	a.meta = meta{ChainID: req.ChainId, Height: 0, Time: req.Time}
	if err := a.saveMeta(a.meta); err != nil {
		return nil, err
	}
	if len(vals) == 0 && len(req.Validators) == 0 {
		return nil, errors.New("ledger: InitChain: no validators in the genesis document and no member has a validator key")
	}
	a.logger.Info("ledger genesis", "chain", req.ChainId, "members", len(g.Members), "dids", len(g.DIDs), "types", len(g.Types), "windows", len(g.Windows))
	return &abci.ResponseInitChain{Validators: vals, AppHash: a.tree.WorkingHash()}, nil
}

func (a *App) saveMeta(m meta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := a.db.SetSync(metaKey, b); err != nil {
		return fmt.Errorf("ledger: save meta: %w", err)
	}
	return nil
}

// checkView is the state CheckTx validates against: the last committed block, or the
// genesis state before the first block.
func (a *App) checkView() reader {
	if a.committed != nil {
		return a.committed
	}
	if a.genesis != nil {
		return a.genesis
	}
	return nil
}

// CheckTx validates a transaction against the committed state at the last block's time.
// Nothing it does is kept.
func (a *App) CheckTx(_ context.Context, req *abci.RequestCheckTx) (resp *abci.ResponseCheckTx, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			resp, err = &abci.ResponseCheckTx{Code: ledger.CodeInternal, Codespace: ledger.Codespace, Log: fmt.Sprintf("internal error: %v", r)}, nil
		}
	}()
	if len(req.Tx) > ledger.MaxTxBytes {
		return &abci.ResponseCheckTx{Code: ledger.CodeMalformed, Codespace: ledger.Codespace,
			Log: fmt.Sprintf("malformed transaction: %d bytes, the limit is %d", len(req.Tx), ledger.MaxTxBytes)}, nil
	}
	view := a.checkView()
	if view == nil || a.meta.ChainID == "" {
		return &abci.ResponseCheckTx{Code: ledger.CodeInternal, Codespace: ledger.Codespace, Log: "the ledger has no state yet (InitChain has not run)"}, nil
	}
	res, _ := execTx(view, req.Tx, a.meta.ChainID, a.meta.Height+1, a.meta.Time, newValUpdates(), false, a.caches)
	if res.code == ledger.CodeOK && req.Type == abci.CheckTxType_New {
		if e := res.env; e != nil {
			k, hash := string(ledger.KeyNonce(e.Signer, e.Nonce)), ledger.TxHash(req.Tx)
			if prev, ok := a.pendingNonces[k]; ok && prev != hash {
				res = txResult{code: ledger.CodeReplay, log: fmt.Sprintf("nonce %s of %s is already used by pending transaction %s", e.Nonce, e.Signer, prev)}
			} else {
				if a.pendingNonces == nil {
					a.pendingNonces = map[string]string{}
				}
				a.pendingNonces[k] = hash
			}
		}
	}
	out := &abci.ResponseCheckTx{Code: res.code, Log: res.log, GasWanted: 1}
	if res.code != ledger.CodeOK {
		out.Codespace = ledger.Codespace
	}
	return out, nil
}

// PrepareProposal drops transactions ProcessProposal would reject (undecodable or
// oversized) and keeps the block within MaxTxBytes.
func (a *App) PrepareProposal(_ context.Context, req *abci.RequestPrepareProposal) (*abci.ResponsePrepareProposal, error) {
	txs := make([][]byte, 0, len(req.Txs))
	var total int64
	for _, tx := range req.Txs {
		if _, err := ledger.DecodeEnvelope(tx); err != nil {
			continue
		}
		if total+int64(len(tx)) > req.MaxTxBytes {
			break
		}
		total += int64(len(tx))
		txs = append(txs, tx)
	}
	return &abci.ResponsePrepareProposal{Txs: txs}, nil
}

// ProcessProposal rejects a block holding a transaction that cannot be decoded or is
// oversized: an honest proposer never includes one. Everything else is judged per
// transaction in FinalizeBlock.
func (a *App) ProcessProposal(_ context.Context, req *abci.RequestProcessProposal) (resp *abci.ResponseProcessProposal, err error) {
	defer func() {
		if r := recover(); r != nil {
			resp, err = &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_REJECT}, nil
		}
	}()
	for i, tx := range req.Txs {
		if _, err := ledger.DecodeEnvelope(tx); err != nil {
			a.logger.Info("rejecting proposal", "height", req.Height, "tx", i, "err", err)
			return &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_REJECT}, nil
		}
	}
	return &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_ACCEPT}, nil
}

// FinalizeBlock re-validates every transaction against the working state at the block's
// header time and applies the valid ones; an invalid one gets its code and changes nothing.
func (a *App) FinalizeBlock(_ context.Context, req *abci.RequestFinalizeBlock) (resp *abci.ResponseFinalizeBlock, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	defer recoverErr("FinalizeBlock", &err)
	if a.meta.ChainID == "" {
		return nil, errors.New("ledger: FinalizeBlock before InitChain")
	}
	if want := a.tree.WorkingVersion(); req.Height != want || a.pending {
		return nil, fmt.Errorf("ledger: FinalizeBlock for height %d, expected %d (pending commit: %v)", req.Height, want, a.pending)
	}
	vals := newValUpdates()
	results := make([]*abci.ExecTxResult, len(req.Txs))
	base := treeReader{a.tree}
	for i, tx := range req.Txs {
		txVals := newValUpdates()
		res, ov := execTx(base, tx, a.meta.ChainID, req.Height, req.Time, txVals, true, a.caches)
		r := &abci.ExecTxResult{Code: res.code, Log: res.log, Data: res.data, Events: res.events, GasWanted: 1}
		if res.code == ledger.CodeOK {
			if err := ov.flushTree(a.tree); err != nil {
				return nil, fmt.Errorf("ledger: write state at height %d: %w", req.Height, err)
			}
			vals.merge(txVals)
			r.GasUsed = 1
		} else {
			r.Codespace = ledger.Codespace
		}
		results[i] = r
	}
	a.pending = true
	a.blockMeta = meta{ChainID: a.meta.ChainID, Height: req.Height, Time: req.Time}
	a.blockCount = len(req.Txs)
	return &abci.ResponseFinalizeBlock{TxResults: results, ValidatorUpdates: vals.list(), AppHash: a.tree.WorkingHash()}, nil
}

// Commit saves the working tree as the version of the finalized block.
func (a *App) Commit(context.Context, *abci.RequestCommit) (resp *abci.ResponseCommit, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	defer recoverErr("Commit", &err)
	if !a.pending {
		return nil, errors.New("ledger: Commit without FinalizeBlock")
	}
	// The meta is written first: if the process dies before SaveVersion, the node replays
	// this block and writes it again.
	if err := a.saveMeta(a.blockMeta); err != nil {
		return nil, err
	}
	_, version, err := a.tree.SaveVersion()
	if err != nil {
		return nil, fmt.Errorf("ledger: save version %d: %w", a.blockMeta.Height, err)
	}
	if err := a.loadCommitted(version); err != nil {
		return nil, err
	}
	a.meta = a.blockMeta
	a.meta.Height = version
	a.pending = false
	a.pendingNonces = nil
	return &abci.ResponseCommit{}, nil
}

func recoverErr(where string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("ledger: %s: internal error: %v", where, r)
	}
}
