#!/usr/bin/python3
"""Independent NumPy reference forward pass for Qwen3.5 / Qwen3.5-MoE / Qwen3-Next / Qwen3-MoE.

Written from shared/spec/qwen35-architecture.md (§1-§5). Computes in float64 on the stored weights
(bf16 -> exact float values; MLX affine weights dequantized as scale*q + bias). Deliberately simple:
the Gated DeltaNet runs the token-by-token recurrence of spec §3.5.5.

CLI:  reference_forward.py --model DIR --tokens 1,2,3 [--out FILE.json] [--generate N]
      prints/writes {"logits": [[...] per position], "min_routing_gap": float|null}
Python: forward(model_dir, tokens) -> (logits [T, V] float64 ndarray, min_gap or None)
"""
import argparse
import json
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io as sio  # noqa: E402
import mlx_quant  # noqa: E402

DT = np.float64

FAMILY_OF_MODEL_TYPE = {
    "qwen3_5_moe": "qwen3_5_moe", "qwen3_5_moe_text": "qwen3_5_moe",
    "qwen3_5": "qwen3_5", "qwen3_5_text": "qwen3_5",
    "qwen3_next": "qwen3_next",
    "qwen3_moe": "qwen3_moe",
}


# ----------------------------------------------------------------------------------------------
# loading
# ----------------------------------------------------------------------------------------------

def _canonical_name(name):
    """Strip the LM prefix; return None for tensors a text-only engine skips."""
    if name.startswith(("model.visual.", "visual.", "vision_tower.", "model.vision_tower.", "mtp.",
                        "model.mtp.")):
        return None
    for pre in ("model.language_model.", "language_model.model.", "model."):
        if name.startswith(pre):
            return name[len(pre):]
    for pre in ("language_model.lm_head.", "lm_head."):
        if name.startswith(pre):
            return "lm_head." + name[len(pre):]
    return None


class Config:
    def __init__(self, model_dir):
        with open(os.path.join(model_dir, "config.json")) as f:
            top = json.load(f)
        self.top = top
        tc = top.get("text_config") or top
        self.tc = tc
        mt = top.get("model_type") or tc.get("model_type")
        if mt not in FAMILY_OF_MODEL_TYPE:
            mt = tc.get("model_type")
        if mt not in FAMILY_OF_MODEL_TYPE:
            raise ValueError(f"unknown model_type {mt!r}")
        self.family = FAMILY_OF_MODEL_TYPE[mt]
        g = tc.get
        self.H = g("hidden_size")
        self.L = g("num_hidden_layers")
        self.nh = g("num_attention_heads")
        self.nkv = g("num_key_value_heads", self.nh)
        self.hd = g("head_dim") or self.H // self.nh
        self.eps = g("rms_norm_eps", 1e-6)
        self.vocab = g("vocab_size")
        rp = g("rope_parameters") or {}
        rs = g("rope_scaling") or {}
        self.rope_theta = rp.get("rope_theta", g("rope_theta", rs.get("rope_theta", 10000.0)))
        default_prf = 1.0 if self.family == "qwen3_moe" else 0.25
        self.partial = rp.get("partial_rotary_factor", g("partial_rotary_factor", default_prf))
        self.rot = int(self.hd * self.partial)
        if self.family == "qwen3_moe":
            self.layer_types = ["full_attention"] * self.L
        else:
            lt = g("layer_types")
            if lt:
                self.layer_types = list(lt)
            else:
                fi = g("full_attention_interval", 4)
                self.layer_types = ["full_attention" if (i + 1) % fi == 0 else "linear_attention"
                                    for i in range(self.L)]
        self.nk = g("linear_num_key_heads")
        self.nv = g("linear_num_value_heads")
        self.dk = g("linear_key_head_dim")
        self.dv = g("linear_value_head_dim")
        self.Kc = g("linear_conv_kernel_dim", 4)
        self.E = g("num_experts", 0) or 0
        self.topk = g("num_experts_per_tok", 0)
        self.I = g("moe_intermediate_size")
        self.Is = g("shared_expert_intermediate_size")
        self.inter = g("intermediate_size")
        if self.family == "qwen3_5_moe":
            self.norm_topk = True
        else:
            self.norm_topk = bool(g("norm_topk_prob", self.family == "qwen3_next"))
        mlp_only = set(g("mlp_only_layers") or [])
        step = g("decoder_sparse_step", 1) or 1
        if self.family == "qwen3_5_moe":
            self.is_moe = [True] * self.L
        elif self.family == "qwen3_5":
            self.is_moe = [False] * self.L
        else:
            self.is_moe = [(i not in mlp_only) and self.E > 0 and (i + 1) % step == 0 for i in range(self.L)]
        tie = g("tie_word_embeddings")
        if tie is None:
            tie = top.get("tie_word_embeddings", False)
        self.tie = bool(tie)
        self.zero_centred = self.family != "qwen3_moe"
        q = top.get("quantization") or top.get("quantization_config") or tc.get("quantization") or {}
        self.quant = q


