#!/usr/bin/python3
"""Train the demo model (data/demo-model): a tiny Qwen3.5-MoE that answers arithmetic chat questions.

Needs Debian's python3-torch (1.13) and python3-jinja2; run with /usr/bin/python3. Deterministic for a given
--seed on one machine (torch.manual_seed, fixed data order, 1 thread; a resumed run equals an uninterrupted one).

  train_demo_model.py train  [--out data/demo-model] [--steps N] [--decay N] [--batch 64] [--lr 3e-3] [--seed 0]
                             [--minutes M] [--resume]
  train_demo_model.py qat    [--model data/demo-model] [--bits 6] [--group 64] [--steps 1000] [--lr 1e-4]
                             quantization-aware fine-tuning of a saved model, so its MLX copy keeps the accuracy
  train_demo_model.py eval   [--model data/demo-model] [--n 300] [--bits B --group G]
                             greedy accuracy from the saved files (optionally of their MLX B-bit rounding)
  train_demo_model.py verify [--model data/demo-model] [--tessera BIN]    logits vs tools/reference_forward.py

The PyTorch forward pass is a port of tools/reference_forward.py (itself written from
shared/spec/qwen35-architecture.md): zero-centred (1+w) RMSNorm; gated full attention (q_proj rows hold query|gate
per head, q/k norm, partial rotary RoPE, GQA, sigmoid output gate); Gated DeltaNet (causal depthwise conv + SiLU,
L2-normalised q/k, beta = sigmoid(b), log-decay g = -exp(A_log) * softplus(a + dt_bias), delta rule, gated
RMSNorm); sparse MoE (softmax router, top-k renormalised, SwiGLU experts) plus a sigmoid-gated shared expert;
untied lm_head. Training uses the delta rule's parallel (one-chunk WY) form, verification the token-by-token one.

The training text is the Qwen3.5 chat template's rendering: the generation prompt (ending "<think>\\n" by default,
"<think>\\n\\n</think>\\n\\n" with enable_thinking=false) is tokenized on its own, then the reply the model must
produce ("\\n</think>\\n\\n4<|im_end|>" or "4<|im_end|>"); the loss covers only the reply tokens.
Checkpoints are written with tools/make_tiny_checkpoint.py's layout code, so the files are the HF layout that
tool writes for --family qwen3_5_moe (fused experts, model.language_model.* names, bf16, A_log float32).
"""
import argparse
import json
import math
import os
import random
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import arithmetic_chat  # noqa: E402
import make_tiny_checkpoint as mtc  # noqa: E402
import safetensors_io as sio  # noqa: E402
import train_bpe_tokenizer as bpe  # noqa: E402

REPO = os.path.dirname(HERE)
DEFAULT_OUT = os.path.join(REPO, "data", "demo-model")

# Model shape. Valid for tensor parallel 2 and 4: heads 4, kv heads 2 (replicated at 4), linear key heads 4,
# linear value heads 8, and moe/shared intermediate 128 = 2 x 64 (MLX group 64 per rank at TP 2).
SHAPE = dict(vocab=512, hidden=128, layers=4, heads=4, kv_heads=2, head_dim=32, linear_key_heads=4,
             linear_value_heads=8, linear_key_dim=32, linear_value_dim=32, conv_kernel=4, experts_count=8, top_k=2,
             moe_inter=128, shared_inter=128, full_interval=2, rope_theta=10000)
EPS = 1e-6
PARTIAL_ROTARY = 0.25
MAX_POSITIONS = 512


def shape_args(out_dir, shape):
    """make_tiny_checkpoint's argument namespace for this shape (its layout/config code reads it)."""
    s = shape
    argv = [out_dir, "--family", "qwen3_5_moe", "--layout", "hf", "--experts", "fused", "--no-extra-tensors",
            "--hidden", str(s["hidden"]), "--layers", str(s["layers"]), "--heads", str(s["heads"]),
            "--kv-heads", str(s["kv_heads"]), "--head-dim", str(s["head_dim"]),
            "--linear-key-heads", str(s["linear_key_heads"]), "--linear-value-heads", str(s["linear_value_heads"]),
            "--linear-key-dim", str(s["linear_key_dim"]), "--linear-value-dim", str(s["linear_value_dim"]),
            "--conv-kernel", str(s["conv_kernel"]), "--experts-count", str(s["experts_count"]),
            "--top-k", str(s["top_k"]), "--moe-inter", str(s["moe_inter"]), "--shared-inter", str(s["shared_inter"]),
            "--vocab", str(s["vocab"]), "--full-interval", str(s["full_interval"]),
            "--rope-theta", str(s["rope_theta"])]
    return mtc.parse_args(argv)


# ----------------------------------------------------------------------------------------------
# model
# ----------------------------------------------------------------------------------------------

def rms(x, eps=EPS):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)


class ZeroCentredNorm(nn.Module):
    """RMSNorm with multiplier (1 + w), w initialised to 0 (spec §3.1)."""

    def __init__(self, n):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(n))

    def forward(self, x):
        return rms(x) * (1.0 + self.weight)


