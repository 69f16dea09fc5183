#!/usr/bin/python3
"""Structured output (response_format) end to end: `tessera serve` on a tiny random Qwen3.5-MoE
checkpoint with the real Qwen3 tokenizer (151k tokens), driven by the official `openai` npm client.

Random weights write whatever the mask allows, so this checks the guarantee itself: every
json_schema answer (streaming and not, greedy and sampled, chat and completions) parses and
validates against the schema, json_object answers are objects, and an unsupported keyword is a 400
naming it. The schema bounds every string, array and number, so answers end ("stop") well within
max_tokens. The validator below is written independently of the C++ schema compiler."""
import json
import os
import shutil
import subprocess
import sys
import threading

from server_test import API_KEY, FAILURES, HERE, WORK, Server, check, ensure_openai_client, post_json
from tessera_testlib import TOKENIZERS, make_checkpoint

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 12},
        "age": {"type": "integer", "minimum": 0, "maximum": 120},
        "role": {"enum": ["admin", "editor", "viewer"]},
        "email": {"type": ["string", "null"], "maxLength": 16},
        "active": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 6}, "minItems": 1, "maxItems": 3},
        "home": {"$ref": "#/$defs/place"},
    },
    "required": ["name", "age", "role", "email", "active", "tags", "home"],
    "additionalProperties": False,
    "$defs": {"place": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 10},
                                                         "floor": {"type": "integer", "minimum": -2, "maximum": 9}},
                        "required": ["city"], "additionalProperties": False}},
}


def validates(v, s, root):
    if "$ref" in s:
        node = root
        for part in s["$ref"].lstrip("#/").split("/"):
            node = node[part]
        return validates(v, node, root)
    if "enum" in s and v not in s["enum"]:
        return False
    types = s.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        kinds = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
        ok = any((t == "integer" and isinstance(v, int) and not isinstance(v, bool)) or
                 (t == "number" and isinstance(v, (int, float)) and not isinstance(v, bool)) or
                 (t in kinds and isinstance(v, kinds[t])) for t in types)
        if not ok:
            return False
    if isinstance(v, dict):
        props = s.get("properties", {})
        if any(r not in v for r in s.get("required", [])):
            return False
        if s.get("additionalProperties") is False and any(k not in props for k in v):
            return False
        if not all(validates(x, props[k], root) for k, x in v.items() if k in props):
            return False
    if isinstance(v, list):
        if len(v) < s.get("minItems", 0) or len(v) > s.get("maxItems", len(v)):
            return False
        if "items" in s and not all(validates(x, s["items"], root) for x in v):
            return False
    if isinstance(v, str) and not (s.get("minLength", 0) <= len(v) <= s.get("maxLength", len(v))):
        return False
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if v < s.get("minimum", v) or v > s.get("maximum", v):
            return False
    return True


def parsed(text):
    try:
        return json.loads(text), None
    except ValueError as e:
        return None, str(e)


def run_client(port, body, script="openai_structured.mjs"):
    """One of the openai npm client scripts here: it prints its findings as one JSON object."""
    run = subprocess.run(["node", os.path.join(HERE, script), f"http://127.0.0.1:{port}/v1", API_KEY,
                          json.dumps(body)], capture_output=True, timeout=300)
    assert run.returncode == 0, run.stderr.decode()
    return json.loads(run.stdout)


TOOL_WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string", "maxLength": 12},
                                     "days": {"type": "integer", "minimum": 1, "maximum": 7},
                                     "unit": {"enum": ["c", "f"]}},
    "required": ["city", "days"], "additionalProperties": False}}}
TOOL_SEARCH = {"type": "function", "function": {"name": "search", "parameters": {
    "type": "object", "properties": {"query": {"type": "string", "maxLength": 20}}, "required": ["query"],
    "additionalProperties": False}}}
FORCED_TOOLS = [TOOL_WEATHER, TOOL_SEARCH]


def calls_valid(calls, allowed_names):
    """Each call names an allowed tool and its arguments (a JSON string) validate against its parameters."""
    schemas = {t["function"]["name"]: t["function"]["parameters"] for t in FORCED_TOOLS}
    if not calls:
        return False
    for call in calls:
        args, err = parsed(call["arguments"])
        if call["name"] not in allowed_names or err is not None or not validates(args, schemas[call["name"]], {}):
            return False
    return True


