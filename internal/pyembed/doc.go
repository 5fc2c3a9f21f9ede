// Package pyembed owns the embedded CPython interpreter: start-up, loading
// the WSGI app, the pool of Python threads, and the C bridge that turns a
// request packed by Go into an environ and the app's output back into
// bytes for Go. It is the only package that imports "C".
package pyembed
