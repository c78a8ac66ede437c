package node

// Node homes: the on-disk layout of one CometBFT node of the consortium ledger.
//
//	<home>/config/config.toml            CometBFT configuration (edit to taste; read at start)
//	<home>/config/genesis.json           genesis: chain id, validators, app_state = GenesisState
//	<home>/config/node_key.json          p2p identity (node ID = address of this key)
//	<home>/config/priv_validator_key.json validator signing key (consensus key, not a DID key)
//	<home>/data/priv_validator_state.json last signed height/round/step (double-sign guard)
//	<home>/data/*.db                     CometBFT block store, state, tx index (goleveldb)
//	<home>/data/app/                     the ABCI application's IAVL store (AppDBDir)

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	cfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/spf13/viper"

	"lianzheng/ledger"
)

// Timing selects the consensus timeouts written into config.toml.
type Timing int

const (
	// TimingEmbedded is for a single validator in the same process as its clients: blocks
	// about every 100 ms under load (DESIGN §4 measured ~105 ms commit).
	TimingEmbedded Timing = iota
	// TimingLoopback is for several validators on one machine (tests, `make consortium`):
	// short timeouts, so a dead proposer costs about a second, not three.
	TimingLoopback
	// TimingWAN is CometBFT's defaults (3 s propose, 1 s commit), for departments' validators
	// on separate machines.
	TimingWAN
)

// String names the timing profile as the CLI spells it.
func (t Timing) String() string {
	switch t {
	case TimingEmbedded:
		return "embedded"
	case TimingLoopback:
		return "loopback"
	case TimingWAN:
		return "wan"
	}
	return "timing(" + strconv.Itoa(int(t)) + ")"
}

// ParseTiming parses a profile name.
func ParseTiming(s string) (Timing, error) {
	for _, t := range []Timing{TimingEmbedded, TimingLoopback, TimingWAN} {
		if t.String() == s {
			return t, nil
		}
	}
	return 0, fmt.Errorf("ledger: unknown timing profile %q (embedded, loopback, wan)", s)
}

// DefaultLogLevel logs start-up, peers and one line per committed block, and errors.
const DefaultLogLevel = "main:info,p2p:info,state:info,*:error"

// HomeOptions configure a new node home.
type HomeOptions struct {
	Moniker string // node name in logs and /status; default: the home directory's base name
	// RPCListen and P2PListen are host:port; an empty value or port 0 picks a free port on
	// 127.0.0.1 at init time. Validators on separate machines listen on 0.0.0.0 for P2P and
	// keep RPC on 127.0.0.1 (or behind a proxy).
	RPCListen string
	P2PListen string
	// PersistentPeers are "nodeID@host:port" entries the node keeps connected to.
	PersistentPeers []string
	Timing          Timing
	// EmptyBlocksInterval: 0 creates empty blocks only as CometBFT needs them (a block after
	// each block that changed the app hash, so proofs of height H have a header H+1); a
	// positive value also creates a heartbeat block at that interval when idle.
	EmptyBlocksInterval time.Duration
	// Loopback relaxes the p2p address checks for several nodes on one host
	// (addr_book_strict = false, allow_duplicate_ip = true).
	Loopback bool
	LogLevel string // CometBFT log_level; default DefaultLogLevel
}

// HomeInfo is what InitHome generated.
type HomeInfo struct {
	Home            string
	NodeID          string // p2p node ID (hex), for other nodes' persistent_peers
	P2PAddress      string // host:port as configured (listen address)
	RPCAddress      string // host:port as configured
	ValidatorPubKey []byte // Ed25519 consensus public key (32 bytes)
}

// ValidatorKeyBase64 is the validator key the way Member.Validator and genesis.json carry it.
func (h *HomeInfo) ValidatorKeyBase64() string {
	return ledger.ValidatorKeyString(h.ValidatorPubKey)
}

// PeerAddress is the persistent_peers entry for this node as reached at host.
func (h *HomeInfo) PeerAddress(host string) string {
	_, port, _ := net.SplitHostPort(h.P2PAddress)
	return h.NodeID + "@" + net.JoinHostPort(host, port)
}

