// Package coredemo runs the real-estate registration scenario (不动产登记) on the credential
// core alone, headless: public security issues a household register and civil affairs a
// marriage certificate (SD-JWT VC, plus the same credential as a W3C VC 2.0 with an
// eddsa-rdfc-2022 proof); the citizen answers the window's request with both in one QR
// code; the window decodes the QR image, rebuilds the standard SD-JWT texts and verifies
// them, including their status; then civil affairs revokes the certificate and the same
// answer is rejected.
//
// Trust here comes from an in-memory registry of the departments' DID key histories; the
// consortium ledger replaces it (issue 3). All personal data is invented test data.
package coredemo

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"lianzheng/assets"
	"lianzheng/credential"
	"lianzheng/credential/dataintegrity"
	"lianzheng/credential/jws"
	"lianzheng/credential/sdjwt"
	"lianzheng/credential/sdjwtvc"
	"lianzheng/credential/statuslist"
	"lianzheng/did"
	"lianzheng/qr"
)

// Verdict is the window's finding on one presented credential.
type Verdict struct {
	Type    string            // catalogue type id
	TypeZh  string            // type name for the clerk
	OK      bool              // valid
	Code    credential.Code   // reason when not valid
	Message string            // clerk-facing message (zh)
	Fields  [][2]string       // disclosed fields: label, value
	Issuer  string            // issuing department DID
	Hidden  int               // number of claims the citizen did not disclose
	raw     *sdjwtvc.Verified // for tests
}

// Report is what the scenario produced.
type Report struct {
	ResponseQR     string // the response QR text (LZ1R:...)
	QRVersion      int    // QR version at ECC level M
	PlainChars     int    // what the plain SD-JWT texts would need, zlib+Base45
	Verdicts       []Verdict
	AfterRevoke    []Verdict
	W3CVerified    int // W3C VCs whose eddsa-rdfc-2022 proof verified
	DecodedFromPNG bool
}

type department struct {
	dep    *assets.Department
	key    ed25519.PrivateKey
	signer jws.Signer
	kid    string
	status *statuslist.List
	alloc  *statuslist.Allocator
	uri    string
}

