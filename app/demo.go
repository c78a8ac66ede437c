package app

import (
	"context"

	"lianzheng/home"
)

// DefaultHome is where the app keeps its demo home (home.DefaultDir).
func DefaultHome() string { return home.DefaultDir() }

// The screens' interfaces are what the home's services offer.
var (
	_ WindowCore     = (*home.Window)(nil)
	_ CitizenCore    = (*home.Citizen)(nil)
	_ DepartmentCore = (*home.Department)(nil)
)

// StartDemo opens the demo home in dir (home.OpenDemo: the embedded demo ledger, created on
// first use, with the demo departments, the real-estate window and the citizen's wallet) and
// binds the three roles to it; the department role starts as public security. Close stops
// everything.
func StartDemo(ctx context.Context, dir string, o *home.Options) (*Services, error) {
	h, err := home.OpenDemo(ctx, dir, o)
	if err != nil {
		return nil, err
	}
	svc := &Services{Demo: true, Citizen: h.Wallet(), Departments: map[string]DepartmentCore{},
		Close: func() { h.Close() }}
	if w, ok := h.Window(home.DemoWindow); ok {
		svc.Window = w
	}
	for _, id := range h.Departments() {
		if d, ok := h.Issuer(id); ok {
			svc.Departments[id] = d
		}
	}
	svc.Department = svc.Departments["public-security"]
	return svc, nil
}