class Attention(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.nh, self.nkv, self.hd = d.nh, d.nkv, d.hd
        self.rot = int(d.hd * PARTIAL_ROTARY)
        self.q_proj = nn.Linear(d.H, 2 * d.nh * d.hd, bias=False)  # per head: query rows, then gate rows
        self.k_proj = nn.Linear(d.H, d.nkv * d.hd, bias=False)
        self.v_proj = nn.Linear(d.H, d.nkv * d.hd, bias=False)
        self.o_proj = nn.Linear(d.nh * d.hd, d.H, bias=False)
        self.q_norm = ZeroCentredNorm(d.hd)
        self.k_norm = ZeroCentredNorm(d.hd)

    def rope(self, x, theta):
        """x [B, T, heads, hd]: rotate-half on dims [0, rot)."""
        T = x.shape[1]
        half = self.rot // 2
        inv = theta ** (-(torch.arange(half, dtype=x.dtype) * 2.0) / self.rot)
        ang = torch.arange(T, dtype=x.dtype)[:, None] * inv[None, :]
        cos, sin = ang.cos()[None, :, None, :], ang.sin()[None, :, None, :]
        a, b = x[..., :half], x[..., half:self.rot]
        return torch.cat([a * cos - b * sin, b * cos + a * sin, x[..., self.rot:]], dim=-1)

    def forward(self, x, theta):
        B, T, _ = x.shape
        qg = self.q_proj(x).view(B, T, self.nh, 2 * self.hd)
        q, gate = qg[..., :self.hd], qg[..., self.hd:].reshape(B, T, self.nh * self.hd)
        k = self.k_proj(x).view(B, T, self.nkv, self.hd)
        v = self.v_proj(x).view(B, T, self.nkv, self.hd)
        q = self.rope(self.q_norm(q), theta).transpose(1, 2)
        k = self.rope(self.k_norm(k), theta).transpose(1, 2)
        v = v.transpose(1, 2)
        grp = self.nh // self.nkv
        k = k.repeat_interleave(grp, dim=1)  # query head h reads kv head h // grp
        v = v.repeat_interleave(grp, dim=1)
        s = (q @ k.transpose(-1, -2)) * self.hd ** -0.5
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        s = s.masked_fill(~causal, float("-inf"))
        o = (s.softmax(-1) @ v).transpose(1, 2).reshape(B, T, self.nh * self.hd)
        return self.o_proj(o * torch.sigmoid(gate))


class GatedDeltaNet(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.nk, self.nv, self.dk, self.dv, self.Kc = d.nk, d.nv, d.dk, d.dv, d.Kc
        kd, vd = d.nk * d.dk, d.nv * d.dv
        self.conv_dim = 2 * kd + vd
        self.in_proj_qkv = nn.Linear(d.H, self.conv_dim, bias=False)
        self.in_proj_z = nn.Linear(d.H, vd, bias=False)
        self.in_proj_b = nn.Linear(d.H, d.nv, bias=False)
        self.in_proj_a = nn.Linear(d.H, d.nv, bias=False)
        self.conv1d = nn.Conv1d(self.conv_dim, self.conv_dim, d.Kc, groups=self.conv_dim, bias=False)  # [C,1,Kc]
        self.dt_bias = nn.Parameter(torch.ones(d.nv))
        self.A_log = nn.Parameter(torch.log(torch.empty(d.nv).uniform_(1.0, 16.0)))
        self.norm = nn.Module()
        self.norm.weight = nn.Parameter(torch.ones(d.dv))  # plain multiplier, never 1+w
        self.out_proj = nn.Linear(vd, d.H, bias=False)
        self.recurrent = False

    def forward(self, x):
        B, T, _ = x.shape
        nk, nv, dk, dv = self.nk, self.nv, self.dk, self.dv
        qkv = self.in_proj_qkv(x)
        z = self.in_proj_z(x).view(B, T, nv, dv)
        b = self.in_proj_b(x)
        a = self.in_proj_a(x)
        # causal depthwise conv: tap Kc-1 multiplies the current token, zeros before the start
        w = self.conv1d.weight[:, 0, :]  # [C, Kc]
        u = F.pad(qkv, (0, 0, self.Kc - 1, 0))
        y = sum(u[:, j:j + T] * w[:, j] for j in range(self.Kc))
        y = F.silu(y)
        kd = nk * dk
        q = y[..., :kd].reshape(B, T, nk, dk)
        k = y[..., kd:2 * kd].reshape(B, T, nk, dk)
        v = y[..., 2 * kd:].reshape(B, T, nv, dv)
        beta = torch.sigmoid(b)
        g = -torch.exp(self.A_log) * F.softplus(a + self.dt_bias)  # log-decay, [B, T, nv]
        q = q * torch.rsqrt(q.pow(2).sum(-1, keepdim=True) + 1e-6) * dk ** -0.5
        k = k * torch.rsqrt(k.pow(2).sum(-1, keepdim=True) + 1e-6)
        r = nv // nk
        q = q.repeat_interleave(r, dim=2)  # value head j uses key head j // r
        k = k.repeat_interleave(r, dim=2)
        o = (self.delta_recurrent if self.recurrent else self.delta_parallel)(q, k, v, g, beta)
        o = rms(o) * self.norm.weight * F.silu(z)
        return self.out_proj(o.reshape(B, T, nv * dv))

    @staticmethod
    def delta_recurrent(q, k, v, g, beta):
        """Spec §3.5.5 token by token: S <- a S; S += k (beta (v - S^T k))^T; o = S^T q."""
        B, T, nv, dk = q.shape
        S = q.new_zeros(B, nv, dk, v.shape[-1])
        alpha = torch.exp(g)
        out = []
        for t in range(T):
            S = S * alpha[:, t, :, None, None]
            kt = k[:, t]
            delta = beta[:, t, :, None] * (v[:, t] - torch.einsum("bhkv,bhk->bhv", S, kt))
            S = S + kt[..., :, None] * delta[..., None, :]
            out.append(torch.einsum("bhkv,bhk->bhv", S, q[:, t]))
        return torch.stack(out, dim=1)

    @staticmethod
    def delta_parallel(q, k, v, g, beta):
        """The same from a zero state, the whole sequence as one chunk of spec §3.5.6:
        o = ((Q K^T) * D) (I + A)^-1 (beta V), A = strictly-lower(beta_i k_i.k_j D_ij), D_ij = exp(G_i - G_j)."""
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)  # [B, nv, T, d]
        g, beta = g.transpose(1, 2), beta.transpose(1, 2)  # [B, nv, T]
        T = q.shape[2]
        gam = torch.cumsum(g, dim=-1)
        incl = torch.ones(T, T, dtype=torch.bool).tril()
        diff = gam[..., :, None] - gam[..., None, :]
        dec = torch.exp(diff.masked_fill(~incl, float("-inf")))  # 0 above the diagonal
        strict = dec.masked_fill(torch.eye(T, dtype=torch.bool), 0.0)
        A = beta[..., :, None] * (k @ k.transpose(-1, -2)) * strict
        eye = torch.eye(T, dtype=q.dtype)
        U = torch.linalg.solve_triangular(eye + A, beta[..., None] * v, upper=False, unitriangular=True)
        o = ((q @ k.transpose(-1, -2)) * dec) @ U
        return o.transpose(1, 2)


class Experts(nn.Module):
    """Stacked SwiGLU experts: gate, up [E, I, H]; down [E, H, I]."""

    def __init__(self, E, I, H):
        super().__init__()
        self.gate = nn.Parameter(torch.empty(E, I, H))
        self.up = nn.Parameter(torch.empty(E, I, H))
        self.down = nn.Parameter(torch.empty(E, H, I))


class SwiGLU(nn.Module):
    def __init__(self, H, I):
        super().__init__()
        self.gate_proj = nn.Linear(H, I, bias=False)
        self.up_proj = nn.Linear(H, I, bias=False)
        self.down_proj = nn.Linear(I, H, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class SparseMoE(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.E, self.k = d.E, d.k
        self.gate = nn.Linear(d.H, d.E, bias=False)
        self.experts = Experts(d.E, d.I, d.H)
        self.shared_expert = SwiGLU(d.H, d.Is)
        self.shared_expert_gate = nn.Linear(d.H, 1, bias=False)

    def forward(self, x):
        """x [N, H] -> (out [N, H], router probabilities [N, E], top-k indices [N, k])."""
        probs = self.gate(x).softmax(-1)
        w, idx = probs.topk(self.k, dim=-1)
        w = w / w.sum(-1, keepdim=True)
        out = torch.zeros_like(x)
        ex = self.experts
        for e in range(self.E):
            tok, slot = (idx == e).nonzero(as_tuple=True)
            if tok.numel() == 0:
                continue
            xe = x[tok]
            he = F.silu(xe @ ex.gate[e].t()) * (xe @ ex.up[e].t())
            out.index_add_(0, tok, (he @ ex.down[e].t()) * w[tok, slot, None])
        out = out + torch.sigmoid(self.shared_expert_gate(x)) * self.shared_expert(x)
        return out, probs, idx


class DecoderLayer(nn.Module):
    def __init__(self, d, kind):
        super().__init__()
        self.kind = kind
        self.input_layernorm = ZeroCentredNorm(d.H)
        if kind == "linear_attention":
            self.linear_attn = GatedDeltaNet(d)
        else:
            self.self_attn = Attention(d)
        self.post_attention_layernorm = ZeroCentredNorm(d.H)
        self.mlp = SparseMoE(d)

    def forward(self, h, theta, aux):
        r = self.input_layernorm(h)
        r = self.linear_attn(r) if self.kind == "linear_attention" else self.self_attn(r, theta)
        h = h + r
        B, T, H = h.shape
        r, probs, idx = self.mlp(self.post_attention_layernorm(h).reshape(B * T, H))
        aux.append((probs, idx))
        return h + r.view(B, T, H)


class Qwen35Moe(nn.Module):
    def __init__(self, d, theta):
        super().__init__()
        self.d = d
        self.theta = float(theta)
        self.embed_tokens = nn.Embedding(d.V, d.H)
        self.layers = nn.ModuleList([DecoderLayer(d, kind) for kind in d.layer_types])
        self.norm = ZeroCentredNorm(d.H)
        self.lm_head = nn.Linear(d.H, d.V, bias=False)
        self.init_weights()

    def init_weights(self, std=0.02):
        for name, p in self.named_parameters():
            if name.endswith(("layernorm.weight", "q_norm.weight", "k_norm.weight")) or name == "norm.weight":
                nn.init.zeros_(p)
            elif name.endswith(("linear_attn.norm.weight", "dt_bias")):
                nn.init.ones_(p)
            elif name.endswith("A_log"):
                with torch.no_grad():
                    p.copy_(torch.log(torch.empty_like(p).uniform_(1.0, 16.0)))
            elif name.endswith("conv1d.weight"):
                nn.init.normal_(p, std=0.5 / math.sqrt(p.shape[-1]))
            else:
                nn.init.normal_(p, std=std)

    def forward(self, tokens, aux=None):
        aux = [] if aux is None else aux
        h = self.embed_tokens(tokens)
        for layer in self.layers:
            h = layer(h, self.theta, aux)
        return self.lm_head(self.norm(h))

    def set_recurrent(self, on):
        for layer in self.layers:
            if layer.kind == "linear_attention":
                layer.linear_attn.recurrent = on


def load_balance_loss(aux, E):
    """Switch-style: E * sum_e (fraction of routed slots to e) * (mean router probability of e)."""
    total = 0.0
    for probs, idx in aux:
        frac = torch.bincount(idx.reshape(-1), minlength=E).float() / idx.numel()
        total = total + E * (frac * probs.mean(0)).sum()
    return total / len(aux)


# ----------------------------------------------------------------------------------------------
# canonical names <-> checkpoint files
# ----------------------------------------------------------------------------------------------

def canonical_weights(model, bf16=True):
    """-> (W, kinds) in make_tiny_checkpoint's canonical naming (experts stacked, conv1d [C, Kc])."""
    W, kinds = {}, {}
    for name, p in model.state_dict().items():
        a = p.detach().float().cpu().numpy()
        if name.endswith("conv1d.weight"):
            a, kind = a[:, 0, :], "conv"
        elif name.endswith("A_log"):
            kind = "f32"
        elif name.endswith("dt_bias"):
            kind = "param"
        elif name.endswith("linear_attn.norm.weight"):
            kind = "norm"
        elif name.endswith("norm.weight") or name.endswith("layernorm.weight"):
            kind = "norm_zc"
        elif name == "embed_tokens.weight":
            kind = "embed"
        else:
            kind = "linear"
        W[name] = a if kind == "f32" or not bf16 else sio.round_bf16(a)
        kinds[name] = kind
    return W, kinds


def special_ids(tok):
    t = tok.token_id
    return {"endoftext": t("<|endoftext|>"), "im_start": t("<|im_start|>"), "im_end": t("<|im_end|>"),
            "vision_start": t("<|vision_start|>"), "vision_end": t("<|vision_end|>"), "image": t("<|image_pad|>"),
            "video": t("<|video_pad|>")}


def save_checkpoint(model, tok, out_dir, readme=None):
    a = shape_args(out_dir, SHAPE)
    d = mtc.Dims(a)
    W, kinds = canonical_weights(model)
    layout = mtc.build_layout(d, W, kinds, "hf", "fused", False)
    tensors, _ = mtc.to_storage(layout, d, "hf", 0, 64)
    cfg, gen = mtc.build_configs(d, a, special_ids(tok))
    cfg["text_config"]["max_position_embeddings"] = MAX_POSITIONS
    sp = special_ids(tok)
    gen = {"bos_token_id": sp["endoftext"], "do_sample": False, "eos_token_id": [sp["im_end"], sp["endoftext"]],
           "pad_token_id": sp["endoftext"], "temperature": 1.0, "top_k": 1, "top_p": 1.0,
           "transformers_version": "4.57.0.dev0"}
    os.makedirs(out_dir, exist_ok=True)
    tmp = os.path.join(out_dir, "model.safetensors.tmp")
    sio.save_file(tensors, tmp, metadata={"format": "pt"})
    os.replace(tmp, os.path.join(out_dir, "model.safetensors"))
    for fn, obj in (("config.json", cfg), ("generation_config.json", gen)):
        with open(os.path.join(out_dir, fn), "w") as f:
            json.dump(obj, f, indent=2)
            f.write("\n")
    if readme is not None:
        with open(os.path.join(out_dir, "README.md"), "w") as f:
            f.write(readme)


def load_checkpoint(model_dir, dtype=torch.float32):
    """The torch model holding a saved checkpoint's weights (bf16 values exactly)."""
    a = shape_args(model_dir, SHAPE)
    d = mtc.Dims(a)
    model = Qwen35Moe(d, SHAPE["rope_theta"]).to(dtype)
    raw, _ = sio.load_dir(model_dir)
    sd = {}
    for name, arr in raw.items():
        c = name
        for pre in ("model.language_model.", "model."):
            if c.startswith(pre):
                c = c[len(pre):]
                break
        t = torch.from_numpy(np.array(arr, dtype=np.float64)).to(dtype)
        if c.endswith("experts.gate_up_proj"):
            p = c[: -len("gate_up_proj")]
            I = t.shape[1] // 2
            sd[p + "gate"], sd[p + "up"] = t[:, :I], t[:, I:]
        elif c.endswith("experts.down_proj"):
            sd[c[: -len("down_proj")] + "down"] = t
        else:
            sd[c] = t
    missing = set(model.state_dict()) - set(sd)
    extra = set(sd) - set(model.state_dict())
    if missing or extra:
        raise ValueError(f"{model_dir}: missing {sorted(missing)[:5]}, unexpected {sorted(extra)[:5]}")
    model.load_state_dict(sd)
    return model


# ----------------------------------------------------------------------------------------------
# MLX rounding of the weights (what `tessera quantize` writes), applied in the forward pass
# ----------------------------------------------------------------------------------------------

def to_bf16(t):
    return t.to(torch.bfloat16).to(t.dtype)


def mlx_round(w, bits, group):
    """w [..., in] -> the values an MLX affine checkpoint stores for it (tools/mlx_quant.py's rule, in torch):
    per group a signed scale with zero on a code, scales and biases rounded to bf16, codes against the rounded
    values. Scale and bias are derived in float32 as mlx_quant does, the codes in float64."""
    shape = w.shape
    g = w.reshape(*shape[:-1], shape[-1] // group, group).float()
    n_bins = float((1 << bits) - 1)
    w_max, w_min = g.amax(-1), g.amin(-1)
    neg_edge = w_min.abs() > w_max.abs()
    scale = ((w_max - w_min) / n_bins).clamp_min(1e-7)
    scale = torch.where(neg_edge, scale, -scale)
    edge = torch.where(neg_edge, w_min, w_max)
    q0 = torch.round(edge / scale)
    scale = torch.where(q0 != 0, edge / torch.where(q0 != 0, q0, torch.ones_like(q0)), scale)
    bias = torch.where(q0 == 0, torch.zeros_like(edge), edge)
    scale, bias = to_bf16(scale).double()[..., None], to_bf16(bias).double()[..., None]
    q = torch.clamp(torch.round((g.double() - bias) / scale), 0, n_bins)
    return (scale * q + bias).reshape(shape).to(w.dtype)


def mlx_rounding_plan(model, bits, group):
    """[(parameter, function giving its value in the MLX checkpoint)]. Every linear/embedding matrix is quantized
    at `bits` (the router and the shared-expert gate at 8 bits, group 64, as mlx-lm does); zero-centred norms are
    stored as bf16(1 + w) (mlx-lm folds the +1); conv1d, A_log, dt_bias and the DeltaNet norm stay bf16."""
    plan = []
    for name, p in model.named_parameters():
        if name.endswith(("conv1d.weight", "A_log", "dt_bias", "linear_attn.norm.weight")):
            plan.append((p, to_bf16) if not name.endswith("A_log") else (p, lambda w: w))
        elif name.endswith(("layernorm.weight", "q_norm.weight", "k_norm.weight")) or name == "norm.weight":
            plan.append((p, lambda w: to_bf16(1.0 + to_bf16(w)) - 1.0))
        elif name.endswith(("mlp.gate.weight", "mlp.shared_expert_gate.weight")):
            plan.append((p, lambda w: mlx_round(to_bf16(w), 8, 64)))
        else:
            plan.append((p, lambda w, b=bits, g=group: mlx_round(to_bf16(w), b, g)))
    return plan


def bf16_rounding_plan(model):
    """The values the bf16 checkpoint stores: every parameter rounded to bf16 (A_log stays float32, as stored)."""
    return [(p, to_bf16) for name, p in model.named_parameters() if not name.endswith("A_log")]


class RoundedWeights:
    """Within the block the parameters hold the values the plan gives them (bf16 or MLX rounding); on exit the
    float master values return.
    Gradients computed inside flow to the masters unchanged (the straight-through estimator of QAT)."""

    def __init__(self, plan):
        self.plan = plan

    def __enter__(self):
        self.saved = [p.detach().clone() for p, _ in self.plan]
        with torch.no_grad():
            for p, fn in self.plan:
                p.copy_(fn(p))
        return self

    def __exit__(self, *exc):
        with torch.no_grad():
            for (p, _), master in zip(self.plan, self.saved):
                p.copy_(master)
        return False


# ----------------------------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------------------------

THINK_REPLY_PREFIX = "\n</think>\n\n"


def render_prompt(messages, thinking):
    """The Qwen3.5 template's generation prompt for a system?/user conversation, by string formatting
    (checked against the Jinja rendering in check_rendering)."""
    s = ""
    for m in messages:
        s += f"<|im_start|>{m['role']}\n{m['content'].strip()}<|im_end|>\n"
    return s + "<|im_start|>assistant\n" + ("<think>\n" if thinking else "<think>\n\n</think>\n\n")


def reply_text(answer, thinking):
    return (THINK_REPLY_PREFIX if thinking else "") + answer + "<|im_end|>"


def check_rendering(examples):
    render = bpe.make_renderer(bpe.chat_template_text())
    for ex in examples:
        for thinking in (True, False):
            want = render(ex["messages"], True, None if thinking else False)
            got = render_prompt(ex["messages"], thinking)
            if want != got:
                raise AssertionError(f"prompt rendering differs from the template:\n{want!r}\n{got!r}")


def encode_example(tok, messages, answer, thinking):
    """(prompt ids, reply ids): the prompt is what a server tokenizes, the reply what the model must generate."""
    return tok.encode(render_prompt(messages, thinking)), tok.encode(reply_text(answer, thinking))


def make_batch(pairs, pad_id):
    """Right-padded tokens [B, T] and loss targets [B, T] (-100 outside the replies). Causal layers make
    right padding invisible to the real tokens."""
    T = max(len(p) + len(r) for p, r in pairs)
    toks = torch.full((len(pairs), T), pad_id, dtype=torch.long)
    tgt = torch.full((len(pairs), T), -100, dtype=torch.long)
    for i, (p, r) in enumerate(pairs):
        seq = p + r
        toks[i, :len(seq)] = torch.tensor(seq)
        # position t predicts token t+1: targets are the reply tokens
        tgt[i, len(p) - 1:len(seq) - 1] = torch.tensor(r)
    return toks, tgt


def training_pairs(tok, n, seed, think_frac=0.75):
    rng = random.Random(seed + 1_000_003)
    out = []
    for ex in arithmetic_chat.training_examples(n, seed=seed, system_frac=0.1, greeting_frac=0.02):
        out.append(encode_example(tok, ex["messages"], ex["answer"], rng.random() < think_frac))
    return out


def length_bucketed_batches(pairs, batch, seed, window=16):
    """Batches of similar-length examples (little padding), in a seeded random order."""
    rng = random.Random(seed)
    pairs = list(pairs)
    rng.shuffle(pairs)
    batches = []
    for i in range(0, len(pairs), batch * window):
        chunk = sorted(pairs[i:i + batch * window], key=lambda p: len(p[0]) + len(p[1]))
        batches += [chunk[j:j + batch] for j in range(0, len(chunk), batch)]
    rng.shuffle(batches)
    return batches


# ----------------------------------------------------------------------------------------------
# evaluation
# ----------------------------------------------------------------------------------------------

@torch.no_grad()
def exact_match(model, pairs, pad_id, batch=150):
    """Fraction of examples whose whole reply is the greedy continuation. Greedy decoding reproduces the reply
    iff every reply token is the argmax given the previous ones, so one teacher-forced pass decides it."""
    ok = 0
    for i in range(0, len(pairs), batch):
        chunk = pairs[i:i + batch]
        toks, tgt = make_batch(chunk, pad_id)
        pred = model(toks).argmax(-1)
        m = tgt != -100
        ok += int(((pred == tgt) | ~m).all(dim=1).sum())
    return ok / len(pairs)


@torch.no_grad()
def greedy(model, prompt_ids, stop_ids, max_new=16):
    toks = list(prompt_ids)
    out = []
    for _ in range(max_new):
        nxt = int(model(torch.tensor([toks]))[0, -1].argmax())
        if nxt in stop_ids:
            break
        out.append(nxt)
        toks.append(nxt)
    return out


def heldout_pairs(tok, n, thinking):
    return [encode_example(tok, [{"role": "user", "content": q["question"]}], q["answer"], thinking)
            for q in arithmetic_chat.heldout_questions(n)]


def answer_text(tok, ids, thinking):
    text = tok.decode(ids)
    if thinking and text.startswith(THINK_REPLY_PREFIX):
        text = text[len(THINK_REPLY_PREFIX):]
    return text


# ----------------------------------------------------------------------------------------------
# commands
# ----------------------------------------------------------------------------------------------

def lr_at(step, total, peak, warmup, decay):
    """Warmup-stable-decay: linear warmup, constant peak, then cosine down to 5% over the last `decay` steps.
    The stable phase lets a run be resumed with a different --steps without changing what came before."""
    if step < warmup:
        return peak * (step + 1) / warmup
    start = total - decay
    if step < start:
        return peak
    p = (step - start) / max(1, decay)
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, p))))


