package home

// The control socket: a department works while its service runs.
//
// A department's own home (InitIssuer, OpenIssuer) can be opened by one process at a time:
// its key store is a bbolt file under a file lock, and the issuer core keeps state in memory
// (the status-index allocator, the ledger signer) that two writers would break. So while
// `lz serve issuer` runs, the service is the home's single writer, and the clerk's commands
// (offer, issue, list, suspend/resume/revoke, batch, types, rotate) run inside it: Serve also
// listens on <home>/control.sock, a Unix socket speaking small JSON over HTTP, and OpenDesk —
// what the commands open a home with — goes through it when a service answers there, and
// opens the home in its own process (OpenIssuer) when none does.
//
// Threats, and what holds them:
//   - Another local user: the socket is created mode 0600 inside a fresh 0700 directory, then
//     renamed into place, so it is never reachable by others; the service makes it only in a
//     home directory owned by its user and writable by no one else, so nobody else can
//     replace it.
//   - A planted socket harvesting the passphrase: OpenDesk sends nothing to a socket that is
//     not owned by its user with no group or other permissions, in a directory only its user
//     can write (ErrUnsafeControl).
//   - The socket's permissions are not the only check: a session starts with the department
//     passphrase, checked against the key store the service holds open by keystore.Verify —
//     the same Argon2id check, attempt counting, back-off and lockout as an unlock — so the
//     socket is no way around the passphrase, nor a faster way to guess it.
//   - A killed service leaves its socket behind: a socket no one answers on is stale; the
//     commands then open the home themselves, and the next Serve replaces it (never a file
//     that is not a socket). Serve holds the home's key store, so no live service can own it.
//   - Bounded input: request bodies are limited (1 MiB, a bulk status change's ids 64 MiB), the
//     server has header, read and write timeouts, every operation a deadline; an operation
//     that started completes even if its command is killed (the ledger and the records stay
//     consistent).
//   - A batch names its input and result files by absolute path: the service, running as the
//     same user (the socket is private to it, and the passphrase was checked), reads and
//     writes them itself, streaming, and sends progress lines back while it runs. The
//     result file is only ever created new (or continued, for a batch it started): nothing
//     the command names is overwritten.
//   - Logs carry the operation and, on failure, its cause kind (issuer.Kind); never claims,
//     names, PINs, offer codes, tokens or the passphrase.
//
// Errors come back typed: a *ControlError whose text is the service's error text (what the
// command prints in process) and which unwraps to the same typed error (*issuer.
// ValidationError, *issuer.NotAuthorisedError, *keystore.BackoffError) or sentinel
// (issuer.ErrRecordNotFound, keystore.ErrWrongPIN, …), so errors.Is/As hold on either path.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"lianzheng/did"
	"lianzheng/internal/keystore"
	"lianzheng/internal/strictjson"
	"lianzheng/issuer"
	"lianzheng/ledger"
	"lianzheng/ledgerclient"
)

// ControlSocket is the control socket's file name in a department's home.
const ControlSocket = "control.sock"

// Control errors (match with errors.Is).
var (
	// ErrNoService: no service answers on the home's control socket (none runs, or a killed
	// one left its socket behind).
	ErrNoService = errors.New("home: no issuer service answers on this home's control socket")
	// ErrUnsafeControl: the control socket or the home directory could be replaced by another
	// user, so nothing is sent to it.
	ErrUnsafeControl = errors.New("home: the control socket is not private to this user")
	// ErrControlSession: the service does not know the session (it restarted, or the session
	// expired); run the command again.
	ErrControlSession = errors.New("home: the issuer service ended this command's session; run it again")
	// ErrControlTooLarge: the request exceeds the control socket's size limit.
	ErrControlTooLarge = errors.New("home: request too large for the control socket")
)

// Limits of the control socket.
const (
	controlMaxBody      = 1 << 20  // a request
	controlMaxBatchBody = 64 << 20 // a bulk status change's record ids
	controlOpTimeout    = 2 * time.Minute
	controlBatchTimeout = 24 * time.Hour // a batch or a bulk change (both resume if cut short)
	controlSessionTTL   = 15 * time.Minute
	controlMaxSessions  = 64
)

