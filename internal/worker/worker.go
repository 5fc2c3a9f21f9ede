// Package worker is one carafe worker process: it adopts (or binds) the
// listeners, starts the embedded interpreter with the app, runs the front
// ends on them, and drains on shutdown.
package worker

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"carafe/internal/accesslog"
	"carafe/internal/httpfront"
	"carafe/internal/pyembed"
	"carafe/internal/wsgi"
)

// Options configure a worker. They are plain values; cmd/carafe fills
// them from the configuration.
type Options struct {
	HTTP        []string // addresses to serve HTTP/1.1 on
	Python      pyembed.Options
	AppID       string // how the app is named in messages ("module wsgi:app")
	HTTPOptions httpfront.Options
	// Access enables the access log on Stderr.
	Access bool
	// DrainTimeout bounds a graceful shutdown (SIGTERM).
	DrainTimeout time.Duration
	Stderr       io.Writer
	Log          *slog.Logger
}

// LoadError is returned when the app cannot be imported; its text is the
// one-paragraph explanation with the Python traceback.
type LoadError struct {
	App string
	Err error
}

func (e *LoadError) Error() string {
	var le *pyembed.LoadError
	if errors.As(e.Err, &le) {
		return fmt.Sprintf("carafe: cannot load the app (%s). Python said:\n%s", e.App, le.Traceback)
	}
	return fmt.Sprintf("carafe: cannot start Python for the app (%s): %v", e.App, e.Err)
}

// Run serves until SIGTERM (graceful), SIGINT or SIGQUIT (immediate).
func Run(o Options) error {
	listeners, err := bind(o.HTTP)
	if err != nil {
		return err
	}
	o.Python.Keys = wsgi.Keys
	ip, err := pyembed.Start(o.Python)
	if err != nil {
		closeAll(listeners)
		return &LoadError{App: o.AppID, Err: err}
	}
	hopts := o.HTTPOptions
	hopts.Log = o.Log
	if o.Access {
		hopts.Access = accesslog.New(o.Stderr)
		defer hopts.Access.Flush()
	}
	srv := httpfront.NewServer(ip, hopts)
	o.Log.Info(fmt.Sprintf("carafe: Python %s, app %s, %d thread(s)",
		strings.SplitN(pyembed.Version(), " ", 2)[0], o.AppID, o.Python.Threads))
	errc := make(chan error, len(listeners))
	for _, l := range listeners {
		o.Log.Info("carafe: serving HTTP on http://" + l.Addr().String())
		go func(l net.Listener) { errc <- srv.Serve(l) }(l)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT)
	select {
	case err := <-errc:
		closeAll(listeners)
		return fmt.Errorf("carafe: listener failed: %w", err)
	case sig := <-sigs:
		closeAll(listeners)
		if sig == syscall.SIGTERM {
			o.Log.Info("carafe: SIGTERM, finishing requests in flight", "timeout", o.DrainTimeout)
			srv.Shutdown(o.DrainTimeout)
			ip.Close()
		}
		o.Log.Info("carafe: stopped", "signal", sig.String())
		return nil
	}
}

func bind(addrs []string) ([]net.Listener, error) {
	var ls []net.Listener
	for _, a := range addrs {
		l, err := net.Listen("tcp", a)
		if err != nil {
			closeAll(ls)
			return nil, fmt.Errorf("carafe: cannot listen on %s: %w", a, err)
		}
		ls = append(ls, l)
	}
	return ls, nil
}

func closeAll(ls []net.Listener) {
	for _, l := range ls {
		l.Close()
	}
}
