// Package journaltest runs a real systemd-journald for tests, so that what the programs log under
// systemd can be checked the way a maintenance crew reads it: with journalctl, by priority.
//
// Start runs journald in a journal namespace of its own ("systemd-journald NAMESPACE", as
// systemd-journald@.service does), with volatile storage, so it touches nothing of the machine's
// own journal: its sockets are in /run/systemd/journal.NAMESPACE, its files in
// /run/log/journal/MACHINE-ID.NAMESPACE, its configuration /etc/systemd/journald@NAMESPACE.conf;
// all three are removed when the test ends. PID 1 need not be systemd: journald binds its
// sockets itself when none are handed to it. It needs root and Debian's systemd package (the
// journald binary and journalctl; scripts/deps.sh test installs it): without them the test is
// skipped, or fails under CI=true, where a skip would hide a missing install.
//
// Stream gives a child process what systemd gives a service with StandardError=journal: a
// connection to journald's stdout stream socket, announced with the stream protocol's header
// (level prefix on, default priority info), and JOURNAL_STREAM naming it.
package journaltest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Journald is where Debian's systemd package installs the daemon.
const Journald = "/lib/systemd/systemd-journald"

// Journal is a running journald of one test.
type Journal struct {
	// Namespace is the journal namespace it serves (journalctl --namespace=... reads it too).
	Namespace string
	sockets   string // /run/systemd/journal.NAMESPACE
	log       *lockedBuffer
}

// Entry is one journal entry: its fields as journalctl -o json gives them (MESSAGE, PRIORITY,
// SYSLOG_IDENTIFIER, ...).
type Entry map[string]any

// Field returns the field as text ("" when absent or not text).
func (e Entry) Field(name string) string {
	s, _ := e[name].(string)
	return s
}

// Missing skips the test with why, or fails it under CI=true.
func Missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: a journal test that cannot run is a failure; scripts/deps.sh test installs systemd, and the tests run as root)", why)
	}
	t.Skipf("%s; skipped (as root, after scripts/deps.sh test, it runs)", why)
}

