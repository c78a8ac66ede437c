// Package strictjson parses untrusted JSON the way a verifier must: duplicate object keys are
// an error (RFC 7515 §5.2 and RFC 9901 require rejecting or not trusting them), invalid
// UTF-8 is an error, nesting is bounded, and numbers are kept as json.Number so nothing is
// rounded. Value is a hand-written one-pass parser (the verification hot path), fuzzed for
// equal results against a reference walk over encoding/json/jsontext's token stream; Check
// validates on that token stream without building values, with a caller's depth bound. It is
// the one strict reader of the module: credential (JWS, SD-JWT, receipts) and did
// (documents) use it.
package strictjson

import (
	"bytes"
	"encoding/json"
	"encoding/json/jsontext"
	"errors"
	"fmt"
	"io"
)

// MaxDepth bounds nesting of arrays and objects.
const MaxDepth = 32

// Check validates one JSON value strictly — duplicate member names, invalid UTF-8, nesting
// deeper than maxDepth and trailing data are errors — without building it.
func Check(b []byte, maxDepth int) error {
	d := jsontext.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.ReadToken()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("no JSON value")
			}
			return err
		}
		if k := tok.Kind(); (k == '{' || k == '[') && d.StackDepth() > maxDepth {
			return fmt.Errorf("JSON nested deeper than %d", maxDepth)
		}
		if d.StackDepth() == 0 {
			break
		}
	}
	if _, err := d.ReadToken(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("trailing data after JSON value")
	}
	return nil
}

// Decode parses untrusted JSON into v after checking it strictly (Check with MaxDepth): a
// duplicate member cannot smuggle a second value past the one a struct field keeps (with
// encoding/json alone the last duplicate silently wins), invalid UTF-8 and trailing data are
// refused. Use it for every JSON document a service or the wallet reads from outside.
func Decode(b []byte, v any) error {
	if err := Check(b, MaxDepth); err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
