#!/usr/bin/python3
"""End-to-end tests of `tessera serve` on a tiny random Qwen3.5-MoE checkpoint with a real (truncated)
Qwen3 tokenizer and chat template:

  (a) the official `openai` npm client: non-streaming == streaming == `tessera generate` on the same tokens;
  (b) curl: /health, /v1/models, /metrics, /v1/completions, /bench/chat/completions and the error cases;
  (c) 16 concurrent streaming clients each get exactly the text they get alone (their decode steps
      run as one batch per round, and batched decode is bit-identical to single-sequence decode);
  (d) a client that disconnects mid-stream frees its slot at once and the next request is served promptly;
  (e) the same greedy request under `mpirun -np 2` returns the same text as one process, and
      concurrent streams (batched across both ranks) equal their answers alone;
  (g) a killed non-streaming client frees its slot at once; `serve` on a port in use exits 1;
  (h) the state budget: a request that cannot fit is a 400 naming the numbers, one that does not fit
      yet waits, one beyond --max-queue is a 503; CORS headers and preflight; the access log.

Greedy output of a random model is gibberish, but deterministic, which is all these tests need.
Run: TESSERA_BIN=build/tessera /usr/bin/python3 tests/server/server_test.py (from the repo root)."""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("TESSERA_SOURCE") or os.path.dirname(os.path.dirname(HERE))
TOKENIZERS = os.path.join(os.environ.get("TESSERA_DATA") or os.path.join(ROOT, "tests", "data"), "tokenizers")
BIN = os.environ.get("TESSERA_BIN") or os.path.join(ROOT, "build", "tessera")
WORK = os.path.join(os.environ.get("TESSERA_WORK") or os.path.join(ROOT, "build", "test-work"), "server")
API_KEY = "test-key-123"
AUTH = {"Authorization": "Bearer " + API_KEY}
FAILURES = []


def check(name, cond, detail=""):
    print(("PASS " if cond else "FAIL ") + name + (f"  ({detail})" if detail and not cond else ""), flush=True)
    if not cond:
        FAILURES.append(name)


# ---------------------------------------------------------------------------------------------
# server process and HTTP helpers
# ---------------------------------------------------------------------------------------------

class Server:
    def __init__(self, model, args=(), mpi_ranks=0, name="serve"):
        self.log_path = os.path.join(WORK, name + ".log")
        cmd = [BIN, "serve", "--model", model, "--port", "0", "--api-key", API_KEY, *args]
        if mpi_ranks:
            cmd = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--mca", "mpi_yield_when_idle", "1",
                   "-np", str(mpi_ranks), *cmd]
        self.log = open(self.log_path, "w")
        # Own process group, so mpirun and its ranks can be stopped together.
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.port = None
        deadline = time.time() + 90
        self.loading_polls = 0
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.read_log()}")
            if self.port is None:
                m = re.search(r"listening on http://[^:]+:(\d+)", self.read_log())
                if m:
                    self.port = int(m.group(1))
            if self.port is not None:
                try:
                    status, _, body = request(self.port, "GET", "/health", timeout=2)
                    assert status in (200, 503) and json.loads(body)["status"] in ("ok", "loading"), (status, body)
                    self.loading_polls += status == 503
                    if status == 200:
                        return
                except OSError:
                    pass
            time.sleep(0.01)
        raise RuntimeError("server did not become ready:\n" + self.read_log())

    def read_log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def request(port, method, path, body=None, headers=None, timeout=60):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    data = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
    conn.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
    resp = conn.getresponse()
    payload = resp.read()
    conn.close()
    return resp.status, dict(resp.getheaders()), payload


def post_json(port, path, body, headers=AUTH):
    status, _, payload = request(port, "POST", path, body, headers)
    return status, json.loads(payload)


