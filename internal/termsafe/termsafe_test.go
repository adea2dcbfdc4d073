package termsafe

import "testing"

func TestString(t *testing.T) {
	for in, want := range map[string]string{
		"plain ascii":                        "plain ascii",
		"Zoë 日本":                             "Zoë 日本",
		"tab\tkept":                          "tab\tkept",
		"\x1b[2J\x1b[Hcleared":               `\x1b[2J\x1b[Hcleared`,
		"ok\r\nagcurl: all good":             `ok\r\nagcurl: all good`,
		"bell\a del\x7f c1\u009b":            `bell\a del\x7f c1\u009b`,
		"evil\u202etxt.exe":                  `evil\u202etxt.exe`,
		"bad utf8 \xff\xfe":                  `bad utf8 \xff\xfe`,
		"osc \x1b]8;;http://x\x07link\x1b\\": `osc \x1b]8;;http://x\alink\x1b\`,
	} {
		if got := String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLinesKeepsNewlines(t *testing.T) {
	if got, want := Lines("one\ntwo\x1b[31m\r"), "one\ntwo\\x1b[31m\\r"; got != want {
		t.Fatalf("Lines = %q, want %q", got, want)
	}
}

func TestJSONAstral(t *testing.T) {
	in := "{\"a\":\"x\U000e0041\"}"
	if got, want := JSON(in), `{"a":"x\udb40\udc41"}`; got != want {
		t.Fatalf("JSON = %q, want %q", got, want)
	}
}

func TestJSON(t *testing.T) {
	in := "{\"name\":\"a\u202eb\u009bc\x7fd\",\"ok\":\"Zoë\"}\n"
	want := `{"name":"a\u202eb\u009bc\u007fd","ok":"Zoë"}` + "\n"
	if got := JSON(in); got != want {
		t.Fatalf("JSON = %q, want %q", got, want)
	}
}
