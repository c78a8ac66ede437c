package oid4vci

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"lianzheng/issuer"
	"lianzheng/ledger"
	"lianzheng/qr"
)

// Credential configurations. Every catalogue type the department may issue is offered in
// two forms of one credential (one issuance record, one status index, one holder key):
//
//	<type id>          dc+sd-jwt (SD-JWT VC), vct = the catalogue's vct
//	<type id>+ldp_vc   ldp_vc (W3C VC 2.0 with an eddsa-rdfc-2022 Data Integrity proof)
//
// An offer names both; the token response has an authorization_details entry for each, with
// one credential identifier each ("<configuration id>#<offer id>").
const (
	// FormatSDJWTVC is the OpenID4VCI format identifier of SD-JWT VC.
	FormatSDJWTVC = "dc+sd-jwt"
	// FormatLDPVC is the format identifier of a W3C VC secured with Data Integrity (1.0 A.1.2).
	FormatLDPVC = "ldp_vc"
	// LDPVCSuffix turns a type id into the configuration id of its ldp_vc form.
	LDPVCSuffix = "+" + FormatLDPVC
	// W3CCryptosuite is the Data Integrity cryptosuite the department signs W3C VCs with.
	W3CCryptosuite = "eddsa-rdfc-2022"
)

// ConfigurationIDs are the credential configuration ids of a catalogue type: the SD-JWT VC
// form first, then the ldp_vc form.
func ConfigurationIDs(typeID string) []string { return []string{typeID, typeID + LDPVCSuffix} }

// ParseConfigurationID splits a configuration id into its catalogue type id and format.
func ParseConfigurationID(id string) (typeID, format string) {
	if t, ok := strings.CutSuffix(id, LDPVCSuffix); ok {
		return t, FormatLDPVC
	}
	return id, FormatSDJWTVC
}

// credentialIdentifier is the credential identifier (token response, §6.2) of one form of
// an offer's credential.
func credentialIdentifier(configID, offerID string) string { return configID + "#" + offerID }

// proofAlgs are the key proof algorithms accepted (VerifyProof).
var proofAlgs = []any{"EdDSA", "ES256"}

// Metadata builds the credential issuer metadata (OpenID4VCI 1.0 §12.2): two configurations
// per type the department is authorised for, and the department's display name from its
// member record on the ledger.
func (s *Server) Metadata(ctx context.Context) (map[string]any, error) {
	ts, err := s.Dept.Types(ctx)
	if err != nil {
		return nil, err
	}
	w3cCtx, err := s.Dept.W3CContext(ctx)
	if err != nil {
		return nil, err
	}
	confs := map[string]any{}
	for _, t := range ts {
		confs[t.ID] = sdjwtConfiguration(t)
		confs[t.ID+LDPVCSuffix] = ldpConfiguration(t, w3cCtx)
	}
	md := map[string]any{
		"credential_issuer":                   s.IssuerURL,
		"credential_endpoint":                 s.IssuerURL + "/credential",
		"nonce_endpoint":                      s.IssuerURL + "/nonce",
		"token_endpoint":                      s.IssuerURL + "/token",
		"notification_endpoint":               s.IssuerURL + "/notification",
		"credential_configurations_supported": confs,
	}
	switch m, err := s.Dept.Member(ctx); {
	case err == nil:
		md["display"] = bilingualDisplay(m.Name)
	case errors.Is(err, issuer.ErrNoMemberRecord):
		// no name rather than the machine id
		s.limited.log(s.log(), s.now(), "metadata: no member record for the department's display name", "err_kind", errKind(err))
	default:
		return nil, err
	}
	return md, nil
}

func bilingualDisplay(t ledger.Text) []any {
	return []any{map[string]any{"name": t.Zh, "locale": "zh-CN"}, map[string]any{"name": t.En, "locale": "en"}}
}

// claims describes the type's claims for credential_metadata; prefix is the path of the
// claims' parent in the credential (none in an SD-JWT VC, credentialSubject in a W3C VC).
func claims(t ledger.CredentialType, prefix ...any) []any {
	var out []any
	for _, c := range t.Claims {
		out = append(out, map[string]any{
			"path":      append(append([]any{}, prefix...), c.Name),
			"mandatory": c.Required,
			"display":   bilingualDisplay(c.Label),
		})
	}
	return out
}

func common(t ledger.CredentialType, format string, binding, signing []any, prefix ...any) map[string]any {
	return map[string]any{
		"format": format,
		"scope":  t.ID,
		"cryptographic_binding_methods_supported": binding,
		"credential_signing_alg_values_supported": signing,
		"proof_types_supported":                   map[string]any{"jwt": map[string]any{"proof_signing_alg_values_supported": proofAlgs}},
		"credential_metadata":                     map[string]any{"display": bilingualDisplay(t.Name), "claims": claims(t, prefix...)},
	}
}

func sdjwtConfiguration(t ledger.CredentialType) map[string]any {
	c := common(t, FormatSDJWTVC, []any{"jwk"}, []any{"EdDSA"})
	c["vct"] = t.VCT
	return c
}

// ldpConfiguration is a type's W3C form; w3cCtx is the @context the department's W3C VCs
// carry now (issuer.Department.W3CContext).
func ldpConfiguration(t ledger.CredentialType, w3cCtx []any) map[string]any {
	c := common(t, FormatLDPVC, []any{"did:key"}, []any{W3CCryptosuite}, "credentialSubject")
	c["credential_definition"] = map[string]any{"@context": w3cCtx, "type": []any{"VerifiableCredential", issuer.W3CType(t.ID)}}
	return c
}

func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeErr(w, errf(405, "invalid_request", "GET only"))
		return
	}
	m, err := s.Metadata(r.Context())
	if err != nil {
		s.log().Error("metadata", "err_kind", errKind(err))
		writeErr(w, errf(500, "server_error", "catalogue unavailable"))
		return
	}
	writeJSON(w, 200, m)
}

func (s *Server) asMetadata(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeErr(w, errf(405, "invalid_request", "GET only"))
		return
	}
	writeJSON(w, 200, map[string]any{
		"issuer":                s.IssuerURL,
		"token_endpoint":        s.IssuerURL + "/token",
		"grant_types_supported": []any{GrantPreAuth},
		"pre-authorized_grant_anonymous_access_supported": true,
	})
}

// OfferURI renders an offer as openid-credential-offer://?credential_offer=… (by value).
func (s *Server) OfferURI(o *issuer.Offer) string { return OfferURI(s.IssuerURL, o) }

// OfferURI renders an offer of issuerURL by value: both configurations of the offer's type
// (ConfigurationIDs), the pre-authorised code and a 6-digit numeric tx_code.
func OfferURI(issuerURL string, o *issuer.Offer) string {
	b, _ := json.Marshal(map[string]any{
		"credential_issuer":            issuerURL,
		"credential_configuration_ids": ConfigurationIDs(o.Type),
		"grants": map[string]any{GrantPreAuth: map[string]any{
			"pre-authorized_code": o.Code,
			"tx_code": map[string]any{"input_mode": "numeric", "length": issuer.PINDigits,
				"description": "请输入窗口提供的 6 位数字码 / Enter the 6-digit code given at the counter"},
		}},
	})
	return "openid-credential-offer://?credential_offer=" + url.QueryEscape(string(b))
}

// OfferQR renders the offer URI as a QR PNG (byte mode: the URI is not Base45).
func OfferQR(issuerURL string, o *issuer.Offer) ([]byte, error) {
	return qr.RenderPNG(OfferURI(issuerURL, o), 0)
}
