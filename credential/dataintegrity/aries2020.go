package dataintegrity

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/jsonld"
	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/signer"
	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/suite"
	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/suite/ed25519signature2020"
	"github.com/hyperledger/aries-framework-go/pkg/doc/signature/verifier"

	"lianzheng/credential"
	"lianzheng/credential/ldcontext"
)

// Ed25519Signature2020 is the proof type of aries' older Linked Data suite.
const Ed25519Signature2020 = ed25519signature2020.SignatureType

// ed25519Signer adapts an Ed25519 private key to aries' suite signer.
type ed25519Signer struct{ key ed25519.PrivateKey }

func (s ed25519Signer) Sign(data []byte) ([]byte, error) { return ed25519.Sign(s.key, data), nil }
func (s ed25519Signer) Alg() string                      { return "EdDSA" }

// SignEd25519Signature2020 signs a JSON-LD document with aries-framework-go's own
// Ed25519Signature2020 suite (signer.DocumentSigner), with our embedded contexts. The
// document's @context must include https://w3id.org/security/suites/ed25519-2020/v1.
// It exists for interoperability with that older suite and as the benchmark baseline;
// LianZheng issues eddsa-rdfc-2022.
func SignEd25519Signature2020(doc []byte, verificationMethod string, created time.Time, key ed25519.PrivateKey) ([]byte, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("dataintegrity: Ed25519 private key must be %d bytes", ed25519.PrivateKeySize)
	}
	s := signer.New(ed25519signature2020.New(suite.WithSigner(ed25519Signer{key})))
	created = created.UTC().Truncate(time.Second)
	out, err := s.Sign(&signer.Context{
		SignatureType:      Ed25519Signature2020,
		Created:            &created,
		VerificationMethod: verificationMethod,
		Purpose:            PurposeAssertion,
	}, doc, jsonld.WithDocumentLoader(ldcontext.NewDocumentLoader()))
	if err != nil {
		return nil, err
	}
	// aries always writes "proof" as an array; a single proof is an object in the W3C
	// examples and vectors, and both mean the same in JSON-LD (proof is a @graph container).
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		return nil, err
	}
	if l, ok := m["proof"].([]any); ok && len(l) == 1 {
		m["proof"] = l[0]
	}
	return json.Marshal(m)
}

// ariesKeyResolver adapts a KeyResolver to aries' verifier.
type ariesKeyResolver KeyResolver

func (r ariesKeyResolver) Resolve(id string) (*verifier.PublicKey, error) {
	pub, err := r(id)
	if err != nil {
		return nil, err
	}
	return &verifier.PublicKey{Type: "Ed25519VerificationKey2020", Value: pub}, nil
}

// VerifyEd25519Signature2020 verifies an Ed25519Signature2020 proof with aries'
// verifier.DocumentVerifier (strict RDF validation on). aries checks only the signature;
// this wrapper also insists on one proof of that type with proof purpose assertionMethod.
// Failures are *credential.Error with CodeBadProof (CodeUnsigned if there is no proof,
// CodeUnsupportedAlg for another proof type).
func VerifyEd25519Signature2020(doc []byte, resolve KeyResolver) (err error) {
	defer func() { // aries/json-gold can panic on hostile JSON-LD (see canonicalizeRDFC)
		if r := recover(); r != nil {
			err = credential.Errorf(credential.CodeMalformed, "aries JSON-LD processor failed on this input")
		}
	}()
	if resolve == nil {
		return credential.Errorf(credential.CodeBadProof, "no key resolver")
	}
	m, err := toDocument(doc)
	if err != nil {
		return err
	}
	pv := m["proof"]
	if l, isArr := pv.([]any); isArr && len(l) == 1 {
		pv = l[0]
	}
	p, ok := pv.(map[string]any)
	if !ok {
		if pv == nil {
			return credential.Errorf(credential.CodeUnsigned, "document has no proof")
		}
		return credential.Errorf(credential.CodeBadProof, "expected a single proof object")
	}
	if p["type"] != Ed25519Signature2020 {
		return credential.Errorf(credential.CodeUnsupportedAlg, "proof type %q is not %s", short(p["type"]), Ed25519Signature2020)
	}
	if p["proofPurpose"] != PurposeAssertion {
		return credential.Errorf(credential.CodeBadProof, "proof purpose %q, want %s", short(p["proofPurpose"]), PurposeAssertion)
	}
	v, err := verifier.New(ariesKeyResolver(resolve),
		ed25519signature2020.New(suite.WithVerifier(ed25519signature2020.NewPublicKeyVerifier())))
	if err != nil {
		return credential.Errorf(credential.CodeBadProof, "aries verifier: %w", err)
	}
	// Hand aries JSON it parses the same way we did (no duplicate keys got this far).
	b, err := json.Marshal(m)
	if err != nil {
		return credential.Errorf(credential.CodeMalformed, "%w", err)
	}
	if err := v.Verify(b, jsonld.WithDocumentLoader(ldcontext.NewDocumentLoader()), jsonld.WithValidateRDF()); err != nil {
		return credential.Errorf(credential.CodeBadProof, "Ed25519Signature2020: %w", err)
	}
	return nil
}
