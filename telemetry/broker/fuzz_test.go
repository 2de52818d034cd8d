package broker

import "testing"

func FuzzParseACL(f *testing.F) {
	f.Add([]byte("user ops\ntopic read citizenhome/v1/h1/#\ntopic write citizenhome/v1/h1/+/cmd\n"))
	f.Add([]byte("pattern write devices/%u/data\ntopic deny a/+/b\n# c\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		acl, err := ParseACL(b)
		if err != nil {
			return
		}
		for u := range acl.Users {
			acl.Allowed(u, "c", "citizenhome/v1/h1/k01/state", true)
			acl.Allowed(u, "c", "#", false)
		}
	})
}

func FuzzParsePasswords(f *testing.F) {
	f.Add([]byte("kiosk-h1-k01:$7$101$S+uUUZp7uT15uQMy$IjKyiQkyV7k+MH5qtEz6xYTWA7kTmPGjfSTrlScduTW0hF62Dw/MuzATQzQbirDplgUSoM9NF0cp2AzkJVLXLw==\n"))
	f.Add([]byte("legacy:$6$MDEyMzQ1Njc4OWFi$qQAZbDJoJVPebFv6Oz98VCiGjkyVr1khtkkdTdzIoNMAAhfrgv68YGzB52OPVe3KnuXQ0SVsClhxwDry4CLJbw==\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pw, err := ParsePasswords(b)
		if err != nil {
			return
		}
		for u := range pw {
			pw.Check(u, "x")
		}
	})
}