// Run executes the scenario; with outDir non-empty it writes the artefacts there.
func Run(outDir string, now time.Time) (*Report, error) {
	cat, err := assets.DemoCatalogue()
	if err != nil {
		return nil, err
	}
	registry, _ := did.NewStaticResolver()
	deps := map[string]*department{}
	for _, id := range []string{"public-security", "civil-affairs"} {
		d, err := newDepartment(cat, id, registry, now)
		if err != nil {
			return nil, err
		}
		deps[id] = d
	}
	window := cat.Windows[0]
	item := window.ServiceItems[0]

	// 1. The departments issue; the citizen's wallet receives (a fresh holder key each).
	type held struct {
		typ    *assets.CredentialType
		sd     *sdjwt.SDJWT
		holder jws.Signer
		dep    *department
		status int
	}
	claims := map[string]map[string]any{
		"household-register": {
			"name": "测试用户甲", "id_number": "TEST00000000000001", "birth_date": "1990-01-01",
			"relation_to_head": "户主", "household_number": "TEST-H-0001",
			"address": "示例省示例市样例区演示路1号", "marital_status": "已婚",
		},
		"marriage-certificate": {
			"holder_name": "测试用户甲", "spouse_name": "测试用户乙", "spouse_id_number": "TEST00000000000002",
			"registration_date": "2018-05-20", "certificate_number": "TEST-J-2018-0001", "registry": "示例市民政局婚姻登记处",
		},
	}
	var wallet []held
	var w3c []map[string]any
	for _, r := range item.Requests {
		typ, _ := cat.Type(r.Type)
		dep := deps[typ.Issuers[0]]
		_, hk, _ := ed25519.GenerateKey(rand.Reader)
		holder := jws.NewEd25519Signer(hk)
		hpub, _ := did.NewPublicKey(hk.Public())
		idx, err := dep.alloc.Allocate()
		if err != nil {
			return nil, err
		}
		sd, err := sdjwtvc.Issue(sdjwtvc.Credential{
			Issuer: dep.dep.DID, KeyID: dep.kid, VCT: typ.VCT, IssuedAt: now.Add(-time.Hour),
			Expires: now.AddDate(0, 0, typ.MaxValidityDays), Claims: claims[typ.ID],
			Disclosable: typ.Disclosable, Holder: hpub, Status: &sdjwtvc.Status{Index: idx, URI: dep.uri},
		}, dep.signer)
		if err != nil {
			return nil, fmt.Errorf("issue %s: %w", typ.ID, err)
		}
		wallet = append(wallet, held{typ, sd, holder, dep, idx})
		vc, err := dataintegrity.NewCredential(dataintegrity.CredentialConfig{
			Types: []string{w3cType(typ.ID)}, Issuer: dep.dep.DID, Holder: hpub.DIDKey(),
			ValidFrom: now.Add(-time.Hour), ValidUntil: now.AddDate(0, 0, typ.MaxValidityDays), Claims: claims[typ.ID],
			Status: []dataintegrity.StatusEntry{{ListCredential: dep.uri, Index: idx, Purpose: statuslist.PurposeRevocation}},
		})
		if err != nil {
			return nil, fmt.Errorf("w3c %s: %w", typ.ID, err)
		}
		signed, err := dataintegrity.SignCredential(vc, dep.kid, dep.key, now.Add(-time.Hour))
		if err != nil {
			return nil, fmt.Errorf("w3c sign %s: %w", typ.ID, err)
		}
		w3c = append(w3c, signed)
	}
	rep := &Report{}
	for _, vc := range w3c {
		if _, err := dataintegrity.Verify(vc, func(vm string) (ed25519.PublicKey, error) {
			k, err := did.AssertionKeyAt(context.Background(), registry, vm, now)
			if err != nil {
				return nil, err
			}
			pk, _ := k.Key.(ed25519.PublicKey)
			return pk, nil
		}); err != nil {
			return nil, fmt.Errorf("w3c verify: %w", err)
		}
		rep.W3CVerified++
	}

	// 2. The window's request: nonce and audience (the signed request QR is issue 6's).
	nb := make([]byte, 12)
	_, _ = rand.Read(nb)
	nonce, aud := jws.B64.EncodeToString(nb), window.DID

	// 3. The citizen discloses exactly what the service item asks for, in one QR.
	var texts, plain []string
	for i, h := range wallet {
		sub, err := h.sd.Select(item.Requests[i].Fields...)
		if err != nil {
			return nil, err
		}
		p, err := sub.Bind(h.holder, nonce, aud, now)
		if err != nil {
			return nil, err
		}
		texts = append(texts, p)
		plain = append(plain, p)
	}
	known := knownStrings(cat, deps)
	ctx := &qr.CompactContext{Nonce: nonce, Audience: aud, Known: known}
	body, err := qr.EncodeSDJWT(texts, ctx)
	if err != nil {
		return nil, err
	}
	rep.ResponseQR = qr.Encode("LZ1R", body)
	rep.PlainChars = len(qr.Encode("LZ1R", []byte(joinLines(plain))))
	if rep.QRVersion, err = qr.Version(rep.ResponseQR); err != nil {
		return nil, err
	}
	png, err := qr.RenderPNG(rep.ResponseQR, 0)
	if err != nil {
		return nil, err
	}

	// 4. The window reads the QR image and verifies.
	scanned, err := qr.DecodePNG(png)
	if err != nil {
		return nil, fmt.Errorf("read response QR: %w", err)
	}
	rep.DecodedFromPNG = scanned == rep.ResponseQR
	verify := func() ([]Verdict, error) {
		_, b, err := qr.Decode(scanned, 64<<10)
		if err != nil {
			return nil, err
		}
		got, err := qr.DecodeSDJWT(b, ctx)
		if err != nil {
			return nil, err
		}
		var out []Verdict
		for _, text := range got {
			out = append(out, check(cat, deps, registry, text, nonce, aud, now))
		}
		return out, nil
	}
	if rep.Verdicts, err = verify(); err != nil {
		return nil, err
	}

	// 5. Civil affairs revokes the marriage certificate; the same answer is now rejected.
	for _, h := range wallet {
		if h.typ.ID == "marriage-certificate" {
			if err := h.dep.status.Set(h.status, statuslist.StatusInvalid); err != nil {
				return nil, err
			}
		}
	}
	if rep.AfterRevoke, err = verify(); err != nil {
		return nil, err
	}

	if outDir != "" {
		if err := write(outDir, artefacts(w3c, texts), rep, png); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

func newDepartment(cat *assets.Catalogue, id string, reg *did.StaticResolver, now time.Time) (*department, error) {
	dep, ok := cat.Department(id)
	if !ok {
		return nil, fmt.Errorf("no department %s", id)
	}
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	mk, err := did.EncodeMultikey(k.Public())
	if err != nil {
		return nil, err
	}
	created := now.AddDate(-1, 0, 0)
	if err := reg.Put(&did.History{DID: dep.DID, Created: created, Keys: []did.KeyRecord{{
		ID: "key-1", PublicKeyMultibase: mk, ValidFrom: created, Purposes: []string{"assertionMethod"}}}}); err != nil {
		return nil, err
	}
	list, err := statuslist.New(statuslist.MinSize, 2)
	if err != nil {
		return nil, err
	}
	alloc, err := statuslist.NewAllocator(list.Size())
	if err != nil {
		return nil, err
	}
	return &department{dep: dep, key: k, signer: jws.NewEd25519Signer(k), kid: dep.DID + "#key-1",
		status: list, alloc: alloc, uri: "urn:lz:status:" + id + ":0"}, nil
}

// check is the window's verification of one presentation: signature, holder binding, issuer
// authorised for the type in the catalogue, status.
func check(cat *assets.Catalogue, deps map[string]*department, reg did.Resolver, text, nonce, aud string, now time.Time) Verdict {
	v, err := sdjwtvc.Verify(text, sdjwtvc.VerifyOptions{
		IssuerKeyAt: func(kid string, at time.Time) (crypto.PublicKey, error) {
			k, err := did.AssertionKeyAt(context.Background(), reg, kid, at)
			return k.Key, err
		},
		Nonce: nonce, Audience: aud, Now: now,
	})
	if err != nil {
		return fail("", credential.CodeOf(err))
	}
	var typ *assets.CredentialType
	for i := range cat.Types {
		if cat.Types[i].VCT == v.VCT {
			typ = &cat.Types[i]
		}
	}
	if typ == nil {
		return fail("", credential.CodeWrongType)
	}
	var dep *department
	for _, id := range typ.Issuers {
		if d, ok := deps[id]; ok && d.dep.DID == v.Issuer {
			dep = d
		}
	}
	if dep == nil {
		return fail(typ.Name.Zh, credential.CodeIssuerKeyMismatch)
	}
	if v.Status == nil || v.Status.URI != dep.uri {
		return fail(typ.Name.Zh, credential.CodeMissingClaim)
	}
	switch st, err := dep.status.Get(v.Status.Index); {
	case err != nil:
		return fail(typ.Name.Zh, credential.CodeMalformed)
	case st == statuslist.StatusInvalid:
		return fail(typ.Name.Zh, credential.CodeRevoked)
	case st == statuslist.StatusSuspended:
		return fail(typ.Name.Zh, credential.CodeSuspended)
	}
	out := Verdict{Type: typ.ID, TypeZh: typ.Name.Zh, OK: true, Issuer: v.Issuer, raw: v,
		Message: "核验通过", Hidden: len(typ.Disclosable) - len(v.Disclosed)}
	for _, c := range typ.Claims {
		if val, ok := v.Claims[c.Name]; ok {
			out.Fields = append(out.Fields, [2]string{c.Label.Zh, fmt.Sprint(val)})
		}
	}
	return out
}

func fail(typ string, c credential.Code) Verdict {
	return Verdict{TypeZh: typ, Code: c, Message: credential.Message(c, "zh")}
}

func knownStrings(cat *assets.Catalogue, deps map[string]*department) []string {
	var k []string
	for _, d := range cat.Departments {
		k = append(k, d.DID, d.DID+"#key-1")
	}
	for _, d := range deps {
		k = append(k, d.uri)
	}
	for _, t := range cat.Types {
		k = append(k, t.VCT)
		for _, c := range t.Claims {
			if !slices.Contains(k, c.Name) {
				k = append(k, c.Name)
			}
		}
	}
	for _, w := range cat.Windows {
		k = append(k, w.DID)
	}
	return k
}

func w3cType(id string) string {
	switch id {
	case "household-register":
		return "HouseholdRegisterCredential"
	case "marriage-certificate":
		return "MarriageCertificateCredential"
	}
	return "LianZhengCredential"
}

func joinLines(s []string) string {
	out := ""
	for _, x := range s {
		out += x + "\n"
	}
	return out
}

type file struct {
	name string
	data []byte
}

func artefacts(w3c []map[string]any, texts []string) []file {
	var fs []file
	names := []string{"household-register", "marriage-certificate"}
	for i := range texts {
		fs = append(fs, file{names[i] + ".presentation.txt", []byte(texts[i])})
		b, _ := json.MarshalIndent(w3c[i], "", "  ")
		fs = append(fs, file{names[i] + ".w3c-vc.json", b})
	}
	return fs
}

func write(dir string, fs []file, rep *Report, png []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	fs = append(fs, file{"response-qr.txt", []byte(rep.ResponseQR)}, file{"response-qr.png", png})
	for _, f := range fs {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", f.name, err)
		}
	}
	return nil
}
