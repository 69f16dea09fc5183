#!/usr/bin/python3
"""The NumPy reference (tools/reference_forward.py) against the golden checkpoints in tests/data/golden:
all_logits at every prompt position within 1e-4 x logit_scale_maxabs, the greedy continuation, the
chunked Gated DeltaNet form against the recurrent one, and the CLI.

Run: /usr/bin/python3 tests/model/reference_golden_test.py (from the repo root; tools/ on PYTHONPATH or not)."""
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TOOLS = os.path.join(ROOT, "tools")
sys.path.insert(0, TOOLS)
import reference_forward as rf  # noqa: E402


# The golden checkpoints are kept in the repository (tests/data/SOURCES.md).
GOLDEN = os.path.join(os.environ.get("TESSERA_DATA") or os.path.join(ROOT, "tests", "data"), "golden")


RESULTS = []


def check(name, cond, detail=""):
    RESULTS.append((name, bool(cond), detail))
    print(("PASS " if cond else "FAIL ") + name + (f"  ({detail})" if detail else ""), flush=True)


def test_golden(gdir):
    exp_path = os.path.join(gdir, "expected.json")
    with open(exp_path) as f:
        exp = json.load(f)
    name = os.path.basename(gdir)
    m = rf.Model(gdir)
    logits, gap = m.forward(exp["prompt"])
    ref = np.asarray(exp["all_logits"], dtype=np.float64)
    scale = float(exp["logit_scale_maxabs"])
    ok_shape = logits.shape == ref.shape
    check(f"{name}: logits shape {logits.shape}", ok_shape, f"expected {ref.shape}")
    if not ok_shape:
        return
    diff = float(np.abs(logits - ref).max())
    check(f"{name}: all_logits max|diff| <= 1e-4*scale", diff <= 1e-4 * scale,
          f"max|diff| {diff:.3g}, rel {diff / scale:.3g}")
    check(f"{name}: last_argmax", int(np.argmax(logits[-1])) == int(exp["last_argmax"]))
    if exp.get("last_logits") is not None:
        ld = float(np.abs(logits[-1] - np.asarray(exp["last_logits"])).max())
        check(f"{name}: last_logits", ld <= 1e-4 * scale, f"{ld:.3g}")
    gen = m.generate(exp["prompt"], len(exp["generated"]))
    check(f"{name}: greedy continuation", gen == exp["generated"], f"got {gen} want {exp['generated']}")
    is_moe = any(m.cfg.is_moe)
    check(f"{name}: min_routing_gap {'set' if is_moe else 'null'}",
          (gap is not None and gap >= 0) if is_moe else gap is None, f"{gap}")
    if any(t == "linear_attention" for t in m.cfg.layer_types):
        m.gdn_mode = "chunked"
        lc, _ = m.forward(exp["prompt"])
        dc = float(np.abs(lc - ref).max())
        check(f"{name}: chunked GDN form matches golden", dc <= 1e-4 * scale, f"{dc:.3g}")
    return diff / scale


def test_chunked_vs_recurrent():
    rng = np.random.default_rng(7)
    worst = 0.0
    for T in (1, 3, 63, 64, 65, 130, 200):
        for nonzero_state in (False, True):
            nv, dk, dv = 2, 16, 8
            q = rng.normal(size=(T, nv, dk))
            q /= np.linalg.norm(q, axis=-1, keepdims=True) * 4
            k = rng.normal(size=(T, nv, dk))
            k /= np.linalg.norm(k, axis=-1, keepdims=True)
            v = rng.normal(size=(T, nv, dv))
            g = -rng.uniform(0, 3, size=(T, nv))
            b = rng.uniform(0, 1, size=(T, nv))
            S0 = rng.normal(size=(nv, dk, dv)) if nonzero_state else None
            o1, s1 = rf.gated_delta_recurrent(q, k, v, g, b, S0)
            o2, s2 = rf.gated_delta_chunked(q, k, v, g, b, S0)
            worst = max(worst, float(np.abs(o1 - o2).max()), float(np.abs(s1 - s2).max()))
    check("GDN chunked (C=64) == recurrent for T in 1,3,63,64,65,130,200", worst < 1e-10, f"worst {worst:.3g}")


def test_cli(gdir):
    with open(os.path.join(gdir, "expected.json")) as f:
        exp = json.load(f)
    with tempfile.TemporaryDirectory() as td:
        out = os.path.join(td, "o.json")
        toks = ",".join(str(t) for t in exp["prompt"][:10])
        r = subprocess.run([sys.executable, os.path.join(TOOLS, "reference_forward.py"), "--model", gdir,
                            "--tokens", toks, "--out", out], capture_output=True, text=True, timeout=120)
        check("CLI exit status 0", r.returncode == 0, r.stderr[-500:])
        if r.returncode != 0:
            return
        with open(out) as f:
            res = json.load(f)
        lg = np.asarray(res["logits"])
        ref = np.asarray(exp["all_logits"])[:10]
        d = float(np.abs(lg - ref).max())
        check("CLI logits (first 10 positions, causal prefix) match golden",
              lg.shape == ref.shape and d <= 1e-4 * exp["logit_scale_maxabs"], f"{d:.3g}")
        check("CLI min_routing_gap key present", "min_routing_gap" in res)


def main():
    t0 = time.time()
    gold = GOLDEN
    if not os.path.isdir(gold):
        print(f"FAIL: {gold} not found (set TESSERA_DATA to the folder holding golden/)")
        return 1
    dirs = sorted(os.path.join(gold, d) for d in os.listdir(gold)
                  if os.path.exists(os.path.join(gold, d, "expected.json")))
    check("golden checkpoints found", len(dirs) >= 4, f"{len(dirs)}")
    # dense first, then moe, next, mlx (the order the brief asks for)
    order = {"qwen3_5-": 0, "qwen3_5_moe-tiny-s101": 1, "qwen3_next": 2}
    dirs.sort(key=lambda p: min([v for k, v in order.items() if os.path.basename(p).startswith(k)] + [3]))
    rels = {}
    for d in dirs:
        rels[os.path.basename(d)] = test_golden(d)
    test_chunked_vs_recurrent()
    moe = [d for d in dirs if "moe" in os.path.basename(d)]
    test_cli(moe[0] if moe else dirs[0])
    for k, v in rels.items():
        print(f"  {k}: max rel diff {v:.3g}" if v is not None else f"  {k}: -")
    n_pass = sum(1 for _, ok, _ in RESULTS if ok)
    n_fail = len(RESULTS) - n_pass
    print(f"{n_pass} passed, {n_fail} failed   ({time.time() - t0:.1f}s)")
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
