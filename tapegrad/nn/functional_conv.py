"""Convolution, padding and pooling for ``tapegrad.nn.functional``, composed from public tapegrad
ops (slicing, ``stack``, ``cat``, ``matmul``, ``amax``/``max``), so every gradient comes from the
op table.

The window extraction is im2col by strided views: one basic slice per kernel offset (a Python
loop over the ``kh*kw`` offsets, never over output positions), stacked into
``(N, C, kh*kw, *out)``; a convolution is then one batched ``matmul`` (BLAS). A slice's backward
writes into zeros, which is much cheaper than the scatter-add a gather by index arrays needs.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from .. import cat, flip, full, matmul, stack
from ..tensor import Tensor

__all__ = ["pad", "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d",
           "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "unfold"]


def _ntuple(v, n: int, name: str = "value") -> tuple:
    if isinstance(v, (list, tuple)):
        if len(v) == 1 and n > 1:
            return tuple(int(v[0]) for _ in range(n))
        if len(v) != n:
            raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} "
                               f"values to match the convolution dimensions, but got "
                               f"{name}={list(v)}")
        return tuple(int(x) for x in v)
    return (int(v),) * n


# ---- padding ------------------------------------------------------------------------------
def _pad_dim(x, dim: int, lo: int, hi: int, mode: str, value: float):
    if lo < 0 or hi < 0:  # negative padding crops
        n = x.shape[dim]
        idx = [slice(None)] * x.ndim
        idx[dim] = slice(max(-lo, 0), n - max(-hi, 0))
        x = x[tuple(idx)]
        lo, hi = max(lo, 0), max(hi, 0)
    if lo == 0 and hi == 0:
        return x
    n = x.shape[dim]
    if mode == "constant":
        parts = []
        if lo:
            parts.append(full(_with(x.shape, dim, lo), value, dtype=x.dtype))
        parts.append(x)
        if hi:
            parts.append(full(_with(x.shape, dim, hi), value, dtype=x.dtype))
        return cat(parts, dim)
    if mode == "reflect":
        if lo >= n or hi >= n:
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding "
                               f"input dimension, but got: padding ({lo}, {hi}) at dimension "
                               f"{dim} of input {list(x.shape)}")
        index = np.concatenate([np.arange(lo, 0, -1), np.arange(n), n - 2 - np.arange(hi)])
    elif mode == "replicate":
        index = np.clip(np.arange(-lo, n + hi), 0, n - 1)
    elif mode == "circular":
        if lo > n or hi > n:
            raise RuntimeError("Padding value causes wrapping around more than once.")
        index = np.arange(-lo, n + hi) % n
    else:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    idx = [slice(None)] * x.ndim
    idx[dim] = Tensor._make(index.astype(np.int64))
    return x[tuple(idx)]


def _with(shape, dim, n):
    s = list(shape)
    s[dim] = n
    return tuple(s)


def pad(input, pad, mode: str = "constant", value=None):
    """``F.pad``: ``pad`` lists (before, after) pairs starting from the last dimension."""
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension "
                           f"{input.ndim}")
    if mode != "constant" and value not in (None, 0):
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
    x = input
    for i in range(len(pad) // 2):
        x = _pad_dim(x, input.ndim - 1 - i, int(pad[2 * i]), int(pad[2 * i + 1]), mode,
                     0.0 if value is None else value)
    return x


# ---- windows --------------------------------------------------------------------------------
def _windows(x, kernel, stride, dilation, out):
    """(N, C, *spatial) -> (N, C, prod(kernel), *out): one strided slice per kernel offset."""
    views = []
    for offs in itertools.product(*[range(k) for k in kernel]):
        index = (slice(None), slice(None)) + tuple(
            slice(o * d, o * d + s * (n - 1) + 1, s)
            for o, d, s, n in zip(offs, dilation, stride, out))
        views.append(x[index])
    if len(views) == 1:
        return views[0].unsqueeze(2)
    return stack(views, 2)


def _out_size(n, k, s, p_lo, p_hi, d, ceil_mode=False):
    span = n + p_lo + p_hi - d * (k - 1) - 1
    if ceil_mode:
        o = -(-span // s) + 1
        if (o - 1) * s >= n + p_lo:  # the last window must start inside input or left padding
            o -= 1
        return o
    return span // s + 1


def _batched(input, n_spatial: int, name: str):
    if input.ndim == n_spatial + 2:
        return input, False
    if input.ndim == n_spatial + 1:
        return input.unsqueeze(0), True
    raise RuntimeError(f"Expected {n_spatial + 1}D (unbatched) or {n_spatial + 2}D (batched) "
                       f"input to {name}, but got input of size: {list(input.shape)}")


# ---- convolution ----------------------------------------------------------------------------
def _conv(input, weight, bias, stride, padding, dilation, groups, n: int, name: str):
    x, unbatched = _batched(input, n, name)
    stride = _ntuple(stride, n, "stride")
    dilation = _ntuple(dilation, n, "dilation")
    kernel = tuple(weight.shape[2:])
    cin = x.shape[1]
    if weight.ndim != n + 2:
        raise RuntimeError(f"Expected {n + 2}-dimensional weight for {n + 2}-dimensional input "
                           f"{list(x.shape)}, but got {weight.ndim}-dimensional weight of size "
                           f"{list(weight.shape)} instead")
    if cin != weight.shape[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, "
                           f"expected input{list(x.shape)} to have {weight.shape[1] * groups} "
                           f"channels, but got {cin} channels instead")
    if weight.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size {list(weight.shape)} instead")
    if isinstance(padding, str):
        if padding == "valid":
            pads = [(0, 0)] * n
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            pads = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)
                pads.append((total // 2, total - total // 2))
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        pads = [(p, p) for p in _ntuple(padding, n, "padding")]
    spatial = x.shape[2:]
    padded = [s + lo + hi for s, (lo, hi) in zip(spatial, pads)]
    out = [_out_size(s, k, st, lo, hi, d) for s, k, st, (lo, hi), d
           in zip(spatial, kernel, stride, pads, dilation)]
    if any(o < 1 for o in out):
        eff = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
        raise RuntimeError(f"Calculated padded input size per channel: "
                           f"({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, eff))}). Kernel size can't be greater than "
                           f"actual input size")
    flat_pad = [p for lo_hi in reversed(pads) for p in lo_hi]
    if any(flat_pad):
        x = pad(x, flat_pad)
    cols = _windows(x, kernel, stride, dilation, out)           # (N, C, K, *out)
    nb = x.shape[0]
    length = int(np.prod(out))
    cout = weight.shape[0]
    ck = (cin // groups) * int(np.prod(kernel))
    cols = cols.reshape(nb, groups, ck, length)
    w = weight.reshape(groups, cout // groups, ck)
    y = matmul(w, cols).reshape((nb, cout) + tuple(out))       # (N, g, O/g, L) -> (N, O, *out)
    if bias is not None:
        y = y + bias.reshape((cout,) + (1,) * n)
    return y.squeeze(0) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1):
    """1-D convolution over (N, C, L) or (C, L), as ``torch.nn.functional.conv1d``."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1):
    """2-D convolution over (N, C, H, W) or (C, H, W), as ``torch.nn.functional.conv2d``."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def _zero_insert(x, dim: int, s: int):
    """Put s-1 zeros between neighbours along ``dim`` (the transposed convolution's input)."""
    if s == 1:
        return x
    n = x.shape[dim]
    z = full(x.shape, 0.0, dtype=x.dtype)
    y = stack([x] + [z] * (s - 1), dim + 1)
    y = y.reshape(x.shape[:dim] + (n * s,) + x.shape[dim + 1:])
    idx = [slice(None)] * x.ndim
    idx[dim] = slice(0, n * s - (s - 1))
    return y[tuple(idx)]


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation,
                    n: int, name: str):
    x, unbatched = _batched(input, n, name)
    stride = _ntuple(stride, n, "stride")
    padding = _ntuple(padding, n, "padding")
    output_padding = _ntuple(output_padding, n, "output_padding")
    dilation = _ntuple(dilation, n, "dilation")
    cin = x.shape[1]
    if cin != weight.shape[0]:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                           f"input{list(x.shape)} to have {weight.shape[0]} channels, but got "
                           f"{cin} channels instead")
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= s and op >= d:
            raise RuntimeError("output padding must be smaller than either stride or dilation, "
                               f"but got output_padding: {op}, stride: {s}, dilation: {d}")
    kernel = tuple(weight.shape[2:])
    for i in range(n):
        x = _zero_insert(x, 2 + i, stride[i])
    pads = []
    for k, d, p, op in zip(kernel, dilation, padding, output_padding):
        edge = d * (k - 1) - p
        pads += [edge, edge + op]
    flat = []
    for i in reversed(range(n)):
        flat += pads[2 * i:2 * i + 2]
    x = pad(x, flat)
    # weight (Cin, Cout/g, *k) -> (Cout, Cin/g, *k), flipped in space.
    cout_g = weight.shape[1]
    w = weight.reshape((groups, cin // groups, cout_g) + kernel)
    w = w.permute((0, 2, 1) + tuple(range(3, 3 + n)))
    w = w.reshape((groups * cout_g, cin // groups) + kernel)
    w = flip(w, tuple(range(2, 2 + n)))
    y = _conv(x, w, bias, 1, 0, dilation, groups, n, name)
    return y.squeeze(0) if unbatched else y


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups: int = 1, dilation=1):
    """Transposed 1-D convolution (the gradient of conv1d with respect to its input)."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 1, "conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups: int = 1, dilation=1):
    """Transposed 2-D convolution (the gradient of conv2d with respect to its input)."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 2, "conv_transpose2d")


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """``F.unfold`` (im2col): (N, C, H, W) -> (N, C*kh*kw, L)."""
    x, unbatched = _batched(input, 2, "unfold")
    k = _ntuple(kernel_size, 2)
    d, p, s = _ntuple(dilation, 2), _ntuple(padding, 2), _ntuple(stride, 2)
    out = [_out_size(n, kk, ss, pp, pp, dd) for n, kk, ss, pp, dd in zip(x.shape[2:], k, s, p, d)]
    if any(p):
        x = pad(x, [p[1], p[1], p[0], p[0]])
    cols = _windows(x, k, s, d, out)
    y = cols.reshape(x.shape[0], x.shape[1] * k[0] * k[1], out[0] * out[1])
    return y.squeeze(0) if unbatched else y


# ---- pooling ----------------------------------------------------------------------------------
def _pool_geometry(x, n, kernel_size, stride, padding, dilation, ceil_mode):
    k = _ntuple(kernel_size, n, "kernel_size")
    s = k if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) \
        else _ntuple(stride, n, "stride")
    p = _ntuple(padding, n, "padding")
    d = _ntuple(dilation, n, "dilation")
    for kk, pp in zip(k, p):
        if pp > kk // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={pp}, kernel_size={kk} and dilation={d[0]}")
    spatial = x.shape[2:]
    out = [_out_size(n_, kk, ss, pp, pp, dd, ceil_mode)
           for n_, kk, ss, pp, dd in zip(spatial, k, s, p, d)]
    if any(o < 1 for o in out):
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, x.shape[1:]))}). Calculated "
                           f"output size: ({'x'.join(map(str, [x.shape[1]] + out))}). Output "
                           "size is too small")
    # right-hand padding that ceil_mode's last window reaches beyond the usual padding
    extra = [max(0, (o - 1) * ss + dd * (kk - 1) + 1 - (n_ + 2 * pp))
             for o, ss, dd, kk, n_, pp in zip(out, s, d, k, spatial, p)]
    return k, s, p, d, out, extra


