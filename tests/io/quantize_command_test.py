"""`tessera quantize` writes mlx-community MLX affine checkpoints.

For a Qwen3.5-MoE checkpoint (HF layout: nested config, fused experts) and a Qwen3-Next one (flat
config, fused in_proj_qkvz, per-expert tensors), at 6 bits / group 64 and 4 bits / group 32:
  1. every tensor written (names, shapes, dtypes, bytes: uint32 codes, bf16 scales and biases, +1
     baked into the zero-centred norms, conv1d [C, K, 1], switch_mlp stacks) and the config's
     quantization blocks equal what tools/make_tiny_checkpoint.py --layout mlx writes from the same
     weights through tools/mlx_quant.py; and directly: mlx_quant.quantize of the source bf16
     embedding and of the experts' gate rows gives exactly the written codes, scales and biases;
  2. tessera's logits on the output equal the NumPy reference's on the output (dequantized) at every
     position: max |diff| <= 1e-4 * max |logit| (fp32 engine vs float64 reference);
  3. against `tessera logits --quantize` on the original (same rule, same bits, group 64): equal up
     to the two things the MLX checkpoint does differently: routers and shared-expert gates at 8 bits
     (--quantize keeps them float) and norm weights with the +1 rounded to bf16;
  4. bad requests exit 1 with a message naming the problem."""
import json
import os
import shutil
import subprocess

import numpy as np

import mlx_quant
import reference_forward
import safetensors_io as sio
from tessera_testlib import BIN, MPIRUN, Checks, engine_logits, make_checkpoint, max_rel_diff, run, run_json, work_dir

TOL = 1e-4
checks = Checks("quantize_command")
root = work_dir("quantize-command")


def fresh(name):
    path = os.path.join(root, name)
    shutil.rmtree(path, ignore_errors=True)
    return path


def tensors_of(model):
    return sio.load_dir(model, raw=True)[0]


def raw_bits(v):
    return v.bits if isinstance(v, sio.BF16) else np.asarray(v)


def quantize(model, out, bits, group):
    proc = run(["quantize", "--model", model, "--bits", str(bits), "--group", str(group), "--out", out], check=False)
    checks.check(proc.returncode == 0, f"quantize {os.path.basename(model)} {bits}b g{group}: exit 0 {proc.stderr[-500:]}")
    return json.loads(proc.stdout)


def safe_prompt(model, length, seed):
    """A prompt without top-k routing near-ties (so rounding cannot flip an expert), with reference logits."""
    for attempt in range(20):
        tokens = [int(t) for t in np.random.default_rng(seed * 100 + attempt).integers(0, 500, size=length)]
        ref, gap = reference_forward.forward(model, tokens)
        if gap is None or gap > 1e-5:
            return tokens, ref
    raise AssertionError(f"no prompt without routing near-ties for {model}")


CASES = [("qwen3_5_moe", ["--family", "qwen3_5_moe", "--seed", "31"]),
         ("qwen3_next", ["--family", "qwen3_next", "--seed", "32"])]
