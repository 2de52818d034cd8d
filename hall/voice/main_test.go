package voice

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"citizenhome/speech/speechtest"
)

// The clips espeak-ng synthesises, once per test binary: a few seconds of espeak-ng runs.
var (
	synthOnce sync.Once
	synthDir  string
	synthErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if synthDir != "" {
		os.RemoveAll(synthDir)
	}
	os.Exit(code)
}

// clipsDir returns a folder with every clip synthesised by Synthesize; tests must not change it.
// It skips the test when espeak-ng is not installed (scripts/deps.sh test installs it).
func clipsDir(t testing.TB) string {
	t.Helper()
	speechtest.NeedEngine(t)
	synthOnce.Do(func() {
		if synthDir, synthErr = os.MkdirTemp("", "voice-clips-"); synthErr != nil {
			return
		}
		synthErr = Synthesize(synthDir)
	})
	if synthErr != nil {
		t.Fatal(fmt.Errorf("synthesising the clips: %w", synthErr))
	}
	return synthDir
}
