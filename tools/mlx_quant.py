"""MLX affine quantization (spec §5), NumPy only.

Layout of one quantized matrix W [..., out, in]:
  weight  uint32 [..., out, in*bits/32]   codes, each row an independent little-endian bit stream
                                          (code c occupies bits [c*bits, (c+1)*bits), bit 0 = LSB of word 0)
  scales  bf16   [..., out, in/group_size]
  biases  bf16   [..., out, in/group_size]
  W[r, c] = scales[r, c // gs] * q[r, c] + biases[r, c // gs]

Scale/bias choice mirrors mlx.core.quantize (affine mode):
  per group: w_min, w_max; n = 2^bits - 1
  scale = max((w_max - w_min) / n, 1e-7), negated unless |w_min| > |w_max|
  edge  = w_min if |w_min| > |w_max| else w_max
  q0    = round(edge / scale); if q0 != 0: scale = edge / q0 (so that 0.0 is exactly representable)
  bias  = 0 if q0 == 0 else edge
Scales and biases are then rounded to bf16 (the stored dtype) and the codes are computed against the
ROUNDED values, q = clip(round((w - bias) / scale), 0, n), so that dequantize(stored) is the closest
representable value (error <= |scale|/2, except where a code is clipped at 0 or n: there the zero-point
adjustment of MLX can leave up to about |scale|).
"""
import numpy as np

from safetensors_io import round_bf16, f32_to_bf16_bits, bf16_bits_to_f32

SUPPORTED_BITS = (2, 3, 4, 5, 6, 8)
SUPPORTED_GROUPS = (32, 64, 128)


def packed_width(n_in, bits):
    if (n_in * bits) % 32:
        raise ValueError(f"in={n_in} * bits={bits} is not a multiple of 32")
    return n_in * bits // 32


def pack(codes, bits):
    """codes: integer array [..., in] with values in [0, 2^bits) -> uint32 [..., in*bits/32]."""
    codes = np.asarray(codes)
    if bits not in SUPPORTED_BITS:
        raise ValueError(f"unsupported bits {bits}")
    n_in = codes.shape[-1]
    nw = packed_width(n_in, bits)
    c = codes.reshape(-1, n_in).astype(np.uint64)
    if (c >> np.uint64(bits)).any():
        raise ValueError("code out of range")
    # bit matrix [rows, in, bits], LSB first, then flatten per row into the bit stream
    shifts = np.arange(bits, dtype=np.uint64)
    bitmat = ((c[:, :, None] >> shifts[None, None, :]) & np.uint64(1)).astype(np.uint8)
    stream = bitmat.reshape(c.shape[0], n_in * bits)  # [rows, nbits]
    stream = stream.reshape(c.shape[0], nw, 32).astype(np.uint64)
    words = (stream << np.arange(32, dtype=np.uint64)[None, None, :]).sum(axis=-1)
    return words.astype(np.uint32).reshape(codes.shape[:-1] + (nw,))


def unpack(words, bits, n_in=None):
    """uint32 [..., nw] -> codes uint32 [..., nw*32/bits] (little-endian bit stream per row)."""
    words = np.asarray(words, dtype=np.uint32)
    nw = words.shape[-1]
    if n_in is None:
        n_in = nw * 32 // bits
    w = words.reshape(-1, nw).astype(np.uint64)
    bitpos = np.arange(32, dtype=np.uint64)
    stream = ((w[:, :, None] >> bitpos[None, None, :]) & np.uint64(1)).reshape(w.shape[0], nw * 32)
    stream = stream[:, : n_in * bits].reshape(w.shape[0], n_in, bits)
    codes = (stream << np.arange(bits, dtype=np.uint64)[None, None, :]).sum(axis=-1)
    return codes.astype(np.uint32).reshape(words.shape[:-1] + (n_in,))


def mlx_scales_biases(w, group_size, bits):
    """MLX affine scale/bias per group, in float32 (before bf16 rounding). w [..., in]."""
    w = np.asarray(w, dtype=np.float32)
    n_in = w.shape[-1]
    if n_in % group_size:
        raise ValueError(f"in={n_in} not divisible by group_size={group_size}")
    g = w.reshape(w.shape[:-1] + (n_in // group_size, group_size))
    n_bins = np.float32((1 << bits) - 1)
    w_max = g.max(axis=-1)
    w_min = g.min(axis=-1)
    mask = np.abs(w_min) > np.abs(w_max)
    scales = np.maximum((w_max - w_min) / n_bins, np.float32(1e-7)).astype(np.float32)
    scales = np.where(mask, scales, -scales)
    edge = np.where(mask, w_min, w_max)
    q0 = np.round(edge / scales)
    with np.errstate(divide="ignore", invalid="ignore"):
        scales = np.where(q0 != 0, edge / np.where(q0 != 0, q0, 1), scales).astype(np.float32)
    biases = np.where(q0 == 0, np.float32(0), edge).astype(np.float32)
    return scales, biases


def quantize(w, group_size=64, bits=4):
    """w float [..., out, in] -> (weight uint32 [..., out, in*bits/32], scales_bf16_bits, biases_bf16_bits).

    scales/biases are returned as uint16 bf16 bit patterns (what is stored)."""
    if bits not in SUPPORTED_BITS:
        raise ValueError(f"unsupported bits {bits}")
    w = np.asarray(w, dtype=np.float32)
    n_in = w.shape[-1]
    s, b = mlx_scales_biases(w, group_size, bits)
    s_bits = f32_to_bf16_bits(s)
    b_bits = f32_to_bf16_bits(b)
    s_r = bf16_bits_to_f32(s_bits).astype(np.float64)
    b_r = bf16_bits_to_f32(b_bits).astype(np.float64)
    g = w.reshape(w.shape[:-1] + (n_in // group_size, group_size)).astype(np.float64)
    n_bins = (1 << bits) - 1
    q = np.clip(np.round((g - b_r[..., None]) / s_r[..., None]), 0, n_bins).astype(np.uint32)
    q = q.reshape(w.shape)
    return pack(q, bits), s_bits, b_bits


def dequantize(weight, scales, biases, group_size=64, bits=4, dtype=np.float32):
    """weight uint32 [..., out, nw]; scales/biases either float arrays (already bf16 values) or uint16
    bf16 bit patterns [..., out, in/gs]. Returns scale*q + bias in `dtype`."""
    scales = np.asarray(scales)
    biases = np.asarray(biases)
    if scales.dtype == np.uint16:
        scales = bf16_bits_to_f32(scales)
    if biases.dtype == np.uint16:
        biases = bf16_bits_to_f32(biases)
    n_in = scales.shape[-1] * group_size
    q = unpack(weight, bits, n_in).astype(dtype)
    q = q.reshape(q.shape[:-1] + (n_in // group_size, group_size))
    out = scales.astype(dtype)[..., None] * q + biases.astype(dtype)[..., None]
    return out.reshape(out.shape[:-2] + (n_in,))


def infer_bits(weight_shape, scales_shape, group_size):
    n_in = scales_shape[-1] * group_size
    bits = 32 * weight_shape[-1] // n_in
    if 32 * weight_shape[-1] != bits * n_in:
        raise ValueError("inconsistent quantized shapes")
    return bits


def quantize_dequantize(w, group_size=64, bits=4):
    wq, s, b = quantize(w, group_size, bits)
    return dequantize(wq, s, b, group_size, bits)
