"""The prefix cache through `tessera serve`, one process and `mpirun -np 2`: a five-turn chat (each
turn appends the previous answer and a new user message) asked twice per turn, with the cache
(default) and with `use_prefix_cache: false` (computes the whole prompt). The two must agree
exactly: the same tokens and bit-identical top logprobs (log-softmax of the full logits, printed
with round-trip precision), greedy and with seeded sampling. From turn 2 on, the cached request
must report usage.prompt_tokens_details.cached_tokens > 0 (a multiple of 64), streaming too, and
/metrics must count the lookups and hits. Under `-np 2` the budget is small enough that snapshots
are evicted (dropped on both ranks) along the way, and results stay identical."""
import json
import os
import re

from tessera_testlib import CHAT_USER_TURNS, TOKENIZERS, Checks, http_call, make_checkpoint, start_serve, stop_serve, work_dir

checks = Checks("prefix_cache")
model = make_checkpoint("prefix-qwen3_5_moe", "--family", "qwen3_5_moe", "--seed", "7", "--tokenizer",
                        os.path.join(TOKENIZERS, "qwen3"))

SYSTEM = ("You are a careful assistant. Answer in short sentences, cite the facts you rely on, and say "
          "so when you do not know something. Keep lists to three items and avoid jargon where you can.")


def chat(port, body):
    return json.loads(http_call(port, "POST", "/v1/chat/completions", body))


def stream_usage(port, body):
    """Streams `body`; returns (joined content, the usage chunk's usage)."""
    payload = http_call(port, "POST", "/v1/chat/completions",
                   {**body, "stream": True, "stream_options": {"include_usage": True}})
    text, usage = "", None
    for line in payload.splitlines():
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        chunk = json.loads(line[6:])
        for choice in chunk.get("choices", []):
            text += choice.get("delta", {}).get("content") or ""
        usage = chunk.get("usage") or usage
    return text, usage


def metric(port, name):
    m = re.search(rf"^{name} (\d+)$", http_call(port, "GET", "/metrics"), re.M)
    return int(m.group(1)) if m else None


def conversation(port, where, sampling):
    """Five turns, each asked with and without the cache; returns the number of cached requests."""
    messages = [{"role": "system", "content": SYSTEM}]
    cached_requests = 0
    for turn, user in enumerate(CHAT_USER_TURNS, 1):
        messages.append({"role": "user", "content": user})
        # ignore_eos: every answer has its 12 tokens, so the conversation's length (and with it the
        # snapshots the budget checks below count on) does not hinge on where a random model says EOS.
        body = {"messages": messages, "max_tokens": 12, "ignore_eos": True, "logprobs": True, "top_logprobs": 3,
                **sampling}
        on = chat(port, body)
        off = chat(port, {**body, "use_prefix_cache": False})
        cached_requests += 1
        cached = on["usage"]["prompt_tokens_details"]["cached_tokens"]
        prompt = on["usage"]["prompt_tokens"]
        label = f"{where}, {sampling}, turn {turn} ({prompt} prompt tokens, {cached} cached)"
        checks.check(on["choices"][0]["message"] == off["choices"][0]["message"] and
                     on["choices"][0]["logprobs"] == off["choices"][0]["logprobs"],
                     f"{label}: same tokens and bit-identical logprobs with and without the cache")
        checks.check(off["usage"]["prompt_tokens_details"]["cached_tokens"] == 0, f"{label}: opt-out reports 0 cached")
        if turn >= 2:
            checks.check(0 < cached < prompt and cached % 64 == 0, f"{label}: cached_tokens > 0, whole 64-token blocks")
        messages.append({"role": "assistant", "content": on["choices"][0]["message"]["content"]})
    return messages, cached_requests


def run_mode(where, np_ranks, budget_mb):
    """budget_mb None: the default budget (nothing is evicted here); 1: snapshots (60 KB + 512 B per
    token on this model) overflow it, so the least recently used are dropped on every rank."""
    log = os.path.join(work_dir("prefix_cache"), where.replace(" ", "_") + ".log")
    args = ["--threads", "1", "--ctx-size", "4096"] + (["--prefix-cache-mb", str(budget_mb)] if budget_mb else [])
    proc, port = start_serve(model, args, log, np_ranks)
    try:
        queries = 0
        for sampling in ({"temperature": 0}, {"temperature": 0.9, "top_p": 0.95, "seed": 11}):
            messages, n = conversation(port, where, sampling)
            queries += n
        # Streaming reports the same usage detail; a sixth turn resumes from turn 5's prompt.
        body = {"messages": messages + [{"role": "user", "content": "Thanks!"}], "max_tokens": 8, "temperature": 0}
        text, usage = stream_usage(port, body)
        queries += 1
        plain = chat(port, {**body, "use_prefix_cache": False})
        checks.check(text == plain["choices"][0]["message"]["content"] and
                     usage["prompt_tokens_details"]["cached_tokens"] >= 256,
                     f"{where}: streaming usage chunk reports {usage['prompt_tokens_details']['cached_tokens']} cached "
                     "tokens, same text as uncached")
        hits = metric(port, "tessera_prefix_cache_hits_total")
        checks.check(metric(port, "tessera_prefix_cache_queries_total") == queries and hits is not None and
                     2 * 4 + 1 <= hits <= queries and metric(port, "tessera_prefix_cache_cached_tokens_total") > 0,
                     f"{where}: /metrics counts {queries} lookups (opt-outs excluded) and {hits} hits")
        held, entries = metric(port, "tessera_prefix_cache_bytes"), metric(port, "tessera_prefix_cache_entries")
        if budget_mb:
            checks.check(0 < held <= budget_mb << 20 and 0 < entries < unevicted_entries,
                         f"{where}: the {budget_mb} MiB budget holds {held} bytes in {entries} snapshots "
                         f"(of {unevicted_entries} taken: the rest were evicted)")
        else:
            # Turn 1's own snapshot (system + first user message) is still there for a prompt that
            # needs exactly it.
            first = chat(port, {"messages": [{"role": "system", "content": SYSTEM},
                                             {"role": "user", "content": CHAT_USER_TURNS[0]}], "max_tokens": 1})
            checks.check(first["usage"]["prompt_tokens_details"]["cached_tokens"] == 128,
                         f"{where}: the default budget keeps all {entries} snapshots ({held} bytes)")
            # /bench's prefill speed counts only the tokens computed, not those restored.
            bench = json.loads(http_call(port, "POST", "/bench/chat/completions",
                                         {"messages": [{"role": "system", "content": SYSTEM},
                                                       {"role": "user", "content": CHAT_USER_TURNS[0]}],
                                          "max_tokens": 1}))
            computed = bench["prompt_tokens"] - bench["prompt_cached_tokens"]
            checks.check(bench["prompt_cached_tokens"] == 128 and bench["generation_stats"]["prefix_cache_hit"]
                         and abs(bench["prompt_tps"] - computed / bench["prompt_seconds"]) <= 1e-6 * bench["prompt_tps"],
                         f"{where}: /bench prompt_tps {bench['prompt_tps']:.1f} = {computed} computed tokens / "
                         f"{bench['prompt_seconds']:.4f} s ({bench['prompt_cached_tokens']} restored)")
        return entries
    finally:
        stop_serve(proc)


unevicted_entries = run_mode("one process", 0, None)
run_mode("mpirun -np 2", 2, 1)
checks.done()
