package slip

import (
	"context"
	"testing"
	"time"

	"citizenhome/devices/escpos"
	"citizenhome/devices/escpos/emulator"
	"citizenhome/devices/escpos/emulator/ptytest"
)

func TestZZStatusRTT(t *testing.T) {
	for _, baud := range []int{0, 115200} {
		emu, _ := emulator.New(emulator.Config{SkipPNG: true, Baud: baud})
		line := ptytest.Start(t, emu)
		p, _ := escpos.Open(line.Path, escpos.SerialConfig{Baud: 115200})
		p.Status(context.Background())
		start := time.Now()
		for range 50 {
			p.Status(context.Background())
		}
		t.Logf("baud %d: Status %v", baud, time.Since(start)/50)
		p.Close()
	}
}