// Desk is what a clerk's command does with a department: in this process (a *Department
// opened by OpenIssuer) or in the service running on the home (through its control socket).
// OpenDesk picks. The results are the issuer core's.
type Desk interface {
	// IssuerURL is the credential issuer identifier offers name (render them with
	// oid4vci.OfferURI / OfferQR).
	IssuerURL() string
	Types(ctx context.Context) ([]ledger.CredentialType, error)
	CreateOffer(ctx context.Context, r issuer.Request, ttl time.Duration) (*issuer.Offer, error)
	Issue(ctx context.Context, r issuer.Request) (*issuer.Issued, error)
	SetStatus(ctx context.Context, recordID, action string) (*issuer.Record, *ledgerclient.TxResult, error)
	Search(ctx context.Context, f issuer.SearchFilter) (*issuer.Page, error)
	// Batch issues a CSV file as a batch (Department.Batch: checked first, streamed,
	// resumable); with ErrBatchInvalid the result lists the rows in error. progress is called
	// as it goes.
	Batch(ctx context.Context, job BatchJob, progress func(issuer.BatchProgress)) (*issuer.BatchResult, error)
	// Batches lists the department's batches, newest first.
	Batches(ctx context.Context) ([]issuer.BatchInfo, error)
	// BulkStatus suspends, resumes or revokes many records at once (Department.BulkStatus).
	BulkStatus(ctx context.Context, job BulkJob, progress func(issuer.BulkProgress)) (*issuer.BulkResult, error)
	Rotate(ctx context.Context, keepOld bool) (*issuer.Rotation, error)
	// Propose and Approve take part in the consortium's governance as this department
	// (issuer/governance.go).
	Propose(ctx context.Context, action string, payload json.RawMessage) (*Governance, error)
	Approve(ctx context.Context, id string) (*Governance, error)
	Close() error
}

// OpenDesk opens the department home in dir for one command: through the control socket of
// the service running on it when one answers (the passphrase is checked there; o.Node and
// o.Log are the service's own), else in this process with OpenIssuer. Close ends it.
func OpenDesk(ctx context.Context, dir string, o IssuerOptions) (Desk, error) {
	c, err := DialControl(ctx, dir, o.Passphrase)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, ErrNoService) {
		return nil, err
	}
	d, err := OpenIssuer(ctx, dir, o)
	if err != nil {
		return nil, err
	}
	return localDesk{d}, nil
}

// localDesk is a Department opened in this process, as a Desk.
type localDesk struct{ *Department }

func (l localDesk) CreateOffer(ctx context.Context, r issuer.Request, ttl time.Duration) (*issuer.Offer, error) {
	return l.core.CreateOffer(ctx, r, ttl)
}
func (l localDesk) Issue(ctx context.Context, r issuer.Request) (*issuer.Issued, error) {
	return l.core.Issue(ctx, r)
}
func (l localDesk) SetStatus(ctx context.Context, id, action string) (*issuer.Record, *ledgerclient.TxResult, error) {
	return l.core.SetStatus(ctx, id, action)
}

// --- the service's side ---

// control is a department service's control socket.
type control struct {
	d    *Department
	path string
	fi   os.FileInfo // the socket this service made (removed on close only if still there)
	svc  *Service
	ses  sessions
}

// namedListener reports the socket's final path as its address (it was bound elsewhere).
type namedListener struct {
	net.Listener
	addr net.Addr
}

func (l namedListener) Addr() net.Addr { return l.addr }

// serveControl starts the control socket of a department's own home. It returns nil, having
// logged why, when the home cannot have one (the commands then open the home themselves and
// wait for its key store as before).
func (d *Department) serveControl() *control {
	c, err := listenControl(d)
	if err != nil {
		d.log.Warn("control socket not started: commands on this home must wait until the service stops", "err", err)
		return nil
	}
	d.log.Info("control socket", "path", c.path)
	return c
}

// listenPrivate listens on the Unix socket name in dir (a private directory, checked by the
// caller), replacing a stale one: bound inside a fresh 0700 directory (tmpPrefix), made 0600,
// then renamed into place, so it is never reachable by anyone else, whatever the umask. It
// returns the listener, the socket's path and its file info (to recognise it at Close).
func listenPrivate(dir, name, tmpPrefix string) (*net.UnixListener, string, os.FileInfo, error) {
	path := filepath.Join(dir, name)
	if err := clearStale(path); err != nil {
		return nil, "", nil, err
	}
	tmp, err := os.MkdirTemp(dir, tmpPrefix)
	if err != nil {
		return nil, "", nil, err
	}
	defer os.RemoveAll(tmp)
	bound := filepath.Join(tmp, "s")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: bound, Net: "unix"})
	if err != nil {
		return nil, "", nil, fmt.Errorf("socket %s: %w", path, err)
	}
	ln.SetUnlinkOnClose(false)
	fail := func(err error) (*net.UnixListener, string, os.FileInfo, error) { ln.Close(); return nil, "", nil, err }
	if err := os.Chmod(bound, 0o600); err != nil {
		return fail(err)
	}
	if err := os.Rename(bound, path); err != nil {
		return fail(err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return fail(err)
	}
	return ln, path, fi, nil
}