def sse_events(port, path, body):
    """Streams a request; returns the decoded `data:` payloads (the final "[DONE]" as a string)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json", **AUTH})
    resp = conn.getresponse()
    assert resp.status == 200, (resp.status, resp.read())
    events = []
    while True:
        line = resp.readline()
        if not line:
            break
        line = line.decode("utf-8").rstrip("\n")
        if line.startswith("data: "):
            payload = line[len("data: "):]
            events.append(payload if payload == "[DONE]" else json.loads(payload))
    conn.close()
    return events


def stream_chat_text(port, body):
    events = sse_events(port, "/v1/chat/completions", {**body, "stream": True})
    assert events and events[-1] == "[DONE]", events[-3:]
    content = "".join(e["choices"][0]["delta"].get("content", "") for e in events[:-1] if e["choices"])
    reasoning = "".join(e["choices"][0]["delta"].get("reasoning_content", "") for e in events[:-1] if e["choices"])
    finish = [e["choices"][0]["finish_reason"] for e in events[:-1] if e["choices"] and e["choices"][0]["finish_reason"]]
    return content, reasoning, finish


def curl(port, path, *args, auth=True):
    cmd = ["curl", "-s", "-o", "-", "-w", "\n%{http_code}", f"http://127.0.0.1:{port}{path}", *args]
    if auth:
        cmd += ["-H", "Authorization: Bearer " + API_KEY]
    out = subprocess.run(cmd, capture_output=True, timeout=60).stdout.decode("utf-8", "replace")
    body, _, code = out.rpartition("\n")
    return int(code), body


def metric(text, name):
    m = re.search(r"^" + re.escape(name) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


# ---------------------------------------------------------------------------------------------
# an independent detokenizer (GPT-2 byte-level BPE), to check the server's text against ids
# ---------------------------------------------------------------------------------------------

def byte_decoder():
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    from train_bpe_tokenizer import bytes_to_unicode  # GPT-2's byte <-> symbol map
    return {c: b for b, c in bytes_to_unicode().items()}


def make_detokenizer(model_dir):
    with open(os.path.join(model_dir, "tokenizer.json"), encoding="utf-8") as f:
        tok = json.load(f)
    inv = {i: s for s, i in tok["model"]["vocab"].items()}
    added = {t["id"]: t for t in tok["added_tokens"]}
    bd = byte_decoder()

    def decode(ids):
        out = bytearray()
        for i in ids:
            if i in added:
                if not added[i]["special"]:
                    out += added[i]["content"].encode("utf-8")
            else:
                out += bytes(bd[ch] for ch in inv[i])
        return out.decode("utf-8", errors="replace")
    return decode


# ---------------------------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------------------------

def pick_prompt(port, candidates, min_chars=12):
    """A user message whose greedy answer is long enough to compare (random models often stop at once)."""
    for text in candidates:
        status, r = post_json(port, "/v1/chat/completions",
                              {"messages": [{"role": "user", "content": text}], "max_tokens": 24, "temperature": 0})
        assert status == 200, r
        msg = r["choices"][0]["message"]
        if len(msg["content"]) >= min_chars and not msg.get("reasoning_content"):
            return text
    raise AssertionError("no candidate prompt gives a long enough greedy answer")


def ensure_openai_client():
    if os.path.isdir(os.path.join(HERE, "node_modules", "openai")):
        return True
    npm = shutil.which("npm")
    if not npm:
        return False
    subprocess.run([npm, "ci", "--prefix", HERE, "--no-audit", "--no-fund"], check=True, timeout=300,
                   stdout=subprocess.DEVNULL)
    return True


def test_openai_client(srv, model_dir, user_text, max_tokens):
    port = srv.port
    messages = [{"role": "user", "content": user_text}]
    status, tpl = post_json(port, "/apply-template", {"messages": messages})
    assert status == 200, tpl
    prompt_text, prompt_ids = tpl["prompt"], tpl["tokens"]
    # The CLI renders the same prompt, and tokenizes it the same way when it can.
    msg_file = os.path.join(WORK, "messages.json")
    with open(msg_file, "w") as f:
        json.dump(messages, f)
    cli = subprocess.run([BIN, "template", "--model", model_dir, "--messages", msg_file], capture_output=True, timeout=60)
    if cli.returncode == 0:
        check("a: /apply-template == tessera template", cli.stdout.decode() == prompt_text)
    if subprocess.run([BIN, "tokenize", "--help"], capture_output=True, timeout=30).returncode == 0:
        prompt_file = os.path.join(WORK, "prompt.txt")
        with open(prompt_file, "w", encoding="utf-8") as f:
            f.write(prompt_text)
        tok = subprocess.run([BIN, "tokenize", "--model", model_dir, "--file", prompt_file], capture_output=True, timeout=60)
        ids = json.loads(tok.stdout)["ids"] if tok.returncode == 0 else None
        check("a: server prompt tokens == tessera tokenize", ids == prompt_ids, f"{ids} vs {prompt_ids}")

    gen = subprocess.run([BIN, "generate", "--model", model_dir, "--tokens", ",".join(map(str, prompt_ids)),
                          "--max-tokens", str(max_tokens), "--threads", "1"], capture_output=True, timeout=120)
    assert gen.returncode == 0, gen.stderr
    generated = json.loads(gen.stdout)
    expected = make_detokenizer(model_dir)(generated["tokens"])

    if not ensure_openai_client():
        check("a: openai npm client available (npm missing)", False)
        return expected
    request_body = {"model": "tiny", "messages": messages, "max_tokens": max_tokens, "temperature": 0}
    run = subprocess.run(["node", os.path.join(HERE, "openai_client.mjs"), f"http://127.0.0.1:{port}/v1", API_KEY,
                          json.dumps(request_body), prompt_text], capture_output=True, timeout=120)
    assert run.returncode == 0, run.stderr.decode()
    r = json.loads(run.stdout)
    ns, st = r["nonstream"], r["stream"]
    check("a: openai non-streaming object/role", ns["object"] == "chat.completion" and ns["role"] == "assistant", ns)
    check("a: openai streaming chunks", st["object"] == "chat.completion.chunk" and st["role"] == "assistant"
          and st["chunks"] >= 3, st)
    check("a: streaming text == non-streaming text", st["content"] == ns["content"] and st["reasoning"] == ns["reasoning"],
          f"{st['content']!r} vs {ns['content']!r}")
    check("a: non-streaming text == tessera generate", ns["content"] == expected, f"{ns['content']!r} vs {expected!r}")
    check("a: finish_reason matches tessera generate", ns["finish"] == st["finish"] == generated["finish_reason"],
          f"{ns['finish']} {st['finish']} {generated['finish_reason']}")
    check("a: usage", ns["usage"]["prompt_tokens"] == len(prompt_ids)
          and ns["usage"]["completion_tokens"] == len(generated["tokens"])
          and ns["usage"]["total_tokens"] == len(prompt_ids) + len(generated["tokens"]) and st["usage"] == ns["usage"],
          f"{ns['usage']} {st['usage']}")
    check("a: /v1/completions on the rendered prompt == chat", r["completion"]["text"] == ns["content"],
          f"{r['completion']['text']!r}")
    check("a: models.list", len(r["models"]) == 1, r["models"])
    check("a: client sees a 400 as an error", r["error"] and r["error"]["status"] == 400
          and r["error"]["param"] == "temperature", r["error"])
    return expected


def test_curl(srv, user_text):
    port = srv.port
    code, body = curl(port, "/health", auth=False)
    check("b: /health 200", code == 200 and json.loads(body)["status"] == "ok", body)
    code, body = curl(port, "/v1/models")
    check("b: /v1/models", code == 200 and json.loads(body)["data"][0]["object"] == "model", body)
    code, body = curl(port, "/v1/completions", "-d", json.dumps({"prompt": "Once upon", "max_tokens": 8, "temperature": 0,
                                                                  "logprobs": 2}))
    r = json.loads(body)
    lp = r["choices"][0]["logprobs"]
    check("b: /v1/completions", code == 200 and r["object"] == "text_completion" and r["usage"]["prompt_tokens"] > 0
          and len(lp["tokens"]) == r["usage"]["completion_tokens"] and all(len(t) <= 2 for t in lp["top_logprobs"]), body)
    code, body = curl(port, "/v1/completions", "-d", json.dumps({"prompt": [1, 2, 3], "max_tokens": 4, "temperature": 0}))
    check("b: /v1/completions with token ids", code == 200 and json.loads(body)["usage"]["prompt_tokens"] == 3, body)
    chat = {"messages": [{"role": "user", "content": user_text}], "max_tokens": 16, "temperature": 0}
    code, body = curl(port, "/v1/chat/completions", "-d", json.dumps({**chat, "logprobs": True, "top_logprobs": 3,
                                                                       "stop": ["zz"], "seed": 1, "top_k": 5}))
    r = json.loads(body)
    check("b: chat with logprobs", code == 200 and len(r["choices"][0]["logprobs"]["content"]) == r["usage"]["completion_tokens"]
          and all(len(t["top_logprobs"]) == 3 for t in r["choices"][0]["logprobs"]["content"]), body[:300])
    # ignore_eos defaults to true on the bench endpoint (as exo's): exactly max_tokens are generated.
    code, body = curl(port, "/bench/chat/completions", "-d", json.dumps(chat))
    r = json.loads(body)
    check("b: /bench/chat/completions", code == 200 and r["generation_tokens"] == 16 and r["prompt_tps"] > 0
          and r["generation_tps"] > 0 and r["peak_memory_bytes"] > 0 and len(r["peak_memory_bytes_per_rank"]) == 1, body[:400])
    gs = r.get("generation_stats") or {}
    check("b: bench generation_stats (exo's fields)", code == 200 and gs.get("prompt_tokens") == r["usage"]["prompt_tokens"]
          and gs.get("generation_tokens") == r["usage"]["completion_tokens"] == 16 and gs.get("prompt_tps", 0) > 0
          and gs.get("generation_tps", 0) > 0 and gs.get("peak_memory_usage", {}).get("in_bytes") == r["peak_memory_bytes"] > 0
          and gs.get("prefix_cache_hit") is False, body[-400:])
    code, body = curl(port, "/bench/chat/completions", "-d", json.dumps({**chat, "ignore_eos": False, "use_prefix_cache": False}))
    check("b: bench accepts ignore_eos false and use_prefix_cache", code == 200
          and json.loads(body)["generation_stats"]["generation_tokens"] <= 16, body[:300])
    code, body = curl(port, "/metrics", auth=False)
    check("b: /metrics", code == 200 and metric(body, "tessera_model_loaded") == 1
          and 'tessera_requests_total{endpoint="/v1/completions",status="200"}' in body
          and metric(body, "tessera_completion_tokens_total") > 0 and "tessera_time_to_first_token_seconds_bucket" in body
          and "tessera_inter_token_latency_seconds_count" in body and metric(body, "tessera_queue_depth") == 0
          and 'tessera_resident_memory_bytes{rank="0"}' in body, body[:500])

    def error_case(name, status, path, data, *extra, auth=True, param=None):
        code, body = curl(port, path, *extra, *(["-d", data] if data is not None else []), auth=auth)
        try:
            err = json.loads(body)["error"]
            shaped = all(k in err for k in ("message", "type", "param", "code"))
        except (ValueError, KeyError, TypeError):
            err, shaped = None, False
        check(f"b: {name} -> {status}", code == status and shaped and (param is None or err["param"] == param),
              f"{code} {body[:200]}")

    msgs = [{"role": "user", "content": "hi"}]
    error_case("bad JSON", 400, "/v1/chat/completions", "{not json")
    error_case("known parameter of the wrong type", 400, "/v1/chat/completions", json.dumps({"messages": msgs, "stream": "yes"}),
               param="stream")
    error_case("temperature -1", 400, "/v1/chat/completions", json.dumps({"messages": msgs, "temperature": -1}), param="temperature")
    error_case("temperature wrong type", 400, "/v1/chat/completions", json.dumps({"messages": msgs, "temperature": "hot"}))
    error_case("top_p 0", 400, "/v1/chat/completions", json.dumps({"messages": msgs, "top_p": 0}), param="top_p")
    error_case("max_tokens 0", 400, "/v1/chat/completions", json.dumps({"messages": msgs, "max_tokens": 0}), param="max_tokens")
    error_case("messages missing", 400, "/v1/chat/completions", json.dumps({"max_tokens": 3}), param="messages")
    error_case("messages empty", 400, "/v1/chat/completions", json.dumps({"messages": []}), param="messages")
    error_case("bad role", 400, "/v1/chat/completions", json.dumps({"messages": [{"role": "wizard", "content": "x"}]}))
    error_case("n 129", 400, "/v1/chat/completions", json.dumps({"messages": msgs, "n": 129}), param="n")
    error_case("body is an array", 400, "/v1/chat/completions", "[1, 2]")
    error_case("bench use_prefix_cache not a boolean", 400, "/bench/chat/completions",
               json.dumps({"messages": msgs, "use_prefix_cache": "yes"}), param="use_prefix_cache")
    long_prompt = os.path.join(WORK, "long_prompt.json")
    with open(long_prompt, "w") as f:  # each CJK character is 3 byte tokens in the truncated vocabulary
        f.write(json.dumps({"prompt": "".join(chr(0x4e00 + (i * 7919) % 20000) for i in range(30000)), "max_tokens": 1}))
    error_case("prompt longer than the context", 400, "/v1/completions", None, "--data-binary", "@" + long_prompt)
    error_case("no API key", 401, "/v1/chat/completions", json.dumps({"messages": msgs}), auth=False)
    error_case("wrong API key", 401, "/v1/chat/completions", json.dumps({"messages": msgs}), "-H", "Authorization: Bearer nope",
               auth=False)
    error_case("unknown route", 404, "/v1/nothing-here", None)
    big = os.path.join(WORK, "big.json")
    with open(big, "w") as f:
        f.write(json.dumps({"messages": [{"role": "user", "content": "x" * (2 << 20)}]}))
    error_case("body over --max-body-bytes", 413, "/v1/chat/completions", None, "--data-binary", "@" + big)
    # Still healthy after all that.
    code, _ = curl(port, "/health", auth=False)
    check("b: healthy after the error cases", code == 200)


def test_stop_strings(port, user_text, full_text):
    """A stop string cut from the middle of the greedy answer ends it there, split across tokens or not."""
    chat = {"messages": [{"role": "user", "content": user_text}], "max_tokens": 40, "temperature": 0}
    checked = 0
    for start in (3, len(full_text) // 2):
        stop = full_text[start:start + 3]
        if len(stop) < 3 or not stop.strip():
            continue
        expected = full_text[:full_text.find(stop)]
        status, r = post_json(port, "/v1/chat/completions", {**chat, "stop": [stop, "never-there"]})
        content, _, finish = stream_chat_text(port, {**chat, "stop": stop})
        check(f"stop string {stop!r}", status == 200 and r["choices"][0]["message"]["content"] == expected == content
              and r["choices"][0]["finish_reason"] == "stop" and finish == ["stop"],
              f"{r['choices'][0]['message']['content']!r} / {content!r} vs {expected!r}")
        checked += 1
    check("stop strings tested", checked > 0)


def test_reasoning(model_dir):
    """Qwen3.5's template opens <think> in the prompt: the answer is reasoning until </think>."""
    dir35 = os.path.join(WORK, "model-qwen35-template")
    shutil.rmtree(dir35, ignore_errors=True)
    shutil.copytree(model_dir, dir35)
    shutil.copy(os.path.join(TOKENIZERS, "qwen3.5", "chat_template.jinja"), dir35)
    srv = Server(dir35, ["--threads", "1"], name="serve-qwen35")
    try:
        decode = make_detokenizer(model_dir)
        for thinking in (True, False):
            body = {"messages": [{"role": "user", "content": "Why is the sky blue?"}], "max_tokens": 30, "temperature": 0,
                    "chat_template_kwargs": {"enable_thinking": thinking}}
            status, tpl = post_json(srv.port, "/apply-template", body)
            check(f"f: prompt ends inside <think> == {thinking}", tpl["prompt"].endswith("<think>\n") == thinking,
                  repr(tpl["prompt"][-30:]))
            gen = subprocess.run([BIN, "generate", "--model", dir35, "--tokens", ",".join(map(str, tpl["tokens"])),
                                  "--max-tokens", "30", "--threads", "1"], capture_output=True, timeout=120)
            text = decode(json.loads(gen.stdout)["tokens"])
            if thinking:
                reasoning, sep, answer = text.partition("</think>")
                want = (reasoning.strip(), answer.lstrip() if sep else "")
            else:
                want = ("", text)
            status, r = post_json(srv.port, "/v1/chat/completions", body)
            msg = r["choices"][0]["message"]
            got = (msg.get("reasoning_content", ""), msg["content"])
            content, reasoning, _ = stream_chat_text(srv.port, body)
            check(f"f: reasoning split (enable_thinking={thinking})", got == want == (reasoning, content),
                  f"{got!r} / {(reasoning, content)!r} vs {want!r}")
            print(f"   (enable_thinking={thinking}: {len(got[0])} chars of reasoning, {len(got[1])} of content)", flush=True)
    finally:
        srv.stop()


