"""tools/make_bench_model.py (the checkpoint bench/run_bench.py measures) at a small size: the
shards, index and config form a checkpoint tessera loads; every tensor has the Qwen3_5MoeForCausalLM
shape the config implies (computed here from the config, not by the generator); the parameter counts
it records equal what `tessera info` counts from the files; and the same arguments give the same
bytes (the benchmark is reproducible)."""
import filecmp
import json
import os
import shutil
import subprocess

import numpy as np

import safetensors_io as sio
from tessera_testlib import PY, SOURCE, Checks, engine_logits, run_json, work_dir

checks = Checks("bench_model")
ARGS = ["--hidden", "128", "--layers", "4", "--experts-n", "4", "--top-k", "2", "--moe-ff", "64", "--shared-ff", "64",
        "--heads", "2", "--kv-heads", "1", "--head-dim", "64", "--lin-k-heads", "2", "--lin-v-heads", "4",
        "--lin-head-dim", "32", "--vocab", "1000", "--shard-gb", "0.0005"]


def generate(name, *extra):
    out = os.path.join(work_dir("bench-model"), name)
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run([PY, os.path.join(SOURCE, "tools", "make_bench_model.py"), out, *ARGS, *extra], check=True,
                   stdout=subprocess.DEVNULL)
    return out


def expected_shapes(c):
    H, V = c["hidden_size"], c["vocab_size"]
    nh, nkv, hd = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
    nk, nv, dk, dv = (c["linear_num_key_heads"], c["linear_num_value_heads"], c["linear_key_head_dim"],
                      c["linear_value_head_dim"])
    E, F, Fs = c["num_experts"], c["moe_intermediate_size"], c["shared_expert_intermediate_size"]
    conv = 2 * nk * dk + nv * dv
    want = {"model.embed_tokens.weight": [V, H], "model.norm.weight": [H], "lm_head.weight": [V, H]}
    for i, kind in enumerate(c["layer_types"]):
        p = f"model.layers.{i}."
        want.update({p + "input_layernorm.weight": [H], p + "post_attention_layernorm.weight": [H],
                     p + "mlp.gate.weight": [E, H], p + "mlp.experts.gate_up_proj": [E, 2 * F, H],
                     p + "mlp.experts.down_proj": [E, H, F], p + "mlp.shared_expert.gate_proj.weight": [Fs, H],
                     p + "mlp.shared_expert.up_proj.weight": [Fs, H], p + "mlp.shared_expert.down_proj.weight": [H, Fs],
                     p + "mlp.shared_expert_gate.weight": [1, H]})
        if kind == "linear_attention":
            la = p + "linear_attn."
            want.update({la + "in_proj_qkv.weight": [conv, H], la + "in_proj_z.weight": [nv * dv, H],
                         la + "in_proj_b.weight": [nv, H], la + "in_proj_a.weight": [nv, H],
                         la + "conv1d.weight": [conv, 1, c["linear_conv_kernel_dim"]], la + "dt_bias": [nv],
                         la + "A_log": [nv], la + "norm.weight": [dv], la + "out_proj.weight": [H, nv * dv]})
        else:
            sa = p + "self_attn."
            want.update({sa + "q_proj.weight": [2 * nh * hd, H], sa + "k_proj.weight": [nkv * hd, H],
                         sa + "v_proj.weight": [nkv * hd, H], sa + "o_proj.weight": [H, nh * hd],
                         sa + "q_norm.weight": [hd], sa + "k_norm.weight": [hd]})
    return want


model = generate("a")
config = json.load(open(os.path.join(model, "config.json")))
checks.check(config["model_type"] == "qwen3_5_moe_text" and config["layer_types"].count("full_attention") == 1,
             "flat qwen3_5_moe_text config, one full-attention layer in four")
shards = sorted(f for f in os.listdir(model) if f.endswith(".safetensors"))
index = json.load(open(os.path.join(model, "model.safetensors.index.json")))
checks.check(len(shards) > 1 and sorted(set(index["weight_map"].values())) == shards,
             f"{len(shards)} shards, all named in the index")
shapes = {}
for f in shards:
    for name, value in sio.load_file(os.path.join(model, f), raw=True).items():
        shapes[name] = list(np.asarray(value).shape)
want = expected_shapes(config)
checks.check(shapes == want, f"all {len(want)} tensors have the shapes the config implies "
             f"(differ: {sorted(n for n in set(want) | set(shapes) if want.get(n) != shapes.get(n))[:3]})")
info = run_json(["info", "--model", model])
params = json.load(open(os.path.join(model, "bench_params.json")))
checks.check(info["parameters_total"] == params["params_total"],
             f"parameters: tessera info {info['parameters_total']} == generator {params['params_total']}")
checks.check(info["parameters_active_per_token"] == params["params_active_per_token_excl_embd"] + config["hidden_size"],
             f"active per token: tessera info {info['parameters_active_per_token']} == generator "
             f"{params['params_active_per_token_excl_embd']} + one embedding row")
logits = engine_logits(model, [1, 2, 3])
checks.check(logits.shape == (3, 1000) and np.isfinite(logits).all(), "tessera runs it")
again = generate("b")
checks.check(all(filecmp.cmp(os.path.join(model, f), os.path.join(again, f), shallow=False) for f in shards),
             "the same arguments write the same bytes")
checks.done()
