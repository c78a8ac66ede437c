package node

import (
	"sync/atomic"

	"github.com/cometbft/cometbft/libs/log"
)

// stopAwareLogger passes CometBFT's log lines through until the node is being stopped;
// from then on its errors are debug lines. Stopping closes the RPC and p2p listeners under
// their accept loops, which CometBFT reports as errors ("Error serving server … use of
// closed network connection", "Stopped accept routine, as transport is closed") on every
// normal shutdown: an administrator stopping a window or a department would otherwise read
// a clean stop as a failure. What Stop itself fails at is still returned as an error.
type stopAwareLogger struct {
	log.Logger
	stopping *atomic.Bool
}

func newStopAwareLogger(l log.Logger) stopAwareLogger {
	return stopAwareLogger{Logger: l, stopping: new(atomic.Bool)}
}

func (s stopAwareLogger) Error(msg string, kv ...any) {
	if s.stopping.Load() {
		s.Logger.Debug(msg, kv...)
		return
	}
	s.Logger.Error(msg, kv...)
}

func (s stopAwareLogger) With(kv ...any) log.Logger {
	return stopAwareLogger{Logger: s.Logger.With(kv...), stopping: s.stopping}
}