def test_long_prompt(port, model_dir):
    """A prompt longer than one prefill chunk (512 tokens) is run in chunks, interleaved with other
    sequences; the result must still equal one-shot `tessera generate`."""
    ids = [(i * 7919 + 13) % 480 for i in range(1300)]
    status, r = post_json(port, "/v1/completions", {"prompt": ids, "max_tokens": 30, "temperature": 0})
    gen = subprocess.run([BIN, "generate", "--model", model_dir, "--tokens", ",".join(map(str, ids)), "--max-tokens", "30",
                          "--threads", "1"], capture_output=True, timeout=120)
    generated = json.loads(gen.stdout)
    expected = make_detokenizer(model_dir)(generated["tokens"])
    check("chunked prefill == tessera generate", status == 200 and r["choices"][0]["text"] == expected
          and r["choices"][0]["finish_reason"] == generated["finish_reason"], f"{r['choices'][0]['text']!r} vs {expected!r}")


def test_concurrency(port, n=16, label="c"):
    bodies = []
    for i in range(n):
        body = {"messages": [{"role": "user", "content": f"Story number {i}: tell me about the {i * 37 % 101} cats."}],
                "max_tokens": 400, "ignore_eos": True}
        # Half greedy, half seeded sampling: each sequence's RNG must be its own.
        body.update({"temperature": 0} if i % 2 == 0 else {"temperature": 0.9, "top_p": 0.95, "seed": 1000 + i})
        bodies.append(body)
    t_alone = time.time()
    alone = [stream_chat_text(port, b) for b in bodies]
    per_request = (time.time() - t_alone) / n
    together = [None] * n
    errors = []
    barrier = threading.Barrier(n)

    def worker(i):
        try:
            barrier.wait()
            together[i] = stream_chat_text(port, bodies[i])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    # Served one after another, the k-th request would wait for k earlier answers before its
    # first token; interleaved, every request gets its first token within a round. The bound
    # scales with this machine's speed: three times what one request takes alone.
    buckets = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "60"]
    bound = next((b for b in buckets if float(b) >= 3 * per_request), "60")

    def ttft_counts():  # (first tokens within `bound`, all first tokens), from the server's histogram
        _, _, m = request(port, "GET", "/metrics")
        text = m.decode()
        return (metric(text, f'tessera_time_to_first_token_seconds_bucket{{le="{bound}"}}'),
                metric(text, "tessera_time_to_first_token_seconds_count"))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    before = ttft_counts()
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    after = ttft_counts()
    fast = after[0] - before[0]
    check(f"{label}: sequences were decoded interleaved (every time to first token < {bound} s)",
          after[1] - before[1] == n and fast == n, f"{fast:.0f} of {after[1] - before[1]:.0f} fast")
    check(f"{label}: {n} concurrent streams finished without error", not errors and all(together), errors[:3])
    same = sum(1 for a, b in zip(alone, together) if a == b)
    check(f"{label}: {n} concurrent streams == each alone", same == n, f"{same}/{n} equal")
    check("c: some output to compare", sum(len(a[0]) for a in alone) > 500)
    print(f"   ({n} concurrent streams in {time.time() - t0:.2f}s; one alone takes {per_request:.3f}s)", flush=True)


