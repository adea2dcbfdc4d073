package netutil

import "testing"

func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LocalHost": true, "127.0.0.1": true, "127.1.2.3": true,
		"::1": true, "[::1]": true, "0:0:0:0:0:0:0:1": true,
		"0.0.0.0": false, "localhost.example": false, "10.0.0.1": false, "::": false,
		"example.com": false, "": false, "[::2]": false,
	} {
		if got := IsLoopbackHost(host); got != want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}
