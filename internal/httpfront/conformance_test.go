package httpfront

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"testing/iotest"
)

// The conformance corpus is gunicorn's request fixtures, converted to raw
// bytes plus JSON expectations; its README.md explains the format. It lives
// outside the module, in the shared checkout next to it.

// corpusDir returns the corpus folder, or "" when it is absent.
func corpusDir() string {
	dir := os.Getenv("CARAFE_HTTP_CORPUS")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "conformance", "http-requests")
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return ""
	}
	return dir
}

type corpusCase struct {
	Requests []corpusRequest `json:"requests"`
	Error    string          `json:"error"`
	Config   map[string]any  `json:"config"`
}

type corpusRequest struct {
	Method string `json:"method"`
	URI    struct {
		Raw   string `json:"raw"`
		Path  string `json:"path"`
		Query string `json:"query"`
	} `json:"uri"`
	Version    [2]int       `json:"version"`
	Headers    [][2]string  `json:"headers"`
	BodyBase64 string       `json:"body_base64"`
	Trailers   *[][2]string `json:"trailers"`
}

// gunicornLimits are gunicorn's defaults, which the corpus assumes for
// cases with an empty config. Only MaxRequestLine differs from carafe's
// (4094 there, 8190 here).
var gunicornLimits = Limits{MaxRequestLine: 4094, MaxFieldSize: 8190, MaxHeaders: 100, allowMissingHost: true}

// configSkips names the gunicorn options carafe's parser cannot be set to
// match, with the reason a case that needs one is skipped.
var configSkips = map[string]string{
	"proxy_protocol":                    "carafe has no PROXY protocol support",
	"permit_obsolete_folding":           "carafe always rejects obs-fold (RFC 9112 §5.2 allows it; folding is a smuggling vector)",
	"header_map":                        "carafe always drops fields with '_' in the name (gunicorn's default 'drop'); 'refuse' and 'dangerous' are not offered",
	"strip_header_spaces":               "carafe always rejects whitespace before the colon (RFC 9112 §5.1 MUST)",
	"permit_unconventional_http_method": "carafe applies gunicorn's default method rules only",
	"casefold_http_method":              "carafe never rewrites the method",
	"forwarded_allow_ips":               "secure-scheme header checks belong to carafe's proxy-header layer, not the request parser",
}

// policySkips are empty-config valid cases where carafe refuses on
// purpose. The test checks that carafe answers status, then skips.
var policySkips = map[string]struct {
	status int
	reason string
}{
	"valid/009": {400, "carafe rejects Content-Length together with Transfer-Encoding (request smuggling shape; RFC 9112 §6.1 allows it), gunicorn drops Content-Length and accepts TE: identity"},
}

func init() {
	const teReason = "carafe accepts only Transfer-Encoding: chunked and answers 501 to other codings before it; gunicorn passes gzip/identity to the app undecoded"
	for _, name := range []string{"025", "025_line", "029", "030", "rfc9112_smuggle_gzip_chunked_01", "rfc9112_smuggle_te_identity_chunked_01"} {
		policySkips["valid/"+name] = struct {
			status int
			reason string
		}{501, teReason}
	}
}

// corpusLimits maps a case's config to Limits, or returns why it cannot.
func corpusLimits(config map[string]any) (Limits, string) {
	lim := gunicornLimits
	var keys []string
	for k := range config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		n, isNum := config[k].(float64)
		switch {
		case k == "limit_request_line" && isNum:
			lim.MaxRequestLine = min(int(n), 8190) // gunicorn caps it so
		case k == "limit_request_field_size" && isNum:
			lim.MaxFieldSize = int(n) // 0 is the default in both
		case k == "limit_request_fields" && isNum:
			lim.MaxHeaders = int(n)
		case configSkips[k] != "":
			return lim, fmt.Sprintf("needs gunicorn option %s=%v: %s", k, config[k], configSkips[k])
		default:
			return lim, fmt.Sprintf("needs gunicorn option %s=%v, unknown to this harness", k, config[k])
		}
	}
	return lim, ""
}

// feeds are the ways each case reaches the parser: whole, a byte at a
// time, and in random pieces through a small bufio buffer.
var feeds = []struct {
	name string
	new  func(raw []byte, seed int64) *bufio.Reader
}{
	{"whole", func(raw []byte, _ int64) *bufio.Reader { return bufio.NewReader(bytes.NewReader(raw)) }},
	{"bytewise", func(raw []byte, _ int64) *bufio.Reader {
		return bufio.NewReader(iotest.OneByteReader(bytes.NewReader(raw)))
	}},
	{"pieces", func(raw []byte, seed int64) *bufio.Reader {
		rng := rand.New(rand.NewSource(seed))
		return bufio.NewReaderSize(&pieceReader{raw: raw, rng: rng}, 16+rng.Intn(256))
	}},
}

type pieceReader struct {
	raw []byte
	rng *rand.Rand
}

