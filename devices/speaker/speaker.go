// Package speaker plays 16-bit mono PCM, and a short tap click, through ALSA.
//
// Each sound is played by its own aplay (alsa-utils) process reading raw samples on its stdin,
// rather than through libasound linked in with cgo: a sound card that hangs or a driver that
// crashes takes an aplay down, never the kiosk; cutting a sound short is killing its process,
// which drops what ALSA buffered at once; and the cost, a process start and an ALSA open per
// sound, measures a few milliseconds (docs/benchmarks.md, BenchmarkTapToSound), far under what a
// citizen notices between a tap and its click.
//
// One sound plays at a time: a new one cuts the one playing short (a citizen tapping on should
// not queue minutes of speech), except the tap click, which is let finish (it lasts 30 ms) so
// that a prompt said right after a tap follows its click. Volume and mute apply to the samples
// before they are played, so the same volume sounds the same on every card, whatever its mixer
// says.
//
// For tests and simulators, ALSA's file plugin captures real output to a WAV file:
// Device "file:FILE=/path/out.wav,FORMAT=wav" (speakertest does this on a FIFO).
package speaker

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

// Player is the program that plays each sound.
const Player = "aplay"

// Rate limits Play accepts (aplay's own).
const (
	MinRate = 4000
	MaxRate = 192000
)

// ClickRate is the sample rate of the tap click.
const ClickRate = 22050

const (
	// bufferTime is ALSA's buffer, which aplay fills before the card starts: short, so that
	// the first samples are heard soon; aplay is a process of its own that only reads a pipe, so
	// it is never late by that much on a kiosk busy drawing.
	bufferTime = 100 * time.Millisecond
	// lead is how far ahead of the sound's clock samples are written to aplay: more than the
	// buffer, so the card never runs dry, little enough that a sound cut short (its process
	// killed) ends within it, on any card and with the file plugin alike.
	lead = 250 * time.Millisecond
	// chunk is how much is written at a time once the lead is reached.
	chunk = 20 * time.Millisecond
	// checkTimeout bounds Check's aplay on an empty sound.
	checkTimeout = 5 * time.Second
)

// Options configure Open.
type Options struct {
	// Device is the ALSA PCM to play on (aplay -D): "default", "plughw:1,0", or for tests
	// "file:FILE=/path/out.wav,FORMAT=wav". Empty means "default".
	Device string
	// Player is aplay's path; empty means Player looked up on PATH.
	Player string
	// Volume is 0..100 (values outside are clamped); see SetVolume.
	Volume int
	// Muted starts the speaker muted.
	Muted bool
	// Outcome, when set, is told how every sound that was played ended: nil when it played to its
	// end, or why it failed (a sound cut short, or not played at all, is not told), from the
	// sound's own goroutine: a card unplugged after Check passed, or plugged back, shows here.
	Outcome func(error)
}

// Speaker plays sounds one at a time. It is safe for concurrent use.
type Speaker struct {
	device  string
	player  string
	outcome func(error)

	mu     sync.Mutex
	volume int
	muted  bool
	cur    *Sound // the sound last started; nil before the first
	closed bool
}

// Open returns a speaker on o.Device. It opens no device (Check does): it fails only when aplay
// is not installed (CodePlayerMissing).
func Open(o Options) (*Speaker, error) {
	dev := o.Device
	if dev == "" {
		dev = "default"
	}
	p := o.Player
	if p == "" {
		p = Player
	}
	path, err := exec.LookPath(p)
	if err != nil {
		return nil, &Error{Code: CodePlayerMissing, Device: dev, Detail: p + " not found; install alsa-utils"}
	}
	return &Speaker{device: dev, player: path, outcome: o.Outcome, volume: clampVolume(o.Volume), muted: o.Muted}, nil
}

// Device is the ALSA PCM the speaker plays on.
func (s *Speaker) Device() string { return s.device }

// Check opens the device and plays nothing (aplay on an empty sound: a period of silence on a
// card), to tell at start whether sound will work: CodeNoDevice when ALSA has no such PCM or no
// card, CodeBusy when another program holds it, CodePlayer for other failures, nil when it
// played. It takes a few milliseconds, and gives up after 5 s (CodePlayer).
func (s *Speaker) Check() error {
	ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.player, s.args(ClickRate)...)
	var stderr bytes.Buffer
	cmd.Stderr = &limited{w: &stderr, n: 4096}
	if err := cmd.Run(); err != nil {
		return classify(s.device, stderr.String(), err)
	}
	return nil
}

