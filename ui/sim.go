package ui

import (
	"bytes"
	"image"
	"image/png"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// SimControls is what the demo's simulator panel drives: the simulated readers and printer.
type SimControls interface {
	// TapIDCard places a sample ID card ("elder", "adult" or "foreigner") on the simulated SAM reader; the
	// kiosk reads it as it would a real one.
	TapIDCard(key string) error
	// TapCityCard taps the sample city card on the simulated card reader.
	TapCityCard() error
	// RemoveCards takes every card off the readers.
	RemoveCards()
	// OnTicket registers fn for every ticket the simulated printer cuts, as a PNG. fn may be
	// called from any goroutine.
	OnTicket(fn func(png []byte))
}

// ShowSimPanel opens the demo's simulator panel in a second window: buttons to tap the sample
// cards, and the last ticket the simulated printer printed.
func ShowSimPanel(a fyne.App, sim SimControls, lang string) fyne.Window {
	tx, err := loadTexts()
	if err != nil {
		tx = texts{}
	}
	t := func(k string) string { return tx.get(lang, k, nil) }
	w := a.NewWindow(t("sim.title"))
	status := widget.NewLabel("")
	status.Wrapping = fyne.TextWrapWord
	do := func(f func() error) func() {
		return func() {
			status.SetText("")
			if err := f(); err != nil {
				status.SetText(err.Error())
			}
		}
	}
	img := canvas.NewImageFromImage(nil)
	img.FillMode = canvas.ImageFillContain
	img.SetMinSize(fyne.NewSize(300, 560))
	caption := widget.NewLabel(t("sim.no_ticket"))
	sim.OnTicket(func(b []byte) {
		im, err := png.Decode(bytes.NewReader(b))
		fyne.Do(func() {
			if err != nil {
				caption.SetText(err.Error())
				return
			}
			showTicket(img, im)
			caption.SetText(t("sim.tickets"))
		})
	})
	buttons := container.NewVBox(
		widget.NewButton(t("sim.id_elder"), do(func() error { return sim.TapIDCard("elder") })),
		widget.NewButton(t("sim.id_young"), do(func() error { return sim.TapIDCard("adult") })),
		widget.NewButton(t("sim.id_foreigner"), do(func() error { return sim.TapIDCard("foreigner") })),
		widget.NewButton(t("sim.city"), do(sim.TapCityCard)),
		widget.NewButton(t("sim.remove"), func() { sim.RemoveCards() }),
		status,
	)
	w.SetContent(container.NewBorder(buttons, nil, nil, nil, container.NewBorder(caption, nil, nil, nil, img)))
	w.Resize(fyne.NewSize(360, 900))
	w.Show()
	return w
}

func showTicket(c *canvas.Image, im image.Image) {
	c.Image = im
	c.Refresh()
}
