package report

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// palette gives each server a fixed colour; carafe is the strongest.
var palette = map[string]string{
	"carafe":       "#d1495b",
	"carafe-batch": "#e8a0a8",
	"uwsgi":        "#3d5a80",
	"gunicorn":     "#4f9d69",
	"granian":      "#edae49",
	"waitress":     "#8e7dbe",
	"ceiling":      "#9a9a9a",
}

const (
	panelW, panelH = 300, 210
	cols           = 3
	marginTop      = 78
	plotTop        = 42 // inside a panel: title, then value labels
	plotBottom     = 24 // inside a panel: the baseline's margin
)

// SVG draws requests per second as small multiples: one panel a scenario,
// each with its own scale, one bar a server, the value on top of it.
// A server that could not be measured gets a label instead of a bar.
func (r *Results) SVG(w io.Writer) error {
	rows := (len(r.Scenarios) + cols - 1) / cols
	width, height := cols*panelW+20, marginTop+rows*panelH+10
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif">`+"\n", width, height, width, height)
	p(`<rect width="100%%" height="100%%" fill="#ffffff"/>` + "\n")
	title := fmt.Sprintf("Requests per second, median of %d round(s); higher is better", r.Rounds)
	if r.Quick {
		title += " (QUICK MODE: indicative only)"
	}
	p(`<text x="12" y="24" font-size="17" font-weight="bold">%s</text>`+"\n", html.EscapeString(title))
	x := 12
	for _, s := range r.Servers {
		p(`<rect x="%d" y="38" width="14" height="14" fill="%s"/><text x="%d" y="50" font-size="13">%s</text>`+"\n", x, colour(s), x+19, html.EscapeString(s))
		x += 30 + 8*len(s)
	}
	p(`<text x="12" y="68" font-size="11" fill="#555">each panel has its own scale; n/s = not supported yet, n/a = does not take part</text>` + "\n")
	for i := range r.Scenarios {
		r.panel(p, &r.Scenarios[i], 10+(i%cols)*panelW, marginTop+(i/cols)*panelH)
	}
	p("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Results) panel(p func(string, ...any), sc *Scenario, x0, y0 int) {
	p(`<g transform="translate(%d,%d)">`+"\n", x0, y0)
	p(`<text x="8" y="18" font-size="13" font-weight="bold">%s</text>`+"\n", html.EscapeString(sc.Title))
	p(`<text x="8" y="33" font-size="10" fill="#555">%d×%d, %d conns</text>`+"\n", sc.Processes, sc.Threads, sc.Connections)
	var entries []*Entry
	top := 0.0
	for _, s := range r.Servers {
		if e := sc.Entry(s); e != nil {
			entries = append(entries, e)
			if e.Median != nil {
				top = math.Max(top, e.Median.RequestsPerS)
			}
		}
	}
	plotH := float64(panelH - plotTop - plotBottom - 10)
	base := panelH - plotBottom
	p(`<line x1="6" y1="%d" x2="%d" y2="%d" stroke="#333" stroke-width="1"/>`+"\n", base, panelW-12, base)
	if len(entries) == 0 {
		p("</g>\n")
		return
	}
	slot := float64(panelW-24) / float64(len(entries))
	barW := math.Min(slot*0.72, 40)
	for i, e := range entries {
		cx := 10 + slot*(float64(i)+0.5)
		if e.Median == nil {
			label := "n/s"
			if e.Skipped != "" {
				label = "n/a"
			}
			p(`<rect x="%.1f" y="%d" width="%.1f" height="3" fill="%s" opacity="0.5"/>`+"\n", cx-barW/2, base-3, barW, colour(e.Server))
			p(`<text x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="#555">%s</text>`+"\n", cx, base-8, label)
			p(`<text x="%.1f" y="%d" font-size="9" text-anchor="middle" fill="#333">%s</text>`+"\n", cx, base+12, html.EscapeString(e.Server))
			continue
		}
		p(`<text x="%.1f" y="%d" font-size="9" text-anchor="middle" fill="#333">%s</text>`+"\n", cx, base+12, html.EscapeString(e.Server))
		v := e.Median.RequestsPerS
		h := 0.0
		if top > 0 {
			h = v / top * plotH
		}
		p(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %s req/s</title></rect>`+"\n",
			cx-barW/2, float64(base)-h, barW, h, colour(e.Server), html.EscapeString(e.Server), fmtRate(v))
		label := short(v)
		if e.Median.Requests == 0 {
			label = "stalled"
		}
		p(`<text x="%.1f" y="%.1f" font-size="10" text-anchor="middle">%s</text>`+"\n", cx, float64(base)-h-4, label)
	}
	p("</g>\n")
}

func colour(server string) string {
	if c, ok := palette[server]; ok {
		return c
	}
	return "#444444"
}

// short writes a rate in at most four characters and a suffix: 118k, 9.6k,
// 312, 4.2.
func short(v float64) string {
	switch {
	case v >= 100000:
		return fmt.Sprintf("%.0fk", v/1000)
	case v >= 10000:
		return fmt.Sprintf("%.1fk", v/1000)
	case v >= 1000:
		return fmt.Sprintf("%.2fk", v/1000)
	default:
		return fmtRate(v)
	}
}
