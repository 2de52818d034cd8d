package broker

import (
	"bufio"
	"bytes"
	"crypto/pbkdf2"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Access is what a rule grants (or, Deny, refuses).
type Access int

// Access kinds, as in a Mosquitto acl_file.
const (
	Read Access = 1 << iota
	Write
	Deny
	ReadWrite = Read | Write
)

// Rule is one line of an ACL: a topic filter (with %u and %c standing for the username and the
// client id when Pattern) and its access.
type Rule struct {
	Access  Access
	Topic   string
	Pattern bool
}

// ACL is a parsed Mosquitto acl_file: rules per user, and pattern rules for everybody. Rules
// for anonymous clients are read and ignored: the broker refuses anonymous clients.
type ACL struct {
	Users    map[string][]Rule
	Patterns []Rule
}

// ErrFile is matched by every error of ParseACL and ParsePasswords.
var ErrFile = errors.New("broker: bad file")

// FileError is a problem on one line of an ACL or password file.
type FileError struct {
	Line int
	Msg  string
}

func (e *FileError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Is makes errors.Is(err, ErrFile) true.
func (e *FileError) Is(target error) bool { return target == ErrFile }

// MaxFileSize bounds the ACL and password files read.
const MaxFileSize = 16 << 20

// ParseACL reads the subset of Mosquitto's acl_file syntax the hall uses: comments (#), blank
// lines, "user NAME", "topic [read|write|readwrite|deny] FILTER" and "pattern [...] FILTER".
// A filter that is not a valid MQTT filter, or a %u/%c that is not a whole level, is an error.
func ParseACL(b []byte) (*ACL, error) {
	if len(b) > MaxFileSize {
		return nil, &FileError{Msg: fmt.Sprintf("file of %d bytes is over %d", len(b), MaxFileSize)}
	}
	acl := &ACL{Users: map[string][]Rule{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	user, inUser := "", false
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if !utf8.ValidString(line) {
			return nil, &FileError{Line: n, Msg: "not UTF-8"}
		}
		word, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch word {
		case "user":
			if rest == "" {
				return nil, &FileError{Line: n, Msg: "user without a name"}
			}
			user, inUser = rest, true
			if _, ok := acl.Users[user]; !ok {
				acl.Users[user] = nil
			}
		case "topic", "pattern":
			access := ReadWrite
			if a, f, ok := strings.Cut(rest, " "); ok {
				switch a {
				case "read":
					access, rest = Read, strings.TrimSpace(f)
				case "write":
					access, rest = Write, strings.TrimSpace(f)
				case "readwrite":
					access, rest = ReadWrite, strings.TrimSpace(f)
				case "deny":
					access, rest = Deny, strings.TrimSpace(f)
				}
			} else if rest == "read" || rest == "write" || rest == "readwrite" || rest == "deny" {
				return nil, &FileError{Line: n, Msg: word + " " + rest + " without a topic"}
			}
			if err := checkFilter(rest, word == "pattern"); err != nil {
				return nil, &FileError{Line: n, Msg: err.Error()}
			}
			r := Rule{Access: access, Topic: rest, Pattern: word == "pattern"}
			switch {
			case r.Pattern:
				acl.Patterns = append(acl.Patterns, r)
			case inUser:
				acl.Users[user] = append(acl.Users[user], r)
			}
			// topic lines before any user line apply to anonymous clients: refused anyway.
		default:
			return nil, &FileError{Line: n, Msg: fmt.Sprintf("unknown keyword %q", word)}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &FileError{Msg: err.Error()}
	}
	return acl, nil
}

func checkFilter(f string, pattern bool) error {
	if f == "" {
		return errors.New("empty topic")
	}
	if len(f) > 65535 {
		return errors.New("topic too long")
	}
	levels := strings.Split(f, "/")
	for i, l := range levels {
		switch {
		case l == "#" && i != len(levels)-1:
			return fmt.Errorf("%q: # must be the last level", f)
		case l != "#" && l != "+" && strings.ContainsAny(l, "#+"):
			return fmt.Errorf("%q: a wildcard must be a whole level", f)
		case pattern && l != "%u" && l != "%c" && (strings.Contains(l, "%u") || strings.Contains(l, "%c")):
			return fmt.Errorf("%q: %%u and %%c must be a whole level", f)
		}
	}
	return nil
}

// Allowed reports whether user (with client id) may write to topic (write) or read a topic or
// subscribe to a filter (!write). Deny rules are checked first; then the user's rules and the
// patterns; nothing matching means no. A subscription filter is allowed only when every topic
// it can match is allowed by one rule.
func (a *ACL) Allowed(user, clientID, topic string, write bool) bool {
	if a == nil || topic == "" || user == "" {
		return false // anonymous clients are refused; a pattern must not match "" for them
	}
	rules := a.Users[user]
	var subst []Rule
	for _, p := range a.Patterns {
		// A username or client id with wildcards or separators could widen a pattern.
		if strings.ContainsAny(user, "+#/") || clientID == "" || strings.ContainsAny(clientID, "+#/") {
			continue
		}
		t := strings.Split(p.Topic, "/")
		for i, l := range t {
			switch l {
			case "%u":
				t[i] = user
			case "%c":
				t[i] = clientID
			}
		}
		subst = append(subst, Rule{Access: p.Access, Topic: strings.Join(t, "/")})
	}
	all := append(append([]Rule(nil), rules...), subst...)
	for _, r := range all {
		if r.Access == Deny && overlaps(topic, r.Topic) {
			return false
		}
	}
	need := Read
	if write {
		need = Write
	}
	for _, r := range all {
		if r.Access&need != 0 && within(topic, r.Topic) {
			return true
		}
	}
	return false
}

// within reports whether every topic matched by filter (a topic is a filter without
// wildcards) is matched by rule.
func within(filter, rule string) bool {
	f, r := strings.Split(filter, "/"), strings.Split(rule, "/")
	// MQTT: wildcards at the first level do not match topics starting with $.
	if strings.HasPrefix(filter, "$") != strings.HasPrefix(rule, "$") && (r[0] == "+" || r[0] == "#") {
		return false
	}
	for i := 0; ; i++ {
		if i == len(r) {
			return i == len(f)
		}
		if r[i] == "#" {
			return true
		}
		if i == len(f) {
			return false
		}
		switch {
		case f[i] == "#":
			return false
		case r[i] == "+":
		case f[i] == "+" || f[i] != r[i]:
			return false
		}
	}
}

// overlaps reports whether some topic is matched by both filters.
func overlaps(a, b string) bool {
	x, y := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; ; i++ {
		if i == len(x) || i == len(y) {
			return len(x) == len(y) || (i < len(x) && x[i] == "#") || (i < len(y) && y[i] == "#")
		}
		if x[i] == "#" || y[i] == "#" {
			return true
		}
		if x[i] != "+" && y[i] != "+" && x[i] != y[i] {
			return false
		}
	}
}

// Passwords are the accounts of a Mosquitto password_file: username to hash.
type Passwords map[string]string

// ParsePasswords reads a Mosquitto password file ("user:$7$iterations$salt$hash", PBKDF2-SHA512,
// as mosquitto_passwd writes it; "$6$salt$hash", SHA-512, of older versions). A line without a
// hash is an error: a plain-text password file must be hashed first (mosquitto_passwd -U).
func ParsePasswords(b []byte) (Passwords, error) {
	if len(b) > MaxFileSize {
		return nil, &FileError{Msg: fmt.Sprintf("file of %d bytes is over %d", len(b), MaxFileSize)}
	}
	out := Passwords{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" {
			return nil, &FileError{Line: n, Msg: "want user:hash"}
		}
		if _, _, _, err := parseHash(hash); err != nil {
			return nil, &FileError{Line: n, Msg: fmt.Sprintf("user %q: %v", user, err)}
		}
		out[user] = hash
	}
	if err := sc.Err(); err != nil {
		return nil, &FileError{Msg: err.Error()}
	}
	return out, nil
}

// parseHash splits "$7$iter$salt$hash" or "$6$salt$hash" (iterations 0 for $6$).
func parseHash(h string) (iter int, salt, sum []byte, err error) {
	p := strings.Split(h, "$")
	dec := base64.StdEncoding.DecodeString
	switch {
	case len(p) == 5 && p[0] == "" && p[1] == "7":
		iter, err = strconv.Atoi(p[2])
		if err != nil || iter < 1 || iter > 1_000_000 {
			return 0, nil, nil, errors.New("bad PBKDF2 iteration count")
		}
		if salt, err = dec(p[3]); err != nil || len(salt) == 0 {
			return 0, nil, nil, errors.New("bad salt")
		}
		if sum, err = dec(p[4]); err != nil || len(sum) != sha512.Size {
			return 0, nil, nil, errors.New("bad hash")
		}
		return iter, salt, sum, nil
	case len(p) == 4 && p[0] == "" && p[1] == "6":
		if salt, err = dec(p[2]); err != nil || len(salt) == 0 {
			return 0, nil, nil, errors.New("bad salt")
		}
		if sum, err = dec(p[3]); err != nil || len(sum) != sha512.Size {
			return 0, nil, nil, errors.New("bad hash")
		}
		return 0, salt, sum, nil
	}
	return 0, nil, nil, errors.New("not a $7$ or $6$ hash (hash the file with mosquitto_passwd -U)")
}

// Check reports whether pass is user's password. An unknown user is refused after the same
// work as a known one, so that timing does not tell which usernames exist.
func (p Passwords) Check(user, pass string) bool {
	h, ok := p[user]
	if !ok {
		h = "$7$101$AAAAAAAAAAAAAAAA$" + base64.StdEncoding.EncodeToString(make([]byte, sha512.Size))
	}
	iter, salt, sum, err := parseHash(h)
	if err != nil {
		return false
	}
	var got []byte
	if iter > 0 {
		got, err = pbkdf2.Key(sha512.New, pass, salt, iter, sha512.Size)
		if err != nil {
			return false
		}
	} else {
		s := sha512.Sum512(append([]byte(pass), salt...))
		got = s[:]
	}
	return subtle.ConstantTimeCompare(got, sum) == 1 && ok
}

// HashPassword makes a "$7$" hash as mosquitto_passwd does (101 iterations, 12-byte salt).
func HashPassword(pass string, salt []byte) string {
	sum, _ := pbkdf2.Key(sha512.New, pass, salt, 101, sha512.Size)
	enc := base64.StdEncoding.EncodeToString
	return "$7$101$" + enc(salt) + "$" + enc(sum)
}
