package home

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"lianzheng/credential/wire"
	"lianzheng/internal/keystore"
	"lianzheng/ledgerclient"
	"lianzheng/wallet"
)

// ErrLocked reports a wallet call before the wallet was set up or unlocked.
var ErrLocked = errors.New("wallet locked")

// Citizen is the citizen's wallet kept in a directory: created with a PIN (Setup) or opened
// with it (Unlock), reading the ledger through the view it was given. Its methods are what
// the citizen's screens and commands call.
type Citizen struct {
	dir    string
	ledger wallet.Ledger // the online client or a verified trust snapshot; nil: none
	ks     *keystore.Options
	// insecureHTTP: the demo's issuers listen on loopback http
	insecureHTTP bool

	mu     sync.Mutex
	w      *wallet.Wallet
	resume *resumeRun // the background resume started by the last unlock, if any
}

// resumeRun is a background ResumePending: interrupted receives are completed right after
// the wallet opens without holding up the unlock (the app cannot wait on an issuer).
type resumeRun struct {
	cancel context.CancelFunc
	done   chan struct{}
	report *wallet.ResumeReport // set before done is closed
	err    error
}

func (r *resumeRun) stop() {
	if r != nil {
		r.cancel()
		<-r.done
	}
}

// NewCitizen is the wallet in dir reading the ledger through l (the online ledger client or a
// verified trust snapshot; nil: none, and receiving, status checks and presenting fail), with
// o's key-store settings. Nothing is opened until Setup or Unlock.
func NewCitizen(dir string, l wallet.Ledger, o *Options) *Citizen {
	c := &Citizen{dir: dir, ledger: l}
	if o != nil {
		c.ks = o.Keystore
	}
	return c
}

// Core is the unlocked wallet core (ErrLocked before Setup or Unlock).
func (c *Citizen) Core() (*wallet.Wallet, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.w == nil {
		return nil, ErrLocked
	}
	return c.w, nil
}

// Ready reports whether the wallet exists and whether it is unlocked.
func (c *Citizen) Ready() (exists, unlocked bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return keystore.Exists(filepath.Join(c.dir, "keys")), c.w != nil
}

// Setup creates the wallet sealed with pin and leaves it unlocked.
func (c *Citizen) Setup(pin string) error {
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return err
	}
	w, err := wallet.Init(c.dir, pin, &wallet.Options{Keystore: c.ks})
	if err != nil {
		return err
	}
	c.opened(w)
	return nil
}

// Unlock opens the wallet with its PIN.
func (c *Citizen) Unlock(pin string) error {
	w, err := wallet.Open(c.dir, &wallet.Options{Keystore: c.ks})
	if err != nil {
		return err
	}
	if err := w.Unlock(pin); err != nil {
		w.Close()
		return err
	}
	c.opened(w)
	return nil
}

// opened publishes w: orphaned holder keys (of a receive killed before it recorded its key)
// are swept first, while nothing else can use the wallet, and interrupted receives are
// resumed in the background.
func (c *Citizen) opened(w *wallet.Wallet) {
	w.Ledger = c.ledger
	_, _ = w.SweepOrphanKeys() // best effort: it deletes nothing unless every record reads
	var run *resumeRun
	if w.HasPending() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		run = &resumeRun{cancel: cancel, done: make(chan struct{})}
		go func() {
			defer close(run.done)
			defer cancel()
			run.report, run.err = w.ResumePending(ctx, &wallet.ReceiveOptions{InsecureHTTP: c.insecureHTTP})
		}()
	}
	c.mu.Lock()
	old, oldRun := c.w, c.resume
	c.w, c.resume = w, run
	c.mu.Unlock()
	oldRun.stop()
	if old != nil {
		old.Close()
	}
}

