package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"lianzheng/home"
	"lianzheng/issuer"
	"lianzheng/ledger"
)

// maxRowErrors bounds the row errors listed on screen (a bad 100,000-row file lists the
// first ones and a count).
const maxRowErrors = 200

// batchSection is the department's 批量签发 tab: a credential type, a CSV file (chosen with
// the file dialog or typed as a path), a progress bar fed from the worker goroutine with the
// rows done, the rate and the time left (已完成 N / 共 M，每秒 X 行，约剩 Y), and the outcome —
// the rows issued and where the result CSV (PINs or credentials) was saved, or the row errors
// (nothing issued). The batch itself is one DepartmentCore.Batch call: streamed by the core,
// committed in chunks; a batch stopped (取消, a crash) resumes where it stopped when the same
// file is run again, into the result file it started.
type batchSection struct {
	s    *deptScreen
	root fyne.CanvasObject

	types   []ledger.CredentialType
	TypeSel *widget.Select
	Path    *widget.Entry
	browse  *widget.Button
	columns *widget.Label
	Run     *widget.Button
	Cancel  *widget.Button
	stop    context.CancelFunc
	Bar     *widget.ProgressBar
	status  *widget.Label
	Result  *fyne.Container
	body    *fyne.Container
	// Last is the outcome of the last batch (nil while none has finished).
	Last *batchOutcome
}

// batchOutcome is what a batch run ended with.
type batchOutcome struct {
	Res  *issuer.BatchResult
	Err  error
	File string // the result CSV, "" unless the batch succeeded (or had been already)
}

func newBatchSection(s *deptScreen) *batchSection {
	b := &batchSection{s: s}
	b.TypeSel = widget.NewSelect(nil, func(string) { b.showColumns() })
	b.TypeSel.PlaceHolder = T("dept.batch.type")
	b.Path = widget.NewEntry()
	b.Path.SetPlaceHolder(T("dept.batch.file.placeholder"))
	b.browse = widget.NewButtonWithIcon(T("dept.batch.browse"), theme.FolderOpenIcon(), b.pick)
	b.columns = machineText("")
	b.columns.Wrapping = fyne.TextWrapBreak
	hint := wrapLabel(T("dept.batch.hint"))
	b.Run = widget.NewButtonWithIcon(T("dept.batch.run"), theme.UploadIcon(), b.run)
	b.Run.Importance = widget.HighImportance
	b.Cancel = widget.NewButtonWithIcon(T("common.cancel"), theme.CancelIcon(), func() {
		if b.stop != nil {
			b.stop()
			b.Cancel.Disable()
		}
	})
	b.Cancel.Hide()
	b.Bar = widget.NewProgressBar()
	b.Bar.Hide()
	b.status = wrapLabel("")
	b.status.Hide()
	b.Result = container.NewVBox()
	form := container.New(layout.NewFormLayout(),
		widget.NewLabel(T("dept.batch.type")), b.TypeSel,
		widget.NewLabel(T("dept.batch.file")), container.NewBorder(nil, nil, nil, b.browse, b.Path))
	b.body = container.NewVBox(heading(T("dept.batch.title")), form, widget.NewLabel(T("dept.batch.columns")), b.columns, hint,
		container.NewHBox(layout.NewSpacer(), b.Cancel, b.Run), b.Bar, b.status, b.Result)
	b.root = container.NewVScroll(container.NewPadded(b.body))
	return b
}

// setTypes lists the department's credential types (after the screen loaded them).
func (b *batchSection) setTypes(ts []ledger.CredentialType) {
	b.types = ts
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = lz(t.Name.Zh, t.Name.En)
	}
	b.TypeSel.Options = names
	b.TypeSel.ClearSelected()
	b.Result.Objects = nil
	b.Result.Refresh()
	if len(ts) > 0 {
		b.TypeSel.SetSelectedIndex(0)
	} else {
		b.showColumns()
	}
}

func (b *batchSection) selected() *ledger.CredentialType {
	i := b.TypeSel.SelectedIndex()
	if i < 0 || i >= len(b.types) {
		return nil
	}
	return &b.types[i]
}

// showColumns shows the CSV header the chosen type expects (claim names from its schema).
func (b *batchSection) showColumns() {
	t := b.selected()
	if t == nil {
		b.columns.SetText("")
		return
	}
	names := make([]string, len(t.Claims))
	for i, c := range t.Claims {
		names[i] = c.Name
	}
	b.columns.SetText(strings.Join(names, ","))
}

