#!/usr/bin/python3
"""Write a tiny random checkpoint of a Qwen3.5 / Qwen3.5-MoE / Qwen3-Next / Qwen3-MoE model in the real
on-disk formats (spec shared/spec/qwen35-architecture.md §1, §2, §5, §6).

  /usr/bin/python3 tools/make_tiny_checkpoint.py OUT_DIR --family qwen3_5_moe [--seed N]
      [--layout hf|mlx] [--bits B --group-size G] [--shards K] [--text-only] [--experts fused|per-expert]
      [--hidden 64 --layers 4 --heads 4 --kv-heads 2 --head-dim 32 --linear-key-heads 2
       --linear-value-heads 4 --linear-key-dim 32 --linear-value-dim 32 --experts-count 8 --top-k 2
       --moe-inter 64 --shared-inter 64 --inter 128 --vocab 512 --tie] [--tokenizer DIR]

The same --seed (and sizes) gives the same underlying weights whatever the layout, so an `--layout mlx`
checkpoint dequantizes to the `--layout hf` one within quantization error (norms: within bf16 rounding of 1+w).
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io as sio  # noqa: E402
import mlx_quant  # noqa: E402

FAMILIES = ("qwen3_5_moe", "qwen3_5", "qwen3_next", "qwen3_moe")


# ----------------------------------------------------------------------------------------------
# canonical (layout-independent) weights
# ----------------------------------------------------------------------------------------------
# Canonical names are HF text names without any prefix; experts are kept as stacked
# `mlp.experts.gate` [E,I,H], `mlp.experts.up` [E,I,H], `mlp.experts.down` [E,H,I];
# GDN projections always separate (in_proj_qkv/z/b/a); conv1d as [C, Kc].
# kinds: linear (quantizable matmul weight), embed, norm_zc (zero-centred), norm (plain multiplier),
#        conv, f32 (kept float32), param (bf16, never quantized)

class Dims:
    def __init__(self, a):
        self.family = a.family
        self.H, self.L, self.nh, self.nkv, self.hd = a.hidden, a.layers, a.heads, a.kv_heads, a.head_dim
        self.nk, self.nv, self.dk, self.dv = a.linear_key_heads, a.linear_value_heads, a.linear_key_dim, a.linear_value_dim
        self.Kc = a.conv_kernel
        self.E, self.k, self.I, self.Is, self.inter = a.experts_count, a.top_k, a.moe_inter, a.shared_inter, a.inter
        self.V = a.vocab
        self.tie = a.tie
        fi = a.full_interval
        if self.family == "qwen3_moe":
            self.layer_types = ["full_attention"] * self.L
        else:
            self.layer_types = ["full_attention" if (i + 1) % fi == 0 else "linear_attention" for i in range(self.L)]
        mlp_only = set(a.mlp_only_layers)
        step = a.decoder_sparse_step
        if self.family == "qwen3_5_moe":
            self.is_moe = [True] * self.L
        elif self.family == "qwen3_5":
            self.is_moe = [False] * self.L
        else:
            self.is_moe = [(i not in mlp_only) and self.E > 0 and (i + 1) % step == 0 for i in range(self.L)]
        if self.nv % self.nk:
            raise SystemExit("--linear-value-heads must be a multiple of --linear-key-heads")
        if self.nh % self.nkv:
            raise SystemExit("--heads must be a multiple of --kv-heads")


def make_canonical(d, seed):
    rng = np.random.default_rng(seed)
    W = {}
    kinds = {}

    def put(name, kind, arr):
        if kind == "f32":
            W[name] = np.asarray(arr, dtype=np.float32)
        else:
            W[name] = sio.round_bf16(np.asarray(arr, dtype=np.float32))
        kinds[name] = kind

    def normal(shape, std):
        return rng.standard_normal(shape, dtype=np.float32) * np.float32(std)

    zc = d.family != "qwen3_moe"

    def norm(name, n):
        if zc:
            put(name, "norm_zc", normal((n,), 0.1))
        else:
            put(name, "norm", 1.0 + normal((n,), 0.1))

    H = d.H
    put("embed_tokens.weight", "embed", normal((d.V, H), 1.0))
    for i in range(d.L):
        p = f"layers.{i}."
        norm(p + "input_layernorm.weight", H)
        if d.layer_types[i] == "linear_attention":
            kd, vd = d.nk * d.dk, d.nv * d.dv
            cd = 2 * kd + vd
            put(p + "linear_attn.in_proj_qkv.weight", "linear", normal((cd, H), H ** -0.5))
            put(p + "linear_attn.in_proj_z.weight", "linear", normal((vd, H), H ** -0.5))
            put(p + "linear_attn.in_proj_b.weight", "linear", normal((d.nv, H), H ** -0.5))
            put(p + "linear_attn.in_proj_a.weight", "linear", normal((d.nv, H), H ** -0.5))
            put(p + "linear_attn.conv1d.weight", "conv", normal((cd, d.Kc), 0.5))
            put(p + "linear_attn.dt_bias", "param", normal((d.nv,), 0.5))
            put(p + "linear_attn.A_log", "f32", np.log(rng.uniform(1.0, 16.0, size=(d.nv,))))
            put(p + "linear_attn.norm.weight", "norm", 1.0 + normal((d.dv,), 0.1))
            put(p + "linear_attn.out_proj.weight", "linear", normal((H, vd), vd ** -0.5))
        else:
            qo = d.nh * d.hd * (1 if d.family == "qwen3_moe" else 2)
            put(p + "self_attn.q_proj.weight", "linear", normal((qo, H), H ** -0.5))
            put(p + "self_attn.k_proj.weight", "linear", normal((d.nkv * d.hd, H), H ** -0.5))
            put(p + "self_attn.v_proj.weight", "linear", normal((d.nkv * d.hd, H), H ** -0.5))
            put(p + "self_attn.o_proj.weight", "linear", normal((H, d.nh * d.hd), (d.nh * d.hd) ** -0.5))
            norm(p + "self_attn.q_norm.weight", d.hd)
            norm(p + "self_attn.k_norm.weight", d.hd)
        norm(p + "post_attention_layernorm.weight", H)
        if d.is_moe[i]:
            put(p + "mlp.gate.weight", "linear", normal((d.E, H), 2.0 * H ** -0.5))
            put(p + "mlp.experts.gate", "linear", normal((d.E, d.I, H), H ** -0.5))
            put(p + "mlp.experts.up", "linear", normal((d.E, d.I, H), H ** -0.5))
            put(p + "mlp.experts.down", "linear", normal((d.E, H, d.I), d.I ** -0.5))
            if d.family != "qwen3_moe":
                put(p + "mlp.shared_expert.gate_proj.weight", "linear", normal((d.Is, H), H ** -0.5))
                put(p + "mlp.shared_expert.up_proj.weight", "linear", normal((d.Is, H), H ** -0.5))
                put(p + "mlp.shared_expert.down_proj.weight", "linear", normal((H, d.Is), d.Is ** -0.5))
                put(p + "mlp.shared_expert_gate.weight", "linear", normal((1, H), H ** -0.5))
        else:
            put(p + "mlp.gate_proj.weight", "linear", normal((d.inter, H), H ** -0.5))
            put(p + "mlp.up_proj.weight", "linear", normal((d.inter, H), H ** -0.5))
            put(p + "mlp.down_proj.weight", "linear", normal((H, d.inter), d.inter ** -0.5))
    norm("norm.weight", H)
    if not d.tie:
        put("lm_head.weight", "linear", normal((d.V, H), 2.0 * H ** -0.5))
    return W, kinds


def fuse_qwen3_next_gdn(d, qkv, z, b, a):
    """Separate Qwen3.5-style projections -> Qwen3-Next in_proj_qkvz / in_proj_ba, grouped by key head (§3.5.2)."""
    nk, dk, dv = d.nk, d.dk, d.dv
    r = d.nv // nk
    kd = nk * dk
    rows, ba = [], []
    for g in range(nk):
        rows.append(qkv[g * dk:(g + 1) * dk])
        rows.append(qkv[kd + g * dk: kd + (g + 1) * dk])
        rows.append(qkv[2 * kd + g * r * dv: 2 * kd + (g + 1) * r * dv])
        rows.append(z[g * r * dv:(g + 1) * r * dv])
        ba.append(b[g * r:(g + 1) * r])
        ba.append(a[g * r:(g + 1) * r])
    return np.concatenate(rows, 0), np.concatenate(ba, 0)


# ----------------------------------------------------------------------------------------------
# layouts
# ----------------------------------------------------------------------------------------------

def lm_prefixes(family, layout, text_only):
    """(prefix for model tensors, lm_head name)."""
    cg = family in ("qwen3_5", "qwen3_5_moe") and not text_only
    if layout == "hf":
        return ("model.language_model." if cg else "model."), "lm_head.weight"
    return ("language_model.model." if cg else "model."), ("language_model.lm_head.weight" if cg else "lm_head.weight")


def build_layout(d, W, kinds, layout, experts_mode, text_only):
    """-> dict name -> (float32 array, kind) in the target layout (before dtype conversion / quantization)."""
    pre, head = lm_prefixes(d.family, layout, text_only)
    out = {}
    for name, arr in W.items():
        kind = kinds[name]
        if name == "lm_head.weight":
            out[head] = (arr, kind)
            continue
        if name.endswith("linear_attn.in_proj_qkv.weight") and d.family == "qwen3_next":
            p = name[: -len("in_proj_qkv.weight")]
            qkvz, ba = fuse_qwen3_next_gdn(d, arr, W[p + "in_proj_z.weight"], W[p + "in_proj_b.weight"],
                                           W[p + "in_proj_a.weight"])
            out[pre + p + "in_proj_qkvz.weight"] = (qkvz, "linear")
            out[pre + p + "in_proj_ba.weight"] = (ba, "linear")
            continue
        if d.family == "qwen3_next" and name.endswith(("linear_attn.in_proj_z.weight", "linear_attn.in_proj_b.weight",
                                                      "linear_attn.in_proj_a.weight")):
            continue
        if name.endswith("mlp.experts.gate"):
            p = name[: -len("experts.gate")]
            g, u, dn = arr, W[p + "experts.up"], W[p + "experts.down"]
            if layout == "mlx":
                out[pre + p + "switch_mlp.gate_proj.weight"] = (g, "linear")
                out[pre + p + "switch_mlp.up_proj.weight"] = (u, "linear")
                out[pre + p + "switch_mlp.down_proj.weight"] = (dn, "linear")
            elif experts_mode == "fused":
                out[pre + p + "experts.gate_up_proj"] = (np.concatenate([g, u], axis=1), "linear")
                out[pre + p + "experts.down_proj"] = (dn, "linear")
            else:
                for e in range(g.shape[0]):
                    out[pre + p + f"experts.{e}.gate_proj.weight"] = (g[e], "linear")
                    out[pre + p + f"experts.{e}.up_proj.weight"] = (u[e], "linear")
                    out[pre + p + f"experts.{e}.down_proj.weight"] = (dn[e], "linear")
            continue
        if name.endswith(("mlp.experts.up", "mlp.experts.down")):
            continue
        if kind == "conv":
            arr = arr[:, None, :] if layout == "hf" else arr[:, :, None]  # HF [C,1,Kc], MLX [C,Kc,1]
        if kind == "norm_zc" and layout == "mlx":
            arr = sio.round_bf16(np.float32(1.0) + arr)  # mlx-lm sanitize bakes +1 into zero-centred norms
            kind = "norm"
        out[pre + name] = (arr, kind)
    return out


def extra_tensors(d, family, text_only, seed):
    """Tensors an engine must skip (vision tower, MTP)."""
    rng = np.random.default_rng(seed + 7919)
    ex = {}
    if family in ("qwen3_5", "qwen3_5_moe") and not text_only:
        ex["model.visual.blocks.0.attn.qkv.weight"] = rng.standard_normal((48, 16), dtype=np.float32) * 0.02
    if family != "qwen3_moe":
        ex["mtp.fc.weight"] = rng.standard_normal((d.H, 2 * d.H), dtype=np.float32) * 0.02
    return ex


def quant_module_override(d, module_path, n_in, gs_global, bits_global):
    """mlx-lm's predicates: router (and shared_expert_gate for the shared-expert families) at 8 bit / gs 64."""
    is_router = module_path.endswith(".mlp.gate")
    is_sgate = module_path.endswith(".mlp.shared_expert_gate")
    if is_router or (is_sgate and d.family != "qwen3_moe"):
        if d.family == "qwen3_5":
            return None
        for gs in (64, gs_global):
            if n_in % gs == 0:
                return {"group_size": gs, "bits": 8}
        return False
    return None


