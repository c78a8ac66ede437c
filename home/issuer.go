package home

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"lianzheng/home/demonet"
	"lianzheng/internal/keystore"
	"lianzheng/issuer"
	"lianzheng/issuer/oid4vci"
	"lianzheng/ledger"
	"lianzheng/ledgerclient"
)

// ErrNoKeyStore reports a key rotation asked of a department without a sealed key store
// (a demo department signs with its demo key).
var ErrNoKeyStore = errors.New("this department has no sealed key store")

// Department is a department's issuing service: the issuer core (catalogue authorisation,
// schemas, records, status on the ledger) and, once Serve is called, its OpenID4VCI service.
// Its methods are what the department's screens and commands call.
type Department struct {
	core *issuer.Department
	log  *slog.Logger

	// a department's own home (OpenIssuer); nil/empty in a demo home
	dir    string
	cfg    *issuerConfig
	ks     *keystore.Store
	client *ledgerclient.Client
	gwStop func() // stops the department home's gateway loop (withGateway)
	// ledger reads governance results (a demo department's too, which has no client of
	// its own: the demo home's)
	reads *ledgerclient.Client

	mu  sync.Mutex
	url string // credential issuer identifier
	svc *Service
	ctl *control // the control socket of a department's own home, while it serves
}

// issuerConfig is a department home's issuer.json.
type issuerConfig struct {
	ID          string `json:"id"`
	KeyID       string `json:"key_id"`       // DID URL on the ledger
	KeystoreKID string `json:"keystore_kid"` // key id inside the sealed key store
	Node        string `json:"node"`
	IssuerURL   string `json:"issuer_url"`
}

func configFile(dir string) string { return filepath.Join(dir, "issuer.json") }

func (c *issuerConfig) write(dir string) error {
	b, _ := json.MarshalIndent(c, "", "  ")
	return os.WriteFile(configFile(dir), append(b, '\n'), 0o600)
}

// IssuerOptions open a department's own home.
type IssuerOptions struct {
	Passphrase string // unlocks the sealed key store
	Node       string // the ledger node's RPC address (default: the one recorded at init)
	Log        *slog.Logger
}

// IssuerInit is what InitIssuer makes a department's home from.
type IssuerInit struct {
	// Key is the department's DID key, registered on the ledger. It is sealed into the home's
	// key store; a demo consortium hands it out as a demo key file (demonet.LoadKey).
	Key        *demonet.DemoKey
	Genesis    string // the consortium's genesis.json, copied into the home as its trust root
	Node       string // the ledger node's RPC address
	IssuerURL  string // the URL wallets reach the department's issuance service at
	Passphrase string // seals the key store
}

// InitIssuer makes a department's own home in dir — its trust root (a copy of the consortium
// genesis), the key store sealed with the passphrase holding the department's key, and
// issuer.json — then opens it against the ledger, so that a wrong key or node shows at once.
func InitIssuer(ctx context.Context, dir string, in IssuerInit) (*Department, error) {
	if in.Key == nil || in.Genesis == "" || in.Node == "" {
		return nil, errors.New("home: an issuer home needs the department key, the genesis and a node")
	}
	if _, err := os.Stat(configFile(dir)); err == nil {
		return nil, fmt.Errorf("%s is already an issuer home", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	g, err := os.ReadFile(in.Genesis)
	if err != nil {
		return nil, err
	}
	if _, err := ledgerclient.GenesisRoot(g); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "genesis.json"), g, 0o600); err != nil {
		return nil, err
	}
	ks, err := keystore.Init(filepath.Join(dir, "keystore"), in.Passphrase, nil)
	if err != nil {
		return nil, err
	}
	kid, err := ks.ImportEd25519(in.Key.PrivateKey())
	ks.Close()
	if err != nil {
		return nil, err
	}
	cfg := issuerConfig{ID: in.Key.ID, KeyID: in.Key.KeyID, KeystoreKID: kid, Node: in.Node,
		IssuerURL: strings.TrimRight(in.IssuerURL, "/")}
	if err := cfg.write(dir); err != nil {
		return nil, err
	}
	d, err := OpenIssuer(ctx, dir, IssuerOptions{Passphrase: in.Passphrase})
	if err != nil {
		return nil, fmt.Errorf("home written, but the department does not open against the ledger: %w", err)
	}
	return d, nil
}

