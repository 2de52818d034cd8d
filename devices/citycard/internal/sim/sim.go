// Package sim is what the chip simulators of citycard (cardsim, psamsim) share: the command
// log, fault injection and T=0 GET RESPONSE. Each simulator keeps its own commands, state and
// answers, and its own exported Fault type, which converts to Fault field for field.
package sim

// Fault is a misbehaviour injected into the answers to matching commands. The simulators'
// Fault types document the fields for their commands; they must keep this field list, so
// that they convert to it.
type Fault[C ~string] struct {
	On      C // "" matches any command
	SW      uint16
	Leave   bool
	After   bool
	Corrupt bool
	Times   int
	Skip    int
}

// Chip is the state every simulated chip has besides its own. It does no locking: the
// simulator's mutex guards it together with the simulator's own state.
type Chip[C ~string] struct {
	Classify    func(apdu []byte) C // names an APDU's command
	GetResponse C                   // what Classify names GET RESPONSE
	Removed     error               // what Transmit returns once the chip has left
	// T0: answers with data come as 61 xx, then GET RESPONSE, at most Chunk bytes at a
	// time (0: all).
	T0    bool
	Chunk int

	gone    bool
	pending []byte // data waiting for GET RESPONSE
	faults  []Fault[C]
	log     [][]byte
}

// Inject adds a fault; faults are tried in the order injected, one per command.
func (s *Chip[C]) Inject(f Fault[C]) { s.faults = append(s.faults, f) }

// Leave makes the chip leave now: every later command fails with Removed.
func (s *Chip[C]) Leave() { s.gone = true }

// Reset brings the chip back with no response pending; faults and the log are kept.
func (s *Chip[C]) Reset() { s.gone, s.pending = false, nil }

// Log returns the commands received, in order (copies of the APDUs as sent).
func (s *Chip[C]) Log() [][]byte {
	out := make([][]byte, len(s.log))
	for i, a := range s.log {
		out[i] = append([]byte(nil), a...)
	}
	return out
}

// Count is how many commands of this kind the chip received.
func (s *Chip[C]) Count(cmd C) int {
	n := 0
	for _, a := range s.log {
		if s.Classify(a) == cmd {
			n++
		}
	}
	return n
}

// Transmit answers one command APDU with answer, which carries the command out on the
// simulator's state, applying the faults and T=0 around it. A fault without After or Corrupt
// keeps the command from reaching answer. Any command but GET RESPONSE drops the pending data
// before answer runs.
func (s *Chip[C]) Transmit(apdu []byte, answer func(cmd C, apdu []byte) ([]byte, uint16)) ([]byte, error) {
	if s.gone {
		return nil, s.Removed
	}
	s.log = append(s.log, append([]byte(nil), apdu...))
	cmd := s.Classify(apdu)
	f, hit := s.takeFault(cmd)
	if hit && !f.After && !f.Corrupt {
		if f.Leave {
			s.gone = true
			return []byte{}, nil
		}
		return sw(f.SW), nil
	}
	if cmd != s.GetResponse {
		s.pending = nil
	}
	data, status := answer(cmd, apdu)
	if hit && f.Corrupt && len(data) > 0 {
		data[len(data)-1] ^= 0x01
	}
	if hit && f.Leave && f.After {
		s.gone, s.pending = true, nil
		return []byte{}, nil
	}
	if status == 0x9000 && len(data) > 0 && s.T0 && cmd != s.GetResponse {
		s.pending = data
		return sw(0x6100 | uint16(s.chunk(len(data)))), nil
	}
	return append(data, sw(status)...), nil
}

// GetResponseAnswer answers GET RESPONSE (CLA C0 00 00 Le) from the pending data: 69 85 with
// nothing pending, 67 00 without exactly an Le, 6C xx for an Le beyond what is pending, and
// 61 xx while data remain.
func (s *Chip[C]) GetResponseAnswer(apdu []byte) ([]byte, uint16) {
	if s.pending == nil {
		return nil, 0x6985
	}
	if len(apdu) != 5 {
		return nil, 0x6700
	}
	want := int(apdu[4])
	if want == 0 {
		want = 256
	}
	if want > len(s.pending) {
		return nil, 0x6C00 | uint16(s.chunk(len(s.pending)))
	}
	out := append([]byte(nil), s.pending[:want]...)
	s.pending = s.pending[want:]
	if len(s.pending) > 0 {
		return out, 0x6100 | uint16(s.chunk(len(s.pending)))
	}
	s.pending = nil
	return out, 0x9000
}

// chunk is the length a 61 xx or 6C xx announces for n pending bytes.
func (s *Chip[C]) chunk(n int) int {
	if s.Chunk > 0 && n > s.Chunk {
		n = s.Chunk
	}
	if n > 255 {
		n = 0 // 61 00: 256 or more
	}
	return n
}

// takeFault finds the first fault for cmd and uses it up once.
func (s *Chip[C]) takeFault(cmd C) (Fault[C], bool) {
	for i, f := range s.faults {
		if f.On != "" && f.On != cmd {
			continue
		}
		if f.Skip > 0 {
			s.faults[i].Skip--
			continue
		}
		switch {
		case f.Times < 0:
		case f.Times <= 1:
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		default:
			s.faults[i].Times--
		}
		return f, true
	}
	return Fault[C]{}, false
}

func sw(v uint16) []byte { return []byte{byte(v >> 8), byte(v)} }