func listenControl(d *Department) (*control, error) {
	dir, err := filepath.Abs(d.dir)
	if err != nil {
		return nil, err
	}
	if err := privateDir(dir); err != nil {
		return nil, err
	}
	ln, path, fi, err := listenPrivate(dir, ControlSocket, ".ctl")
	if err != nil {
		return nil, err
	}
	c := &control{d: d, path: path, fi: fi, ses: sessions{m: map[[32]byte]time.Time{}}}
	c.svc = serve(namedListener{ln, &net.UnixAddr{Name: path, Net: "unix"}}, c.handler(), d.log)
	return c, nil
}

// clearStale removes a socket left at path by a service that no longer answers; a socket
// that answers, or a file that is not a socket, is left alone (an error).
func clearStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().Type() != os.ModeSocket {
		return fmt.Errorf("%s exists and is not a socket; remove it", path)
	}
	if conn, err := net.DialTimeout("unix", path, time.Second); err == nil {
		conn.Close()
		return fmt.Errorf("another service answers on %s", path)
	}
	return os.Remove(path)
}

// Close stops the control socket (requests in flight get Service.Close's grace) and removes
// it if it is still the one this service made.
func (c *control) Close() error {
	err := c.svc.Close()
	if fi, lerr := os.Lstat(c.path); lerr == nil && os.SameFile(fi, c.fi) {
		if rerr := os.Remove(c.path); rerr != nil && err == nil {
			err = rerr
		}
	}
	return err
}

// sessions are the control socket's open sessions: a command's passphrase is checked once,
// when it starts, and its requests carry the session's random token.
type sessions struct {
	mu sync.Mutex
	m  map[[32]byte]time.Time // sha256(token) → expiry
}

func (s *sessions) open(now time.Time) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	var oldest [32]byte
	var oldestAt time.Time
	for k, exp := range s.m {
		if !now.Before(exp) {
			delete(s.m, k)
		} else if oldestAt.IsZero() || exp.Before(oldestAt) {
			oldest, oldestAt = k, exp
		}
	}
	if len(s.m) >= controlMaxSessions {
		delete(s.m, oldest)
	}
	s.m[sha256.Sum256([]byte(tok))] = now.Add(controlSessionTTL)
	return tok, nil
}

func (s *sessions) valid(tok string, now time.Time) bool {
	if tok == "" {
		return false
	}
	k := sha256.Sum256([]byte(tok))
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.m[k]
	if ok && !now.Before(exp) {
		delete(s.m, k)
		return false
	}
	return ok
}

func (s *sessions) close(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, sha256.Sum256([]byte(tok)))
}

// The wire: requests and answers of the control socket (JSON).
type (
	ctlLogin struct {
		Passphrase string `json:"passphrase"`
	}
	ctlHello struct {
		Token     string `json:"token"`
		ID        string `json:"id"`
		IssuerURL string `json:"issuer_url"`
	}
	ctlRequest struct {
		Type       string          `json:"type"`
		Claims     json.RawMessage `json:"claims,omitempty"`
		Holder     string          `json:"holder,omitempty"` // did:key
		ValidUntil time.Time       `json:"valid_until,omitzero"`
		TTL        time.Duration   `json:"ttl,omitempty"`
	}
	ctlStatus struct {
		ID     string `json:"id"`
		Action string `json:"action"`
	}
	ctlStatusDone struct {
		Record *issuer.Record         `json:"record"`
		Tx     *ledgerclient.TxResult `json:"tx"`
	}
	// ctlLine is one line of a streamed answer (batch, bulk): progress while the operation
	// runs, then its result or its error.
	ctlLine struct {
		Progress json.RawMessage `json:"progress,omitempty"`
		Result   json.RawMessage `json:"result,omitempty"`
		Error    *ctlError       `json:"error,omitempty"`
	}
	ctlRotate struct {
		KeepOld bool `json:"keep_old"`
	}
	ctlPropose struct {
		Action  string          `json:"action"`
		Payload json.RawMessage `json:"payload"`
	}
	ctlApprove struct {
		ID string `json:"id"`
	}
	// ctlError is a failed operation: its kind (controlKinds, or a typed error's), the
	// error's text, and what the typed errors carry.
	ctlError struct {
		Kind          string                     `json:"kind"`
		Message       string                     `json:"message"`
		Validation    *issuer.ValidationError    `json:"validation,omitempty"`
		NotAuthorised *issuer.NotAuthorisedError `json:"not_authorised,omitempty"`
		Wait          time.Duration              `json:"wait,omitempty"`  // keystore back-off
		Batch         *issuer.BatchResult        `json:"batch,omitempty"` // ErrBatchInvalid: the rows in error
	}
	ctlFailure struct {
		Error ctlError `json:"error"`
	}
)

