#!/usr/bin/env python3
"""Draws bench/scale-curve.tsv (bench/scale_curve.sh) as an SVG of four panels against cohort
size (log scale): single-variant latency, 1 Mb region latency, index bytes per genotype, and
ingest time as a ratio of `bcftools norm`. Plain SVG, no plotting library needed.

    python3 bench/scale_curve_plot.py TABLE.tsv OUT.svg
"""
import csv
import math
import sys

W, H = 360, 240  # one panel
PAD_L, PAD_R, PAD_T, PAD_B = 56, 16, 34, 40


def panel(x0, y0, title, xs, series, unit):
    """One panel at (x0, y0): series is [(label, colour, values)]."""
    top = max(v for _, _, vals in series for v in vals) * 1.15 or 1
    lx = [math.log10(x) for x in xs]
    lo, hi = min(lx) - 0.1, max(lx) + 0.1
    px = lambda x: x0 + PAD_L + (math.log10(x) - lo) / (hi - lo) * (W - PAD_L - PAD_R)
    py = lambda v: y0 + H - PAD_B - v / top * (H - PAD_T - PAD_B)
    out = [f'<text x="{x0 + W / 2}" y="{y0 + 18}" text-anchor="middle" font-weight="bold">{title}</text>']
    out.append(f'<line x1="{x0 + PAD_L}" y1="{py(0)}" x2="{x0 + W - PAD_R}" y2="{py(0)}" stroke="#444"/>')
    out.append(f'<line x1="{x0 + PAD_L}" y1="{py(0)}" x2="{x0 + PAD_L}" y2="{y0 + PAD_T}" stroke="#444"/>')
    for i in range(5):
        v = top * i / 4
        out.append(f'<text x="{x0 + PAD_L - 4}" y="{py(v) + 4}" text-anchor="end" font-size="10">{v:.3g}</text>')
        out.append(f'<line x1="{x0 + PAD_L}" y1="{py(v)}" x2="{x0 + W - PAD_R}" y2="{py(v)}" stroke="#ddd"/>')
    for x in xs:
        out.append(f'<text x="{px(x)}" y="{py(0) + 14}" text-anchor="middle" font-size="10">{x:,}</text>')
    out.append(f'<text x="{x0 + W / 2}" y="{y0 + H - 8}" text-anchor="middle" font-size="10">samples (log scale); {unit}</text>')
    for k, (label, colour, vals) in enumerate(series):
        points = " ".join(f"{px(x):.1f},{py(v):.1f}" for x, v in zip(xs, vals))
        out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, v in zip(xs, vals):
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(v):.1f}" r="3" fill="{colour}"/>')
            out.append(f'<text x="{px(x) + 4:.1f}" y="{py(v) - 5:.1f}" font-size="9" fill="{colour}">{v:.3g}</text>')
        out.append(f'<text x="{x0 + PAD_L + 8}" y="{y0 + PAD_T + 12 + 12 * k}" font-size="10" fill="{colour}">{label}</text>')
    return out


def main(table, svg):
    rows = list(csv.DictReader(open(table), delimiter="\t"))
    xs = [int(r["samples"]) for r in rows]
    col = lambda name: [float(r[name]) for r in rows]
    parts = []
    parts += panel(0, 0, "Single-variant count (in process)", xs,
                   [("p50", "#1f77b4", col("single_p50_us")), ("p99", "#d62728", col("single_p99_us"))], "µs")
    parts += panel(W, 0, "1 Mb region count (in process)", xs,
                   [("p50", "#1f77b4", col("region_p50_ms")), ("p99", "#d62728", col("region_p99_ms"))], "ms")
    parts += panel(0, H, "Index bytes per genotype", xs,
                   [("node.db / (variants × samples)", "#2ca02c", col("bytes_per_genotype"))], "bytes")
    parts += panel(W, H, "Ingest wall time / bcftools norm", xs,
                   [("ratio (target ≤ 0.25)", "#9467bd", col("ingest_ratio"))], "ratio")
    with open(svg, "w") as f:
        f.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * W}" height="{2 * H}" '
                f'font-family="sans-serif" font-size="12">\n<rect width="100%" height="100%" fill="white"/>\n')
        f.write("\n".join(parts))
        f.write("\n</svg>\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
