package systemd

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSdNotifyAndWatchdog(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv("WATCHDOG_USEC", "40000") // 40 ms: pings every 20 ms
	if err := Notify("READY=1"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	healthy := make(chan bool, 1)
	healthy <- true
	go Watchdog(ctx, func() bool {
		select {
		case v := <-healthy:
			healthy <- v
			return v
		default:
			return false
		}
	})
	got := map[string]int{}
	buf := make([]byte, 64)
	l.SetReadDeadline(time.Now().Add(5 * time.Second))
	for got["WATCHDOG=1"] < 3 {
		n, err := l.Read(buf)
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		got[strings.TrimSpace(string(buf[:n]))]++
	}
	if got["READY=1"] != 1 {
		t.Errorf("messages %v", got)
	}
	// An unhealthy core: no more pings.
	<-healthy
	healthy <- false
	l.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	for {
		if _, err := l.Read(buf); err != nil {
			break // drained
		}
	}
	l.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
	if n, err := l.Read(buf); err == nil {
		t.Errorf("pinged while unhealthy: %q", buf[:n])
	}
	// Without systemd nothing is sent and nothing fails.
	t.Setenv("NOTIFY_SOCKET", "")
	if err := Notify("READY=1"); err != nil {
		t.Error(err)
	}
}
