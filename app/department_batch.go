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

	"lianzheng/issuer"
	"lianzheng/ledger"
)

// maxRowErrors bounds the row errors listed on screen (a bad 100,000-row file lists the
// first ones and a count).
const maxRowErrors = 200

// batchSection is the department's 批量签发 tab: a credential type, a CSV file (chosen with
// the file dialog or typed as a path), a progress bar fed from the worker goroutine, and the
// outcome — the rows issued and where the result CSV (PINs or credentials) was saved, or the
// row errors (nothing issued). The batch itself is one DepartmentCore.Batch call.
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
	File string // the result CSV, "" unless the batch succeeded
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
		file, res, err := runBatch(ctx, dep, typeID, path, func(done, total int) {
			post(func() { b.progress(done, total) })
		})
		post(func() { b.finish(&batchOutcome{Res: res, Err: err, File: file}) })
	}
	if b.s.u.Sync && b.s.u.Timers == nil {
		post = func(fn func()) { fn() }
		work()
		return
	}
	go work()
}

// runBatch (worker goroutine) opens the input, creates the result file next to it (new,
// owner-only: it holds PINs) and calls the core; a failed or cancelled batch leaves no
// result file. progress is throttled to whole percents.
func runBatch(ctx context.Context, dep DepartmentCore, typeID, path string, progress func(done, total int)) (string, *issuer.BatchResult, error) {
	in, err := os.Open(path)
	if err != nil {
		return "", nil, err
	}
	defer in.Close()
	out, file, err := createResultFile(path, time.Now())
	if err != nil {
		return "", nil, err
	}
	last := -1
	res, err := dep.Batch(ctx, typeID, in, out, func(done, total int) {
		if total <= 0 {
			return
		}
		if pc := done * 100 / total; pc != last || done == total {
			last = pc
			progress(done, total)
		}
	})
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(file)
		return "", res, err
	}
	return file, res, nil
}

// createResultFile creates <name>-result-<timestamp>.csv next to the input, never
// overwriting a file (O_EXCL), readable by its owner only.
func createResultFile(in string, now time.Time) (*os.File, string, error) {
	base := strings.TrimSuffix(filepath.Base(in), filepath.Ext(in))
	stem := filepath.Join(filepath.Dir(in), base+"-result-"+now.Format("20060102-150405"))
	var err error
	for i := 1; i <= 20; i++ {
		name := stem + ".csv"
		if i > 1 {
			name = fmt.Sprintf("%s-%d.csv", stem, i)
		}
		var f *os.File
		if f, err = os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
			return f, name, nil
		}
		if !errors.Is(err, os.ErrExist) {
			break
		}
	}
	return nil, "", err
}

// progress (UI goroutine): the first half of the core's steps validates the rows, the
// second issues them.
func (b *batchSection) progress(done, total int) {
	if total <= 0 {
		return
	}
	b.Bar.SetValue(float64(done) / float64(total))
	rows := total / 2
	if done < rows {
		b.status.SetText(T("dept.batch.checking", done, rows))
	} else {
		b.status.SetText(T("dept.batch.issuing", rows))
	}
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
	case errors.Is(err, context.Canceled):
		b.Bar.Hide()
		b.showStatus(T("dept.batch.cancelled"), widget.WarningImportance)
		return
	case err != nil:
		b.Bar.Hide()
		b.showStatus(T("dept.batch.failed"), widget.DangerImportance)
		b.Result.Add(problemView(explain(err)))
		return
	}
	b.Bar.SetValue(1)
	if len(res.Offers) > 0 {
		b.showStatus(T("dept.batch.done.offers", len(res.Offers)), widget.SuccessImportance)
	} else {
		b.showStatus(T("dept.batch.done", len(res.Issued)), widget.SuccessImportance)
	}
	saved := wrapLabel(T("dept.batch.saved", o.File))
	saved.TextStyle.Bold = true
	saved.Selectable = true
	b.Result.Add(saved)
	warn := wrapLabel(T("dept.batch.creds.warning"))
	if len(res.Offers) > 0 {
		warn = wrapLabel(T("dept.batch.pins.warning"))
	}
	warn.Importance = widget.WarningImportance
	b.Result.Add(container.NewBorder(nil, nil, widget.NewIcon(theme.WarningIcon()), nil, warn))
	b.s.loadRecords()
}