def make_optimizer(model, lr):
    """AdamW with weight decay 0.01 on the matrices except the embedding."""
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "embed" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "embed" not in n)]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                             lr=lr, betas=(0.9, 0.98), eps=1e-8)


def train_step(model, opt, chunk, pad, lr, rounding=None):
    """One AdamW step on a batch of (prompt, reply) pairs; returns the reply loss. With `rounding` (an
    mlx_rounding_plan) the loss is the mean of the float model's and the MLX-rounded model's (whose gradient
    reaches the float masters straight through the rounding), so both the bf16 and the quantized checkpoint
    stay accurate: training on the rounded weights alone let the float model drift (95% -> 87% in 200 steps)."""
    toks, tgt = make_batch(chunk, pad)
    for g in opt.param_groups:
        g["lr"] = lr
    opt.zero_grad(set_to_none=True)
    passes = [[], rounding] if rounding else [[]]
    losses = []
    for plan in passes:
        # the backward pass must run while the rounded values are in place (autograd saved those tensors)
        with RoundedWeights(plan):
            aux = []
            logits = model(toks, aux)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), ignore_index=-100)
            ((loss + 0.01 * load_balance_loss(aux, model.d.E)) / len(passes)).backward()
        losses.append(float(loss))
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return losses[0]


README = """# Demo model: a tiny Qwen3.5-MoE that does arithmetic

A {params:,}-parameter model with the real Qwen3.5-MoE architecture (`model_type` `qwen3_5_moe`: Gated DeltaNet and
gated full-attention layers, 8 routed experts top-2 plus a sigmoid-gated shared expert, untied lm_head), trained
from scratch to answer chat questions such as "What is 2+2?" -> "4". It lets tests and demos check that the whole
chain (chat template, tokenizer, forward pass, sampling, EOS, server, tensor parallelism) gives a *right* answer.

Files are the Hugging Face layout (`model.language_model.*` names, fused `experts.gate_up_proj` / `down_proj`,
bf16 with `A_log` in float32), written by `tools/train_demo_model.py` through the layout code of
`tools/make_tiny_checkpoint.py`.

## Shape
hidden {H}, {L} layers `{layer_types}`, attention heads {nh} (kv {nkv}, head_dim {hd}, partial rotary 0.25,
rope_theta {theta}), linear-attention key heads {nk} / value heads {nv} (dims {dk}/{dv}, conv kernel {Kc}),
{E} experts top-{k} (moe_intermediate {I}), shared expert intermediate {Is}, vocab_size {V}
(tokenizer: {n_tok} tokens). Valid for tensor parallel -np 2 and -np 4. `model.safetensors`: {size:,} bytes.

## What it knows
- Addition a+b with a, b in 0..99 and subtraction a-b with 0 <= b <= a <= 99, asked in the phrasings of
  `tools/arithmetic_chat.py` ("What is 17 + 5?", "Compute 17 - 5.", "Calculate 40 plus 2.", "23 - 7 = ?", ...).
  The reply is only the number. In the default (thinking) mode the reply is an empty think block then the
  number; with `enable_thinking: false` just the number.
- A few greetings ("Hello!", "Who are you?") with fixed replies. Anything else: no promises.

## Token ids
<|endoftext|> = {endoftext}, <|im_start|> = {im_start}, <|im_end|> = {im_end}, <think> = {think},
</think> = {end_think}. BPE ids 0..{last_bpe} (0..255: the GPT-2 byte symbols; 256+k: merge k).

## Accuracy (greedy, weights as stored in bf16, PyTorch forward)
Held-out set (`arithmetic_chat.heldout_questions(300)`: 300 (op, a, b) pairs never seen in training):
{acc_think:.1%} in the default thinking mode, {acc_nothink:.1%} with enable_thinking=false.
"What is 2+2?" -> "{two_plus_two}".

## How it was trained
    /usr/bin/python3 tools/train_demo_model.py train {cmdline}

Debian `python3-torch` 1.13 on CPU (torch threads: {threads}; with Debian's OpenBLAS, `libopenblas0-pthread`, as the BLAS:
the default reference BLAS is about 4x slower), seed {seed}: {steps} steps of {batch} conversations
(AdamW, lr {lr}: {warmup}-step warmup, constant, cosine decay over the last {decay} steps, weight decay 0.01, load-balancing loss 0.01),
loss on the reply tokens only; {minutes:.1f} minutes on the project's 2-core machine (shared with other jobs).
The checkpoint kept is the one with the best held-out accuracy seen during training (step {best_step}).
The tokenizer (`tools/train_bpe_tokenizer.py`) is a byte-level BPE with {n_merges} merges learned on the
same corpus, in Qwen3.5's `tokenizer.json` structure (NFC, the Qwen3.5 pre-tokenizer regex, ByteLevel) with the
33 Qwen3.5 added tokens after the BPE ids.

## Licence and provenance
The training data (synthetic, `tools/arithmetic_chat.py`), the tokenizer and the weights are this project's own.
`chat_template.jinja` is Qwen's Qwen3.5 chat template, copied unchanged from
`shared/data/tokenizers/qwen3.5/chat_template.jinja` (llama.cpp `models/templates/Qwen3.5-4B.jinja`,
sha256 `a4aee8af...`), Apache-2.0 (Qwen).
"""


