package static

import (
	"mime"
	"path"
	"strings"
)

// webTypes pins the types of the files a web app ships, so that they do
// not depend on the host's /etc/mime.types (which, for one, has long
// called .js "application/x-javascript" on some distributions), nor on
// Go's own table where it differs from nginx's and uWSGI's (.webm as
// audio, .ts as a Qt translation file: here an HLS video segment).
var webTypes = map[string]string{
	".eot":         "application/vnd.ms-fontobject",
	".m3u8":        "application/vnd.apple.mpegurl",
	".mp3":         "audio/mpeg",
	".mp4":         "video/mp4",
	".ogg":         "audio/ogg",
	".ts":          "video/mp2t",
	".webm":        "video/webm",
	".avif":        "image/avif",
	".css":         "text/css; charset=utf-8",
	".gif":         "image/gif",
	".htm":         "text/html; charset=utf-8",
	".html":        "text/html; charset=utf-8",
	".ico":         "image/vnd.microsoft.icon",
	".jpeg":        "image/jpeg",
	".jpg":         "image/jpeg",
	".js":          "text/javascript; charset=utf-8",
	".json":        "application/json",
	".map":         "application/json",
	".mjs":         "text/javascript; charset=utf-8",
	".otf":         "font/otf",
	".pdf":         "application/pdf",
	".png":         "image/png",
	".svg":         "image/svg+xml",
	".ttf":         "font/ttf",
	".txt":         "text/plain; charset=utf-8",
	".wasm":        "application/wasm",
	".webmanifest": "application/manifest+json",
	".webp":        "image/webp",
	".woff":        "font/woff",
	".woff2":       "font/woff2",
	".xml":         "text/xml; charset=utf-8",
}

// contentType returns the type for the file name from its extension,
// and for an unknown one application/octet-stream, as nginx's
// default_type: sniffing the bytes instead would let an uploaded
// "avatar.dat" holding HTML be served, and rendered, as text/html.
func contentType(name string) string {
	ext := path.Ext(name)
	if t, ok := webTypes[ext]; ok {
		return t
	}
	if t, ok := webTypes[strings.ToLower(ext)]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}
