#!/usr/bin/python3
"""Time to first token of turn 5 of a chat, with and without the prefix cache.

  /usr/bin/python3 bench/prefix_cache_ttft.py --model DIR [--np 2] [--repeats 3] [--answer-tokens 40]

Each repetition is a fresh conversation (its system message names the repetition, so it shares no
prefix with the others): turns 1-4 each append a user message and the model's answer
(--answer-tokens, EOS ignored) through the cache, then turn 5's prompt is asked for one token
without the cache (`use_prefix_cache: false`) and with it. The time is the client's wall time of
that one-token request, so it includes HTTP and template rendering (milliseconds). Prints the
median of each and the prompt/cached token counts."""
import argparse
import os
import statistics
import sys
import tempfile
import time
import json

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from tessera_testlib import CHAT_USER_TURNS, http_call, start_serve, stop_serve  # noqa: E402


def chat(port, body):
    return json.loads(http_call(port, "POST", "/v1/chat/completions", body))


def one_conversation(port, rep, answer_tokens):
    messages = [{"role": "system", "content": f"Conversation {rep}. You are a careful assistant; answer briefly "
                                              "and say so when you do not know something."}]
    for user in CHAT_USER_TURNS[:-1]:
        messages.append({"role": "user", "content": user})
        out = chat(port, {"messages": messages, "max_tokens": answer_tokens, "ignore_eos": True, "temperature": 0})
        messages.append({"role": "assistant", "content": out["choices"][0]["message"]["content"]})
    messages.append({"role": "user", "content": CHAT_USER_TURNS[-1]})
    timed = {}
    for name, use in (("off", False), ("on", True)):
        t0 = time.perf_counter()
        out = chat(port, {"messages": messages, "max_tokens": 1, "temperature": 0, "use_prefix_cache": use})
        timed[name] = time.perf_counter() - t0
        timed["prompt"] = out["usage"]["prompt_tokens"]
        timed["cached_" + name] = out["usage"]["prompt_tokens_details"]["cached_tokens"]
    return timed


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--np", type=int, default=0, help="mpirun ranks (0: one process)")
    ap.add_argument("--threads", type=int, default=0, help="threads per rank (0: tessera's default)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--answer-tokens", type=int, default=40)
    args = ap.parse_args()
    serve_args = ["--ctx-size", "8192"] + (["--threads", str(args.threads)] if args.threads else [])
    log = os.path.join(tempfile.gettempdir(), "prefix_cache_ttft_serve.log")
    proc, port = start_serve(args.model, serve_args, log, args.np, timeout=1800)
    try:
        runs = [one_conversation(port, rep, args.answer_tokens) for rep in range(args.repeats)]
    finally:
        stop_serve(proc)
    off = statistics.median(r["off"] for r in runs)
    on = statistics.median(r["on"] for r in runs)
    print(json.dumps({"turn5_prompt_tokens": [r["prompt"] for r in runs],
                      "cached_tokens": [r["cached_on"] for r in runs],
                      "ttft_without_cache_s": round(off, 4), "ttft_with_cache_s": round(on, 4),
                      "speedup": round(off / on, 2), "runs": runs}))


if __name__ == "__main__":
    main()