// OpenIssuer opens the department home in dir (made by InitIssuer): it unlocks the sealed key
// store, connects to the ledger (trusting only the home's genesis) and opens the issuer core
// on the home's records. Close releases everything.
func OpenIssuer(ctx context.Context, dir string, o IssuerOptions) (*Department, error) {
	b, err := os.ReadFile(configFile(dir))
	if err != nil {
		return nil, fmt.Errorf("not an issuer home (run lz issuer init): %w", err)
	}
	var cfg issuerConfig
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, err
	}
	if o.Node != "" {
		cfg.Node = o.Node
	}
	ks, err := keystore.Open(filepath.Join(dir, "keystore"), nil)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Department, error) { ks.Close(); return nil, err }
	if err := ks.Unlock(o.Passphrase); err != nil {
		return fail(err)
	}
	signer, err := ks.Signer(cfg.KeystoreKID)
	if err != nil {
		return fail(err)
	}
	cl, err := Ledger{Genesis: filepath.Join(dir, "genesis.json"), Node: cfg.Node}.Dial()
	if err != nil {
		return fail(err)
	}
	core, err := issuer.Open(ctx, issuer.Config{ID: cfg.ID, Signer: signer, KeyID: cfg.KeyID, Ledger: cl,
		DBPath: filepath.Join(dir, "issuer.db"), Sealer: ks})
	if err != nil {
		return fail(err)
	}
	return &Department{core: core, log: logger(o.Log).With("department", cfg.ID), dir: dir, cfg: &cfg, ks: ks,
		client: cl, reads: cl, url: cfg.IssuerURL}, nil
}

// Core is the issuer core.
func (d *Department) Core() *issuer.Department { return d.core }

// ID is the department's member id.
func (d *Department) ID() string { return d.core.ID }

// IssuerURL is the credential issuer identifier its offers name: the issuance service's URL.
func (d *Department) IssuerURL() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.url
}

// OfferURI renders an offer of this department's issuance service (by value).
func (d *Department) OfferURI(o *issuer.Offer) string { return oid4vci.OfferURI(d.IssuerURL(), o) }

// ServeOptions tune a department's issuance service.
type ServeOptions struct {
	// IssuerURL is the credential issuer identifier wallets reach the service at (default: the
	// one recorded in the department's home, else http://<the bound address>).
	IssuerURL      string
	MaxPINAttempts int // wrong PINs that block an offer (default issuer.DefaultPINAttempts)
}

