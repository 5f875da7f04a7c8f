#!/usr/bin/env python3
"""Draws `lightseek bench --json` results as one SVG: decode tok/s against context (with the
roofline % of each point) and prefill tok/s at context, one line per JSON file (e.g. a 1-thread
and a 2-thread run). With `--repetitions`, each point is the median run and a whisker spans the
runs. `--markdown` prints the same numbers as tables for docs/performance.md.

Standard library only: the machines that run the bench often cannot reach PyPI for matplotlib.

    scripts/plot-bench.py bench-1t.json bench-2t.json -o bench.svg [--markdown]
"""
import argparse
import json
import math
import sys
from pathlib import Path
from xml.sax.saxutils import escape

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]
PANEL_W, PANEL_H, MARGIN_L, MARGIN_B, MARGIN_T = 440, 300, 70, 50, 60


def load_runs(paths):
    runs = []
    for path in paths:
        data = json.loads(Path(path).read_text())
        threads = data.get("threads", 0)
        label = f"{threads} thread{'' if threads == 1 else 's'}"
        runs.append({"label": label, "stem": Path(path).stem, "data": data,
                     "decode": [(d["context"], d["tok_s"], d.get("roofline_fraction", 0), run_range(d))
                                for d in data.get("decode", [])],
                     "prefill": [(p["context"], p["tok_s"], None, run_range(p)) for p in data.get("prefill_sweep", [])]})
    labels = [run["label"] for run in runs]
    for run in runs:  # several runs of one thread count: tell every one of them apart by its file
        if labels.count(run["label"]) > 1:
            run["label"] += f" ({run['stem']})"
    return runs


def run_range(measurement):
    """(slowest, fastest) tok/s of a measurement's repeated runs (`--repetitions`), or None."""
    speeds = measurement.get("runs_tok_s") or []
    return (min(speeds), max(speeds)) if len(speeds) > 1 else None


def context_label(tokens):
    return f"{tokens // 1024}K" if tokens >= 1024 and tokens % 1024 == 0 else str(tokens)


def nice_ticks(top):
    """0 and steps of 1, 2 or 5 × 10^k up to at least `top`, about five of them."""
    if top <= 0:
        return [0, 1]
    raw = top / 5
    step = min((m * 10 ** math.floor(math.log10(raw)) for m in (1, 2, 5, 10)), key=lambda s: abs(s - raw))
    return [i * step for i in range(int(math.ceil(top / step)) + 1)]


def number_label(value):
    return f"{value:g}" if value < 1e4 else f"{value / 1e3:g}k"


def panel(x0, title, series_key, runs, annotate_roofline):
    """One chart at horizontal offset x0: log2 context axis, linear tok/s axis."""
    left, top, bottom = x0 + MARGIN_L, MARGIN_T, MARGIN_T + PANEL_H
    right = x0 + PANEL_W - 10
    out = [f'<text x="{(left + right) / 2}" y="{MARGIN_T - 15}" text-anchor="middle" font-size="14">{escape(title)}</text>']
    points = [p for run in runs for p in run[series_key]]
    if not points:
        return out + [f'<text x="{(left + right) / 2}" y="{(top + bottom) / 2}" text-anchor="middle">no data</text>']
    contexts = sorted({p[0] for p in points})
    lo, hi = math.log2(contexts[0]), math.log2(contexts[-1])
    span = hi - lo or 1.0
    y_ticks = nice_ticks(max(p[3][1] if p[3] else p[1] for p in points) * 1.1)
    top_value = {c: max(p[1] for p in points if p[0] == c) for c in contexts}

    def sx(context):
        return left + 20 + (math.log2(context) - lo) / span * (right - left - 40) if hi > lo else (left + right) / 2

    def sy(value):
        return bottom - value / y_ticks[-1] * (bottom - top)

    out.append(f'<path d="M{left},{top} V{bottom} H{right}" stroke="black" fill="none"/>')
    for tick in y_ticks:
        y = sy(tick)
        out.append(f'<line x1="{left - 4}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{number_label(tick)}</text>')
    for context in contexts:
        x = sx(context)
        out.append(f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 4}" stroke="black"/>')
        out.append(f'<text x="{x:.1f}" y="{bottom + 18}" text-anchor="middle" font-size="11">{context_label(context)}</text>')
    out.append(f'<text x="{(left + right) / 2}" y="{bottom + 38}" text-anchor="middle" font-size="12">'
               'context (tokens, log scale)</text>')
    out.append(f'<text transform="translate({x0 + 18},{(top + bottom) / 2}) rotate(-90)" text-anchor="middle" '
               'font-size="12">tokens/s</text>')
    for index, run in enumerate(runs):
        colour = COLOURS[index % len(COLOURS)]
        series = sorted(run[series_key])
        if not series:
            continue
        coords = " ".join(f"{sx(c):.1f},{sy(v):.1f}" for c, v, _, _ in series)
        out.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for context, value, roofline, spread in series:
            x, y = sx(context), sy(value)
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')
            if spread:  # the repeated runs' range: the point is their median
                low, high = sy(spread[0]), sy(spread[1])
                out.append(f'<path class="range" d="M{x - 3:.1f},{low:.1f} H{x + 3:.1f} M{x:.1f},{low:.1f} '
                           f'V{high:.1f} M{x - 3:.1f},{high:.1f} H{x + 3:.1f}" stroke="{colour}" fill="none"/>')
            if annotate_roofline and roofline is not None:
                # The top line at a context is labelled above its point, the others below: labels
                # of close lines then sit on their own sides instead of on top of each other.
                label_y = y - 6 if value >= top_value[context] else y + 14
                out.append(f'<text x="{x + 5:.1f}" y="{label_y:.1f}" font-size="10" fill="{colour}">'
                           f'{100 * roofline:.1f}%</text>')
    return out