def to_storage(layout_tensors, d, layout, bits, group_size):
    """Convert to stored dtypes; quantize for MLX. Returns (tensors for save, quantization dict or None)."""
    st = {}
    qcfg = None
    if layout == "mlx" and bits:
        qcfg = {"group_size": group_size, "bits": bits, "mode": "affine"}
    for name, (arr, kind) in layout_tensors.items():
        if kind == "f32":
            st[name] = np.asarray(arr, dtype=np.float32)
            continue
        if qcfg is not None and kind in ("linear", "embed"):
            module = name[: -len(".weight")] if name.endswith(".weight") else name
            n_in = arr.shape[-1]
            ov = quant_module_override(d, module, n_in, group_size, bits)
            if ov is False:
                st[name] = sio.to_bf16(arr)
                continue
            gs, b = (ov["group_size"], ov["bits"]) if ov else (group_size, bits)
            if n_in % gs:
                st[name] = sio.to_bf16(arr)  # mlx-lm leaves such layers unquantized
                continue
            wq, s, bi = mlx_quant.quantize(arr, gs, b)
            st[module + ".weight"] = wq
            st[module + ".scales"] = sio.BF16(s)
            st[module + ".biases"] = sio.BF16(bi)
            if ov:
                qcfg[module] = dict(ov)
            continue
        st[name] = sio.to_bf16(arr)
    return st, qcfg


