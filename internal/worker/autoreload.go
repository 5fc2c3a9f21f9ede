package worker

import (
	"errors"
	"os"
	"slices"
	"strconv"
	"time"

	"carafe/internal/control"
	"carafe/internal/pyembed"
)

// autoReload is --py-autoreload: every AutoReload it lists the files of
// the modules the app has imported (holding the GIL only for that) and
// reads their modification times (without it); when one differs from
// what the last look saw, the worker tells the master, which reloads.
// Files that appear later (modules imported since) are first seen then,
// as uWSGI's reloader sees them. It goes on looking after it told: a
// reload whose new code does not import leaves this worker serving, and
// the next change (the fix) must reload again.
func (w *worker) autoReload() {
	seen := map[string]time.Time{}
	for first := true; ; first = false {
		if !first {
			time.Sleep(w.o.AutoReload)
		}
		mods, err := w.ip.ModuleFiles()
		if errors.Is(err, pyembed.ErrShutDown) {
			return
		}
		if err != nil { // out of memory: try again next time
			w.o.Log.Warn("carafe: py-autoreload: " + err.Error())
			continue
		}
		for _, m := range mods {
			if slices.Contains(w.o.AutoReloadIgnore, m.Module) {
				continue
			}
			fi, err := os.Stat(m.Path)
			if err != nil {
				continue // not a file (a zip import), or gone
			}
			mt, ok := seen[m.Path]
			if !ok {
				seen[m.Path] = fi.ModTime()
				continue
			}
			if !fi.ModTime().Equal(mt) {
				seen[m.Path] = fi.ModTime()
				stamp := strconv.FormatInt(fi.ModTime().UnixNano(), 10)
				w.ctl.Send(control.Msg{T: control.Changed, Text: m.Path + "\x00" + stamp})
			}
		}
	}
}