// Serve starts the department's OpenID4VCI service on addr (host:port; port 0 picks one) and
// returns once it listens. On a department's own home it also listens on the home's control
// socket, so that the clerk's commands run in the service while it runs (control.go). Close
// stops both.
func (d *Department) Serve(addr string, o ServeOptions) (*Service, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.svc != nil {
		return nil, fmt.Errorf("home: %s already serves at %s", d.core.ID, d.svc.Addr())
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	url := strings.TrimRight(o.IssuerURL, "/")
	if url == "" {
		url = d.url
	}
	if url == "" {
		url = "http://" + ln.Addr().String()
	}
	srv := &oid4vci.Server{Dept: d.core, IssuerURL: url, MaxPINAttempts: o.MaxPINAttempts, Log: d.log}
	h, err := d.withGateway(srv.Handler())
	if err != nil {
		ln.Close()
		return nil, err
	}
	d.svc = serve(ln, h, d.log)
	d.url = url
	d.log.Info("issuer service", "did", d.core.DID, "listen", d.svc.Addr(), "issuer", url)
	if d.dir != "" {
		d.ctl = d.serveControl()
	}
	return d.svc, nil
}

// Types are the credential types the catalogue lets this department issue.
func (d *Department) Types(ctx context.Context) ([]ledger.CredentialType, error) {
	return d.core.Types(ctx)
}

// Check validates a form (*issuer.ValidationError lists the fields in error).
func (d *Department) Check(ctx context.Context, r issuer.Request) error { return d.core.Check(ctx, r) }

// OfferResult is what the department shows the citizen: the offer as QR text and PNG, and
// the PIN told separately.
type OfferResult struct {
	ID      string // the offer's id (issuer.PendingOffer.ID)
	Type    string // credential type id
	Text    string
	PNG     []byte
	PIN     string
	Expires time.Time
}

// Offer creates a pre-authorised offer (issuer core) and renders it as the OpenID4VCI offer
// URI and QR of the department's service.
func (d *Department) Offer(ctx context.Context, r issuer.Request) (*OfferResult, error) {
	o, err := d.core.CreateOffer(ctx, r, 0)
	if err != nil {
		return nil, err
	}
	url := d.IssuerURL()
	png, err := oid4vci.OfferQR(url, o)
	if err != nil {
		return nil, err
	}
	return &OfferResult{ID: o.ID, Type: o.Type, Text: oid4vci.OfferURI(url, o), PNG: png, PIN: o.PIN, Expires: o.Expires}, nil
}

// Records lists the department's issuance records (no claim values).
func (d *Department) Records(ctx context.Context) ([]issuer.Record, error) {
	return d.core.Records(ctx, issuer.ListFilter{})
}

// SetStatus suspends, resumes or revokes a record's credential on the ledger.
func (d *Department) SetStatus(ctx context.Context, id, action string) error {
	_, _, err := d.core.SetStatus(ctx, id, action)
	return err
}

// BatchJob is a batch to issue from a CSV file (a header of claim names, optionally a holder
// column of did:key): its type, the input file and the result file (created for a new batch;
// a resumed batch continues its own, named in the result).
type BatchJob struct {
	Type     string        `json:"type"`
	In       string        `json:"in"`
	Out      string        `json:"out"`
	OfferTTL time.Duration `json:"offer_ttl,omitempty"` // offers' lifetime (default 24 h)
}

// BatchOfferTTL is how long a batch's offers can be redeemed unless the job says otherwise.
const BatchOfferTTL = 24 * time.Hour

// Batch issues the job's CSV file as a batch (issuer.Department.RunBatch: every row checked
// first, then streamed through all cores in bounded transactions, resumed after an
// interruption by running it again) and writes the result CSV (offers rendered as this
// service's offer URIs). progress is called from the calling goroutine.
func (d *Department) Batch(ctx context.Context, job BatchJob, progress func(issuer.BatchProgress)) (*issuer.BatchResult, error) {
	if job.OfferTTL <= 0 {
		job.OfferTTL = BatchOfferTTL
	}
	return d.core.RunBatch(ctx, job.Type, job.In, job.Out, issuer.BatchOptions{OfferTTL: job.OfferTTL, Progress: progress, OfferURI: d.OfferURI})
}

// BulkJob is a bulk status change: an action (issuer.ActionSuspend, ActionResume,
// ActionRevoke) on every record of a batch, or on the records with the given ids.
type BulkJob struct {
	Action  string   `json:"action"`
	BatchID string   `json:"batch_id,omitempty"`
	IDs     []string `json:"ids,omitempty"`
}

// BulkStatus applies a bulk status change (issuer.Department.BulkSetStatus: as few ledger
// transactions as the records' lists allow, resumed if interrupted).
func (d *Department) BulkStatus(ctx context.Context, job BulkJob, progress func(issuer.BulkProgress)) (*issuer.BulkResult, error) {
	sel := issuer.BulkSelection{BatchID: job.BatchID}
	if job.BatchID == "" {
		sel.IDs = slices.Values(job.IDs)
	}
	return d.core.BulkSetStatus(ctx, sel, job.Action, progress)
}

// Batches lists the department's batches, newest first.
func (d *Department) Batches(ctx context.Context) ([]issuer.BatchInfo, error) {
	return d.core.Batches(ctx, 100)
}

// BatchStates counts a batch's records by state.
func (d *Department) BatchStates(ctx context.Context, batchID string) (map[string]int, error) {
	return d.core.BatchStates(ctx, batchID)
}

// Rotate gives the department a new signing key, made in its sealed key store and
// registered on the ledger (issuer.Department.Rotate), and records it in issuer.json — also
// when revoking the old key then fails. Only a department's own home has a key store to
// rotate in (ErrNoKeyStore).
func (d *Department) Rotate(ctx context.Context, keepOld bool) (*issuer.Rotation, error) {
	if d.ks == nil {
		return nil, fmt.Errorf("home: %s: %w", d.core.ID, ErrNoKeyStore)
	}
	kid, err := d.ks.NewEd25519()
	if err != nil {
		return nil, err
	}
	next, err := d.ks.Signer(kid)
	if err != nil {
		return nil, err
	}
	rot, err := d.core.Rotate(ctx, next, keepOld)
	if rot != nil && rot.AddHeight > 0 {
		// The new key is on the ledger: record it even if revoking the old one failed.
		d.cfg.KeyID, d.cfg.KeystoreKID = rot.NewKeyID, kid
		if werr := d.cfg.write(d.dir); werr != nil {
			return rot, fmt.Errorf("new key %s registered but issuer.json not updated: %w", rot.NewKeyID, werr)
		}
	}
	return rot, err
}

// Close stops the control socket and the issuance service (waiting for them), then closes the
// records and the key store.
func (d *Department) Close() error {
	d.mu.Lock()
	svc, ctl, gwStop := d.svc, d.ctl, d.gwStop
	d.mu.Unlock()
	var errs []error
	if ctl != nil {
		errs = append(errs, ctl.Close())
	}
	if svc != nil {
		errs = append(errs, svc.Close())
	}
	if gwStop != nil {
		gwStop()
	}
	errs = append(errs, d.core.Close())
	if d.ks != nil {
		errs = append(errs, d.ks.Close())
	}
	return errors.Join(errs...)
}
