"""Engine logits at every position against the independent NumPy reference (tools/reference_forward.py),
for every family and checkpoint format the generator writes, for prompt lengths that straddle the
64-token DeltaNet chunk; then incremental decode against full recompute, and the golden checkpoints.

Tolerance: max |engine - reference| <= 1e-4 * max |reference logit| (fp32 engine vs float64
reference; observed ~2e-6). Prompts whose smallest top-k routing gap is below 1e-5 are redrawn, so a
legitimate rounding difference cannot flip an expert choice (ARCHITECTURE.md, "A trap in step 3")."""
import json
import os

import numpy as np

import reference_forward
from tessera_testlib import DATA, Checks, engine_logits, make_checkpoint, max_rel_diff

TOL = 1e-4
checks = Checks("engine_vs_reference")


def safe_prompt(model, length, vocab, seed):
    """A random prompt whose routing decisions are not near-ties, with its reference logits."""
    for attempt in range(20):
        rng = np.random.default_rng(seed * 1000 + attempt)
        tokens = [int(t) for t in rng.integers(0, vocab, size=length)]
        logits, gap = reference_forward.forward(model, tokens)
        if gap is None or gap > 1e-5:
            return tokens, logits
    raise AssertionError(f"no prompt of length {length} without routing near-ties for {model}")


CASES = [
    # (name, generator args, prompt lengths)
    ("qwen3_5_moe", ["--family", "qwen3_5_moe", "--seed", "11"], [1, 7, 64, 65, 200]),
    ("qwen3_5", ["--family", "qwen3_5", "--seed", "12"], [1, 7, 64, 65, 200]),
    ("qwen3_5_moe-textonly-sharded-perexpert",
     ["--family", "qwen3_5_moe", "--seed", "13", "--text-only", "--shards", "3", "--experts", "per-expert"], [65]),
    ("qwen3_5-tied", ["--family", "qwen3_5", "--seed", "14", "--tie"], [65]),
    ("qwen3_next", ["--family", "qwen3_next", "--seed", "15"], [7, 65]),
    ("qwen3_next-dense-layers", ["--family", "qwen3_next", "--seed", "16", "--mlp-only-layers", "1"], [65]),
    ("qwen3_moe", ["--family", "qwen3_moe", "--seed", "17"], [7, 65]),
    ("qwen3_5-mlx3-g32", ["--family", "qwen3_5", "--seed", "19", "--layout", "mlx", "--bits", "3", "--group-size", "32"], [65]),
    ("qwen3_next-mlx5", ["--family", "qwen3_next", "--seed", "20", "--layout", "mlx", "--bits", "5"], [65]),
    ("qwen3_moe-mlx2", ["--family", "qwen3_moe", "--seed", "21", "--layout", "mlx", "--bits", "2"], [65]),
]
# Every family in the mlx-community layout at the widths people download (group 64).
for i, family in enumerate(["qwen3_5_moe", "qwen3_5", "qwen3_next", "qwen3_moe"]):
    for bits in ["4", "6", "8"]:
        CASES.append((f"{family}-mlx{bits}", ["--family", family, "--seed", str(60 + i), "--layout", "mlx", "--bits", bits], [65]))

for name, args, lengths in CASES:
    model = make_checkpoint(name, *args)
    vocab = json.load(open(os.path.join(model, "config.json"))).get("vocab_size") or \
        json.load(open(os.path.join(model, "config.json")))["text_config"]["vocab_size"]
    for length in lengths:
        tokens, ref = safe_prompt(model, length, vocab, seed=length)
        got = engine_logits(model, tokens)
        d = max_rel_diff(got, ref)
        checks.check(got.shape == ref.shape and d <= TOL, f"{name} T={length}: max rel diff {d:.2e} <= {TOL}")

# Incremental decode == full recompute: prefill n tokens, decode the rest one at a time.
for name in ["qwen3_5_moe", "qwen3_next", "qwen3_moe", "qwen3_5_moe-mlx4"]:
    model = os.path.join(os.environ.get("TESSERA_WORK", "build/test-work"), "ckpt", name)
    tokens, _ = safe_prompt(model, 70, 512, seed=99)
    full = engine_logits(model, tokens)
    for n in [1, 2, 64, 66]:
        inc = engine_logits(model, tokens, prefill=n)
        d = max_rel_diff(inc, full)
        checks.check(d <= TOL, f"{name}: prefill({n}) + decode({70 - n}) == prefill(70): rel diff {d:.2e}")

# Golden checkpoints: expected logits from an independent float32 implementation.
golden_root = os.path.join(DATA, "golden")
for name in sorted(os.listdir(golden_root)):
    d = os.path.join(golden_root, name)
    if not os.path.isdir(d):
        continue
    exp = json.load(open(os.path.join(d, "expected.json")))
    got = engine_logits(d, exp["prompt"])
    diff = float(np.abs(got - np.array(exp["all_logits"])).max() / exp["logit_scale_maxabs"])
    checks.check(diff <= TOL, f"golden {name}: max rel diff {diff:.2e}")

checks.done()
