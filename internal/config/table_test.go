package config

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Every row of the table must be usable by the parsers and the docs.
func TestOptionTable(t *testing.T) {
	c := Default()
	validName := regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	for _, o := range Options() {
		t.Run(o.Name, func(t *testing.T) {
			for _, n := range append([]string{o.Name}, o.Aliases...) {
				if !validName.MatchString(n) {
					t.Errorf("name %q is not lowercase-with-dashes", n)
				}
			}
			if o.Doc == "" || !strings.HasSuffix(o.Doc, ".") {
				t.Errorf("doc %q: want a sentence", o.Doc)
			}
			if !slices.Contains(sections, o.Section) {
				t.Errorf("unknown section %q", o.Section)
			}
			if len(o.Short) > 1 {
				t.Errorf("short %q is more than one letter", o.Short)
			}
			noField := o.Kind == KindNoop || o.Kind == KindUnsupported
			if noField != (o.Field == nil) {
				t.Fatalf("kind %s with Field set = %v", o.Kind, o.Field != nil)
			}
			if o.Check != nil && o.Kind != KindNoop {
				t.Errorf("Check set on a %s option", o.Kind)
			}
			if noField {
				return
			}
			wantType := map[Kind]string{
				KindString: "*string", KindInt: "*int", KindInt64: "*int64",
				KindFloat: "*float64", KindBool: "*bool", KindList: "*[]string",
			}[o.Kind]
			if got := typeName(o.Field(c)); got != wantType {
				t.Errorf("kind %s but field is %s", o.Kind, got)
			}
			if o.Kind != KindBool && o.Metavar == "" {
				t.Error("value-taking option without a Metavar")
			}
		})
	}
}

func typeName(v any) string {
	switch v.(type) {
	case *string:
		return "*string"
	case *int:
		return "*int"
	case *int64:
		return "*int64"
	case *float64:
		return "*float64"
	case *bool:
		return "*bool"
	case *[]string:
		return "*[]string"
	}
	return "?"
}

// The defaults the brief promises, and that Default takes them from the table.
func TestDefaults(t *testing.T) {
	c := Default()
	if c.Processes != 1 || c.Threads != 1 || c.BufferSize != 4096 ||
		c.LimitRequestLine != 8190 || c.LimitRequestFields != 100 || c.LimitRequestFieldSize != 8190 ||
		c.LimitPost != 1<<30 || c.HTTPHeaderTimeout != 10 || c.HTTPTimeout != 60 ||
		c.SocketTimeout != 60 || c.HTTPKeepalive != 15 {
		t.Errorf("Default() = %+v", c)
	}
}

// Options returns a copy: callers cannot corrupt the table.
func TestOptionsIsACopy(t *testing.T) {
	opts := Options()
	opts[0].Name = "changed"
	if Options()[0].Name == "changed" {
		t.Error("Options() exposes the table")
	}
}

// Every option is accepted in an ini file under its name and each alias.
func TestEveryOptionInIni(t *testing.T) {
	for _, o := range Options() {
		if o.Kind == KindUnsupported {
			continue
		}
		for _, n := range append([]string{o.Name}, o.Aliases...) {
			if n == "ini" || n == "ini-paste" || n == "ini-paste-logged" {
				continue
			}
			data := "[uwsgi]\n" + n + " = " + sampleValue(&o) + "\n"
			res, err := parseIni("x.ini", []byte(data), "",
				&iniEnv{getenv: func(string) (string, bool) { return "", false }, ph: newPlaceholders(nil), files: &configFiles{}}, nil)
			if err != nil || len(res.unknown) != 0 || len(res.settings) != 1 {
				t.Errorf("%s: %v %v", n, err, res.unknown)
				continue
			}
			if err := res.settings[0].apply(Default()); err != nil {
				t.Errorf("%s: %v", n, err)
			}
		}
	}
}

func sampleValue(o *Option) string {
	switch o.Kind {
	case KindBool, KindNoop:
		if o.Check != nil {
			if o.Metavar == "BYTES" || o.Metavar == "N" || o.Metavar == "KB" || o.Metavar == "SECONDS" {
				return "4096"
			}
			if first, _, ok := strings.Cut(o.Metavar, "|"); ok {
				return first
			}
			if strings.HasPrefix(o.Metavar, "'") { // the metavar is the one value taken
				return strings.Trim(o.Metavar, "'")
			}
			return "python3"
		}
		return "true"
	case KindInt, KindInt64, KindFloat:
		return "7"
	}
	return "x"
}

func TestOptionsDocUpToDate(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", "docs", "options.md")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/config -update)", err)
	}
	if !bytes.Equal(got, buf.Bytes()) {
		t.Errorf("%s is stale: run go test ./internal/config -update", path)
	}
	for _, o := range Options() {
		if !bytes.Contains(buf.Bytes(), []byte("`--"+o.Name)) {
			t.Errorf("docs miss --%s", o.Name)
		}
	}
}

func TestUsage(t *testing.T) {
	var buf bytes.Buffer
	Usage(&buf)
	out := buf.String()
	for _, o := range Options() {
		if o.Kind != KindUnsupported && !strings.Contains(out, "--"+o.Name) {
			t.Errorf("usage misses --%s", o.Name)
		}
	}
	if strings.Contains(out, "--emperor") {
		t.Error("usage lists a rejected option")
	}
}
