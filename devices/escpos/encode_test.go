package escpos_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"citizenhome/devices/escpos"
	"citizenhome/devices/escpos/escpostest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.bin golden files")

func goldenDocs() map[string]struct {
	doc  escpos.Doc
	opts escpos.Options
} {
	type entry = struct {
		doc  escpos.Doc
		opts escpos.Options
	}
	mixed := escpos.Doc{Blocks: []escpos.Block{
		escpos.Text{Text: "市民之家 Citizen Service Hall", Width: 2, Height: 2, Bold: true, Align: escpos.AlignCenter},
		escpos.Rule{Char: '='},
		escpos.Text{Text: "取号时间 Time: 2024-05-21 09:41"},
		escpos.Text{Text: "业务：社保卡补办，请携带身份证原件。Bring your ID card.", Align: escpos.AlignLeft},
		escpos.Text{Text: "A023", Width: 3, Height: 3, Bold: true, Align: escpos.AlignCenter},
		escpos.Text{Text: "谢谢 Thank you", Align: escpos.AlignRight},
		escpos.Feed{Lines: 3},
		escpos.Cut{},
	}}
	qr := escpos.Doc{Blocks: []escpos.Block{
		escpos.Text{Text: "扫码评价 Rate us", Align: escpos.AlignCenter},
		escpos.QR{Data: "https://hall.example.cn/r?t=A023", Module: 4, Level: escpos.QRLevelQ, Align: escpos.AlignCenter},
		escpos.Feed{Lines: 1},
		escpos.Cut{Partial: true, Feed: 40},
	}}
	barcode := escpos.Doc{Blocks: []escpos.Block{
		escpos.Text{Text: "No. {A023}"},
		escpos.Barcode{Data: "A{023}", Height: 60, HRI: true, Align: escpos.AlignCenter},
		escpos.Barcode{Data: "B-7", Height: 60, HRI: true, Align: escpos.AlignCenter},
		escpos.Cut{},
	}}
	return map[string]entry{
		"mixed_58":     {mixed, escpos.Options{Paper: escpos.Paper58}},
		"mixed_80":     {mixed, escpos.Options{Paper: escpos.Paper80}},
		"qr_native_80": {qr, escpos.Options{Paper: escpos.Paper80, QRMode: escpos.QRNative}},
		"qr_raster_58": {qr, escpos.Options{Paper: escpos.Paper58, QRMode: escpos.QRRaster}},
		"barcode_58":   {barcode, escpos.Options{Paper: escpos.Paper58}},
	}
}

func TestEncodeGolden(t *testing.T) {
	for name, g := range goldenDocs() {
		t.Run(name, func(t *testing.T) {
			got, err := escpos.Encode(g.doc, g.opts)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", name+".bin")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create)", err)
			}
			if !bytes.Equal(got, want) {
				i := 0
				for i < len(got) && i < len(want) && got[i] == want[i] {
					i++
				}
				t.Errorf("bytes differ from %s at offset %d (got %d bytes, want %d)", path, i, len(got), len(want))
			}
		})
	}
}