// args are aplay's arguments for raw mono 16-bit samples at rate on stdin.
func (s *Speaker) args(rate int) []string {
	return []string{"-q", "-t", "raw", "-f", "S16_LE", "-c", "1", "-r", strconv.Itoa(rate),
		"-B", strconv.Itoa(int(bufferTime / time.Microsecond)), "-D", s.device, "-"}
}

// Volume is the volume, 0..100.
func (s *Speaker) Volume() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.volume
}

// SetVolume sets the volume of the sounds played from now on, 0..100 (values outside are
// clamped); the sound playing keeps its own. The samples are scaled by (v/100)², which follows
// loudness more closely than a straight line: 50 is a quarter of the amplitude (-12 dB), 0 is
// silence, 100 the samples as given.
func (s *Speaker) SetVolume(v int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.volume = clampVolume(v)
}

// Muted reports whether the speaker is muted.
func (s *Speaker) Muted() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.muted
}

// SetMuted mutes or unmutes the speaker. Muting also cuts the sound playing short.
func (s *Speaker) SetMuted(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.muted = on
	if on && s.cur != nil {
		s.cur.Stop()
	}
}

func clampVolume(v int) int { return max(0, min(100, v)) }

// Play starts samples (16-bit mono at rate) playing and returns at once; Wait on the Sound for
// its end. The sound playing is cut short (its Wait gives CodeInterrupted), unless it is the tap
// click, which finishes first. When muted, at volume 0, after Close or with no samples, nothing
// is played: the Sound is done at once with a nil error. A rate outside MinRate..MaxRate is a
// Sound failed with CodeInvalid. The caller may reuse samples once Play returns.
func (s *Speaker) Play(samples []int16, rate int) *Sound {
	return s.play(samples, rate, false)
}

// Tap plays the tap click (30 ms, see Click), as Play does.
func (s *Speaker) Tap() *Sound { return s.play(click, ClickRate, true) }