def legend(x, y, runs):
    out = []
    for index, run in enumerate(runs):
        colour, row = COLOURS[index % len(COLOURS)], y + 18 * index
        out.append(f'<line x1="{x}" y1="{row}" x2="{x + 24}" y2="{row}" stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{x + 30}" y="{row + 4}" font-size="12">{escape(run["label"])}</text>')
    return out


def svg(runs):
    models = sorted({run["data"].get("model", "?") for run in runs})
    numerics = sorted({run["data"].get("numerics", "?") for run in runs})
    title = f"lightseek bench: {', '.join(models)} (numerics {', '.join(numerics)})"
    width, height = 2 * PANEL_W + 20, MARGIN_T + PANEL_H + MARGIN_B + 30 + 18 * len(runs)
    body = [f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="16" font-weight="bold">{escape(title)}</text>']
    body += panel(0, "decode (labels: % of memory roofline)", "decode", runs, True)
    body += panel(PANEL_W + 20, "prefill of a chunk at context", "prefill", runs, False)
    body += legend(MARGIN_L, MARGIN_T + PANEL_H + MARGIN_B + 10, runs)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif">\n'
            f'<rect width="{width}" height="{height}" fill="white"/>\n' + "\n".join(body) + "\n</svg>\n")


def markdown_table(runs, series_key, heading, cell):
    contexts = sorted({p[0] for run in runs for p in run[series_key]})
    if not contexts:
        return ""
    lines = [f"**{heading}**", "", "| context | " + " | ".join(run["label"] for run in runs) + " |",
             "|---:|" + "---:|" * len(runs)]
    for context in contexts:
        cells = []
        for run in runs:
            found = [p for p in run[series_key] if p[0] == context]
            cells.append(cell(found[0]) if found else "")
        lines.append(f"| {context_label(context)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", help="JSON files from `lightseek bench --json`")
    parser.add_argument("-o", "--output", help="SVG file to write")
    parser.add_argument("--markdown", action="store_true", help="print markdown tables to stdout")
    args = parser.parse_args()
    if not args.output and not args.markdown:
        parser.error("nothing to do: give -o FILE.svg and/or --markdown")
    try:
        runs = load_runs(args.files)
    except (OSError, ValueError, KeyError, TypeError) as error:
        sys.exit(f"plot-bench: cannot read the bench results: {error}")
    if args.output:
        Path(args.output).write_text(svg(runs))
    if args.markdown:
        print(markdown_table(runs, "decode", "decode tok/s (roofline %; range of repeated runs)",
                             lambda p: f"{p[1]:.2f} ({100 * p[2]:.1f}%)" + range_text(p[3], 2)))
        print(markdown_table(runs, "prefill", "prefill tok/s at context (range of repeated runs)",
                             lambda p: f"{p[1]:.1f}" + range_text(p[3], 1)))


def range_text(spread, decimals):
    return f" [{spread[0]:.{decimals}f}–{spread[1]:.{decimals}f}]" if spread else ""


if __name__ == "__main__":
    main()
