package rig

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"citizenhome/kiosk"
	"citizenhome/kiosk/config"
	"citizenhome/kiosk/payment"
)

// TestDemoPay: the demo pays with its sample city card and its PSAM model (startPayments, as
// Boot runs it), and the simulated printer prints the receipt with the TAC.
func TestDemoPay(t *testing.T) {
	k, devs, _ := demoKiosk(t)
	cfg := config.Default()
	cfg.Kiosk.Store = filepath.Join(t.TempDir(), "demo.db")
	pay, err := startPayments(context.Background(), cfg, k, devs, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := devs.Sim.TapCityCard(); err != nil {
		t.Fatal(err)
	}
	paid, err := pay.Pay(context.Background(), "zh-001")
	if err != nil || paid.PrintErr != nil || paid.Payment.Status != payment.StatusPaid {
		t.Fatalf("pay: %v %v %v", paid.Payment, err, paid.PrintErr)
	}
	if got := devs.Sim.city.Balance(); got != 12345-2000 {
		t.Errorf("balance %d", got)
	}
	waitFor(t, "the receipt", func() bool {
		tk := devs.Sim.emu.Tickets()
		return len(tk) > 0 && strings.Contains(strings.Join(tk[len(tk)-1].Lines, "\n"), paid.Payment.TAC)
	})
	tk := devs.Sim.emu.Tickets()
	text := strings.Join(tk[len(tk)-1].Lines, "\n")
	for _, want := range []string{"缴费凭证", "演示凭证", "3104********5678", paid.Payment.Txn()} {
		if !strings.Contains(text, want) {
			t.Errorf("receipt lacks %q:\n%s", want, text)
		}
	}
	if d := k.Devices()[kiosk.DevicePayment]; d.State != kiosk.StateOK {
		t.Errorf("payment device %+v", d)
	}
}
