// Package fleet is the hall side of telemetry: a view of every kiosk of a hall built from what
// the broker delivers (View) and the client that feeds it and sends commands (Conn). The
// simulator of many kiosks for load tests is apart, in fleetsim.
//
// The view stays right across the two ways MQTT state goes wrong:
//   - stale wills: a kiosk that reconnects before the broker noticed its old connection die can
//     see its old will ("lost", with the old boot) published after its new birth. Every state,
//     status and alert carries the boot of its session; anything from a boot older than the
//     newest seen is stale and ignored, and a retained state older than the retained status is
//     overridden by the status's state.
//   - gaps: seq grows by one for every status, alert and event of a session. A gap between two
//     live messages means something was missed; the view asks for a rebirth (the kiosk then
//     publishes state, status and alerts again), at most once per RebirthEvery per kiosk.
//
// Events are dropped by id when seen before (a kiosk re-sends what the broker had not
// acknowledged when a connection ended).
package fleet

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"citizenhome/telemetry/wire"
)

// DefaultRebirthEvery is how often at most the view asks one kiosk for a rebirth.
const DefaultRebirthEvery = 30 * time.Second

// DefaultSeenIDs is how many event ids the view remembers to drop repeats.
const DefaultSeenIDs = 200_000

// Kiosk is what the view knows of one kiosk.
type Kiosk struct {
	ID wire.Kiosk
	// State is the lifecycle state to show: the state message's, or the status's when the
	// state message belongs to an older session (a stale will).
	State    string
	StateMsg wire.State   // the last state message of the current session or before
	Status   *wire.Status // the last status; nil before the first
	Alerts   map[string]wire.Alert
	Boot     int64     // the newest session seen
	LastSeq  int64     // the newest seq of that session
	LastSeen time.Time // any message from it
	// Gaps counts the sequence gaps seen; Rebirths the rebirths asked for.
	Gaps, Rebirths int
	// Lag is now minus the ts of the last status, when it arrived.
	Lag time.Duration

	live        bool // a live message of Boot has set LastSeq
	fromStatus  bool // the status arrived after the state message
	lastRebirth time.Time
}

func (k *Kiosk) clone() Kiosk {
	c := *k
	c.Alerts = make(map[string]wire.Alert, len(k.Alerts))
	for code, a := range k.Alerts {
		c.Alerts[code] = a
	}
	if k.Status != nil {
		s := *k.Status
		c.Status = &s
	}
	return c
}

// ActiveAlerts returns the alert codes, sorted.
func (k Kiosk) ActiveAlerts() []string {
	out := make([]string, 0, len(k.Alerts))
	for code := range k.Alerts {
		out = append(out, code)
	}
	slices.Sort(out)
	return out
}

// Update says what one message changed.
type Update struct {
	Addr      wire.Address
	Event     *wire.Event           // a new event (repeats are not returned)
	Alert     *wire.Alert           // an alert raised
	Cleared   string                // an alert code cleared
	Reply     *wire.Reply           // a command's reply
	Command   *wire.Command         // a command seen on a kiosk's cmd topic, whoever sent it
	State     *wire.State           // a state message applied
	Status    *wire.Status          // a status applied
	Ctrl      *wire.ControllerState // the controller's state
	Duplicate bool                  // an event seen before, dropped
	Stale     bool                  // from an older session, ignored
	Gap       bool                  // a sequence gap before this message
	Rebirth   bool                  // the caller should send this kiosk a rebirth command now
}

// View is the fleet. It is safe for concurrent use.
type View struct {
	// RebirthEvery and Now may be set before the first Apply.
	RebirthEvery time.Duration
	Now          func() time.Time

	mu     sync.Mutex
	kiosks map[wire.Kiosk]*Kiosk
	ctrl   map[string]wire.ControllerState
	seen   *idSet
}

// NewView returns an empty view.
func NewView() *View {
	return &View{RebirthEvery: DefaultRebirthEvery, Now: time.Now, kiosks: map[wire.Kiosk]*Kiosk{},
		ctrl: map[string]wire.ControllerState{}, seen: newIDSet(DefaultSeenIDs)}
}