// FreeLoopbackAddr returns a 127.0.0.1:port that was free a moment ago. (Another process may
// take it before it is used: callers that start a node right away rarely lose the race.)
func FreeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("ledger: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func resolveListen(addr string) (string, error) {
	if addr == "" {
		return FreeLoopbackAddr()
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("ledger: listen address %q: %w", addr, err)
	}
	if port == "0" {
		if host != "127.0.0.1" && host != "localhost" && host != "" {
			return "", fmt.Errorf("ledger: listen address %q: give a port (free ports are only picked on 127.0.0.1)", addr)
		}
		return FreeLoopbackAddr()
	}
	return addr, nil
}

// ApplyTiming sets the consensus timeouts of a profile.
func ApplyTiming(c *cfg.Config, t Timing) {
	cs := c.Consensus
	switch t {
	case TimingEmbedded:
		cs.TimeoutPropose = 1 * time.Second
		cs.TimeoutProposeDelta = 100 * time.Millisecond
		cs.TimeoutPrevote = 100 * time.Millisecond
		cs.TimeoutPrevoteDelta = 100 * time.Millisecond
		cs.TimeoutPrecommit = 100 * time.Millisecond
		cs.TimeoutPrecommitDelta = 100 * time.Millisecond
		cs.TimeoutCommit = 100 * time.Millisecond
		cs.SkipTimeoutCommit = false
	case TimingLoopback:
		cs.TimeoutPropose = 1 * time.Second
		cs.TimeoutProposeDelta = 200 * time.Millisecond
		cs.TimeoutPrevote = 300 * time.Millisecond
		cs.TimeoutPrevoteDelta = 200 * time.Millisecond
		cs.TimeoutPrecommit = 300 * time.Millisecond
		cs.TimeoutPrecommitDelta = 200 * time.Millisecond
		cs.TimeoutCommit = 300 * time.Millisecond
		cs.SkipTimeoutCommit = false
		// On loopback a message costs nothing to send: flush peer connections and gossip
		// block parts and votes sooner than CometBFT's WAN defaults (100 ms each, per hop),
		// which otherwise add a good part of a second to every commit.
		cs.PeerGossipSleepDuration = 20 * time.Millisecond
		c.P2P.FlushThrottleTimeout = 10 * time.Millisecond
	default:
		d := cfg.DefaultConsensusConfig()
		d.WalPath = cs.WalPath
		*cs = *d
		cs.RootDir = c.RootDir
		c.P2P.FlushThrottleTimeout = cfg.DefaultP2PConfig().FlushThrottleTimeout
	}
}

