package slip

import (
	"time"

	"citizenhome/devices/escpos"
	"citizenhome/kiosk/catalog"
)

// Complaint is the slip (投诉回执) a citizen gets for a complaint: the number to follow it up
// with, as text and as a QR code the kiosk's progress lookup reads. It holds no personal data: not
// the text of the complaint, not the phone number, not the person.
type Complaint struct {
	Hall, HallEn string
	KioskID      string
	Number       string       // "TS20261126K7Q2M9"
	Category     catalog.Text // 服务态度 / Staff attitude
	Time         time.Time
	English      bool // add English lines
	Demo         bool // mark the slip as a demo slip, not a complaint the hall will handle
	Loc          *time.Location
}

// Doc lays the slip out: the hall, the title, the number large, the category, the time and the
// terminal, a QR code of the number (LookupURI), and where to follow the complaint up.
func (c Complaint) Doc() escpos.Doc {
	loc := c.Loc
	if loc == nil {
		loc = time.Local
	}
	center := escpos.AlignCenter
	en := c.English
	d := hallHead(c.Hall, c.HallEn, en, c.Demo, "演示回执 DEMO - 无效")
	title := "投诉回执"
	if en {
		title += " Complaint receipt"
	}
	d.Add(escpos.Text{Text: title, Bold: true, Align: center})
	d.Add(escpos.Rule{Char: '='})
	d.Add(escpos.Text{Text: label("投诉编号", "Number", en)})
	d.Add(escpos.Text{Text: c.Number, Width: 1, Height: 2, Bold: true, Align: center})
	d.Add(escpos.Rule{})
	if c.Category.Zh != "" {
		d.Add(field(label("投诉类别", "Category", en), c.Category.Zh, receiptCols)...)
		if en && c.Category.En != "" {
			d.Add(escpos.Text{Text: c.Category.En, Align: escpos.AlignRight})
		}
	}
	d.Add(field(label("提交时间", "Time", en), c.Time.In(loc).Format("2006-01-02 15:04:05"), receiptCols)...)
	d.Add(field(label("终端编号", "Terminal", en), c.KioskID, receiptCols)...)
	d.Add(escpos.Rule{})
	d.Add(escpos.QR{Data: LookupURI(c.Number), Module: 5, Align: center})
	d.Add(escpos.Text{Text: "请凭投诉编号查询处理结果", Align: center})
	d.Add(escpos.Text{Text: "自助机“办件查询”或综合窗口", Align: center})
	if en {
		d.Add(escpos.Text{Text: "Scan or type the number at a kiosk (Progress) to follow your complaint.", Align: center})
	}
	d.Add(escpos.Cut{Partial: true, Feed: 80})
	return d
}