// TestEncodeExact spells out the bytes of small documents, independent of golden files.
func TestEncodeExact(t *testing.T) {
	hex := func(b []byte) string { return fmt.Sprintf("% X", b) }
	for _, tc := range []struct {
		name string
		doc  escpos.Doc
		opts escpos.Options
		want []byte
	}{
		{"empty doc", escpos.Doc{}, escpos.Options{}, []byte{0x1B, 0x40}},
		{"ascii only needs no FS &", escpos.Doc{Blocks: []escpos.Block{escpos.Text{Text: "Hi"}}}, escpos.Options{},
			[]byte{0x1B, 0x40, 'H', 'i', '\n'}},
		{"modes only when they change", escpos.Doc{Blocks: []escpos.Block{
			escpos.Text{Text: "Hi"},
			escpos.Text{Text: "中", Width: 2, Bold: true, Align: escpos.AlignCenter},
			escpos.Text{Text: "文", Width: 2, Bold: true, Align: escpos.AlignCenter},
			escpos.Text{Text: "x"},
			escpos.Cut{},
		}}, escpos.Options{}, []byte{
			0x1B, 0x40, 'H', 'i', '\n',
			0x1B, 0x61, 0x01, 0x1D, 0x21, 0x10, 0x1B, 0x45, 0x01, 0x1C, 0x26, 0xD6, 0xD0, '\n',
			0xCE, 0xC4, '\n',
			0x1B, 0x61, 0x00, 0x1D, 0x21, 0x00, 0x1B, 0x45, 0x00, 'x', '\n',
			0x1D, 0x56, 0x00,
		}},
		{"GS ! encodes width and height", escpos.Doc{Blocks: []escpos.Block{escpos.Text{Text: "x", Width: 8, Height: 3}}}, escpos.Options{Paper: escpos.Paper80},
			[]byte{0x1B, 0x40, 0x1D, 0x21, 0x72, 'x', '\n'}},
		{"rule at normal size", escpos.Doc{Blocks: []escpos.Block{escpos.Text{Text: "x", Width: 2}, escpos.Rule{Char: '='}}}, escpos.Options{},
			append(append([]byte{0x1B, 0x40, 0x1D, 0x21, 0x10, 'x', '\n', 0x1D, 0x21, 0x00}, bytes.Repeat([]byte("="), 32)...), '\n')},
		{"QR native", escpos.Doc{Blocks: []escpos.Block{escpos.QR{Data: "AB", Module: 4, Level: escpos.QRLevelH}}}, escpos.Options{},
			[]byte{0x1B, 0x40,
				0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00,
				0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x04,
				0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x33,
				0x1D, 0x28, 0x6B, 0x05, 0x00, 0x31, 0x50, 0x30, 'A', 'B',
				0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30}},
		{"second QR resends only the data", escpos.Doc{Blocks: []escpos.Block{escpos.QR{Data: "A", Module: 4}, escpos.QR{Data: "B", Module: 4}}}, escpos.Options{},
			[]byte{0x1B, 0x40,
				0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00,
				0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x04,
				0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x31,
				0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x50, 0x30, 'A',
				0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30,
				0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x50, 0x30, 'B',
				0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30}},
		{"barcode escapes {", escpos.Doc{Blocks: []escpos.Block{escpos.Barcode{Data: "A{1", Height: 50, Module: 2}}}, escpos.Options{},
			[]byte{0x1B, 0x40, 0x1D, 0x68, 50, 0x1D, 0x77, 2, 0x1D, 0x48, 0,
				0x1D, 0x6B, 0x49, 6, '{', 'B', 'A', '{', '{', '1'}},
		{"feed splits at 255", escpos.Doc{Blocks: []escpos.Block{escpos.Feed{Lines: 300}}}, escpos.Options{},
			[]byte{0x1B, 0x40, 0x1B, 0x64, 255, 0x1B, 0x64, 45}},
		{"cuts", escpos.Doc{Blocks: []escpos.Block{escpos.Cut{}, escpos.Cut{Partial: true}, escpos.Cut{Feed: 10}, escpos.Cut{Partial: true, Feed: 10}}}, escpos.Options{},
			[]byte{0x1B, 0x40, 0x1D, 0x56, 0x00, 0x1D, 0x56, 0x01, 0x1D, 0x56, 0x41, 10, 0x1D, 0x56, 0x42, 10}},
		{"pointer blocks", escpos.Doc{Blocks: []escpos.Block{&escpos.Text{Text: "a"}, &escpos.Cut{}}}, escpos.Options{},
			[]byte{0x1B, 0x40, 'a', '\n', 0x1D, 0x56, 0x00}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := escpos.Encode(tc.doc, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("\n got %s\nwant %s", hex(got), hex(tc.want))
			}
		})
	}
}

func TestEncodeQRRasterBytes(t *testing.T) {
	got, err := escpos.Encode(escpos.Doc{Blocks: []escpos.Block{escpos.QR{Data: "AB", Module: 3}}}, escpos.Options{QRMode: escpos.QRRaster})
	if err != nil {
		t.Fatal(err)
	}
	m, err := escpos.QRMatrix("AB", escpos.QRLevelM)
	if err != nil {
		t.Fatal(err)
	}
	n := len(m) * 3 // version 1: 21 modules -> 63 dots -> 8 bytes a row
	wBytes := (n + 7) / 8
	head := []byte{0x1B, 0x40, 0x1D, 0x76, 0x30, 0x00, byte(wBytes), 0, byte(n), 0}
	if !bytes.HasPrefix(got, head) {
		t.Fatalf("header % X, want % X", got[:min(len(got), len(head))], head)
	}
	if len(got) != len(head)+wBytes*n {
		t.Fatalf("%d bytes, want %d", len(got), len(head)+wBytes*n)
	}
	if strings.Contains(string(got), "\x1d(k") {
		t.Error("raster mode emitted GS ( k")
	}
	// Top-left finder pattern: the first row starts with 7 dark modules = 21 dots.
	row := got[len(head) : len(head)+wBytes]
	if row[0] != 0xFF || row[1] != 0xFF || row[2]&0xF8 != 0xF8 || row[2]&0x04 != 0 {
		t.Errorf("first raster row starts % X, want the 21-dot finder edge then white", row[:3])
	}
}