// Apply takes one message as the broker delivered it. Messages outside the contract, and
// payloads that do not parse, return an error and change nothing. A command (the cmd topic)
// is returned in Update.Command and changes nothing in the view; one that wire.ParseCommand
// refuses is an error.
func (v *View) Apply(topic string, payload []byte, retained bool) (Update, error) {
	a, err := wire.ParseTopic(topic)
	if err != nil {
		return Update{}, err
	}
	u := Update{Addr: a}
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.Now()
	if a.Controller() {
		var s wire.ControllerState
		if len(payload) > 0 {
			if err := wire.Decode(payload, &s); err != nil {
				return u, err
			}
		}
		v.ctrl[a.Hall] = s
		u.Ctrl = &s
		return u, nil
	}
	if a.Kind == wire.KindCmd {
		// Kept for the history (halld's own commands and kioskctl's alike), but it says
		// nothing of the kiosk: the view is not changed, and a command to a kiosk the view
		// does not know adds none.
		c, err := wire.ParseCommand(payload)
		if err != nil {
			return u, err
		}
		u.Command = &c
		return u, nil
	}
	k := v.kiosks[a.Kiosk]
	isNew := k == nil
	if isNew {
		k = &Kiosk{ID: a.Kiosk, Alerts: map[string]wire.Alert{}}
	}
	switch a.Kind {
	case wire.KindState:
		if len(payload) == 0 {
			return u, nil // a cleared retained state: nothing known
		}
		var s wire.State
		if err := wire.Decode(payload, &s); err != nil {
			return u, err
		}
		if !wire.ValidState(s.State) {
			return u, &wire.CommandError{Code: wire.RefuseMalformed, Msg: "unknown state " + s.State}
		}
		if v.session(k, s.Boot, retained) {
			u.Stale = true
			break
		}
		k.StateMsg = s
		k.fromStatus = false
		u.State = &s
	case wire.KindStatus:
		if len(payload) == 0 {
			return u, nil
		}
		var s wire.Status
		if err := wire.Decode(payload, &s); err != nil {
			return u, err
		}
		if v.session(k, s.Boot, retained) {
			u.Stale = true
			break
		}
		u.Gap, u.Rebirth = v.seq(k, s.Seq, retained, now)
		k.Status = &s
		k.fromStatus = true
		k.Lag = now.Sub(s.TS)
		v.reconcile(k, &s, &u, now, retained)
		u.Status = &s
	case wire.KindAlert:
		if len(payload) == 0 {
			if _, ok := k.Alerts[a.Code]; ok {
				delete(k.Alerts, a.Code)
				u.Cleared = a.Code
			}
			break
		}
		var al wire.Alert
		if err := wire.Decode(payload, &al); err != nil {
			return u, err
		}
		al.Code = a.Code // the topic names it
		if al.Boot != 0 && al.Boot < k.Boot && !retained {
			u.Stale = true
			break
		}
		if al.Boot > k.Boot {
			v.newSession(k, al.Boot, retained)
		}
		if al.Boot == k.Boot {
			u.Gap, u.Rebirth = v.seq(k, al.Seq, retained, now)
		}
		k.Alerts[a.Code] = al
		u.Alert = &al
	case wire.KindEvent:
		var e wire.Event
		if err := wire.Decode(payload, &e); err != nil {
			return u, err
		}
		if e.ID == "" {
			return u, &wire.CommandError{Code: wire.RefuseMalformed, Msg: "event without id"}
		}
		if e.Boot != 0 && e.Boot < k.Boot {
			// A late copy from an older session: only its id matters.
			u.Stale = true
		} else {
			if e.Boot > k.Boot {
				v.newSession(k, e.Boot, retained)
			}
			u.Gap, u.Rebirth = v.seq(k, e.Seq, retained, now)
		}
		if v.seen.add(e.ID) {
			u.Event = &e
		} else {
			u.Duplicate = true
		}
	case wire.KindReply:
		var r wire.Reply
		if err := wire.Decode(payload, &r); err != nil {
			return u, err
		}
		u.Reply = &r
	}
	k.LastSeen = now
	k.State = derive(k)
	if isNew {
		v.kiosks[a.Kiosk] = k
	}
	return u, nil
}

// session handles a message's boot: older than the newest seen is stale (true); newer starts a
// new session.
func (v *View) session(k *Kiosk, boot int64, retained bool) (stale bool) {
	switch {
	case boot < k.Boot:
		return true
	case boot > k.Boot:
		v.newSession(k, boot, retained)
	}
	return false
}

func (v *View) newSession(k *Kiosk, boot int64, retained bool) {
	known := k.Boot != 0
	k.Boot, k.LastSeq = boot, 0
	// A new session of a kiosk the view already followed, seen live, is seen from its birth:
	// seq counts from 1. Otherwise (retained messages, a kiosk new to the view) the first
	// live message sets the baseline.
	k.live = !retained && known
}