func (p *pieceReader) Read(b []byte) (int, error) {
	if len(p.raw) == 0 {
		return 0, io.EOF
	}
	n := min(1+p.rng.Intn(64), len(b), len(p.raw))
	copy(b, p.raw[:n])
	p.raw = p.raw[n:]
	return n, nil
}

func TestConformance(t *testing.T) {
	dir := corpusDir()
	if dir == "" {
		t.Skip("conformance corpus not found (../../../shared/conformance/http-requests or $CARAFE_HTTP_CORPUS)")
	}
	counts := map[string]int{}
	for _, set := range []string{"valid", "invalid"} {
		raws, _ := filepath.Glob(filepath.Join(dir, set, "*.raw"))
		if len(raws) == 0 {
			t.Fatalf("no %s cases in %s", set, dir)
		}
		for _, rawPath := range raws {
			name := set + "/" + strings.TrimSuffix(filepath.Base(rawPath), ".raw")
			ok := t.Run(name, func(t *testing.T) {
				c, raw := loadCase(t, rawPath)
				defer func() {
					switch {
					case t.Skipped():
						counts[set+" skip"]++
					case !t.Failed():
						counts[set+" pass"]++
					}
				}()
				if set == "valid" {
					runValid(t, name, c, raw)
				} else {
					runInvalid(t, c, raw)
				}
			})
			if !ok {
				counts[set+" fail"]++
			}
		}
	}
	t.Logf("conformance: %v", counts)
}

func loadCase(t *testing.T, rawPath string) (corpusCase, []byte) {
	t.Helper()
	raw, err := os.ReadFile(rawPath)
	if err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile(strings.TrimSuffix(rawPath, ".raw") + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var c corpusCase
	if err := json.Unmarshal(js, &c); err != nil {
		t.Fatal(err)
	}
	return c, raw
}

func seedOf(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int64(h.Sum64())
}

func runValid(t *testing.T, name string, c corpusCase, raw []byte) {
	lim, skip := corpusLimits(c.Config)
	if skip != "" {
		t.Skip(skip)
	}
	if p, ok := policySkips[name]; ok {
		var req Request
		err := ReadRequest(bufio.NewReader(bytes.NewReader(raw)), &lim, &req)
		if statusOf(err) != p.status {
			t.Fatalf("policy case: got %v, want status %d", err, p.status)
		}
		t.Skipf("carafe policy (answers %d): %s", p.status, p.reason)
	}
	for _, feed := range feeds {
		br := feed.new(raw, seedOf(name))
		if err := replayValid(br, &lim, c.Requests); err != nil {
			t.Fatalf("%s: %v", feed.name, err)
		}
	}
	checkStrictHost(t, raw, lim, c.Requests)
}

// checkStrictHost replays a valid case under carafe's own Host rule: the
// stream must parse the same, or fail with 400 exactly at the first
// HTTP/1.1 request that lacks Host.
func checkStrictHost(t *testing.T, raw []byte, lim Limits, want []corpusRequest) {
	lim.allowMissingHost = false
	stop := len(want)
	for i, w := range want {
		if w.Version == [2]int{1, 1} && !hasField(w.Headers, "HOST") {
			stop = i
			break
		}
	}
	br := bufio.NewReader(bytes.NewReader(raw))
	err := replayValid(br, &lim, want[:stop])
	if stop == len(want) {
		if err != nil {
			t.Fatalf("strict Host rule: %v", err)
		}
		return
	}
	if err != errNoHost {
		t.Fatalf("strict Host rule: request %d lacks Host, got %v, want %v", stop, err, errNoHost)
	}
}

func hasField(fields [][2]string, name string) bool {
	for _, f := range fields {
		if f[0] == name {
			return true
		}
	}
	return false
}

// replayValid parses every request of the stream and its body and compares
// them with want. When want is a prefix of the stream, the error that ends
// the replay is returned as is.
func replayValid(br *bufio.Reader, lim *Limits, want []corpusRequest) error {
	var req Request
	cr := NewChunkedReader(br, lim.MaxFieldSize)
	for i := 0; ; i++ {
		err := ReadRequest(br, lim, &req)
		if i == len(want) {
			if err == io.EOF {
				return nil
			}
			if err == nil {
				return fmt.Errorf("unexpected request %d: %s %s", i, req.Method, req.Target)
			}
			return err
		}
		if err != nil {
			return err
		}
		if err := compareRequest(&req, &want[i]); err != nil {
			return fmt.Errorf("request %d: %w", i, err)
		}
		body, trailers, err := readBody(br, cr, &req)
		// valid/099 declares more Content-Length than it sends, and
		// gunicorn hands over what arrived before EOF. That is a body-read
		// matter for the server loop, so only the bytes are compared here.
		if err == io.EOF && !req.Chunked && i == len(want)-1 {
			err = nil
		}
		if err != nil {
			return fmt.Errorf("request %d body: %w", i, err)
		}
		if got, w := base64.StdEncoding.EncodeToString(body), want[i].BodyBase64; got != w {
			return fmt.Errorf("request %d: body %q, want %q", i, body, w)
		}
		var wantTrailers [][2]string
		if want[i].Trailers != nil {
			wantTrailers = *want[i].Trailers
		}
		if err := compareFields("trailers", trailers, wantTrailers); err != nil {
			return fmt.Errorf("request %d: %w", i, err)
		}
		if !req.KeepAlive {
			if i+1 != len(want) {
				return fmt.Errorf("request %d closes the connection, want %d requests", i, len(want))
			}
			return nil
		}
	}
}

func readBody(br *bufio.Reader, cr *ChunkedReader, req *Request) ([]byte, []Header, error) {
	switch {
	case req.Chunked:
		cr.Reset(br)
		body, err := io.ReadAll(cr)
		return body, cr.Trailers(), err
	case req.ContentLength > 0:
		var body bytes.Buffer
		_, err := io.CopyN(&body, br, req.ContentLength)
		return body.Bytes(), nil, err
	}
	return nil, nil, nil
}

func compareRequest(req *Request, w *corpusRequest) error {
	var diffs []string
	check := func(what string, got []byte, want string) {
		if !bytes.Equal(got, latin1(want)) {
			diffs = append(diffs, fmt.Sprintf("%s %q, want %q", what, got, latin1(want)))
		}
	}
	check("method", req.Method, w.Method)
	check("target", req.Target, w.URI.Raw)
	// The corpus README allows comparing only the raw target for
	// authority-form, where gunicorn's urlsplit mangles the path.
	if string(req.Method) != "CONNECT" {
		check("path", req.Path, w.URI.Path)
		check("query", req.Query, w.URI.Query)
	}
	if [2]int{req.Major, req.Minor} != w.Version {
		diffs = append(diffs, fmt.Sprintf("version %d.%d, want %v", req.Major, req.Minor, w.Version))
	}
	if err := compareFields("headers", req.Headers, w.Headers); err != nil {
		diffs = append(diffs, err.Error())
	}
	if len(diffs) > 0 {
		return errors.New(strings.Join(diffs, "; "))
	}
	return nil
}

func compareFields(what string, got []Header, want [][2]string) error {
	g := make([][2]string, len(got))
	for i, h := range got {
		g[i] = [2]string{strings.ToUpper(string(h.Name)), string(h.Value)}
	}
	w := make([][2]string, len(want))
	for i, f := range want {
		w[i] = [2]string{string(latin1(f[0])), string(latin1(f[1]))}
	}
	if fmt.Sprintf("%q", g) != fmt.Sprintf("%q", w) {
		return fmt.Errorf("%s %q, want %q", what, g, w)
	}
	return nil
}

// latin1 turns a corpus string back into wire bytes: each rune is a byte.
func latin1(s string) []byte {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		b = append(b, byte(r))
	}
	return b
}

