package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	dbm "github.com/cometbft/cometbft-db"
	abci "github.com/cometbft/cometbft/abci/types"
	cfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"

	"lianzheng/ledger/chain"
)

// Node is a CometBFT node running in this process over an ABCI application.
type Node struct {
	cfg  *cfg.Config
	node *node.Node
	rpc  string // http://host:port

	dbs      *dbTracker
	closeApp func() error // StartHomeNode: the application's database
	log      stopAwareLogger

	stopOnce sync.Once
	stopErr  error
}

// dbTracker remembers the databases CometBFT opens: node.Stop closes its block and state
// stores but not the tx and block indexes, whose file locks would keep a restarted node in
// the same process from opening them.
type dbTracker struct {
	mu  sync.Mutex
	dbs []dbm.DB
}

func (t *dbTracker) provider(ctx *cfg.DBContext) (dbm.DB, error) {
	raw, err := cfg.DefaultDBProvider(ctx)
	if err != nil {
		return nil, err
	}
	db := &closingDB{DB: raw}
	t.mu.Lock()
	t.dbs = append(t.dbs, db)
	t.mu.Unlock()
	return db, nil
}

// closingDB makes reads of a closed database find nothing instead of failing. CometBFT's
// consensus reactor runs a goroutine per peer (queryMaj23Routine) that node.Stop does not
// wait for; woken after the block store is closed, it reads a commit, gets
// "leveldb: closed" and panics, killing a process that stopped one node of several (tests,
// benchmarks). Reads hold a read lock across the check and the read, so Close cannot slip
// in between.
type closingDB struct {
	dbm.DB
	mu     sync.RWMutex
	closed bool
}

func (d *closingDB) Get(key []byte) ([]byte, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return nil, nil
	}
	return d.DB.Get(key)
}

func (d *closingDB) Has(key []byte) (bool, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return false, nil
	}
	return d.DB.Has(key)
}

func (d *closingDB) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	return d.DB.Close()
}

func (t *dbTracker) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, db := range t.dbs {
		_ = db.Close() // a no-op for those node.Stop closed
	}
	t.dbs = nil
}

// StartNode starts the CometBFT node of a home (config.toml, genesis.json and keys, as
// written by InitHome and WriteGenesis) in this process, over app through a local ABCI
// client. ctx bounds the start-up only (the handshake replaying blocks the app has not
// seen); the node runs until Stop. The caller owns app and its database: close them after
// Stop returns. logger may be nil (no logs).
func StartNode(ctx context.Context, home string, app abci.Application, logger log.Logger) (*Node, error) {
	if app == nil {
		return nil, errors.New("ledger: StartNode: nil application")
	}
	if logger == nil {
		logger = log.NewNopLogger()
	}
	sl := newStopAwareLogger(logger)
	logger = sl
	c, err := LoadConfig(home)
	if err != nil {
		return nil, err
	}
	if _, err := readJSONCheck(c.GenesisFile()); err != nil {
		return nil, fmt.Errorf("%w (no genesis yet? `lz ledger init` writes it)", err)
	}
	nk, err := p2p.LoadOrGenNodeKey(c.NodeKeyFile())
	if err != nil {
		return nil, fmt.Errorf("ledger: node key: %w", err)
	}
	pv, err := loadOrGenFilePV(c)
	if err != nil {
		return nil, err
	}
	dbs := &dbTracker{}
	n, err := newNode(ctx, c, pv, nk, app, dbs.provider, logger)
	if err != nil {
		dbs.closeAll()
		return nil, err
	}
	if err := n.Start(); err != nil {
		stopProxy(n)
		dbs.closeAll()
		return nil, fmt.Errorf("ledger: start node: %w", err)
	}
	return &Node{cfg: c, node: n, rpc: RPCURL(c.RPC.ListenAddress), dbs: dbs, log: sl}, nil
}