// pick chooses the CSV file with Fyne's file dialog, starting in the typed path's folder.
func (b *batchSection) pick() {
	d := dialog.NewFileOpen(func(rc fyne.URIReadCloser, err error) {
		if err != nil || rc == nil {
			return
		}
		b.Path.SetText(rc.URI().Path())
		rc.Close()
	}, b.s.u.Win)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".csv", ".CSV"}))
	if p := strings.TrimSpace(b.Path.Text); p != "" {
		if l, err := storage.ListerForURI(storage.NewFileURI(filepath.Dir(p))); err == nil {
			d.SetLocation(l)
		}
	}
	d.Resize(fyne.NewSize(760, 520))
	d.Show()
}

// post runs fn on the UI goroutine: fyne.Do, or through u.Timers when a test drives the UI.
func (b *batchSection) post(fn func()) {
	if b.s.u.Timers != nil {
		b.s.u.Timers <- fn
		return
	}
	fyne.Do(fn)
}

func (b *batchSection) setRunning(on bool) {
	if on {
		b.Cancel.Enable()
		b.Cancel.Show()
	} else {
		b.Cancel.Hide()
	}
	for _, w := range []fyne.Disableable{b.Run, b.TypeSel, b.Path, b.browse} {
		if on {
			w.Disable()
		} else {
			w.Enable()
		}
	}
}

// run starts the batch on a worker goroutine: the UI stays live, the bar follows the core's
// progress (fyne.Do), and the outcome is shown when it ends.
func (b *batchSection) run() {
	t, dep := b.selected(), b.s.dep
	path := strings.TrimSpace(b.Path.Text)
	b.Result.Objects = nil
	b.Result.Refresh()
	b.Bar.Hide()
	defer b.body.Refresh() // re-lay out what was shown or hidden
	if dep == nil || t == nil {
		return
	}
	if path == "" {
		b.showStatus(T("dept.batch.no_file"), widget.DangerImportance)
		return
	}
	typeID := t.ID
	ctx, stop := context.WithCancel(context.Background())
	b.stop = stop
	b.Last = nil
	b.setRunning(true)
	b.Bar.SetValue(0)
	b.Bar.Show()
	b.showStatus(T("dept.batch.reading"), widget.MediumImportance)
	post := b.post
	work := func() {
		defer stop()
		res, err := runBatch(ctx, dep, typeID, path, time.Now(), func(p issuer.BatchProgress) {
			post(func() { b.progress(p) })
		})
		o := &batchOutcome{Res: res, Err: err}
		if res != nil && (err == nil || errors.Is(err, issuer.ErrBatchDone)) {
			o.File = res.Out
		}
		post(func() { b.finish(o) })
	}
	if b.s.u.Sync && b.s.u.Timers == nil {
		post = func(fn func()) { fn() }
		work()
		return
	}
	go work()
}

// runBatch (worker goroutine) names the result file next to the input (the core makes it
// new and owner-only: it holds PINs or credentials; a resumed batch continues the one it
// started) and calls the core. progress is throttled to four a second, and the last.
func runBatch(ctx context.Context, dep DepartmentCore, typeID, path string, now time.Time, progress func(issuer.BatchProgress)) (*issuer.BatchResult, error) {
	out, err := resultName(path, now)
	if err != nil {
		return nil, err
	}
	var last time.Time
	return dep.Batch(ctx, home.BatchJob{Type: typeID, In: path, Out: out}, func(p issuer.BatchProgress) {
		if p.Total > 0 && p.Done == p.Total || time.Since(last) >= 250*time.Millisecond {
			last = time.Now()
			progress(p)
		}
	})
}

// resultName is <name>-result-<timestamp>.csv next to the input, a name no file has yet.
func resultName(in string, now time.Time) (string, error) {
	base := strings.TrimSuffix(filepath.Base(in), filepath.Ext(in))
	stem := filepath.Join(filepath.Dir(in), base+"-result-"+now.Format("20060102-150405"))
	for i := 1; i <= 20; i++ {
		name := stem + ".csv"
		if i > 1 {
			name = fmt.Sprintf("%s-%d.csv", stem, i)
		}
		if _, err := os.Lstat(name); errors.Is(err, os.ErrNotExist) {
			return name, nil
		}
	}
	return "", fmt.Errorf("%s: %w", stem, os.ErrExist)
}

