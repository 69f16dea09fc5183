"""Helpers shared by the Python integration tests: where the binary and scratch space are, how to
write tiny checkpoints, and how to run tessera (optionally under mpirun) and read its JSON."""
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np

SOURCE = os.environ.get("TESSERA_SOURCE", os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))
BIN = os.environ.get("TESSERA_BIN", os.path.join(SOURCE, "build", "tessera"))
# Test fixtures kept in the repository (tests/data/SOURCES.md): golden checkpoints, tokenizer files.
DATA = os.environ.get("TESSERA_DATA", os.path.join(SOURCE, "tests", "data"))
TOKENIZERS = os.path.join(DATA, "tokenizers")
WORK = os.environ.get("TESSERA_WORK", os.path.join(SOURCE, "build", "test-work"))
PY = "/usr/bin/python3"
MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--mca", "mpi_yield_when_idle", "1"]
DEMO_TOKENIZER = os.path.join(SOURCE, "data", "tokenizer-qwen3-demo")

sys.path.insert(0, os.path.join(SOURCE, "tools"))


def work_dir(name):
    path = os.path.join(WORK, name)
    os.makedirs(path, exist_ok=True)
    return path


def make_checkpoint(name, *args):
    """Writes (once) a tiny checkpoint with tools/make_tiny_checkpoint.py and returns its dir.
    Tests run in parallel, so it is written to a private folder and renamed into place."""
    out = os.path.join(WORK, "ckpt", name)
    if not os.path.exists(os.path.join(out, "config.json")):
        tmp = f"{out}.tmp-{os.getpid()}"
        subprocess.run([PY, os.path.join(SOURCE, "tools", "make_tiny_checkpoint.py"), tmp, *args],
                       check=True, stdout=subprocess.DEVNULL)
        try:
            os.rename(tmp, out)
        except OSError:  # another test wrote it first
            subprocess.run(["rm", "-rf", tmp], check=True)
    return out


def run(args, np_ranks=0, threads=None, check=True, timeout=600):
    cmd = ([*MPIRUN, "-np", str(np_ranks)] if np_ranks else []) + [BIN, *args]
    if threads is not None:
        cmd += ["--threads", str(threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc


def run_json(args, **kw):
    proc = run(args, **kw)
    lines = [l for l in proc.stdout.splitlines() if l.strip()]
    assert len(lines) == 1, f"expected one JSON line on stdout, got {len(lines)}:\n{proc.stdout[:2000]}"
    return json.loads(lines[0])


def engine_logits(model, tokens, np_ranks=0, threads=None, prefill=None):
    args = ["logits", "--model", model, "--tokens", ",".join(map(str, tokens)), "--all-positions"]
    if prefill is not None:
        args += ["--prefill", str(prefill)]
    return np.array(run_json(args, np_ranks=np_ranks, threads=threads)["logits"], dtype=np.float64)


def max_rel_diff(a, b):
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


class Checks:
    """Counts assertions and reports them; exits non-zero on the first failure."""

    def __init__(self, name):
        self.name, self.passed = name, 0

    def check(self, cond, what):
        if not cond:
            print(f"FAIL [{self.name}] {what}", flush=True)
            sys.exit(1)
        self.passed += 1
        print(f"ok   {what}", flush=True)

    def done(self):
        print(f"{self.name}: {self.passed} checks passed")


def start_serve(model, args, log_path, np_ranks=0, timeout=120):
    """Starts `tessera serve` on a free port (in its own process group); returns (process, port)
    once it logs that it is ready."""
    cmd = [BIN, "serve", "--model", model, "--port", "0", *args]
    if np_ranks:
        cmd = [*MPIRUN, "-np", str(np_ranks), *cmd]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + timeout
    while time.time() < deadline:
        with open(log_path, errors="replace") as f:
            text = f.read()
        m = re.search(r"ready: serving .* on http://[^:]+:(\d+)", text)
        if m:
            return proc, int(m.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    stop_serve(proc)
    raise AssertionError(f"server did not start:\n{text[-3000:]}")


def stop_serve(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def http_call(port, method, path, body=None, timeout=300):
    """One request to 127.0.0.1:port; returns the body text, raising unless the status is 200."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request(method, path, body=None if body is None else json.dumps(body),
                 headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    payload = resp.read().decode()
    conn.close()
    assert resp.status == 200, (resp.status, payload)
    return payload


# User messages of a five-turn chat (prefix-cache test and bench/prefix_cache_ttft.py): each turn
# appends one of these and the previous answer, so every prompt extends the one before.
CHAT_USER_TURNS = [
    "Tell me about the history of the bicycle, from the draisine to the safety bicycle, in a few lines.",
    "Which of those inventions mattered most for ordinary riders, and why would a historian say so?",
    "Now compare that with the history of the motor car over the same decades, briefly please.",
    "What did city streets look like in 1900 with both of them on the road at the same time?",
    "Summarise our whole conversation in three bullet points that a child could understand.",
]
