package home

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Service is an HTTP service a home runs (a department's OpenID4VCI service).
type Service struct {
	hs   *http.Server
	addr string
	log  *slog.Logger
	done chan struct{}
	err  error // why Serve returned, unless Close stopped it

	once     sync.Once
	closeErr error
}

// serve starts h on ln. The server logs its own failures (accept errors, handler panics) to
// log, with header, read and write timeouts so that a slow client cannot hold it.
func serve(ln net.Listener, h http.Handler, log *slog.Logger) *Service {
	s := &Service{addr: ln.Addr().String(), log: log, done: make(chan struct{})}
	s.hs = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() {
		defer close(s.done)
		if err := s.hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.err = err
			log.Error("service stopped", "listen", s.addr, "err", err)
		}
	}()
	return s
}

// Addr is the address the service listens on (host:port).
func (s *Service) Addr() string { return s.addr }

// Done is closed when the service has stopped serving (after Close, or on a failure).
func (s *Service) Done() <-chan struct{} { return s.done }

// Close stops the service: requests in flight get up to 5 s, then every connection is
// closed. It waits until the server has stopped and returns why it stopped serving before
// Close, if it failed. Calling it again returns the same.
func (s *Service) Close() error {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.hs.Shutdown(ctx); err != nil {
			s.hs.Close()
		}
		<-s.done
		s.closeErr = s.err
	})
	return s.closeErr
}
