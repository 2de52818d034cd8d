// Package slip lays out what the kiosk prints: queue tickets, payment receipts, complaint slips
// and the printer's self-test page. A slip is built from core data and becomes an escpos.Doc; it
// never holds personal data (a ticket names no person; a receipt shows a card number only masked).
package slip

import (
	"fmt"
	"time"

	"citizenhome/devices/escpos"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/queue"
)

// Ticket is a queue ticket to print.
type Ticket struct {
	Hall, HallEn    string
	Ticket          queue.Ticket
	Section, Matter catalog.Text
	// Where is where the section serves (catalog.Location.Label), printed bold so that the
	// citizen can walk there with the ticket in hand; zero: the catalog does not say.
	Where   catalog.Text
	English bool // add English lines
	Demo    bool // mark the ticket as a demo ticket, not valid in a real hall
	Loc     *time.Location
	// PublicURL is the hall's public ticket page (hall.public_url): when set, the QR code holds
	// PublicURL/t/{lookup}, which a phone opens; empty: LookupURI.
	PublicURL string
}

// LookupURI is what the ticket's QR code holds: the lookup code, under a scheme the kiosk's own
// scanner and the hall's platform recognise, so it can be typed in too.
func LookupURI(code string) string { return "citizenhome:lookup:" + code }

// QRData is what the ticket's QR code holds: {PublicURL}/t/{lookup} when the hall has a public
// ticket page, else LookupURI(lookup); "" without a lookup code.
func (t Ticket) QRData() string {
	switch {
	case t.Ticket.LookupCode == "":
		return ""
	case t.PublicURL != "":
		return t.PublicURL + "/t/" + t.Ticket.LookupCode
	}
	return LookupURI(t.Ticket.LookupCode)
}

// hallHead starts a slip the way the ticket, the receipt and the complaint slip all start: the
// hall's name large (and in English under it when en), and demoMark when demo, so that a demo
// slip cannot pass for a real one.
func hallHead(hall, hallEn string, en, demo bool, demoMark string) escpos.Doc {
	var d escpos.Doc
	d.Add(escpos.Text{Text: hall, Width: 2, Height: 2, Bold: true, Align: escpos.AlignCenter})
	if en && hallEn != "" {
		d.Add(escpos.Text{Text: hallEn, Align: escpos.AlignCenter})
	}
	if demo {
		d.Add(escpos.Text{Text: demoMark, Bold: true, Align: escpos.AlignCenter})
	}
	return d
}

// Doc lays the ticket out: the hall, the number very large, section, matter and where to go, the queue ahead,
// the time, and a QR code with the lookup code.
func (t Ticket) Doc() escpos.Doc {
	loc := t.Loc
	if loc == nil {
		loc = time.Local
	}
	center := escpos.AlignCenter
	d := hallHead(t.Hall, t.HallEn, t.English, t.Demo, "演示号票 DEMO - 无效")
	d.Add(escpos.Rule{Char: '='})
	label := "排队号"
	if t.English {
		label += " Queue number"
	}
	d.Add(escpos.Text{Text: label, Align: center})
	d.Add(escpos.Text{Text: t.Ticket.Code, Width: 5, Height: 5, Bold: true, Align: center})
	switch {
	case t.Ticket.Priority && t.Ticket.PriorityReason == queue.ReasonUrgent:
		// 急办件 by the one name the screens give it (catalog.Urgent's label), English on a
		// line of its own: both do not fit on one.
		u := catalog.Urgent.Label()
		d.Add(escpos.Text{Text: u.Zh + " 绿色通道 优先办理", Bold: true, Align: center})
		if t.English {
			d.Add(escpos.Text{Text: u.En, Bold: true, Align: center})
		}
	case t.Ticket.Priority:
		p := "绿色通道 优先办理"
		if t.English {
			p += " / Priority"
		}
		d.Add(escpos.Text{Text: p, Bold: true, Align: center})
	}
	d.Add(escpos.Rule{})
	if t.Section.Zh != "" {
		d.Add(escpos.Text{Text: "办事区域：" + t.Section.Zh})
		if t.English && t.Section.En != "" {
			d.Add(escpos.Text{Text: "Section: " + t.Section.En})
		}
	}
	if t.Matter.Zh != "" {
		d.Add(escpos.Text{Text: "办理事项：" + t.Matter.Zh})
		if t.English && t.Matter.En != "" {
			d.Add(escpos.Text{Text: "Matter: " + t.Matter.En})
		}
	}
	if t.Where.Zh != "" {
		d.Add(escpos.Text{Text: "请到：" + t.Where.Zh, Bold: true})
		if t.English && t.Where.En != "" {
			d.Add(escpos.Text{Text: "Go to: " + t.Where.En, Bold: true})
		}
	}
	wait := fmt.Sprintf("前面等候 %d 人", t.Ticket.WaitingAhead)
	if m := int(t.Ticket.EstimatedWait.Round(time.Minute).Minutes()); m > 0 {
		wait += fmt.Sprintf("，预计约 %d 分钟", m)
	}
	d.Add(escpos.Text{Text: wait, Bold: true})
	if t.English {
		d.Add(escpos.Text{Text: fmt.Sprintf("%d waiting ahead of you", t.Ticket.WaitingAhead)})
	}
	d.Add(escpos.Text{Text: "取号时间：" + t.Ticket.IssuedAt.In(loc).Format("2006-01-02 15:04:05")})
	d.Add(escpos.Rule{})
	if t.Ticket.LookupCode != "" {
		d.Add(escpos.QR{Data: t.QRData(), Module: 5, Align: center})
		d.Add(escpos.Text{Text: "查询码 " + t.Ticket.LookupCode, Align: center})
	}
	d.Add(escpos.Text{Text: "请留意叫号屏幕和广播，过号请重新取号", Align: center})
	if t.English {
		d.Add(escpos.Text{Text: "Please watch the calling screen.", Align: center})
	}
	d.Add(escpos.Cut{Partial: true, Feed: 80})
	return d
}
