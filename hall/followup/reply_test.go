package followup_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"citizenhome/hall/followup"
)

func TestComplaintNumber(t *testing.T) {
	for in, want := range map[string]string{
		"TS20261207K7Q2M9":       "TS20261207K7Q2M9",
		"ts20261207k7q2m9":       "TS20261207K7Q2M9",
		" TS 2026 1207 K7Q2 M9":  "TS20261207K7Q2M9",
		"ts-20261207-k7q2m9":     "TS20261207K7Q2M9",
		"TS20261207K7Q2MO":       "TS20261207K7Q2M0", // O read as 0, I and L as 1 (Crockford)
		"TS2O26I2O7KIQLM9":       "TS20261207K1Q1M9",
		"TS\u300020261207K7Q2M9": "TS20261207K7Q2M9",
	} {
		got, err := followup.ComplaintNumber(in)
		if err != nil || got != want {
			t.Errorf("ComplaintNumber(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "TS", "TS20261207K7Q2M", "TS20261207K7Q2M99", "TX20261207K7Q2M9", "20261207K7Q2M9",
		"TS20261307K7Q2M9" /* month 13 */, "TS20260230K7Q2M9" /* 30 February */, "TS20261207K7Q2MU" /* U */, "TS20261207K7Q2M!",
		"TS2026120AK7Q2M9", "TS20261207Ｋ7Q2M9", strings.Repeat("TS20261207K7Q2M9", 5), "TS20261207K7Q2M9\n"} {
		if got, err := followup.ComplaintNumber(in); !errors.Is(err, followup.ErrInvalid) {
			t.Errorf("ComplaintNumber(%q) = %q, %v; want ErrInvalid", in, got, err)
		}
	}
}

// Reply shows a complaint's order to its slip's holder: the state and deadline until it is
// answered, then the answer and when, and nothing else of the order.
func TestReply(t *testing.T) {
	f := newFixture(t, followup.Options{})
	ctx := context.Background()
	made := monday.Add(-30 * time.Minute)
	o, err := f.s.OpenComplaint(ctx, followup.ComplaintRef{Number: "TS20261207K7Q2M9", Category: "attitude", Section: "社保", At: made})
	if err != nil {
		t.Fatal(err)
	}
	f.rating(1, "社保", "13800138000") // a rating's order is nobody's reply

	r, err := f.s.Reply(ctx, "ts 20261207 k7q2m9")
	if err != nil {
		t.Fatal(err)
	}
	want := followup.Reply{Number: "TS20261207K7Q2M9", Category: "attitude", Section: "社保", State: followup.Accepted,
		Opened: made, Due: o.Due}
	if !r.Opened.Equal(want.Opened) || !r.Due.Equal(want.Due) || r.Due.IsZero() {
		t.Errorf("times %v %v, want %v %v", r.Opened, r.Due, want.Opened, want.Due)
	}
	r.Opened, r.Due = want.Opened, want.Due
	if r != want {
		t.Errorf("accepted: %+v, want %+v", r, want)
	}

	// Handling: a note of the handling is internal, and not shown.
	f.clk.Set(monday.Add(time.Hour))
	f.move(o.ID, followup.Handling, o.Manager, "内部：已调取监控，约谈窗口负责人")
	if r, err = f.s.Reply(ctx, "TS20261207K7Q2M9"); err != nil || r.State != followup.Handling || r.Answer != "" || !r.Answered.IsZero() {
		t.Errorf("handling: %+v %v", r, err)
	}

	f.clk.Set(monday.Add(2 * time.Hour))
	const answer = "经核实，窗口工作人员服务用语不规范，已批评教育并组织培训。感谢您的监督。"
	f.move(o.ID, followup.Answered, o.Manager, answer)
	r, err = f.s.Reply(ctx, "TS20261207K7Q2M9")
	if err != nil || r.State != followup.Answered || r.Answer != answer || !r.Answered.Equal(monday.Add(2*time.Hour)) {
		t.Errorf("answered: %+v %v", r, err)
	}

	// Unknown and malformed numbers, and a rating's order.
	_, err = f.s.Reply(ctx, "TS20261207AAAAAA")
	isErr(t, err, followup.ErrNotFound, "an unknown number")
	for _, bad := range []string{"", "A012", "TS1", "1"} {
		_, err = f.s.Reply(ctx, bad)
		isErr(t, err, followup.ErrInvalid, "malformed "+bad)
	}
	// Purged with its order after the retention: not found.
	f.clk.Set(monday.Add(followup.DefaultRetention + 3*time.Hour))
	if n, err := f.s.Purge(ctx); err != nil || n != 1 {
		t.Fatalf("purged %d %v", n, err)
	}
	_, err = f.s.Reply(ctx, "TS20261207K7Q2M9")
	isErr(t, err, followup.ErrNotFound, "a purged order")
	if strings.Contains(f.log.String(), "批评教育") || strings.Contains(f.log.String(), "约谈") {
		t.Errorf("a note is in the log: %s", f.log)
	}
}

// The answer of a complaint, shown to whoever holds the slip's number, is refused when it looks
// like it holds a mobile, a fixed-line number with its area code or an ID number; dates,
// amounts, the 12345 hotline and ticket codes pass. Other notes are internal and not checked.
func TestAnswerRefusesPersonalData(t *testing.T) {
	f := newFixture(t, followup.Options{})
	ctx := context.Background()
	o := f.complaint("TS20261207K7Q2M9")
	refused := map[string]string{
		"请联系 13800138000":          "手机号",
		"已致电138-0013-8000，群众表示满意":  "手机号",
		"回电 139 1234 5678":         "手机号",
		"+86 13912345678":          "手机号",
		"+8613912345678 已回访":       "手机号",
		"手机：１３８００１３８０００":           "手机号",
		"13800138000":              "手机号",
		"投诉人电话0755-83838383":       "带区号的电话号码",
		"(010) 6512 3456":          "带区号的电话号码",
		"（０２１）６２３４５６７８":            "带区号的电话号码",
		"请拨打 02162345678":          "带区号的电话号码",
		"0311-8123456 转":           "带区号的电话号码",
		"身份证110101199003071234已核验": "身份证号",
		"证件号 11010119900307123X":   "身份证号",
		"证件号 11010119900307123x。":  "身份证号",
		"110101 19900307 1234":     "身份证号",
	}
	for note, kind := range refused {
		_, err := f.s.Move(ctx, o.ID, followup.Answered, o.Manager, note)
		var fe *followup.Error
		if !errors.Is(err, followup.ErrPersonalData) || !errors.As(err, &fe) {
			t.Errorf("%q: err = %v, want ErrPersonalData", note, err)
			continue
		}
		if !strings.Contains(fe.Msg, kind) || !strings.Contains(fe.Msg, "personal data") {
			t.Errorf("%q: message %q does not name %s in Chinese and English", note, fe.Msg, kind)
		}
		for _, digits := range []string{"8000", "3456", "1234", "5678", "８０００"} {
			if strings.Contains(note, digits) && strings.Contains(fe.Msg, digits) {
				t.Errorf("%q: the message repeats the digits: %q", note, fe.Msg)
			}
		}
	}
	// Nothing was stored by the refusals.
	if got, err := f.s.Get(ctx, o.ID); err != nil || got.State != followup.Accepted || len(got.Steps) != 1 {
		t.Fatalf("after the refusals: %+v %v", got, err)
	}
	passed := []string{
		"已于20261207核实处理，退还多收费用1500元。",
		"2026-12-07 14:30 已约谈，A012 号票的窗口人员已批评教育。",
		"如有疑问请拨打政务服务热线12345。",
		"回执号 TS20261207K7Q2M9，工单 138 号。",
		"金额 13800.00 元，共 12 项。",
		"已办结 1380013800 件",       // ten digits: no mobile
		"参考号 138001380001",       // twelve digits
		"编号 1101011990030712345", // nineteen digits: no ID number
		"窗口电话分机 8123",
	}
	for i, note := range passed {
		c := f.complaint("TS20261207PASS0" + string(rune('0'+i)))
		if _, err := f.s.Move(ctx, c.ID, followup.Answered, c.Manager, note); err != nil {
			t.Errorf("%q refused: %v", note, err)
		}
	}
	// Only the answer is checked: a handling note and a rating's notes are internal.
	f.move(o.ID, followup.Handling, o.Manager, "群众电话13800138000，已回电")
	r := f.rating(7, "社保", "13800138000")
	f.move(r.ID, followup.CalledBack, "wang", "已致电13800138000")
}

// Whatever is typed, ComplaintNumber either refuses it or returns a number in normal form that
// it returns unchanged.
func FuzzComplaintNumber(f *testing.F) {
	for _, s := range []string{"TS20261207K7Q2M9", "ts 20261207 k7q2m9", "TS2O26I2O7KIQLM9", "", "TS", "A012", "TS20260230K7Q2M9", "ＴＳ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := followup.ComplaintNumber(s)
		if err != nil {
			if !errors.Is(err, followup.ErrInvalid) || n != "" {
				t.Fatalf("%q: %q %v", s, n, err)
			}
			return
		}
		if len(n) != 16 || n[:2] != "TS" || strings.Trim(n[10:], "0123456789ABCDEFGHJKMNPQRSTVWXYZ") != "" {
			t.Fatalf("%q gave %q", s, n)
		}
		if again, err := followup.ComplaintNumber(n); err != nil || again != n {
			t.Fatalf("%q: %q again gave %q %v", s, n, again, err)
		}
	})
}
