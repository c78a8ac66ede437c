// Package dataintegrity implements W3C Verifiable Credentials 2.0 with Data Integrity proofs
// using the EdDSA cryptosuites of W3C vc-di-eddsa:
//
//   - eddsa-rdfc-2022: RDF Dataset Canonicalization (RDFC-1.0 = URDNA2015, computed by
//     aries-framework-go's JSON-LD processor with our embedded-only document loader, or
//     for our own credential shapes from templates checked byte for byte against it: see
//     below);
//   - eddsa-jcs-2022: JSON Canonicalization Scheme (RFC 8785, implemented here).
//
// Both sign SHA-256(canonical proof configuration) || SHA-256(canonical document) with
// Ed25519 and encode the signature as a multibase base58btc proofValue. The output is
// byte-for-byte the W3C test vectors (see the tests).
//
// Verify establishes one thing: that the document carries a proof whose signature by the
// key resolveKey returns for its verificationMethod covers the document. Whether that key
// belongs to the issuer and was valid at the time, whether the credential is expired, and
// whether it is revoked are the verifier's policy (package verifier); aries'
// verifiable.ParseCredential is deliberately not used.
//
// JSON-LD processing is strict: a term no context defines, an unknown @-keyword or a
// relative IRI is an error rather than silently left out of what is signed.
//
// # The RDFC fast path
//
// The general JSON-LD processor (json-gold: expansion, node map, RDF, URDNA2015) costs
// about 100 raw Ed25519 signatures per credential. For the documents LianZheng itself makes
// (BuildCredential's credentials in both context forms, statuslist's list credentials, the
// proof configurations) the canonical N-Quads are produced from templates instead
// (fastcanon.go), for signing and verifying alike:
//
//   - A strict grammar reads the document: objects of scalar members, the subject and the
//     status entries one level down, "type" and @context (VC 2.0 then the LianZheng
//     context, the W3C examples context or an inline {"@vocab": <http(s) IRI>#}). Its key
//     spells out everything except the scalar values: every member name, the types, the
//     context with its @vocab, the number of status entries, and per scalar its kind
//     (string, IRI of scheme https/http/urn/did, number, boolean). Two documents with the
//     same key differ only in scalar values. Anything else goes to the general path.
//   - On a key's second sighting a template is made: the general path canonicalises a probe
//     with a unique marker in every scalar; each marker must come out whole, as an IRI or
//     a literal (with the datatype the term gives it; numbers and booleans untyped), which
//     is only so where the term maps the value to a literal or keeps the IRI as it is; at
//     most one blank node may appear (URDNA2015 labels a lone blank node _:c14n0 whatever
//     the values, and values never make blank nodes: IRIs have a scheme other than "_",
//     strings come out as literals). The template is then checked against the general path
//     on two more probes (quotes, backslashes, controls, newlines, Unicode, empty strings,
//     fractional and integral numbers, false and true, IRIs full of reserved characters)
//     and on the document at hand. A key that fails is remembered and always goes to the
//     general path. At most 1024 keys are kept, and a key seen once costs nothing extra,
//     so input that never repeats only pays the general path.
//   - Filling a template writes IRIs verbatim, strings escaped as json-gold escapes them,
//     numbers and booleans as json-gold writes them, sorts the lines as URDNA2015 does and
//     keeps one of two equal lines only where json-gold keeps one quad. Value-dependent
//     decisions of json-gold are made by json-gold's own functions (ld.IsAbsoluteIri,
//     ld.IsURL: an http(s) IRI it refuses loses its triples, so such a document is not
//     served by a template) or provably equivalent shortcuts, tested against them.
//
// The threat is a signature bypass: if the verifier's canonical form of a document differed
// from the signer's, a document could verify whose signed meaning is not what it shows, or
// a verifier could accept what the general path rejects. So the fast path either gives the
// general path's exact bytes or declines: the tests compare the two on every catalogue type
// with random values, on some 120 hostile variants (keyword-like and IRI-like members,
// numbers as strings, null, arrays, nested objects, coinciding node ids, other contexts,
// @vocab games, relative and blank-node IDs, URLs json-gold refuses, the strict-mode
// sentinels) and under a fuzzer (FuzzRDFCFastPath); the W3C vectors go through it too.
//
// The package also wraps aries' own Ed25519Signature2020 suite (for interoperability with
// that older suite and as the benchmark baseline) and builds W3C VC 2.0 credentials with a
// Bitstring Status List entry and LianZheng claims.
package dataintegrity

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"lianzheng/internal/edkey"
	"reflect"
	"sync"
	"time"

	"github.com/multiformats/go-multibase"

	"lianzheng/credential"
	"lianzheng/credential/jws"
)

