package static

import "testing"

func TestCleanRel(t *testing.T) {
	tests := []struct {
		name, rest string
		rel        string
		dirForm    bool
		ok         bool
	}{
		{"mapping root bare", "", ".", false, true},
		{"mapping root slash", "/", ".", true, true},
		{"file", "/css/a.css", "css/a.css", false, true},
		{"dir slash", "/sub/", "sub", true, true},
		{"dot end", "/sub/.", "sub", true, true},
		{"double slashes", "//etc//passwd", "etc/passwd", false, true},
		{"dot segments", "/./a/./b", "a/b", false, true},
		{"dots in names", "/a..b/...", "a..b/...", false, true},
		{"literal percent", "/%2e%2e", "%2e%2e", false, true},
		{"dotdot", "/../secret", "", false, false},
		{"dotdot above after a segment", "/a/../../secret", "", false, false},
		{"dotdot inside", "/a/../b", "b", false, true},
		{"dotdot deeper", "/a/b/../../c/./d", "c/d", false, true},
		{"dotdot end", "/a/b/..", "a", true, true},
		{"dotdot to the root", "/a/..", ".", true, true},
		{"backslash", `/a\..\..\secret`, `a\..\..\secret`, false, true},
		{"lone backslash", `/a\b`, `a\b`, false, true},
		{"nul", "/a\x00.css", "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rel, dirForm, ok := cleanRel(tt.rest)
			if rel != tt.rel || dirForm != tt.dirForm || ok != tt.ok {
				t.Errorf("cleanRel(%q) = %q, %v, %v; want %q, %v, %v", tt.rest, rel, dirForm, ok, tt.rel, tt.dirForm, tt.ok)
			}
		})
	}
}

func TestCleanRelAllocs(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { cleanRel("/css/site/main.css") }); n != 0 {
		t.Errorf("clean path allocates %v times, want 0", n)
	}
}
