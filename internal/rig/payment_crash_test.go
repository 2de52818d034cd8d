package rig

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"citizenhome/devices/citycard/cardsim"
	"citizenhome/devices/pcsc/pcsctest"
	"citizenhome/kiosk/payment"
	"citizenhome/kiosk/store"
	"citizenhome/mask"
	"citizenhome/telemetry/wire"
)

// The crash test re-executes this test binary as the kiosk: it pays (and is killed with
// SIGKILL at a chosen instant), then a second run recovers. These variables tell a copy what
// to do.
const (
	envPayChild  = "RIG_PAY_CHILD"  // "pay" or "recover": run payChild instead of the tests
	envPayDir    = "RIG_PAY_DIR"    // the kiosk's directory (store, hall key, receipts)
	envPayKill   = "RIG_PAY_KILL"   // a journal step, or "print": the child kills itself after it
	envPayOffset = "RIG_PAY_OFFSET" // where the child's clock starts, after payBase
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(envPayChild); mode != "" {
		if err := payChild(mode); err != nil {
			fmt.Fprintln(os.Stderr, "pay child:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func killSelf() {
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // SIGKILL cannot be caught; nothing runs after it
}

// payChild is the kiosk of the crash test: it boots as rig.Boot would on pcscd (which runs the
// journal's recovery at start, and on the tap of a card already on the reader), and in "pay"
// mode pays once the card is read. It kills itself where RIG_PAY_KILL says; otherwise it runs
// until the test kills it. The deadline only stops an orphan.
func payChild(mode string) error {
	offset, err := time.ParseDuration(os.Getenv(envPayOffset))
	if err != nil {
		return err
	}
	kill := os.Getenv(envPayKill)
	tune := func(o *payment.Options) {
		o.AfterStep = func(s payment.Step) {
			if string(s) == kill {
				killSelf()
			}
		}
	}
	var onPrint func()
	if kill == "print" {
		onPrint = killSelf
	}
	pk, err := bootPayKiosk(os.Getenv(envPayDir), offset, tune, onPrint)
	if err != nil {
		return err
	}
	fmt.Println("ready")
	if mode == "pay" {
		deadline := time.Now().Add(20 * time.Second)
		for !hasCityCard(pk) {
			if time.Now().After(deadline) {
				return fmt.Errorf("no card read")
			}
			time.Sleep(5 * time.Millisecond)
		}
		paid, err := pk.pay.Pay(context.Background(), payMatter)
		fmt.Printf("paid %s %v\n", paid.Payment.Status, err)
	}
	time.Sleep(time.Minute)
	return fmt.Errorf("not killed within a minute")
}

func hasCityCard(pk *payKiosk) bool {
	for _, c := range pk.k.Cards() {
		if c.Reader == pcsctest.CityReaderSlot {
			return true
		}
	}
	return false
}

// child is one run of the kiosk process.
type child struct {
	cmd  *exec.Cmd
	out  bytes.Buffer
	done chan struct{}
	err  error
}

func startChild(t *testing.T, dir, mode, kill string, offset time.Duration) *child {
	t.Helper()
	c := &child{done: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0], "-test.run=^$")
	c.cmd.Env = append(os.Environ(), envPayChild+"="+mode, envPayDir+"="+dir, envPayKill+"="+kill, envPayOffset+"="+offset.String())
	c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.err = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(func() { c.kill(); <-c.done })
	return c
}

func (c *child) kill() { _ = c.cmd.Process.Signal(syscall.SIGKILL) }

// waitKilled waits for the child to die of SIGKILL.
func (c *child) waitKilled(t *testing.T) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		c.kill()
		<-c.done // its output is written until it ends
		t.Fatalf("the kiosk was not killed; its output:\n%s", c.out.String())
	}
	ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the kiosk ended with %v, not SIGKILL; its output:\n%s", c.err, c.out.String())
	}
}

// killOnDebit is the card on the reader that, when DEBIT arrives, carries it out and then has
// the kiosk killed before the answer reaches it: the power failing with DEBIT in flight.
type killOnDebit struct {
	*cardsim.Card
	pid   atomic.Int64
	fired atomic.Bool
}

