#!/usr/bin/python3
"""Tool calling, request defaults and the newer request parameters of `tessera serve`, end to end
on a tiny random Qwen3.5-MoE checkpoint (real Qwen3 tokenizer):

  (t) with the real Qwen3 (JSON tool calls) and Qwen3.5 (XML tool calls) templates: tools plus an
      OpenAI-shaped tool-call history (assistant content null, `arguments` as JSON strings, `tool`
      messages with tool_call_id) render exactly as Python Jinja2 renders the same conversation
      with the arguments parsed (the HF convention); tool_choice "none" leaves the tools out; the
      official `openai` npm client gets a 200, streaming == non-streaming, the chat answer is the
      greedy completion of that rendered prompt, n = 2, and 400s naming the bad tool field;
  (r) both `reasoning_content` and `reasoning` (vLLM's current name), streamed and not;
  (d) sampling defaults from generation_config.json, overridden by flags and by the request;
      --max-tokens-default caps a request without max_tokens;
  (u) parameters peers ignore are accepted with one warning line; type errors stay 400;
  (b) logit_bias steers greedy decoding; ids outside the vocabulary are a 400;
  (m) the tools request under `mpirun -np 2` answers as in one process.

Random weights never write a tool call on purpose, so parsing model output into tool_calls is
tested on text in C++ (tests/chat/tool_call_parser_test.cpp, tests/server/chat_choice_test.cpp).
Run: TESSERA_BIN=build/tessera /usr/bin/python3 tests/server/tools_test.py (from the repo root)."""
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "chat"))
import jinja_oracle_test as oracle  # noqa: E402
import server_test as st  # noqa: E402
from server_test import API_KEY, ROOT, SHARED, Server, check, post_json, sse_events  # noqa: E402
from tessera_testlib import make_checkpoint  # noqa: E402

WORK = os.path.join(os.environ.get("TESSERA_WORK") or os.path.join(ROOT, "build", "test-work"), "tools")
st.WORK = WORK  # server logs go here

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"},
                                                    "metric": {"type": "boolean"}}, "required": ["city"]}}}
SEARCH = {"type": "function", "function": {
    "name": "search", "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}}}
TOOLS = [WEATHER, SEARCH]

# As an OpenAI client sends a finished tool round: arguments are JSON strings, content is null.
HISTORY = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Weather in Paris and news about it?"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function",
         "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\", \"days\": 2, \"metric\": true}"}},
        {"id": "call_2", "type": "function", "function": {"name": "search", "arguments": "{\"query\": \"Paris news\"}"}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp\": 21}"},
    {"role": "tool", "tool_call_id": "call_2", "content": "Nothing new."},
    {"role": "assistant", "content": "Sunny, 21 C. Anything else?"},
    {"role": "user", "content": "And tomorrow?"},
]


def hf_messages(messages):
    """The same conversation as HF's apply_chat_template expects it: arguments as dicts, no null content."""
    out = []
    for m in messages:
        m = dict(m)
        if m.get("content") is None:
            m["content"] = ""
        if "tool_calls" in m:
            m["tool_calls"] = [{**c, "function": {**c["function"], "arguments": json.loads(c["function"]["arguments"])}}
                               for c in m["tool_calls"]]
        out.append(m)
    return out


def python_prompt(model_dir, template_path, messages, tools, **extra):
    with open(template_path, encoding="utf-8") as f:
        source = f.read()
    context = {**oracle.special_tokens(model_dir), "messages": messages, "add_generation_prompt": True, **extra}
    if tools is not None:
        context["tools"] = tools
    status, text = oracle.python_render(source, context)
    assert status == "ok", text
    return text


def run_client(port, body):
    run = subprocess.run(["node", os.path.join(HERE, "tools_client.mjs"), f"http://127.0.0.1:{port}/v1", API_KEY,
                          json.dumps(body)], capture_output=True, timeout=180)
    assert run.returncode == 0, run.stderr.decode()
    return json.loads(run.stdout)


