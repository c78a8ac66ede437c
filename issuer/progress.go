package issuer

import "time"

// Batch phases (BatchProgress.Phase).
const (
	PhaseChecking = "checking" // every row validated, nothing issued yet
	PhaseIssuing  = "issuing"  // rows signed and committed, chunk by chunk
)

// BatchProgress is where a batch is. While checking, Done counts the rows validated and
// Total is 0 until the whole file has been read. While issuing, Done counts the rows
// committed (those of earlier runs of a resumed batch included: Resumed of them) out of
// Total, RowsPerSec is the rate over the last ProgressWindow (0 until two chunks were
// committed) and Left the time the remaining rows take at that rate (0 when unknown).
type BatchProgress struct {
	Phase      string        `json:"phase"`
	Done       int           `json:"done"`
	Total      int           `json:"total"`
	Resumed    int           `json:"resumed,omitempty"`
	RowsPerSec float64       `json:"rows_per_sec,omitempty"`
	Left       time.Duration `json:"left,omitempty"`
}

// ProgressWindow is the span the issuing rate is measured over.
const ProgressWindow = 10 * time.Second

// progressMeter measures a rate over the recent past: it keeps the samples of the last
// ProgressWindow and the newest one before it (a bounded ring).
type progressMeter struct {
	t    []time.Time
	done []int
}

func (m *progressMeter) start(t time.Time, done int) {
	m.t, m.done = []time.Time{t}, []int{done}
}

func (m *progressMeter) add(t time.Time, done int) {
	m.t, m.done = append(m.t, t), append(m.done, done)
	// drop samples while the next one is still older than the window (it is the baseline)
	for len(m.t) > 2 && t.Sub(m.t[1]) >= ProgressWindow {
		m.t, m.done = m.t[1:], m.done[1:]
	}
	const maxSamples = 256
	if len(m.t) > maxSamples {
		m.t, m.done = append(m.t[:0:0], m.t[len(m.t)-maxSamples:]...), append(m.done[:0:0], m.done[len(m.done)-maxSamples:]...)
	}
}

// estimate is the recent rate (rows per second) and the time the rows up to total take at it.
func (m *progressMeter) estimate(total int) (float64, time.Duration) {
	n := len(m.t)
	if n < 2 {
		return 0, 0
	}
	dt := m.t[n-1].Sub(m.t[0]).Seconds()
	rows := m.done[n-1] - m.done[0]
	if dt <= 0 || rows <= 0 {
		return 0, 0
	}
	rate := float64(rows) / dt
	left := time.Duration(float64(total-m.done[n-1]) / rate * float64(time.Second))
	return rate, left.Round(time.Second)
}
