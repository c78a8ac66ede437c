package ledgerclient

import (
	"errors"
	"fmt"

	"lianzheng/ledger"
)

// Sentinel errors. Every error this package returns wraps one of them or a context error
// (test with errors.Is).
var (
	// ErrUnverified: what a node returned does not verify (bad proof, bad signatures, a
	// header that does not chain to the trust root). The node is faulty or lying.
	ErrUnverified = errors.New("ledgerclient: ledger data failed verification")
	// ErrNotFound: the ledger proves the object does not exist (absence proof checked).
	ErrNotFound = errors.New("ledgerclient: not found on the ledger")
	// ErrBeforeTrustRoot: the height asked for precedes the pinned trust root.
	ErrBeforeTrustRoot = errors.New("ledgerclient: height precedes the trust root")
	// ErrBadState: proven ledger state that cannot be decoded (a ledger bug, not forgery).
	ErrBadState = errors.New("ledgerclient: malformed ledger state")

	// ErrSnapshotForged: a trust snapshot failed verification: malformed, tampered with,
	// signed by validators that do not chain to the trust root, or incomplete. Never use it.
	ErrSnapshotForged = errors.New("ledgerclient: trust snapshot is forged or corrupt")
	// ErrSnapshotStale: the snapshot verified but is older than the caller's maximum age.
	ErrSnapshotStale = errors.New("ledgerclient: trust snapshot is too old")
	// ErrNotInSnapshot: the snapshot does not cover what was asked (e.g. a key kind it
	// does not carry). Distinct from ErrNotFound, which the snapshot proves.
	ErrNotInSnapshot = errors.New("ledgerclient: not covered by the trust snapshot")

	// ErrRPC: a node could not be asked or its answer could not be read: transport
	// failure, HTTP error, malformed or oversized response, or an error the node reported
	// (*RPCError). Not a verification failure (that is ErrUnverified).
	ErrRPC = errors.New("ledgerclient: node RPC failed")
	// ErrResponseTooLarge: a node's response exceeded HTTPOptions.MaxResponseBytes.
	ErrResponseTooLarge = fmt.Errorf("%w: response too large", ErrRPC)
	// ErrTxInCache: broadcast of a transaction the node's mempool already holds or has
	// committed recently (CometBFT's "tx already exists in cache", as an *RPCError).
	ErrTxInCache = fmt.Errorf("%w: transaction already in the mempool cache", ErrRPC)

	// ErrTxRejected: the ledger refused a transaction; the *TxError says why. The
	// code-specific errors below wrap it.
	ErrTxRejected = errors.New("ledgerclient: transaction rejected")
	// ErrTxNotConfirmed: a transaction could not be confirmed committed within the
	// retries and the context's deadline. It may still commit later (same nonce: a later
	// resubmission of the same bytes is harmless).
	ErrTxNotConfirmed = errors.New("ledgerclient: transaction not confirmed")

	ErrTxMalformed    = fmt.Errorf("%w: malformed (cannot decode, wrong version or chain, oversized)", ErrTxRejected)
	ErrTxBadSignature = fmt.Errorf("%w: bad signature or signing key not valid now", ErrTxRejected)
	ErrTxUnauthorized = fmt.Errorf("%w: signer is not authorised for this action", ErrTxRejected)
	ErrTxReplay       = fmt.Errorf("%w: nonce already used (replay)", ErrTxRejected)
	ErrTxNotFound     = fmt.Errorf("%w: referenced object does not exist", ErrTxRejected)
	ErrTxInvalid      = fmt.Errorf("%w: body fails validation", ErrTxRejected)
	ErrTxConflict     = fmt.Errorf("%w: conflict (already exists, already approved or wrong state)", ErrTxRejected)
	ErrTxInternal     = fmt.Errorf("%w: ledger internal error (nothing changed; retry later)", ErrTxRejected)
)

// codeErr maps a ledger result code to its sentinel.
func codeErr(code uint32) error {
	switch code {
	case ledger.CodeMalformed:
		return ErrTxMalformed
	case ledger.CodeBadSignature:
		return ErrTxBadSignature
	case ledger.CodeUnauthorized:
		return ErrTxUnauthorized
	case ledger.CodeReplay:
		return ErrTxReplay
	case ledger.CodeNotFound:
		return ErrTxNotFound
	case ledger.CodeInvalid:
		return ErrTxInvalid
	case ledger.CodeConflict:
		return ErrTxConflict
	case ledger.CodeInternal:
		return ErrTxInternal
	}
	return ErrTxRejected
}

// TxError is a transaction the ledger refused, at CheckTx (Height 0) or in a block.
type TxError struct {
	Type      string // transaction type, e.g. "status.set"
	Hash      string // CometBFT tx hash (hex upper case)
	Height    int64  // block height, 0 if refused before inclusion
	Code      uint32
	Codespace string
	Log       string // the ledger's explanation
}

func (e *TxError) Error() string {
	where := "refused by the mempool"
	if e.Height > 0 {
		where = fmt.Sprintf("failed in block %d", e.Height)
	}
	msg := codeErr(e.Code).Error()
	if e.Codespace != "" && e.Codespace != ledger.Codespace {
		msg = fmt.Sprintf("%v: code %d in codespace %q", ErrTxRejected, e.Code, e.Codespace)
	}
	s := fmt.Sprintf("%s tx %.12s %s: %s", e.Type, e.Hash, where, msg)
	if e.Log != "" {
		s += ": " + truncate(e.Log, 200)
	}
	return s
}

// Unwrap lets errors.Is match ErrTxRejected and the code-specific sentinel.
func (e *TxError) Unwrap() error {
	if e.Codespace != "" && e.Codespace != ledger.Codespace {
		return ErrTxRejected
	}
	return codeErr(e.Code)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
