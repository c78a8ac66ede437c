package app

import (
	"context"

	"lianzheng/home"
	"lianzheng/issuer"
	"lianzheng/ledger"
	"lianzheng/ledgerclient"
	"lianzheng/verifier"
	"lianzheng/wallet"
)

// The screens are thin layers over the cores. These interfaces are exactly the core calls
// each role's screens make; the home package's services implement them (StartDemo binds them on
// the embedded demo ledger), the tests may bind fakes. No business logic lives in the screens.

// WindowCore is the window role (verifier.Verifier plus its trust view).
type WindowCore interface {
	// Items are the service items registered for this window on the ledger.
	Items(ctx context.Context) ([]ledger.ServiceItem, error)
	NewRequest(ctx context.Context, item string) (*verifier.Request, error)
	Verify(ctx context.Context, scanned string) *verifier.Verdict
	VerifyPNG(ctx context.Context, png []byte) *verifier.Verdict
	// Trust reports the trust data the verdicts rest on (age always shown); refresh=true
	// re-reads it from the ledger.
	Trust(ctx context.Context, refresh bool) (verifier.TrustInfo, error)
	// SaveSnapshot exports a fresh signed trust snapshot from the ledger to the window's
	// directory (what a window does while it is online, for the hours it may not be).
	SaveSnapshot(ctx context.Context) (verifier.TrustInfo, error)
	// SetOffline switches the verdicts to the saved snapshot (true) or back to the ledger.
	// Going offline fails, and nothing changes, when the snapshot is missing, forged or stale.
	SetOffline(ctx context.Context, offline bool) (verifier.TrustInfo, error)
	// HandReceipt anchors the receipts not yet anchored (one anchor.post on the ledger) and
	// returns the citizen's receipt bundle for a verdict's receipt id, as QR text and PNG.
	HandReceipt(ctx context.Context, receiptID string) (*home.QRResult, error)
	CloseSession()
}

// CitizenCore is the wallet role (wallet.Wallet).
type CitizenCore interface {
	// Ready: the wallet exists and is unlocked. Setup creates it with a PIN; Unlock opens it.
	Ready() (exists, unlocked bool)
	Setup(pin string) error
	Unlock(pin string) error
	List(ctx context.Context) ([]wallet.Item, error)
	Detail(ctx context.Context, id string) (*wallet.Item, error)
	// RecognisedIn lists the other regions where a credential is recognised (跨区域互认),
	// read from the ledgers with proofs (wallet.RecognisedIn).
	RecognisedIn(ctx context.Context, id string) ([]ledgerclient.Recognised, error)
	Receive(ctx context.Context, offer, pin string) ([]*wallet.Credential, error)
	// DescribeOffer says what an offer is (its types and their departments, from the
	// ledger) before its PIN is typed; a text that is not an offer is wallet.ErrBadOffer.
	DescribeOffer(ctx context.Context, offer string) (*wallet.OfferSummary, error)
	PlanRequest(ctx context.Context, text string) (*wallet.Plan, error)
	Present(ctx context.Context, p *wallet.Plan) (*wallet.Response, error)
	// PlanOnline reads an online service's openid4vp:// request (fetched from the portal,
	// verified against its key and registration on the ledger) for the same consent screen;
	// PresentOnline posts the consented answer and returns the portal's verdict (wallet.
	// PlanOpenID4VP, PresentOpenID4VP; both record the access in the history).
	PlanOnline(ctx context.Context, link string) (*wallet.Plan, error)
	PresentOnline(ctx context.Context, p *wallet.Plan) (*wallet.OnlineResult, error)
	History() ([]wallet.HistoryEntry, error)
	// Backup writes an encrypted backup of the wallet to path.
	Backup(path, passphrase string) error
	// Restore installs a backup file where no wallet exists yet; the citizen then unlocks it
	// with the PIN it had. A wrong passphrase or damaged file changes nothing.
	Restore(path, passphrase string) error
	// ImportReceipt checks a window's receipt (LZ1E QR text, JSON or file contents) and
	// attaches it to the matching access record, marking it verified on the ledger when its
	// anchor is found there.
	ImportReceipt(ctx context.Context, text string) (*wallet.HistoryEntry, error)
}

// DepartmentCore is the department role (issuer.Department plus its OpenID4VCI service).
type DepartmentCore interface {
	ID() string
	Types(ctx context.Context) ([]ledger.CredentialType, error)
	// Check validates a form (returns *issuer.ValidationError with per-field errors).
	Check(ctx context.Context, r issuer.Request) error
	// Offer creates a credential offer; nil error and nil result mean offers are not
	// available in this build.
	Offer(ctx context.Context, r issuer.Request) (*home.OfferResult, error)
	Records(ctx context.Context) ([]issuer.Record, error)
	// Search lists issuance records with their masked holders, newest first: by type, state
	// and the holder's exact full name or ID number, a page at a time.
	Search(ctx context.Context, f issuer.SearchFilter) (*issuer.Page, error)
	// PendingOffers are the offers still open (at most limit) and how many there are;
	// WithdrawOffer burns one.
	PendingOffers(ctx context.Context, limit int) ([]issuer.PendingOffer, int, error)
	WithdrawOffer(ctx context.Context, offerID string) error
	SetStatus(ctx context.Context, recordID, action string) error
	// Batch issues a CSV file (header of claim names, optional holder column) as a batch:
	// every row checked first — if any is invalid, nothing is issued (*issuer.BatchResult
	// lists the row errors with issuer.ErrBatchInvalid) — then streamed and committed in
	// chunks, the result CSV (offers with their PINs, or credentials) written to job.Out (a
	// resumed batch: to the file it started, BatchResult.Out). A batch stopped part way
	// resumes when the same file is run again; one run to its end is issuer.ErrBatchDone.
	// progress is called from the calling goroutine.
	Batch(ctx context.Context, job home.BatchJob, progress func(issuer.BatchProgress)) (*issuer.BatchResult, error)
	// Batches lists the department's batches, newest first; BatchStates counts a batch's
	// records by state.
	Batches(ctx context.Context) ([]issuer.BatchInfo, error)
	BatchStates(ctx context.Context, batchID string) (map[string]int, error)
	// BulkStatus suspends, resumes or revokes every record of a batch (or of a list of ids)
	// in as few ledger transactions as their status lists allow.
	BulkStatus(ctx context.Context, job home.BulkJob, progress func(issuer.BulkProgress)) (*issuer.BulkResult, error)
	// Agreements are the consortium's mutual-recognition agreements with other regions, read
	// from the ledger with proofs (made by governance, not here).
	Agreements(ctx context.Context) ([]ledger.Recognition, error)
}

// Services is everything the app runs on.
type Services struct {
	Window     WindowCore
	Citizen    CitizenCore
	Department DepartmentCore
	// Departments: in demo mode, the department role can act for each demo department.
	Departments map[string]DepartmentCore
	Demo        bool
	// PortalURL is where the demo's online-service portal is reached ("" when none runs).
	PortalURL string
	Close     func()
}