# ----------------------------------------------------------------------------------------------
# tokenizer
# ----------------------------------------------------------------------------------------------

def truncate_tokenizer(src, total):
    """Keep base ids < V_base and the first V_base-256 merges, renumber added tokens to follow."""
    with open(os.path.join(src, "tokenizer.json"), encoding="utf-8") as f:
        tok = json.load(f)
    added = sorted(tok.get("added_tokens", []), key=lambda t: t["id"])
    n_added = len(added)
    v_base = total - n_added
    if v_base < 256:
        raise SystemExit(f"--vocab {total} too small: need >= 256 + {n_added} added tokens")
    model = tok["model"]
    vocab = model["vocab"]
    inv = {i: s for s, i in vocab.items()}
    v_base = min(v_base, len(vocab))
    new_vocab = {inv[i]: i for i in range(v_base)}
    merges = model.get("merges", [])
    kept = []
    for m in merges:
        a, b = (m if isinstance(m, list) else m.split(" ", 1))
        res = a + b
        if a in new_vocab and b in new_vocab and res in new_vocab:
            kept.append(m)
    model["vocab"] = new_vocab
    model["merges"] = kept
    remap = {}
    for rank, t in enumerate(added):
        remap[t["id"]] = v_base + rank
        t["id"] = v_base + rank
    tok["added_tokens"] = added
    real_total = v_base + n_added
    cfgp = os.path.join(src, "tokenizer_config.json")
    tcfg = None
    if os.path.exists(cfgp):
        with open(cfgp, encoding="utf-8") as f:
            tcfg = json.load(f)
        atd = tcfg.get("added_tokens_decoder")
        if atd:
            tcfg["added_tokens_decoder"] = {str(remap.get(int(k), int(k))): v for k, v in
                                            sorted(atd.items(), key=lambda kv: int(kv[0]))}
    tmpl = None
    tp = os.path.join(src, "chat_template.jinja")
    if os.path.exists(tp):
        with open(tp, encoding="utf-8") as f:
            tmpl = f.read()
    by_content = {t["content"]: t["id"] for t in added}
    return tok, tcfg, tmpl, by_content, real_total


