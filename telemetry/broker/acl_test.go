package broker

import (
	"errors"
	"testing"
)

func TestPasswords(t *testing.T) {
	// From mosquitto_passwd -U (2.0.11), and a $6$ hash of an older Mosquitto.
	file := []byte(`# accounts
kiosk-h1-k01:$7$101$S+uUUZp7uT15uQMy$IjKyiQkyV7k+MH5qtEz6xYTWA7kTmPGjfSTrlScduTW0hF62Dw/MuzATQzQbirDplgUSoM9NF0cp2AzkJVLXLw==

legacy:$6$MDEyMzQ1Njc4OWFi$qQAZbDJoJVPebFv6Oz98VCiGjkyVr1khtkkdTdzIoNMAAhfrgv68YGzB52OPVe3KnuXQ0SVsClhxwDry4CLJbw==
`)
	pw, err := ParsePasswords(file)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		user, pass string
		ok         bool
	}{
		{"kiosk-h1-k01", "s3cret-密码", true},
		{"kiosk-h1-k01", "s3cret-密", false},
		{"kiosk-h1-k01", "", false},
		{"legacy", "old-pass", true},
		{"legacy", "old-pasS", false},
		{"nobody", "s3cret-密码", false},
		{"", "", false},
	}
	for _, c := range cases {
		if got := pw.Check(c.user, c.pass); got != c.ok {
			t.Errorf("Check(%q, %q) = %v", c.user, c.pass, got)
		}
	}
	h := HashPassword("x", []byte("saltsaltsalt"))
	if pw2, err := ParsePasswords([]byte("u:" + h)); err != nil || !pw2.Check("u", "x") || pw2.Check("u", "y") {
		t.Errorf("HashPassword round trip: %v", err)
	}
	for _, bad := range []string{
		"user:plaintext", "nocolon", ":$7$101$AAAA$AAAA", "u:$7$0$S+uUUZp7uT15uQMy$IjKy",
		"u:$7$101$!!!$IjKy", "u:$7$101$S+uUUZp7uT15uQMy$c2hvcnQ=", "u:$6$$abc",
	} {
		if _, err := ParsePasswords([]byte(bad)); !errors.Is(err, ErrFile) {
			t.Errorf("ParsePasswords(%q) = %v, want ErrFile", bad, err)
		}
	}
}

func TestACL(t *testing.T) {
	acl, err := ParseACL([]byte(`# as citizenhome-acl writes it
topic read anonymous/#

user ops
topic read citizenhome/v1/h1/#
topic write citizenhome/v1/h1/+/cmd

user kiosk-h1-k01
topic write citizenhome/v1/h1/k01/state
topic write citizenhome/v1/h1/k01/alert/+
topic read citizenhome/v1/h1/k01/cmd
topic deny citizenhome/v1/h1/k01/alert/secret

user bad
topic readwrite citizenhome/v1/h1/#
topic deny citizenhome/v1/h1/+/cmd

pattern write devices/%u/data
pattern read devices/%c/cmd
`))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		user, client, topic string
		write, ok           bool
	}{
		{"kiosk-h1-k01", "c", "citizenhome/v1/h1/k01/state", true, true},
		{"kiosk-h1-k01", "c", "citizenhome/v1/h1/k01/state", false, false},
		{"kiosk-h1-k01", "c", "citizenhome/v1/h1/k01/alert/printer-paper-out", true, true},
		{"kiosk-h1-k01", "c", "citizenhome/v1/h1/k01/alert/secret", true, false},
		{"kiosk-h1-k01", "c", "citizenhome/v1/h1/k01/alert/a/b", true, false},
		{"kiosk-h1-k01", "c", "citizenhome/v1/h1/k02/state", true, false},
		{"kiosk-h1-k01", "c", "citizenhome/v1/h1/k01/cmd", true, false},
		{"kiosk-h1-k01", "c", "citizenhome/v1/h1/k01/cmd", false, true},
		{"kiosk-h1-k01", "c", "citizenhome/v1/h1/+/cmd", false, false},
		{"kiosk-h1-k01", "c", "citizenhome/v1/h1/#", false, false},
		{"kiosk-h1-k01", "c", "#", false, false},
		{"kiosk-h1-k01", "c", "anonymous/x", false, false},
		{"ops", "c", "citizenhome/v1/h1/#", false, true},
		{"ops", "c", "citizenhome/v1/h1/+/status", false, true},
		{"ops", "c", "citizenhome/#", false, false},
		{"ops", "c", "citizenhome/v1/h1/k09/cmd", true, true},
		{"ops", "c", "citizenhome/v1/h1/k09/state", true, false},
		{"ops", "c", "citizenhome/v1/h2/k09/cmd", true, false},
		{"bad", "c", "citizenhome/v1/h1/k01/state", true, true},
		{"bad", "c", "citizenhome/v1/h1/k01/cmd", true, false},
		{"bad", "c", "citizenhome/v1/h1/#", false, false}, // overlaps a deny
		{"dev1", "c", "devices/dev1/data", true, true},
		{"dev1", "c", "devices/dev2/data", true, false},
		{"dev1", "c9", "devices/c9/cmd", false, true},
		{"a/b", "c", "devices/a/b/data", true, false},
		{"a+", "c", "devices/a+/data", true, false},
		{"", "", "devices//data", true, false},
		{"nobody", "c", "citizenhome/v1/h1/k01/state", true, false},
	}
	for _, c := range cases {
		if got := acl.Allowed(c.user, c.client, c.topic, c.write); got != c.ok {
			t.Errorf("Allowed(%q, %q, %q, write=%v) = %v", c.user, c.client, c.topic, c.write, got)
		}
	}
	for _, bad := range []string{"topic", "topic read", "user", "topic read a/#/b", "topic read a/b#", "pattern read a/x%u", "grant all", "topic write "} {
		if _, err := ParseACL([]byte(bad)); !errors.Is(err, ErrFile) {
			t.Errorf("ParseACL(%q) = %v, want ErrFile", bad, err)
		}
	}
}