// ResumePending completes the receives an interrupted run left (see wallet.ResumePending):
// it waits for the background resume started by Unlock and then tries once more, reporting
// both.
func (c *Citizen) ResumePending(ctx context.Context) (*wallet.ResumeReport, error) {
	w, err := c.Core()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	run := c.resume
	c.mu.Unlock()
	rep := &wallet.ResumeReport{}
	if run != nil {
		select {
		case <-run.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if run.report != nil {
			rep.Received = append(rep.Received, run.report.Received...)
			rep.Abandoned = append(rep.Abandoned, run.report.Abandoned...)
		}
	}
	if !w.HasPending() {
		return rep, nil
	}
	more, err := w.ResumePending(ctx, &wallet.ReceiveOptions{InsecureHTTP: c.insecureHTTP})
	if err != nil {
		return rep, err
	}
	rep.Received = append(rep.Received, more.Received...)
	rep.Abandoned = append(rep.Abandoned, more.Abandoned...)
	rep.Waiting = more.Waiting
	return rep, nil
}

// Close locks and closes the wallet (Unlock opens it again).
func (c *Citizen) Close() error {
	c.mu.Lock()
	w, run := c.w, c.resume
	c.w, c.resume = nil, nil
	c.mu.Unlock()
	run.stop() // an interrupted receive stays recorded: the next unlock resumes it
	if w == nil {
		return nil
	}
	return w.Close()
}

// List lists the credentials with their status.
func (c *Citizen) List(ctx context.Context) ([]wallet.Item, error) {
	w, err := c.Core()
	if err != nil {
		return nil, err
	}
	return w.List(ctx)
}

// Detail is one credential with its claims.
func (c *Citizen) Detail(ctx context.Context, id string) (*wallet.Item, error) {
	w, err := c.Core()
	if err != nil {
		return nil, err
	}
	return w.Detail(ctx, id)
}

// RecognisedIn lists the other regions where the credential is recognised (wallet
// RecognisedIn: the home ledger's agreements and each region's own, read with proofs).
func (c *Citizen) RecognisedIn(ctx context.Context, id string) ([]ledgerclient.Recognised, error) {
	w, err := c.Core()
	if err != nil {
		return nil, err
	}
	return w.RecognisedIn(ctx, id, nil)
}

// Receive redeems a credential offer with its PIN. A receive interrupted by a transient failure
// (errors.Is(err, wallet.ErrReceivePending)) is kept and continues at the next unlock or when
// the same offer is scanned again.
func (c *Citizen) Receive(ctx context.Context, offer, pin string) ([]*wallet.Credential, error) {
	w, err := c.Core()
	if err != nil {
		return nil, err
	}
	return w.Receive(ctx, offer, pin, &wallet.ReceiveOptions{InsecureHTTP: c.insecureHTTP})
}

// DescribeOffer says what a credential offer is (its types and the departments the ledger
// catalogue authorises to issue them), before its PIN is typed.
func (c *Citizen) DescribeOffer(ctx context.Context, offer string) (*wallet.OfferSummary, error) {
	w, err := c.Core()
	if err != nil {
		return nil, err
	}
	return w.DescribeOffer(ctx, offer, &wallet.ReceiveOptions{InsecureHTTP: c.insecureHTTP})
}

// PlanRequest reads a window's request and plans the answer for the consent screen.
func (c *Citizen) PlanRequest(ctx context.Context, text string) (*wallet.Plan, error) {
	w, err := c.Core()
	if err != nil {
		return nil, err
	}
	return w.PlanRequest(ctx, text)
}

// Present builds the consented answer.
func (c *Citizen) Present(ctx context.Context, p *wallet.Plan) (*wallet.Response, error) {
	w, err := c.Core()
	if err != nil {
		return nil, err
	}
	return w.Present(ctx, p, nil)
}

// History is the access history: who saw which fields, when and why.
func (c *Citizen) History() ([]wallet.HistoryEntry, error) {
	w, err := c.Core()
	if err != nil {
		return nil, err
	}
	return w.Store.History()
}

// ImportReceipt checks a window's receipt (LZ1E QR text, JSON or file contents) and attaches
// it to the matching access record, marking it verified when its anchor is found on the
// ledger (online only).
func (c *Citizen) ImportReceipt(ctx context.Context, text string) (*wallet.HistoryEntry, error) {
	w, err := c.Core()
	if err != nil {
		return nil, err
	}
	b, err := wire.ParseReceiptBundle([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", wallet.ErrReceiptInvalid, err)
	}
	anchors, _ := c.ledger.(wallet.Anchors)
	return w.ImportReceipt(ctx, b, anchors)
}

// Restore installs the backup into the (empty) wallet directory; the citizen then unlocks it.
func (c *Citizen) Restore(path, passphrase string) error {
	c.Close()
	return wallet.Restore(path, passphrase, c.dir)
}

// Backup writes an encrypted backup of the wallet to path.
func (c *Citizen) Backup(path, passphrase string) error {
	w, err := c.Core()
	if err != nil {
		return err
	}
	return w.Backup(path, passphrase)
}
