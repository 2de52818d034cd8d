package ui

import (
	"embed"
	"fmt"
	"image/color"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
)

// The icons are our own drawings (ui/icons/*.svg): strokes in #000000 on a 48×48 grid, using
// only path, rect, circle, ellipse and polygon (what Fyne's SVG renderer draws).
//
//go:embed icons/*.svg
var iconFS embed.FS

// The names of the icons (ui/icons/<name>.svg).
const (
	iconTicket      = "ticket"
	iconAppointment = "appointment"
	iconGuide       = "guide"
	iconProgress    = "progress"
	iconCityCard    = "citycard"
	iconRating      = "rating"
	iconComplaint   = "complaint"
	iconHelp        = "help"
	iconElder       = "elder"
	iconLanguage    = "language"
	iconHome        = "home"
	iconBack        = "back"
	iconPrint       = "print"
	iconAlert       = "alert"
	iconPeople      = "people"
	iconCard        = "card"
)

// iconInk is the colour the icons are drawn in, replaced by the colour asked for.
const iconInk = "#000000"

var icons = struct {
	sync.Mutex
	m map[string]fyne.Resource
}{m: map[string]fyne.Resource{}}

// icon is the icon name drawn in colour c. Fyne's own recolouring (theme.NewColoredResource)
// replaces fills only, and these icons are strokes: the colour is written into the SVG here.
// Each colour is a resource of its own name, as Fyne caches a rendered image by name. It
// panics on an unknown name: the names are constants, so that is a programming error.
func icon(name string, c color.Color) fyne.Resource {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	hex := fmt.Sprintf("#%02x%02x%02x", n.R, n.G, n.B)
	key := name + "-" + hex[1:] + ".svg"
	icons.Lock()
	defer icons.Unlock()
	if r, ok := icons.m[key]; ok {
		return r
	}
	data, err := iconFS.ReadFile("icons/" + name + ".svg")
	if err != nil {
		panic("ui: no icon " + name)
	}
	r := fyne.NewStaticResource(key, []byte(strings.ReplaceAll(string(data), iconInk, hex)))
	icons.m[key] = r
	return r
}

// iconImage is icon name in colour c as an image of side px.
func iconImage(name string, c color.Color, px float32) *canvas.Image {
	img := canvas.NewImageFromResource(icon(name, c))
	img.FillMode = canvas.ImageFillContain
	img.SetMinSize(fyne.NewSquareSize(px))
	return img
}