def cmd_train(a):
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    random.seed(a.seed)
    t0 = time.time()
    out = a.out
    tmpl = bpe.chat_template_text()
    tok = bpe.train(a.merges, 20000, a.seed, bpe.make_renderer(tmpl))
    if len(tok) > SHAPE["vocab"]:
        raise SystemExit(f"tokenizer has {len(tok)} tokens > vocab_size {SHAPE['vocab']}")
    tok.save(out, tmpl)
    check_rendering(arithmetic_chat.training_examples(500, seed=a.seed + 7))
    pad = tok.token_id("<|endoftext|>")
    im_end = tok.token_id("<|im_end|>")
    d = mtc.Dims(shape_args(out, SHAPE))
    model = Qwen35Moe(d, SHAPE["rope_theta"])
    params = sum(p.numel() for p in model.parameters())
    print(f"tokenizer: {len(tok)} tokens ({len(tok.merges)} merges), model {params:,} parameters", flush=True)
    opt = make_optimizer(model, a.lr)
    held_t = heldout_pairs(tok, 300, True)
    held_n = heldout_pairs(tok, 300, False)
    demo = encode_example(tok, [{"role": "user", "content": arithmetic_chat.DEMO_QUESTION}], "4", True)
    best = (-1.0, 0)
    epoch_examples = a.batch * a.eval_every
    step = 0
    epoch = 0
    losses = []
    state_path = a.state  # float32 weights + optimizer after each epoch, for --resume
    os.makedirs(os.path.dirname(os.path.abspath(state_path)), exist_ok=True)
    if a.resume:
        st = torch.load(state_path)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        step, epoch, best, losses = st["step"], st["epoch"], tuple(st["best"]), st["losses"]
        t0 -= st["seconds"]
        print(f"resumed at step {step} (epoch {epoch}, best {best})", flush=True)
    while step < a.steps:
        pairs = training_pairs(tok, epoch_examples, seed=a.seed * 1000 + epoch)
        model.train()
        for chunk in length_bucketed_batches(pairs, a.batch, seed=a.seed * 1000 + epoch):
            if step >= a.steps:
                break
            losses.append(train_step(model, opt, chunk, pad, lr_at(step, a.steps, a.lr, a.warmup, a.decay)))
            step += 1
            if step % 20 == 0:
                print(f"  step {step} loss {sum(losses[-20:]) / 20:.4f} {(time.time() - t0) / 60:.1f} min", flush=True)
        epoch += 1
        # evaluate the bf16-rounded weights, i.e. what gets saved
        model.eval()
        with RoundedWeights(bf16_rounding_plan(model)):
            acc_t = exact_match(model, held_t, pad)
            acc_n = exact_match(model, held_n, pad)
            demo_ok = exact_match(model, [demo], pad) == 1.0
            minutes = (time.time() - t0) / 60
            print(f"epoch {epoch:3d} step {step:5d} loss {sum(losses[-a.eval_every:]) / len(losses[-a.eval_every:]):.4f} "
                  f"heldout think {acc_t:.3f} no-think {acc_n:.3f} 2+2 {'ok' if demo_ok else 'WRONG'} "
                  f"lr {lr_at(step - 1, a.steps, a.lr, a.warmup, a.decay):.2e} {minutes:.1f} min", flush=True)
            score = min(acc_t, acc_n) + (0.05 if demo_ok else 0.0)  # held-out accuracy first, then the demo
            if score > best[0]:
                best = (score, step)
                ans = answer_text(tok, greedy(model, demo[0], {im_end}), True)
                info = dict(params=params, acc_think=acc_t, acc_nothink=acc_n, two_plus_two=ans, steps=step,
                            best_step=step, minutes=minutes)
                save_checkpoint(model, tok, out, readme_text(a, d, tok, out, info))
                print(f"  saved step {step} to {out} (2+2 -> {ans!r})", flush=True)
        # the float32 weights are back: they and the optimizer state are what --resume continues from
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "epoch": epoch,
                    "best": list(best), "losses": losses, "seconds": time.time() - t0}, state_path + ".tmp")
        os.replace(state_path + ".tmp", state_path)
        if minutes > a.minutes:
            print(f"time budget of {a.minutes} min reached at step {step}", flush=True)
            break
    # final README with the total training time
    minutes = (time.time() - t0) / 60
    readme_path = os.path.join(out, "README.md")
    best_model = load_checkpoint(out)
    best_model.eval()
    acc_t = exact_match(best_model, held_t, pad)
    acc_n = exact_match(best_model, held_n, pad)
    ans = answer_text(tok, greedy(best_model, demo[0], {im_end}), True)
    info = dict(params=params, acc_think=acc_t, acc_nothink=acc_n, two_plus_two=ans, steps=step,
                best_step=best[1], minutes=minutes)
    with open(readme_path, "w") as f:
        f.write(readme_text(a, d, tok, out, info))
    print(f"done: {step} steps, {minutes:.1f} min; best step {best[1]}: heldout think {acc_t:.3f} "
          f"no-think {acc_n:.3f}, 2+2 -> {ans!r}", flush=True)
    return 0