// Cryptosuites, proof type and purposes.
const (
	CryptosuiteRDFC = "eddsa-rdfc-2022"
	CryptosuiteJCS  = "eddsa-jcs-2022"
	// ProofType is the type of every Data Integrity proof this package makes.
	ProofType = "DataIntegrityProof"
	// PurposeAssertion is the proof purpose of credentials (assertionMethod).
	PurposeAssertion = "assertionMethod"
	// PurposeAuthentication is the proof purpose of presentations (authentication).
	PurposeAuthentication = "authentication"
)

// ProofConfig describes the proof Sign adds.
type ProofConfig struct {
	// Cryptosuite is CryptosuiteRDFC (the default when empty) or CryptosuiteJCS.
	Cryptosuite string
	// VerificationMethod is the DID URL of the signing key (required),
	// e.g. did:lz:gongan#key-2 or did:key:z6Mk...#z6Mk....
	VerificationMethod string
	// ProofPurpose defaults to PurposeAssertion.
	ProofPurpose string
	// Created defaults to the current time. It is written in UTC with whole seconds.
	Created time.Time
	// Expires, Domain, Challenge and Nonce are optional and signed when set.
	Expires   time.Time
	Domain    string
	Challenge string
	Nonce     string
}

// KeyResolver returns the Ed25519 public key of a verification method (a DID URL).
// It is where the caller's trust decision lives: return an error for any key that is not
// acceptable.
type KeyResolver func(verificationMethod string) (ed25519.PublicKey, error)

// VerifyOptions tunes Verify. The zero value is the strict default.
type VerifyOptions struct {
	// ProofPurpose required of the proof; default PurposeAssertion.
	ProofPurpose string
	// Cryptosuites accepted; default both EdDSA suites.
	Cryptosuites []string
	// Now is the time against which a proof's expires is checked; default time.Now().
	Now time.Time
}

// VerifiedProof reports the proof that verified.
type VerifiedProof struct {
	Cryptosuite        string
	VerificationMethod string
	ProofPurpose       string
	Created            time.Time // zero if the proof has none
}

// SigningInput holds every intermediate value of the vc-di-eddsa hashing step.
type SigningInput struct {
	CanonicalDocument    []byte
	CanonicalProofConfig []byte
	DocumentHash         [32]byte
	ProofConfigHash      [32]byte
}

// Combined returns proofConfigHash || documentHash, the 64 bytes that are signed.
func (s *SigningInput) Combined() []byte {
	out := make([]byte, 0, 64)
	out = append(out, s.ProofConfigHash[:]...)
	return append(out, s.DocumentHash[:]...)
}

// ComputeSigningInput runs the transformation, proof configuration and hashing steps of
// cryptosuite on an unsecured document (no proof) and proof options (no proofValue).
// The proof configuration's @context is set to the document's, as the suites require.
func ComputeSigningInput(cryptosuite string, unsecured any, proofOptions map[string]any) (*SigningInput, error) {
	doc, err := toDocument(unsecured)
	if err != nil {
		return nil, err
	}
	opts, err := toDocument(proofOptions)
	if err != nil {
		return nil, err
	}
	return signingInput(cryptosuite, doc, opts)
}

