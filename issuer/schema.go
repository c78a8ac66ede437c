package issuer

import (
	"encoding/json"
	"fmt"
	"lianzheng/internal/bilingual"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"lianzheng/ledger"
)

// MaxClaimChars bounds one claim value (characters).
const MaxClaimChars = 1024

// FieldError is one problem with one input field, for the clerk (zh) and for logs and
// English-speaking admins (en). It never repeats the field's value.
type FieldError struct {
	Field string `json:"field"`
	Code  string `json:"code"` // required, unknown, type_string, type_date, type_number, type_boolean, too_long, validity
	// The message; its JSON members zh and en sit beside field and code (embedded).
	bilingual.Text
}

// ValidationError lists every field problem of one input (nothing is issued).
type ValidationError struct {
	Type   string       `json:"type"`
	Fields []FieldError `json:"fields"`
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "issuer: %d invalid field(s) for %s:", len(e.Fields), e.Type)
	for _, f := range e.Fields {
		fmt.Fprintf(&b, " %s: %s;", f.Field, f.En)
	}
	return strings.TrimSuffix(b.String(), ";")
}

func fieldErr(field, code string, label ledger.Text) FieldError {
	zl, el := label.Zh, label.En
	if zl == "" {
		zl = field
	}
	if el == "" {
		el = field
	}
	switch code {
	case "required":
		return FieldError{Field: field, Code: code, Text: bilingual.Text{Zh: "必填项“" + zl + "”未填写", En: el + " is required"}}
	case "unknown":
		return FieldError{Field: field, Code: code, Text: bilingual.Text{Zh: "“" + field + "”不是该凭证类型的字段", En: field + " is not a field of this credential type"}}
	case "type_string":
		return FieldError{Field: field, Code: code, Text: bilingual.Text{Zh: "“" + zl + "”应为文字", En: el + " must be text"}}
	case "type_date":
		return FieldError{Field: field, Code: code, Text: bilingual.Text{Zh: "“" + zl + "”应为日期，格式 YYYY-MM-DD（如 2024-01-31）", En: el + " must be a date YYYY-MM-DD (e.g. 2024-01-31)"}}
	case "type_number":
		return FieldError{Field: field, Code: code, Text: bilingual.Text{Zh: "“" + zl + "”应为数字", En: el + " must be a number"}}
	case "type_boolean":
		return FieldError{Field: field, Code: code, Text: bilingual.Text{Zh: "“" + zl + "”应为 true 或 false", En: el + " must be true or false"}}
	case "too_long":
		return FieldError{Field: field, Code: code, Text: bilingual.Text{Zh: fmt.Sprintf("“%s”过长（最多 %d 字）", zl, MaxClaimChars), En: fmt.Sprintf("%s is too long (at most %d characters)", el, MaxClaimChars)}}
	case "schema":
		return FieldError{Field: field, Code: code, Text: bilingual.Text{Zh: "目录中的字段类型无法识别，请联系目录管理部门", En: "the catalogue gives this field a type the issuer does not know"}}
	}
	return FieldError{Field: field, Code: code, Text: bilingual.Text{Zh: "“" + zl + "”无效", En: el + " is invalid"}}
}

// ValidateClaims checks input against the type's schema: every required claim present and
// non-empty, no claim the schema does not name, each value of its declared type ("string";
// "date" as YYYY-MM-DD, a real calendar date; "number"; "boolean"). Values may be typed
// JSON values or strings (as read from CSV or a form); the result holds typed values
// (string, string date, float64 or int64, bool). All problems are reported at once, sorted
// by field.
func ValidateClaims(t *ledger.CredentialType, in map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(in))
	var errs []FieldError
	known := make(map[string]bool, len(t.Claims))
	for _, c := range t.Claims {
		known[c.Name] = true
		v, present := in[c.Name]
		if s, ok := v.(string); ok && strings.TrimSpace(s) == "" {
			present = false
		}
		if !present || v == nil {
			if c.Required {
				errs = append(errs, fieldErr(c.Name, "required", c.Label))
			}
			continue
		}
		tv, code := convert(c.Type, v)
		if code != "" {
			errs = append(errs, fieldErr(c.Name, code, c.Label))
			continue
		}
		out[c.Name] = tv
	}
	for k := range in {
		if !known[k] {
			errs = append(errs, fieldErr(k, "unknown", ledger.Text{}))
		}
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
		return nil, &ValidationError{Type: t.ID, Fields: errs}
	}
	return out, nil
}

func convert(typ string, v any) (any, string) {
	switch typ {
	case "string":
		s, ok := v.(string)
		if !ok {
			return nil, "type_string"
		}
		s = strings.TrimSpace(s)
		if !utf8.ValidString(s) {
			return nil, "type_string"
		}
		if utf8.RuneCountInString(s) > MaxClaimChars {
			return nil, "too_long"
		}
		return s, ""
	case "date":
		s, ok := v.(string)
		if !ok {
			return nil, "type_date"
		}
		s = strings.TrimSpace(s)
		if len(s) != 10 {
			return nil, "type_date"
		}
		if _, err := time.Parse("2006-01-02", s); err != nil {
			return nil, "type_date"
		}
		return s, ""
	case "number":
		var f float64
		switch x := v.(type) {
		case float64:
			f = x
		case int:
			return int64(x), ""
		case int64:
			return x, ""
		case json.Number:
			if i, err := x.Int64(); err == nil {
				return i, ""
			}
			var err error
			if f, err = x.Float64(); err != nil {
				return nil, "type_number"
			}
		case string:
			s := strings.TrimSpace(x)
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return i, ""
			}
			var err error
			if f, err = strconv.ParseFloat(s, 64); err != nil {
				return nil, "type_number"
			}
		default:
			return nil, "type_number"
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, "type_number"
		}
		if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int64(f), ""
		}
		return f, ""
	case "boolean":
		switch x := v.(type) {
		case bool:
			return x, ""
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true", "是":
				return true, ""
			case "false", "否":
				return false, ""
			}
		}
		return nil, "type_boolean"
	}
	return nil, "schema"
}
