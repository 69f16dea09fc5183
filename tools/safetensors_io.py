"""Minimal safetensors reader/writer (NumPy only).

File format: 8-byte little-endian u64 N, then N bytes of UTF-8 JSON header
{name: {"dtype": "BF16"|"F16"|"F32"|..., "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}},
padded with spaces so that the data section starts on an 8-byte boundary; offsets are relative to the
start of the data section; tensors are packed back to back, row-major, little-endian.

NumPy has no bfloat16: BF16 tensors are written from a `BF16` wrapper (raw uint16 bits) or converted from
float arrays with round-to-nearest-even (`to_bf16`). On reading, BF16 becomes float32 unless raw=True.
"""
import json
import os
import struct

import numpy as np

_NP_OF = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"), "U32": np.dtype("<u4"), "U16": np.dtype("<u2"), "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"), "BF16": np.dtype("<u2"),
}
_ST_OF = {np.dtype(v).str: k for k, v in _NP_OF.items() if k != "BF16"}


class BF16:
    """A bfloat16 tensor held as its raw uint16 bit patterns."""

    def __init__(self, bits):
        bits = np.asarray(bits)
        if bits.dtype != np.uint16:
            raise TypeError("BF16 wants uint16 bits; use to_bf16() for float data")
        self.bits = bits

    @property
    def shape(self):
        return self.bits.shape

    def to_float32(self):
        return bf16_bits_to_f32(self.bits)


def f32_to_bf16_bits(x):
    """float32 -> bf16 bits, round to nearest, ties to even; NaN stays NaN (quiet)."""
    x = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
    u = x.view(np.uint32).astype(np.uint64)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    out = rounded.astype(np.uint16)
    nan = np.isnan(x)
    if nan.any():
        out[nan] = ((u[nan] >> 16) | 0x40).astype(np.uint16)
    return out.reshape(x.shape)


def bf16_bits_to_f32(bits):
    bits = np.asarray(bits, dtype=np.uint16)
    return (bits.astype(np.uint32) << 16).view(np.float32)


def to_bf16(x):
    return BF16(f32_to_bf16_bits(x))


def round_bf16(x):
    """Round float data to the nearest bf16 value, returned as float32."""
    return bf16_bits_to_f32(f32_to_bf16_bits(x))


def _as_dtype_and_bytes(value):
    if isinstance(value, BF16):
        return "BF16", list(value.bits.shape), np.ascontiguousarray(value.bits, dtype="<u2").tobytes()
    a = np.asarray(value)
    st = _ST_OF.get(a.dtype.newbyteorder("<").str)
    if st is None:
        raise TypeError(f"unsupported dtype {a.dtype}")
    return st, list(a.shape), np.ascontiguousarray(a, dtype=_NP_OF[st]).tobytes()


def save_file(tensors, path, metadata=None, sort=True):
    """tensors: dict name -> np.ndarray (F32/F16/U32/...) or BF16. Tensors are laid out in name order."""
    names = sorted(tensors) if sort else list(tensors)
    header = {}
    blobs = []
    off = 0
    for n in names:
        st, shape, raw = _as_dtype_and_bytes(tensors[n])
        header[n] = {"dtype": st, "shape": shape, "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    if metadata is not None:
        header = {"__metadata__": {str(k): str(v) for k, v in metadata.items()}, **header}
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    pad = (-(8 + len(hjson))) % 8
    hjson += b" " * pad
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)
    return off


def tensor_nbytes(value):
    if isinstance(value, BF16):
        return value.bits.size * 2
    return np.asarray(value).nbytes


def save_sharded(tensors, out_dir, num_shards=1, metadata=None, base="model"):
    """Write tensors as `model.safetensors` (num_shards == 1) or as
    `model-0000i-of-0000K.safetensors` + `model.safetensors.index.json`. Returns the list of files."""
    os.makedirs(out_dir, exist_ok=True)
    if metadata is None:
        metadata = {"format": "pt"}
    names = sorted(tensors)
    if num_shards <= 1:
        fn = f"{base}.safetensors"
        save_file(tensors, os.path.join(out_dir, fn), metadata)
        return [fn]
    num_shards = min(num_shards, len(names))
    total = sum(tensor_nbytes(tensors[n]) for n in names)
    target = total / num_shards
    groups = [[] for _ in range(num_shards)]
    acc = 0
    for n in names:
        idx = min(int(acc / target) if target > 0 else 0, num_shards - 1)
        groups[idx].append(n)
        acc += tensor_nbytes(tensors[n])
    # make sure no shard is empty (move one tensor from a neighbour)
    for i in range(num_shards):
        if not groups[i]:
            for j in list(range(i - 1, -1, -1)) + list(range(i + 1, num_shards)):
                if len(groups[j]) > 1:
                    groups[i].append(groups[j].pop(-1 if j < i else 0))
                    break
    weight_map = {}
    files = []
    for i, g in enumerate(groups):
        fn = f"{base}-{i + 1:05d}-of-{num_shards:05d}.safetensors"
        save_file({n: tensors[n] for n in g}, os.path.join(out_dir, fn), metadata)
        files.append(fn)
        for n in g:
            weight_map[n] = fn
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    with open(os.path.join(out_dir, f"{base}.safetensors.index.json"), "w") as f:
        json.dump(index, f, indent=2)
        f.write("\n")
    return files


def read_header(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n).decode("utf-8"))
    return header, 8 + n


def load_file(path, raw=False, names=None):
    """Returns dict name -> np.ndarray. BF16 -> float32 (or uint16 bits if raw=True)."""
    header, base = read_header(path)
    out = {}
    with open(path, "rb") as f:
        data = f.read()
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if names is not None and name not in names:
            continue
        st = info["dtype"]
        b, e = info["data_offsets"]
        arr = np.frombuffer(data, dtype=_NP_OF[st], count=(e - b) // _NP_OF[st].itemsize, offset=base + b)
        arr = arr.reshape(info["shape"])
        if st == "BF16" and not raw:
            arr = bf16_bits_to_f32(arr)
        else:
            arr = arr.copy()
        out[name] = arr
    return out


def load_dtypes(path):
    header, _ = read_header(path)
    return {k: v["dtype"] for k, v in header.items() if k != "__metadata__"}


def model_files(model_dir):
    """The safetensors files of a checkpoint folder (index first, then model.safetensors, then *.safetensors)."""
    idx = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(idx):
        with open(idx) as f:
            wm = json.load(f)["weight_map"]
        return sorted(set(wm.values()))
    if os.path.exists(os.path.join(model_dir, "model.safetensors")):
        return ["model.safetensors"]
    return sorted(fn for fn in os.listdir(model_dir) if fn.endswith(".safetensors"))


def load_dir(model_dir, raw=False):
    out = {}
    dtypes = {}
    for fn in model_files(model_dir):
        p = os.path.join(model_dir, fn)
        out.update(load_file(p, raw=raw))
        dtypes.update(load_dtypes(p))
    return out, dtypes
