# bench/plot.awk: draw a CSV of series as an SVG line plot.
#
#   awk -F, -v title=T -v xlabel=X -v ylabel=Y [-v logx=1] [-v logy=1]
#       [-v sub_title=S] -f bench/plot.awk SERIES.csv >SERIES.svg
#
# The CSV's first column is x; every other column is one series, named by
# the header line. An empty cell is a point that was not measured; a line
# joins the measured points. A series whose name contains
# "limit" (a physical limit) is drawn dashed. Axes get round ticks (powers
# of ten and their 2 and 5 multiples on a log axis), a label each, and
# a legend to the right of the plot.

function fmt(v,    a) {
	a = v < 0 ? -v : v
	if (a >= 1e9) return sprintf("%gG", v / 1e9)
	if (a >= 1e6) return sprintf("%gM", v / 1e6)
	if (a >= 1e4) return sprintf("%gk", v / 1e3)
	return sprintf("%g", v)
}

function esc(s) {
	gsub(/&/, "\\&amp;", s)
	gsub(/</, "\\&lt;", s)
	gsub(/>/, "\\&gt;", s)
	return s
}

function tr(v, lg) { return lg ? log(v) / log(10) : v }

function px(v) { return L + (tr(v, logx) - x0) / (x1 - x0) * W }
function py(v) { return T + H - (tr(v, logy) - y0) / (y1 - y0) * H }

# ticks(lo, hi, lg, out): fill out[1..n] with tick values, return n.
function ticks(lo, hi, lg, out,    n, e, m, k, step, v, mult) {
	n = 0
	if (lg) {
		split("1 2 5", mult, " ")
		for (e = int(lo) - 1; e <= int(hi) + 1; e++)
			for (k = 1; k <= 3; k++) {
				v = mult[k] * 10 ^ e
				if (tr(v, 1) >= lo - 1e-9 && tr(v, 1) <= hi + 1e-9)
					out[++n] = v
			}
		if (n > 8) {  # too many: keep the powers of ten
			m = 0
			for (k = 1; k <= n; k++)
				if (substr(sprintf("%e", out[k]), 1, 1) == "1")
					out[++m] = out[k]
			n = m
		}
		return n
	}
	step = 10 ^ int(log((hi - lo) / 5) / log(10) - ((hi - lo) < 5 ? 1 : 0))
	while ((hi - lo) / step > 8)
		step *= (substr(sprintf("%e", step), 1, 1) == "2") ? 2.5 : 2
	for (v = int(lo / step) * step; v <= hi + step * 1e-9; v += step)
		if (v >= lo - step * 1e-9)
			out[++n] = v
	return n
}

NR == 1 {
	ns = NF - 1
	for (i = 2; i <= NF; i++)
		name[i - 1] = $i
	next
}
{
	np++
	xv[np] = $1 + 0
	for (i = 2; i <= NF && i - 1 <= ns; i++)
		if ($i != "" && $i != "nan" && (!logy || $i + 0 > 0)) {
			yv[np, i - 1] = $i + 0
			has[np, i - 1] = 1
		}
}
END {
	WID = 760; HEI = 440; L = 78; T = 48; W = 440; H = 320
	xmin = ymin = 1e300; xmax = ymax = -1e300
	for (p = 1; p <= np; p++) {
		if (!logx || xv[p] > 0) {
			if (xv[p] < xmin) xmin = xv[p]
			if (xv[p] > xmax) xmax = xv[p]
		}
		for (s = 1; s <= ns; s++)
			if (has[p, s]) {
				if (yv[p, s] < ymin) ymin = yv[p, s]
				if (yv[p, s] > ymax) ymax = yv[p, s]
			}
	}
	if (xmin > xmax) { xmin = 0; xmax = 1 }
	if (ymin > ymax) { ymin = logy ? 1 : 0; ymax = 1 }
	if (!logy && ymin > 0) ymin = 0
	x0 = tr(xmin, logx); x1 = tr(xmax, logx)
	y0 = tr(ymin, logy); y1 = tr(ymax, logy)
	if (x1 <= x0) { x0 -= 0.5; x1 += 0.5 }
	if (y1 <= y0) { y0 -= logy ? 0.5 : 1; y1 += logy ? 0.5 : 1 }
	if (logy) { d = (y1 - y0) * 0.05; y0 -= d; y1 += d }
	else y1 += (y1 - y0) * 0.05
	if (!logy && y0 < 0 && ymin >= 0) y0 = 0
	split("#1f77b4 #d62728 #2ca02c #ff7f0e #9467bd #8c564b #e377c2 #17becf #7f7f7f", col, " ")

	printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n", WID, HEI, WID, HEI
	printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
	printf "<text x=\"%d\" y=\"20\" font-size=\"15\" font-weight=\"bold\">%s</text>\n", L, esc(title)
	if (sub_title != "")
		printf "<text x=\"%d\" y=\"36\" fill=\"#666\">%s</text>\n", L, esc(sub_title)

	# grid and ticks
	n = ticks(x0, x1, logx, xt)
	for (k = 1; k <= n; k++) {
		x = px(xt[k])
		printf "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>\n", x, T, x, T + H
		printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", x, T + H + 16, fmt(xt[k])
	}
	n = ticks(y0, y1, logy, yt)
	for (k = 1; k <= n; k++) {
		y = py(yt[k])
		printf "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", L, y, L + W, y
		printf "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", L - 6, y + 4, fmt(yt[k])
	}
	printf "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"black\"/>\n", L, T, W, H
	printf "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s%s</text>\n", L + W / 2, T + H + 40, esc(xlabel), logx ? " (log scale)" : ""
	printf "<text transform=\"translate(18 %d) rotate(-90)\" text-anchor=\"middle\">%s%s</text>\n", T + H / 2, esc(ylabel), logy ? " (log scale)" : ""

	# series
	for (s = 1; s <= ns; s++) {
		c = col[(s - 1) % 9 + 1]
		dash = (name[s] ~ /limit/) ? " stroke-dasharray=\"6 4\"" : ""
		pts = ""
		for (p = 1; p <= np; p++) {
			if (!has[p, s] || (logx && xv[p] <= 0))
				continue
			pts = pts sprintf("%.1f,%.1f ", px(xv[p]), py(yv[p, s]))
		}
		if (pts != "")
			printf "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s/>\n", pts, c, dash
		for (p = 1; p <= np; p++)
			if (has[p, s] && (!logx || xv[p] > 0))
				printf "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>%s: %s, %s</title></circle>\n", px(xv[p]), py(yv[p, s]), c, esc(name[s]), xv[p], yv[p, s]
		ly = T + 10 + (s - 1) * 20
		printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"%s/>\n", L + W + 14, ly, L + W + 40, ly, c, dash
		printf "<text x=\"%d\" y=\"%d\">%s</text>\n", L + W + 46, ly + 4, esc(name[s])
	}
	print "</svg>"
}