// errorClasses says which outcomes satisfy each gunicorn error class.
var errorClasses = map[string]func(error) bool{
	"InvalidHeader":          isStatus(400),
	"InvalidHeaderName":      isStatus(400),
	"InvalidRequestMethod":   isStatus(400),
	"InvalidRequestLine":     isStatus(400),
	"ObsoleteFolding":        isStatus(400),
	"InvalidChunkSize":       isStatus(400),
	"InvalidChunkExtension":  isStatus(400),
	"InvalidHTTPVersion":     isStatus(400, 505),
	"LimitRequestHeaders":    isStatus(431),
	"LimitRequestLine":       isStatus(414),
	"NoMoreData":             func(err error) bool { return err == ErrTruncated },
	"ChunkMissingTerminator": func(err error) bool { return err == io.ErrUnexpectedEOF || statusOf(err) == 400 },
}

func isStatus(codes ...int) func(error) bool {
	return func(err error) bool {
		s := statusOf(err)
		for _, c := range codes {
			if s == c {
				return true
			}
		}
		return false
	}
}

func runInvalid(t *testing.T, c corpusCase, raw []byte) {
	lim, skip := corpusLimits(c.Config)
	if skip != "" {
		t.Skip(skip)
	}
	match := errorClasses[c.Error]
	if match == nil {
		t.Fatalf("error class %q has no mapping", c.Error)
	}
	for _, feed := range feeds {
		err := drainStream(feed.new(raw, seedOf(string(raw))), &lim)
		if err == nil {
			t.Fatalf("%s: stream accepted, want %s", feed.name, c.Error)
		}
		if !match(err) {
			t.Fatalf("%s: got %v (status %d), want %s", feed.name, err, statusOf(err), c.Error)
		}
	}
}

// drainStream reads requests and bodies until the stream ends cleanly
// (nil) or something fails (that error), as a server would.
func drainStream(br *bufio.Reader, lim *Limits) error {
	var req Request
	cr := NewChunkedReader(br, lim.MaxFieldSize)
	for {
		if err := ReadRequest(br, lim, &req); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		if _, _, err := readBody(br, cr, &req); err != nil {
			return err
		}
		if !req.KeepAlive {
			return nil
		}
	}
}
