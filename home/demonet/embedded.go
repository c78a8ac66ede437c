package demonet

import (
	"fmt"
	"os"
	"time"

	ledgernode "lianzheng/ledger/node"
)

// EmbeddedChainID is the default chain id of an embedded demo ledger.
const EmbeddedChainID = "lianzheng-demo"

// EmbeddedValidator is the department on whose behalf the single validator of an embedded
// demo node signs blocks (the other departments are members without a validator).
const EmbeddedValidator = "public-security"

// EmbeddedOptions configure InitEmbedded.
type EmbeddedOptions struct {
	ChainID string // default EmbeddedChainID
	// RPCListen, P2PListen: host:port; empty picks free ports on 127.0.0.1.
	RPCListen, P2PListen string
	// EmptyBlocksInterval: heartbeat block interval when idle (default 2 s; negative: none).
	EmptyBlocksInterval time.Duration
	LogLevel            string
	Now                 time.Time // genesis time (default now)
	// PublicBaseURL is the consortium's public base URL in the genesis params ("" none).
	PublicBaseURL string
	// IDPrefix makes another region's consortium (NewRegionConsortium): every department
	// and window id gets it. Its validator is IDPrefix+EmbeddedValidator.
	IDPrefix string
	// Edit, if set, changes the consortium before its genesis is written (names, types,
	// service items of another region; tests). The result must still validate.
	Edit func(*Consortium) error
}

// IsHome reports whether dir already holds a node home with its genesis.
func IsHome(dir string) bool {
	_, err := os.Stat(ledgernode.GenesisFile(dir))
	return err == nil
}

// InitEmbedded makes a complete single-validator demo home in one call: config.toml with fast
// local timeouts and free loopback ports, keys, genesis.json with the demo consortium, and
// the unsealed demo keys of every department and window under <home>/demo-keys. It refuses
// a directory that already holds a genesis (ErrExists).
func InitEmbedded(home string, opt EmbeddedOptions) (*Consortium, *ledgernode.HomeInfo, error) {
	if IsHome(home) {
		return nil, nil, fmt.Errorf("demonet: %s: %w", home, ErrExists)
	}
	if opt.ChainID == "" {
		opt.ChainID = EmbeddedChainID
	}
	if opt.EmptyBlocksInterval == 0 {
		opt.EmptyBlocksInterval = 2 * time.Second
	} else if opt.EmptyBlocksInterval < 0 {
		opt.EmptyBlocksInterval = 0
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	info, err := ledgernode.InitHome(home, ledgernode.HomeOptions{
		Moniker: "lianzheng-embedded", RPCListen: opt.RPCListen, P2PListen: opt.P2PListen,
		Timing: ledgernode.TimingEmbedded, EmptyBlocksInterval: opt.EmptyBlocksInterval, LogLevel: opt.LogLevel,
	})
	if err != nil {
		return nil, nil, err
	}
	c, err := NewRegionConsortium(opt.ChainID, opt.Now, map[string][]byte{EmbeddedValidator: info.ValidatorPubKey}, opt.IDPrefix)
	if err != nil {
		return nil, nil, err
	}
	c.State.Params.PublicBaseURL = opt.PublicBaseURL
	if opt.Edit != nil {
		if err := opt.Edit(c); err != nil {
			return nil, nil, fmt.Errorf("demonet: edit: %w", err)
		}
		if err := c.State.Validate(); err != nil {
			return nil, nil, fmt.Errorf("demonet: edited genesis: %w", err)
		}
	}
	if err := c.Install([]string{info.Home}, KeyDir(info.Home)); err != nil {
		return nil, nil, err
	}
	return c, info, nil
}