// The Go rules and the shell generator must agree: the generator's output for a kiosk is parsed
// and compared rule by rule in the external test (TestRulesMatchGenerator).
func TestRulesShape(t *testing.T) {
	acl := &ACL{Users: map[string][]Rule{"k": KioskRules("h1", "k01"), "s": StaffRules("h1"), "c": ControllerRules("h1")}}
	if !acl.Allowed("k", "", "citizenhome/v1/h1/k01/event", true) || acl.Allowed("k", "", "citizenhome/v1/h1/k01/cmd", true) {
		t.Error("kiosk rules")
	}
	if !acl.Allowed("c", "", "citizenhome/v1/h1/controller/state", true) || acl.Allowed("s", "", "citizenhome/v1/h1/controller/state", true) {
		t.Error("controller and staff rules")
	}
	// The hall's numbering: a kiosk takes under its own root only and reads its own answers;
	// only the controller answers.
	for _, c := range []struct {
		user, topic string
		write, ok   bool
	}{
		{"k", "citizenhome/v1/h1/k01/ticket/take", true, true},
		{"k", "citizenhome/v1/h1/k02/ticket/take", true, false},
		{"k", "citizenhome/v1/h1/+/ticket/take", false, false},
		{"k", "citizenhome/v1/h1/k01/ticket/given", false, true},
		{"k", "citizenhome/v1/h1/k01/ticket/given", true, false},
		{"k", "citizenhome/v1/h1/k02/ticket/given", false, false},
		{"k", "citizenhome/v1/h1/k01/lease", false, true},
		{"k", "citizenhome/v1/h1/k01/lease", true, false},
		{"k", "citizenhome/v1/h1/k02/lease", false, false},
		{"k", "citizenhome/v1/h1/k01/ack", false, true},
		{"k", "citizenhome/v1/h1/k01/ack", true, false},
		{"k", "citizenhome/v1/h1/controller/queue", false, true},
		{"k", "citizenhome/v1/h1/controller/queue", true, false},
		{"k", "citizenhome/v1/h1/k01/ticket/#", false, false},
		{"c", "citizenhome/v1/h1/k01/ticket/given", true, true},
		{"c", "citizenhome/v1/h1/k01/lease", true, true},
		{"c", "citizenhome/v1/h1/k01/ack", true, true},
		{"c", "citizenhome/v1/h1/controller/queue", true, true},
		{"c", "citizenhome/v1/h1/k01/ticket/take", true, false},
		{"c", "citizenhome/v1/h1/+/ticket/take", false, true},
		{"c", "citizenhome/v1/h2/k01/lease", true, false},
		{"s", "citizenhome/v1/h1/k01/lease", true, false},
		{"s", "citizenhome/v1/h1/k01/ticket/given", true, false},
		{"s", "citizenhome/v1/h1/controller/queue", true, false},
		// The kiosks' questions: a kiosk asks for itself and reads its own answer.
		{"k", "citizenhome/v1/h1/k01/ask", true, true},
		{"k", "citizenhome/v1/h1/k02/ask", true, false},
		{"k", "citizenhome/v1/h1/k01/answer", false, true},
		{"k", "citizenhome/v1/h1/k01/answer", true, false},
		{"k", "citizenhome/v1/h1/k02/answer", false, false},
		{"c", "citizenhome/v1/h1/k01/answer", true, true},
		{"c", "citizenhome/v1/h1/+/ask", false, true},
		{"c", "citizenhome/v1/h1/k01/ask", true, false},
		{"s", "citizenhome/v1/h1/k01/answer", true, false},
	} {
		if got := acl.Allowed(c.user, "", c.topic, c.write); got != c.ok {
			t.Errorf("%s write=%v %s: %v, want %v", c.user, c.write, c.topic, got, c.ok)
		}
	}
}
