package httpcall

import "testing"

func TestRedactURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"https://u:s3cret@host:bad/", "https://u:xxxxx@host:bad/"},
		{"https://tok3n@host/", "https://xxxxx@host/"},
		{"u:s3cret@host", "u:xxxxx@host"},
		{"//u:s3cret@host/p", "//u:xxxxx@host/p"},
		{"http://u:s3cret@[::1/", "http://u:xxxxx@[::1/"},
		{"http://u:p@ss@host/", "http://u:xxxxx@host/"},
		{"http://u:se/cret@host/", "http://u:xxxxx@host/"},
		{"http://u:s3cret@host/?a=b@c", "http://u:xxxxx@host/?a=b@c"},
		// No userinfo: left alone, even with an "@" further on.
		{"https://host/users/@me", "https://host/users/@me"},
		{"https://host:8080/@me", "https://host:8080/@me"},
		{"http://[::1]:80/@x", "http://[::1]:80/@x"},
		{"https://host/?q=a@b", "https://host/?q=a@b"},
		{"https://host:bad/", "https://host:bad/"},
		{"", ""},
	} {
		if got := RedactURL(c.in); got != c.want {
			t.Errorf("RedactURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
