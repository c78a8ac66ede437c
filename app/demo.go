package app

import (
	"context"
	"os"
	"path/filepath"

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

// LogFile is where the app's demo services log (in the demo home): the departments'
// OpenID4VCI services, the window, the embedded ledger node. Warnings and errors also go
// to standard error.
const LogFile = "services.log"

// StartDemo opens the demo home in dir (home.OpenDemo: the embedded demo ledger, created on
// first use, with the demo departments, the real-estate window and the citizen's wallet) and
// binds the three roles to it; the department role starts as public security. Without a
// logger in o, the services log to dir/LogFile (home.OpenLogFile), so that a failure a
// citizen meets as "server_error" has its cause on record. Close stops everything.
func StartDemo(ctx context.Context, dir string, o *home.Options) (*Services, error) {
	var opt home.Options
	if o != nil {
		opt = *o
	}
	closeLog := func() {}
	if opt.Log == nil {
		lg, f, err := home.OpenLogFile(filepath.Join(dir, LogFile), os.Stderr)
		if err != nil {
			return nil, err
		}
		opt.Log, closeLog = lg, func() { f.Close() }
	}
	h, err := home.OpenDemo(ctx, dir, &opt)
	if err != nil {
		closeLog()
		return nil, err
	}
	return bindDemo(h, func() { h.Close(); closeLog() }), nil
}

// bindDemo binds the three roles to a demo home; closing the services calls close.
func bindDemo(h *home.Home, close func()) *Services {
	svc := &Services{Demo: true, Citizen: h.Wallet(), Departments: map[string]DepartmentCore{}, Close: close}
	if p := h.Portal(); p != nil {
		svc.PortalURL = p.URL()
	}
	if w, ok := h.Window(home.DemoWindow); ok {
		svc.Window = w
	}
	for _, id := range h.Departments() {
		if d, ok := h.Issuer(id); ok {
			svc.Departments[id] = d
		}
	}
	svc.Department = svc.Departments["public-security"]
	return svc
}
