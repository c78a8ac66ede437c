package issuer

import (
	"context"
	"errors"
)

// Causes of a failed issuance that are not the request's fault (match with errors.Is). Each
// wraps the underlying error; Kind names them for logs.
var (
	ErrCatalogue      = errors.New("issuer: catalogue unavailable")
	ErrStatusListFull = errors.New("issuer: status list full")
	ErrSignSDJWT      = errors.New("issuer: SD-JWT VC not signed")
	ErrSignW3C        = errors.New("issuer: W3C VC not signed")
	ErrRecords        = errors.New("issuer: records not read or written")
)

// Kind names the cause of an issuer error with a fixed word, for operational logs: a
// service answering "server_error" logs it so that the failure can be found and fixed
// without the error's text, which may quote input (claim values never reach the logs).
//
//	validation, not_authorised, unknown_type          the request or offer (a client error)
//	offer_unknown, offer_expired, offer_used,
//	offer_burned, wrong_pin                           the offer
//	catalogue                                         the ledger's catalogue could not be read
//	status_list_full                                  no free status index left
//	sign_sd_jwt, sign_w3c                             a form could not be built or signed
//	records                                           the department's database failed
//	canceled                                          the caller gave up (context)
//	internal                                          anything else
func Kind(err error) string {
	var ve *ValidationError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ve):
		return "validation"
	case errors.Is(err, ErrNotAuthorised):
		return "not_authorised"
	case errors.Is(err, ErrUnknownType):
		return "unknown_type"
	case errors.Is(err, ErrOfferUnknown):
		return "offer_unknown"
	case errors.Is(err, ErrOfferExpired):
		return "offer_expired"
	case errors.Is(err, ErrOfferUsed):
		return "offer_used"
	case errors.Is(err, ErrOfferBurned):
		return "offer_burned"
	case errors.Is(err, ErrWrongPIN):
		return "wrong_pin"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	case errors.Is(err, ErrCatalogue):
		return "catalogue"
	case errors.Is(err, ErrStatusListFull):
		return "status_list_full"
	case errors.Is(err, ErrSignSDJWT):
		return "sign_sd_jwt"
	case errors.Is(err, ErrSignW3C):
		return "sign_w3c"
	case errors.Is(err, ErrRecords):
		return "records"
	}
	return "internal"
}