// seq checks a message's seq against the session's, and reports a gap and whether to ask for
// a rebirth now.
func (v *View) seq(k *Kiosk, seq int64, retained bool, now time.Time) (gap, rebirth bool) {
	if seq <= 0 {
		return false, false
	}
	if retained || !k.live {
		// A retained message, or the first live one after them: messages between were
		// published before this subscription, not lost.
		k.LastSeq = max(k.LastSeq, seq)
		if !retained {
			k.live = true
		}
		return false, false
	}
	switch {
	case seq == k.LastSeq+1:
		k.LastSeq = seq
	case seq > k.LastSeq+1:
		k.LastSeq = seq
		k.Gaps++
		gap = true
		rebirth = v.askRebirth(k, now)
	}
	// seq <= LastSeq: a repeat delivered again (QoS 1); nothing missed.
	return gap, rebirth
}

func (v *View) askRebirth(k *Kiosk, now time.Time) bool {
	every := v.RebirthEvery
	if every <= 0 {
		every = DefaultRebirthEvery
	}
	if !k.lastRebirth.IsZero() && now.Sub(k.lastRebirth) < every {
		return false
	}
	k.lastRebirth = now
	k.Rebirths++
	return true
}

// reconcile makes the alerts agree with a status, the full snapshot: an alert published
// before the status and missing from its list has ended (its clearing was missed); a code in
// the list the view lacks means an alert was missed, and a rebirth brings it.
func (v *View) reconcile(k *Kiosk, s *wire.Status, u *Update, now time.Time, retained bool) {
	listed := map[string]bool{}
	for _, c := range s.Alerts {
		listed[c] = true
	}
	for code, a := range k.Alerts {
		if !listed[code] && (a.Boot < s.Boot || a.Boot == s.Boot && a.Seq < s.Seq) {
			delete(k.Alerts, code)
		}
	}
	if retained || !k.live {
		return // retained alerts may still be on their way
	}
	for code := range listed {
		if _, ok := k.Alerts[code]; !ok && !u.Rebirth {
			u.Rebirth = v.askRebirth(k, now)
		}
	}
}

// derive picks the state to show. A status of a newer session than the state message wins (the
// state message is a stale will); "lost" and "disconnected" end their session and win over its
// statuses; otherwise the later of the two to arrive says it.
func derive(k *Kiosk) string {
	switch {
	case k.Status == nil:
		return k.StateMsg.State
	case k.Status.Boot > k.StateMsg.Boot || k.StateMsg.State == "":
		return k.Status.State
	case k.StateMsg.State == wire.StateLost || k.StateMsg.State == wire.StateDisconnected:
		return k.StateMsg.State
	case k.fromStatus:
		return k.Status.State
	}
	return k.StateMsg.State
}

// Kiosks returns copies of every kiosk, sorted by hall and id.
func (v *View) Kiosks() []Kiosk {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]Kiosk, 0, len(v.kiosks))
	for _, k := range v.kiosks {
		out = append(out, k.clone())
	}
	slices.SortFunc(out, func(a, b Kiosk) int {
		return cmp.Or(cmp.Compare(a.ID.Hall, b.ID.Hall), cmp.Compare(a.ID.Kiosk, b.ID.Kiosk))
	})
	return out
}

// Kiosk returns a copy of one kiosk.
func (v *View) Kiosk(id wire.Kiosk) (Kiosk, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	k, ok := v.kiosks[id]
	if !ok {
		return Kiosk{}, false
	}
	return k.clone(), true
}

// Controller returns the hall controller's last state.
func (v *View) Controller(hall string) (wire.ControllerState, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s, ok := v.ctrl[hall]
	return s, ok
}

// idSet remembers the last n ids.
type idSet struct {
	n    int
	set  map[string]struct{}
	ring []string
	next int
}

func newIDSet(n int) *idSet { return &idSet{n: n, set: make(map[string]struct{}, n)} }

// add reports whether id is new.
func (s *idSet) add(id string) bool {
	if _, ok := s.set[id]; ok {
		return false
	}
	if len(s.ring) < s.n {
		s.ring = append(s.ring, id)
	} else {
		delete(s.set, s.ring[s.next])
		s.ring[s.next] = id
		s.next = (s.next + 1) % s.n
	}
	s.set[id] = struct{}{}
	return true
}