# ----------------------------------------------------------------------------------------------
# config.json
# ----------------------------------------------------------------------------------------------

def mrope_section(half):
    base, rem = divmod(half, 3)
    return [base + (1 if i < rem else 0) for i in range(3)]


def build_configs(d, a, sp):
    fam = d.family
    rot = int(d.hd * 0.25)
    common_linear = {
        "linear_conv_kernel_dim": d.Kc, "linear_key_head_dim": d.dk, "linear_num_key_heads": d.nk,
        "linear_num_value_heads": d.nv, "linear_value_head_dim": d.dv,
    }
    if fam in ("qwen3_5", "qwen3_5_moe"):
        tc = {
            "attention_bias": False, "attention_dropout": 0.0, "attn_output_gate": True, "dtype": "bfloat16",
            "bos_token_id": sp["endoftext"], "eos_token_id": sp["endoftext"],
            "full_attention_interval": a.full_interval, "head_dim": d.hd, "hidden_act": "silu",
            "hidden_size": d.H, "initializer_range": 0.02, "layer_types": d.layer_types, **common_linear,
            "max_position_embeddings": 4096, "mamba_ssm_dtype": "float32",
            "model_type": "qwen3_5_moe_text" if fam == "qwen3_5_moe" else "qwen3_5_text",
        }
        if fam == "qwen3_5_moe":
            tc.update({"moe_intermediate_size": d.I, "num_experts": d.E, "num_experts_per_tok": d.k,
                       "router_aux_loss_coef": 0.001, "shared_expert_intermediate_size": d.Is})
        tc.update({
            "mtp_num_hidden_layers": 0, "mtp_use_dedicated_embeddings": False,
            "num_attention_heads": d.nh, "num_hidden_layers": d.L, "num_key_value_heads": d.nkv,
            "rms_norm_eps": 1e-6, "tie_word_embeddings": d.tie, "use_cache": True, "vocab_size": d.V,
            "partial_rotary_factor": 0.25,
            "rope_parameters": {"mrope_interleaved": True, "mrope_section": mrope_section(rot // 2),
                                "rope_type": "default", "rope_theta": a.rope_theta or 10000000,
                                "partial_rotary_factor": 0.25},
        })
        if fam == "qwen3_5":
            tc["intermediate_size"] = d.inter
        arch_cg = "Qwen3_5MoeForConditionalGeneration" if fam == "qwen3_5_moe" else "Qwen3_5ForConditionalGeneration"
        arch_lm = "Qwen3_5MoeForCausalLM" if fam == "qwen3_5_moe" else "Qwen3_5ForCausalLM"
        if a.text_only:
            cfg = {"architectures": [arch_lm], **tc, "transformers_version": "4.57.0.dev0"}
        else:
            cfg = {
                "architectures": [arch_cg], "image_token_id": sp["image"], "model_type": fam,
                "text_config": tc, "tie_word_embeddings": d.tie, "transformers_version": "4.57.0.dev0",
                "video_token_id": sp["video"],
                "vision_config": {
                    "deepstack_visual_indexes": [], "depth": 27, "hidden_act": "gelu_pytorch_tanh",
                    "hidden_size": 1152, "in_channels": 3, "initializer_range": 0.02, "intermediate_size": 4304,
                    "model_type": fam, "num_heads": 16, "num_position_embeddings": 2304,
                    "out_hidden_size": d.H, "patch_size": 16, "spatial_merge_size": 2, "temporal_patch_size": 2,
                },
                "vision_end_token_id": sp["vision_end"], "vision_start_token_id": sp["vision_start"],
            }
        gen = {"bos_token_id": sp["endoftext"], "do_sample": True, "eos_token_id": [sp["im_end"], sp["endoftext"]],
               "pad_token_id": sp["endoftext"], "temperature": 0.6, "top_k": 20, "top_p": 0.95,
               "transformers_version": "4.57.0.dev0"}
    elif fam == "qwen3_next":
        cfg = {
            "architectures": ["Qwen3NextForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
            "bos_token_id": sp["endoftext"], "decoder_sparse_step": a.decoder_sparse_step, "eos_token_id": sp["im_end"],
            "full_attention_interval": a.full_interval, "head_dim": d.hd, "hidden_act": "silu", "hidden_size": d.H,
            "initializer_range": 0.02, "intermediate_size": d.inter, **common_linear,
            "max_position_embeddings": 4096, "mlp_only_layers": list(a.mlp_only_layers), "model_type": "qwen3_next",
            "moe_intermediate_size": d.I, "norm_topk_prob": not a.no_norm_topk, "num_attention_heads": d.nh,
            "num_experts": d.E, "num_experts_per_tok": d.k, "num_hidden_layers": d.L, "num_key_value_heads": d.nkv,
            "output_router_logits": False, "partial_rotary_factor": 0.25, "rms_norm_eps": 1e-6, "rope_scaling": None,
            "rope_theta": a.rope_theta or 10000000, "router_aux_loss_coef": 0.001,
            "shared_expert_intermediate_size": d.Is, "tie_word_embeddings": d.tie, "torch_dtype": "bfloat16",
            "transformers_version": "4.57.0.dev0", "use_cache": True, "use_sliding_window": False, "vocab_size": d.V,
        }
        gen = {"bos_token_id": sp["endoftext"], "do_sample": True, "eos_token_id": [sp["im_end"], sp["endoftext"]],
               "pad_token_id": sp["endoftext"], "temperature": 0.7, "top_k": 20, "top_p": 0.8,
               "transformers_version": "4.57.0.dev0"}
    else:  # qwen3_moe
        cfg = {
            "architectures": ["Qwen3MoeForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
            "bos_token_id": sp["endoftext"], "decoder_sparse_step": a.decoder_sparse_step, "eos_token_id": sp["im_end"],
            "head_dim": d.hd, "hidden_act": "silu", "hidden_size": d.H, "initializer_range": 0.02,
            "intermediate_size": d.inter, "max_position_embeddings": 4096, "max_window_layers": d.L,
            "mlp_only_layers": list(a.mlp_only_layers), "model_type": "qwen3_moe", "moe_intermediate_size": d.I,
            "norm_topk_prob": not a.no_norm_topk, "num_attention_heads": d.nh, "num_experts": d.E,
            "num_experts_per_tok": d.k, "num_hidden_layers": d.L, "num_key_value_heads": d.nkv,
            "output_router_logits": False, "rms_norm_eps": 1e-6, "rope_scaling": None,
            "rope_theta": a.rope_theta or 1000000, "router_aux_loss_coef": 0.001, "sliding_window": None,
            "tie_word_embeddings": d.tie, "torch_dtype": "bfloat16", "transformers_version": "4.57.0.dev0",
            "use_cache": True, "use_sliding_window": False, "vocab_size": d.V,
        }
        gen = {"bos_token_id": sp["endoftext"], "do_sample": True, "eos_token_id": [sp["im_end"], sp["endoftext"]],
               "pad_token_id": sp["endoftext"], "temperature": 0.6, "top_k": 20, "top_p": 0.95,
               "transformers_version": "4.57.0.dev0"}
    return cfg, gen


# ----------------------------------------------------------------------------------------------

def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir")
    ap.add_argument("--family", required=True, choices=FAMILIES)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--layout", choices=("hf", "mlx"), default="hf")
    ap.add_argument("--bits", type=int, default=None, help="MLX affine bits (2,3,4,5,6,8; 0 = unquantized MLX layout); default 4")
    ap.add_argument("--group-size", type=int, default=64, choices=(32, 64, 128))
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--text-only", action="store_true", help="qwen3_5(_moe): flat *_text config, *ForCausalLM, model.* names")
    ap.add_argument("--experts", choices=("fused", "per-expert"), default=None,
                    help="HF expert storage; default fused for qwen3_5_moe, per-expert otherwise")
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--head-dim", type=int, default=32)
    ap.add_argument("--linear-key-heads", type=int, default=2)
    ap.add_argument("--linear-value-heads", type=int, default=4)
    ap.add_argument("--linear-key-dim", type=int, default=32)
    ap.add_argument("--linear-value-dim", type=int, default=32)
    ap.add_argument("--conv-kernel", type=int, default=4)
    ap.add_argument("--experts-count", type=int, default=8)
    ap.add_argument("--top-k", type=int, default=2)
    ap.add_argument("--moe-inter", type=int, default=64)
    ap.add_argument("--shared-inter", type=int, default=64)
    ap.add_argument("--inter", type=int, default=128)
    ap.add_argument("--vocab", type=int, default=512, help="vocab_size (with --tokenizer: total tokens incl. specials)")
    ap.add_argument("--tie", action="store_true", help="tie_word_embeddings (no lm_head tensor)")
    ap.add_argument("--full-interval", type=int, default=4, help="full attention every N-th layer ((i+1)%%N==0)")
    ap.add_argument("--mlp-only-layers", default="", help="qwen3_next/qwen3_moe: comma list of dense layers")
    ap.add_argument("--decoder-sparse-step", type=int, default=1)
    ap.add_argument("--no-norm-topk", action="store_true", help="qwen3_next/qwen3_moe: norm_topk_prob false")
    ap.add_argument("--rope-theta", type=float, default=None)
    ap.add_argument("--no-extra-tensors", action="store_true", help="HF: omit model.visual.* / mtp.* tensors")
    ap.add_argument("--tokenizer", default=None, help="dir with tokenizer.json (+ tokenizer_config.json, chat_template.jinja)")
    a = ap.parse_args(argv)
    a.mlp_only_layers = [int(x) for x in a.mlp_only_layers.split(",") if x.strip() != ""]
    if a.rope_theta is not None and float(a.rope_theta).is_integer():
        a.rope_theta = int(a.rope_theta)
    if a.bits is None:
        a.bits = 4 if a.layout == "mlx" else 0
    if a.layout == "hf" and a.bits:
        raise SystemExit("--bits only applies to --layout mlx")
    if a.bits and a.bits not in mlx_quant.SUPPORTED_BITS:
        raise SystemExit(f"--bits must be one of {mlx_quant.SUPPORTED_BITS}")
    if a.experts is None:
        a.experts = "fused" if a.family == "qwen3_5_moe" else "per-expert"
    if a.text_only and a.family not in ("qwen3_5", "qwen3_5_moe"):
        raise SystemExit("--text-only applies to qwen3_5 / qwen3_5_moe (the others are flat already)")
    return a


def main(argv=None):
    a = parse_args(argv)
    out = a.out_dir
    os.makedirs(out, exist_ok=True)
    tok_files = None
    if a.tokenizer:
        tok, tcfg, tmpl, by_content, total = truncate_tokenizer(a.tokenizer, a.vocab)
        a.vocab = max(a.vocab, total)
        tok_files = (tok, tcfg, tmpl)

        def sid(content, fallback):
            return by_content.get(content, fallback)
        V = a.vocab
        sp = {"endoftext": sid("<|endoftext|>", V - 4), "im_start": sid("<|im_start|>", V - 3),
              "im_end": sid("<|im_end|>", V - 2), "vision_start": sid("<|vision_start|>", V - 11),
              "vision_end": sid("<|vision_end|>", V - 10), "image": sid("<|image_pad|>", V - 8),
              "video": sid("<|video_pad|>", V - 7)}
    else:
        V = a.vocab
        sp = {"endoftext": V - 4, "im_start": V - 3, "im_end": V - 2, "vision_start": V - 11,
              "vision_end": V - 10, "image": V - 8, "video": V - 7}
    d = Dims(a)
    W, kinds = make_canonical(d, a.seed)
    lt = build_layout(d, W, kinds, a.layout, a.experts, a.text_only)
    tensors, qcfg = to_storage(lt, d, a.layout, a.bits, a.group_size)
    if a.layout == "hf" and not a.no_extra_tensors:
        for n, v in extra_tensors(d, a.family, a.text_only, a.seed).items():
            tensors[n] = sio.to_bf16(v)
    cfg, gen = build_configs(d, a, sp)
    if qcfg is not None:
        cfg["quantization"] = qcfg
        cfg["quantization_config"] = json.loads(json.dumps(qcfg))
    # remove stale weight files from an earlier run into the same folder
    for fn in os.listdir(out):
        if fn.endswith(".safetensors") or fn == "model.safetensors.index.json":
            os.remove(os.path.join(out, fn))
    sio.save_sharded(tensors, out, a.shards, metadata={"format": "mlx" if a.layout == "mlx" else "pt"})
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    with open(os.path.join(out, "generation_config.json"), "w") as f:
        json.dump(gen, f, indent=2)
        f.write("\n")
    if tok_files:
        tok, tcfg, tmpl = tok_files
        with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(tok, f, ensure_ascii=False, indent=None)
        if tcfg is not None:
            with open(os.path.join(out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
                json.dump(tcfg, f, ensure_ascii=False, indent=2)
        if tmpl is not None:
            with open(os.path.join(out, "chat_template.jinja"), "w", encoding="utf-8") as f:
                f.write(tmpl)
    return 0


if __name__ == "__main__":
    sys.exit(main())