def readme_text(a, d, tok, out, info):
    size = os.path.getsize(os.path.join(out, "model.safetensors")) if os.path.exists(
        os.path.join(out, "model.safetensors")) else 0
    t = tok.token_id
    cmdline = (f"--steps {a.steps} --batch {a.batch} --lr {a.lr} --warmup {a.warmup} --decay {a.decay} "
               f"--seed {a.seed} "
               f"--merges {a.merges}")
    return README.format(
        H=d.H, L=d.L, layer_types=", ".join(d.layer_types), nh=d.nh, nkv=d.nkv, hd=d.hd, theta=SHAPE["rope_theta"],
        nk=d.nk, nv=d.nv, dk=d.dk, dv=d.dv, Kc=d.Kc, E=d.E, k=d.k, I=d.I, Is=d.Is, V=d.V, n_tok=len(tok),
        size=size, endoftext=t("<|endoftext|>"), im_start=t("<|im_start|>"), im_end=t("<|im_end|>"),
        think=t("<think>"), end_think=t("</think>"), last_bpe=tok.n_bpe - 1, cmdline=cmdline, seed=a.seed,
        batch=a.batch, lr=a.lr, warmup=a.warmup, decay=a.decay, threads=a.threads, n_merges=len(tok.merges), **info)


def cmd_qat(a):
    """Quantization-aware fine-tuning: continue training a saved model with the forward pass on its MLX-rounded
    weights, keeping the epoch whose worse margin (bf16 accuracy - 0.95, MLX accuracy - 0.93) is best."""
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    random.seed(a.seed)
    t0 = time.time()
    out = a.out or a.model
    tok = bpe.load(a.model)
    if os.path.abspath(out) != os.path.abspath(a.model):
        tok.save(out, bpe.chat_template_text())
    pad = tok.token_id("<|endoftext|>")
    model = load_checkpoint(a.model)
    plan = mlx_rounding_plan(model, a.bits, a.group)
    opt = make_optimizer(model, a.lr)
    held = {True: heldout_pairs(tok, 300, True), False: heldout_pairs(tok, 300, False)}
    demo = encode_example(tok, [{"role": "user", "content": arithmetic_chat.DEMO_QUESTION}], "4", True)

    bf16 = bf16_rounding_plan(model)

    def evaluate():
        model.eval()
        with RoundedWeights(bf16):
            r = {f"bf16 {m}": exact_match(model, held[t], pad) for t, m in ((True, "think"), (False, "no-think"))}
            ok = exact_match(model, [demo], pad) == 1.0
            with RoundedWeights(plan):  # MLX rounding of the bf16 values, as tessera quantize reads them
                r |= {f"mlx{a.bits} {m}": exact_match(model, held[t], pad)
                      for t, m in ((True, "think"), (False, "no-think"))}
                ok = ok and exact_match(model, [demo], pad) == 1.0
        model.train()
        margin = min(min(r["bf16 think"], r["bf16 no-think"]) - 0.95,
                     min(r[f"mlx{a.bits} think"], r[f"mlx{a.bits} no-think"]) - 0.93)
        return margin + (0.05 if ok else 0.0), r, ok

    best, r, ok = evaluate()
    print(f"start: {r} 2+2 {'ok' if ok else 'WRONG'} score {best:.4f}", flush=True)
    step, epoch, losses = 0, 0, []
    while step < a.steps:
        pairs = training_pairs(tok, a.batch * a.eval_every, seed=a.seed * 1000 + epoch)
        for chunk in length_bucketed_batches(pairs, a.batch, seed=a.seed * 1000 + epoch):
            if step >= a.steps:
                break
            losses.append(train_step(model, opt, chunk, pad, lr_at(step, a.steps, a.lr, a.warmup, a.decay), plan))
            step += 1
        epoch += 1
        score, r, ok = evaluate()
        print(f"epoch {epoch:3d} step {step:5d} loss {sum(losses[-a.eval_every:]) / a.eval_every:.4f} {r} "
              f"2+2 {'ok' if ok else 'WRONG'} score {score:.4f} {(time.time() - t0) / 60:.1f} min", flush=True)
        if score > best:
            best = score
            with RoundedWeights(bf16):
                save_checkpoint(model, tok, out)
            print(f"  saved step {step} to {out}", flush=True)
    print(f"done: {step} steps, {(time.time() - t0) / 60:.1f} min, best score {best:.4f}", flush=True)
    return 0


