// Package wallet is the citizen's side, headless: sealed keys (internal/keystore), a
// crash-safe credential store, OpenID4VCI receiving, status checks against the ledger,
// consented in-person presentation (LZ1Q request → LZ1R response, or one-way LZ1W),
// the access history with ledger-anchored receipts, and encrypted backups. See
// docs/wallet.md.
package wallet

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"lianzheng/credential"
	"lianzheng/internal/bilingual"
	"os"
	"path/filepath"
	"sync"
	"time"

	"lianzheng/did"
	"lianzheng/internal/keystore"
	"lianzheng/ledger"
	"lianzheng/ledgerclient"
)

// Ledger is what the wallet reads from the consortium ledger: verified state (the online
// client or a verified trust snapshot).
type Ledger = ledgerclient.TrustView

// Anchors reads a window's receipt anchors (the online ledgerclient.Client has them).
type Anchors interface {
	AnchorSeq(ctx context.Context, window string) (uint64, error)
	Anchor(ctx context.Context, window string, seq uint64) (*ledger.Anchor, error)
}

// Wallet is an opened wallet home.
type Wallet struct {
	Home  string
	Keys  *keystore.Store
	Store *Store
	// Ledger must be set before receiving, checking status or presenting.
	Ledger Ledger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Foreign opens the light client of another region from the home ledger's agreement about
	// it (default ledgerclient.Foreign over the agreement's nodes, failing over): a window of another
	// region is looked up there (region.go).
	Foreign func(rec *ledger.Recognition) (*ledgerclient.Client, error)

	recv sync.Mutex // one receive, resume or key sweep at a time

	foreignMu sync.Mutex
	foreign   map[string]*ledgerclient.Client // other regions' light clients, by agreement (region.go)
}

// Options for Init/Open.
type Options struct {
	Keystore *keystore.Options
}

func keyDir(home string) string { return filepath.Join(home, "keys") }

// Init creates a wallet in home sealed with pin (6 digits or a passphrase) and returns it
// unlocked.
func Init(home, pin string, o *Options) (*Wallet, error) {
	if o == nil {
		o = &Options{}
	}
	if keystore.Exists(keyDir(home)) {
		return nil, fmt.Errorf("wallet: %s already holds a wallet", home)
	}
	ks, err := keystore.Init(keyDir(home), pin, o.Keystore)
	if err != nil {
		return nil, err
	}
	st, err := OpenStore(home)
	if err != nil {
		ks.Close()
		return nil, err
	}
	st.crypt = ks
	return &Wallet{Home: home, Keys: ks, Store: st, Now: time.Now}, nil
}

// Open opens the wallet in home, locked (call Unlock).
func Open(home string, o *Options) (*Wallet, error) {
	if o == nil {
		o = &Options{}
	}
	ks, err := keystore.Open(keyDir(home), o.Keystore)
	if err != nil {
		return nil, fmt.Errorf("wallet: %s: no wallet (run lz wallet init): %w", home, err)
	}
	st, err := OpenStore(home)
	if err != nil {
		ks.Close()
		return nil, err
	}
	st.crypt = ks // records are readable once the keystore is unlocked
	return &Wallet{Home: home, Keys: ks, Store: st, Now: time.Now}, nil
}

// Unlock unlocks the keystore.
func (w *Wallet) Unlock(pin string) error { return w.Keys.Unlock(pin) }

// Close locks and closes the wallet.
func (w *Wallet) Close() error {
	err := w.Store.Close()
	if e := w.Keys.Close(); err == nil {
		err = e
	}
	return err
}

func (w *Wallet) now() time.Time {
	if w.Now == nil {
		return time.Now()
	}
	return w.Now()
}

func (w *Wallet) ledger() (Ledger, error) {
	if w.Ledger == nil {
		return nil, errors.New("wallet: no ledger connection (needed to check issuers, windows and status)")
	}
	return w.Ledger, nil
}

func newID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Refusal is an error the citizen sees: a reason code from the module's one set
// (credential.Code; its general message is credential.Message) and this case's own message in
// both languages (which may name the credential type, the window or the status). Msg is
// plain words for people; the technical cause, if any, is Detail (never shown but on demand).
type Refusal struct {
	Code   credential.Code
	Msg    bilingual.Text
	Detail string
}

func (r *Refusal) Error() string {
	s := "wallet: " + string(r.Code) + ": " + r.Msg.String()
	if r.Detail != "" {
		s += ": " + r.Detail
	}
	return s
}

// refuseCause is a refusal whose technical cause goes to Detail, not into the words.
func refuseCause(code credential.Code, zh, en string, cause error) *Refusal {
	r := refuseText(code, zh, en)
	if cause != nil {
		r.Detail = cause.Error()
	}
	return r
}

func refuse(code credential.Code, zh, en string, args ...any) *Refusal {
	return &Refusal{Code: code, Msg: bilingual.Text{Zh: fmt.Sprintf(zh, args...), En: fmt.Sprintf(en, args...)}}
}

func refuseText(code credential.Code, zh, en string) *Refusal {
	return &Refusal{Code: code, Msg: bilingual.Text{Zh: zh, En: en}}
}

// resolver is the DID resolver over the ledger (did:lz) and did:key.
func resolver(l Ledger) did.Resolver { return did.MultiResolver{LZ: l} }

// checkAuthorised refuses a credential whose issuer is not authorised on the ledger
// catalogue for its vct; it returns the catalogue type.
func checkAuthorised(ctx context.Context, l Ledger, vct, iss string) (*ledger.CredentialType, error) {
	t, err := l.TypeByVCT(ctx, vct)
	if errors.Is(err, ledgerclient.ErrNotFound) {
		return nil, refuseCause(credential.CodeUnknownType, "凭证类型不在联盟链目录中，已拒收", "the credential type is not in the ledger catalogue; refused", fmt.Errorf("vct %s", vct))
	}
	if err != nil {
		return nil, fmt.Errorf("wallet: catalogue: %w", err)
	}
	for _, id := range t.Issuers {
		m, err := l.Member(ctx, id)
		if err == nil && m.DID == iss {
			return t, nil
		}
		if err != nil && ledgerUnavailable(err) { // not "not authorised": unknown yet
			return nil, fmt.Errorf("wallet: catalogue member %s: %w", id, err)
		}
	}
	return nil, refuseCause(credential.CodeIssuerNotAuthorised,
		fmt.Sprintf("签发机构未获链上目录授权签发“%s”，已拒收", t.Name.Zh),
		fmt.Sprintf("the issuer is not authorised on the ledger catalogue to issue %q; refused", t.Name.En), fmt.Errorf("issuer %s", iss))
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
