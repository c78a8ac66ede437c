package wallet

// Presenting at another region's window (跨区域互认). A window's request names its did:lz;
// when the wallet's home ledger does not register it, the wallet follows its home's
// mutual-recognition agreements (ledger/recognition.go) to the other regions' ledgers —
// each through a light client rooted in the agreement — and takes the window's registration
// from the region that holds it. That region's own agreement about the home region says which
// of the holder's credential types it accepts as which of its own, at which service items,
// and how claims named differently map; the consent screen then offers exactly those. Every
// read is proven on the ledger it comes from; nothing about the holder is sent to read it.

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"lianzheng/ledger"
	"lianzheng/ledgerclient"
)

// region is the other region a window belongs to, as the wallet reached it.
type region struct {
	rec  ledger.Recognition  // the home ledger's agreement about it
	back *ledger.Recognition // its agreement about the home region
}

// accepts reports whether a held credential of the home type is accepted as the window's
// type at item, with the renamings (the window's claim name → the credential's).
func (g *region) accepts(home, want, item string) (bool, map[string]string) {
	if g == nil {
		return home == want, nil
	}
	t, ok := g.back.Type(home)
	if !ok || t.AcceptedAs != want || !slices.Contains(t.ServiceItems, item) {
		return false, nil
	}
	rn := map[string]string{}
	for _, c := range t.Claims {
		rn[c.Ours] = c.Theirs
	}
	return true, rn
}

// windowLedger is the ledger that registers window (a did:lz): the home ledger, or another
// region's reached through the home's agreements (then with that region).
func (w *Wallet) windowLedger(ctx context.Context, home Ledger, window string) (Ledger, *region, error) {
	hc, ok := home.(*ledgerclient.Client)
	if !ok { // offline (a snapshot): only the home region's windows are known
		return home, nil, nil
	}
	_, err := hc.Window(ctx, window)
	if err == nil || !errors.Is(err, ledgerclient.ErrNotFound) {
		return home, nil, err
	}
	recs, rerr := hc.Recognitions(ctx)
	if rerr != nil {
		return home, nil, err
	}
	now := w.now()
	for i := range recs {
		rec := &recs[i]
		if !rec.InForce(now) {
			continue
		}
		c, oerr := w.foreignClient(rec)
		if oerr != nil {
			continue
		}
		if _, werr := c.Window(ctx, window); werr != nil {
			continue
		}
		back, berr := ledgerclient.AgreementAbout(ctx, c, hc, now)
		if berr != nil {
			back = &ledger.Recognition{} // it recognises nothing of ours: no candidates
		}
		return c, &region{rec: *rec, back: back}, nil
	}
	return home, nil, err
}

// foreignClient is the light client of the region rec names, kept while the agreement's chain
// part and nodes stay the same (a new one would verify the other chain's headers from its
// root again at every plan).
func (w *Wallet) foreignClient(rec *ledger.Recognition) (*ledgerclient.Client, error) {
	key, err := json.Marshal([]any{rec.Region, rec.ChainID, rec.GenesisSHA256, rec.InitialHeight, rec.Validators, rec.Nodes})
	if err != nil {
		return nil, err
	}
	w.foreignMu.Lock()
	defer w.foreignMu.Unlock()
	if c, ok := w.foreign[string(key)]; ok {
		return c, nil
	}
	open := w.Foreign
	if open == nil {
		open = func(rec *ledger.Recognition) (*ledgerclient.Client, error) {
			return ledgerclient.Foreign(rec, ledgerclient.Config{}, nil)
		}
	}
	c, err := open(rec)
	if err != nil {
		return nil, err
	}
	if w.foreign == nil {
		w.foreign = map[string]*ledgerclient.Client{}
	}
	w.foreign[string(key)] = c
	return c, nil
}

// didOf is the DID of a DID URL (did:lz:x#key-1 → did:lz:x).
func didOf(kid string) string {
	d, _, _ := strings.Cut(kid, "#")
	return d
}