def test_templates(model_dir, family):
    template = os.path.join(SHARED, "data", "tokenizers", family, "chat_template.jinja")
    srv = Server(model_dir, ["--threads", "1", "--chat-template", template], name=f"serve-{family}")
    label = f"t[{family}]"
    try:
        kwargs = {"enable_thinking": False}
        status, tpl = post_json(srv.port, "/apply-template", {"messages": HISTORY, "tools": TOOLS,
                                                               "chat_template_kwargs": kwargs})
        want = python_prompt(model_dir, template, hf_messages(HISTORY), TOOLS, **kwargs)
        check(f"{label}: tools + OpenAI tool-call history render as Python Jinja2 renders them",
              status == 200 and tpl["prompt"] == want, f"{status} {tpl}"[:600])
        check(f"{label}: the rendered prompt holds the tools and both calls",
              status == 200 and "<tools>" in tpl["prompt"] and tpl["prompt"].count("<tool_call>") >= 3)
        status, none = post_json(srv.port, "/apply-template", {"messages": HISTORY, "tools": TOOLS, "tool_choice": "none",
                                                                "chat_template_kwargs": kwargs})
        check(f"{label}: tool_choice none leaves the tools out",
              status == 200 and none["prompt"] == python_prompt(model_dir, template, hf_messages(HISTORY), None, **kwargs))
        status, bad = post_json(srv.port, "/apply-template", {"messages": [*HISTORY[:2], {
            "role": "assistant", "content": None, "tool_calls": [{"type": "function", "function": {
                "name": "search", "arguments": "{not json"}}]}, HISTORY[-1]]})
        check(f"{label}: arguments that are not a JSON object -> 400 naming them", status == 400
              and bad["error"]["param"] == "messages[2].tool_calls[0].function.arguments", bad)

        if not st.ensure_openai_client():
            check("t: openai npm client available (npm missing)", False)
            return
        body = {"model": "tiny", "messages": HISTORY, "tools": TOOLS, "tool_choice": "auto", "parallel_tool_calls": True,
                "max_tokens": 24, "temperature": 0, "chat_template_kwargs": kwargs}
        r = run_client(srv.port, body)
        ns, sm = r["nonstream"], r["stream"]
        calls = [{"name": c["function"]["name"], "arguments": c["function"]["arguments"]}
                 for c in ns["message"].get("tool_calls") or []]
        check(f"{label}: openai client: 200 with a finish_reason", ns["finish"] in ("stop", "length", "tool_calls"), ns)
        check(f"{label}: streaming == non-streaming (content, tool calls, finish)",
              sm["content"] == (ns["message"]["content"] or "") and sm["finish"] == ns["finish"]
              and [{"name": c["name"], "arguments": c["arguments"]} for c in sm["tool_calls"]] == calls, (sm, ns))
        # The model saw exactly the rendered prompt: the chat answer is its greedy continuation.
        status, comp = post_json(srv.port, "/v1/completions", {"prompt": tpl["prompt"], "max_tokens": 24, "temperature": 0})
        check(f"{label}: chat answer == greedy completion of the rendered prompt",
              status == 200 and comp["choices"][0]["text"] == (ns["message"]["content"] or ""),
              f"{comp['choices'][0]['text']!r} vs {ns['message']['content']!r}")
        n2 = r["n2"]
        check(f"{label}: n = 2 gives choices 0 and 1, streamed alike", n2["indexes"] == [0, 1]
              and n2["streamed"] == n2["contents"] and n2["usage"]["prompt_tokens"] == ns["usage"]["prompt_tokens"], n2)
        check(f"{label}: a tool without a name -> 400 naming it", r["errors"]["badTool"] == {
            "status": 400, "param": "tools[0].function.name"}, r["errors"])
        check(f"{label}: tool_choice naming an unknown function -> 400", r["errors"]["badChoice"] == {
            "status": 400, "param": "tool_choice"}, r["errors"])
        # n = 2 with seed s: choice i is what a single request with seed s + i gets.
        single = [post_json(srv.port, "/v1/chat/completions", {**body, "n": 1, "seed": 11 + i, "temperature": 0.8})[1]
                  for i in range(2)]
        check(f"{label}: n = 2 choice i == one request with seed + i (and the two differ)",
              [s["choices"][0]["message"]["content"] for s in single] == n2["contents"]
              and n2["contents"][0] != n2["contents"][1], (single, n2["contents"]))

        if family == "qwen3.5":
            body = {"messages": [{"role": "user", "content": "Why?"}], "max_tokens": 20, "temperature": 0}
            status, r = post_json(srv.port, "/v1/chat/completions", body)
            msg = r["choices"][0]["message"]
            events = sse_events(srv.port, "/v1/chat/completions", {**body, "stream": True})
            deltas = [e["choices"][0]["delta"] for e in events[:-1] if e["choices"]]
            check("r: message has reasoning == reasoning_content (non-empty)", status == 200 and msg.get("reasoning")
                  and msg["reasoning"] == msg["reasoning_content"], msg)
            check("r: streamed reasoning == reasoning_content == non-streaming",
                  "".join(d.get("reasoning", "") for d in deltas) == "".join(d.get("reasoning_content", "") for d in deltas)
                  == msg.get("reasoning"), deltas[:3])
    finally:
        srv.stop()
    if family == "qwen3.5" and shutil.which("mpirun"):
        # Tensor-parallel: the same tools request, rendered and answered on 2 ranks.
        mpi = Server(model_dir, ["--threads", "1", "--chat-template", template], mpi_ranks=2, name="serve-tools-mpi")
        try:
            body = {"messages": HISTORY, "tools": TOOLS, "max_tokens": 24, "temperature": 0, "chat_template_kwargs": kwargs}
            status, r = post_json(mpi.port, "/v1/chat/completions", body)
            check("t: mpirun -np 2 answers the tools request as one process does",
                  status == 200 and r["choices"][0]["message"]["content"] == ns["message"]["content"]
                  and r["choices"][0]["finish_reason"] == ns["finish"], r)
        finally:
            mpi.stop()


