#!/usr/bin/python3
"""The trained demo model (data/demo-model, tools/train_demo_model.py) answers arithmetic it never
saw, through the whole chain: chat template, tokenizer, forward pass, greedy sampling, EOS, the
server, batching and tensor parallelism.

  (a) bf16, one process, one request at a time: greedy accuracy on the held-out questions of
      tools/arithmetic_chat.py (never in training, in any phrasing) >= 95 %;
  (b) the same answers, token for token, when 16 requests are decoded together (batched), under
      `mpirun -np 2` and under `mpirun -np 4`;
  (c) the committed MLX 6-bit checkpoint (data/demo-model-mlx6, written by `tessera quantize`):
      `tessera quantize` rewrites it byte for byte from data/demo-model, and its greedy held-out
      accuracy (batched, 16 at a time) is >= 93 % (the model was fine-tuned for its 6-bit rounding:
      tools/train_demo_model.py qat), the same answers under `mpirun -np 2`;
  (d) "What is 2+2?" through the official openai npm client, streamed and not: "4", finish_reason
      "stop", no special token in the text; with thinking switched off the same answer.

Run: TESSERA_BIN=build/tessera /usr/bin/python3 tests/server/demo_model_test.py (from the repo root)."""
import concurrent.futures
import filecmp
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import server_test as st  # noqa: E402  (the Server harness and HTTP helpers)

ROOT = st.ROOT
sys.path.insert(0, os.path.join(ROOT, "tools"))
import arithmetic_chat  # noqa: E402

MODEL = os.path.join(ROOT, "data", "demo-model")
MODEL_MLX6 = os.path.join(ROOT, "data", "demo-model-mlx6")
N_QUESTIONS = 300  # the whole held-out set
SPECIAL_MARKERS = ("<|im_end|>", "<|im_start|>", "<|endoftext|>", "<think>", "</think>")
check = st.check


def ask(port, question, thinking=None):
    body = {"messages": [{"role": "user", "content": question}], "max_tokens": 12, "temperature": 0}
    if thinking is not None:
        body["chat_template_kwargs"] = {"enable_thinking": thinking}
    status, r = st.post_json(port, "/v1/chat/completions", body)
    if status != 200:
        return f"<HTTP {status}: {r}>", None
    choice = r["choices"][0]
    return choice["message"]["content"], choice["finish_reason"]


