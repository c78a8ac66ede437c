// Command lianzheng is the LianZheng (链证通) desktop and mobile app: `go run .` opens it on the
// embedded single-node demo ledger with the demo departments (state in ~/.local/share/lianzheng/demo,
// or $LZ_HOME).
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"lianzheng/app"
	"lianzheng/assets"
)

func main() {
	if os.Getenv("LANG") == "" || os.Getenv("LANG") == "C" {
		os.Setenv("LANG", "C.UTF-8") // Fyne logs an error on the C locale
	}
	a := fyneapp.NewWithID(app.AppID)
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	w := a.NewWindow("链证通")
	w.Resize(fyne.NewSize(1100, 760))

	home := app.DefaultHome()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	svc, err := app.StartDemo(ctx, home, nil)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "lianzheng:", err)
		os.Exit(1)
	}
	defer svc.Close()
	app.New(a, w, svc)
	w.ShowAndRun()
}