// controlKinds name the sentinel errors a control answer carries, first match wins; the
// command gets the same sentinel back (ControlError.Unwrap).
var controlKinds = []struct {
	kind string
	err  error
}{
	{"record_not_found", issuer.ErrRecordNotFound},
	{"bad_transition", issuer.ErrBadTransition},
	{"unknown_type", issuer.ErrUnknownType},
	{"bad_cursor", issuer.ErrBadCursor},
	{"batch_invalid", issuer.ErrBatchInvalid},
	{"batch_done", issuer.ErrBatchDone},
	{"batch_running", issuer.ErrBatchRunning},
	{"batch_output", issuer.ErrBatchOutput},
	{"bulk_selection", issuer.ErrBulkSelection},
	{"key_not_on_ledger", issuer.ErrKeyNotOnLedger},
	{"status_list_full", issuer.ErrStatusListFull},
	{"catalogue", issuer.ErrCatalogue},
	{"sign_sd_jwt", issuer.ErrSignSDJWT},
	{"sign_w3c", issuer.ErrSignW3C},
	{"records", issuer.ErrRecords},
	{"no_key_store", ErrNoKeyStore},
	{"wrong_passphrase", keystore.ErrWrongPIN},
	{"locked_out", keystore.ErrLockedOut},
	{"keystore_locked", keystore.ErrLocked},
	{"session", ErrControlSession},
	{"too_large", ErrControlTooLarge},
	{"proposal", issuer.ErrProposal},
	// What the ledger refused (governance, status changes), most specific first.
	{"tx_unauthorized", ledgerclient.ErrTxUnauthorized},
	{"tx_not_found", ledgerclient.ErrTxNotFound},
	{"tx_invalid", ledgerclient.ErrTxInvalid},
	{"tx_conflict", ledgerclient.ErrTxConflict},
	{"tx_malformed", ledgerclient.ErrTxMalformed},
	{"tx_rejected", ledgerclient.ErrTxRejected},
	{"deadline", context.DeadlineExceeded},
	{"canceled", context.Canceled},
}

// encodeError is the wire form of err.
func encodeError(err error) (ctlError, int) {
	e := ctlError{Kind: "internal", Message: err.Error()}
	var ve *issuer.ValidationError
	var na *issuer.NotAuthorisedError
	var be *keystore.BackoffError
	switch {
	case errors.As(err, &ve):
		e.Kind, e.Validation = "validation", ve
		return e, http.StatusBadRequest
	case errors.As(err, &na):
		e.Kind, e.NotAuthorised = "not_authorised", na
		return e, http.StatusForbidden
	case errors.As(err, &be):
		e.Kind, e.Wait = "backoff", be.Wait
		return e, http.StatusTooManyRequests
	}
	for _, k := range controlKinds {
		if errors.Is(err, k.err) {
			e.Kind = k.kind
			break
		}
	}
	switch e.Kind {
	case "wrong_passphrase", "locked_out", "session":
		return e, http.StatusUnauthorized
	case "too_large":
		return e, http.StatusRequestEntityTooLarge
	case "record_not_found":
		return e, http.StatusNotFound
	case "bad_transition", "unknown_type", "bad_cursor", "batch_invalid", "batch_done", "batch_running", "batch_output", "bulk_selection", "no_key_store",
		"proposal", "tx_unauthorized", "tx_not_found", "tx_invalid", "tx_conflict", "tx_malformed", "tx_rejected":
		return e, http.StatusBadRequest
	}
	return e, http.StatusInternalServerError
}

// ControlError is an operation the service refused or failed: its text is the service's
// error text, and it unwraps to the typed error or sentinel the operation failed with.
type ControlError struct {
	Kind    string
	Message string
	err     error
}

func (e *ControlError) Error() string { return e.Message }

// Unwrap gives the typed error or sentinel (nil for an error of no known kind).
func (e *ControlError) Unwrap() error { return e.err }

// decodeError rebuilds the typed error of a control answer.
func decodeError(e ctlError) error {
	ce := &ControlError{Kind: e.Kind, Message: e.Message}
	switch {
	case e.Kind == "validation" && e.Validation != nil:
		ce.err = e.Validation
	case e.Kind == "not_authorised" && e.NotAuthorised != nil:
		ce.err = e.NotAuthorised
	case e.Kind == "backoff":
		ce.err = &keystore.BackoffError{Wait: e.Wait}
	default:
		for _, k := range controlKinds {
			if k.kind == e.Kind {
				ce.err = k.err
			}
		}
	}
	if ce.Message == "" {
		ce.Message = "home: the issuer service failed (" + e.Kind + ")"
	}
	return ce
}