def test_forced_tool_calls(model):
    """Random weights never call a tool by themselves: only the constraint makes these answers calls."""
    messages = [{"role": "user", "content": "What is the weather?"}]
    for family in ("qwen3", "qwen3.5"):  # JSON calls; XML calls with thinking on (the answer closes <think> first)
        template = os.path.join(TOKENIZERS, family, "chat_template.jinja")
        srv = Server(model, ["--threads", "1", "--chat-template", template], name=f"serve-forced-{family}")
        try:
            cases = [("required", "required", False, ["get_weather", "search"], {"temperature": 0}),
                     ("required sampled", "required", False, ["get_weather", "search"], {"temperature": 1.0, "seed": 3}),
                     # parallel: one call or more (how many is up to the model; this seed ends)
                     ("named", {"type": "function", "function": {"name": "search"}}, True, ["search"],
                      {"temperature": 0.8, "seed": 5})]
            for label, choice, parallel, names, sampling in cases:
                body = {"model": "tiny", "messages": messages, "tools": FORCED_TOOLS, "tool_choice": choice,
                        "parallel_tool_calls": parallel, "max_tokens": 300, **sampling}
                r = run_client(srv.port, body, "openai_forced_tool.mjs")
                for kind in ("nonstream", "stream"):
                    m = r[kind]
                    where = f"forced {family} {label} {kind}"
                    check(f"{where}: finish tool_calls", m["finish"] == "tool_calls", m)
                    check(f"{where}: the calls validate against the tool's parameters", calls_valid(m["tool_calls"], names), m)
                    check(f"{where}: no content, no reasoning", not m["content"].strip() and not m["reasoning"].strip(), m)
                    if not parallel:
                        check(f"{where}: exactly one call", len(m["tool_calls"]) == 1, m)
                check(f"forced {family} {label}: stream == non-stream",
                      r["stream"]["tool_calls"] == r["nonstream"]["tool_calls"], r)
                print(f"   (forced {family} {label}: {r['nonstream']['tool_calls']})", flush=True)
            status, r = post_json(srv.port, "/v1/chat/completions", {
                "messages": messages, "tools": FORCED_TOOLS, "tool_choice": "required", "n": 2, "temperature": 1.0,
                "seed": 1, "max_tokens": 300, "parallel_tool_calls": False})
            check(f"forced {family} n = 2: each choice is a valid call", status == 200 and all(
                c["finish_reason"] == "tool_calls" and calls_valid([{"name": t["function"]["name"], "arguments":
                                                                     t["function"]["arguments"]} for t in
                                                                    c["message"]["tool_calls"] or []], ["get_weather", "search"])
                for c in r["choices"]), r)
            status, r = post_json(srv.port, "/v1/chat/completions", {
                "messages": messages, "tools": FORCED_TOOLS, "tool_choice": "required",
                "response_format": {"type": "json_object"}})
            check(f"forced {family}: with response_format -> 400", status == 400
                  and r["error"]["param"] == "response_format", r)
            status, r = post_json(srv.port, "/v1/chat/completions", {
                "messages": messages, "tool_choice": "required", "tools": [{"type": "function", "function": {
                    "name": "f", "parameters": {"type": "object", "properties": {"x": {"type": "string", "pattern": "a"}}}}}]})
            check(f"forced {family}: a schema keyword decoding cannot enforce -> 400 naming tools",
                  status == 400 and r["error"]["param"] == "tools" and "pattern" in r["error"]["message"], r)
        finally:
            srv.stop()