def _max_pool(input, n, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
              name):
    x, unbatched = _batched(input, n, name)
    k, s, p, d, out, extra = _pool_geometry(x, n, kernel_size, stride, padding, dilation,
                                            ceil_mode)
    flat = []
    for i in reversed(range(n)):
        flat += [p[i], p[i] + extra[i]]
    xp = pad(x, flat, value=-math.inf) if any(flat) else x
    values, where = _windows(xp, k, s, d, out).max(2)
    if unbatched:
        values = values.squeeze(0)
    if not return_indices:
        return values
    # the flat index (within each channel's input plane) of each window's maximum
    offs = np.array(list(itertools.product(*[range(kk) for kk in k])))   # (K, n)
    arg = where._data
    coords = []
    for i in range(n):
        grid = np.arange(out[i]) * s[i] - p[i]
        shape = [1] * n
        shape[i] = out[i]
        coords.append(grid.reshape(shape) + offs[arg, i] * d[i])
    flat_index = np.zeros(arg.shape, np.int64)
    for i in range(n):
        flat_index = flat_index * x.shape[2 + i] + coords[i]
    idx = Tensor._make(flat_index)
    return values, (idx.squeeze(0) if unbatched else idx)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """Max over sliding windows of (N, C, L) or (C, L)."""
    return _max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     "max_pool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """Max over sliding windows of (N, C, H, W) or (C, H, W)."""
    return _max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     "max_pool2d")


def _avg_pool(input, n, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override, name):
    x, unbatched = _batched(input, n, name)
    k, s, p, d, out, extra = _pool_geometry(x, n, kernel_size, stride, padding, 1, ceil_mode)
    flat = []
    for i in reversed(range(n)):
        flat += [p[i], p[i] + extra[i]]
    xp = pad(x, flat) if any(flat) else x
    total = _windows(xp, k, s, d, out).sum(2)
    if divisor_override:
        y = total / divisor_override
    else:
        # count what each window covers: the input, plus the padding when count_include_pad,
        # never the overhang that ceil_mode adds
        counted = np.ones(x.shape[2:], np.float64)
        padded = np.pad(counted, [(pp, pp) for pp in p],
                        constant_values=1.0 if count_include_pad else 0.0)
        padded = np.pad(padded, [(0, e) for e in extra])
        div = np.zeros(out)
        for offs in itertools.product(*[range(kk) for kk in k]):
            div += padded[tuple(slice(o, o + ss * (m - 1) + 1, ss)
                                for o, ss, m in zip(offs, s, out))]
        y = total / Tensor._make(div.astype(x._data.dtype))
    return y.squeeze(0) if unbatched else y


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True):
    """Mean over sliding windows of (N, C, L) or (C, L)."""
    return _avg_pool(input, 1, kernel_size, stride, padding, ceil_mode, count_include_pad, None,
                     "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None):
    """Mean over sliding windows of (N, C, H, W) or (C, H, W)."""
    return _avg_pool(input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, "avg_pool2d")


def _adaptive_matrix(n_in: int, n_out: int, dtype) -> Tensor:
    """(n_out, n_in): row j averages input[floor(j*n/o) : ceil((j+1)*n/o)]."""
    m = np.zeros((n_out, n_in), dtype)
    for j in range(n_out):
        lo, hi = (j * n_in) // n_out, -(-((j + 1) * n_in) // n_out)
        m[j, lo:hi] = 1.0 / (hi - lo)
    return Tensor._make(m)


def _adaptive_avg(input, n, output_size, name):
    x, unbatched = _batched(input, n, name)
    size = _ntuple(output_size, n) if not isinstance(output_size, (list, tuple)) else tuple(
        x.shape[2 + i] if o is None else int(o) for i, o in enumerate(output_size))
    y = x
    dt = x._data.dtype
    # out = P_H @ x @ P_W^T: averaging over variable windows as BLAS products
    for i in range(n):
        dim = 2 + i
        m = _adaptive_matrix(x.shape[dim], size[i], dt)
        y = matmul(y.transpose(dim, -1), m.t()).transpose(dim, -1)
    return y.squeeze(0) if unbatched else y


def adaptive_avg_pool1d(input, output_size):
    """Average pooling to a fixed output length, PyTorch's windows."""
    return _adaptive_avg(input, 1, output_size, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size, PyTorch's windows."""
    return _adaptive_avg(input, 2, output_size, "adaptive_avg_pool2d")