func signingInput(cryptosuite string, doc, proofOptions map[string]any) (*SigningInput, error) {
	cfg := copyMap(proofOptions)
	delete(cfg, "proofValue")
	if ctx, ok := doc["@context"]; ok {
		cfg["@context"] = ctx
	} else {
		delete(cfg, "@context")
	}
	var canon func(map[string]any) ([]byte, error)
	switch cryptosuite {
	case CryptosuiteRDFC:
		canon = canonicalizeRDFC
	case CryptosuiteJCS:
		canon = func(m map[string]any) ([]byte, error) {
			b, err := JCS(m)
			if err != nil {
				return nil, credential.Errorf(credential.CodeMalformed, "%w", err)
			}
			return b, nil
		}
	default:
		return nil, credential.Errorf(credential.CodeUnsupportedAlg, "cryptosuite %q is not supported", cryptosuite)
	}
	if cfg["type"] != ProofType || cfg["cryptosuite"] != cryptosuite {
		return nil, credential.Errorf(credential.CodeBadProof, "proof configuration must have type %s and cryptosuite %s", ProofType, cryptosuite)
	}
	cp, err := canon(cfg)
	if err != nil {
		return nil, err
	}
	cd, err := canon(doc)
	if err != nil {
		return nil, err
	}
	return &SigningInput{
		CanonicalDocument:    cd,
		CanonicalProofConfig: cp,
		DocumentHash:         sha256.Sum256(cd),
		ProofConfigHash:      sha256.Sum256(cp),
	}, nil
}

// xsdDateTime formats t as the proofs' dateTime: UTC, whole seconds, "Z".
func xsdDateTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// Sign adds a Data Integrity proof to doc and returns the secured document.
// doc is a JSON object as map[string]any, any value encoding/json can marshal (such as a
// struct), or JSON text ([]byte, json.RawMessage, string). It must not already have a proof.
// The input is never modified.
func Sign(doc any, cfg ProofConfig, key ed25519.PrivateKey) (map[string]any, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("dataintegrity: Ed25519 private key must be %d bytes", ed25519.PrivateKeySize)
	}
	return SignWith(doc, cfg, jws.NewEd25519Signer(key))
}

// SignWith is Sign with the Ed25519 signature made by signer (a sealed key store's signer
// that never reveals the private key, say). The first signature of each public key in the
// process is checked against that key before it is used (a key store that signs with
// another key than the one it names fails there, at once); later ones are not — one verify
// costs 2.5 signs, and a batch signs millions (the SD-JWT path never re-verified either).
func SignWith(doc any, cfg ProofConfig, signer jws.Signer) (map[string]any, error) {
	pub, ok := signer.Public().(ed25519.PublicKey)
	if !ok || signer.Alg() != jws.AlgEdDSA {
		return nil, fmt.Errorf("dataintegrity: %s needs an Ed25519 signer", cfg.Cryptosuite)
	}
	unsecured, err := toDocument(doc)
	if err != nil {
		return nil, err
	}
	if _, ok := unsecured["proof"]; ok {
		return nil, fmt.Errorf("dataintegrity: document already has a proof (proof sets and chains are not supported)")
	}
	if cfg.Cryptosuite == "" {
		cfg.Cryptosuite = CryptosuiteRDFC
	}
	if cfg.VerificationMethod == "" {
		return nil, fmt.Errorf("dataintegrity: proof needs a verificationMethod")
	}
	if cfg.ProofPurpose == "" {
		cfg.ProofPurpose = PurposeAssertion
	}
	if cfg.Created.IsZero() {
		cfg.Created = time.Now()
	}
	proof := map[string]any{
		"type":               ProofType,
		"cryptosuite":        cfg.Cryptosuite,
		"created":            xsdDateTime(cfg.Created),
		"verificationMethod": cfg.VerificationMethod,
		"proofPurpose":       cfg.ProofPurpose,
	}
	if !cfg.Expires.IsZero() {
		proof["expires"] = xsdDateTime(cfg.Expires)
	}
	for _, o := range [...]struct{ k, v string }{{"domain", cfg.Domain}, {"challenge", cfg.Challenge}, {"nonce", cfg.Nonce}} {
		if o.v != "" {
			proof[o.k] = o.v
		}
	}
	in, err := signingInput(cfg.Cryptosuite, unsecured, proof)
	if err != nil {
		return nil, err
	}
	sig, err := signer.Sign(in.Combined())
	if err != nil {
		return nil, fmt.Errorf("dataintegrity: sign: %w", err)
	}
	if err := checkFirstSignature(pub, in.Combined(), sig); err != nil {
		return nil, err
	}
	pv, err := multibase.Encode(multibase.Base58BTC, sig)
	if err != nil {
		return nil, fmt.Errorf("dataintegrity: %w", err)
	}
	// eddsa-jcs-2022 keeps the proof's @context (it is part of what JCS signed, and the
	// verifier checks it against the document's); eddsa-rdfc-2022 proofs carry none.
	if cfg.Cryptosuite == CryptosuiteJCS {
		if ctx, ok := unsecured["@context"]; ok {
			proof["@context"] = ctx
		}
	}
	proof["proofValue"] = pv
	secured := copyMap(unsecured)
	secured["proof"] = proof
	return secured, nil
}

