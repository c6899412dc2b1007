"""Special functions on numpy arrays that numpy lacks (scipy is not a dependency): erf, erfc
and erfinv, in float64 to full precision, for the op table's forwards."""
from __future__ import annotations

import math

import numpy as np

_ERF = np.frompyfunc(math.erf, 1, 1)
_ERFC = np.frompyfunc(math.erfc, 1, 1)


def erf(x):
    """The error function of every element, by the C library's ``erf`` (exact to an ulp)."""
    x = np.asarray(x)
    return np.asarray(_ERF(x.astype(np.float64)), dtype=np.float64).astype(x.dtype, copy=False)


def erfc(x):
    """``1 - erf(x)``, without the cancellation for large x."""
    x = np.asarray(x)
    return np.asarray(_ERFC(x.astype(np.float64)), dtype=np.float64).astype(x.dtype, copy=False)


def erfinv(y):
    """The inverse error function: Giles' single-precision approximation ("Approximating the
    erfinv function", GPU Computing Gems, 2011) refined by one Halley step on erf in float64,
    which brings it to a few ulps; +-inf at +-1 and NaN outside [-1, 1], as PyTorch."""
    y = np.asarray(y)
    z = y.astype(np.float64)
    with np.errstate(all="ignore"):
        w = -np.log((1.0 - z) * (1.0 + z))
        small = w < 5.0
        ws = w - 2.5
        p = 2.81022636e-08
        for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                  -0.00125372503, -0.00417768164, 0.246640727, 1.50140941):
            p = c + p * ws
        wl = np.sqrt(w) - 3.0
        q = -0.000200214257
        for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                  -0.0076224613, 0.00943887047, 1.00167406, 2.83297682):
            q = c + q * wl
        x = np.where(small, p, q) * z
        # One Halley step (cubic convergence: the start's ~1e-7 becomes ~1e-16).
        x = _halley(x, z)
        # Beyond float32's range (|y| > 1 - 1e-7) the start is off by up to 10%: Newton on
        # log(erfc(|x|)) = log(1 - |y|), nearly linear there, on those elements only.
        far = np.flatnonzero(w >= 16.0)
        if far.size:
            xf, zf = np.abs(x.reshape(-1)[far]), z.reshape(-1)[far]
            target = np.log1p(-np.abs(zf))
            for _ in range(6):
                ec = np.asarray(_ERFC(xf), dtype=np.float64)
                xf = xf + (np.log(ec) - target) * ec / (1.1283791670955126 * np.exp(-xf * xf))
            x = x.copy()
            x.reshape(-1)[far] = np.copysign(xf, zf)
        x = np.where(np.abs(z) == 1, np.copysign(np.inf, z), x)
        x = np.where(np.abs(z) > 1, np.nan, x)
    return x.astype(y.dtype, copy=False) if y.dtype.kind == "f" else x


def _halley(x, z):
    # f = erf(x) - y, f' = 2/sqrt(pi) exp(-x^2), f'' = -2x f': x -= f / (f' + x f). In the tails
    # f is taken as (1 - |y|) - erfc(|x|), both exact there: the difference of two numbers near
    # 1 would lose the digits that decide x.
    err = np.where(np.abs(z) < 0.5, np.asarray(_ERF(x), dtype=np.float64) - z,
                   np.sign(z) * ((1 - np.abs(z)) - np.asarray(_ERFC(np.abs(x)),
                                                              dtype=np.float64)))
    return x - err / (1.1283791670955126 * np.exp(-x * x) + x * err)