def log_lines(srv, needle):
    return [line for line in srv.read_log().splitlines() if needle in line]


def test_defaults_and_parameters(model_dir):
    srv = Server(model_dir, ["--threads", "1", "--max-tokens-default", "7", "--top-k", "5"], name="serve-defaults")
    try:
        port = srv.port
        line = log_lines(srv, "defaults for parameters a request leaves out")
        check("d: start-up log names the defaults (generation_config.json + --top-k)", len(line) == 1
              and '"temperature":0.6' in line[0] and '"top_p":0.95' in line[0] and '"top_k":5' in line[0], line)
        msgs = [{"role": "user", "content": "Tell me a story."}]
        base = {"messages": msgs, "max_tokens": 12, "ignore_eos": True, "seed": 3}
        _, implicit = post_json(port, "/v1/chat/completions", base)
        _, explicit = post_json(port, "/v1/chat/completions", {**base, "temperature": 0.6, "top_p": 0.95, "top_k": 5})
        check("d: a request without sampling parameters samples with the defaults",
              implicit["choices"][0]["message"]["content"] == explicit["choices"][0]["message"]["content"], (implicit, explicit))
        _, greedy = post_json(port, "/v1/chat/completions", {**base, "temperature": 0})
        check("d: ... which is not greedy decoding",
              implicit["choices"][0]["message"]["content"] != greedy["choices"][0]["message"]["content"])
        # top_k 1 from the request (not the flag's 5) makes the default temperature 0.6 greedy.
        _, top1 = post_json(port, "/v1/chat/completions", {**base, "top_k": 1, "seed": 99})
        check("d: the request's own values win over the defaults",
              greedy["choices"][0]["message"]["content"] == top1["choices"][0]["message"]["content"], (greedy, top1))
        status, capped = post_json(port, "/v1/chat/completions", {"messages": msgs, "ignore_eos": True, "temperature": 0})
        check("d: no max_tokens -> --max-tokens-default", status == 200 and capped["usage"]["completion_tokens"] == 7
              and capped["choices"][0]["finish_reason"] == "length", capped)

        ignored = {"store": True, "metadata": {"k": "v"}, "reasoning_effort": "low", "service_tier": "auto",
                   "prediction": {"type": "content", "content": "x"}, "modalities": ["text"], "web_search_options": {},
                   "use_prefix_cache": True, "frobnicate": 1}
        before = len(log_lines(srv, "ignoring unsupported request parameter"))
        status, r = post_json(port, "/v1/chat/completions", {**base, "temperature": 0, **ignored})
        after = log_lines(srv, "ignoring unsupported request parameter")
        check("u: parameters peers ignore -> 200, same answer",
              status == 200 and r["choices"][0]["message"]["content"] == greedy["choices"][0]["message"]["content"], r)
        check("u: one warning line naming them", len(after) == before + 1 and all(k in after[-1] for k in ignored), after)
        for name, extra, param in [
                ("temperature wrong type", {"temperature": "hot"}, "temperature"),
                ("logit_bias key not an id", {"logit_bias": {"abc": 1}}, "logit_bias"),
                ("logit_bias out of range", {"logit_bias": {"5": 101}}, "logit_bias"),
                ("logit_bias id outside the vocabulary", {"logit_bias": {"99999999": 1}}, "logit_bias"),
                ("tools not a list", {"tools": {"type": "function"}}, "tools"),
                ("tool type not function", {"tools": [{"type": "retrieval"}]}, "tools[0].type"),
                ("tool parameters not an object", {"tools": [{"type": "function", "function": {
                    "name": "f", "parameters": "x"}}]}, "tools[0].function.parameters"),
                ("tool_choice unknown", {"tool_choice": "sometimes"}, "tool_choice"),
                ("tool_choice required without tools", {"tool_choice": "required"}, "tool_choice"),
                ("parallel_tool_calls wrong type", {"parallel_tool_calls": "yes"}, "parallel_tool_calls"),
                ("n 0", {"n": 0}, "n")]:
            status, r = post_json(port, "/v1/chat/completions", {**base, **extra})
            check(f"u: {name} -> 400", status == 400 and r["error"]["param"] == param, r)

        # logit_bias: +100 on one ordinary token makes greedy decoding write only that token.
        status, tok = post_json(port, "/tokenize", {"content": " blue"})
        token = tok["tokens"][-1]
        status, text = post_json(port, "/detokenize", {"tokens": [token] * 6})
        for path, body, field in [("/v1/chat/completions", {"messages": msgs}, lambda c: c["message"]["content"]),
                                  ("/v1/completions", {"prompt": "Once upon a time"}, lambda c: c["text"])]:
            status, r = post_json(port, path, {**body, "max_tokens": 6, "temperature": 0, "ignore_eos": True,
                                               "logit_bias": {str(token): 100}})
            check(f"b: logit_bias +100 on {token} ({path})", status == 200 and field(r["choices"][0]) == text["content"],
                  f"{r} vs {text}")
        status, r = post_json(port, "/v1/completions", {"prompt": "Once", "max_tokens": 6, "temperature": 0, "n": 2})
        check("u: n > 1 on /v1/completions -> 400", status == 400 and r["error"]["param"] == "n", r)
    finally:
        srv.stop()


def main():
    os.makedirs(WORK, exist_ok=True)
    model_dir = make_checkpoint("tools-qwen3_5_moe-qwen3-tokenizer", "--family", "qwen3_5_moe", "--tokenizer",
                                os.path.join(SHARED, "data", "tokenizers", "qwen3"), "--seed", "7")
    for family in ("qwen3", "qwen3.5"):
        test_templates(model_dir, family)
    test_defaults_and_parameters(model_dir)
    print(f"{len(st.FAILURES)} failure(s)" if st.FAILURES else "all tool/parameter tests passed", flush=True)
    return 1 if st.FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
