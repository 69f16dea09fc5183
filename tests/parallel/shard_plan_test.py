"""Sharding plan checks on `tessera shard-plan` output (computed without reading weights):
  - every fused tensor's per-rank row slices, put back in plan order, cover the original rows
    exactly once (column-parallel) and reproduce the original tensor bit for bit;
  - each rank's slices are aligned: in_proj_qkv's q, k and v rows belong to the same key heads
    (and value head j to key head j // r), q_proj's query and gate rows to the same heads, gate and
    up rows of experts to the same intermediate columns, conv1d channels to the same heads as
    in_proj_qkv, A_log/dt_bias to the rank's value heads; Qwen3-Next's grouped in_proj_qkvz rows
    to whole key-head groups;
  - KV heads fewer than ranks are replicated (rank r holds KV head r // (N / nkv));
  - an impossible world size is refused naming the dimension and the sizes that work, before any
    weight is read (the checkpoint's data section is truncated and the refusal still comes first)."""
import json
import os
import shutil

import numpy as np

import safetensors_io
from tessera_testlib import Checks, make_checkpoint, run, run_json, work_dir

checks = Checks("shard_plan")
DIMS = ["--heads", "4", "--kv-heads", "2", "--linear-key-heads", "4", "--linear-value-heads", "8"]
H, HD, NK, NV, DK, DV, I = 64, 32, 4, 8, 32, 32, 64
R = NV // NK
KD = NK * DK


def rows_of(entry, rank):
    out = []
    for b, e in entry["ranks"][rank]["rows"]:
        out.extend(range(b, e))
    return out


def plan(model, n):
    data = run_json(["shard-plan", "--model", model, "--tp", str(n)])
    by_name = {}
    for t in data["tensors"]:
        by_name.setdefault(t["name"], []).append(t)
    return data, by_name


def check_reassembly(model, by_name, name, n):
    tensors, _ = safetensors_io.load_dir(model, raw=True)
    w = np.asarray(tensors[name])
    w2 = w.reshape(-1, w.shape[-1]) if w.ndim == 2 else w[0]
    # A tensor may feed several engine matrices (Qwen3-Next's qkvz → qkv and z): take them all.
    all_rows, owner = [], {}
    for entry in by_name[name]:
        if entry["split"] != "column":
            continue
        for r in range(n):
            for x in rows_of(entry, r):
                all_rows.append(x)
                owner[x] = r
    checks.check(sorted(all_rows) == list(range(w2.shape[0])),
                 f"-np {n} {name}: rank slices cover all {w2.shape[0]} rows exactly once")
    rebuilt = np.zeros_like(w2)
    for r in range(n):
        idx = [x for x in all_rows if owner[x] == r]
        rebuilt[idx] = w2[idx]
    checks.check(np.array_equal(rebuilt, w2), f"-np {n} {name}: slices put back in plan order equal the original")

