#!/usr/bin/python3
"""Tests of tools/make_tiny_checkpoint.py, tools/mlx_quant.py and tools/safetensors_io.py, with the NumPy
reference (tools/reference_forward.py) loading every generated checkpoint.

Run: /usr/bin/python3 tests/model/generator_test.py (from the repo root)."""
import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TOOLS = os.path.join(ROOT, "tools")
sys.path.insert(0, TOOLS)
import safetensors_io as sio  # noqa: E402
import mlx_quant as mq  # noqa: E402
import make_tiny_checkpoint as mtc  # noqa: E402
import reference_forward as rf  # noqa: E402

RESULTS = []
FAMILIES = ("qwen3_5_moe", "qwen3_5", "qwen3_next", "qwen3_moe")
TOKENS = [5, 17, 300, 42, 7, 99, 12, 400, 3, 250, 64, 128, 1, 2, 3, 4, 77, 311, 45, 9]


def check(name, cond, detail=""):
    RESULTS.append((name, bool(cond), detail))
    if not cond or os.environ.get("VERBOSE"):
        print(("PASS " if cond else "FAIL ") + name + (f"  ({detail})" if detail else ""), flush=True)


# Tokenizer fixtures kept in the repository (tests/data/SOURCES.md).
TOKENIZERS = os.path.join(os.environ.get("TESSERA_DATA") or os.path.join(ROOT, "tests", "data"), "tokenizers")


# ---------------------------------------------------------------------------------------------
# MLX packing: expected words written by hand from the bit-stream rule
# (code c occupies bits [c*bits, (c+1)*bits) of the row; bit i lives in word i//32 at position i%32)
# ---------------------------------------------------------------------------------------------

def test_packing_known_values():
    cases = []
    # 2-bit: code 0 = 1 -> bit 0; code 15 = 3 -> bits 30,31
    c = [0] * 16
    c[0], c[15] = 1, 3
    cases.append((2, c, [0xC0000001]))
    # 4-bit: codes 0..7 -> nibbles
    cases.append((4, list(range(8)), [0x76543210]))
    # 8-bit: byte c = code c
    cases.append((8, [1, 2, 3, 4, 0xFF, 0, 0x80, 0x7F], [0x04030201, 0x7F8000FF]))
    # 3-bit, 32 codes = 96 bits = 3 words.
    #   code 0 = 3 (0b011): bits 0,1                      -> w0 |= 0x00000003
    #   code 10 = 7 (0b111): bits 30,31 | 32              -> w0 |= 0xC0000000, w1 |= 0x1   (straddles w0/w1)
    #   code 21 = 5 (0b101): bit 63 = 1, bit 64 = 0, bit 65 = 1 -> w1 |= 0x80000000, w2 |= 0x2 (straddles w1/w2)
    #   code 31 = 4 (0b100): bit 95                        -> w2 |= 0x80000000
    c = [0] * 32
    c[0], c[10], c[21], c[31] = 3, 7, 5, 4
    cases.append((3, c, [0xC0000003, 0x80000001, 0x80000002]))
    # 5-bit, 32 codes = 160 bits = 5 words.
    #   code 0 = 1: bit 0                                                  -> w0 |= 0x1
    #   code 6 = 23 (0b10111): bits 30,31 = 1,1 | 32,33,34 = 1,0,1          -> w0 |= 0xC0000000, w1 |= 0x5
    #   code 12 = 25 (0b11001): bits 60,61,62,63 = 1,0,0,1 | 64 = 1         -> w1 |= 0x90000000, w2 |= 0x1
    #   code 31 = 31: bits 155..159 = w4 bits 27..31                        -> w4 |= 0xF8000000
    c = [0] * 32
    c[0], c[6], c[12], c[31] = 1, 23, 25, 31
    cases.append((5, c, [0xC0000001, 0x90000005, 0x00000001, 0x00000000, 0xF8000000]))
    # 6-bit, 32 codes = 192 bits = 6 words.
    #   code 1 = 63: bits 6..11                                            -> w0 |= 0x00000FC0
    #   code 5 = 45 (0b101101): bits 30,31 = 1,0 | 32..35 = 1,1,0,1          -> w0 |= 0x40000000, w1 |= 0xB
    #   code 10 = 51 (0b110011): bits 60..63 = 1,1,0,0 | 64,65 = 1,1         -> w1 |= 0x30000000, w2 |= 0x3
    #   code 31 = 2 (0b000010): bit 187 = w5 bit 27                         -> w5 |= 0x08000000
    c = [0] * 32
    c[1], c[5], c[10], c[31] = 63, 45, 51, 2
    cases.append((6, c, [0x40000FC0, 0x3000000B, 0x00000003, 0x00000000, 0x00000000, 0x08000000]))
    for bits, codes, words in cases:
        got = mq.pack(np.array([codes], dtype=np.uint32), bits)[0].tolist()
        check(f"pack {bits}-bit known words", got == words, f"got {[hex(w) for w in got]} want {[hex(w) for w in words]}")
        back = mq.unpack(np.array([words], dtype=np.uint32), bits)[0].tolist()
        check(f"unpack {bits}-bit known words", back == codes, f"got {back}")


