package slip

import (
	"fmt"
	"log/slog"
	"time"

	"citizenhome/devices/escpos"
	"citizenhome/kiosk/catalog"
	"citizenhome/mask"
)

// Receipt is a payment receipt (缴费凭证) for a fee paid with a city card at the kiosk. It holds
// the full card number because that is what the payment gives; the receipt prints it masked
// (3104********5678, package mask), and so do every fmt verb, slog and JSON, so a Receipt can be
// logged.
// Nothing else personal is on it: no name, no ID number.
type Receipt struct {
	Hall, HallEn string
	KioskID      string
	Matter       catalog.Text
	// FeeFen is the amount paid and BalanceFen the card balance after it, in fen (分); they
	// print in 元 with two decimals ("12.50 元"); negative amounts print with a minus sign.
	FeeFen, BalanceFen int64
	CardNo             string // full; printed masked (mask.Card)
	TAC                string // the card's transaction authentication code for this debit, hex
	Txn                string // the transaction number (交易流水号) the hall's platform gave
	Time               time.Time
	English            bool // add English labels and lines
	Demo               bool // mark the receipt as a demo receipt, not valid in a real hall
	Loc                *time.Location
}

// Yuan formats an amount in fen as 元 with two decimals: 1250 -> "12.50", -5 -> "-0.05".
func Yuan(fen int64) string {
	sign := ""
	u := uint64(fen)
	if fen < 0 {
		sign, u = "-", uint64(-(fen+1))+1 // safe for math.MinInt64
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

// String describes r with the card number masked.
func (r Receipt) String() string {
	return fmt.Sprintf("receipt{%s 元, card %s, txn %s}", Yuan(r.FeeFen), mask.Card(r.CardNo), r.Txn)
}

// Format prints String for every verb, so %#v or %+v do not print the card number either.
func (r Receipt) Format(f fmt.State, verb rune) { mask.Format(f, verb, r.String()) }

// LogValue logs the amount, the masked card number and the transaction number.
func (r Receipt) LogValue() slog.Value { return r.fields().LogValue() }

// MarshalJSON writes what LogValue gives.
func (r Receipt) MarshalJSON() ([]byte, error) { return r.fields().MarshalJSON() }

func (r Receipt) fields() mask.Fields {
	return mask.Fields{}.Add("fee", Yuan(r.FeeFen)).Add("card", mask.Card(r.CardNo)).Add("txn", r.Txn)
}

// label is a field label, with its English after the Chinese when English lines are wanted.
func label(zh, en string, english bool) string {
	if english && en != "" {
		return zh + " " + en + "："
	}
	return zh + "："
}

// field is a label and its value on one line when they fit in cols print columns, else the
// label on one line and the value right-aligned under it, so that a value (a time, a number)
// is never broken by wrapping.
func field(lbl, value string, cols int) []escpos.Block {
	if escpos.Width(lbl)+escpos.Width(value) <= cols {
		return []escpos.Block{escpos.Text{Text: lbl + value}}
	}
	return []escpos.Block{escpos.Text{Text: lbl}, escpos.Text{Text: value, Align: escpos.AlignRight}}
}

// receiptCols is the width receipts are laid out for: the narrower roll, so that one layout
// reads well on both.
var receiptCols = escpos.Paper58.Columns()

// Doc lays the receipt out: the hall, the title, the matter, the amount in large bold type,
// the masked card, the balance after, the transaction number and TAC, the terminal and time.
func (r Receipt) Doc() escpos.Doc {
	loc := r.Loc
	if loc == nil {
		loc = time.Local
	}
	center := escpos.AlignCenter
	en := r.English
	d := hallHead(r.Hall, r.HallEn, en, r.Demo, "演示凭证 DEMO - 无效")
	title := "缴费凭证"
	if en {
		title += " Payment receipt"
	}
	d.Add(escpos.Text{Text: title, Bold: true, Align: center})
	d.Add(escpos.Rule{Char: '='})
	if r.Matter.Zh != "" {
		d.Add(escpos.Text{Text: "办理事项：" + r.Matter.Zh})
		if en && r.Matter.En != "" {
			d.Add(escpos.Text{Text: "Matter: " + r.Matter.En})
		}
	}
	amount := Yuan(r.FeeFen) + " 元"
	if en {
		amount += " CNY"
	}
	d.Add(escpos.Text{Text: label("缴费金额", "Amount", en)})
	d.Add(escpos.Text{Text: amount, Width: 2, Height: 2, Bold: true, Align: escpos.AlignRight})
	d.Add(escpos.Rule{})
	d.Add(field(label("市民卡号", "Card", en), mask.Card(r.CardNo), receiptCols)...)
	d.Add(field(label("卡内余额", "Balance", en), Yuan(r.BalanceFen)+" 元", receiptCols)...)
	d.Add(field(label("交易流水号", "Transaction", en), r.Txn, receiptCols)...)
	d.Add(field(label("TAC", "", en), r.TAC, receiptCols)...)
	d.Add(field(label("终端编号", "Terminal", en), r.KioskID, receiptCols)...)
	d.Add(field(label("交易时间", "Time", en), r.Time.In(loc).Format("2006-01-02 15:04:05"), receiptCols)...)
	d.Add(escpos.Rule{})
	d.Add(escpos.Text{Text: "请妥善保管本凭证，如有疑问请到综合窗口咨询", Align: center})
	if en {
		d.Add(escpos.Text{Text: "Please keep this receipt.", Align: center})
	}
	d.Add(escpos.Cut{Partial: true, Feed: 80})
	return d
}
