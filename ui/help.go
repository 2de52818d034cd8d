package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"
)

// callStaff is the 呼叫工作人员 action of the home tile and of every message screen: the core
// raises the call to the hall (alert help-requested; a second tap while it is raised is the same
// call), and the screen says that someone is coming.
func (u *UI) callStaff() {
	u.touch()
	u.core.RequestHelp(context.Background())
	u.showHelpCalled()
}

// showHelpCalled tells the citizen that staff were called and are coming, and how to go home.
func (u *UI) showHelpCalled() {
	u.set(func() fyne.CanvasObject {
		l := widget.NewLabelWithStyle(u.t("help.called"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
		l.Wrapping = fyne.TextWrapWord
		l.SizeName = "subHeadingText"
		wait := widget.NewLabelWithStyle(u.t("help.wait"), fyne.TextAlignCenter, fyne.TextStyle{})
		wait.Wrapping = fyne.TextWrapWord
		return u.page(u.t("help.title"), nil, container.NewVBox(layout.NewSpacer(), l, wait, layout.NewSpacer()))
	})
}

// helpButton is the 呼叫工作人员 button of the screens where a citizen may be stuck.
func (u *UI) helpButton() fyne.CanvasObject {
	return tall(NewButton(u.t("home.help"), Secondary, iconHelp, u.clicked(u.callStaff)))
}