// Verify checks the single Data Integrity proof on doc with the default options.
// Every failure is a *credential.Error: CodeUnsigned (no proof), CodeUnsupportedAlg (a
// proof type or cryptosuite we do not accept), CodeExpired (proof expired), CodeMalformed
// or CodeOversized (unparseable input), and CodeBadProof for everything else.
func Verify(doc any, resolve KeyResolver) (*VerifiedProof, error) {
	return VerifyWithOptions(doc, resolve, VerifyOptions{})
}

// VerifyWithOptions is Verify with explicit options.
func VerifyWithOptions(doc any, resolve KeyResolver, o VerifyOptions) (*VerifiedProof, error) {
	if resolve == nil {
		return nil, credential.Errorf(credential.CodeBadProof, "no key resolver")
	}
	secured, err := toDocument(doc)
	if err != nil {
		return nil, err
	}
	pv, ok := secured["proof"]
	if !ok || pv == nil {
		return nil, credential.Errorf(credential.CodeUnsigned, "document has no proof")
	}
	if arr, isArr := pv.([]any); isArr {
		if len(arr) != 1 {
			return nil, credential.Errorf(credential.CodeBadProof, "proof sets are not supported (%d proofs)", len(arr))
		}
		pv = arr[0]
	}
	proof, ok := pv.(map[string]any)
	if !ok {
		return nil, credential.Errorf(credential.CodeBadProof, "proof is not an object")
	}

	if t, _ := proof["type"].(string); t != ProofType {
		return nil, credential.Errorf(credential.CodeUnsupportedAlg, "proof type %q is not %s", short(proof["type"]), ProofType)
	}
	suite, _ := proof["cryptosuite"].(string)
	allowed := o.Cryptosuites
	if len(allowed) == 0 {
		allowed = []string{CryptosuiteRDFC, CryptosuiteJCS}
	}
	if !contains(allowed, suite) || (suite != CryptosuiteRDFC && suite != CryptosuiteJCS) {
		return nil, credential.Errorf(credential.CodeUnsupportedAlg, "cryptosuite %q is not accepted", short(proof["cryptosuite"]))
	}
	wantPurpose := o.ProofPurpose
	if wantPurpose == "" {
		wantPurpose = PurposeAssertion
	}
	if p, _ := proof["proofPurpose"].(string); p != wantPurpose {
		return nil, credential.Errorf(credential.CodeBadProof, "proof purpose %q, want %q", short(proof["proofPurpose"]), wantPurpose)
	}
	vm, _ := proof["verificationMethod"].(string)
	if vm == "" {
		return nil, credential.Errorf(credential.CodeBadProof, "proof has no verificationMethod")
	}
	res := &VerifiedProof{Cryptosuite: suite, VerificationMethod: vm, ProofPurpose: wantPurpose}
	if c, ok := proof["created"]; ok {
		s, _ := c.(string)
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return nil, credential.Errorf(credential.CodeBadProof, "proof created %q is not a dateTime", short(c))
		}
		res.Created = t
	}
	if e, ok := proof["expires"]; ok {
		s, _ := e.(string)
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return nil, credential.Errorf(credential.CodeBadProof, "proof expires %q is not a dateTime", short(e))
		}
		now := o.Now
		if now.IsZero() {
			now = time.Now()
		}
		if now.After(t) {
			return nil, credential.Errorf(credential.CodeExpired, "proof expired at %s", s)
		}
	}
	pvs, _ := proof["proofValue"].(string)
	enc, sig, err := multibase.Decode(pvs)
	if err != nil || enc != multibase.Base58BTC || len(sig) != ed25519.SignatureSize {
		return nil, credential.Errorf(credential.CodeBadProof, "proofValue is not a base58btc Ed25519 signature")
	}

	unsecured := copyMap(secured)
	delete(unsecured, "proof")
	options := copyMap(proof)
	delete(options, "proofValue")
	if pctx, ok := options["@context"]; ok {
		if !contextPrefix(pctx, secured["@context"]) {
			return nil, credential.Errorf(credential.CodeBadProof, "proof @context is not a prefix of the document's @context")
		}
		unsecured["@context"] = pctx
	}
	in, err := signingInput(suite, unsecured, options)
	if err != nil {
		if credential.CodeOf(err) == credential.CodeMalformed {
			return nil, credential.Errorf(credential.CodeBadProof, "cannot canonicalise: %w", err)
		}
		return nil, err
	}
	pub, err := resolve(vm)
	if err != nil {
		return nil, credential.Errorf(credential.CodeBadProof, "verification method %q: %w", vm, err)
	}
	if len(pub) != ed25519.PublicKeySize {
		return nil, credential.Errorf(credential.CodeBadProof, "verification method %q is not an Ed25519 key", vm)
	}
	if !edkey.Verify(pub, in.Combined(), sig) {
		return nil, credential.Errorf(credential.CodeBadProof, "signature does not verify")
	}
	return res, nil
}