def test_packing_roundtrip_and_spec_formulas():
    rng = np.random.default_rng(3)
    for bits in mq.SUPPORTED_BITS:
        codes = rng.integers(0, 1 << bits, size=(3, 5, 128), dtype=np.uint32)
        w = mq.pack(codes, bits)
        check(f"pack shape {bits}-bit", w.shape == (3, 5, 128 * bits // 32) and w.dtype == np.uint32)
        check(f"unpack(pack) {bits}-bit", (mq.unpack(w, bits) == codes).all())
    # spec §5.3 6-bit byte formulas on the little-endian byte stream
    codes = rng.integers(0, 64, size=(4, 64), dtype=np.uint32)
    by = mq.pack(codes, 6).astype("<u4").view(np.uint8).reshape(4, -1)
    b0, b1, b2 = by[:, 0::3].astype(np.uint32), by[:, 1::3].astype(np.uint32), by[:, 2::3].astype(np.uint32)
    q = np.stack([b0 & 63, (b0 >> 6) | ((b1 & 15) << 2), (b1 >> 4) | ((b2 & 3) << 4), b2 >> 2], -1).reshape(4, 64)
    check("6-bit matches spec byte formulas", (q == codes).all())
    # spec 4-bit formula code c = (word[c/8] >> 4*(c%8)) & 15
    codes = rng.integers(0, 16, size=(2, 64), dtype=np.uint32)
    w = mq.pack(codes, 4)
    q = np.stack([(w[:, c // 8] >> (4 * (c % 8))) & 15 for c in range(64)], -1)
    check("4-bit matches spec word formula", (q == codes).all())


def test_quantize_error():
    rng = np.random.default_rng(11)
    for bits in mq.SUPPORTED_BITS:
        for gs in mq.SUPPORTED_GROUPS:
            w = sio.round_bf16(rng.standard_normal((16, 256), dtype=np.float32) * 0.1)
            w[0, :gs] = 0.0  # an all-zero group
            w[1, :gs] = 0.05  # a constant group
            wq, s, b = mq.quantize(w, gs, bits)
            check(f"quantize {bits}b/g{gs} shapes",
                  wq.shape == (16, 256 * bits // 32) and s.shape == (16, 256 // gs) and s.dtype == np.uint16)
            d = mq.dequantize(wq, s, b, gs, bits)
            sf = np.repeat(sio.bf16_bits_to_f32(s), gs, axis=-1).astype(np.float64)
            bf = np.repeat(sio.bf16_bits_to_f32(b), gs, axis=-1).astype(np.float64)
            n = (1 << bits) - 1
            codes = mq.unpack(wq, bits)
            err = np.abs(d.astype(np.float64) - w)
            # by construction the dequantized value uses the stored bf16 scale/bias
            man = sf * codes + bf
            check(f"dequantize == bf16 scale*q + bias {bits}b/g{gs}", np.allclose(d, man, rtol=1e-6, atol=1e-9))
            inner = (codes > 0) & (codes < n)
            tol_inner = np.abs(sf) / 2 * (1 + 1e-5) + 1e-9
            check(f"|w - deq| <= |scale|/2 for unclipped codes {bits}b/g{gs}", (err[inner] <= tol_inner[inner]).all(),
                  f"worst {float((err / np.abs(sf))[inner].max()):.4f} scale")
            # at the clipped ends MLX's zero-point adjustment (and bf16 scale/bias rounding) may cost up to ~|scale|
            tol_edge = np.abs(sf) * (1 + 1e-5) + 2.0 ** -8 * (n * np.abs(sf) + np.abs(bf)) + 1e-9
            check(f"|w - deq| <= |scale| + bf16 slack everywhere {bits}b/g{gs}", (err <= tol_edge).all(),
                  f"worst {float((err / np.abs(sf))[2:].max()):.4f} scale outside the degenerate rows")
            check(f"zero group exact {bits}b/g{gs}", np.abs(d[0, :gs]).max() == 0.0)
            check(f"constant group ~exact {bits}b/g{gs}", np.abs(d[1, :gs] - 0.05).max() <= 0.05 * 2 ** -7)
    # MLX's sign convention produces negative scales when |max| >= |min|, as in real checkpoints
    w = rng.standard_normal((64, 64), dtype=np.float32)
    _, s, _ = mq.quantize(w, 64, 4)
    sf = sio.bf16_bits_to_f32(s)
    check("both scale signs occur (MLX affine convention)", (sf < 0).any() and (sf > 0).any())


# ---------------------------------------------------------------------------------------------
# generator + reference
# ---------------------------------------------------------------------------------------------

def gen(out, *args):
    if os.path.exists(out):
        shutil.rmtree(out)
    rc = mtc.main([out] + [str(a) for a in args])
    assert rc == 0
    rf._CACHE.clear()
    return out


def run_ref(d):
    m = rf.Model(d)
    logits, gap = m.forward(TOKENS)
    return m, logits, gap


def healthy(name, m, logits, gap):
    V = m.cfg.vocab
    check(f"{name}: logits shape", logits.shape == (len(TOKENS), V), f"{logits.shape}")
    check(f"{name}: logits finite", np.isfinite(logits).all())
    std = logits.std(axis=1)
    mx = float(np.abs(logits).max())
    check(f"{name}: healthy spread", std.min() > 0.3 and std.max() < 30 and mx > 1.0,
          f"std {std.min():.2f}..{std.max():.2f}, max|l| {mx:.2f}")
    check(f"{name}: argmax varies over positions", len(set(np.argmax(logits, 1).tolist())) > 1)
    moe = any(m.cfg.is_moe)
    check(f"{name}: min_routing_gap", (gap is not None and gap > 0) if moe else gap is None, f"{gap}")


def header(d):
    out = {}
    for fn in sio.model_files(d):
        h, _ = sio.read_header(os.path.join(d, fn))
        out.update({k: v for k, v in h.items() if k != "__metadata__"})
    return out


def test_family_layouts(tmp):
    ref_logits = {}
    for fam in FAMILIES:
        seed = 100 + FAMILIES.index(fam)
        for variant, extra in (("hf", []), ("mlx4", ["--layout", "mlx", "--bits", 4]),
                               ("mlx6", ["--layout", "mlx", "--bits", 6]), ("mlx8", ["--layout", "mlx", "--bits", 8])):
            d = gen(os.path.join(tmp, f"{fam}-{variant}"), "--family", fam, "--seed", seed, *extra)
            m, logits, gap = run_ref(d)
            name = f"{fam}/{variant}"
            healthy(name, m, logits, gap)
            check(f"{name}: convention detected", m.W.mlx == (variant != "hf"))
            h = header(d)
            cfg = json.load(open(os.path.join(d, "config.json")))
            if variant == "hf":
                ref_logits[fam] = logits
                check_hf_structure(fam, h, cfg, m)
            else:
                check_mlx_structure(fam, h, cfg, int(variant[3:]))
                # 8-bit weights give small logit changes, except where a near-tied routing decision flips
                # (then later positions can move a lot): compare the median position
                diff = float(np.median(np.abs(logits - ref_logits[fam]).max(axis=1)))
                scale = float(np.abs(ref_logits[fam]).max())
                if variant == "mlx8":
                    check(f"{name}: logits close to the HF checkpoint's (median position)", diff < 0.1 * scale,
                          f"median max|diff| {diff:.3f} of {scale:.2f}")
                check_mlx_vs_hf_weights(name, d, os.path.join(tmp, f"{fam}-hf"), fam, cfg)


def check_hf_structure(fam, h, cfg, m):
    cg = fam in ("qwen3_5", "qwen3_5_moe")
    pre = "model.language_model." if cg else "model."
    check(f"{fam}/hf: embed name", pre + "embed_tokens.weight" in h)
    check(f"{fam}/hf: top-level lm_head.weight", "lm_head.weight" in h)
    check(f"{fam}/hf: extra tensors present and skipped by the reference",
          "mtp.fc.weight" in h and (("model.visual.blocks.0.attn.qkv.weight" in h) == cg)
          if fam != "qwen3_moe" else not any(k.startswith(("mtp.", "model.visual")) for k in h))
    if cg:
        check(f"{fam}/hf: nested text_config + vision_config", "text_config" in cfg and "vision_config" in cfg)
        tc = cfg["text_config"]
        check(f"{fam}/hf: layer_types", tc["layer_types"] == ["full_attention" if (i + 1) % 4 == 0 else "linear_attention"
                                                            for i in range(tc["num_hidden_layers"])])
    else:
        tc = cfg
        check(f"{fam}/hf: flat config", "text_config" not in cfg and cfg["model_type"] == fam)
    H = tc["hidden_size"]
    if fam != "qwen3_moe":
        nk, nv, dk, dv, Kc = (tc["linear_num_key_heads"], tc["linear_num_value_heads"], tc["linear_key_head_dim"],
                              tc["linear_value_head_dim"], tc["linear_conv_kernel_dim"])
        p = pre + "layers.0.linear_attn."
        check(f"{fam}/hf: A_log F32, dt_bias BF16", h[p + "A_log"]["dtype"] == "F32" and h[p + "dt_bias"]["dtype"] == "BF16")
        check(f"{fam}/hf: conv1d [C,1,Kc]", h[p + "conv1d.weight"]["shape"] == [2 * nk * dk + nv * dv, 1, Kc])
        if fam == "qwen3_next":
            check(f"{fam}/hf: fused in_proj_qkvz / in_proj_ba",
                  h[p + "in_proj_qkvz.weight"]["shape"] == [2 * nk * dk + 2 * nv * dv, H]
                  and h[p + "in_proj_ba.weight"]["shape"] == [2 * nv, H] and p + "in_proj_qkv.weight" not in h)
        else:
            check(f"{fam}/hf: separate in_proj_qkv/z/b/a", h[p + "in_proj_qkv.weight"]["shape"] == [2 * nk * dk + nv * dv, H]
                  and h[p + "in_proj_z.weight"]["shape"] == [nv * dv, H] and h[p + "in_proj_b.weight"]["shape"] == [nv, H])
        q = h[pre + "layers.3.self_attn.q_proj.weight"]["shape"]
        check(f"{fam}/hf: q_proj doubled (query+gate)", q == [2 * tc["num_attention_heads"] * tc["head_dim"], H])
    else:
        q = h[pre + "layers.0.self_attn.q_proj.weight"]["shape"]
        check(f"{fam}/hf: plain q_proj", q == [tc["num_attention_heads"] * tc["head_dim"], H])
        check(f"{fam}/hf: no shared expert", not any("shared_expert" in k for k in h))
    if fam == "qwen3_5_moe":
        E, I = tc["num_experts"], tc["moe_intermediate_size"]
        check(f"{fam}/hf: fused experts", h[pre + "layers.0.mlp.experts.gate_up_proj"]["shape"] == [E, 2 * I, H]
              and h[pre + "layers.0.mlp.experts.down_proj"]["shape"] == [E, H, I])
    if fam in ("qwen3_next", "qwen3_moe"):
        check(f"{fam}/hf: per-expert tensors", pre + "layers.0.mlp.experts.7.down_proj.weight" in h)
    if fam == "qwen3_5":
        check(f"{fam}/hf: dense mlp", pre + "layers.0.mlp.gate_proj.weight" in h and not any(".experts." in k for k in h))


def check_mlx_structure(fam, h, cfg, bits):
    cg = fam in ("qwen3_5", "qwen3_5_moe")
    pre = "language_model.model." if cg else "model."
    head = "language_model.lm_head" if cg else "lm_head"
    name = f"{fam}/mlx{bits}"
    check(f"{name}: names", pre + "embed_tokens.weight" in h and head + ".scales" in h)
    check(f"{name}: no extras", not any(k.startswith(("mtp.", "model.visual", "vision_tower")) for k in h))
    q = cfg.get("quantization")
    check(f"{name}: quantization blocks", q is not None and q == cfg.get("quantization_config") and q["bits"] == bits
          and q["group_size"] == 64 and q.get("mode") == "affine")
    check(f"{name}: embed quantized uint32", h[pre + "embed_tokens.weight"]["dtype"] == "U32")
    if fam != "qwen3_moe":
        p = pre + "layers.0.linear_attn."
        check(f"{name}: conv1d [C,Kc,1] unquantized", h[p + "conv1d.weight"]["shape"][2] == 1
              and h[p + "conv1d.weight"]["dtype"] == "BF16" and p + "conv1d.scales" not in h)
        check(f"{name}: A_log F32, dt_bias/norm unquantized", h[p + "A_log"]["dtype"] == "F32"
              and h[p + "dt_bias"]["dtype"] == "BF16" and h[p + "norm.weight"]["dtype"] == "BF16")
    if fam != "qwen3_5":
        sw = pre + "layers.0.mlp.switch_mlp."
        check(f"{name}: switch_mlp stacked + quantized", all(sw + f"{n}_proj.{s}" in h for n in ("gate", "up", "down")
                                                            for s in ("weight", "scales", "biases")))
        gate = pre + "layers.0.mlp.gate"
        check(f"{name}: router 8-bit override", q.get(gate) == {"group_size": 64, "bits": 8}
              and h[gate + ".weight"]["shape"][-1] * 32 // 8 == cfg.get("text_config", cfg)["hidden_size"])
        if fam != "qwen3_moe":
            sg = pre + "layers.0.mlp.shared_expert_gate"
            check(f"{name}: shared_expert_gate 8-bit override", q.get(sg) == {"group_size": 64, "bits": 8}
                  and sg + ".scales" in h)
    else:
        check(f"{name}: dense qwen3_5 has no per-module overrides", not any(isinstance(v, dict) for v in q.values()))


def mlx_to_hf_name(n, fam):
    if n.startswith("language_model.model."):
        return "model.language_model." + n[len("language_model.model."):]
    if n.startswith("language_model.lm_head."):
        return "lm_head." + n[len("language_model.lm_head."):]
    return n


def check_mlx_vs_hf_weights(name, mlx_dir, hf_dir, fam, cfg):
    """The MLX checkpoint dequantizes to the same-seed HF checkpoint's weights within quantization error."""
    hf, _ = sio.load_dir(hf_dir)
    mx, _ = sio.load_dir(mlx_dir)
    q = cfg["quantization"]
    zc = fam != "qwen3_moe"
    worst = 0.0
    bad = []
    covered = set()
    for n in mx:
        if n.endswith((".scales", ".biases")):
            continue
        base = n[:-len(".weight")] if n.endswith(".weight") else n
        hn = mlx_to_hf_name(n, fam)
        if ".switch_mlp." in hn:
            p, proj = hn.split(".switch_mlp.")
            pj = proj.split("_proj")[0]
            if p + ".experts.gate_up_proj" in hf:
                gu = hf[p + ".experts.gate_up_proj"]
                I = gu.shape[1] // 2
                ref = {"gate": gu[:, :I], "up": gu[:, I:], "down": hf.get(p + ".experts.down_proj")}[pj]
                covered.update([p + ".experts.gate_up_proj", p + ".experts.down_proj"])
            else:
                E = mx[n].shape[0]
                keys = [f"{p}.experts.{e}.{pj}_proj.weight" for e in range(E)]
                ref = np.stack([hf[k] for k in keys])
                covered.update(keys)
        else:
            ref = hf[hn]
            covered.add(hn)
        if base + ".scales" in mx:
            ov = q.get(base) if isinstance(q.get(base), dict) else {}
            gs, bits = ov.get("group_size", q["group_size"]), ov.get("bits", q["bits"])
            s, b = mx[base + ".scales"], mx[base + ".biases"]
            deq = mq.dequantize(mx[n], s, b, gs, bits)
            sf = np.repeat(np.abs(s), gs, axis=-1).astype(np.float64)
            bf = np.repeat(np.abs(b), gs, axis=-1).astype(np.float64)
            nb = (1 << bits) - 1
            err = np.abs(deq.astype(np.float64) - ref)
            tol = sf * (1 + 1e-5) + 2.0 ** -8 * (nb * sf + bf) + 1e-9
            if deq.shape != ref.shape or not (err <= tol).all():
                bad.append(n)
            worst = max(worst, float((err / sf).max()))
        elif n.endswith("conv1d.weight"):
            if not np.array_equal(mx[n], np.transpose(ref, (0, 2, 1))):
                bad.append(n)
        elif zc and (n.endswith(("layernorm.weight", "q_norm.weight", "k_norm.weight")) or n.endswith("model.norm.weight")):
            if not np.array_equal(mx[n], sio.round_bf16(1.0 + ref)):
                bad.append(n)
        else:
            if not np.array_equal(mx[n], ref):
                bad.append(n)
    missing = [k for k in hf if k not in covered and not k.startswith(("mtp.", "model.visual."))]
    check(f"{name}: dequantized weights == HF weights within quantization error (norms +1 baked)",
          not bad and not missing, f"bad {bad[:4]} missing {missing[:4]} worst {worst:.3f} scale")


def test_variants(tmp):
    # sharded, text-only, per-expert, fused next, tie, mlp-only layers, odd bits, other group sizes
    base = gen(os.path.join(tmp, "v-base"), "--family", "qwen3_5_moe", "--seed", 5)
    _, lb, _ = run_ref(base)
    sh = gen(os.path.join(tmp, "v-shard"), "--family", "qwen3_5_moe", "--seed", 5, "--shards", 3)
    idx = json.load(open(os.path.join(sh, "model.safetensors.index.json")))
    files = sorted(set(idx["weight_map"].values()))
    total = sum(v["data_offsets"][1] - v["data_offsets"][0] for v in header(sh).values())
    check("sharded: 3 files + index", files == [f"model-0000{i}-of-00003.safetensors" for i in (1, 2, 3)]
          and all(os.path.exists(os.path.join(sh, f)) for f in files) and not os.path.exists(os.path.join(sh, "model.safetensors")))
    check("sharded: index total_size", idx["metadata"]["total_size"] == total, f"{idx['metadata']['total_size']} vs {total}")
    check("sharded: weight_map covers every tensor", set(idx["weight_map"]) == set(header(sh)))
    _, ls, _ = run_ref(sh)
    check("sharded: same logits as single file", np.array_equal(lb, ls))
    for fam in ("qwen3_5_moe", "qwen3_5"):
        cg = gen(os.path.join(tmp, f"v-cg-{fam}"), "--family", fam, "--seed", 6)
        to = gen(os.path.join(tmp, f"v-to-{fam}"), "--family", fam, "--seed", 6, "--text-only")
        cfg = json.load(open(os.path.join(to, "config.json")))
        arch = "Qwen3_5MoeForCausalLM" if fam == "qwen3_5_moe" else "Qwen3_5ForCausalLM"
        check(f"text-only {fam}: flat *_text config", cfg["model_type"] == fam + "_text" and cfg["architectures"] == [arch]
              and "text_config" not in cfg)
        h = header(to)
        check(f"text-only {fam}: model.* names", "model.embed_tokens.weight" in h and "lm_head.weight" in h
              and not any(k.startswith("model.language_model") or k.startswith("model.visual") for k in h))
        _, l1, _ = run_ref(cg)
        m2, l2, g2 = run_ref(to)
        healthy(f"text-only {fam}", m2, l2, g2)
        check(f"text-only {fam}: same logits as ConditionalGeneration", np.array_equal(l1, l2))
        tm = gen(os.path.join(tmp, f"v-tomlx-{fam}"), "--family", fam, "--seed", 6, "--text-only", "--layout", "mlx", "--bits", 8)
        m3, l3, g3 = run_ref(tm)
        healthy(f"text-only mlx8 {fam}", m3, l3, g3)
    pe = gen(os.path.join(tmp, "v-pe"), "--family", "qwen3_5_moe", "--seed", 5, "--experts", "per-expert")
    check("per-expert qwen3_5_moe: names", "model.language_model.layers.0.mlp.experts.3.up_proj.weight" in header(pe))
    _, lp, _ = run_ref(pe)
    check("per-expert qwen3_5_moe: same logits as fused", np.array_equal(lb, lp))
    nf = gen(os.path.join(tmp, "v-nf"), "--family", "qwen3_next", "--seed", 5, "--experts", "fused")
    np_ = gen(os.path.join(tmp, "v-np"), "--family", "qwen3_next", "--seed", 5)
    _, a1, _ = run_ref(nf)
    _, a2, _ = run_ref(np_)
    check("qwen3_next fused vs per-expert: same logits", np.array_equal(a1, a2))
    check("qwen3_next == qwen3_5_moe math for the same canonical weights (grouped qkvz/ba un-grouping)",
          float(np.abs(a1 - lb).max()) < 1e-9)
    tie = gen(os.path.join(tmp, "v-tie"), "--family", "qwen3_5", "--seed", 8, "--tie")
    h = header(tie)
    m, l, g = run_ref(tie)
    check("tie: no lm_head tensor, tie flags set", "lm_head.weight" not in h and
          json.load(open(os.path.join(tie, "config.json")))["text_config"]["tie_word_embeddings"] is True)
    healthy("tie", m, l, g)
    for fam in ("qwen3_next", "qwen3_moe"):
        d = gen(os.path.join(tmp, f"v-mlponly-{fam}"), "--family", fam, "--seed", 9, "--layers", 8,
                "--mlp-only-layers", "1,4", "--decoder-sparse-step", 2)
        m, l, g = run_ref(d)
        want = [(i not in (1, 4)) and (i + 1) % 2 == 0 for i in range(8)]
        check(f"{fam}: mlp_only_layers/decoder_sparse_step", m.cfg.is_moe == want, f"{m.cfg.is_moe}")
        h = header(d)
        check(f"{fam}: dense layers carry mlp.gate_proj", "model.layers.1.mlp.gate_proj.weight" in h
              and "model.layers.3.mlp.gate.weight" in h and "model.layers.2.mlp.gate.weight" not in h)
        healthy(f"{fam} mlp-only", m, l, g)
        dm = gen(os.path.join(tmp, f"v-mlponly-mlx-{fam}"), "--family", fam, "--seed", 9, "--layers", 8,
                 "--mlp-only-layers", "1,4", "--decoder-sparse-step", 2, "--layout", "mlx", "--bits", 8)
        m, l2, g = run_ref(dm)
        md = float(np.median(np.abs(l2 - l).max(axis=1)))
        check(f"{fam} mlp-only mlx8: close to HF (median position)", md < 0.1 * float(np.abs(l).max()), f"{md:.3f}")
    nn = gen(os.path.join(tmp, "v-nonorm"), "--family", "qwen3_moe", "--seed", 9, "--no-norm-topk")
    m, l, g = run_ref(nn)
    check("qwen3_moe --no-norm-topk: config + reference honour it",
          json.load(open(os.path.join(nn, "config.json")))["norm_topk_prob"] is False and m.cfg.norm_topk is False)
    healthy("qwen3_moe no-norm-topk", m, l, g)
    for bits, gs in ((3, 64), (5, 32), (2, 32), (6, 128), (4, 32)):
        d = gen(os.path.join(tmp, f"v-b{bits}g{gs}"), "--family", "qwen3_5_moe", "--seed", 5, "--layout", "mlx",
                "--bits", bits, "--group-size", gs)
        m, l, g = run_ref(d)
        healthy(f"mlx {bits}-bit g{gs}", m, l, g)
        cfg = json.load(open(os.path.join(d, "config.json")))
        check_mlx_vs_hf_weights(f"mlx {bits}-bit g{gs}", d, base, "qwen3_5_moe", cfg)
    big = gen(os.path.join(tmp, "v-big"), "--family", "qwen3_5_moe", "--seed", 12, "--layers", 8, "--hidden", 128,
              "--heads", 8, "--kv-heads", 2, "--linear-key-heads", 4, "--linear-value-heads", 8, "--experts-count", 16,
              "--top-k", 4, "--vocab", 1024)
    m, l, g = run_ref(big)
    healthy("larger qwen3_5_moe (8 layers, H 128, nk 4 / nv 8, 16 experts top-4)", m, l, g)
    check("larger: layer_types", m.cfg.layer_types == ["linear_attention"] * 3 + ["full_attention"] + ["linear_attention"] * 3 + ["full_attention"])


def test_determinism(tmp):
    a = gen(os.path.join(tmp, "d-a"), "--family", "qwen3_next", "--seed", 3, "--layout", "mlx", "--bits", 5)
    b = gen(os.path.join(tmp, "d-b"), "--family", "qwen3_next", "--seed", 3, "--layout", "mlx", "--bits", 5)
    c = gen(os.path.join(tmp, "d-c"), "--family", "qwen3_next", "--seed", 4, "--layout", "mlx", "--bits", 5)
    rd = lambda d: open(os.path.join(d, "model.safetensors"), "rb").read()  # noqa: E731
    check("deterministic for a seed", rd(a) == rd(b))
    check("different seeds differ", rd(a) != rd(c))
    h, base = sio.read_header(os.path.join(a, "model.safetensors"))
    check("safetensors data section 8-byte aligned", base % 8 == 0)


def test_safetensors_io(tmp):
    x = np.array([1.0, 1.0 + 2 ** -8, 1.0 + 3 * 2 ** -8, -2.5e-3, np.inf, -np.inf, 3.3895314e38], dtype=np.float32)
    r = sio.round_bf16(x)
    check("bf16 RNE ties to even", r[1] == 1.0 and r[2] == 1.0 + 2 ** -6)
    check("bf16 keeps inf", np.isinf(r[4]) and np.isinf(r[5]))
    check("bf16 of NaN is NaN", np.isnan(sio.round_bf16(np.array([np.nan], np.float32)))[0])
    p = os.path.join(tmp, "t.safetensors")
    t = {"b": sio.to_bf16(x[:4]), "f": np.arange(6, dtype=np.float32).reshape(2, 3),
         "h": np.ones(3, np.float16), "u": np.arange(4, dtype=np.uint32)}
    sio.save_file(t, p, {"format": "pt"})
    h, base = sio.read_header(p)
    check("header dtypes", {k: v["dtype"] for k, v in h.items() if k != "__metadata__"} ==
          {"b": "BF16", "f": "F32", "h": "F16", "u": "U32"} and h["__metadata__"] == {"format": "pt"})
    back = sio.load_file(p)
    check("roundtrip", np.array_equal(back["b"], r[:4]) and np.array_equal(back["f"], t["f"])
          and back["h"].dtype == np.float16 and np.array_equal(back["u"], t["u"]))
    raw = sio.load_file(p, raw=True)
    check("raw bf16 bits", raw["b"].dtype == np.uint16 and np.array_equal(raw["b"], t["b"].bits))


def test_tokenizer(tmp):
    src = os.path.join(TOKENIZERS, "qwen3")
    check("tokenizer fixture present", os.path.exists(os.path.join(src, "tokenizer.json")), src)
    for fam in ("qwen3_5_moe", "qwen3_next"):
        d = gen(os.path.join(tmp, f"tok-{fam}"), "--family", fam, "--seed", 2, "--tokenizer", src)
        tok = json.load(open(os.path.join(d, "tokenizer.json"), encoding="utf-8"))
        vocab = tok["model"]["vocab"]
        merges = tok["model"]["merges"]
        added = tok["added_tokens"]
        vb = len(vocab)
        check(f"tokenizer {fam}: base ids contiguous", sorted(vocab.values()) == list(range(vb)))
        check(f"tokenizer {fam}: merges consistent (merge k -> id 256+k)", len(merges) == vb - 256 and all(
            vocab.get((m[0] if isinstance(m, list) else m.split(' ', 1)[0]) + (m[1] if isinstance(m, list) else m.split(' ', 1)[1])) == 256 + k
            for k, m in enumerate(merges)))
        check(f"tokenizer {fam}: added tokens follow", [t["id"] for t in added] == list(range(vb, vb + len(added))))
        cfg = json.load(open(os.path.join(d, "config.json")))
        tc = cfg.get("text_config", cfg)
        ids = {t["content"]: t["id"] for t in added}
        check(f"tokenizer {fam}: vocab_size >= total", tc["vocab_size"] >= vb + len(added) and tc["vocab_size"] == 512)
        gc = json.load(open(os.path.join(d, "generation_config.json")))
        check(f"tokenizer {fam}: eos ids renumbered", gc["eos_token_id"] == [ids["<|im_end|>"], ids["<|endoftext|>"]])
        tcfg = json.load(open(os.path.join(d, "tokenizer_config.json")))
        check(f"tokenizer {fam}: added_tokens_decoder renumbered",
              {int(k): v["content"] for k, v in tcfg["added_tokens_decoder"].items()} == {v: k for k, v in ids.items()})
        check(f"tokenizer {fam}: chat template copied", os.path.exists(os.path.join(d, "chat_template.jinja")))
        m, l, g = run_ref(d)
        healthy(f"tokenizer {fam}", m, l, g)


def main():
    t0 = time.time()
    tmp = tempfile.mkdtemp(prefix="tessera-gen-test-")
    try:
        test_packing_known_values()
        test_packing_roundtrip_and_spec_formulas()
        test_quantize_error()
        test_safetensors_io(tmp)
        test_family_layouts(tmp)
        test_variants(tmp)
        test_determinism(tmp)
        test_tokenizer(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    n_pass = sum(1 for _, ok, _ in RESULTS if ok)
    n_fail = len(RESULTS) - n_pass
    print(f"{n_pass} passed, {n_fail} failed   ({time.time() - t0:.1f}s)")
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