// handler is the control socket's HTTP API: POST /v1/<op> with a JSON body; every op but
// session needs "Authorization: Bearer <token>" of a session.
func (c *control) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/session", c.login)
	mux.HandleFunc("POST /v1/logout", func(w http.ResponseWriter, r *http.Request) {
		c.ses.close(bearer(r))
		writeJSON(w, http.StatusOK, struct{}{})
	})
	op := func(name string, limit int64, timeout time.Duration, f func(ctx context.Context, body []byte) (any, error)) {
		mux.HandleFunc("POST /v1/"+name, func(w http.ResponseWriter, r *http.Request) {
			if !c.ses.valid(bearer(r), time.Now()) {
				c.fail(w, name, ErrControlSession, nil)
				return
			}
			rc := http.NewResponseController(w)
			if timeout > controlOpTimeout { // a batch: more time to read its rows and to answer
				_ = rc.SetReadDeadline(time.Now().Add(5 * time.Minute))
			}
			_ = rc.SetWriteDeadline(time.Now().Add(timeout + time.Minute))
			body, err := readBody(w, r, limit)
			if err != nil {
				c.fail(w, name, err, nil)
				return
			}
			// An operation that started completes even if its command goes away: a status
			// change written to the ledger is also written to the records.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), timeout)
			defer cancel()
			res, err := f(ctx, body)
			if err != nil {
				br, _ := res.(*issuer.BatchResult) // ErrBatchInvalid: the rows in error go back too
				c.fail(w, name, err, br)
				return
			}
			c.d.log.Info("control", "op", name)
			writeJSON(w, http.StatusOK, res)
		})
	}
	d := c.d
	op("types", controlMaxBody, controlOpTimeout, func(ctx context.Context, _ []byte) (any, error) {
		return d.core.Types(ctx)
	})
	op("offer", controlMaxBody, controlOpTimeout, func(ctx context.Context, b []byte) (any, error) {
		var in ctlRequest
		r, err := in.decode(b)
		if err != nil {
			return nil, err
		}
		return d.core.CreateOffer(ctx, r, in.TTL)
	})
	op("issue", controlMaxBody, controlOpTimeout, func(ctx context.Context, b []byte) (any, error) {
		var in ctlRequest
		r, err := in.decode(b)
		if err != nil {
			return nil, err
		}
		return d.core.Issue(ctx, r)
	})
	op("status", controlMaxBody, controlOpTimeout, func(ctx context.Context, b []byte) (any, error) {
		var in ctlStatus
		if err := strictjson.Decode(b, &in); err != nil {
			return nil, err
		}
		rec, res, err := d.core.SetStatus(ctx, in.ID, in.Action)
		if err != nil {
			return nil, err
		}
		return ctlStatusDone{rec, res}, nil
	})
	op("search", controlMaxBody, controlOpTimeout, func(ctx context.Context, b []byte) (any, error) {
		var f issuer.SearchFilter
		if err := strictjson.Decode(b, &f); err != nil {
			return nil, err
		}
		return d.Search(ctx, f)
	})
	op("batches", controlMaxBody, controlOpTimeout, func(ctx context.Context, _ []byte) (any, error) {
		return d.Batches(ctx)
	})
	c.stream(mux, "batch", controlMaxBody, func(ctx context.Context, b []byte, emit func(any)) (any, error) {
		var job BatchJob
		if err := strictjson.Decode(b, &job); err != nil {
			return nil, err
		}
		if !filepath.IsAbs(job.In) || !filepath.IsAbs(job.Out) {
			return nil, errors.New("home: a batch's files must be named by absolute path")
		}
		return d.Batch(ctx, job, func(p issuer.BatchProgress) { emit(p) })
	})
	c.stream(mux, "bulk", controlMaxBatchBody, func(ctx context.Context, b []byte, emit func(any)) (any, error) {
		var job BulkJob
		if err := strictjson.Decode(b, &job); err != nil {
			return nil, err
		}
		return d.BulkStatus(ctx, job, func(p issuer.BulkProgress) { emit(p) })
	})
	op("rotate", controlMaxBody, controlOpTimeout, func(ctx context.Context, b []byte) (any, error) {
		var in ctlRotate
		if err := strictjson.Decode(b, &in); err != nil {
			return nil, err
		}
		return d.Rotate(ctx, in.KeepOld)
	})
	op("propose", controlMaxBody, controlOpTimeout, func(ctx context.Context, b []byte) (any, error) {
		var in ctlPropose
		if err := strictjson.Decode(b, &in); err != nil {
			return nil, err
		}
		return d.Propose(ctx, in.Action, in.Payload)
	})
	op("approve", controlMaxBody, controlOpTimeout, func(ctx context.Context, b []byte) (any, error) {
		var in ctlApprove
		if err := strictjson.Decode(b, &in); err != nil {
			return nil, err
		}
		return d.Approve(ctx, in.ID)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, ctlFailure{ctlError{Kind: "not_found", Message: "home: no such control operation"}})
	})
	return mux
}

