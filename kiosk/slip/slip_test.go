package slip

import (
	"flag"
	"strings"
	"testing"
	"time"

	"citizenhome/devices/escpos"
	"citizenhome/kiosk/catalog"
	"citizenhome/kiosk/queue"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func sample(english, priority bool) Ticket {
	loc := time.FixedZone("CST", 8*3600)
	return Ticket{
		Hall: "开封市民之家", HallEn: "Kaifeng Citizen Home", English: english, Loc: loc,
		Section: catalog.Text{Zh: "社保", En: "Social insurance"},
		Where:   catalog.Location{Floor: 2, Zone: catalog.Text{Zh: "B区", En: "zone B"}, Windows: []int{5, 6, 7, 8}}.Label(),
		Matter:  catalog.Text{Zh: "城乡居民基本养老保险参保登记", En: "Enrolment in the urban and rural residents' basic pension"},
		Ticket: queue.Ticket{Code: "B012", Number: 12, Category: "B", Priority: priority, WaitingAhead: 7,
			EstimatedWait: 18 * time.Minute, LookupCode: "K7Q2M9XAB",
			IssuedAt: time.Date(2026, 11, 26, 9, 30, 5, 0, loc)},
	}
}

// What is printed reads right when the emulator parses it back.
func TestTicketPrintsWhatItShould(t *testing.T) {
	tk := sample(true, true)
	slip, b := printed(t, tk.Doc(), escpos.Paper80, escpos.QRNative)
	text := strings.Join(slip.Lines, "\n")
	for _, want := range []string{"开封市民之家", "B012", "绿色通道", "社保", "城乡居民基本养老保险参保登记",
		"前面等候 7 人", "18 分钟", "2026-11-26 09:30:05", "K7Q2M9XAB", "Queue number",
		"请到：二楼 B区 5-8号窗口", "Go to: 2F, zone B, windows 5-8"} {
		if !strings.Contains(text, want) {
			t.Errorf("ticket lacks %q:\n%s", want, text)
		}
	}
	if len(slip.QR) != 1 || slip.QR[0] != LookupURI("K7Q2M9XAB") {
		t.Errorf("QR %q", slip.QR)
	}
	if len(b) > 1200 {
		t.Errorf("a ticket of %d bytes: keep it small, it goes down a serial line", len(b))
	}
	t.Logf("ticket: %d bytes (80 mm, native QR, English lines)", len(b))
}

// With the hall's public page configured, the ticket's QR code opens it on a phone; without,
// it keeps the kiosk's own lookup payload.
func TestTicketQRData(t *testing.T) {
	tk := sample(false, false)
	if got := tk.QRData(); got != LookupURI(tk.Ticket.LookupCode) {
		t.Errorf("QRData without public_url = %q", got)
	}
	tk.PublicURL = "https://smzj.example.cn"
	want := "https://smzj.example.cn/t/" + tk.Ticket.LookupCode
	if got := tk.QRData(); got != want {
		t.Errorf("QRData = %q, want %q", got, want)
	}
	found := false
	for _, c := range tk.Doc().Blocks {
		if q, ok := c.(escpos.QR); ok && q.Data == want {
			found = true
		}
	}
	if !found {
		t.Errorf("the printed QR code does not hold %q", want)
	}
	tk.Ticket.LookupCode = ""
	if tk.QRData() != "" {
		t.Error("QRData without a lookup code")
	}
}

// A ticket for an urgent matter (急办件) names it as the screens do, in both languages; other
// priority tickets do not.
func TestTicketNamesUrgentAsTheScreensDo(t *testing.T) {
	tk := sample(true, true)
	tk.Ticket.PriorityReason = queue.ReasonUrgent
	slip, _ := printed(t, tk.Doc(), escpos.Paper80, escpos.QRNative)
	text := strings.Join(slip.Lines, "\n")
	if !strings.Contains(text, "急办件 绿色通道 优先办理\nUrgent (green channel)\n") {
		t.Errorf("urgent ticket:\n%s", text)
	}
	tk.Ticket.PriorityReason = queue.ReasonElder
	slip, _ = printed(t, tk.Doc(), escpos.Paper80, escpos.QRNative)
	if text := strings.Join(slip.Lines, "\n"); strings.Contains(text, "急办件") || !strings.Contains(text, "绿色通道 优先办理 / Priority") {
		t.Errorf("elder's priority ticket:\n%s", text)
	}
}

// A section the catalog gives no location gets no directions: no empty "请到：" line.
func TestTicketWithoutLocation(t *testing.T) {
	tk := sample(true, false)
	tk.Where = catalog.Text{}
	slip, _ := printed(t, tk.Doc(), escpos.Paper58, escpos.QRNative)
	if text := strings.Join(slip.Lines, "\n"); strings.Contains(text, "请到") || strings.Contains(text, "Go to") {
		t.Errorf("ticket without a location:\n%s", text)
	}
	tk = sample(false, false)
	slip, _ = printed(t, tk.Doc(), escpos.Paper58, escpos.QRNative)
	text := strings.Join(slip.Lines, "\n")
	if !strings.Contains(text, "请到：二楼 B区 5-8号窗口") || strings.Contains(text, "Go to") {
		t.Errorf("Chinese-only 58 mm ticket:\n%s", text)
	}
}
