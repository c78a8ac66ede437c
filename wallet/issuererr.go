package wallet

import (
	"errors"
	"fmt"
	"net/http"
)

// Receiving errors. Every error Receive and DescribeOffer return for one of these cases wraps
// the matching value (test with errors.Is), so that a screen or a command says in words what
// happened, and what to do, without reading the error's text. The text stays the engineer's
// detail.
var (
	// ErrBadOffer: the text is not a credential offer this wallet can use (not an offer URI
	// or offer JSON, malformed, too large, or without the pre-authorised code grant).
	ErrBadOffer = errors.New("wallet: not a usable credential offer")
	// ErrOfferNeedsPIN: the offer needs the PIN (tx_code) the department gave, and none was
	// given.
	ErrOfferNeedsPIN = errors.New("wallet: this offer needs the PIN (tx_code) the department gave you")
	// ErrIssuerUnreachable: the department's issuance service could not be reached (no
	// network, unknown host, connection refused, timeout).
	ErrIssuerUnreachable = errors.New("wallet: the issuing department's service cannot be reached")
	// ErrIssuerFailed: the department's service failed (HTTP 5xx) or answered something that
	// is not a usable answer.
	ErrIssuerFailed = errors.New("wallet: the issuing department's service failed")
	// ErrIssuerRefused: the service refused a request for a reason not listed below (an
	// OAuth 2.0 / OpenID4VCI error other than invalid_grant).
	ErrIssuerRefused = errors.New("wallet: the issuing department's service refused the request")

	// ErrOfferRefused: the token endpoint refused the offer's code or PIN (invalid_grant).
	// The errors below wrap it and say why, when the issuer says (its lz_reason member).
	ErrOfferRefused = errors.New("wallet: the offer's code or PIN was refused")
	// ErrWrongOfferPIN: the PIN is wrong; IssuerError.AttemptsLeft says how many tries the
	// offer has left, when the issuer says.
	ErrWrongOfferPIN = fmt.Errorf("%w: wrong PIN", ErrOfferRefused)
	// ErrOfferExpired: the offer's time ran out.
	ErrOfferExpired = fmt.Errorf("%w: offer expired", ErrOfferRefused)
	// ErrOfferUsed: the offer was already redeemed.
	ErrOfferUsed = fmt.Errorf("%w: offer already used", ErrOfferRefused)
	// ErrOfferBlocked: the offer was blocked after too many wrong PINs (or withdrawn).
	ErrOfferBlocked = fmt.Errorf("%w: offer blocked", ErrOfferRefused)
	// ErrOfferUnknown: the issuer knows no offer with this code.
	ErrOfferUnknown = fmt.Errorf("%w: offer unknown to the issuer", ErrOfferRefused)
)

// The token endpoint's refinements of invalid_grant: the value of the error object's
// lz_reason member (our extension to the OAuth 2.0 error response; other wallets ignore it,
// and an issuer that does not send it is understood as ErrOfferRefused). The department's
// service (issuer/oid4vci) sends these.
const (
	ReasonWrongPIN     = "wrong_tx_code"
	ReasonOfferExpired = "offer_expired"
	ReasonOfferUsed    = "offer_used"
	ReasonOfferBlocked = "offer_blocked"
	ReasonOfferUnknown = "offer_unknown"
)

// IssuerError is an error answer of the department's service: the HTTP status and the OAuth
// 2.0 / OpenID4VCI error object (error, error_description), with our extension members
// lz_reason (which invalid_grant) and lz_attempts_left (PIN tries left after a wrong PIN).
// It unwraps to the matching Err* value above.
type IssuerError struct {
	Endpoint    string // the URL path answered
	Status      int
	Code        string // the error object's "error" ("" when the body had none)
	Description string
	Reason      string // lz_reason, "" when not given
	// AttemptsLeft is lz_attempts_left: the PIN tries the offer has left (-1: not given).
	AttemptsLeft int
	CNonce       string // with invalid_nonce: a fresh c_nonce
}

func (e *IssuerError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("%s: HTTP %d", e.Endpoint, e.Status)
	}
	return fmt.Sprintf("%s: HTTP %d %s: %s", e.Endpoint, e.Status, e.Code, e.Description)
}

// Unwrap is the Err* value the answer means.
func (e *IssuerError) Unwrap() error {
	switch {
	case e.Status >= http.StatusInternalServerError:
		return ErrIssuerFailed
	case e.Code != "invalid_grant":
		return ErrIssuerRefused
	}
	switch e.Reason {
	case ReasonWrongPIN:
		return ErrWrongOfferPIN
	case ReasonOfferExpired:
		return ErrOfferExpired
	case ReasonOfferUsed:
		return ErrOfferUsed
	case ReasonOfferBlocked:
		return ErrOfferBlocked
	case ReasonOfferUnknown:
		return ErrOfferUnknown
	}
	return ErrOfferRefused
}