// Start runs a private journald until the test ends.
func Start(t testing.TB) *Journal {
	t.Helper()
	if _, err := os.Stat(Journald); err != nil {
		Missing(t, "systemd-journald not installed ("+Journald+")")
	}
	if _, err := exec.LookPath("journalctl"); err != nil {
		Missing(t, "journalctl not installed")
	}
	if os.Geteuid() != 0 {
		Missing(t, "systemd-journald needs root")
	}
	raw := make([]byte, 3)
	_, _ = rand.Read(raw)
	j := &Journal{Namespace: fmt.Sprintf("chtest-%d-%s", os.Getpid(), hex.EncodeToString(raw)), log: &lockedBuffer{}}
	j.sockets = "/run/systemd/journal." + j.Namespace
	conf := "/etc/systemd/journald@" + j.Namespace + ".conf"
	// Namespaces default to persistent storage, which would create /var/log/journal and change
	// where the machine's own journald keeps its journal from then on.
	if err := os.MkdirAll(filepath.Dir(conf), 0o755); err != nil {
		Missing(t, fmt.Sprintf("cannot configure a journal namespace: %v", err))
	}
	if err := os.WriteFile(conf, []byte("[Journal]\nStorage=volatile\nRateLimitBurst=0\n"), 0o644); err != nil {
		Missing(t, fmt.Sprintf("cannot configure a journal namespace: %v", err))
	}
	var created []string // directories that did not exist before, removed when empty
	for _, d := range []string{"/run/systemd", "/run/log", "/run/log/journal"} {
		if _, err := os.Stat(d); errors.Is(err, os.ErrNotExist) {
			created = append(created, d)
		}
	}
	cmd := exec.Command(Journald, j.Namespace)
	cmd.Stdout, cmd.Stderr = j.log, j.log
	if err := cmd.Start(); err != nil {
		os.Remove(conf)
		Missing(t, fmt.Sprintf("systemd-journald does not start: %v", err))
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		os.Remove(conf)
		os.RemoveAll(j.sockets)
		for _, d := range j.dirs() {
			os.RemoveAll(d)
		}
		for i := len(created) - 1; i >= 0; i-- {
			os.Remove(created[i]) // only when empty
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if fi, err := os.Stat(j.sockets + "/stdout"); err == nil && fi.Mode()&os.ModeSocket != 0 {
			break
		}
		select {
		case <-exited:
			t.Fatalf("systemd-journald %s exited at start:\n%s", j.Namespace, j.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("systemd-journald %s: no stdout socket after 10 s:\n%s", j.Namespace, j.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return j
}

// dirs are the namespace's journal directories (one per machine id; normally exactly one).
func (j *Journal) dirs() []string {
	m, _ := filepath.Glob("/run/log/journal/*." + j.Namespace)
	return m
}

// Stream connects to journald's stdout stream as a service's stderr is connected, its lines
// filed under identifier, and returns the connection as a file to give a child (exec.Cmd's
// Stderr) and the JOURNAL_STREAM=DEV:INODE entry for its environment. The caller closes the
// file once the child has started: journald takes the end of the stream when the child's copy
// closes too.
func (j *Journal) Stream(t testing.TB, identifier string) (*os.File, string) {
	t.Helper()
	c, err := net.Dial("unix", j.sockets+"/stdout")
	if err != nil {
		t.Fatalf("journald stdout socket: %v", err)
	}
	defer c.Close()
	// The stream protocol's header: identifier, unit id, default priority (6, info), level
	// prefix (1: "<N>" at the start of a line sets its priority), forward to syslog, kmsg,
	// console (0, 0, 0). systemd writes the same for StandardError=journal with
	// SyslogLevelPrefix=yes, the default.
	if _, err := fmt.Fprintf(c, "%s\n\n6\n1\n0\n0\n0\n", identifier); err != nil {
		t.Fatalf("journald stream header: %v", err)
	}
	f, err := c.(*net.UnixConn).File()
	if err != nil {
		t.Fatal(err)
	}
	// A service's stream is a blocking socket; the child's writes must wait, not fail, when
	// journald is slow to read.
	if err := syscall.SetNonblock(int(f.Fd()), false); err != nil {
		t.Fatal(err)
	}
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return f, fmt.Sprintf("JOURNAL_STREAM=%d:%d", st.Dev, st.Ino)
}

// Entries runs journalctl over the namespace's journal with args added (-p warning,
// SYSLOG_IDENTIFIER=x, ...) and returns the entries it prints.
func (j *Journal) Entries(t testing.TB, args ...string) []Entry {
	t.Helper()
	dirs := j.dirs()
	if len(dirs) == 0 {
		return nil // nothing written yet
	}
	cmdArgs := []string{"--no-pager", "-o", "json"}
	for _, d := range dirs {
		cmdArgs = append(cmdArgs, "--directory="+d)
	}
	cmd := exec.Command("journalctl", append(cmdArgs, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("journalctl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var es []Entry
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var e Entry
		if err := dec.Decode(&e); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("journalctl -o json: %v\n%s", err, out)
		}
		es = append(es, e)
	}
	return es
}

// WaitFor polls Entries(args...) until done accepts them, and returns them; it fails the test
// after timeout, showing what the journal held.
func (j *Journal) WaitFor(t testing.TB, timeout time.Duration, done func([]Entry) bool, args ...string) []Entry {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		es := j.Entries(t, args...)
		if done(es) {
			return es
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for _, e := range j.Entries(t) {
				fmt.Fprintf(&b, "  <%s> %s: %s\n", e.Field("PRIORITY"), e.Field("SYSLOG_IDENTIFIER"), e.Field("MESSAGE"))
			}
			t.Fatalf("journal %s: not there after %s (journalctl %s); the journal holds:\n%sjournald said:\n%s",
				j.Namespace, timeout, strings.Join(args, " "), b.String(), j.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