func TestEncodeShrinksQRToFit(t *testing.T) {
	data := strings.Repeat("0123456789", 40) // version ~13: 69 modules
	got, err := escpos.Encode(escpos.Doc{Blocks: []escpos.Block{escpos.QR{Data: data, Module: 16}}}, escpos.Options{QRMode: escpos.QRRaster})
	if err != nil {
		t.Fatal(err)
	}
	wBytes := int(got[6]) | int(got[7])<<8 // ESC @, GS v 0 m, xL xH
	if wBytes*8 > escpos.Paper58.Dots() {
		t.Errorf("raster %d bytes wide does not fit 384 dots", wBytes)
	}
}

func TestEncodeGB18030(t *testing.T) {
	text := "市民之家：补办身份证 ¥10 😀 䶮"
	got, err := escpos.Encode(escpos.Doc{Blocks: []escpos.Block{escpos.Text{Text: text}}}, escpos.Options{Paper: escpos.Paper80})
	if err != nil {
		t.Fatal(err)
	}
	body, ok := bytes.CutPrefix(got, []byte{0x1B, 0x40, 0x1C, 0x26})
	if !ok {
		t.Fatalf("want ESC @ FS & first, got % X", got[:4])
	}
	dec, err := simplifiedchinese.GB18030.NewDecoder().Bytes(body)
	if err != nil {
		t.Fatal(err)
	}
	if string(dec) != text+"\n" {
		t.Errorf("decoded %q, want %q", dec, text+"\n")
	}
}

func TestEncodeNeverEmitsControlBytesFromText(t *testing.T) {
	got, err := escpos.Encode(escpos.Doc{Blocks: []escpos.Block{escpos.Text{Text: "a\x1b@\x1dV\x00b\x10\x04\x01"}}}, escpos.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0x1B, 0x40, 'a', '?', '@', '?', 'V', '?', 'b', '?', '?', '?', '\n'}
	if !bytes.Equal(got, want) {
		t.Errorf("got % X, want % X", got, want)
	}
}

func TestEncodeDeterministic(t *testing.T) {
	d := escpostest.SampleDoc()
	for _, mode := range []escpos.QRMode{escpos.QRNative, escpos.QRRaster} {
		a, err := escpos.Encode(d, escpos.Options{QRMode: mode})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := escpos.Encode(d, escpos.Options{QRMode: mode})
		if !bytes.Equal(a, b) {
			t.Errorf("mode %d: two encodings differ", mode)
		}
	}
}

func TestEncodeBadDoc(t *testing.T) {
	long := escpos.Barcode{Data: strings.Repeat("7", 20)} // 20 chars need > 384 dots at module 2
	for _, tc := range []struct {
		name string
		b    escpos.Block
		opts escpos.Options
	}{
		{"width 9", escpos.Text{Text: "x", Width: 9}, escpos.Options{}},
		{"height -1", escpos.Text{Text: "x", Height: -1}, escpos.Options{}},
		{"alignment 7", escpos.Text{Text: "x", Align: 7}, escpos.Options{}},
		{"rule char", escpos.Rule{Char: '*'}, escpos.Options{}},
		{"barcode non-ASCII", escpos.Barcode{Data: "编号1"}, escpos.Options{}},
		{"barcode control char", escpos.Barcode{Data: "A\x1bB"}, escpos.Options{}},
		{"barcode empty", escpos.Barcode{}, escpos.Options{}},
		{"barcode too wide for 58", long, escpos.Options{}},
		{"barcode module 7", escpos.Barcode{Data: "1", Module: 7}, escpos.Options{}},
		{"barcode height 256", escpos.Barcode{Data: "1", Height: 256}, escpos.Options{}},
		{"QR empty", escpos.QR{}, escpos.Options{}},
		{"QR too long", escpos.QR{Data: strings.Repeat("x", 3000)}, escpos.Options{}},
		{"QR module 17", escpos.QR{Data: "x", Module: 17}, escpos.Options{}},
		{"QR level 9", escpos.QR{Data: "x", Level: 9}, escpos.Options{}},
		{"feed -1", escpos.Feed{Lines: -1}, escpos.Options{}},
		{"cut feed 256", escpos.Cut{Feed: 256}, escpos.Options{}},
		{"nil block", nil, escpos.Options{}},
		{"unknown paper", escpos.Text{Text: "x"}, escpos.Options{Paper: 60}},
		{"unknown QR mode", escpos.Text{Text: "x"}, escpos.Options{QRMode: 9}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := escpos.Encode(escpos.Doc{Blocks: []escpos.Block{tc.b}}, tc.opts)
			if !errors.Is(err, escpos.ErrBadDoc) {
				t.Fatalf("err = %v, want ErrBadDoc", err)
			}
			if out != nil {
				t.Errorf("returned %d bytes with the error", len(out))
			}
		})
	}
	// The same barcode fits 80 mm.
	if _, err := escpos.Encode(escpos.Doc{Blocks: []escpos.Block{long}}, escpos.Options{Paper: escpos.Paper80}); err != nil {
		t.Errorf("20-character barcode on 80 mm: %v", err)
	}
}