// contextPrefix reports whether the proof's @context equals the first entries of the
// document's @context, in order.
func contextPrefix(proofCtx, docCtx any) bool {
	asList := func(v any) []any {
		if l, ok := v.([]any); ok {
			return l
		}
		if v == nil {
			return nil
		}
		return []any{v}
	}
	p, d := asList(proofCtx), asList(docCtx)
	if len(p) == 0 || len(p) > len(d) {
		return false
	}
	for i := range p {
		if !reflect.DeepEqual(p[i], d[i]) {
			return false
		}
	}
	return true
}

func contains(l []string, s string) bool {
	for _, e := range l {
		if e == s {
			return true
		}
	}
	return false
}

// short renders an untrusted value for an error message, bounded.
func short(v any) string {
	r := []rune(fmt.Sprint(v))
	if len(r) > 64 {
		return string(r[:64]) + "…"
	}
	return string(r)
}

// checkedKeys holds the public keys whose signer's first signature verified (bounded:
// cleared when full; a process has a handful of signing keys).
var checkedKeys = struct {
	sync.Mutex
	m map[string]struct{}
}{m: map[string]struct{}{}}

const maxCheckedKeys = 1024

// checkFirstSignature verifies sig the first time pub signs in this process (see SignWith).
func checkFirstSignature(pub ed25519.PublicKey, msg, sig []byte) error {
	checkedKeys.Lock()
	_, ok := checkedKeys.m[string(pub)]
	checkedKeys.Unlock()
	if ok {
		return nil
	}
	if !edkey.Verify(pub, msg, sig) {
		return errors.New("dataintegrity: the signer produced an invalid signature")
	}
	checkedKeys.Lock()
	if len(checkedKeys.m) >= maxCheckedKeys {
		clear(checkedKeys.m)
	}
	checkedKeys.m[string(pub)] = struct{}{}
	checkedKeys.Unlock()
	return nil
}