// stream serves a long operation (a batch, a bulk status change) whose answer is
// newline-delimited JSON: a ctlLine with progress each time the operation reports it, at most
// one a second after the first, then one with its result or its error. A failure before the
// operation starts (session, body) is an ordinary error answer. Like every operation, it
// completes even if its command goes away (controlBatchTimeout).
func (c *control) stream(mux *http.ServeMux, name string, limit int64, f func(ctx context.Context, body []byte, emit func(any)) (any, error)) {
	mux.HandleFunc("POST /v1/"+name, func(w http.ResponseWriter, r *http.Request) {
		if !c.ses.valid(bearer(r), time.Now()) {
			c.fail(w, name, ErrControlSession, nil)
			return
		}
		rc := http.NewResponseController(w)
		body, err := readBody(w, r, limit)
		if err != nil {
			c.fail(w, name, err, nil)
			return
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), controlBatchTimeout)
		defer cancel()
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		enc := json.NewEncoder(w)
		gone := false // the command went away: the operation goes on, its lines are dropped
		send := func(l ctlLine) {
			if gone {
				return
			}
			_ = rc.SetWriteDeadline(time.Now().Add(time.Minute))
			if enc.Encode(l) != nil || rc.Flush() != nil {
				gone = true
			}
		}
		var last time.Time
		res, err := f(ctx, body, func(p any) {
			if time.Since(last) < time.Second && !last.IsZero() {
				return
			}
			last = time.Now()
			if b, err := json.Marshal(p); err == nil {
				send(ctlLine{Progress: b})
			}
		})
		if err != nil {
			e, _ := encodeError(err)
			if br, ok := res.(*issuer.BatchResult); ok && br != nil {
				e.Batch = br // invalid rows, or where the batch stopped
			}
			kind := e.Kind
			if kind == "internal" {
				kind = issuer.Kind(err)
			}
			c.d.log.Warn("control", "op", name, "kind", kind)
			send(ctlLine{Error: &e})
			return
		}
		c.d.log.Info("control", "op", name)
		b, _ := json.Marshal(res)
		send(ctlLine{Result: b})
	})
}

// decode reads an offer or issue request (claims strictly, numbers kept exact).
func (in *ctlRequest) decode(b []byte) (issuer.Request, error) {
	if err := strictjson.Decode(b, in); err != nil {
		return issuer.Request{}, err
	}
	r := issuer.Request{Type: in.Type, ValidUntil: in.ValidUntil, Claims: map[string]any{}}
	if len(in.Claims) > 0 {
		m, err := strictjson.Object(in.Claims)
		if err != nil {
			return r, fmt.Errorf("claims: %w", err)
		}
		r.Claims = m
	}
	if in.Holder != "" {
		k, err := did.ParseKey(in.Holder)
		if err != nil {
			return r, fmt.Errorf("holder: %w", err)
		}
		r.Holder = k
	}
	return r, nil
}

// login opens a session for a request that knows the department passphrase, checked by
// the key store the service holds open (keystore.Verify: counted, backed off, locked out).
func (c *control) login(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r, 64<<10)
	if err != nil {
		c.fail(w, "session", err, nil)
		return
	}
	var in ctlLogin
	if err := strictjson.Decode(body, &in); err != nil {
		c.fail(w, "session", err, nil)
		return
	}
	if c.d.ks == nil {
		c.fail(w, "session", ErrNoKeyStore, nil)
		return
	}
	if err := c.d.ks.Verify(in.Passphrase); err != nil {
		c.fail(w, "session", err, nil)
		return
	}
	tok, err := c.ses.open(time.Now())
	if err != nil {
		c.fail(w, "session", err, nil)
		return
	}
	writeJSON(w, http.StatusOK, ctlHello{Token: tok, ID: c.d.core.ID, IssuerURL: c.d.IssuerURL()})
}

// fail answers a failure (with a batch's rows in error, if any) and logs its kind, never its
// text, which may quote input.
func (c *control) fail(w http.ResponseWriter, op string, err error, batch *issuer.BatchResult) {
	e, status := encodeError(err)
	if batch != nil && errors.Is(err, issuer.ErrBatchInvalid) {
		e.Batch = batch
	}
	kind := e.Kind
	if kind == "internal" {
		kind = issuer.Kind(err)
	}
	c.d.log.Warn("control", "op", op, "kind", kind)
	writeJSON(w, status, ctlFailure{e})
}

