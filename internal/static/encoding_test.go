package static

import "testing"

func TestAcceptEncoding(t *testing.T) {
	tests := []struct {
		name   string
		accept []string
		want   []string // codings offered, best first
	}{
		{"absent", nil, nil},
		{"empty", []string{""}, nil},
		{"identity", []string{"identity"}, nil},
		{"browser", []string{"gzip, deflate, br, zstd"}, []string{"br", "gzip"}},
		{"gzip only", []string{"gzip"}, []string{"gzip"}},
		{"x-gzip", []string{"x-gzip"}, []string{"gzip"}},
		{"case", []string{"GZip, BR"}, []string{"br", "gzip"}},
		{"gzip q0 means no", []string{"gzip;q=0, br"}, []string{"br"}},
		{"br q0", []string{"br;q=0, gzip"}, []string{"gzip"}},
		{"q0.000", []string{"br;q=0.000, gzip;q=0.0"}, nil},
		{"gzip preferred by q", []string{"br;q=0.5, gzip;q=0.8"}, []string{"gzip", "br"}},
		{"tie keeps server order", []string{"gzip;q=0.5, br;q=0.5"}, []string{"br", "gzip"}},
		{"spaces around q", []string{"gzip ; q = 0.7 , br;Q=0.2"}, []string{"gzip", "br"}},
		{"star", []string{"*"}, []string{"br", "gzip"}},
		{"star with exclusion", []string{"*;q=0.5, br;q=0"}, []string{"gzip"}},
		{"star zero", []string{"gzip, *;q=0"}, []string{"gzip"}},
		{"two header lines", []string{"gzip", "br"}, []string{"br", "gzip"}},
		{"malformed q ignored", []string{"br;q=high, gzip"}, []string{"gzip"}},
		{"q over one ignored", []string{"br;q=1.5"}, nil},
		{"q too long ignored", []string{"br;q=0.1234"}, nil},
		{"other params", []string{"br;level=5;q=0.3"}, []string{"br"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			order, n := preference(acceptQ(tt.accept))
			var got []string
			for _, i := range order[:n] {
				got = append(got, codings[i].name)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %q, want %q", got, tt.want)
				}
			}
		})
	}
}

func TestContentType(t *testing.T) {
	tests := []struct{ name, want string }{
		{"a.html", "text/html; charset=utf-8"},
		{"a.css", "text/css; charset=utf-8"},
		{"a.js", "text/javascript; charset=utf-8"},
		{"a.mjs", "text/javascript; charset=utf-8"},
		{"a.json", "application/json"},
		{"a.svg", "image/svg+xml"},
		{"a.png", "image/png"},
		{"A.PNG", "image/png"},
		{"a.jpg", "image/jpeg"},
		{"a.jpeg", "image/jpeg"},
		{"a.gif", "image/gif"},
		{"a.webp", "image/webp"},
		{"a.ico", "image/vnd.microsoft.icon"},
		{"a.txt", "text/plain; charset=utf-8"},
		{"a.xml", "text/xml; charset=utf-8"},
		{"a.wasm", "application/wasm"},
		{"a.woff", "font/woff"},
		{"a.woff2", "font/woff2"},
		{"a.otf", "font/otf"},
		{"a.ttf", "font/ttf"},
		{"a.pdf", "application/pdf"},
		{"a.webm", "video/webm"},
		{"a.mp4", "video/mp4"},
		{"seg0.ts", "video/mp2t"},
		{"a.eot", "application/vnd.ms-fontobject"},
		{"a.js.map", "application/json"},
		{"noext", "application/octet-stream"},
		{"dir.d/noext", "application/octet-stream"},
		{"a.no-such-type", "application/octet-stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := contentType(tt.name); got != tt.want {
				t.Errorf("contentType(%q) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}