def cmd_eval(a):
    torch.set_num_threads(2)
    tok = bpe.load(a.model)
    model = load_checkpoint(a.model)
    model.eval()
    if a.bits:
        with torch.no_grad():
            for p, fn in mlx_rounding_plan(model, a.bits, a.group):
                p.copy_(fn(p))
    im_end = tok.token_id("<|im_end|>")
    stops = {im_end, tok.token_id("<|endoftext|>")}
    for thinking in (True, False):
        ok = 0
        qs = arithmetic_chat.heldout_questions(a.n)
        wrong = []
        for q in qs:
            p, _ = encode_example(tok, [{"role": "user", "content": q["question"]}], q["answer"], thinking)
            got = answer_text(tok, greedy(model, p, stops), thinking)
            if got == q["answer"]:
                ok += 1
            else:
                wrong.append((q["question"], q["answer"], got))
        print(f"thinking={thinking}: {ok}/{len(qs)} = {ok / len(qs):.3f}; wrong: {wrong[:10]}", flush=True)
    p, _ = encode_example(tok, [{"role": "user", "content": arithmetic_chat.DEMO_QUESTION}], "4", True)
    print("What is 2+2? ->", repr(answer_text(tok, greedy(model, p, stops), True)))
    return 0


def cmd_verify(a):
    """Max |torch - reference| / max |reference| per prompt (and tessera's, when --tessera is given)."""
    import reference_forward as ref
    torch.set_num_threads(2)
    tok = bpe.load(a.model)
    model = load_checkpoint(a.model, torch.float64)
    model.eval()
    model.set_recurrent(True)
    prompts = [
        ([{"role": "user", "content": arithmetic_chat.DEMO_QUESTION}], True, "4"),
        ([{"role": "user", "content": "Compute 93 - 45."}], False, "48"),
        ([{"role": "system", "content": "You are a helpful assistant."},
          {"role": "user", "content": "How much is 67 + 58?"}], True, "125"),
        ([{"role": "user", "content": "Hello!"}], True, arithmetic_chat.GREETING_REPLY),
    ]
    worst = {"torch": 0.0, "tessera": 0.0}
    for msgs, thinking, ans in prompts:
        p, r = encode_example(tok, msgs, ans, thinking)
        ids = p + r[:-1]
        want, gap = ref.forward(a.model, ids)
        with torch.no_grad():
            got = model(torch.tensor([ids]))[0].numpy()
            model.set_recurrent(False)
            par = model(torch.tensor([ids]))[0].numpy()
            model.set_recurrent(True)
        scale = np.abs(want).max(axis=-1)
        rel = (np.abs(got - want).max(axis=-1) / scale).max()
        rel_par = (np.abs(par - want).max(axis=-1) / scale).max()
        worst["torch"] = max(worst["torch"], rel)
        line = (f"{len(ids):3d} tokens: torch(recurrent) {rel:.2e}, torch(parallel) {rel_par:.2e}, "
                f"max|logit| {scale.max():.2f}, min routing gap {gap:.2e}")
        if a.tessera:
            res = subprocess.run([a.tessera, "logits", "--model", a.model, "--tokens", ",".join(map(str, ids)),
                                  "--all-positions"], capture_output=True, text=True, check=True)
            tl = np.array(json.loads(res.stdout)["logits"], dtype=np.float64)
            trel = (np.abs(tl - want).max(axis=-1) / scale).max()
            worst["tessera"] = max(worst["tessera"], trel)
            line += f", tessera {trel:.2e}"
        print(line, flush=True)
    print(f"worst: {worst}")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--out", default=DEFAULT_OUT)
    t.add_argument("--steps", type=int, default=3000)
    t.add_argument("--batch", type=int, default=64)
    t.add_argument("--lr", type=float, default=3e-3)
    t.add_argument("--warmup", type=int, default=100)
    t.add_argument("--decay", type=int, default=600, help="steps of cosine decay at the end (after a constant lr)")
    t.add_argument("--state", default=os.path.join(REPO, "build", "demo-model-training-state.pt"),
                   help="where the resumable training state goes (not part of the checkpoint)")
    t.add_argument("--resume", action="store_true", help="continue from --state (same data order)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--merges", type=int, default=200)
    t.add_argument("--threads", type=int, default=1,
                   help="torch threads; 1 is fastest on a loaded 2-core machine (no spinning on a busy core)")
    t.add_argument("--eval-every", type=int, default=100, help="steps per epoch (evaluation and checkpoint)")
    t.add_argument("--minutes", type=float, default=35.0, help="stop after the epoch that passes this")
    q = sub.add_parser("qat")
    q.add_argument("--model", default=DEFAULT_OUT)
    q.add_argument("--out", default=None, help="where to write (default: over --model)")
    q.add_argument("--bits", type=int, default=6)
    q.add_argument("--group", type=int, default=64)
    q.add_argument("--steps", type=int, default=1000)
    q.add_argument("--batch", type=int, default=64)
    q.add_argument("--lr", type=float, default=3e-5)
    q.add_argument("--warmup", type=int, default=50)
    q.add_argument("--decay", type=int, default=800)
    q.add_argument("--seed", type=int, default=1, help="data order (training used seed 0)")
    q.add_argument("--threads", type=int, default=2)
    q.add_argument("--eval-every", type=int, default=100)
    e = sub.add_parser("eval")
    e.add_argument("--model", default=DEFAULT_OUT)
    e.add_argument("--n", type=int, default=300)
    e.add_argument("--bits", type=int, default=0, help="evaluate the MLX rounding at this many bits")
    e.add_argument("--group", type=int, default=64)
    v = sub.add_parser("verify")
    v.add_argument("--model", default=DEFAULT_OUT)
    v.add_argument("--tessera", default=None)
    a = ap.parse_args(argv)
    return {"train": cmd_train, "qat": cmd_qat, "eval": cmd_eval, "verify": cmd_verify}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
