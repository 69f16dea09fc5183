#!/usr/bin/python3
"""Write the benchmark checkpoint: Qwen3.5-35B-A3B's layer shapes (hidden 2048, head_dim 256,
16 query / 2 KV heads, Gated DeltaNet 16 key / 32 value heads of 128, experts of 512 with a shared
expert of 512, top-8) reduced to 24 layers, 32 experts and a 32000-token vocabulary: 1.52 B
parameters read per token, 6.8 GB in bf16. Random weights (N(0, 0.02)), so speed is all it measures.

  /usr/bin/python3 tools/make_bench_model.py OUT_DIR [--layers 24 --experts-n 32 --hidden 2048 ...]
      [--experts fused|split] [--dtype bf16|f32] [--seed 0] [--shard-gb 4] [--dry-run]

Format: Hugging Face Qwen3_5MoeForCausalLM, text only (flat `qwen3_5_moe_text` config, `model.*`
names, fused experts by default), bf16 safetensors in shards of at most --shard-gb
(`model-0000i-of-0000K.safetensors` + index), plus a byte-level BPE tokenizer with one merge per
byte pair and the three Qwen chat specials (enough to tokenize a prompt), generation_config.json and
bench_params.json (parameter counts). Zero-centred norms are stored as 0 (multiplier 1), the
DeltaNet norm and dt_bias as 1, A_log as log U(1, 16). Each tensor is drawn from its own generator
seeded from (--seed, its name), and written as soon as it is drawn, so memory stays at one tensor.

bench/run_bench.py writes it on first use; the README's speed table was measured on it.
"""
import argparse
import hashlib
import json
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import f32_to_bf16_bits  # noqa: E402

DEFAULTS = {"hidden": 2048, "layers": 24, "full_attention_interval": 4, "experts_n": 32, "top_k": 8,
            "moe_ff": 512, "shared_ff": 512, "heads": 16, "kv_heads": 2, "head_dim": 256, "lin_k_heads": 16,
            "lin_v_heads": 32, "lin_head_dim": 128, "conv_k": 4, "vocab": 32000}
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]  # the last three ids


def build_config(a):
    V = a.vocab
    return {
        "architectures": ["Qwen3_5MoeForCausalLM"], "model_type": "qwen3_5_moe_text",
        "torch_dtype": "bfloat16" if a.dtype == "bf16" else "float32", "vocab_size": V, "hidden_size": a.hidden,
        "num_hidden_layers": a.layers,
        "layer_types": ["full_attention" if (i + 1) % a.full_attention_interval == 0 else "linear_attention"
                        for i in range(a.layers)],
        "full_attention_interval": a.full_attention_interval, "num_attention_heads": a.heads,
        "num_key_value_heads": a.kv_heads, "head_dim": a.head_dim, "attn_output_gate": True,
        "attention_bias": False, "attention_dropout": 0.0, "linear_num_key_heads": a.lin_k_heads,
        "linear_num_value_heads": a.lin_v_heads, "linear_key_head_dim": a.lin_head_dim,
        "linear_value_head_dim": a.lin_head_dim, "linear_conv_kernel_dim": a.conv_k, "num_experts": a.experts_n,
        "num_experts_per_tok": a.top_k, "moe_intermediate_size": a.moe_ff,
        "shared_expert_intermediate_size": a.shared_ff, "norm_topk_prob": True, "router_aux_loss_coef": 0.001,
        "output_router_logits": False, "decoder_sparse_step": 1, "mlp_only_layers": [], "hidden_act": "silu",
        "rms_norm_eps": 1e-6, "max_position_embeddings": 262144,
        "rope_parameters": {"rope_type": "default", "rope_theta": 10000000.0, "partial_rotary_factor": 0.25,
                            "mrope_section": [11, 11, 10], "mrope_interleaved": True},
        "mtp_num_hidden_layers": 0, "tie_word_embeddings": False, "initializer_range": 0.02, "use_cache": True,
        "bos_token_id": V - 3, "eos_token_id": V - 1, "pad_token_id": V - 3,
    }


