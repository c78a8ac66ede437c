package wallet

// Where a credential is recognised (跨区域互认). A credential is issued in the wallet's home
// region; other regions accept it where their consortium recorded, by governance, an
// agreement recognising its type — and the home consortium one about them (the agreements
// are mutual: ledger/recognition.go). The wallet reads both with proofs: the home ledger's
// agreements name the other regions and are the roots of their light clients; each other
// region's ledger says whether its agreement about home is in force and lists the type, and
// at which of its service items (ledgerclient.RecognisedIn). Nothing about the holder is sent
// anywhere: the wallet reads public registries only, and by type, never by credential.

import (
	"context"
	"errors"
	"fmt"

	"lianzheng/ledger"
	"lianzheng/ledgerclient"
)

// ErrNeedsOnlineLedger: the question needs the home ledger online (a proof-checking
// ledgerclient.Client), not a snapshot.
var ErrNeedsOnlineLedger = errors.New("wallet: reading other regions needs the home ledger online")

// RecognisedIn lists the other regions where the held credential id is recognised now. open
// makes the light client of a region from the home ledger's agreement (nil:
// ledgerclient.Foreign over the agreement's nodes, failing over). Regions that could not be read come
// back in the error beside the others.
func (w *Wallet) RecognisedIn(ctx context.Context, id string, open func(rec *ledger.Recognition) (*ledgerclient.Client, error)) ([]ledgerclient.Recognised, error) {
	c, err := w.Store.Credential(id)
	if err != nil {
		return nil, err
	}
	home, ok := w.Ledger.(*ledgerclient.Client)
	if !ok {
		return nil, ErrNeedsOnlineLedger
	}
	if open == nil {
		open = func(rec *ledger.Recognition) (*ledgerclient.Client, error) {
			return ledgerclient.Foreign(rec, ledgerclient.Config{}, nil)
		}
	}
	out, err := ledgerclient.RecognisedIn(ctx, home, c.Type, w.now(), open)
	if err != nil {
		return out, fmt.Errorf("wallet: where %s is recognised: %w", c.Type, err)
	}
	return out, nil
}