// newNode wraps node.NewNodeWithContext: CometBFT panics on some malformed files.
func newNode(ctx context.Context, c *cfg.Config, pv *privval.FilePV, nk *p2p.NodeKey, app abci.Application, dbs cfg.DBProvider, logger log.Logger) (n *node.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("ledger: new node: %v", r)
		}
	}()
	n, err = node.NewNodeWithContext(ctx, c, pv, nk,
		proxy.NewLocalClientCreator(app),
		node.DefaultGenesisDocProviderFunc(c),
		dbs,
		node.DefaultMetricsProvider(c.Instrumentation),
		logger)
	if err != nil {
		return nil, fmt.Errorf("ledger: new node: %w", err)
	}
	return n, nil
}

// RPCURL turns "tcp://127.0.0.1:26657" into "http://127.0.0.1:26657"; a wildcard host is
// reached on loopback.
func RPCURL(listen string) string {
	addr := strings.TrimPrefix(strings.TrimPrefix(listen, "tcp://"), "http://")
	if host, port, err := net.SplitHostPort(addr); err == nil {
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		addr = net.JoinHostPort(host, port)
	}
	return "http://" + addr
}

// RPCAddress is the node's RPC endpoint, e.g. "http://127.0.0.1:26657".
func (n *Node) RPCAddress() string { return n.rpc }

// NodeID is the node's p2p ID.
func (n *Node) NodeID() string { return string(n.node.NodeInfo().ID()) }

// ChainID is the chain id of the node's genesis.
func (n *Node) ChainID() string { return n.node.GenesisDoc().ChainID }

// Config is the node's configuration as loaded.
func (n *Node) Config() *cfg.Config { return n.cfg }

// Comet is the underlying CometBFT node (block store, event bus, ...).
func (n *Node) Comet() *node.Node { return n.node }

// Height is the height of the last committed block.
func (n *Node) Height() int64 { return n.node.BlockStore().Height() }

// Client returns a new RPC client of the node (HTTP and, for subscriptions, websocket).
func (n *Node) Client() (*rpchttp.HTTP, error) {
	c, err := rpchttp.New(n.rpc, "/websocket")
	if err != nil {
		return nil, fmt.Errorf("ledger: rpc client: %w", err)
	}
	return c, nil
}

// WaitForHeight waits until the node has committed block h.
func (n *Node) WaitForHeight(ctx context.Context, h int64) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for n.Height() < h {
		select {
		case <-ctx.Done():
			return fmt.Errorf("ledger: waiting for height %d (at %d): %w", h, n.Height(), ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

// Stop stops the node and waits for it to shut down: consensus, p2p, RPC listeners, the
// stores CometBFT opened and the ABCI client connections. It is safe to call more than once.
func (n *Node) Stop() error {
	n.stopOnce.Do(func() {
		n.log.stopping.Store(true)
		if n.node.IsRunning() {
			if err := n.node.Stop(); err != nil {
				n.stopErr = fmt.Errorf("ledger: stop node: %w", err)
			}
			n.node.Wait()
		}
		stopProxy(n.node)
		n.dbs.closeAll()
		if n.closeApp != nil {
			if err := n.closeApp(); err != nil && n.stopErr == nil {
				n.stopErr = fmt.Errorf("ledger: close application: %w", err)
			}
		}
	})
	return n.stopErr
}

// stopProxy stops the ABCI client connections, which node.Stop leaves running.
func stopProxy(n *node.Node) {
	if pa := n.ProxyApp(); pa != nil && pa.IsRunning() {
		_ = pa.Stop()
	}
}

// StartHomeNode opens the ledger application's persistent state under AppDBDir(home) and
// starts the home's node over it. Stop also closes the application's database.
func StartHomeNode(ctx context.Context, home string, logger log.Logger) (*Node, error) {
	if logger == nil {
		logger = log.NewNopLogger()
	}
	app, err := chain.NewPersistentApp(AppDBDir(home), chain.WithLogger(logger.With("module", "lianzheng")))
	if err != nil {
		return nil, err
	}
	n, err := StartNode(ctx, home, app, logger)
	if err != nil {
		app.Close()
		return nil, err
	}
	n.closeApp = app.Close
	return n, nil
}