func (k *killOnDebit) Transmit(apdu []byte) ([]byte, error) {
	resp, err := k.Card.Transmit(apdu)
	if cardsim.Classify(apdu) == cardsim.CmdDebit && !k.fired.Swap(true) {
		pid := int(k.pid.Load())
		syscall.Kill(pid, syscall.SIGKILL)
		// The answer must not reach the kiosk: wait until it is dead (a zombie, reaped by
		// the test) before handing it to pcscd.
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			if err != nil || strings.Contains(string(b), ") Z ") {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	return resp, err
}

// TestPCSCDPayCrash kills the kiosk process (SIGKILL) at each step of a payment through the
// real pcscd, starts it again, and checks that the restarted kiosk settles the payment from the
// journal and the card still on the reader: the card's balance, the journal, the receipts and
// the events agree, and the card is never debited twice.
func TestPCSCDPayCrash(t *testing.T) {
	e := openPayEnv(t)
	began := time.Now()
	cases := []struct {
		kill        string // a journal step, "print", or "debit" (killed with DEBIT in flight)
		paid        int
		maxReceipts int
		completed   bool // the event is payment.completed (else payment.recovered when paid)
	}{
		{kill: string(payment.StepIntent)},
		{kill: string(payment.StepInit)},
		{kill: string(payment.StepDebitSent)},
		{kill: "debit", paid: 1, maxReceipts: 1},
		{kill: string(payment.StepDebited), paid: 1, maxReceipts: 1},
		{kill: string(payment.StepConfirmed), paid: 1, maxReceipts: 1, completed: true},
		{kill: "print", paid: 1, maxReceipts: 2, completed: true},
	}
	for i, c := range cases {
		t.Run(c.kill, func(t *testing.T) {
			dir := t.TempDir()
			card := cityCard(t, 200+i, nil)
			masked := mask.Card(fmt.Sprintf("310400001234%04d", 200+i))
			start := card.Balance()
			model := &killOnDebit{Card: card}
			if c.kill != "debit" {
				model.fired.Store(true) // only the DEBIT case kills from the card's side
			}
			if err := e.env.CitySlot.Insert(model); err != nil {
				t.Fatal(err)
			}
			kill := c.kill
			if kill == "debit" {
				kill = ""
			}
			first := startChild(t, dir, "pay", kill, time.Since(began))
			model.pid.Store(int64(first.cmd.Process.Pid))
			first.waitKilled(t)
			if card.Count(cardsim.CmdDebit) > 1 {
				t.Fatal("DEBIT sent twice")
			}

			second := startChild(t, dir, "recover", "", time.Since(began))
			st, err := store.Open(dir + "/kiosk.db")
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			var l ledger
			pcsctest.Eventually(t, "the restarted kiosk to settle the payment", 20*time.Second, func() bool {
				l = readLedger(t, st.DB(), dir+"/receipts.txt", masked)
				if len(l.entries) == 0 || l.unsettled() > 0 {
					return false
				}
				for _, en := range l.entries {
					if en.Status == payment.StatusPaid && en.Receipt != payment.ReceiptPrinted {
						return false
					}
				}
				return true
			})
			second.kill()
			<-second.done
			l = readLedger(t, st.DB(), dir+"/receipts.txt", masked)
			l.agree(t, card, start, c.paid, max(c.maxReceipts, 1))
			if card.Count(cardsim.CmdDebit) != 1 && c.kill != string(payment.StepIntent) &&
				c.kill != string(payment.StepInit) && c.kill != string(payment.StepDebitSent) {
				t.Errorf("%d DEBITs", card.Count(cardsim.CmdDebit))
			}
			if c.paid == 1 {
				want := wire.EventPaymentRecovered
				if c.completed {
					want = wire.EventPaymentCompleted
				}
				if l.events[want] != 1 {
					t.Errorf("events %v, want one %s", l.events, want)
				}
			}
			for _, en := range l.entries {
				t.Logf("%v: recovered %v, tac %q, receipts %d, reason %q", en, en.Recovered, en.TAC, l.receipts[en.Txn()], en.Reason)
				if c.kill == "debit" && (!en.Recovered || en.Step != payment.StepDebited || en.TAC == "") {
					t.Errorf("a debit torn in flight must be recovered from the card with its TAC: %v", en)
				}
			}
			if t.Failed() {
				t.Logf("first run:\n%s\nsecond run:\n%s", first.out.String(), second.out.String())
			}
			_ = e.env.CitySlot.Remove()
			e.env.WaitNoCards(t)
		})
	}
}
