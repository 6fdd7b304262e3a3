package bench

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
)

// Chart geometry and colours.
const (
	chartW, chartH = 960, 420
	panelW         = chartW / 2
	margin         = 40
)

var (
	white   = color.RGBA{255, 255, 255, 255}
	ink     = color.RGBA{40, 40, 40, 255}
	grey    = color.RGBA{200, 200, 200, 255}
	blue    = color.RGBA{50, 110, 200, 255}
	orange  = color.RGBA{230, 130, 30, 255}
	red     = color.RGBA{200, 40, 40, 255}
	green   = color.RGBA{40, 150, 70, 255}
	rateSet = map[string]bool{"req/s": true, "ev/s": true, "del/s": true, "rec/s": true}
)

// WriteChart writes a PNG of r: on the left each throughput figure as a
// share of its reference, on the right the end-to-end latency (p50 and
// p99) of each rate step against the 100 ms bound.
func WriteChart(path string, r *Report) error {
	img := image.NewRGBA(image.Rect(0, 0, chartW, chartH))
	fill(img, 0, 0, chartW, chartH, white)
	drawThroughput(img, r.Figures)
	drawLatency(img, r.Latency)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create chart dir: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create chart: %w", err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		return fmt.Errorf("encode chart: %w", err)
	}
	return f.Close()
}

// drawThroughput draws one bar per figure with a rate reference: the
// bar is the figure's share of its reference, grey behind it is 100%.
func drawThroughput(img *image.RGBA, figs []Figure) {
	drawText(img, margin, 12, 2, ink, "throughput / same-run reference")
	y := 44
	for _, f := range figs {
		if f.Missing || f.Reference == 0 || !rateSet[f.Unit] || y > chartH-40 {
			continue
		}
		drawText(img, margin, y, 1, ink, f.Name+"  "+num(f.Value)+" "+f.Unit)
		barW := panelW - 2*margin
		fill(img, margin, y+8, barW, 12, grey)
		share := min(f.Ratio(), 1.5)
		c := blue
		if ok, has := f.Met(); has && !ok {
			c = red
		}
		fill(img, margin, y+8, int(float64(barW)*share/1.5), 12, c)
		mark := margin + barW*2/3 // 100% of the reference
		fill(img, mark, y+6, 1, 16, ink)
		drawText(img, margin+barW-textWidth("0.00", 1), y, 1, ink,
			fmt.Sprintf("%.2f", f.Ratio()))
		y += 34
	}
	drawText(img, margin, chartH-16, 1, ink, "tick = 1.00 x reference, bars to 1.5")
}

// drawLatency plots p50 and p99 per rate step on a linear scale capped
// at 4x the 100 ms bound.
func drawLatency(img *image.RGBA, steps []LatencyStep) {
	x0, y0 := panelW+margin, chartH-margin
	w, h := panelW-2*margin, chartH-2*margin-20
	drawText(img, x0, 12, 2, ink, "e2e latency ms by rate")
	fill(img, x0, y0, w, 1, ink)
	fill(img, x0, y0-h, 1, h, ink)
	top := 4 * float64(p99Limit.Milliseconds())
	yOf := func(ms float64) int { return y0 - int(float64(h)*min(ms, top)/top) }
	fill(img, x0, yOf(100), w, 1, red)
	drawText(img, x0+w-textWidth("100 ms", 1), yOf(100)-8, 1, red, "100 ms")
	drawText(img, x0-textWidth("400", 1)-4, y0-h, 1, ink, "400")
	if len(steps) == 0 {
		drawText(img, x0+10, y0-h/2, 2, ink, "no latency steps")
		return
	}
	dx := w / (len(steps) + 1)
	for i, s := range steps {
		x := x0 + dx*(i+1)
		fill(img, x-3, yOf(s.P50)-3, 6, 6, green)
		fill(img, x-3, yOf(s.P99)-3, 6, 6, orange)
		fill(img, x, yOf(s.P99), 1, yOf(s.P50)-yOf(s.P99), grey)
		label := num(float64(s.Rate))
		drawText(img, x-textWidth(label, 1)/2, y0+6, 1, ink, label)
		drawText(img, x+6, yOf(s.P99)-3, 1, orange, num(s.P99))
	}
	drawText(img, x0, chartH-16, 1, green, "p50")
	drawText(img, x0+30, chartH-16, 1, orange, "p99")
	drawText(img, x0+60, chartH-16, 1, ink, "x: offered ev/s")
}