for family, args in CASES:
    source = make_checkpoint(f"quantize-src-{family}", *args)
    for bits, group in [(6, 64), (4, 32)]:
        tag = f"{family} {bits}b g{group}"
        out = fresh(f"{family}-{bits}b-g{group}")
        summary = quantize(source, out, bits, group)
        for f in ["config.json", "generation_config.json", "model.safetensors"]:
            checks.check(os.path.exists(os.path.join(out, f)), f"{tag}: wrote {f}")

        # 1. the written checkpoint equals the NumPy MLX writer's, tensor by tensor, byte for byte
        expected_dir = make_checkpoint(f"quantize-mlx-{family}-{bits}-{group}", *args, "--layout", "mlx",
                                       "--bits", str(bits), "--group-size", str(group))
        got, want = tensors_of(out), tensors_of(expected_dir)
        checks.check(sorted(got) == sorted(want), f"{tag}: the {len(got)} tensor names are mlx-lm's "
                     f"(extra {sorted(set(got) - set(want))[:3]}, missing {sorted(set(want) - set(got))[:3]})")
        differ = [n for n in want if n in got and (raw_bits(got[n]).dtype != raw_bits(want[n]).dtype
                                                    or not np.array_equal(raw_bits(got[n]), raw_bits(want[n])))]
        checks.check(not differ, f"{tag}: every tensor equals tools/mlx_quant.py's bit for bit (differ: {differ[:3]})")
        cfg_got = json.load(open(os.path.join(out, "config.json")))
        cfg_want = json.load(open(os.path.join(expected_dir, "config.json")))
        checks.check(cfg_got["quantization"] == cfg_want["quantization"] == cfg_got["quantization_config"],
                     f"{tag}: config quantization blocks (with {len(cfg_got['quantization']) - 3} 8-bit overrides) as mlx-lm's")
        n_quantized = sum(1 for n in got if n.endswith(".scales"))
        checks.check(summary["quantized"] == n_quantized and summary["skipped"] == (2 if family == "qwen3_5_moe" else 1),
                     f"{tag}: {n_quantized} modules quantized, {summary['skipped']} vision/MTP tensors dropped")

        # ... and directly from the source's bf16 weights
        src = tensors_of(source)
        prefix_in, prefix_out = ("model.language_model.", "language_model.model.") if family == "qwen3_5_moe" \
            else ("model.", "model.")
        embed = sio.bf16_bits_to_f32(raw_bits(src[prefix_in + "embed_tokens.weight"]))
        wq, s, b = mlx_quant.quantize(embed, group, bits)
        e = prefix_out + "embed_tokens."
        same = (np.array_equal(wq, got[e + "weight"]) and np.array_equal(s, raw_bits(got[e + "scales"]))
                and np.array_equal(b, raw_bits(got[e + "biases"])))
        checks.check(same, f"{tag}: embed_tokens codes/scales/biases == mlx_quant.quantize(source bf16)")
        if family == "qwen3_5_moe":
            fused = sio.bf16_bits_to_f32(raw_bits(src[prefix_in + "layers.0.mlp.experts.gate_up_proj"]))
            gate = fused[:, : fused.shape[1] // 2, :]
        else:
            n_exp = json.load(open(os.path.join(source, "config.json")))["num_experts"]
            gate = np.stack([sio.bf16_bits_to_f32(raw_bits(src[f"model.layers.0.mlp.experts.{i}.gate_proj.weight"]))
                             for i in range(n_exp)])
        wq, s, b = mlx_quant.quantize(gate, group, bits)
        g = prefix_out + "layers.0.mlp.switch_mlp.gate_proj."
        same = (np.array_equal(wq, got[g + "weight"]) and np.array_equal(s, raw_bits(got[g + "scales"]))
                and np.array_equal(b, raw_bits(got[g + "biases"])))
        checks.check(same, f"{tag}: stacked expert gate_proj {list(gate.shape)} == mlx_quant.quantize(source bf16)")

        # 2. engine vs NumPy reference on the written checkpoint, every position
        tokens, ref = safe_prompt(out, 40, seed=bits)
        eng = engine_logits(out, tokens)
        d = max_rel_diff(eng, ref)
        checks.check(eng.shape == ref.shape and d <= TOL, f"{tag}: tessera vs reference on the output: "
                     f"max|diff| = {d:.2e} x max|logit| <= {TOL}")

        # 3. against load-time quantization of the original (--quantize has group 64 only)
        if group == 64:
            onload = np.array(run_json(["logits", "--model", source, "--tokens", ",".join(map(str, tokens)),
                                        "--all-positions", "--quantize", f"q{bits}"])["logits"])
            d_onload = max_rel_diff(onload, eng)
            d_float = max_rel_diff(engine_logits(source, tokens), eng)
            print(f"     {tag}: --quantize q{bits} on the original vs the written checkpoint: max rel diff "
                  f"{d_onload:.2e} (float original vs written: {d_float:.2e})")
            checks.check(d_onload < d_float, f"{tag}: --quantize q{bits} on the original is closer to the written "
                         f"checkpoint ({d_onload:.2e}) than the float model is ({d_float:.2e})")

# 4. refusals: exit 1, a message naming the problem, nothing left behind
source = make_checkpoint("quantize-src-qwen3_5_moe", *CASES[0][1])
quantized = os.path.join(root, "qwen3_5_moe-6b-g64")
odd = make_checkpoint("quantize-src-hidden96", "--family", "qwen3_5", "--seed", "33", "--hidden", "96")
occupied = fresh("occupied")
os.makedirs(occupied)
open(os.path.join(occupied, "keep.txt"), "w").write("x")


def refused(args, needle, what, np_ranks=0):
    cmd = ([*MPIRUN, "-np", str(np_ranks), BIN] if np_ranks else [BIN]) + ["quantize", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    ok = proc.returncode == 1 and needle in proc.stderr
    checks.check(ok, f"refused {what}: exit {proc.returncode}, '{proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ''}'")


target = fresh("refused")
refused(["--model", source, "--bits", "7", "--out", target], "--bits 7 is not supported", "7 bits")
refused(["--model", source, "--bits", "4", "--group", "48", "--out", target], "--group 48 is not supported", "group 48")
refused(["--model", quantized, "--bits", "4", "--out", target], "already quantized", "an MLX-quantized input")
refused(["--model", source, "--bits", "4", "--out", occupied], "is not an empty directory", "a non-empty --out")
refused(["--model", odd, "--bits", "4", "--group", "64", "--out", target],
        "tensor 'lm_head.weight' [512, 96] has input dimension 96, which group size 64 "
        "does not divide (--group 32 would)", "hidden 96 at group 64, naming the tensor")
checks.check(not os.path.exists(target), "a refused run leaves no output directory behind")
checks.check(os.listdir(occupied) == ["keep.txt"], "a non-empty --out is left untouched")
refused(["--model", source, "--bits", "4", "--out", target], "runs in one process", "under mpirun -np 2", np_ranks=2)
checks.done()
