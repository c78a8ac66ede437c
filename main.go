// Command lianzheng is the LianZheng (链证通) desktop and mobile app: `go run .` opens it on the
// embedded single-node demo ledger with the demo departments (state in ~/.local/share/lianzheng/demo,
// or $LZ_HOME).
//
// The window shows at once with a splash (app.Starting) while the ledger starts in the
// background (up to seconds; on the very first run the demo is created too); the role
// screens then replace it, or the start's error is shown in the window with 重试 and 退出.
//
// The app is the desktop's handler of openid4vp:// links (an online service's request; the
// package's .desktop entry runs `lianzheng %u`): started with such a link as an argument it
// opens the citizen's consent screen for it (after the wallet PIN, when locked); when a copy
// of the app already runs on the home, the link is handed to it and this process exits.
package main

import (
	"os"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"lianzheng/app"
	"lianzheng/assets"
)

func main() {
	link, dir := app.LinkFromArgs(os.Args[1:]), app.DefaultHome()
	if app.HandLinkToRunning(dir, link) {
		return // the copy already running shows it
	}
	a := fyneapp.NewWithID(app.AppID)
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	w := a.NewWindow("链证通")
	w.Resize(fyne.NewSize(1100, 760))

	st := app.Starting(a, w)
	// on quit (window closed): cancel a start still running, wait for it, stop the ledger
	defer st.Close()
	st.OpenLink(link)
	st.StartDemo(dir, nil)
	w.ShowAndRun()
}
