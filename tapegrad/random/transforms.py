"""PyTorch's transforms of raw draws into floats, in float64 and float32: a fused multiply-add,
Cephes' single-precision ``log`` and ``sincos`` as PyTorch's AVX2 kernels compute them, and the
vectorised Box-Muller normal fill by blocks of 16."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .generator import Generator


def _fma64(a, b, c):
    """``a * b + c`` rounded once, in float64, as the C compiler's fused multiply-add computes
    it (error-free product and sum, then one final rounding; exact but for rare ties)."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    p = a * b
    split = 134217729.0  # 2**27 + 1
    ah = a * split
    ah = ah - (ah - a)
    al = a - ah
    bh = b * split
    bh = bh - (bh - b)
    bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl  # p + e == a * b exactly
    s = p + c
    bb = s - p
    t = (p - (s - bb)) + (c - bb)  # s + t == p + c exactly
    return s + (t + e)


# -- the vectorised normal fill ---------------------------------------------------------------
_f = np.float32


def _fma(a, b, c):
    """float32 fused multiply-add (the product is exact in float64)."""
    return (a.astype(np.float64) * np.float64(b) + np.float64(c)).astype(np.float32)


def _log_ps(x):
    """Cephes' single-precision log as PyTorch's AVX2 kernel computes it (x > 0; the compiler
    fuses its multiply-adds)."""
    x = np.maximum(x, np.array(0x00800000, np.int32).view(np.float32))
    bits = x.view(np.int32)
    e = ((bits >> 23) - 0x7F).astype(np.float32) + _f(1)
    x = ((bits & ~0x7F800000) | np.array(0.5, np.float32).view(np.int32)).view(np.float32)
    mask = x < _f(0.707106781186547524)
    tmp = np.where(mask, x, _f(0))
    x = x - _f(1)
    e = e - np.where(mask, _f(1), _f(0))
    x = x + tmp
    z = x * x
    y = np.full_like(x, _f(7.0376836292E-2))
    for c in (-1.1514610310E-1, 1.1676998740E-1, -1.2420140846E-1, 1.4249322787E-1,
              -1.6668057665E-1, 2.0000714765E-1, -2.4999993993E-1, 3.3333331174E-1):
        y = _fma(y, x, _f(c))
    y = y * x
    y = _fma(y, z, e * _f(-2.12194440e-4))
    y = y - z * _f(0.5)
    x = x + y
    return _fma(e, _f(0.693359375), x)


def _sincos_ps(x):
    """Cephes' single-precision sin and cos as PyTorch's AVX2 kernel computes them (x >= 0)."""
    y = x * _f(1.27323954473516)
    j = y.astype(np.int32)
    j = (j + 1) & ~1
    y = j.astype(np.float32)
    swap_sin = (j & 4) != 0
    poly = (j & 2) == 0
    x = _fma(y, _f(-0.78515625), x)
    x = _fma(y, _f(-2.4187564849853515625e-4), x)
    x = _fma(y, _f(-3.77489497744594108e-8), x)
    neg_cos = ((~(j - 2)) & 4) != 0
    z = x * x
    c = np.full_like(x, _f(2.443315711809948E-005))
    c = _fma(c, z, _f(-1.388731625493765E-003))
    c = _fma(c, z, _f(4.166664568298827E-002))
    c = _fma(c * z, z, -(z * _f(0.5)))
    c = c + _f(1)
    s = np.full_like(x, _f(-1.9515295891E-4))
    s = _fma(s, z, _f(8.3321608736E-3))
    s = _fma(s, z, _f(-1.6666654611E-1))
    s = _fma(s * z, x, x)
    sin = np.where(poly, s, c)
    cos = np.where(poly, c, s)
    sin = np.where(swap_sin, -sin, sin)
    cos = np.where(neg_cos, -cos, cos)
    return sin, cos


def _fill16(u: np.ndarray, dtype, mean, std) -> np.ndarray:
    """Box-Muller on blocks of 16: ``u`` has shape (blocks, 16)."""
    u1 = 1 - u[:, :8]
    u2 = u[:, 8:]
    if dtype == np.float32:
        radius = np.sqrt(_f(-2) * _log_ps(u1))
        sin, cos = _sincos_ps(_f(2.0 * np.pi) * u2)
        n1, n2 = radius * cos, radius * sin
        m, s = np.float64(_f(mean)), np.float64(_f(std))
        # fma(n, std, mean) in float32: the product is exact in float64
        a = (n1.astype(np.float64) * s + m).astype(np.float32)
        b = (n2.astype(np.float64) * s + m).astype(np.float32)
    else:
        radius = np.sqrt(-2 * np.log(u1))
        theta = 2.0 * np.pi * u2
        a = _fma64(radius * np.cos(theta), std, mean)
        b = _fma64(radius * np.sin(theta), std, mean)
    return np.concatenate([a, b], axis=1)


def _normal_fill(gen: Generator, n: int, dtype, mean, std, buffered=False) -> np.ndarray:
    """PyTorch's fill: n uniforms, then blocks of 16, then a fresh 16 for a tail. ``buffered``
    (float16, computed in float32 by blocks) draws only the blocks' uniforms before the tail."""
    full = n // 16 * 16
    data = np.empty(n, dtype) if buffered else gen.uniform(n, dtype)
    if buffered:
        data[:full] = gen.uniform(full, dtype)
    data[:full] = _fill16(data[:full].reshape(-1, 16), dtype, mean, std).reshape(-1)
    if n % 16:
        tail = gen.uniform(16, dtype)
        data[n - 16:] = _fill16(tail.reshape(1, 16), dtype, mean, std).reshape(-1)
    return data