def main():
    os.makedirs(WORK, exist_ok=True)
    model = make_checkpoint("structured-qwen35moe", "--family", "qwen3_5_moe", "--tokenizer",
                            os.path.join(TOKENIZERS, "qwen3"), "--seed", "11")
    if not ensure_openai_client():
        check("openai npm client available (npm missing)", False)
        return 1
    srv = Server(model, ["--threads", "1"], name="serve-structured")
    try:
        port = srv.port
        fmt = {"type": "json_schema", "json_schema": {"name": "person", "schema": SCHEMA, "strict": True}}
        messages = [{"role": "user", "content": "Describe a person as JSON."}]
        for label, sampling in [("greedy", {"temperature": 0}), ("sampled", {"temperature": 1.0, "seed": 5}),
                                ("sampled-2", {"temperature": 1.5, "seed": 99, "top_p": 0.95})]:
            r = run_client(port, {"model": "tiny", "messages": messages, "max_tokens": 400, "response_format": fmt,
                                  **sampling})
            for kind, text, finish in [("non-stream", r["nonstream"]["content"], r["nonstream"]["finish"]),
                                       ("stream", r["stream"]["content"], r["stream"]["finish"]),
                                       ("completions", r["completion"]["text"], r["completion"]["finish"])]:
                value, err = parsed(text)
                check(f"json_schema {label} {kind}: finish stop", finish == "stop", f"{finish}: {text!r}")
                check(f"json_schema {label} {kind}: parses", err is None, f"{err}: {text!r}")
                check(f"json_schema {label} {kind}: validates", err is None and validates(value, SCHEMA, SCHEMA), text)
            if label == "greedy":
                check("json_schema greedy: stream == non-stream", r["stream"]["content"] == r["nonstream"]["content"])
                greedy_text = r["nonstream"]["content"]
            print(f"   ({label}: {r['nonstream']['tokens']} tokens: {r['nonstream']['content'][:120]!r})", flush=True)

        # json_object: any object; unbounded, so a sampled answer may run out of tokens.
        objects = 0
        for seed in range(4):
            status, r = post_json(port, "/v1/chat/completions", {
                "messages": messages, "max_tokens": 300, "temperature": 1.0, "seed": seed,
                "response_format": {"type": "json_object"}})
            choice = r["choices"][0]
            value, err = parsed(choice["message"]["content"])
            if choice["finish_reason"] == "stop":
                objects += 1
                check(f"json_object seed {seed}: an object", isinstance(value, dict), choice["message"]["content"])
            else:
                check(f"json_object seed {seed}: cut only by length", choice["finish_reason"] == "length")
        check("json_object: at least one answer ends", objects >= 1, objects)

        # A cut-short answer says so: finish_reason "length".
        status, r = post_json(port, "/v1/chat/completions", {"messages": messages, "max_tokens": 3, "response_format": fmt})
        check("max_tokens before the end: finish length", status == 200 and r["choices"][0]["finish_reason"] == "length", r)

        # Constrained sequences decoded in one batch each get their answer alone.
        bodies = [{"messages": [{"role": "user", "content": f"Person number {i}."}], "max_tokens": 400,
                   "temperature": 0, "response_format": fmt} for i in range(4)]
        alone = [post_json(port, "/v1/chat/completions", b)[1]["choices"][0]["message"]["content"] for b in bodies]
        together = [None] * len(bodies)

        def worker(i):
            together[i] = post_json(port, "/v1/chat/completions", bodies[i])[1]["choices"][0]["message"]["content"]
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(bodies))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        check("4 concurrent constrained requests == each alone", together == alone, f"{together} vs {alone}")
        check("concurrent answers validate", all(validates(json.loads(t), SCHEMA, SCHEMA) for t in together))

        # Refusals: a 400 naming the keyword or the field.
        bad = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "string", "pattern": "^a$"}}}
        status, r = post_json(port, "/v1/chat/completions", {"messages": messages, "response_format": bad})
        check("unsupported keyword: 400 naming it", status == 400 and "'pattern'" in r["error"]["message"]
              and r["error"]["param"] == "response_format.json_schema.schema", r)
        status, r = post_json(port, "/v1/chat/completions", {"messages": messages, "response_format": {"type": "xml"}})
        check("unknown response_format type: 400", status == 400 and r["error"]["param"] == "response_format.type", r)
        status, r = post_json(port, "/v1/chat/completions",
                              {"messages": messages, "response_format": {"type": "json_schema", "json_schema": {"name": "x"}}})
        check("json_schema without schema: 400", status == 400 and r["error"]["param"] == "response_format.json_schema.schema", r)
    finally:
        code = srv.stop()
    check("server exits cleanly", code == 0, srv.read_log()[-500:])
    test_forced_tool_calls(model)

    if shutil.which("mpirun"):  # only rank 0 samples: the constraint must not disturb the lock step
        mpi = Server(model, ["--threads", "1"], mpi_ranks=2, name="serve-structured-mpi")
        try:
            status, r = post_json(mpi.port, "/v1/chat/completions", {
                "model": "tiny", "messages": messages, "max_tokens": 400, "temperature": 0, "response_format": fmt})
            check("mpirun -np 2: same constrained answer as one process",
                  status == 200 and r["choices"][0]["message"]["content"] == greedy_text, r)
        finally:
            mpi.stop()
    print(f"{len(FAILURES)} failure(s)" if FAILURES else "all structured output tests passed", flush=True)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