// InitHome creates a node home: config.toml, node key and validator key (kept if they
// already exist, so a department can generate its keys first and receive config later; the
// listen addresses, peers and moniker of an existing config.toml are kept unless given).
// It does not write genesis.json (WriteGenesis does, once every validator key is known).
func InitHome(home string, opt HomeOptions) (*HomeInfo, error) {
	home, err := filepath.Abs(home)
	if err != nil {
		return nil, err
	}
	for _, d := range []string{home, filepath.Join(home, cfg.DefaultConfigDir), filepath.Join(home, cfg.DefaultDataDir)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("ledger: init home: %w", err)
		}
	}
	// Re-running on an existing home keeps the addresses and peers not given again.
	if old, err := LoadConfig(home); err == nil {
		if opt.RPCListen == "" {
			opt.RPCListen = strings.TrimPrefix(old.RPC.ListenAddress, "tcp://")
		}
		if opt.P2PListen == "" {
			opt.P2PListen = strings.TrimPrefix(old.P2P.ListenAddress, "tcp://")
		}
		if opt.PersistentPeers == nil && old.P2P.PersistentPeers != "" {
			opt.PersistentPeers = strings.Split(old.P2P.PersistentPeers, ",")
		}
		if opt.Moniker == "" {
			opt.Moniker = old.Moniker
		}
	}
	rpcAddr, err := resolveListen(opt.RPCListen)
	if err != nil {
		return nil, err
	}
	p2pAddr, err := resolveListen(opt.P2PListen)
	if err != nil {
		return nil, err
	}
	if p2pAddr == rpcAddr {
		if p2pAddr, err = resolveListen(""); err != nil {
			return nil, err
		}
	}

	c := cfg.DefaultConfig()
	c.SetRoot(home)
	c.Moniker = opt.Moniker
	if c.Moniker == "" {
		c.Moniker = filepath.Base(home)
	}
	c.LogLevel = opt.LogLevel
	if c.LogLevel == "" {
		c.LogLevel = DefaultLogLevel
	}
	c.DBBackend = "goleveldb" // pure Go: lz builds with CGO_ENABLED=0
	c.ProxyApp = "lianzheng-embedded"
	c.ABCI = "local"
	c.RPC.ListenAddress = "tcp://" + rpcAddr
	c.RPC.CORSAllowedOrigins = nil
	c.P2P.ListenAddress = "tcp://" + p2pAddr
	c.P2P.PersistentPeers = strings.Join(opt.PersistentPeers, ",")
	// A consortium's validators are all named in persistent_peers, so peer exchange adds
	// nothing. It is off because its address book is saved by a goroutine that outlives
	// node.Stop (CometBFT v0.38 offers no way to wait for it): with it on, config/addrbook.json
	// could be written after Stop returned, racing whoever removes or copies the home.
	c.P2P.PexReactor = false
	if opt.Loopback {
		c.P2P.AddrBookStrict = false
		c.P2P.AllowDuplicateIP = true
	}
	c.Consensus.CreateEmptyBlocks = true
	c.Consensus.CreateEmptyBlocksInterval = opt.EmptyBlocksInterval
	ApplyTiming(c, opt.Timing)
	c.Mempool.MaxTxBytes = ledger.MaxTxBytes
	// No recheck of the whole mempool after every block: a transaction a block made invalid
	// (its key revoked, its signer removed) stays until a proposer includes it, and then
	// fails in FinalizeBlock, which re-validates every transaction anyway. Rechecking cost
	// every validator a CheckTx per pending transaction per block, under the mempool lock.
	c.Mempool.Recheck = false
	c.TxIndex.Indexer = "kv" // clients confirm transactions by hash (/tx)
	c.Instrumentation.Prometheus = false
	if err := c.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("ledger: config: %w", err)
	}
	if err := writeConfig(c); err != nil {
		return nil, err
	}

	nk, err := p2p.LoadOrGenNodeKey(c.NodeKeyFile())
	if err != nil {
		return nil, fmt.Errorf("ledger: node key: %w", err)
	}
	pv, err := loadOrGenFilePV(c)
	if err != nil {
		return nil, err
	}
	pub, err := pv.GetPubKey()
	if err != nil {
		return nil, fmt.Errorf("ledger: validator key: %w", err)
	}
	return &HomeInfo{
		Home:            home,
		NodeID:          string(nk.ID()),
		P2PAddress:      p2pAddr,
		RPCAddress:      rpcAddr,
		ValidatorPubKey: pub.Bytes(),
	}, nil
}

// loadOrGenFilePV is privval.LoadOrGenFilePV with errors instead of panics (it exits the
// process on a corrupt file) and private file modes.
func loadOrGenFilePV(c *cfg.Config) (pv *privval.FilePV, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("ledger: validator key: %v", r)
		}
	}()
	keyFile, stateFile := c.PrivValidatorKeyFile(), c.PrivValidatorStateFile()
	if _, statErr := os.Stat(keyFile); statErr == nil {
		if _, err := readJSONCheck(keyFile); err != nil {
			return nil, err
		}
		if _, err := readJSONCheck(stateFile); err != nil {
			return nil, err
		}
	}
	pv = privval.LoadOrGenFilePV(keyFile, stateFile)
	for _, f := range []string{keyFile, stateFile, c.NodeKeyFile()} {
		_ = os.Chmod(f, 0o600)
	}
	return pv, nil
}

// readJSONCheck reads a JSON file and reports a clear error when it is not JSON (CometBFT's
// own loaders call os.Exit on that).
func readJSONCheck(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("ledger: %s is not valid JSON", path)
	}
	return b, nil
}

func writeConfig(c *cfg.Config) (err error) {
	defer func() { // cfg.WriteConfigFile panics on I/O errors
		if r := recover(); r != nil {
			err = fmt.Errorf("ledger: write config: %v", r)
		}
	}()
	cfg.WriteConfigFile(filepath.Join(c.RootDir, cfg.DefaultConfigDir, "config.toml"), c)
	return nil
}

// ConfigFile is the path of a home's config.toml.
func ConfigFile(home string) string {
	return filepath.Join(home, cfg.DefaultConfigDir, "config.toml")
}

// GenesisFile is the path of a home's genesis.json.
func GenesisFile(home string) string {
	return filepath.Join(home, cfg.DefaultConfigDir, "genesis.json")
}

// AppDBDir is the directory of the application's state store inside a home.
func AppDBDir(home string) string {
	return filepath.Join(home, cfg.DefaultDataDir, "app")
}