class Weights:
    """Canonical float64 weights. Names: HF text names without the `model.`/`model.language_model.` prefix
    (e.g. `layers.0.linear_attn.in_proj_qkv.weight`), `lm_head.weight`."""

    def __init__(self, model_dir, cfg):
        raw, dtypes = sio.load_dir(model_dir, raw=False)
        self.file_names = sorted(raw)
        self.dtypes = dtypes
        q = cfg.quant
        w = {}
        quantized = {}
        for name in raw:
            if name.endswith(".scales"):
                quantized[name[: -len(".scales")]] = True
        for base in quantized:
            wq = raw[base + ".weight"]
            sc = raw[base + ".scales"]
            bi = raw.get(base + ".biases")
            ov = q.get(base)
            gs = (ov or {}).get("group_size", q.get("group_size", 64)) if isinstance(ov, dict) else q.get("group_size", 64)
            bits = (ov or {}).get("bits", q.get("bits", 4)) if isinstance(ov, dict) else q.get("bits", 4)
            n_in = sc.shape[-1] * gs
            if 32 * wq.shape[-1] != bits * n_in:
                # cross-check failed: infer from shapes with the config's group size
                bits = mlx_quant.infer_bits(wq.shape, sc.shape, gs)
            if bi is None:
                raise ValueError(f"{base}: only affine quantization (with biases) is supported")
            w[base + ".weight"] = mlx_quant.dequantize(wq, sc, bi, gs, bits, dtype=DT)
        for name, arr in raw.items():
            if name.endswith((".scales", ".biases")) and name.rsplit(".", 1)[0] in quantized:
                continue
            if name.endswith(".weight") and name[: -len(".weight")] in quantized:
                continue
            w[name] = arr.astype(DT)
        # canonical names
        self.w = {}
        self.skipped = []
        for name, arr in w.items():
            c = _canonical_name(name)
            if c is None:
                self.skipped.append(name)
                continue
            self.w[c] = arr
        names = list(self.w)
        # convention: MLX-sanitized (conv1d [C,Kc,1], +1 baked into norms) vs raw HF ([C,1,Kc])
        convs = [n for n in names if n.endswith("conv1d.weight")]
        if convs:
            self.mlx = all(self.w[n].shape[-1] == 1 and self.w[n].shape[1] != 1 for n in convs) \
                if cfg.Kc != 1 else any("switch_mlp" in n for n in names)
        else:
            self.mlx = any("switch_mlp" in n for n in names) or bool(quantized) or \
                any(n.startswith("language_model.") for n in raw)
        self.cfg = cfg

    def get(self, name):
        if name not in self.w:
            raise KeyError(f"missing tensor {name}")
        return self.w[name]

    def has(self, name):
        return name in self.w

    def norm_weight(self, name):
        """Multiplier for a zero-centred norm: 1+w for raw HF, w for MLX (already shifted)."""
        w = self.get(name)
        if self.cfg.zero_centred and not self.mlx:
            return 1.0 + w
        return w

    def conv_weight(self, prefix):
        w = self.get(prefix + "conv1d.weight")
        if w.ndim == 2:
            return w
        if w.shape[1] == 1 and w.shape[2] != 1:
            return w[:, 0, :]  # HF [C,1,Kc]
        if w.shape[2] == 1:
            return w[:, :, 0]  # MLX [C,Kc,1]
        raise ValueError(f"bad conv1d shape {w.shape}")

    def experts(self, prefix, E):
        """(gate [E,I,H], up [E,I,H], down [E,H,I])."""
        if self.has(prefix + "experts.gate_up_proj"):
            gu = self.get(prefix + "experts.gate_up_proj")
            I = gu.shape[1] // 2
            return gu[:, :I, :], gu[:, I:, :], self.get(prefix + "experts.down_proj")
        if self.has(prefix + "switch_mlp.gate_proj.weight"):
            return (self.get(prefix + "switch_mlp.gate_proj.weight"), self.get(prefix + "switch_mlp.up_proj.weight"),
                    self.get(prefix + "switch_mlp.down_proj.weight"))
        g = np.stack([self.get(f"{prefix}experts.{e}.gate_proj.weight") for e in range(E)])
        u = np.stack([self.get(f"{prefix}experts.{e}.up_proj.weight") for e in range(E)])
        d = np.stack([self.get(f"{prefix}experts.{e}.down_proj.weight") for e in range(E)])
        return g, u, d


