package notify

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"citizenhome/hall/history"
)

// The names of devices and states a person reads, as the kiosk's screens and slips say them.
var (
	deviceNames = map[string]string{
		"printer": "出票机", "id-reader": "身份证阅读器", "card-reader": "市民卡读卡器",
		"speaker": "扬声器", "kiosk": "自助机",
	}
	stateNames = map[string]string{
		"paper-low": "纸将用尽", "paper-out": "缺纸", "cover-open": "纸仓盖未关",
		"error": "故障", "offline": "离线",
	}
	codeNames = map[string]string{
		history.KioskLost: "自助机失联", "help-requested": "市民呼叫工作人员",
		orderOverdue: "工单逾期未办结", "staff-pin-lockout": "工作人员密码多次错误，已锁定",
	}
	severityNames = map[string]string{SeverityWarning: "警告", SeverityError: "故障"}
)

// Name returns the readable Chinese name of an alert: "出票机缺纸" for printer-paper-out,
// "自助机失联" for kiosk-lost; a code it does not know is returned as it is.
func Name(code, device string) string {
	if s, ok := codeNames[code]; ok {
		return s
	}
	if d, ok := deviceNames[device]; ok {
		if s, ok := stateNames[strings.TrimPrefix(code, device+"-")]; ok && strings.HasPrefix(code, device+"-") {
			return d + s
		}
	}
	return code
}

// Duration writes d in Chinese to the minute ("2天3小时", "1小时5分钟"), seconds only under a
// minute ("45秒").
func Duration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%d秒", max(0, int(d/time.Second)))
	}
	d = d.Truncate(time.Minute)
	days, h, m := int(d/(24*time.Hour)), int(d/time.Hour)%24, int(d/time.Minute)%60
	var b strings.Builder
	if days > 0 {
		fmt.Fprintf(&b, "%d天", days)
	}
	if h > 0 {
		fmt.Fprintf(&b, "%d小时", h)
	}
	if m > 0 && days == 0 {
		fmt.Fprintf(&b, "%d分钟", m)
	}
	return b.String()
}

// trim cuts s to n runes on one line: a kiosk's message is free text.
func trim(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

type message struct {
	title    string // DingTalk's notification title
	text     string // plain text
	markdown string
	name     string
	link     string
	lasted   time.Duration
}

// orderOverdue is hall/followup's alert of a work order past its deadline: an alert of no
// kiosk (Kiosk ""), its ID the order's id negated, its Device "section:" and the section.
const orderOverdue = "order-overdue"

// link returns the console's page of a's kiosk, or of its work order for an overdue order; ""
// without a console URL, or for another alert of no kiosk (no page to show).
func (n *Notifier) link(a history.Alert) string {
	if n.o.ConsoleURL == "" {
		return ""
	}
	if a.Kiosk == "" {
		if a.Code != orderOverdue || a.ID >= 0 {
			return ""
		}
		// A ConsoleURL naming a kiosk page's form ({kiosk}) says nothing of the orders' pages:
		// they are at OrderPath of its origin.
		base := strings.TrimRight(n.o.ConsoleURL, "/")
		if strings.Contains(base, "{kiosk}") {
			u, err := url.Parse(base)
			if err != nil {
				return ""
			}
			base = u.Scheme + "://" + u.Host
		}
		return base + strings.ReplaceAll(OrderPath, "{order}", fmt.Sprint(-a.ID))
	}
	base := n.o.ConsoleURL
	if !strings.Contains(base, "{kiosk}") {
		base = strings.TrimRight(base, "/") + KioskPath
	}
	return strings.ReplaceAll(base, "{kiosk}", url.PathEscape(a.Kiosk))
}

// message writes the phase of a at now.
func (n *Notifier) message(phase string, a history.Alert, now time.Time) message {
	loc := n.o.Hours.Location()
	m := message{name: Name(a.Code, a.Device), link: n.link(a)}
	// An alert of no kiosk (a work order past its deadline) is the hall's, and names its
	// section instead of a device.
	head, place, subject := "自助机告警", "自助机", a.Kiosk
	if a.Kiosk == "" {
		head, place, subject = "大厅告警", "大厅", n.o.Hall
	}
	end := now
	if phase == endedPhase {
		head += "已恢复"
		if a.Ended != nil {
			end = *a.Ended
		}
	}
	m.lasted = end.Sub(a.Started)
	where := a.Kiosk
	if n.o.Hall != "" && a.Kiosk != "" {
		where = n.o.Hall + " / " + a.Kiosk
	} else if a.Kiosk == "" {
		where = n.o.Hall
	}
	m.title = strings.TrimSpace(fmt.Sprintf("%s：%s %s", head, subject, m.name))
	sev := severityNames[a.Severity]
	if sev == "" {
		sev = a.Severity
	}
	var lines [][2]string
	if where != "" {
		lines = append(lines, [2]string{place, where})
	}
	lines = append(lines, [][2]string{
		{"告警", fmt.Sprintf("%s（%s）", m.name, a.Code)},
		{"级别", sev},
	}...)
	if section, ok := strings.CutPrefix(a.Device, "section:"); ok && a.Kiosk == "" {
		lines = append(lines, [2]string{"科室", section})
	} else if a.Device != "" {
		dev := deviceNames[a.Device]
		if dev == "" {
			dev = a.Device
		} else {
			dev += "（" + a.Device + "）"
		}
		lines = append(lines, [2]string{"设备", dev})
	}
	if a.Message != "" {
		lines = append(lines, [2]string{"说明", trim(a.Message, 200)})
	}
	lines = append(lines, [2]string{"开始", a.Started.In(loc).Format("2006-01-02 15:04:05")})
	if phase == endedPhase {
		lines = append(lines, [2]string{"结束", end.In(loc).Format("2006-01-02 15:04:05")}, [2]string{"共持续", Duration(m.lasted)})
	} else {
		lines = append(lines, [2]string{"已持续", Duration(m.lasted)})
	}
	var t, md strings.Builder
	t.WriteString(strings.TrimSpace("【"+head+"】"+subject+" "+m.name) + "\n")
	md.WriteString(strings.TrimSpace("### "+head+"："+subject+" "+m.name) + "\n")
	for _, l := range lines {
		t.WriteString(l[0] + "：" + l[1] + "\n")
		md.WriteString("> " + l[0] + "：" + l[1] + "\n\n")
	}
	if m.link != "" {
		t.WriteString("查看：" + m.link + "\n")
		md.WriteString("[在控制台查看](" + m.link + ")\n")
	}
	m.text, m.markdown = strings.TrimRight(t.String(), "\n"), strings.TrimRight(md.String(), "\n")
	return m
}
