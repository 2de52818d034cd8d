package slip

import (
	"fmt"
	"time"

	"citizenhome/devices/escpos"
	"citizenhome/kiosk/catalog"
)

// Checklist is the 一次性告知单 a citizen takes home from a matter's guide: everything to bring
// and the steps, so that one visit is enough. It is built from the catalog only and holds no
// personal data.
type Checklist struct {
	Hall, HallEn string
	Matter       catalog.Text
	Section      catalog.Text
	Handling     catalog.Text // the handling as a time (catalog.Matter.HandlingTime)
	Fee          catalog.Text // 免费 / Free, 80元 / CNY 80.00
	Materials    []catalog.Material
	Steps        []catalog.Text
	Time         time.Time // when it was printed
	English      bool      // add English lines
	Demo         bool      // mark the slip as printed from demo data
	Loc          *time.Location
}

// Doc lays the checklist out: the hall, the title, the matter, section, time and fee, the
// materials numbered with what of each to bring (原件 / 复印件 and how many) and their notes, the
// procedure numbered, and the time printed. English lines follow their Chinese ones when
// English; a material or step without English prints its Chinese only.
func (c Checklist) Doc() escpos.Doc {
	loc := c.Loc
	if loc == nil {
		loc = time.Local
	}
	en := c.English
	center := escpos.AlignCenter
	d := hallHead(c.Hall, c.HallEn, en, c.Demo, "演示数据 DEMO - 仅供参考")
	title := "一次性告知单"
	if en {
		title += " Checklist"
	}
	d.Add(escpos.Text{Text: title, Bold: true, Align: center})
	d.Add(escpos.Rule{Char: '='})
	both := func(zh, enText string, bold bool) {
		d.Add(escpos.Text{Text: zh, Bold: bold})
		if en && enText != "" && enText != zh {
			d.Add(escpos.Text{Text: enText, Bold: bold})
		}
	}
	both(c.Matter.Zh, c.Matter.En, true)
	if c.Section.Zh != "" {
		d.Add(field(label("办事区域", "Section", en), c.Section.Zh, receiptCols)...)
		if en && c.Section.En != "" {
			d.Add(escpos.Text{Text: c.Section.En, Align: escpos.AlignRight})
		}
	}
	if c.Handling.Zh != "" {
		d.Add(escpos.Text{Text: label("办理时限", "Time", en) + c.Handling.Zh})
		if en && c.Handling.En != "" {
			d.Add(escpos.Text{Text: c.Handling.En})
		}
	}
	if c.Fee.Zh != "" {
		d.Add(escpos.Text{Text: label("收费", "Fee", en) + c.Fee.Zh})
		if en && c.Fee.En != "" {
			d.Add(escpos.Text{Text: c.Fee.En})
		}
	}
	d.Add(escpos.Rule{})
	head := "申请材料"
	if en {
		head += " Materials to bring"
	}
	d.Add(escpos.Text{Text: head, Bold: true})
	for i, m := range c.Materials {
		d.Add(escpos.Text{Text: fmt.Sprintf("□ %d. %s（%s × %d）", i+1, m.Name.Zh, m.Kind.Label().Zh, m.Copies)})
		if !m.Note.IsZero() {
			d.Add(escpos.Text{Text: "   " + m.Note.Zh})
		}
		if en && m.Name.En != "" {
			d.Add(escpos.Text{Text: fmt.Sprintf("   %s (%s x %d)", m.Name.En, m.Kind.Label().En, m.Copies)})
			if m.Note.En != "" {
				d.Add(escpos.Text{Text: "   " + m.Note.En})
			}
		}
	}
	if len(c.Steps) > 0 {
		d.Add(escpos.Rule{})
		head := "办理流程"
		if en {
			head += " Procedure"
		}
		d.Add(escpos.Text{Text: head, Bold: true})
		for i, s := range c.Steps {
			d.Add(escpos.Text{Text: fmt.Sprintf("%d. %s", i+1, s.Zh)})
			if en && s.En != "" {
				d.Add(escpos.Text{Text: "   " + s.En})
			}
		}
	}
	d.Add(escpos.Rule{})
	d.Add(field(label("打印时间", "Printed", en), c.Time.In(loc).Format("2006-01-02 15:04"), receiptCols)...)
	d.Add(escpos.Text{Text: "材料齐全可一次办结，如有疑问请到综合窗口咨询", Align: center})
	if en {
		d.Add(escpos.Text{Text: "Bring all of these to be served in one visit; ask at the general window if unsure.", Align: center})
	}
	d.Add(escpos.Cut{Partial: true, Feed: 80})
	return d
}
