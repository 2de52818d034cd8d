package speech

import (
	"bytes"
	"encoding/binary"
	"time"
)

// Audio is decoded PCM sound.
type Audio struct {
	Rate     int     // frames per second
	Channels int     // 1 or 2
	Bits     int     // bits per sample as the file stored them: 8 or 16
	Samples  []int16 // interleaved by channel; 8-bit samples are widened to the 16-bit scale
}

// Frames is the number of sample frames (one sample per channel each).
func (a *Audio) Frames() int {
	if a.Channels <= 0 {
		return 0
	}
	return len(a.Samples) / a.Channels
}

// Duration is the sound's length; zero for an Audio without frames or rate.
func (a *Audio) Duration() time.Duration {
	if a.Rate <= 0 {
		return 0
	}
	return time.Duration(a.Frames()) * time.Second / time.Duration(a.Rate)
}

// Rate limits Decode accepts: below 1 kHz no speech is intelligible, above 384 kHz no sound card
// plays; either means a broken header rather than a recording.
const (
	MinRate = 1000
	MaxRate = 384000
)

const (
	formatPCM        = 1
	formatExtensible = 0xFFFE
)

// The GUID of KSDATAFORMAT_SUBTYPE_PCM as it is stored in a WAVE_FORMAT_EXTENSIBLE header (some
// editors write 16-bit mono that way).
var subtypePCM = []byte{0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71}

// Decode parses a RIFF/WAVE file of integer PCM: 8-bit (unsigned) or 16-bit (signed,
// little-endian) samples, mono or stereo, at any rate between MinRate and MaxRate. Chunks other
// than "fmt " and "data" are skipped. A RIFF size larger than the file is tolerated (writers that
// stream leave it so) as long as the data chunk itself is whole; a data chunk that ends inside a
// frame or past the file is CodeTruncated. Float, 24/32-bit, compressed and multichannel files are
// CodeUnsupported; headers that contradict themselves are CodeCorrupt; anything that is not
// RIFF/WAVE is CodeNotWAV. A file with an empty data chunk decodes to an Audio without samples.
func Decode(b []byte) (*Audio, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		if len(b) < 12 && (bytes.HasPrefix([]byte("RIFF"), b) || bytes.HasPrefix(b, []byte("RIFF"))) {
			return nil, errf(CodeTruncated, "%d bytes, shorter than a RIFF/WAVE header", len(b))
		}
		return nil, errf(CodeNotWAV, "no RIFF/WAVE header")
	}
	end := len(b)
	if n := uint64(binary.LittleEndian.Uint32(b[4:8])) + 8; n < uint64(end) {
		if n < 12 {
			return nil, errf(CodeCorrupt, "RIFF size %d is smaller than its header", n-8)
		}
		end = int(n) // trailing bytes after the RIFF chunk belong to no one
	}
	var a *Audio
	var block int
	for off := 12; ; {
		if off+8 > end {
			if a == nil {
				return nil, errf(CodeTruncated, "no fmt chunk")
			}
			return nil, errf(CodeTruncated, "no data chunk")
		}
		id := string(b[off : off+4])
		size := uint64(binary.LittleEndian.Uint32(b[off+4 : off+8]))
		body := off + 8
		switch id {
		case "fmt ":
			if a != nil {
				return nil, errf(CodeCorrupt, "second fmt chunk at byte %d", off)
			}
			if size < 16 {
				return nil, errf(CodeCorrupt, "fmt chunk of %d bytes, fewer than 16", size)
			}
			if uint64(body)+size > uint64(end) {
				return nil, errf(CodeTruncated, "fmt chunk claims %d bytes, %d remain", size, end-body)
			}
			var err error
			if a, block, err = parseFormat(b[body : body+int(size)]); err != nil {
				return nil, err
			}
		case "data":
			if a == nil {
				return nil, errf(CodeCorrupt, "data chunk before the fmt chunk")
			}
			if uint64(body)+size > uint64(end) {
				return nil, errf(CodeTruncated, "data chunk claims %d bytes, %d remain", size, end-body)
			}
			if size%uint64(block) != 0 {
				return nil, errf(CodeTruncated, "data chunk of %d bytes ends inside a %d-byte frame", size, block)
			}
			a.Samples = samples(b[body:body+int(size)], a.Bits)
			return a, nil
		}
		next := uint64(body) + size + size&1 // chunks are padded to an even size
		if next > uint64(end) {
			return nil, errf(CodeTruncated, "%q chunk claims %d bytes, %d remain", id, size, end-body)
		}
		off = int(next)
	}
}

func parseFormat(f []byte) (*Audio, int, error) {
	tag := binary.LittleEndian.Uint16(f[0:2])
	ch := int(binary.LittleEndian.Uint16(f[2:4]))
	rate := binary.LittleEndian.Uint32(f[4:8])
	align := int(binary.LittleEndian.Uint16(f[12:14]))
	bits := int(binary.LittleEndian.Uint16(f[14:16]))
	switch tag {
	case formatPCM:
	case formatExtensible:
		if len(f) < 40 {
			return nil, 0, errf(CodeCorrupt, "extensible fmt chunk of %d bytes, fewer than 40", len(f))
		}
		if !bytes.Equal(f[24:40], subtypePCM) {
			return nil, 0, errf(CodeUnsupported, "extensible format of a sub-type other than integer PCM")
		}
		if valid := int(binary.LittleEndian.Uint16(f[18:20])); valid != 0 && valid != bits {
			return nil, 0, errf(CodeUnsupported, "%d valid bits in %d-bit containers; save as 16-bit PCM", valid, bits)
		}
	case 3:
		return nil, 0, errf(CodeUnsupported, "floating-point samples; save as 16-bit PCM")
	default:
		return nil, 0, errf(CodeUnsupported, "format tag 0x%04x (compressed); save as 16-bit PCM", tag)
	}
	if ch != 1 && ch != 2 {
		return nil, 0, errf(CodeUnsupported, "%d channels; save as mono or stereo", ch)
	}
	if bits != 8 && bits != 16 {
		return nil, 0, errf(CodeUnsupported, "%d-bit samples; save as 16-bit PCM", bits)
	}
	if rate < MinRate || rate > MaxRate {
		return nil, 0, errf(CodeUnsupported, "sample rate %d Hz outside %d..%d", rate, MinRate, MaxRate)
	}
	if want := ch * bits / 8; align != want {
		return nil, 0, errf(CodeCorrupt, "block align %d, %d channels of %d bits need %d", align, ch, bits, want)
	}
	return &Audio{Rate: int(rate), Channels: ch, Bits: bits}, align, nil
}

func samples(d []byte, bits int) []int16 {
	if bits == 8 {
		s := make([]int16, len(d))
		for i, v := range d {
			s[i] = (int16(v) - 128) << 8
		}
		return s
	}
	s := make([]int16, len(d)/2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(d[2*i:]))
	}
	return s
}

// Encode writes mono 16-bit PCM samples at rate as a canonical 44-byte-header WAV file.
func Encode(s []int16, rate int) []byte {
	n := len(s) * 2
	b := make([]byte, 44+n)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+n))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], formatPCM)
	binary.LittleEndian.PutUint16(b[22:], 1)
	binary.LittleEndian.PutUint32(b[24:], uint32(rate))
	binary.LittleEndian.PutUint32(b[28:], uint32(rate*2))
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(n))
	for i, v := range s {
		binary.LittleEndian.PutUint16(b[44+2*i:], uint16(v))
	}
	return b
}