def answer_all(port, questions, concurrency):
    """The server's answer (content, finish_reason) to each question, `concurrency` at a time."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(lambda q: ask(port, q["question"]), questions))


def accuracy(answers, questions):
    right = sum(a.strip() == q["answer"] for (a, _), q in zip(answers, questions))
    return right / len(questions)


def serve_and_answer(model, questions, concurrency, args=(), mpi_ranks=0, name="demo"):
    srv = st.Server(model, args=args, mpi_ranks=mpi_ranks, name=name)
    try:
        return answer_all(srv.port, questions, concurrency)
    finally:
        srv.stop()


def differences(a, b, questions):
    return [(q["question"], x[0], y[0]) for x, y, q in zip(a, b, questions) if x != y]


def test_openai_client(port):
    """(d) 2+2 through the official client, non-streaming and streaming."""
    script = os.path.join(HERE, "ask_demo.mjs")
    proc = subprocess.run(["node", script, f"http://127.0.0.1:{port}/v1", st.API_KEY, "What is 2+2?"],
                          capture_output=True, text=True, timeout=120)
    check("d: openai client ran", proc.returncode == 0, proc.stderr[-800:])
    if proc.returncode != 0:
        return
    r = json.loads(proc.stdout)
    for mode in ("full", "streamed"):
        got = r[mode]
        check(f"d: {mode}: 2+2 = 4", got["content"] == "4", got)
        check(f"d: {mode}: finish_reason stop", got["finish"] == "stop", got)
        check(f"d: {mode}: no special token in the text",
              not any(m in got["content"] + got["reasoning"] for m in SPECIAL_MARKERS), got)
    check("d: thinking off: 2+2 = 4", r["no_thinking"]["content"] == "4", r["no_thinking"])


def main():
    if not os.path.exists(os.path.join(MODEL, "config.json")):
        check("demo model present (data/demo-model)", False)
        return 1
    os.makedirs(st.WORK, exist_ok=True)
    questions = arithmetic_chat.heldout_questions(N_QUESTIONS)
    held = {(q["op"], q["a"], q["b"]) for q in questions}
    check("held-out problems are never training problems", held.isdisjoint(arithmetic_chat.training_problems()))

    # (a) one request at a time, one process: the reference answers.
    single = serve_and_answer(MODEL, questions, 1, args=["--parallel", "1"], name="demo-single")
    acc = accuracy(single, questions)
    wrong = [(q["question"], a) for (a, _), q in zip(single, questions) if a.strip() != q["answer"]][:10]
    print(f"   bf16 held-out accuracy: {acc * 100:.1f} % of {len(questions)}", flush=True)
    check("a: bf16 held-out accuracy >= 95 %", acc >= 0.95, f"{acc:.3f}, e.g. {wrong}")
    check("a: every answer ends with finish_reason stop", all(f == "stop" for _, f in single),
          [f for _, f in single if f != "stop"][:5])

    # (b) batched, -np 2, -np 4: the same answers.
    batched = serve_and_answer(MODEL, questions, 16, name="demo-batched")
    check("b: 16 concurrent (batched) == one at a time", batched == single, differences(batched, single, questions)[:5])
    for ranks in (2, 4):
        tp = serve_and_answer(MODEL, questions, 8, args=["--threads", "1"], mpi_ranks=ranks, name=f"demo-np{ranks}")
        check(f"b: mpirun -np {ranks} == one process", tp == single, differences(tp, single, questions)[:5])

    # (c) the MLX 6-bit checkpoint.
    requant = os.path.join(st.WORK, "demo-model-mlx6")
    subprocess.run(["rm", "-rf", requant], check=True)
    proc = subprocess.run([st.BIN, "quantize", "--model", MODEL, "--bits", "6", "--group", "64", "--out", requant],
                          capture_output=True, text=True, timeout=300)
    check("c: tessera quantize --bits 6 --group 64 ran", proc.returncode == 0, proc.stderr[-500:])
    if proc.returncode == 0:
        names = sorted(os.listdir(MODEL_MLX6))
        same = filecmp.cmpfiles(MODEL_MLX6, requant, [n for n in names if n != "README.md"], shallow=False)
        check("c: committed MLX 6-bit checkpoint == tessera quantize output", not same[1] and not same[2], same)
    # Issue 11's goal for the reference deployment's format: >= 93 % (the model was fine-tuned for
    # its 6-bit rounding; before that it reached 91.7 %).
    mlx = serve_and_answer(MODEL_MLX6, questions, 16, name="demo-mlx6")
    acc6 = accuracy(mlx, questions)
    print(f"   MLX 6-bit held-out accuracy: {acc6 * 100:.1f} %", flush=True)
    check(f"c: MLX 6-bit held-out accuracy {acc6 * 100:.1f} % >= 93 %", acc6 >= 0.93)
    check("c: MLX 6-bit checkpoint answers every question with finish_reason stop",
          all(f == "stop" for _, f in mlx), [f for _, f in mlx if f != "stop"][:5])
    # Tensor-parallel: group 64 splits the 128-wide expert inputs in two, so -np 2 (not 4).
    mlx_np2 = serve_and_answer(MODEL_MLX6, questions, 16, mpi_ranks=2, name="demo-mlx6-np2")
    check("c: MLX 6-bit under mpirun -np 2 == one process", mlx_np2 == mlx, differences(mlx, mlx_np2, questions)[:5])
    srv = st.Server(MODEL_MLX6, name="demo-mlx6-2plus2")
    try:
        check("c: MLX 6-bit: 2+2 = 4", ask(srv.port, "What is 2+2?")[0] == "4")
    finally:
        srv.stop()

    # (d) the official client.
    if st.ensure_openai_client():
        srv = st.Server(MODEL, name="demo-client")
        try:
            test_openai_client(srv.port)
        finally:
            srv.stop()
    else:
        check("d: openai npm client available", False)

    print(f"{len(st.FAILURES)} failure(s)" if st.FAILURES else "all demo-model tests passed", flush=True)
    return 1 if st.FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
