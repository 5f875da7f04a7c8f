#!/usr/bin/env python3
"""Load test for `lightseek serve`: N concurrent streaming chat clients for a fixed time.

Each client loops: POST /v1/chat/completions with stream=true and include_usage, reads the SSE
stream to its end, and records the time to the first delta, the completion tokens (from the
usage chunk) and the total latency. A 429 is counted and retried after its Retry-After; a 5xx,
a dropped connection or a stream without [DONE] counts as a failure (exit status 1).
Standard library only, so it runs wherever Python 3 does.

  scripts/load-test.py --url http://127.0.0.1:8080 --streams 32 --seconds 60 [--json out.json]
"""
import argparse
import http.client
import json
import statistics
import sys
import threading
import time
import urllib.parse


def one_request(url, api_key, model, max_tokens, prompt):
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=600)
    body = json.dumps({
        "model": model,
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": max_tokens,
        "stream": True,
        "stream_options": {"include_usage": True},
    })
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = "Bearer " + api_key
    start = time.monotonic()
    connection.request("POST", "/v1/chat/completions", body, headers)
    response = connection.getresponse()
    if response.status != 200:
        retry = response.getheader("Retry-After")
        response.read()
        connection.close()
        return {"status": response.status, "retry_after": float(retry) if retry else None}
    first_delta = None
    completion_tokens = 0
    done = False
    for raw in response:
        line = raw.decode("utf-8").strip()
        if not line.startswith("data: "):
            continue
        data = line[len("data: "):]
        if data == "[DONE]":
            done = True
            break
        chunk = json.loads(data)
        for choice in chunk.get("choices", []):
            delta = choice.get("delta", {})
            if first_delta is None and (delta.get("content") or delta.get("reasoning_content")):
                first_delta = time.monotonic() - start
        if chunk.get("usage"):
            completion_tokens = chunk["usage"]["completion_tokens"]
    connection.close()
    return {"status": 200, "ttft": first_delta, "tokens": completion_tokens, "seconds": time.monotonic() - start,
            "complete": done}


def percentile(values, fraction):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--api-key")
    parser.add_argument("--model", default="lightseek-builtin")
    parser.add_argument("--streams", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    results, errors, lock = [], [], threading.Lock()
    rejected, server_errors = [0], [0]
    deadline = time.monotonic() + args.seconds

    def client(index):
        n = 0
        while time.monotonic() < deadline:
            prompt = f"Client {index}, request {n}: tell me something about the number {index * 1000 + n}."
            n += 1
            try:
                result = one_request(args.url, args.api_key, args.model, args.max_tokens, prompt)
            except Exception as error:  # a dropped connection is a result, not a crash of the test
                with lock:
                    errors.append(repr(error))
                continue
            with lock:
                if result["status"] == 429:
                    rejected[0] += 1
                elif result["status"] != 200:
                    errors.append(f"HTTP {result['status']}")
                    if result["status"] >= 500:
                        server_errors[0] += 1
                else:
                    results.append(result)
            if result["status"] == 429:
                time.sleep(result["retry_after"] or 0.2)

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.streams)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started

    ttfts = [r["ttft"] for r in results if r["ttft"] is not None]
    latencies = [r["seconds"] for r in results]
    per_stream = [r["tokens"] / r["seconds"] for r in results if r["seconds"] > 0]
    tokens = sum(r["tokens"] for r in results)
    summary = {
        "streams": args.streams,
        "seconds": elapsed,
        "requests_completed": len(results),
        "requests_incomplete_streams": sum(1 for r in results if not r["complete"]),
        "rejected_429": rejected[0],
        "errors_5xx": server_errors[0],
        "errors": len(errors),
        "completion_tokens": tokens,
        "aggregate_tok_s": tokens / elapsed if elapsed > 0 else 0.0,
        "ttft_p50_s": percentile(ttfts, 0.5),
        "ttft_p95_s": percentile(ttfts, 0.95),
        "ttft_p99_s": percentile(ttfts, 0.99),
        "latency_p50_s": percentile(latencies, 0.5),
        "latency_p99_s": percentile(latencies, 0.99),
        "per_request_tok_s_median": statistics.median(per_stream) if per_stream else 0.0,
    }
    print(f"{args.streams} streams for {elapsed:.1f} s against {args.url}")
    print("| completed | dropped streams | 429 | 5xx | other errors | tokens | aggregate tok/s "
          "| latency p50 | latency p99 | TTFT p50 | TTFT p99 |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {summary['requests_completed']} | {summary['requests_incomplete_streams']} | {summary['rejected_429']} "
          f"| {summary['errors_5xx']} | {summary['errors'] - summary['errors_5xx']} | {tokens} "
          f"| {summary['aggregate_tok_s']:.1f} | {summary['latency_p50_s']:.2f} s | {summary['latency_p99_s']:.2f} s "
          f"| {summary['ttft_p50_s']:.2f} s | {summary['ttft_p99_s']:.2f} s |")
    for error in errors[:5]:
        print("error:", error, file=sys.stderr)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(summary, out, indent=2)
    return 1 if errors or summary["requests_incomplete_streams"] else 0


if __name__ == "__main__":
    sys.exit(main())