def open_stream(port, path, body):
    """A streaming request on a raw socket, returned once two events have arrived (the sequence runs)."""
    data = json.dumps({**body, "stream": True}).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n".encode()
                 + f"Authorization: Bearer {API_KEY}\r\nContent-Length: {len(data)}\r\n\r\n".encode() + data)
    got = b""
    while got.count(b"data: ") < 2:
        chunk = sock.recv(4096)
        assert chunk, got
        got += chunk
    return sock


def test_disconnect(port):
    sock = open_stream(port, "/v1/chat/completions", {"messages": [{"role": "user", "content": "Talk forever."}],
                                                      "max_tokens": 60000, "ignore_eos": True, "temperature": 0})
    _, _, m = request(port, "GET", "/metrics")
    active_before = metric(m.decode(), "tessera_active_sequences")
    cancelled_before = metric(m.decode(), "tessera_requests_cancelled_total")
    sock.close()
    t0 = time.time()
    freed = None
    while time.time() - t0 < 5:
        _, _, m = request(port, "GET", "/metrics")
        text = m.decode()
        if metric(text, "tessera_active_sequences") == 0 and metric(text, "tessera_requests_cancelled_total") > cancelled_before:
            freed = time.time() - t0
            break
        time.sleep(0.02)
    check("d: the stream was running when the client left", active_before == 1, active_before)
    check("d: disconnect cancels the sequence and frees its slot", freed is not None, f"after {freed}")
    t1 = time.time()
    status, r = post_json(port, "/v1/chat/completions", {"messages": [{"role": "user", "content": "Next!"}],
                                                         "max_tokens": 8, "temperature": 0})
    check("d: next request served promptly", status == 200 and time.time() - t1 < 3, f"{status} {time.time() - t1:.2f}s")
    if freed is not None:
        print(f"   (slot freed {freed * 1000:.0f} ms after the disconnect)", flush=True)


