package mqtttest

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// RequestReplyFloor is the median, over n requests, of the shortest request and reply a kiosk
// can have with the hall through the broker at e.URL: the kiosk's account publishes on its own
// event topic, the controller's account (which reads the hall) answers at once on the kiosk's
// ack topic, the kiosk receives it. Nothing else happens on either side, so a benchmark of
// a real exchange divides by it to say how much of its time is the exchange's own work.
func RequestReplyFloor(tb testing.TB, e Env, kiosk string, n int) time.Duration {
	tb.Helper()
	root := "citizenhome/v1/" + e.Hall + "/" + kiosk
	got := make(chan struct{}, 1)
	ko, err := e.Settings(e.KioskUser(kiosk), e.KioskPassword, "floor-"+RandomHex(4)).Options()
	if err != nil {
		tb.Fatal(err)
	}
	ko.SetDefaultPublishHandler(func(_ paho.Client, _ paho.Message) { got <- struct{}{} })
	kc := paho.NewClient(ko)
	defer kc.Disconnect(0)
	co, err := e.Settings(e.ControllerUser, e.ControllerPassword, "").Options()
	if err != nil {
		tb.Fatal(err)
	}
	cc := paho.NewClient(co)
	defer cc.Disconnect(0)
	ack := []byte(`{"ids":["` + strings.Repeat("0", 32) + `"]}`)
	for _, t := range []paho.Token{kc.Connect(), cc.Connect()} {
		if !t.WaitTimeout(10*time.Second) || t.Error() != nil {
			tb.Fatalf("floor: connect: %v", t.Error())
		}
	}
	for _, t := range []paho.Token{
		kc.Subscribe(root+"/ack", 1, nil),
		cc.Subscribe(root+"/event", 1, func(c paho.Client, _ paho.Message) { c.Publish(root+"/ack", 1, false, ack) }),
	} {
		if !t.WaitTimeout(10*time.Second) || t.Error() != nil {
			tb.Fatalf("floor: subscribe: %v", t.Error())
		}
	}
	ds := make([]time.Duration, 0, n)
	for range n {
		t0 := time.Now()
		kc.Publish(root+"/event", 1, false, []byte(`{}`))
		select {
		case <-got:
		case <-time.After(5 * time.Second):
			tb.Fatal("floor: no reply through the broker")
		}
		ds = append(ds, time.Since(t0))
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// FsyncFloor is the median time, over n, to append 4 KiB to a file in dir and fsync it: the
// floor of one durable commit on that disk.
func FsyncFloor(tb testing.TB, dir string, n int) time.Duration {
	tb.Helper()
	f, err := os.CreateTemp(dir, "fsync-floor")
	if err != nil {
		tb.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	block := make([]byte, 4096)
	ds := make([]time.Duration, 0, n)
	for range n {
		t0 := time.Now()
		if _, err := f.Write(block); err != nil {
			tb.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			tb.Fatal(err)
		}
		ds = append(ds, time.Since(t0))
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}
