package escpos_test

import (
	"bytes"
	"image/png"
	"os"
	"slices"
	"strings"
	"testing"

	"citizenhome/devices/escpos"
	"citizenhome/devices/escpos/emulator"
	"citizenhome/devices/escpos/escpostest"
)

func TestRoundTripLinesAndCodes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		paper escpos.Paper
		mode  escpos.QRMode
	}{
		{"58-native", escpos.Paper58, escpos.QRNative},
		{"80-native", escpos.Paper80, escpos.QRNative},
		{"58-raster", escpos.Paper58, escpos.QRRaster},
		{"80-raster", escpos.Paper80, escpos.QRRaster},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := escpostest.SampleDoc()
			job, err := escpos.Encode(d, escpos.Options{Paper: tc.paper, QRMode: tc.mode})
			if err != nil {
				t.Fatal(err)
			}
			emu := escpostest.NewEmulator(t, tc.paper)
			if _, err := emu.Write(job); err != nil {
				t.Fatal(err)
			}
			tickets := emu.Tickets()
			if len(tickets) != 1 {
				t.Fatalf("%d tickets, want 1", len(tickets))
			}
			tk := tickets[0]
			if !bytes.Equal(tk.Raw, job) {
				t.Errorf("ticket raw differs from the job (%d vs %d bytes)", len(tk.Raw), len(job))
			}
			if !tk.Partial {
				t.Error("cut not partial")
			}
			// The emulator wraps by itself when a line overflows, so recovering exactly the
			// lines Wrap predicts also proves no line was too wide.
			var want []string
			cols := tc.paper.Columns()
			for _, b := range d.Blocks {
				switch b := b.(type) {
				case escpos.Text:
					w := max(b.Width, 1)
					want = append(want, escpos.Wrap(b.Text, cols/w)...)
				case escpos.Rule:
					c := b.Char
					if c == 0 {
						c = '-'
					}
					want = append(want, strings.Repeat(string(c), cols))
				}
			}
			if !slices.Equal(tk.Lines, want) {
				t.Errorf("lines:\n got %q\nwant %q", tk.Lines, want)
			}
			if !slices.Equal(tk.Barcodes, []string{"A023-0521"}) {
				t.Errorf("barcodes %q", tk.Barcodes)
			}
			qrData := "https://hall.example.cn/q?t=A023&d=20240521"
			if tc.mode == escpos.QRNative {
				if !slices.Equal(tk.QR, []string{qrData}) {
					t.Errorf("QR %q", tk.QR)
				}
				if len(tk.Rasters) != 0 {
					t.Errorf("%d rasters in native mode", len(tk.Rasters))
				}
			} else {
				if len(tk.QR) != 0 {
					t.Errorf("GS ( k QR in raster mode: %q", tk.QR)
				}
				if len(tk.Rasters) != 1 {
					t.Fatalf("%d rasters, want 1", len(tk.Rasters))
				}
				m, err := escpos.QRMatrix(qrData, escpos.QRLevelM)
				if err != nil {
					t.Fatal(err)
				}
				assertRasterIsMatrix(t, tk.Rasters[0], m, 5)
			}
			img, err := png.Decode(bytes.NewReader(tk.PNG))
			if err != nil {
				t.Fatalf("PNG: %v", err)
			}
			if img.Bounds().Dx() != tc.paper.Dots() {
				t.Errorf("PNG width %d, want %d", img.Bounds().Dx(), tc.paper.Dots())
			}
			if tc.name == "58-native" {
				if err := os.WriteFile("/tmp/escpos-sample.png", tk.PNG, 0o644); err != nil {
					t.Log(err)
				}
			}
			if tc.name == "80-raster" {
				_ = os.WriteFile("/tmp/escpos-sample-80-raster.png", tk.PNG, 0o644)
			}
		})
	}
}

// assertRasterIsMatrix checks that r is exactly m scaled by mod (padded to whole bytes).
func assertRasterIsMatrix(t *testing.T, r emulator.Raster, m [][]bool, mod int) {
	t.Helper()
	n := len(m) * mod
	if r.Height != n || r.Width < n || r.Width >= n+8 {
		t.Fatalf("raster %dx%d, want %dx%d (+ padding)", r.Width, r.Height, n, n)
	}
	for y := range r.Height {
		for x := range r.Width {
			want := x < n && m[y/mod][x/mod]
			if r.At(x, y) != want {
				t.Fatalf("raster dot (%d,%d) = %v, want %v", x, y, !want, want)
			}
		}
	}
}