for family in ["qwen3_5_moe", "qwen3_next"]:
    model = make_checkpoint(f"tp-{family}", "--family", family, "--seed", "31" if family == "qwen3_5_moe" else "33", *DIMS)
    for n in [2, 4]:
        data, by_name = plan(model, n)
        L0 = "model.language_model.layers.0." if family == "qwen3_5_moe" else "model.layers.0."
        L3 = L0.replace("layers.0.", "layers.3.")
        for r in range(n):
            kh = set(range(r * NK // n, (r + 1) * NK // n))
            vh = set(range(r * NV // n, (r + 1) * NV // n))
            if family == "qwen3_5_moe":
                rows = rows_of(by_name[L0 + "linear_attn.in_proj_qkv.weight"][0], r)
                q = {x // DK for x in rows if x < KD}
                k = {(x - KD) // DK for x in rows if KD <= x < 2 * KD}
                v = {(x - 2 * KD) // DV for x in rows if x >= 2 * KD}
                checks.check(q == k == kh and {j // R for j in v} == kh and v == vh,
                             f"-np {n} rank {r}: in_proj_qkv q heads {sorted(q)}, k heads {sorted(k)}, v heads {sorted(v)} aligned")
                gu = rows_of(by_name[L0 + "mlp.experts.gate_up_proj"][0], r)
                gate = {x for x in gu if x < I}
                up = {x - I for x in gu if x >= I}
                checks.check(gate == up and len(gate) == I // n, f"-np {n} rank {r}: gate_up_proj gate/up columns aligned")
            else:
                group = 2 * DK + 2 * R * DV
                qkv = rows_of(by_name[L0 + "linear_attn.in_proj_qkvz.weight"][0], r)
                z = rows_of(by_name[L0 + "linear_attn.in_proj_qkvz.weight"][1], r)
                checks.check({x // group for x in qkv + z} == kh and len(qkv) + len(z) == len(kh) * group,
                             f"-np {n} rank {r}: in_proj_qkvz rows are whole key-head groups {sorted(kh)}")
                ba = rows_of(by_name[L0 + "linear_attn.in_proj_ba.weight"][0], r)
                checks.check({x // (2 * R) for x in ba} == kh, f"-np {n} rank {r}: in_proj_ba rows follow the key-head groups")
            conv = rows_of(by_name[L0 + "linear_attn.conv1d.weight"][0], r)
            channels = sorted({x // 4 for x in conv})
            cq = {c // DK for c in channels if c < KD}
            cv = {(c - 2 * KD) // DV for c in channels if c >= 2 * KD}
            checks.check(cq == kh and cv == vh, f"-np {n} rank {r}: conv1d channels follow q/k/v heads")
            alog = rows_of(by_name[L0 + "linear_attn.A_log"][0], r)
            checks.check(set(alog) == vh, f"-np {n} rank {r}: A_log follows value heads {sorted(vh)}")
            qp = rows_of(by_name[L3 + "self_attn.q_proj.weight"][0], r)
            heads = {x // (2 * HD) for x in qp}
            checks.check(heads == set(range(r * 4 // n, (r + 1) * 4 // n)) and len(qp) == len(heads) * 2 * HD,
                         f"-np {n} rank {r}: q_proj holds query and gate rows of heads {sorted(heads)}")
            kp = rows_of(by_name[L3 + "self_attn.k_proj.weight"][0], r)
            want_kv = {r * 2 // n} if n > 2 else {r}
            checks.check({x // HD for x in kp} == want_kv, f"-np {n} rank {r}: k_proj holds KV head(s) {sorted(want_kv)}")
        fused = [L0 + "linear_attn.in_proj_qkv.weight", L3 + "self_attn.q_proj.weight"] if family == "qwen3_5_moe" else \
            [L0 + "linear_attn.in_proj_qkvz.weight", L0 + "linear_attn.in_proj_ba.weight"]
        for name in fused:
            check_reassembly(model, by_name, name, n)
        totals = data["total_bytes_per_rank"]
        checks.check(len(totals) == n and max(totals) < sum(totals) / n * 1.6,
                     f"-np {n}: bytes per rank {totals} roughly balanced")

# Refusal before any weight is read: truncate the data section, then ask for an impossible split.
src = make_checkpoint("tp-qwen3_5_moe", "--family", "qwen3_5_moe", "--seed", "31", *DIMS)
broken = os.path.join(work_dir("refusal"), "model")
shutil.rmtree(broken, ignore_errors=True)
shutil.copytree(src, broken)
path = os.path.join(broken, "model.safetensors")
with open(path, "r+b") as f:
    f.truncate(os.path.getsize(path) // 2)
proc = run(["logits", "--model", broken, "--tokens", "1,2,3"], np_ranks=3, threads=1, check=False)
checks.check(proc.returncode != 0, f"-np 3 exits non-zero ({proc.returncode})")
checks.check("world sizes that work: 1, 2, 4" in proc.stderr and "not divisible by 3" in proc.stderr,
             "-np 3 refusal names the dimension and the sizes that work")
checks.check("truncated" not in proc.stderr, "refusal comes before any weight is read")
proc = run(["shard-plan", "--model", src, "--tp", "8"], check=False)
checks.check(proc.returncode == 1 and "num_attention_heads = 4 is not divisible by 8" in proc.stderr,
             "shard-plan --tp 8 refused with the dimension named")
checks.done()