// LoadConfig reads a home's config.toml the way the cometbft command does (viper), on top
// of CometBFT's defaults, and validates it.
func LoadConfig(home string) (*cfg.Config, error) {
	home, err := filepath.Abs(home)
	if err != nil {
		return nil, err
	}
	path := ConfigFile(home)
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("ledger: %s: no config.toml (run `lz ledger init --home %s` first)", home, home)
		}
		return nil, fmt.Errorf("ledger: %w", err)
	}
	v := viper.New()
	v.SetConfigFile(path)
	v.SetConfigType("toml")
	if err := v.ReadInConfig(); err != nil {
		return nil, fmt.Errorf("ledger: read %s: %w", path, err)
	}
	c := cfg.DefaultConfig()
	if err := v.Unmarshal(c); err != nil {
		return nil, fmt.Errorf("ledger: parse %s: %w", path, err)
	}
	c.SetRoot(home)
	if err := c.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("ledger: %s: %w", path, err)
	}
	return c, nil
}

// GenesisValidator makes the genesis entry of a validator key.
func GenesisValidator(name string, pubKey []byte, power int64) (cmttypes.GenesisValidator, error) {
	if len(pubKey) != ed25519.PubKeySize {
		return cmttypes.GenesisValidator{}, fmt.Errorf("ledger: validator %s: key is %d bytes, want %d", name, len(pubKey), ed25519.PubKeySize)
	}
	pk := ed25519.PubKey(append([]byte(nil), pubKey...))
	return cmttypes.GenesisValidator{Address: pk.Address(), PubKey: pk, Power: power, Name: name}, nil
}

// MemberValidators returns the genesis validators named by the members' Validator keys, in
// member order. Members without a validator key are skipped.
func MemberValidators(members []ledger.Member) ([]cmttypes.GenesisValidator, error) {
	var out []cmttypes.GenesisValidator
	for _, m := range members {
		if m.Validator == "" {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(m.Validator)
		if err != nil {
			return nil, fmt.Errorf("ledger: member %s: validator key: %w", m.ID, err)
		}
		power := m.Power
		if power <= 0 {
			return nil, fmt.Errorf("ledger: member %s: validator power must be positive", m.ID)
		}
		v, err := GenesisValidator(m.ID, raw, power)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// NewGenesis builds the genesis document: the validators are the members' validator keys
// and app_state is the canonical JSON of state.
func NewGenesis(chainID string, genesisTime time.Time, state *ledger.GenesisState) (*cmttypes.GenesisDoc, error) {
	vals, err := MemberValidators(state.Members)
	if err != nil {
		return nil, err
	}
	if len(vals) == 0 {
		return nil, fmt.Errorf("ledger: genesis: no member has a validator key")
	}
	appState, err := json.Marshal(state)
	if err != nil {
		return nil, fmt.Errorf("ledger: genesis: %w", err)
	}
	cp := cmttypes.DefaultConsensusParams()
	cp.Block.MaxBytes = 4 << 20 // ample for MaxTxBytes transactions, small enough for 2 cores
	doc := &cmttypes.GenesisDoc{
		GenesisTime:     genesisTime.UTC(),
		ChainID:         chainID,
		InitialHeight:   1,
		ConsensusParams: cp,
		Validators:      vals,
		AppState:        appState,
	}
	if err := doc.ValidateAndComplete(); err != nil {
		return nil, fmt.Errorf("ledger: genesis: %w", err)
	}
	return doc, nil
}

// WriteGenesis writes genesis.json into a home.
func WriteGenesis(home string, doc *cmttypes.GenesisDoc) error {
	if err := doc.SaveAs(GenesisFile(home)); err != nil {
		return fmt.Errorf("ledger: write genesis: %w", err)
	}
	return nil
}

// ReadGenesis reads a home's genesis.json and decodes its app_state.
func ReadGenesis(home string) (*cmttypes.GenesisDoc, *ledger.GenesisState, error) {
	doc, err := cmttypes.GenesisDocFromFile(GenesisFile(home))
	if err != nil {
		return nil, nil, fmt.Errorf("ledger: %w", err)
	}
	var st ledger.GenesisState
	if err := json.Unmarshal(doc.AppState, &st); err != nil {
		return nil, nil, fmt.Errorf("ledger: genesis app_state: %w", err)
	}
	return doc, &st, nil
}
