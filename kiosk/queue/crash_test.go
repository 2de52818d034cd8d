package queue

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"citizenhome/kiosk/store"
)

// The crash test re-executes this test binary as a "kiosk" that issues and prints tickets until
// it is killed. These variables tell the copy what to do.
const (
	envChild = "QUEUE_CRASH_CHILD" // set: run crashChild instead of the tests
	envDB    = "QUEUE_CRASH_DB"
	envLog   = "QUEUE_CRASH_LOG"
)

func TestMain(m *testing.M) {
	if os.Getenv(envChild) != "" {
		if err := crashChild(os.Getenv(envDB), os.Getenv(envLog)); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var crashCats = []Category{{Letter: "A", AvgService: time.Minute, Counters: 2}, {Letter: "B"}}

// crashChild does what the kiosk does at start and per ticket: Recover, then for each ticket
// Issue, print (here: append a line to the print log and fsync it), MarkPrinted. It writes
// "ready" once recovered and runs until killed; the deadline only stops an orphan.
func crashChild(dbPath, logPath string) error {
	st, err := store.Open(dbPath)
	if err != nil {
		return err // a corrupt database after a kill is exactly what the test hunts for
	}
	q, err := New(st, crashCats, nil, nil)
	if err != nil {
		return err
	}
	ctx := context.Background()
	if _, err := q.Recover(ctx); err != nil {
		return err
	}
	printer, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	fmt.Println("ready")
	deadline := time.Now().Add(time.Minute)
	for i := 0; time.Now().Before(deadline); i++ {
		r := Request{Category: crashCats[i%2].Letter}
		if i%5 == 3 {
			r.Priority, r.PriorityReason = true, ReasonElder
		}
		tk, err := q.Issue(ctx, r)
		if err != nil {
			return err
		}
		// One write call per line: SIGKILL cannot split it.
		if _, err := fmt.Fprintf(printer, "%d %s %s\n", tk.ID, tk.Day, tk.Code); err != nil {
			return err
		}
		if err := printer.Sync(); err != nil {
			return err
		}
		if err := q.MarkPrinted(ctx, tk.ID); err != nil {
			return err
		}
	}
	return errors.New("not killed within a minute")
}

// readyWriter is the child's stdout: it closes ready when the child has said "ready".
type readyWriter struct {
	mu    sync.Mutex
	buf   []byte
	ready chan struct{}
}

func (w *readyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	had := strings.Contains(string(w.buf), "ready\n")
	w.buf = append(w.buf, p...)
	if !had && strings.Contains(string(w.buf), "ready\n") {
		close(w.ready)
	}
	return len(p), nil
}

// TestCrashSafety kills a ticket-issuing process with SIGKILL at random instants, restarting it
// each time (it calls Recover first), then checks the invariants of the hall: no number given
// twice, no gap in a day's series, every committed ticket either printed or flagged for reprint,
// and nothing printed that was not committed.
func TestCrashSafety(t *testing.T) {
	kills := 200
	if testing.Short() {
		kills = 40
	}
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0x6b696f736b))
	t.Logf("seed %d, %d kills", seed, kills)

	dir := t.TempDir()
	dbPath, logPath := filepath.Join(dir, "kiosk.db"), filepath.Join(dir, "print.log")
	readyRuns := 0
	start := time.Now()
	for i := range kills {
		// One run in five is killed without waiting for "ready", to land in Open, the
		// integrity check, a migration or Recover.
		early := i%5 == 0
		if runChild(t, dbPath, logPath, early, rng) {
			readyRuns++
		}
		if t.Failed() {
			return
		}
	}
	t.Logf("%d kills in %v (%d after ready)", kills, time.Since(start).Round(time.Millisecond), readyRuns)

	st, err := store.Open(dbPath)
	if err != nil {
		t.Fatalf("database after %d kills: %v", kills, err)
	}
	defer st.Close()
	q, err := New(st, crashCats, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := q.Recover(ctx); err != nil {
		t.Fatal(err)
	}

	type key struct {
		day, cat string
		num      int
	}
	rows, err := st.DB().Query(`SELECT id, day, category, number, print_state FROM queue_ticket`)
	if err != nil {
		t.Fatal(err)
	}
	tickets := map[int64]string{} // id -> "day code"
	state := map[int64]string{}
	seen := map[key]bool{}
	series := map[[2]string][]int{}
	for rows.Next() {
		var (
			id  int64
			k   key
			pst string
		)
		if err := rows.Scan(&id, &k.day, &k.cat, &k.num, &pst); err != nil {
			t.Fatal(err)
		}
		if seen[k] {
			t.Errorf("number given twice: %+v", k)
		}
		seen[k] = true
		tickets[id] = k.day + " " + code(k.cat, k.num)
		state[id] = pst
		series[[2]string{k.day, k.cat}] = append(series[[2]string{k.day, k.cat}], k.num)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	for dc, nums := range series {
		slices.Sort(nums)
		for i, n := range nums {
			if n != i+1 {
				t.Fatalf("%s %s: gap or repeat at position %d: %v", dc[0], dc[1], i, nums)
			}
		}
		var last int
		if err := st.DB().QueryRow(`SELECT last FROM queue_counter WHERE day = ? AND category = ?`, dc[0], dc[1]).Scan(&last); err != nil || last != len(nums) {
			t.Errorf("%s %s: counter %d, %d tickets (%v)", dc[0], dc[1], last, len(nums), err)
		}
	}

	printed := map[int64]bool{}
	f, err := os.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		parts := strings.SplitN(sc.Text(), " ", 2)
		id, err := strconv.ParseInt(parts[0], 10, 64)
		if len(parts) != 2 || err != nil {
			t.Fatalf("print log line %d malformed: %q", line, sc.Text())
		}
		want, ok := tickets[id]
		if !ok || want != parts[1] {
			t.Errorf("print log line %d: printed %q, committed %q (%v)", line, sc.Text(), want, ok)
		}
		if printed[id] {
			t.Errorf("ticket %d printed twice", id)
		}
		printed[id] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	reprints := 0
	for id, s := range state {
		switch s {
		case string(Printed):
			if !printed[id] {
				t.Errorf("ticket %d (%s) marked printed but not in the print log", id, tickets[id])
			}
		case string(Reprint):
			reprints++
		default:
			t.Errorf("ticket %d (%s) still %s after Recover", id, tickets[id], s)
		}
	}
	t.Logf("%d tickets committed, %d printed, %d flagged for reprint", len(tickets), len(printed), reprints)
	if len(tickets) < kills/4 {
		t.Errorf("only %d tickets in %d runs: the child hardly ran, the test proves little", len(tickets), kills)
	}
}

// runChild starts the child, kills it with SIGKILL at a random instant and reports whether it
// had said "ready". A child that exits by itself fails the test with its stderr.
func runChild(t *testing.T, dbPath, logPath string, early bool, rng *rand.Rand) bool {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"=1", envDB+"="+dbPath, envLog+"="+logPath)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout := &readyWriter{ready: make(chan struct{})}
	cmd.Stdout = stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	wasReady := false
	if early {
		time.Sleep(time.Duration(rng.IntN(40_000)) * time.Microsecond)
	} else {
		select {
		case <-stdout.ready:
			wasReady = true
			time.Sleep(time.Duration(rng.IntN(20_000)) * time.Microsecond)
		case <-exited: // died before ready: reported below
		case <-time.After(20 * time.Second):
		}
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-exited
	err := waitErr
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("child: %v", err)
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended on its own (%v), stderr:\n%s", err, stderr.String())
	}
	return wasReady
}
