package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"os/exec"
)

// grabXWD takes a screenshot of the X server's root window with xwd and decodes it here: it is
// several times quicker than piping through ImageMagick, which matters when polling for a frame.
func grabXWD(display string) (image.Image, error) {
	out, err := exec.Command("xwd", "-root", "-silent", "-display", display).Output()
	if err != nil {
		return nil, err
	}
	return decodeXWD(out)
}

// decodeXWD decodes a ZPixmap XWD dump of 24/32 bits per pixel (what Xvfb gives). Pixels are
// read in place when asked for, so that sampling a region costs little.
func decodeXWD(b []byte) (image.Image, error) {
	if len(b) < 100 {
		return nil, fmt.Errorf("xwd: short header")
	}
	f := func(i int) int { return int(binary.BigEndian.Uint32(b[4*i:])) }
	headerSize, format, width, height := f(0), f(2), f(4), f(5)
	byteOrder, bpp, bytesPerLine, ncolors := f(7), f(11), f(12), f(19)
	if format != 2 || bpp != 32 && bpp != 24 {
		return nil, fmt.Errorf("xwd: format %d, %d bits per pixel: not supported", format, bpp)
	}
	off := headerSize + 12*ncolors
	if off+bytesPerLine*height > len(b) {
		return nil, fmt.Errorf("xwd: truncated")
	}
	return &xwdImage{pix: b[off:], w: width, h: height, stride: bytesPerLine, n: bpp / 8, lsb: byteOrder == 0}, nil
}

type xwdImage struct {
	pix          []byte
	w, h, stride int
	n            int
	lsb          bool
}

func (m *xwdImage) ColorModel() color.Model { return color.NRGBAModel }
func (m *xwdImage) Bounds() image.Rectangle { return image.Rect(0, 0, m.w, m.h) }
func (m *xwdImage) At(x, y int) color.Color {
	if x < 0 || y < 0 || x >= m.w || y >= m.h {
		return color.NRGBA{}
	}
	p := m.pix[y*m.stride+x*m.n:]
	if m.lsb { // LSBFirst: B G R (x)
		return color.NRGBA{p[2], p[1], p[0], 0xFF}
	}
	return color.NRGBA{p[m.n-3], p[m.n-2], p[m.n-1], 0xFF}
}

// region is a cheap fingerprint of part of a screen, to see that a new screen was drawn.
func region(img image.Image, r image.Rectangle) []byte {
	var buf bytes.Buffer
	for y := r.Min.Y; y < r.Max.Y; y += 4 {
		for x := r.Min.X; x < r.Max.X; x += 4 {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			buf.Write([]byte{c.R, c.G, c.B})
		}
	}
	return buf.Bytes()
}