def test_nonstream_disconnect(srv):
    """A non-streaming client sends nothing back until the answer is complete, so only its socket
    tells that it left: the server must notice and stop generating at once."""
    port = srv.port

    def counters():
        _, _, m = request(port, "GET", "/metrics")
        text = m.decode()
        return {k: metric(text, "tessera_" + k) for k in ("active_sequences", "requests_cancelled_total",
                                                           "completion_tokens_total")}
    before = counters()
    body = {"messages": [{"role": "user", "content": "Talk forever, quietly."}], "max_tokens": 60000,
            "ignore_eos": True, "temperature": 0}
    client = subprocess.Popen(["curl", "-s", "-o", "/dev/null", f"http://127.0.0.1:{port}/v1/chat/completions",
                               "-H", "Authorization: Bearer " + API_KEY, "-d", json.dumps(body)])
    t0 = time.time()
    running = None
    while time.time() - t0 < 10 and not running:
        running = counters()["active_sequences"] == 1
        time.sleep(0.01)
    time.sleep(0.2)
    client.kill()
    client.wait()
    killed = time.time()
    freed = None
    while time.time() - killed < 5:
        c = counters()
        if c["active_sequences"] == 0 and c["requests_cancelled_total"] > before["requests_cancelled_total"]:
            freed = time.time() - killed
            break
        time.sleep(0.005)
    after = counters()
    generated = after["completion_tokens_total"] - before["completion_tokens_total"]
    check("g: the non-streaming request was running when its client was killed", running)
    check("g: a killed non-streaming client frees its slot at once", freed is not None and freed < 1, f"after {freed}")
    check("g: ... long before max_tokens", 0 < generated < 60000, f"{generated} tokens generated")
    logged = None
    while time.time() - killed < 5 and not logged:
        logged = re.search(r"POST /v1/chat/completions 499 prompt_tokens=\d+ completion_tokens=\d+ ", srv.read_log())
        time.sleep(0.01)
    check("g: the abandoned request is logged as 499 (client closed request)", logged, srv.read_log()[-500:])
    t1 = time.time()
    status, r = post_json(port, "/v1/chat/completions", {"messages": [{"role": "user", "content": "Next!"}],
                                                         "max_tokens": 8, "temperature": 0})
    check("g: next request served promptly", status == 200 and time.time() - t1 < 3, f"{status} {time.time() - t1:.2f}s")
    if freed is not None:
        print(f"   (slot freed {freed * 1000:.0f} ms after the client was killed; {generated:.0f} tokens generated)",
              flush=True)