func bearer(r *http.Request) string {
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
}

func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, fmt.Errorf("%w (at most %d bytes)", ErrControlTooLarge, limit)
	}
	return b, err
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// --- the command's side ---

// Control is a session with the service running on a department's home, through its control
// socket: a Desk whose operations run in the service's process.
type Control struct {
	hc    *http.Client
	token string
	id    string
	url   string
}

var _ Desk = (*Control)(nil)

// DialControl opens a session with the service running on the department home in dir, with
// the department passphrase (checked by the service's key store: a wrong one is counted).
// ErrNoService: no service answers there (none runs, or a killed one left a stale socket);
// ErrUnsafeControl: the socket or the home could be another user's, nothing was sent.
func DialControl(ctx context.Context, dir, passphrase string) (*Control, error) {
	path, err := filepath.Abs(filepath.Join(dir, ControlSocket))
	if err != nil {
		return nil, err
	}
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode().Type() != os.ModeSocket {
		return nil, ErrNoService
	}
	if err := privateSocket(fi); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUnsafeControl, path, err)
	}
	if err := privateDir(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsafeControl, err)
	}
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, "unix", path)
	}
	conn, err := dial(ctx, "", "")
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
			return nil, ErrNoService // stale: its service was killed
		}
		return nil, fmt.Errorf("home: control socket %s: %w", path, err)
	}
	conn.Close()
	c := &Control{hc: &http.Client{Transport: &http.Transport{DialContext: dial, MaxIdleConns: 1, IdleConnTimeout: 30 * time.Second}}}
	var h ctlHello
	if err := c.call(ctx, "session", ctlLogin{Passphrase: passphrase}, &h); err != nil {
		c.hc.CloseIdleConnections()
		return nil, err
	}
	c.token, c.id, c.url = h.Token, h.ID, h.IssuerURL
	return c, nil
}

// call posts in to /v1/op and decodes the answer into out (numbers kept exact), or returns
// the operation's typed error (partial: what the failure carries, for a batch).
func (c *Control) call(ctx context.Context, op string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://lz-control/v1/"+op, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("home: the issuer service (control socket): %w", err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if resp.StatusCode != http.StatusOK {
		var fe ctlFailure
		if err := dec.Decode(&fe); err != nil || fe.Error.Kind == "" {
			return fmt.Errorf("home: the issuer service answered %s", resp.Status)
		}
		if fe.Error.Batch != nil {
			if br, ok := out.(*issuer.BatchResult); ok {
				*br = *fe.Error.Batch
			}
		}
		return decodeError(fe.Error)
	}
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("home: the issuer service's answer: %w", err)
	}
	return nil
}

// ID is the department's member id.
func (c *Control) ID() string { return c.id }

// IssuerURL is the service's credential issuer identifier.
func (c *Control) IssuerURL() string { return c.url }

// Types are the credential types the catalogue lets the department issue.
func (c *Control) Types(ctx context.Context) ([]ledger.CredentialType, error) {
	var ts []ledger.CredentialType
	return ts, c.call(ctx, "types", struct{}{}, &ts)
}

func wireRequest(r issuer.Request, ttl time.Duration) (ctlRequest, error) {
	in := ctlRequest{Type: r.Type, ValidUntil: r.ValidUntil, TTL: ttl}
	if r.Claims != nil {
		b, err := json.Marshal(r.Claims)
		if err != nil {
			return in, err
		}
		in.Claims = b
	}
	if r.Holder.Key != nil {
		in.Holder = r.Holder.DIDKey()
	}
	return in, nil
}

// CreateOffer makes a pre-authorised offer in the service (its pending offers are the ones
// wallets redeem there).
func (c *Control) CreateOffer(ctx context.Context, r issuer.Request, ttl time.Duration) (*issuer.Offer, error) {
	in, err := wireRequest(r, ttl)
	if err != nil {
		return nil, err
	}
	var o issuer.Offer
	if err := c.call(ctx, "offer", in, &o); err != nil {
		return nil, err
	}
	return &o, nil
}

// Issue issues a credential to a holder key in the service.
func (c *Control) Issue(ctx context.Context, r issuer.Request) (*issuer.Issued, error) {
	in, err := wireRequest(r, 0)
	if err != nil {
		return nil, err
	}
	var is issuer.Issued
	if err := c.call(ctx, "issue", in, &is); err != nil {
		return nil, err
	}
	return &is, nil
}

