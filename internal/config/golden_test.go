package config

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json and docs/options.md")

// goldenResult is what a golden file records: the effective configuration
// (or the error) and the warnings for one command line.
type goldenResult struct {
	Args     []string
	Env      map[string]string `json:",omitempty"`
	Config   *Config           `json:",omitempty"`
	Warnings []string          `json:",omitempty"`
	Error    string            `json:",omitempty"`
}

var goldenCases = []struct {
	name string
	args []string
	env  map[string]string
}{
	{name: "realworld", args: []string{"--ini", "testdata/realworld.ini"}},
	{name: "realworld_strict", args: []string{"--ini", "testdata/realworld.ini", "--strict"}},
	{name: "magic", args: []string{"--ini", "testdata/magic.ini"}, env: map[string]string{"HOME": "/home/web", "PORT": "8123"}},
	{name: "sections", args: []string{"--ini", "testdata/sections.ini"}},
	{name: "sections_staging", args: []string{"--ini", "testdata/sections.ini:staging"}},
	{name: "sections_missing", args: []string{"--ini", "testdata/sections.ini:prod"}},
	{name: "flags_override_ini", args: []string{"--processes", "3", "--ini", "testdata/sections.ini", "--http=:9999", "--http-keepalive", "0"}},
	{name: "two_files", args: []string{"--ini", "testdata/sections.ini", "--ini", "testdata/comments.ini"}},
	{name: "comments", args: []string{"--ini", "testdata/comments.ini"}},
	{name: "production", args: []string{"--ini", "testdata/production.ini"}},
	{name: "crlf", args: []string{"--ini", "testdata/crlf.ini"}},
	{name: "include", args: []string{"--ini", "testdata/include.ini"}},
	{name: "cycle", args: []string{"--ini", "testdata/cycle.ini"}},
	{name: "strict", args: []string{"--ini", "testdata/strict.ini"}},
	{name: "strict_off_by_flag", args: []string{"--ini", "testdata/strict.ini", "--strict=false"}},
	{name: "unsupported", args: []string{"--ini", "testdata/unsupported.ini"}},
	{name: "badline", args: []string{"--ini", "testdata/badline.ini"}},
	{name: "barekey", args: []string{"--ini", "testdata/barekey.ini"}},
	{name: "badvalue", args: []string{"--ini", "testdata/badvalue.ini"}},
	{name: "plugin", args: []string{"--ini", "testdata/plugin.ini"}},
	{name: "nosection", args: []string{"--ini", "testdata/nosection.ini", "app"}},
	{name: "missing_file", args: []string{"--ini", "testdata/does-not-exist.ini"}},
	{name: "positional_and_ini_module", args: []string{"--ini", "testdata/sections.ini", "other:app"}},
}

func TestGolden(t *testing.T) {
	abs, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			env := []string{}
			for k, v := range tc.env {
				env = append(env, k+"="+v)
			}
			c, warnings, err := Parse(tc.args, env)
			res := goldenResult{Args: tc.args, Env: tc.env, Config: c, Warnings: warnings}
			if err != nil {
				res.Error = err.Error()
			}
			got, err := json.MarshalIndent(res, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			// %d and %p expand to absolute paths; keep golden files portable.
			got = bytes.ReplaceAll(got, []byte(abs), []byte("$TESTDATA"))
			got = append(got, '\n')
			path := filepath.Join("testdata", tc.name+".golden.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs (run go test -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
}

// The ini from a real deployment in the brief: exactly one warning, about
// "process", and an error under --strict.
func TestRealWorldIni(t *testing.T) {
	c, warnings, err := Parse([]string{"--ini", "testdata/realworld.ini"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `carafe: testdata/realworld.ini:4: unknown option "process" (did you mean "processes"?)`
	if len(warnings) != 1 || warnings[0] != want {
		t.Errorf("warnings = %q, want [%q]", warnings, want)
	}
	if c.HTTP[0] != "0.0.0.0:5000" || c.Socket[0] != "/tmp/uwsgi.sock" || c.SocketTimeout != 3000 || c.Processes != 1 {
		t.Errorf("unexpected config %+v", c)
	}
	_, _, err = Parse([]string{"--strict", "--ini", "testdata/realworld.ini"}, nil)
	if err == nil || !strings.Contains(err.Error(), `config: testdata/realworld.ini:4: unknown option "process" (did you mean "processes"?)`) {
		t.Errorf("strict: err = %v", err)
	}
}