def test_port_in_use(port, model_dir):
    t0 = time.time()
    run = subprocess.run([BIN, "serve", "--model", model_dir, "--port", str(port), "--threads", "1"],
                         capture_output=True, timeout=60)
    err = run.stderr.decode()
    check("g: serve on a port in use exits 1 naming host:port", run.returncode == 1 and f"127.0.0.1:{port}" in err
          and "in use" in err, f"exit {run.returncode}: {err[-300:]}")
    print(f"   (refused in {time.time() - t0:.2f}s: {err.strip().splitlines()[-1] if err.strip() else ''})", flush=True)


def test_access_log(srv):
    """One line per request through the logger: remote address, method, path, status, tokens, time."""
    status, r = post_json(srv.port, "/v1/completions", {"prompt": [5, 6, 7, 8], "max_tokens": 3, "temperature": 0,
                                                        "ignore_eos": True})
    status_401, _, _ = request(srv.port, "GET", "/v1/models")
    time.sleep(0.1)
    log = srv.read_log()
    want = (r"127\.0\.0\.1:\d+ POST /v1/completions 200 prompt_tokens=4 completion_tokens=3 [\d.]+ ms$")
    check("h: access log line with tokens and time", status == 200 and re.search(want, log, re.M), log[-600:])
    check("h: access log line for a refused request", status_401 == 401
          and re.search(r"127\.0\.0\.1:\d+ GET /v1/models 401 [\d.]+ ms$", log, re.M), log[-600:])
    check("h: no CORS headers by default", "Access-Control-Allow-Origin" not in request(srv.port, "GET", "/health")[1])


