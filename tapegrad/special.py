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
    erfinv function", GPU Computing Gems, 2011) refined by two Newton steps on erf in float64,
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
        for _ in range(2):
            err = np.asarray(_ERF(x), dtype=np.float64) - z
            x = x - err / (1.1283791670955126 * np.exp(-x * x))
        x = np.where(np.abs(z) == 1, np.copysign(np.inf, z), x)
        x = np.where(np.abs(z) > 1, np.nan, x)
    return x.astype(y.dtype, copy=False) if y.dtype.kind == "f" else x
