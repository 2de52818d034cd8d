package slip

import (
	"fmt"
	"strings"
	"time"

	"citizenhome/devices/escpos"
)

// SelfTest is the printer self-test page a technician prints from the staff screen or with
// kioskd's POST /v1/printer/selftest: what the kiosk knows of itself and its printer, a QR code
// and a barcode to scan, and a ruler of the paper's columns to see that the paper setting
// matches the roll. It holds no personal data.
type SelfTest struct {
	Hall, HallEn string
	KioskID      string
	Version      string
	// Printer is the printer's state word as the kiosk reports it ("ok", "paper-low", ...);
	// known words print with their Chinese name, others as they are.
	Printer string
	Paper   escpos.Paper  // the configured roll; 0 means 58 mm, as in escpos
	QRMode  escpos.QRMode // how the kiosk sends QR codes, printed so a wrong setting shows
	Time    time.Time
	English bool // add English lines
	Demo    bool
	Loc     *time.Location
}

// SelfTestBarcode is the data of the self-test page's CODE128 barcode: 12 characters, the
// most a 58 mm roll fits with quiet zones.
const SelfTestBarcode = "SELFTEST0123"

// SelfTestQR is the data of the self-test page's QR code for a kiosk: a scanner should read
// exactly this. Kiosk IDs longer than 64 bytes are cut, to keep the symbol small.
func SelfTestQR(kioskID string) string {
	if len(kioskID) > 64 {
		kioskID = kioskID[:64]
	}
	return "citizenhome:selftest:" + kioskID
}

var stateNames = map[string]string{
	"ok": "正常", "paper-low": "纸将用尽", "paper-out": "缺纸", "cover-open": "纸仓盖未关",
	"error": "故障", "offline": "离线", "absent": "未配置",
}

// Ruler returns the lines of a column ruler for columns print columns: the tens above the
// units ("         1" over "1234567890"), each exactly columns wide, so a line that wraps
// or stops short on paper shows that the paper setting is wrong.
func Ruler(columns int) (tens, units string) {
	var t, u strings.Builder
	for i := 1; i <= columns; i++ {
		u.WriteByte(byte('0' + i%10))
		if i%10 == 0 {
			t.WriteByte(byte('0' + i/10%10))
		} else {
			t.WriteByte(' ')
		}
	}
	return t.String(), u.String()
}

// hanRuler is n Chinese numerals counting 一 to 十 over and over: a line of exactly n double-width
// characters, to see that the printer's Chinese font takes two columns.
func hanRuler(n int) string {
	digits := []rune("一二三四五六七八九十")
	var b strings.Builder
	for i := range n {
		b.WriteRune(digits[i%10])
	}
	return b.String()
}

// Doc lays the page out.
func (s SelfTest) Doc() escpos.Doc {
	loc := s.Loc
	if loc == nil {
		loc = time.Local
	}
	paper := s.Paper
	if paper == 0 {
		paper = escpos.Paper58
	}
	cols := paper.Columns()
	center := escpos.AlignCenter
	en := s.English
	var d escpos.Doc
	d.Add(escpos.Text{Text: s.Hall, Bold: true, Align: center})
	title := "打印机自检页"
	d.Add(escpos.Text{Text: title, Width: 2, Height: 2, Bold: true, Align: center})
	if en {
		d.Add(escpos.Text{Text: "Printer self-test", Align: center})
	}
	if s.Demo {
		d.Add(escpos.Text{Text: "演示 DEMO", Bold: true, Align: center})
	}
	d.Add(escpos.Rule{Char: '='})
	state := s.Printer
	if zh, ok := stateNames[s.Printer]; ok {
		state = zh + " (" + s.Printer + ")"
	}
	d.Add(field(label("打印机状态", "Printer", en), state, cols)...)
	d.Add(field(label("终端编号", "Kiosk", en), s.KioskID, cols)...)
	d.Add(field(label("服务大厅", "Hall", en), s.Hall, cols)...)
	if en && s.HallEn != "" {
		d.Add(escpos.Text{Text: s.HallEn, Align: escpos.AlignRight})
	}
	d.Add(field(label("软件版本", "Version", en), s.Version, cols)...)
	d.Add(field(label("自检时间", "Time", en), s.Time.In(loc).Format("2006-01-02 15:04:05"), cols)...)
	d.Add(field(label("纸宽", "Paper", en), fmt.Sprintf("%d mm，每行 %d 列（%d 个汉字）", int(paper), cols, cols/2), cols)...)
	qr := "打印机生成 native (GS ( k)"
	if s.QRMode == escpos.QRRaster {
		qr = "光栅图 raster (GS v 0)"
	}
	d.Add(field(label("二维码方式", "QR", en), qr, cols)...)
	d.Add(escpos.Rule{})

	d.Add(escpos.Text{Text: label("列尺", "Ruler", en)})
	tens, units := Ruler(cols)
	d.Add(escpos.Text{Text: tens}, escpos.Text{Text: units})
	d.Add(escpos.Text{Text: hanRuler(cols / 2)})
	d.Add(escpos.Rule{})

	d.Add(escpos.Text{Text: label("二维码测试", "QR test", en)})
	d.Add(escpos.QR{Data: SelfTestQR(s.KioskID), Module: 5, Align: center})
	d.Add(escpos.Text{Text: SelfTestQR(s.KioskID), Align: center})
	d.Add(escpos.Text{Text: label("条码测试", "Barcode test", en)})
	d.Add(escpos.Barcode{Data: SelfTestBarcode, Height: 60, HRI: true, Align: center})
	d.Add(escpos.Rule{})
	d.Add(escpos.Text{Text: "若二维码印成文字，请设置 printer_qr = \"raster\""})
	if en {
		d.Add(escpos.Text{Text: "If the QR code printed as text, set printer_qr = \"raster\"."})
	}
	d.Add(escpos.Cut{Partial: true, Feed: 80})
	return d
}
