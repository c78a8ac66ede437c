package sdjwt

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"lianzheng/credential/jws"
)

// IssueOptions controls how claims become selectively disclosable.
type IssueOptions struct {
	// Disclosable lists claim paths to make selectively disclosable: "name" (top level),
	// "address.street" (member of a nested object; "address" itself stays plain unless also
	// listed), and "nationalities[]" (every element of an array).
	Disclosable []string
	// Decoys adds this many decoy digests to every _sd array (RFC 9901 §4.2.5), hiding how many
	// claims are really there. 0 adds none.
	Decoys int
	// Header is merged into the JWS header ("typ", "kid", ...). "alg" comes from the signer.
	Header map[string]any
}

type sdNode struct {
	self     bool // this member is disclosable
	elems    bool // this array's elements are disclosable
	children map[string]*sdNode
}

func buildTree(paths []string) (*sdNode, error) {
	root := &sdNode{children: map[string]*sdNode{}}
	for _, p := range paths {
		if p == "" {
			return nil, fmt.Errorf("sdjwt: empty disclosable path")
		}
		n := root
		segs := strings.Split(p, ".")
		for i, seg := range segs {
			elems := strings.HasSuffix(seg, "[]")
			seg = strings.TrimSuffix(seg, "[]")
			if seg == "" || seg == claimSD || seg == claimSDAlg || seg == claimDots {
				return nil, fmt.Errorf("sdjwt: bad disclosable path %q", p)
			}
			c := n.children[seg]
			if c == nil {
				c = &sdNode{children: map[string]*sdNode{}}
				n.children[seg] = c
			}
			if i == len(segs)-1 {
				if elems {
					c.elems = true
				} else {
					c.self = true
				}
			}
			n = c
		}
	}
	return root, nil
}

// Issue signs claims as an SD-JWT (issuer JWT followed by all disclosures and a final '~').
// The claims map is not modified. Reserved names (_sd, _sd_alg, ...) may not appear in it.
func Issue(claims map[string]any, signer jws.Signer, opt IssueOptions) (*SDJWT, error) {
	tree, err := buildTree(opt.Disclosable)
	if err != nil {
		return nil, err
	}
	var discs []*Disclosure
	payload, err := sdObject(claims, tree, opt.Decoys, &discs, "")
	if err != nil {
		return nil, err
	}
	if len(discs) > 0 || opt.Decoys > 0 {
		payload[claimSDAlg] = HashAlg
	}
	pb, err := jws.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("sdjwt: payload: %w", err)
	}
	jwt, err := jws.Sign(opt.Header, pb, signer)
	if err != nil {
		return nil, fmt.Errorf("sdjwt: sign: %w", err)
	}
	return &SDJWT{IssuerJWT: jwt, Disclosures: discs}, nil
}

func sdObject(obj map[string]any, n *sdNode, decoys int, discs *[]*Disclosure, path string) (map[string]any, error) {
	out := make(map[string]any, len(obj)+1)
	var digests []string
	for _, k := range sortedKeys(obj) {
		if k == claimSD || k == claimSDAlg || k == claimDots {
			return nil, fmt.Errorf("sdjwt: claim name %q is reserved", k)
		}
		v := obj[k]
		child := n.children[k]
		p := joinPath(path, k)
		if child != nil {
			var err error
			if v, err = sdValue(v, child, decoys, discs, p); err != nil {
				return nil, err
			}
		}
		if child != nil && child.self {
			salt, err := NewSalt()
			if err != nil {
				return nil, err
			}
			d, err := NewDisclosure(salt, k, v, false)
			if err != nil {
				return nil, err
			}
			d.Path = p
			*discs = append(*discs, d)
			digests = append(digests, d.Digest)
			continue
		}
		out[k] = v
	}
	for name := range n.children {
		if _, ok := obj[name]; !ok {
			return nil, fmt.Errorf("sdjwt: disclosable claim %q is absent", joinPath(path, name))
		}
	}
	if len(digests) > 0 || (decoys > 0 && len(n.children) > 0) {
		var err error
		if digests, err = addDecoys(digests, decoys); err != nil {
			return nil, err
		}
		sort.Strings(digests) // order reveals nothing about the claims
		sd := make([]any, len(digests))
		for i, d := range digests {
			sd[i] = d
		}
		out[claimSD] = sd
	}
	return out, nil
}

func sdValue(v any, n *sdNode, decoys int, discs *[]*Disclosure, path string) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		if len(n.children) == 0 {
			return v, nil
		}
		return sdObject(t, n, decoys, discs, path)
	case []any:
		if !n.elems {
			return v, nil
		}
		out := make([]any, 0, len(t))
		for i, e := range t {
			salt, err := NewSalt()
			if err != nil {
				return nil, err
			}
			d, err := NewDisclosure(salt, "", e, true)
			if err != nil {
				return nil, err
			}
			d.Path = fmt.Sprintf("%s[%d]", path, i)
			*discs = append(*discs, d)
			out = append(out, map[string]any{claimDots: d.Digest})
		}
		return out, nil
	default:
		if len(n.children) > 0 || n.elems {
			return nil, fmt.Errorf("sdjwt: %q is not an object or array", path)
		}
		return v, nil
	}
}

func addDecoys(digests []string, n int) ([]string, error) {
	if n <= 0 {
		return digests, nil
	}
	// A random count in [1, n] so the number of decoys is not itself a constant.
	k, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return nil, fmt.Errorf("sdjwt: decoys: %w", err)
	}
	for i := int64(0); i <= k.Int64(); i++ {
		s, err := NewSalt()
		if err != nil {
			return nil, err
		}
		digests = append(digests, Digest(s))
	}
	return digests, nil
}

func joinPath(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}