# ----------------------------------------------------------------------------------------------
# math
# ----------------------------------------------------------------------------------------------

def rmsnorm(x, mult, eps):
    x = x.astype(DT)
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * mult


def silu(x):
    return x / (1.0 + np.exp(-x))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def softplus(x):
    return np.where(x > 20.0, x, np.log1p(np.exp(np.minimum(x, 20.0))))


def softmax(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    e = np.exp(x - m)
    return e / e.sum(axis=axis, keepdims=True)


def linear(x, w):
    return x @ w.T


def rope(x, positions, rot, theta):
    """x [T, heads, hd]; rotate-half on dims [0, rot)."""
    if rot == 0:
        return x
    half = rot // 2
    inv = theta ** (-(np.arange(half, dtype=DT) * 2.0) / rot)
    ang = positions.astype(DT)[:, None] * inv[None, :]  # [T, half]
    cos = np.cos(ang)[:, None, :]
    sin = np.sin(ang)[:, None, :]
    out = x.copy()
    a = x[..., :half]
    b = x[..., half:rot]
    out[..., :half] = a * cos - b * sin
    out[..., half:rot] = b * cos + a * sin
    return out


def attention(cfg, W, p, x, positions):
    T = x.shape[0]
    nh, nkv, hd = cfg.nh, cfg.nkv, cfg.hd
    qp = linear(x, W.get(p + "self_attn.q_proj.weight"))
    if cfg.family == "qwen3_moe":
        q = qp.reshape(T, nh, hd)
        gate = None
    else:
        qg = qp.reshape(T, nh, 2 * hd)
        q = qg[:, :, :hd]
        gate = qg[:, :, hd:].reshape(T, nh * hd)
    k = linear(x, W.get(p + "self_attn.k_proj.weight")).reshape(T, nkv, hd)
    v = linear(x, W.get(p + "self_attn.v_proj.weight")).reshape(T, nkv, hd)
    q = rmsnorm(q, W.norm_weight(p + "self_attn.q_norm.weight"), cfg.eps)
    k = rmsnorm(k, W.norm_weight(p + "self_attn.k_norm.weight"), cfg.eps)
    q = rope(q, positions, cfg.rot, cfg.rope_theta)
    k = rope(k, positions, cfg.rot, cfg.rope_theta)
    grp = nh // nkv
    scale = hd ** -0.5
    o = np.zeros((T, nh, hd), dtype=DT)
    causal = np.tril(np.ones((T, T), dtype=bool))
    for h in range(nh):
        kh = h // grp
        s = (q[:, h, :] @ k[:, kh, :].T) * scale
        s = np.where(causal, s, -np.inf)
        pr = softmax(s, axis=-1)
        o[:, h, :] = pr @ v[:, kh, :]
    o = o.reshape(T, nh * hd)
    if gate is not None:
        o = o * sigmoid(gate)
    return linear(o, W.get(p + "self_attn.o_proj.weight"))


def gdn_projections(cfg, W, p, x):
    """Returns qkv [T, conv_dim], z [T, nv, dv], b [T, nv], a [T, nv]."""
    T = x.shape[0]
    nk, nv, dk, dv = cfg.nk, cfg.nv, cfg.dk, cfg.dv
    r = nv // nk
    if W.has(p + "linear_attn.in_proj_qkvz.weight"):
        m = linear(x, W.get(p + "linear_attn.in_proj_qkvz.weight")).reshape(T, nk, 2 * dk + 2 * r * dv)
        n = linear(x, W.get(p + "linear_attn.in_proj_ba.weight")).reshape(T, nk, 2 * r)
        q = m[:, :, :dk].reshape(T, nk * dk)
        k = m[:, :, dk:2 * dk].reshape(T, nk * dk)
        v = m[:, :, 2 * dk:2 * dk + r * dv].reshape(T, nv * dv)
        z = m[:, :, 2 * dk + r * dv:].reshape(T, nv, dv)
        b = n[:, :, :r].reshape(T, nv)
        a = n[:, :, r:].reshape(T, nv)
        qkv = np.concatenate([q, k, v], axis=1)
    else:
        qkv = linear(x, W.get(p + "linear_attn.in_proj_qkv.weight"))
        z = linear(x, W.get(p + "linear_attn.in_proj_z.weight")).reshape(T, nv, dv)
        b = linear(x, W.get(p + "linear_attn.in_proj_b.weight"))
        a = linear(x, W.get(p + "linear_attn.in_proj_a.weight"))
    return qkv, z, b, a


def gated_delta_recurrent(q, k, v, g, beta, S0=None):
    """Spec §3.5.5, token by token. Per value head: q, k [T, nv, dk] (already expanded to value heads,
    q l2-normalised and scaled, k l2-normalised), v [T, nv, dv], g (log-decay) and beta [T, nv],
    S0 [nv, dk, dv]. Returns (o [T, nv, dv], S [nv, dk, dv])."""
    T, nv, dk = q.shape
    dv = v.shape[-1]
    S = np.zeros((nv, dk, dv), dtype=DT) if S0 is None else np.array(S0, dtype=DT)
    o = np.zeros((T, nv, dv), dtype=DT)
    alpha = np.exp(g)
    for t in range(T):
        for j in range(nv):
            S[j] *= alpha[t, j]                              # 1. decay
            kv_mem = S[j].T @ k[t, j]                         # 2. read with key
            delta = beta[t, j] * (v[t, j] - kv_mem)           # 3. delta
            S[j] += np.outer(k[t, j], delta)                  # 4. rank-1 write
            o[t, j] = S[j].T @ q[t, j]                        # 5. read with q from the updated state
    return o, S


def gated_delta_chunked(q, k, v, g, beta, S0=None, C=64):
    """Spec §3.5.6 (WY / UT-transform chunked form); same arguments and results as gated_delta_recurrent."""
    T, nv, dk = q.shape
    dv = v.shape[-1]
    S = np.zeros((nv, dk, dv), dtype=DT) if S0 is None else np.array(S0, dtype=DT)
    Tp = max(-(-T // C) * C, C)
    o = np.zeros((Tp, nv, dv), dtype=DT)
    pad = Tp - T

    def padt(x):
        return np.concatenate([x, np.zeros((pad,) + x.shape[1:], dtype=DT)], 0) if pad else x
    q, k, v, g, beta = padt(q), padt(k), padt(v), padt(g), padt(beta)
    strict = np.tril(np.ones((C, C), dtype=bool), -1)
    incl = np.tril(np.ones((C, C), dtype=bool))
    eye = np.eye(C)
    for j in range(nv):
        Sj = S[j]
        for c0 in range(0, Tp, C):
            sl = slice(c0, c0 + C)
            Q, K, V, G, B = q[sl, j], k[sl, j], v[sl, j], g[sl, j], beta[sl, j]
            gam = np.cumsum(G)
            Gam = np.exp(gam)
            diff = gam[:, None] - gam[None, :]
            dec_incl = np.where(incl, np.exp(np.where(incl, diff, 0.0)), 0.0)
            dec_strict = np.where(strict, dec_incl, 0.0)
            A = B[:, None] * (K @ K.T) * dec_strict
            Tm = np.linalg.solve(eye + A, eye)
            U = Tm @ (B[:, None] * V)
            Wm = Tm @ ((B * Gam)[:, None] * K)
            Vn = U - Wm @ Sj
            P = (Q @ K.T) * dec_incl
            o[sl, j] = Gam[:, None] * (Q @ Sj) + P @ Vn
            Sj = Gam[-1] * Sj + (K * np.exp(gam[-1] - gam)[:, None]).T @ Vn
        S[j] = Sj
    return o[:T], S


def gated_deltanet(cfg, W, p, x, gdn_mode="recurrent"):
    T = x.shape[0]
    nk, nv, dk, dv, Kc = cfg.nk, cfg.nv, cfg.dk, cfg.dv, cfg.Kc
    r = nv // nk
    key_dim = nk * dk
    qkv, z, b, a = gdn_projections(cfg, W, p, x)
    cw = W.conv_weight(p + "linear_attn.")  # [C, Kc]; tap Kc-1 multiplies the current token
    u = np.concatenate([np.zeros((Kc - 1, qkv.shape[1]), dtype=DT), qkv], axis=0)  # causal zero left padding
    y = np.zeros_like(qkv)
    for j in range(Kc):
        y += cw[:, j][None, :] * u[j:j + T]
    y = silu(y)
    q = y[:, :key_dim].reshape(T, nk, dk)
    k = y[:, key_dim:2 * key_dim].reshape(T, nk, dk)
    v = y[:, 2 * key_dim:].reshape(T, nv, dv)
    beta = sigmoid(b)
    A_log = W.get(p + "linear_attn.A_log")
    dt_bias = W.get(p + "linear_attn.dt_bias")
    g = -np.exp(A_log)[None, :] * softplus(a + dt_bias[None, :])
    q = q / np.sqrt(np.sum(q * q, axis=-1, keepdims=True) + 1e-6) * dk ** -0.5
    k = k / np.sqrt(np.sum(k * k, axis=-1, keepdims=True) + 1e-6)
    # value head j uses key head j // r (repeat_interleave)
    heads = np.arange(nv) // r
    qv, kv = q[:, heads, :], k[:, heads, :]
    if gdn_mode == "chunked":
        o, _ = gated_delta_chunked(qv, kv, v, g, beta)
    else:
        o, _ = gated_delta_recurrent(qv, kv, v, g, beta)
    nw = W.get(p + "linear_attn.norm.weight")  # used directly (never 1+w)
    o = rmsnorm(o, nw, cfg.eps) * silu(z)
    return linear(o.reshape(T, nv * dv), W.get(p + "linear_attn.out_proj.weight"))


def swiglu(x, wg, wu, wd):
    return linear(silu(linear(x, wg)) * linear(x, wu), wd)


def moe(cfg, W, p, x, gaps):
    T = x.shape[0]
    E, k = cfg.E, cfg.topk
    logits = linear(x, W.get(p + "mlp.gate.weight"))  # [T, E]
    probs = softmax(logits, axis=-1)
    gate, up, down = W.experts(p + "mlp.", E)
    out = np.zeros_like(x)
    for t in range(T):
        order = np.argsort(-probs[t], kind="stable")
        top = order[:k]
        if k < E:
            gaps.append(float(probs[t, order[k - 1]] - probs[t, order[k]]))
        wts = probs[t, top]
        if cfg.norm_topk:
            wts = wts / wts.sum()
        for wi, e in zip(wts, top):
            out[t] += wi * swiglu(x[t:t + 1], gate[e], up[e], down[e])[0]
    if cfg.family != "qwen3_moe" and W.has(p + "mlp.shared_expert.gate_proj.weight"):
        sh = swiglu(x, W.get(p + "mlp.shared_expert.gate_proj.weight"), W.get(p + "mlp.shared_expert.up_proj.weight"),
                    W.get(p + "mlp.shared_expert.down_proj.weight"))
        sg = sigmoid(linear(x, W.get(p + "mlp.shared_expert_gate.weight")))  # [T, 1]
        out = out + sg * sh
    return out


def dense_mlp(cfg, W, p, x):
    return swiglu(x, W.get(p + "mlp.gate_proj.weight"), W.get(p + "mlp.up_proj.weight"),
                  W.get(p + "mlp.down_proj.weight"))


class Model:
    def __init__(self, model_dir, gdn_mode="recurrent"):
        self.cfg = Config(model_dir)
        self.W = Weights(model_dir, self.cfg)
        self.gdn_mode = gdn_mode

    def forward(self, tokens):
        cfg, W = self.cfg, self.W
        tokens = np.asarray(tokens, dtype=np.int64)
        T = len(tokens)
        positions = np.arange(T)
        emb = W.get("embed_tokens.weight")
        h = emb[tokens].astype(DT)
        gaps = []
        for i in range(cfg.L):
            p = f"layers.{i}."
            r = rmsnorm(h, W.norm_weight(p + "input_layernorm.weight"), cfg.eps)
            if cfg.layer_types[i] == "linear_attention":
                r = gated_deltanet(cfg, W, p, r, self.gdn_mode)
            else:
                r = attention(cfg, W, p, r, positions)
            h = h + r
            r = rmsnorm(h, W.norm_weight(p + "post_attention_layernorm.weight"), cfg.eps)
            if cfg.is_moe[i]:
                r = moe(cfg, W, p, r, gaps)
            else:
                r = dense_mlp(cfg, W, p, r)
            h = h + r
        h = rmsnorm(h, W.norm_weight("norm.weight"), cfg.eps)
        head = emb if (cfg.tie or not W.has("lm_head.weight")) else W.get("lm_head.weight")
        logits = linear(h, head)
        min_gap = min(gaps) if gaps else None
        return logits, min_gap

    def generate(self, tokens, n):
        toks = list(tokens)
        out = []
        for _ in range(n):
            logits, _ = self.forward(toks)
            nxt = int(np.argmax(logits[-1]))
            out.append(nxt)
            toks.append(nxt)
        return out


_CACHE = {}


def load(model_dir):
    key = os.path.abspath(model_dir)
    m = _CACHE.get(key)
    if m is None:
        m = Model(model_dir)
        _CACHE.clear()
        _CACHE[key] = m
    return m


def forward(model_dir, tokens):
    """-> (logits [T, V] float64 ndarray, min routing gap or None for dense models)."""
    return load(model_dir).forward(tokens)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--tokens", required=True, help="comma-separated token ids")
    ap.add_argument("--out", help="write JSON here instead of stdout")
    ap.add_argument("--generate", type=int, default=0, help="also add a greedy continuation of N tokens")
    ap.add_argument("--gdn", choices=("recurrent", "chunked"), default="recurrent",
                    help="Gated DeltaNet form (spec §3.5.5 or §3.5.6 with C=64)")
    args = ap.parse_args(argv)
    tokens = [int(t) for t in args.tokens.replace(" ", "").split(",") if t != ""]
    m = load(args.model)
    m.gdn_mode = args.gdn
    logits, gap = m.forward(tokens)
    res = {"logits": [[float(v) for v in row] for row in logits.astype(np.float32)], "min_routing_gap": gap}
    if args.generate:
        res["generated"] = m.generate(tokens, args.generate)
    s = json.dumps(res)
    if args.out:
        with open(args.out, "w") as f:
            f.write(s)
    else:
        print(s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