// SetStatus suspends, resumes or revokes a record's credential on the ledger.
func (c *Control) SetStatus(ctx context.Context, id, action string) (*issuer.Record, *ledgerclient.TxResult, error) {
	var out ctlStatusDone
	if err := c.call(ctx, "status", ctlStatus{ID: id, Action: action}, &out); err != nil {
		return nil, nil, err
	}
	if out.Record == nil || out.Tx == nil {
		return nil, nil, errors.New("home: the issuer service's status answer is incomplete")
	}
	return out.Record, out.Tx, nil
}

// Search lists the department's records with their masked holders.
func (c *Control) Search(ctx context.Context, f issuer.SearchFilter) (*issuer.Page, error) {
	var p issuer.Page
	if err := c.call(ctx, "search", f, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Batches lists the department's batches, newest first.
func (c *Control) Batches(ctx context.Context) ([]issuer.BatchInfo, error) {
	var bs []issuer.BatchInfo
	return bs, c.call(ctx, "batches", struct{}{}, &bs)
}

// Batch issues a CSV file as a batch in the service, which reads and writes the files
// itself (their paths are made absolute here); progress is called with the service's
// progress lines. With issuer.ErrBatchInvalid (and on other failures, where the batch
// stopped) the result comes back too.
func (c *Control) Batch(ctx context.Context, job BatchJob, progress func(issuer.BatchProgress)) (*issuer.BatchResult, error) {
	var err error
	if job.In, err = filepath.Abs(job.In); err != nil {
		return nil, err
	}
	if job.Out, err = filepath.Abs(job.Out); err != nil {
		return nil, err
	}
	var res issuer.BatchResult
	err = c.callStream(ctx, "batch", job, &res, func(b []byte) {
		var p issuer.BatchProgress
		if json.Unmarshal(b, &p) == nil && progress != nil {
			progress(p)
		}
	})
	if err != nil {
		if res.ID != "" || res.ErrorRows > 0 {
			return &res, err
		}
		return nil, err
	}
	return &res, nil
}

// BulkStatus applies a bulk status change in the service.
func (c *Control) BulkStatus(ctx context.Context, job BulkJob, progress func(issuer.BulkProgress)) (*issuer.BulkResult, error) {
	var res issuer.BulkResult
	err := c.callStream(ctx, "bulk", job, &res, func(b []byte) {
		var p issuer.BulkProgress
		if json.Unmarshal(b, &p) == nil && progress != nil {
			progress(p)
		}
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// callStream posts in to a streamed operation: progress gets each progress line, out the
// result; an error line is the operation's typed error (its batch result, if any, decoded
// into out when out is a *issuer.BatchResult).
func (c *Control) callStream(ctx context.Context, op string, in, out any, progress func([]byte)) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://lz-control/v1/"+op, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("home: the issuer service (control socket): %w", err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if resp.StatusCode != http.StatusOK {
		var fe ctlFailure
		if err := dec.Decode(&fe); err != nil || fe.Error.Kind == "" {
			return fmt.Errorf("home: the issuer service answered %s", resp.Status)
		}
		return decodeError(fe.Error)
	}
	for {
		var l ctlLine
		if err := dec.Decode(&l); err != nil {
			return fmt.Errorf("home: the issuer service's answer ended early: %w", err)
		}
		switch {
		case l.Error != nil:
			if l.Error.Batch != nil {
				if br, ok := out.(*issuer.BatchResult); ok {
					*br = *l.Error.Batch
				}
			}
			return decodeError(*l.Error)
		case l.Result != nil:
			return json.Unmarshal(l.Result, out)
		case l.Progress != nil:
			progress(l.Progress)
		}
	}
}

// Rotate gives the department a new signing key, in the service (Department.Rotate).
func (c *Control) Rotate(ctx context.Context, keepOld bool) (*issuer.Rotation, error) {
	var rot issuer.Rotation
	if err := c.call(ctx, "rotate", ctlRotate{KeepOld: keepOld}, &rot); err != nil {
		return nil, err
	}
	return &rot, nil
}

// Propose proposes a governance action as the department, in the service.
func (c *Control) Propose(ctx context.Context, action string, payload json.RawMessage) (*Governance, error) {
	var g Governance
	if err := c.call(ctx, "propose", ctlPropose{Action: action, Payload: payload}, &g); err != nil {
		return nil, err
	}
	return &g, nil
}

// Approve approves a pending proposal as the department, in the service.
func (c *Control) Approve(ctx context.Context, id string) (*Governance, error) {
	var g Governance
	if err := c.call(ctx, "approve", ctlApprove{ID: id}, &g); err != nil {
		return nil, err
	}
	return &g, nil
}

// Close ends the session.
func (c *Control) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := c.call(ctx, "logout", struct{}{}, &struct{}{})
	c.hc.CloseIdleConnections()
	return err
}
