package home

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	cmtlog "github.com/cometbft/cometbft/libs/log"

	ledgernode "lianzheng/ledger/node"
	"lianzheng/ledgerclient"
)

// ErrNoLedger reports a service asked to read the ledger without a trust root or a node.
var ErrNoLedger = errors.New("no ledger configured")

// Ledger says where a service reads the consortium's ledger: the trust root (the consortium's
// genesis.json, against which every answer is checked) and a node's RPC address. A node home
// supplies both defaults: its genesis.json and the RPC address in its config.toml.
type Ledger struct {
	NodeHome string // a ledger node's home directory
	Genesis  string // the consortium's genesis.json (default: NodeHome's)
	Node     string // host:port, tcp://host:port or http(s)://host:port (default: NodeHome's)
}

func (l Ledger) genesis() string {
	if l.Genesis == "" && l.NodeHome != "" {
		return ledgernode.GenesisFile(l.NodeHome)
	}
	return l.Genesis
}

// hasNode reports whether a node address is given or can be read from the node home.
func (l Ledger) hasNode() bool { return l.Node != "" || l.NodeHome != "" }

func (l Ledger) node() (string, error) {
	if l.Node != "" {
		return NodeURL(l.Node), nil
	}
	if l.NodeHome == "" {
		return "", fmt.Errorf("home: %w: no node address", ErrNoLedger)
	}
	c, err := ledgernode.LoadConfig(l.NodeHome)
	if err != nil {
		return "", err
	}
	return ledgernode.RPCURL(c.RPC.ListenAddress), nil
}

// Root reads the trust root.
func (l Ledger) Root() (ledgerclient.TrustRoot, error) {
	g := l.genesis()
	if g == "" {
		return ledgerclient.TrustRoot{}, fmt.Errorf("home: %w: no trust root (genesis.json)", ErrNoLedger)
	}
	return ledgerclient.GenesisRootFile(g)
}

// Dial connects a ledger client to the node, checking its answers against the trust root.
func (l Ledger) Dial() (*ledgerclient.Client, error) {
	root, err := l.Root()
	if err != nil {
		return nil, err
	}
	return l.dial(root)
}

// dial is the one place a ledger client is made from a node address.
func (l Ledger) dial(root ledgerclient.TrustRoot) (*ledgerclient.Client, error) {
	addr, err := l.node()
	if err != nil {
		return nil, err
	}
	return ledgerclient.Dial(addr, root, ledgerclient.Config{})
}

// NodeURL turns host:port, tcp://host:port or http://host:port into a node's RPC URL.
func NodeURL(s string) string {
	s = strings.TrimPrefix(s, "tcp://")
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	return s
}

// nodeLogger is the embedded node's logger over l: CometBFT's info lines (several per block)
// are debug here, its errors errors. nil when l is nil: the node then logs nothing.
func nodeLogger(l *slog.Logger) cmtlog.Logger {
	if l == nil {
		return nil
	}
	return cometLog{l.With("service", "ledger-node")}
}

type cometLog struct{ l *slog.Logger }

func (c cometLog) Debug(msg string, kv ...any)  { c.l.Debug(msg, kv...) }
func (c cometLog) Info(msg string, kv ...any)   { c.l.Debug(msg, kv...) }
func (c cometLog) Error(msg string, kv ...any)  { c.l.Error(msg, kv...) }
func (c cometLog) With(kv ...any) cmtlog.Logger { return cometLog{c.l.With(kv...)} }

// logger is l, or a logger that discards.
func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