func (s *Speaker) play(samples []int16, rate int, isClick bool) *Sound {
	snd := &Sound{done: make(chan struct{}), stop: make(chan struct{}), click: isClick}
	if rate < MinRate || rate > MaxRate {
		snd.finish(&Error{Code: CodeInvalid, Device: s.device, Detail: "sample rate " + strconv.Itoa(rate) + " Hz"})
		return snd
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.muted || s.volume == 0 || len(samples) == 0 {
		snd.finish(nil)
		return snd
	}
	pcm := scale(samples, s.volume)
	prev := s.cur
	s.cur = snd
	go s.run(snd, prev, pcm, rate)
	return snd
}

// scale is samples at volume v as little-endian bytes.
func scale(samples []int16, v int) []byte {
	g := float64(v) / 100
	g *= g
	b := make([]byte, 2*len(samples))
	for i, x := range samples {
		y := int16(max(-32768, min(32767, math.Round(float64(x)*g))))
		binary.LittleEndian.PutUint16(b[2*i:], uint16(y))
	}
	return b
}

// run plays pcm once prev has ended (cutting it short unless it is a click).
func (s *Speaker) run(snd, prev *Sound, pcm []byte, rate int) {
	if prev != nil {
		if !prev.click {
			prev.Stop()
		}
		select {
		case <-prev.done:
		case <-snd.stop:
		}
	}
	select {
	case <-snd.stop:
		snd.finish(&Error{Code: CodeInterrupted, Device: s.device, Detail: "before it started"})
		return
	default:
	}
	err := s.feed(snd, pcm, rate)
	if !errors.Is(err, ErrInterrupted) && s.outcome != nil {
		s.outcome(err)
	}
	snd.finish(err)
}

// feed runs aplay and writes pcm to it, lead ahead of the sound's clock, until the end, a
// failure of aplay, or snd's stop (which kills aplay).
func (s *Speaker) feed(snd *Sound, pcm []byte, rate int) error {
	cmd := exec.Command(s.player, s.args(rate)...)
	var stderr bytes.Buffer
	cmd.Stderr = &limited{w: &stderr, n: 4096}
	in, err := cmd.StdinPipe()
	if err != nil {
		return &Error{Code: CodePlayer, Device: s.device, Detail: err.Error()}
	}
	if err := cmd.Start(); err != nil {
		return &Error{Code: CodePlayer, Device: s.device, Detail: err.Error()}
	}
	exited := make(chan struct{})
	var stopped bool
	var stopMu sync.Mutex
	go func() {
		select {
		case <-snd.stop:
			stopMu.Lock()
			stopped = true
			stopMu.Unlock()
			cmd.Process.Kill()
		case <-exited:
		}
	}()
	bytesPer := func(d time.Duration) int { return 2 * int(int64(rate)*int64(d)/int64(time.Second)) }
	start := time.Now()
	var werr error
	for off := 0; off < len(pcm) && werr == nil; {
		// Write what is due: everything up to lead ahead of the time since the start.
		due := min(len(pcm), bytesPer(time.Since(start)+lead)) &^ 1
		if due <= off {
			wait := time.Duration(off-due)*time.Second/time.Duration(2*rate) + chunk
			select {
			case <-snd.stop:
				werr = io.ErrClosedPipe
			case <-time.After(wait):
			}
			continue
		}
		_, werr = in.Write(pcm[off:due])
		off = due
	}
	in.Close()
	err = cmd.Wait()
	close(exited)
	stopMu.Lock()
	defer stopMu.Unlock()
	if err == nil && werr == nil {
		return nil // played to its end, even if a stop came just after
	}
	if stopped {
		return &Error{Code: CodeInterrupted, Device: s.device}
	}
	if err != nil {
		return classify(s.device, stderr.String(), err)
	}
	if werr != nil {
		return &Error{Code: CodePlayer, Device: s.device, Detail: "writing to aplay: " + werr.Error()}
	}
	return nil
}

// Close cuts the sound playing short and waits for it to end; Play and Tap play nothing after.
// Closing twice is harmless.
func (s *Speaker) Close() error {
	s.mu.Lock()
	s.closed = true
	cur := s.cur
	s.mu.Unlock()
	if cur != nil {
		cur.Stop()
		<-cur.done
	}
	return nil
}

// Sound is one sound started by Play or Tap.
type Sound struct {
	done  chan struct{}
	stop  chan struct{}
	once  sync.Once
	click bool
	err   error
}

// Wait waits for the sound to end: nil when it played to its end (or nothing was to be played),
// CodeInterrupted when a newer sound, SetMuted, Stop or Close cut it short, or why it failed.
func (p *Sound) Wait() error {
	<-p.done
	return p.err
}

// Done is closed when the sound has ended; Wait then returns at once.
func (p *Sound) Done() <-chan struct{} { return p.done }

// Stop cuts the sound short; it does nothing once the sound has ended.
func (p *Sound) Stop() { p.once.Do(func() { close(p.stop) }) }

func (p *Sound) finish(err error) {
	p.err = err
	close(p.done)
}

// limited writes at most n bytes to w and drops the rest: aplay's complaints are a line or two.
type limited struct {
	w io.Writer
	n int
}

func (l *limited) Write(b []byte) (int, error) {
	if l.n > 0 {
		k := min(len(b), l.n)
		l.w.Write(b[:k])
		l.n -= k
	}
	return len(b), nil
}

// The tap click: 30 ms of a 1.6 kHz tone under a fast decay, a dry "tick" that carries in a
// hall and is over before a prompt that follows a tap.
var click = makeClick()

func makeClick() []int16 {
	n := ClickRate * 30 / 1000
	s := make([]int16, n)
	for i := range s {
		t := float64(i) / ClickRate
		env := math.Exp(-t / 0.006)
		attack := min(1, float64(i)/float64(ClickRate/2000)) // 0.5 ms rise, no pop
		s[i] = int16(math.Round(0.6 * 32767 * attack * env * math.Sin(2*math.Pi*1600*t)))
	}
	return s
}

// Click is the tap click's samples at ClickRate, at full volume.
func Click() []int16 { return append([]int16(nil), click...) }
