package wire

import (
	"lianzheng/credential/sdjwtcbor"
	"lianzheng/qr"
)

// EncodeResponse makes the LZ1R text of an answer: the presentations (SD-JWT+KB texts whose
// KB-JWTs are bound to the request's NonceString and Audience) in the compact form, with
// ctx.Known the dictionary from Known. The window decodes the body with sdjwtcbor.Decode
// and the same nonce, audience and (its own) dictionary.
func EncodeResponse(presentations []string, ctx *sdjwtcbor.Context) (string, error) {
	body, err := sdjwtcbor.Encode(presentations, ctx)
	if err != nil {
		return "", err
	}
	return qr.Encode(PrefixResponse, body), nil
}