def layer_tensors(c, i, experts):
    """(name, shape, init) of layer i. init: normal, conv, zeros, ones, a_log."""
    H = c["hidden_size"]
    p = f"model.layers.{i}."
    yield p + "input_layernorm.weight", (H,), "zeros"
    yield p + "post_attention_layernorm.weight", (H,), "zeros"
    if c["layer_types"][i] == "linear_attention":
        nv, dv = c["linear_num_value_heads"], c["linear_value_head_dim"]
        channels = 2 * c["linear_num_key_heads"] * c["linear_key_head_dim"] + nv * dv
        la = p + "linear_attn."
        yield la + "in_proj_qkv.weight", (channels, H), "normal"
        yield la + "in_proj_z.weight", (nv * dv, H), "normal"
        yield la + "in_proj_b.weight", (nv, H), "normal"
        yield la + "in_proj_a.weight", (nv, H), "normal"
        yield la + "conv1d.weight", (channels, 1, c["linear_conv_kernel_dim"]), "conv"
        yield la + "dt_bias", (nv,), "ones"
        yield la + "A_log", (nv,), "a_log"
        yield la + "norm.weight", (dv,), "ones"
        yield la + "out_proj.weight", (H, nv * dv), "normal"
    else:
        nh, nkv, hd = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
        sa = p + "self_attn."
        yield sa + "q_proj.weight", (2 * nh * hd, H), "normal"  # query | output gate
        yield sa + "k_proj.weight", (nkv * hd, H), "normal"
        yield sa + "v_proj.weight", (nkv * hd, H), "normal"
        yield sa + "o_proj.weight", (H, nh * hd), "normal"
        yield sa + "q_norm.weight", (hd,), "zeros"
        yield sa + "k_norm.weight", (hd,), "zeros"
    E, F, Fs = c["num_experts"], c["moe_intermediate_size"], c["shared_expert_intermediate_size"]
    m = p + "mlp."
    yield m + "gate.weight", (E, H), "normal"
    if experts == "fused":
        yield m + "experts.gate_up_proj", (E, 2 * F, H), "normal"
        yield m + "experts.down_proj", (E, H, F), "normal"
    else:
        for e in range(E):
            yield m + f"experts.{e}.gate_proj.weight", (F, H), "normal"
            yield m + f"experts.{e}.up_proj.weight", (F, H), "normal"
            yield m + f"experts.{e}.down_proj.weight", (H, F), "normal"
    yield m + "shared_expert.gate_proj.weight", (Fs, H), "normal"
    yield m + "shared_expert.up_proj.weight", (Fs, H), "normal"
    yield m + "shared_expert.down_proj.weight", (H, Fs), "normal"
    yield m + "shared_expert_gate.weight", (1, H), "normal"


def all_tensors(c, experts):
    yield "model.embed_tokens.weight", (c["vocab_size"], c["hidden_size"]), "normal"
    for i in range(c["num_hidden_layers"]):
        yield from layer_tensors(c, i, experts)
    yield "model.norm.weight", (c["hidden_size"],), "zeros"
    yield "lm_head.weight", (c["vocab_size"], c["hidden_size"]), "normal"


def draw(name, shape, init, seed, std):
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    if init == "normal":
        return rng.standard_normal(shape, dtype=np.float32) * np.float32(std)
    if init == "conv":
        return rng.standard_normal(shape, dtype=np.float32) * np.float32(0.2)
    if init == "a_log":
        return np.log(rng.uniform(1.0, 16.0, shape)).astype(np.float32)
    return np.full(shape, 0.0 if init == "zeros" else 1.0, dtype=np.float32)


def encode(x, dtype):
    if dtype == "bf16":
        return f32_to_bf16_bits(x).astype("<u2").tobytes()
    return x.astype("<f4").tobytes()