// progress (UI goroutine): while the core checks the rows, how many it has read; while it
// issues, the bar and 已完成 N / 共 M，每秒 X 行，约剩 Y.
func (b *batchSection) progress(p issuer.BatchProgress) {
	if p.Phase == issuer.PhaseChecking {
		b.Bar.SetValue(0)
		b.status.SetText(T("dept.batch.checking", p.Done))
		return
	}
	if p.Total <= 0 {
		return
	}
	b.Bar.SetValue(float64(p.Done) / float64(p.Total))
	b.status.SetText(progressText(p))
}

// progressText is 已完成 N / 共 M，每秒 X 行，约剩 Y (the rate and time once measured).
func progressText(p issuer.BatchProgress) string {
	if p.RowsPerSec <= 0 {
		return T("dept.batch.progress", p.Done, p.Total)
	}
	return T("dept.batch.progress.rate", p.Done, p.Total, p.RowsPerSec, durationText(p.Left))
}

// durationText is a time left the way a clerk reads it: 1 小时 5 分 / 3 分 20 秒 / 8 秒.
func durationText(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return T("dept.batch.hm", h, m)
	case m > 0:
		return T("dept.batch.ms", m, s)
	}
	return T("dept.batch.s", s)
}

func (b *batchSection) showStatus(text string, imp widget.Importance) {
	b.status.Importance = imp
	b.status.SetText(text)
	b.status.Show()
}

// finish (UI goroutine) shows the outcome and reloads the issued list.
func (b *batchSection) finish(o *batchOutcome) {
	b.Last = o
	b.stop = nil
	b.setRunning(false)
	b.Result.Objects = nil
	defer b.body.Refresh()
	defer b.s.issued.Bulk.load() // a batch committed rows: 已签发 can change them in bulk
	res, err := o.Res, o.Err
	switch {
	case errors.Is(err, issuer.ErrBatchInvalid) && res != nil:
		b.Bar.Hide()
		b.showStatus(T("dept.batch.invalid", len(res.Errors), res.Rows), widget.DangerImportance)
		n := 0
		for _, re := range res.Errors {
			for _, fe := range re.Fields {
				if n++; n <= maxRowErrors {
					l := wrapLabel(T("dept.batch.row_error", re.Row, lz(fe.Zh, fe.En)))
					l.Importance = widget.DangerImportance
					b.Result.Add(l)
				}
			}
		}
		if n > maxRowErrors {
			b.Result.Add(wrapLabel(T("dept.batch.more", n-maxRowErrors)))
		}
		return
	case errors.Is(err, issuer.ErrBatchDone) && res != nil:
		b.Bar.SetValue(1)
		b.showStatus(T("dept.batch.already", res.Rows), widget.WarningImportance)
		saved := wrapLabel(T("dept.batch.saved", o.File))
		saved.Selectable = true
		b.Result.Add(saved)
		return
	case errors.Is(err, context.Canceled):
		b.Bar.Hide()
		b.showStatus(T("dept.batch.cancelled"), widget.WarningImportance)
		b.s.loadRecords()
		return
	case err != nil:
		b.Bar.Hide()
		b.showStatus(T("dept.batch.failed"), widget.DangerImportance)
		b.Result.Add(problemView(explain(err)))
		b.s.loadRecords()
		return
	}
	b.Bar.SetValue(1)
	if res.Kind == issuer.BatchOffers {
		b.showStatus(T("dept.batch.done.offers", res.Rows), widget.SuccessImportance)
	} else {
		b.showStatus(T("dept.batch.done", res.Rows), widget.SuccessImportance)
	}
	if res.Resumed > 0 {
		b.Result.Add(wrapLabel(T("dept.batch.resumed", res.Resumed, res.Count)))
	}
	saved := wrapLabel(T("dept.batch.saved", o.File))
	saved.TextStyle.Bold = true
	saved.Selectable = true
	b.Result.Add(saved)
	warn := wrapLabel(T("dept.batch.creds.warning"))
	if res.Kind == issuer.BatchOffers {
		warn = wrapLabel(T("dept.batch.pins.warning"))
	}
	warn.Importance = widget.WarningImportance
	b.Result.Add(container.NewBorder(nil, nil, widget.NewIcon(theme.WarningIcon()), nil, warn))
	b.s.loadRecords()
}
