"""Bad checkpoints and bad input give a clear error naming the problem (file, tensor, field) and exit
status 1 — never a crash (signal), a hang or silently wrong output."""
import json
import os
import shutil
import struct

from tessera_testlib import Checks, make_checkpoint, run, work_dir

checks = Checks("loader_errors")
HF = make_checkpoint("errors-qwen3_5_moe", "--family", "qwen3_5_moe", "--seed", "11")
MLX = make_checkpoint("errors-qwen3_5_moe-mlx4", "--family", "qwen3_5_moe", "--seed", "18", "--layout", "mlx", "--bits", "4")
LAYER1 = "model.language_model.layers.1."


def variant(name, src=HF):
    d = os.path.join(work_dir("loader-errors"), name)
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(src, d)
    return d


def read_st(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def write_st(path, header, data, header_bytes=None):
    h = header_bytes if header_bytes is not None else json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)


def edit_header(d, fn):
    path = os.path.join(d, "model.safetensors")
    header, data = read_st(path)
    fn(header)
    write_st(path, header, data)


def expect_error(d, *needles, what, tokens="1,2,3"):
    proc = run(["logits", "--model", d, "--tokens", tokens], check=False)
    ok = proc.returncode == 1 and all(n in proc.stderr for n in needles) and "internal error" not in proc.stderr
    checks.check(ok, f"{what}: exit {proc.returncode}, message: {proc.stderr.strip()[-220:]}")


d = variant("truncated")
p = os.path.join(d, "model.safetensors")
with open(p, "r+b") as f:
    f.truncate(os.path.getsize(p) - 1000)
expect_error(d, "model.safetensors", "outside the data section", what="truncated file")

d = variant("bad-json")
_, data = read_st(os.path.join(d, "model.safetensors"))
write_st(os.path.join(d, "model.safetensors"), None, data, header_bytes=b'{"a": [1, 2' + b" " * 20)
expect_error(d, "header is not valid JSON", what="bad header JSON")

d = variant("header-too-long")
p = os.path.join(d, "model.safetensors")
raw = bytearray(open(p, "rb").read())
raw[:8] = struct.pack("<Q", len(raw) * 4)
open(p, "wb").write(raw)
expect_error(d, "runs past the end of the file", what="header length beyond file")

d = variant("wrong-dtype")
edit_header(d, lambda h: h[LAYER1 + "linear_attn.A_log"].update(dtype="I32"))
expect_error(d, LAYER1 + "linear_attn.A_log", "dtype I32", what="wrong dtype (I32 A_log)")

d = variant("unknown-dtype")
edit_header(d, lambda h: h[LAYER1 + "linear_attn.in_proj_z.weight"].update(dtype="Q9"))
expect_error(d, "in_proj_z.weight", "unsupported dtype", what="unknown dtype string")

d = variant("missing-tensor")
edit_header(d, lambda h: h.pop(LAYER1 + "linear_attn.in_proj_b.weight"))
expect_error(d, "missing tensor", LAYER1 + "linear_attn.in_proj_b.weight", what="missing tensor")

d = variant("shape-mismatch")
edit_header(d, lambda h: h[LAYER1 + "linear_attn.in_proj_qkv.weight"].update(shape=[128, 128]))
expect_error(d, LAYER1 + "linear_attn.in_proj_qkv.weight", "[128, 128]", "[256, 64]", what="shape mismatch")

d = variant("byte-count")
edit_header(d, lambda h: h[LAYER1 + "linear_attn.norm.weight"].update(shape=[31]))
expect_error(d, "norm.weight", "needs", what="data size disagrees with dtype x shape")

d = variant("missing-config-field")
cfg = json.load(open(os.path.join(d, "config.json")))
del cfg["text_config"]["hidden_size"]
json.dump(cfg, open(os.path.join(d, "config.json"), "w"))
expect_error(d, "config.json", "missing required field 'hidden_size'", what="config missing a required field")

d = variant("bad-config-json")
open(os.path.join(d, "config.json"), "w").write("{ not json")
expect_error(d, "config.json", "not valid JSON", what="config is not JSON")

d = variant("unknown-model-type")
cfg = json.load(open(os.path.join(d, "config.json")))
cfg["model_type"] = "llama"
json.dump(cfg, open(os.path.join(d, "config.json"), "w"))
expect_error(d, "model_type 'llama' is not supported", what="unsupported model_type")

expect_error(HF, "token id 999999", "outside the vocabulary", what="token id beyond the vocabulary", tokens="1,999999")
expect_error(HF, "--tokens", "'abc'", what="a token list that is not numbers", tokens="1,abc")
proc = run(["logits", "--model", "/nonexistent/model", "--tokens", "1"], check=False)
checks.check(proc.returncode == 1 and "/nonexistent/model" in proc.stderr, "missing model directory named")

# Sharded checkpoint whose index names a shard that is not there.
sharded = make_checkpoint("errors-qwen3_5_moe-sharded", "--family", "qwen3_5_moe", "--seed", "11", "--shards", "3")
d = variant("missing-shard", sharded)
idx = json.load(open(os.path.join(d, "model.safetensors.index.json")))
victim = sorted(set(idx["weight_map"].values()))[1]
os.remove(os.path.join(d, victim))
expect_error(d, victim, "does not exist", what="index names a missing shard")

# MLX affine-quantized checkpoints.
MLX1 = "language_model.model.layers.1."
d = variant("mlx-missing-scales", MLX)
edit_header(d, lambda h: h.pop(MLX1 + "linear_attn.in_proj_z.scales"))
expect_error(d, MLX1 + "linear_attn.in_proj_z", "no '" + MLX1 + "linear_attn.in_proj_z.scales'", what="quantized tensor without scales")

d = variant("mlx-wrong-bits", MLX)
cfg = json.load(open(os.path.join(d, "config.json")))
cfg["quantization"]["bits"] = 8
cfg["quantization_config"]["bits"] = 8
json.dump(cfg, open(os.path.join(d, "config.json"), "w"))
expect_error(d, "packed shape", "8 bits", what="packed width does not match the declared bits")

d = variant("mlx-bad-group", MLX)
cfg = json.load(open(os.path.join(d, "config.json")))
cfg["quantization"]["group_size"] = 48
cfg["quantization_config"]["group_size"] = 48
json.dump(cfg, open(os.path.join(d, "config.json"), "w"))
expect_error(d, "group size 48 does not divide the input dimension", what="group size that does not divide the input")

checks.done()
