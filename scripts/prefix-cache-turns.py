#!/usr/bin/env python3
"""Prompt tokens processed per turn of an agent-style conversation, with the prefix cache on and off.

Starts `lightseek serve` twice (with the cache, then with --no-cache) on the same model, plays the
same conversation against each (a system prompt with tools, then turns of: model reply, a tool
result of about 100 tokens sent back as the next user message), and records per turn the prompt
size, the tokens reused from the cache and the seconds the turn took. Writes JSON and an SVG chart.

  scripts/prefix-cache-turns.py --lightseek build/release/src/lightseek -- -m models/flash-slice-4x32 \
      --tokenizer tests/fixtures/tokenizer/deepseek-v3/tokenizer.json --numerics exact
"""
import argparse
import json
import socket
import subprocess
import sys
import time
import urllib.request

SYSTEM = ("You are a coding agent. Use the tools to inspect the repository, then answer briefly. "
          "Think before each call; never invent file contents.")
TOOLS = [{"type": "function", "function": {
    "name": "read_file", "description": "Read a file of the repository",
    "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}}}]


def tool_result(turn):
    lines = [f"{turn * 10 + i}: def function_{turn}_{i}(value): return value * {i} + {turn}" for i in range(8)]
    return "Tool result for read_file(src/module_%d.py):\n%s" % (turn, "\n".join(lines))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(port, body):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/chat/completions", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=3600) as response:
        return json.loads(response.read())


def play(lightseek, serve_args, cache, turns, max_tokens):
    port = free_port()
    command = [lightseek, "serve", "--port", str(port)] + serve_args + ([] if cache else ["--no-cache"])
    server = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        for line in server.stderr:  # wait until it listens
            if " on http://" in line:
                break
        else:
            sys.exit("lightseek serve exited before listening")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=60) as response:
            model = json.loads(response.read())["data"][0]["id"]
        messages = [{"role": "system", "content": SYSTEM},
                    {"role": "user", "content": "Find where the value is scaled and explain it."}]
        rows = []
        for turn in range(1, turns + 1):
            started = time.monotonic()
            body = post(port, {"model": model, "messages": messages, "tools": TOOLS, "max_tokens": max_tokens,
                               "temperature": 0, "thinking": {"type": "disabled"}})
            seconds = time.monotonic() - started
            usage = body["usage"]
            cached = usage.get("prompt_tokens_details", {}).get("cached_tokens", 0)
            rows.append({"turn": turn, "prompt_tokens": usage["prompt_tokens"], "cached_tokens": cached,
                         "processed_tokens": usage["prompt_tokens"] - cached, "seconds": round(seconds, 3)})
            print(f"{'cache' if cache else 'no cache'} turn {turn}: prompt {usage['prompt_tokens']}, "
                  f"reused {cached}, processed {usage['prompt_tokens'] - cached}, {seconds:.1f} s", file=sys.stderr)
            messages.append({"role": "assistant", "content": body["choices"][0]["message"].get("content") or ""})
            messages.append({"role": "user", "content": tool_result(turn)})
        return rows
    finally:
        server.terminate()
        server.wait(timeout=60)


def svg_chart(result, path):
    width, height, left, bottom, top, right = 640, 360, 60, 50, 30, 20
    turns = [row["turn"] for row in result["with_cache"]]
    series = [("prompt size", [r["prompt_tokens"] for r in result["with_cache"]], "#999999")]
    if result["without_cache"] is not None:
        series.append(("processed, cache off", [r["processed_tokens"] for r in result["without_cache"]], "#d95f02"))
    series.append(("processed, cache on", [r["processed_tokens"] for r in result["with_cache"]], "#1b9e77"))
    y_max = max(max(values) for _, values, _ in series) * 1.1
    x = lambda t: left + (t - 1) / max(1, len(turns) - 1) * (width - left - right)
    y = lambda v: height - bottom - v / y_max * (height - bottom - top)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
           f'font-size="12"><rect width="100%" height="100%" fill="white"/>',
           f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="14">Prompt tokens processed per turn '
           f'({result["model"]})</text>',
           f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="black"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="black"/>']
    for t in turns:
        out.append(f'<text x="{x(t):.1f}" y="{height - bottom + 16}" text-anchor="middle">{t}</text>')
    out.append(f'<text x="{width / 2}" y="{height - 12}" text-anchor="middle">turn</text>')
    for i in range(6):
        v = y_max * i / 5
        out.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.0f}</text>')
        out.append(f'<line x1="{left}" y1="{y(v):.1f}" x2="{width - right}" y2="{y(v):.1f}" stroke="#eeeeee"/>')
    for index, (name, values, color) in enumerate(series):
        points = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in zip(turns, values))
        out.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"/>')
        for t, v in zip(turns, values):
            out.append(f'<circle cx="{x(t):.1f}" cy="{y(v):.1f}" r="3" fill="{color}"/>')
        out.append(f'<rect x="{left + 12}" y="{top + 8 + index * 18}" width="12" height="3" fill="{color}"/>'
                   f'<text x="{left + 30}" y="{top + 13 + index * 18}">{name}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lightseek", default="build/release/src/lightseek")
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--max-tokens", type=int, default=24)
    parser.add_argument("--model-name", default="built-in model", help="for the chart's title")
    parser.add_argument("--json", default="prefix-cache-turns.json")
    parser.add_argument("--svg", default="prefix-cache-turns.svg")
    parser.add_argument("--cache-only", action="store_true",
                        help="skip the run without the cache (it processes every prompt token: the prompt size)")
    parser.add_argument("serve_args", nargs=argparse.REMAINDER, help="after --: arguments for lightseek serve")
    args = parser.parse_args()
    serve_args = [a for a in args.serve_args if a != "--"]
    result = {"model": args.model_name, "serve_args": serve_args, "turns": args.turns, "max_tokens": args.max_tokens,
              "with_cache": play(args.lightseek, serve_args, True, args.turns, args.max_tokens),
              "without_cache": None if args.cache_only else play(args.lightseek, serve_args, False, args.turns,
                                                                                 args.max_tokens)}
    same = result["without_cache"] is None or all(
        a["prompt_tokens"] == b["prompt_tokens"] for a, b in zip(result["with_cache"], result["without_cache"]))
    result["same_prompts"] = same
    with open(args.json, "w") as f:
        json.dump(result, f, indent=1)
    svg_chart(result, args.svg)
    if result["without_cache"] is None:
        print("| turn | prompt | processed, cache on | s, cache on |")
        print("|---:|---:|---:|---:|")
        for on in result["with_cache"]:
            print(f"| {on['turn']} | {on['prompt_tokens']} | {on['processed_tokens']} | {on['seconds']} |")
    else:
        print("| turn | prompt | processed, cache off | processed, cache on | s, off | s, on |")
        print("|---:|---:|---:|---:|---:|---:|")
        for on, off in zip(result["with_cache"], result["without_cache"]):
            print(f"| {on['turn']} | {on['prompt_tokens']} | {off['processed_tokens']} | {on['processed_tokens']} | "
                  f"{off['seconds']} | {on['seconds']} |")
    if not same:
        print("warning: the two runs' prompts differ (the replies differ with the cache on and off)", file=sys.stderr)


if __name__ == "__main__":
    main()
