// Package assets holds the files LianZheng ships inside its binaries: the demo catalogue of
// departments, credential types and windows (seeded into a fresh embedded ledger), and later
// the fonts, icons and translations of the app. Everything is embedded; nothing is read from
// the working directory at run time.
package assets

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"

	"lianzheng/internal/bilingual"
)

//go:embed catalogue/demo.json
var demoCatalogue []byte

// regionBCatalogue is a second demo region (示例乙市): its own departments (ids distinct from the
// demo city's: did:lz ids are unique across federated regions), the household register and
// marriage certificate with the same schemas, one household-register window. The federation
// demo runs it as a consortium of its own beside the demo city (docs/federation.md).
//
//go:embed catalogue/region-b.json
var regionBCatalogue []byte

// Text is a string in Simplified Chinese and English (the module's one bilingual type).
type Text = bilingual.Text

// Department is a government department taking part in the consortium.
type Department struct {
	ID   string `json:"id"`
	DID  string `json:"did"`
	Name Text   `json:"name"`
}

// Claim describes one claim of a credential type.
type Claim struct {
	Name     string `json:"name"`
	Type     string `json:"type"` // "string" or "date" (YYYY-MM-DD)
	Required bool   `json:"required"`
	Label    Text   `json:"label"`
}

// CredentialType is one entry of the catalogue (目录).
type CredentialType struct {
	ID              string   `json:"id"`
	VCT             string   `json:"vct"`
	Name            Text     `json:"name"`
	Issuers         []string `json:"issuers"` // department ids authorised to issue it
	MaxValidityDays int      `json:"max_validity_days"`
	Claims          []Claim  `json:"claims"`
	Disclosable     []string `json:"disclosable"`
}

// Request is what a service item may ask for from one credential type; Optional lists the
// fields of Fields it can do without (the rest are required).
type Request struct {
	Type     string   `json:"type"`
	Fields   []string `json:"fields"`
	Optional []string `json:"optional,omitempty"`
}

// ServiceItem is a service a window offers, with what it may request and why.
type ServiceItem struct {
	ID       string    `json:"id"`
	Name     Text      `json:"name"`
	Purpose  Text      `json:"purpose"`
	Requests []Request `json:"requests"`
}

// Window is a registered service window.
type Window struct {
	ID           string        `json:"id"`
	DID          string        `json:"did"`
	Department   string        `json:"department"`
	Name         Text          `json:"name"`
	ServiceItems []ServiceItem `json:"service_items"`
	// Channel "online": an online service portal (OpenID4VP), not a hall window.
	Channel string `json:"channel,omitempty"`
}

// Catalogue is the demo data set.
type Catalogue struct {
	Departments []Department     `json:"departments"`
	Types       []CredentialType `json:"types"`
	Windows     []Window         `json:"windows"`
}

// DemoCatalogue parses the embedded demo catalogue.
func DemoCatalogue() (*Catalogue, error) { return parseCatalogue("demo", demoCatalogue) }

// RegionBCatalogue parses the second demo region's catalogue (示例乙市).
func RegionBCatalogue() (*Catalogue, error) { return parseCatalogue("region B", regionBCatalogue) }

func parseCatalogue(name string, b []byte) (*Catalogue, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	var c Catalogue
	if err := d.Decode(&c); err != nil {
		return nil, fmt.Errorf("assets: %s catalogue: %w", name, err)
	}
	return &c, nil
}

// Type returns the credential type with the given id.
func (c *Catalogue) Type(id string) (*CredentialType, bool) {
	for i := range c.Types {
		if c.Types[i].ID == id {
			return &c.Types[i], true
		}
	}
	return nil, false
}

// Department returns the department with the given id.
func (c *Catalogue) Department(id string) (*Department, bool) {
	for i := range c.Departments {
		if c.Departments[i].ID == id {
			return &c.Departments[i], true
		}
	}
	return nil, false
}

// Label returns the label of a claim of this type, or the claim name itself.
func (t *CredentialType) Label(claim, lang string) string {
	for _, c := range t.Claims {
		if c.Name == claim {
			return c.Label.In(lang)
		}
	}
	return claim
}