def test_limits(model_dir):
    """State budget (tiny model: 512 bytes of KV per token + fixed DeltaNet state), queue limit, CORS."""
    origin = "https://chat.example"
    srv = Server(model_dir, ["--threads", "1", "--parallel", "4", "--ctx-size", "65536", "--kv-budget-mb", "2",
                             "--max-queue", "1", "--cors-origin", origin], name="serve-limits")
    try:
        m = re.search(r"context lowered from 65536 to (\d+) tokens", srv.read_log())
        ctx = int(m.group(1)) if m else 0
        # Independently from config.json: fp32 K+V per token of the full-attention layers; DeltaNet
        # conv ((kernel-1) x channels) + recurrent (value heads x dk x dv) state and a logits row per sequence.
        with open(os.path.join(model_dir, "config.json")) as f:
            c = json.load(f)["text_config"]
        full = c["layer_types"].count("full_attention")
        linear = len(c["layer_types"]) - full
        per_token = 4 * full * 2 * c["num_key_value_heads"] * c["head_dim"]
        conv = (c["linear_conv_kernel_dim"] - 1) * (2 * c["linear_num_key_heads"] * c["linear_key_head_dim"]
                                                    + c["linear_num_value_heads"] * c["linear_value_head_dim"])
        recurrent = c["linear_num_value_heads"] * c["linear_key_head_dim"] * c["linear_value_head_dim"]
        per_sequence = 4 * (linear * (conv + recurrent) + c["vocab_size"])
        check("h: a context the budget cannot hold is lowered to what it holds",
              ctx == ((2 << 20) - per_sequence) // per_token, f"{ctx} vs {((2 << 20) - per_sequence) // per_token}")
        _, _, models = request(srv.port, "GET", "/v1/models", headers=AUTH)
        check("h: /v1/models reports the lowered context", json.loads(models)["data"][0]["max_model_len"] == ctx)
        # prompt + max_tokens beyond one sequence's context: 400 naming both numbers.
        status, r = post_json(srv.port, "/v1/completions", {"prompt": [1, 2, 3], "max_tokens": ctx})
        msg = r.get("error", {}).get("message", "")
        check("h: prompt + max_tokens over the context -> 400 naming the numbers", status == 400
              and str(ctx) in msg and str(ctx + 3) in msg and r["error"]["param"] == "max_tokens", r)

        # A takes (almost) the whole budget: prompt 3 + the rest of the context.
        a = open_stream(srv.port, "/v1/completions", {"prompt": [1, 2, 3], "max_tokens": ctx - 3, "ignore_eos": True})
        # B does not fit beside A: it waits in the queue although slots are free.
        b_result = {}

        def run_b():
            b_result["status"], b_result["body"] = post_json(srv.port, "/v1/completions",
                                                             {"prompt": [4, 5, 6], "max_tokens": 5, "temperature": 0})
            b_result["done"] = time.time()
        b = threading.Thread(target=run_b)
        b.start()
        t0 = time.time()
        text = ""
        while time.time() - t0 < 5:
            text = request(srv.port, "GET", "/metrics")[2].decode()
            if metric(text, "tessera_queue_depth") == 1:
                break
            time.sleep(0.01)
        check("h: a request that does not fit yet waits (slots free, budget full)", metric(text, "tessera_queue_depth") == 1
              and metric(text, "tessera_active_sequences") == 1
              and 0 < metric(text, "tessera_state_reserved_bytes") <= metric(text, "tessera_state_budget_bytes") == 2 << 20,
              text[-600:])
        # C finds the queue full: 503 naming the limit, with Retry-After.
        status, headers, body = request(srv.port, "POST", "/v1/completions",
                                        {"prompt": [7, 8], "max_tokens": 2}, AUTH)
        err = json.loads(body).get("error", {})
        check("h: queue full -> 503 naming --max-queue", status == 503 and "--max-queue 1" in err.get("message", "")
              and headers.get("Retry-After") == "1", f"{status} {body[:300]}")
        check("h: B still waiting", "status" not in b_result)
        a.close()
        closed = time.time()
        b.join(30)
        check("h: the waiting request runs once the budget frees", b_result.get("status") == 200
              and b_result["body"]["usage"]["completion_tokens"] == 5, b_result)
        if "done" in b_result:
            print(f"   (context {ctx} tokens; queued request answered {1000 * (b_result['done'] - closed):.0f} ms "
                  "after the budget's holder left)", flush=True)

        # CORS: preflight without credentials, and headers on ordinary responses.
        status, headers, _ = request(srv.port, "OPTIONS", "/v1/chat/completions", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, x-stainless-os"})
        check("h: CORS preflight -> 204", status == 204 and headers.get("Access-Control-Allow-Origin") == origin
              and "POST" in headers.get("Access-Control-Allow-Methods", "")
              and "x-stainless-os" in headers.get("Access-Control-Allow-Headers", ""), f"{status} {headers}")
        status, headers, _ = request(srv.port, "GET", "/v1/models", headers={"Origin": origin, **AUTH})
        check("h: CORS headers on responses", status == 200 and headers.get("Access-Control-Allow-Origin") == origin
              and "Authorization" in headers.get("Access-Control-Allow-Headers", ""), headers)
    finally:
        srv.stop()


def main():
    os.makedirs(WORK, exist_ok=True)
    model_dir = os.path.join(WORK, "model")
    shutil.rmtree(model_dir, ignore_errors=True)
    subprocess.run([sys.executable, os.path.join(ROOT, "tools", "make_tiny_checkpoint.py"), model_dir, "--family",
                    "qwen3_5_moe", "--tokenizer", os.path.join(TOKENIZERS, "qwen3"), "--seed", "7"],
                   check=True, stdout=subprocess.DEVNULL)
    candidates = ["Hello there", "What is the capital of France?", "Write a poem about the sea.", "Tell me a story.",
                  "Explain gravity.", "Count to ten.", "Why is the sky blue?", "Name three colours."]
    max_tokens = 40
    # --ctx-size beyond the tiny config's 4096 so test (d) can run a long generation.
    srv = Server(model_dir, ["--threads", "1", "--max-body-bytes", "1000000", "--ctx-size", "65536"])
    try:
        user_text = pick_prompt(srv.port, candidates)
        status, ref = post_json(srv.port, "/v1/chat/completions",
                                {"messages": [{"role": "user", "content": user_text}], "max_tokens": max_tokens,
                                 "temperature": 0})
        single_text = ref["choices"][0]["message"]["content"]
        test_openai_client(srv, model_dir, user_text, max_tokens)
        test_stop_strings(srv.port, user_text, single_text)
        test_long_prompt(srv.port, model_dir)
        test_curl(srv, user_text)
        test_concurrency(srv.port)
        test_disconnect(srv.port)
        test_nonstream_disconnect(srv)
        test_port_in_use(srv.port, model_dir)
        test_access_log(srv)
    finally:
        code = srv.stop()
    check("server exits cleanly on SIGTERM", code == 0, f"exit {code}: {srv.read_log()[-500:]}")
    test_reasoning(model_dir)
    test_limits(model_dir)

    if shutil.which("mpirun"):
        mpi = Server(model_dir, ["--threads", "1"], mpi_ranks=2, name="serve-mpi")
        try:
            # The port is bound before MPI starts and the model loads; a tiny model loads in
            # milliseconds, but MPI's start-up leaves a window in which /health says "loading".
            check("e: /health answers 503 while the model loads", mpi.loading_polls > 0, mpi.loading_polls)
            print(f"   (/health answered 503 {mpi.loading_polls} times during start-up)", flush=True)
            status, r = post_json(mpi.port, "/v1/chat/completions",
                                  {"messages": [{"role": "user", "content": user_text}], "max_tokens": max_tokens,
                                   "temperature": 0})
            check("e: mpirun -np 2 == single process", status == 200 and r["choices"][0]["message"]["content"] == single_text,
                  f"{r}")
            content, _, _ = stream_chat_text(mpi.port, {"messages": [{"role": "user", "content": user_text}],
                                                        "max_tokens": max_tokens, "temperature": 0})
            check("e: mpirun -np 2 streaming == single process", content == single_text)
            # Concurrent streams are decoded in one batched pass per round on both ranks (the
            # batch's slots and tokens are broadcast): each must equal its answer alone.
            test_concurrency(mpi.port, n=4, label="e")
            code, body = curl(mpi.port, "/bench/chat/completions", "-d", json.dumps(
                {"messages": [{"role": "user", "content": user_text}], "max_tokens": 8, "ignore_eos": True}))
            check("e: bench reports both ranks' peak memory", code == 200
                  and len(json.loads(body)["peak_memory_bytes_per_rank"]) == 2, body[:300])
            code, body = curl(mpi.port, "/metrics", auth=False)
            check("e: /metrics has rank 1 memory", 'tessera_resident_memory_bytes{rank="1"}' in body)
        finally:
            code = mpi.stop()
        check("e: mpirun job exits on SIGTERM", code is not None, mpi.read_log()[-500:])
    else:
        check("e: mpirun available", False)

    print(f"{len(FAILURES)} failure(s)" if FAILURES else "all server tests passed", flush=True)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
