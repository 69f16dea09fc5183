"""Helpers shared by the Python integration tests: where the binary and scratch space are, how to
write tiny checkpoints, and how to run tessera (optionally under mpirun) and read its JSON."""
import json
import os
import subprocess
import sys

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
