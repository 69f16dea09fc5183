"""--quantize q8|q6|q4 turns a bf16 checkpoint into MLX affine weights on load: the logits stay close
to the unquantized model's (error shrinking with more bits), the weights held per rank shrink
accordingly, and tensor parallelism still matches single-process.

Tiny random models amplify weight noise (a bf16 rounding of the norm weights alone moves their logits
by ~3%), so the closeness bounds are on the mean relative error of a dense model (no routing flips)
and are loose; the exact checks of the quantizer and its kernels are in tests/kernels."""
import numpy as np

from tessera_testlib import Checks, engine_logits, make_checkpoint, max_rel_diff, run_json

checks = Checks("quantize_on_load")
DIMS = ["--hidden", "128", "--heads", "4", "--kv-heads", "2", "--linear-key-heads", "4", "--linear-value-heads", "8",
        "--moe-inter", "128", "--shared-inter", "128"]
dense = make_checkpoint("quant-qwen3_5", "--family", "qwen3_5", "--seed", "41", *DIMS)
model = make_checkpoint("quant-qwen3_5_moe", "--family", "qwen3_5_moe", "--seed", "41", *DIMS)
tokens = [int(t) for t in np.random.default_rng(3).integers(0, 512, size=40)]
base = engine_logits(dense, tokens)


def logits_q(q, np_ranks=0, threads=None, model=model):
    args = ["logits", "--model", model, "--tokens", ",".join(map(str, tokens)), "--all-positions", "--quantize", q]
    return np.array(run_json(args, np_ranks=np_ranks, threads=threads)["logits"])


errors = {}
for q, bound in [("q8", 0.05), ("q6", 0.25), ("q4", 0.7)]:
    got = logits_q(q, model=dense)
    errors[q] = float(np.abs(got - base).mean() / np.abs(base).mean())
    checks.check(errors[q] <= bound, f"--quantize {q}: mean rel logit error {errors[q]:.4f} <= {bound}")
checks.check(errors["q8"] < errors["q6"] < errors["q4"], "error grows as bits shrink")

for q in ["q8", "q4"]:
    tp1 = logits_q(q)
    tp2 = logits_q(q, np_ranks=2, threads=1)
    d = max_rel_diff(tp2, tp1)
    checks.check(d <= 1e-4, f"--quantize {q} under -np 2 equals single-process: rel diff {d:.2e}")
bench8 = run_json(["bench", "--model", model, "--prompt-tokens", "4", "--gen-tokens", "2", "--quantize", "q8"])
bench4 = run_json(["bench", "--model", model, "--prompt-tokens", "4", "--gen-tokens", "2", "--quantize", "q4"])
bench16 = run_json(["bench", "--model", model, "--prompt-tokens", "4", "--gen-tokens", "2"])
w16, w8, w4 = bench16["weight_bytes_rank0"], bench8["weight_bytes_rank0"], bench4["weight_bytes_rank0"]
checks.check(w4 < w8 < w16, f"weights held: bf16 {w16} > q8 {w8} > q4 {w4} bytes")
checks.done()