def write_weights(out, tensors, a):
    """Shards of at most --shard-gb, tensors in model order, each streamed to disk as it is drawn."""
    esize, st_dtype = (2, "BF16") if a.dtype == "bf16" else (4, "F32")
    limit = a.shard_gb * (1 << 30)
    shards, size = [], 0
    for t in tensors:
        nbytes = int(np.prod(t[1])) * esize
        if not shards or (shards[-1] and size + nbytes > limit):
            shards.append([])
            size = 0
        shards[-1].append(t)
        size += nbytes
    weight_map, total = {}, 0
    for k, shard in enumerate(shards):
        fname = f"model-{k + 1:05d}-of-{len(shards):05d}.safetensors"
        header, offset = {"__metadata__": {"format": "pt"}}, 0
        for name, shape, _ in shard:
            nbytes = int(np.prod(shape)) * esize
            header[name] = {"dtype": st_dtype, "shape": list(shape), "data_offsets": [offset, offset + nbytes]}
            weight_map[name] = fname
            offset += nbytes
        text = json.dumps(header, separators=(",", ":")).encode()
        text += b" " * (-len(text) % 8)
        with open(os.path.join(out, fname), "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text)
            for name, shape, init in shard:
                f.write(encode(draw(name, shape, init, a.seed, a.std), a.dtype))
        total += offset
        print(f"wrote {fname} ({offset / 1e9:.2f} GB, {len(shard)} tensors)", flush=True)
    with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=1)


def byte_symbols():
    """GPT-2's byte-level alphabet: printable Latin-1 bytes stand for themselves, the other bytes
    for the code points from 256 up, in byte order."""
    printable = [*range(0x21, 0x7F), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    symbols, extra = {}, 0
    for b in range(256):
        if b in printable:
            symbols[b] = chr(b)
        else:
            symbols[b] = chr(256 + extra)
            extra += 1
    return symbols


def write_tokenizer(out, V):
    """Ids 0-255: the bytes; 256..V-4: byte pairs (first byte major), one merge each; V-3..V-1: specials."""
    sym = byte_symbols()
    vocab = {sym[b]: b for b in range(256)}
    merges = []
    pairs = ((b1, b2) for b1 in range(256) for b2 in range(256))
    for token_id, (b1, b2) in zip(range(256, V - 3), pairs):
        vocab[sym[b1] + sym[b2]] = token_id
        merges.append(f"{sym[b1]} {sym[b2]}")
    added = [{"id": V - 3 + k, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for k, s in enumerate(SPECIALS)]
    split = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": split}, "behavior": "Isolated", "invert": False}, byte_level]},
        "post_processor": None, "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": merges},
    }
    with open(os.path.join(out, "tokenizer.json"), "w") as f:
        json.dump(tokenizer, f, ensure_ascii=False)
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "Qwen2Tokenizer", "bos_token": None, "eos_token": "<|im_end|>",
                   "pad_token": "<|endoftext|>", "model_max_length": 262144,
                   "added_tokens_decoder": {str(t["id"]): t for t in added}}, f, indent=1)


def parameter_counts(c, tensors):
    """(total, read per token): routed experts count top_k / num_experts; the embedding is a row lookup."""
    total = active = 0
    for name, shape, _ in tensors:
        n = int(np.prod(shape))
        total += n
        if name != "model.embed_tokens.weight":
            active += n * c["num_experts_per_tok"] // c["num_experts"] if ".mlp.experts." in name else n
    return total, active


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    for key, value in DEFAULTS.items():
        ap.add_argument("--" + key.replace("_", "-"), type=int, default=value)
    ap.add_argument("--experts", choices=["fused", "split"], default="fused")
    ap.add_argument("--dtype", choices=["bf16", "f32"], default="bf16")
    ap.add_argument("--std", type=float, default=0.02)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--shard-gb", type=float, default=4.0)
    ap.add_argument("--dry-run", action="store_true", help="print the config and parameter counts only")
    return ap.parse_args(argv)


def main(argv=None):
    a = parse_args(argv)
    config = build_config(a)
    tensors = list(all_tensors(config, a.experts))
    total, active = parameter_counts(config, tensors)
    print(f"params total {total / 1e9:.3f} B, active/token (excl. embedding lookup) {active / 1e9:.3f} B")
    if a.dry_run:
        print(json.dumps(config, indent=1))
        return 0
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    with open(os.path.join(a.out, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": config["bos_token_id"], "eos_token_id": config["eos_token_id"], "do_sample": False},
                  f, indent=1)
    write_tokenizer(a.out, a.vocab)
    write_weights(a.out, tensors, a)
    with open(os.path.join(a.out, "bench_params.json"), "w") as f:
        json.dump({"params_total": total, "params_active_per_token_excl_embd": active, "generator_args": vars(a)},
                  f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
