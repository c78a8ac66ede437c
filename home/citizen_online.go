package home

import (
	"context"

	"lianzheng/wallet"
)

// The citizen's answers to online services (docs/portal.md): the wallet core's OpenID4VP
// path, with the demo's loopback allowance (its portal listens on loopback http, as its
// issuers do; anything else must be https).

// PlanOnline fetches and verifies an online service's openid4vp:// request and plans the
// answer for the consent screen (wallet.PlanOpenID4VP).
func (c *Citizen) PlanOnline(ctx context.Context, link string) (*wallet.Plan, error) {
	w, err := c.Core()
	if err != nil {
		return nil, err
	}
	return w.PlanOpenID4VP(ctx, link, &wallet.OpenID4VPOptions{InsecureLoopback: c.insecureHTTP})
}

// PresentOnline posts the consented answer to the online service and records it in the
// history with the portal's receipt (wallet.PresentOpenID4VP).
func (c *Citizen) PresentOnline(ctx context.Context, p *wallet.Plan) (*wallet.OnlineResult, error) {
	w, err := c.Core()
	if err != nil {
		return nil, err
	}
	return w.PresentOpenID4VP(ctx, p, nil)
}
