"""Comparisons and logic: no gradient flows through them."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .record import _broadcast_error, _operands, as_tensor_arg


# ---- comparisons and logic (no gradient) --------------------------------------------------
def _compare(ufunc):
    def f(input, other):
        if other is None:
            return False
        x = as_tensor_arg(input)
        xa, ya, _ = _operands(x, other, False)
        try:
            return Tensor._make(np.asarray(ufunc(xa, ya)))
        except ValueError:
            raise _broadcast_error(np.shape(xa), np.shape(ya)) from None
    f.__name__ = ufunc.__name__
    return f


eq = _compare(np.equal)
ne = _compare(np.not_equal)
lt = _compare(np.less)
le = _compare(np.less_equal)
gt = _compare(np.greater)
ge = _compare(np.greater_equal)
greater, less, greater_equal, less_equal, not_equal = gt, lt, ge, le, ne
logical_and = _compare(np.logical_and)
logical_or = _compare(np.logical_or)
logical_xor = _compare(np.logical_xor)


def logical_not(input):
    return Tensor._make(np.logical_not(as_tensor_arg(input)._data))


def isfinite(input):
    return Tensor._make(np.isfinite(as_tensor_arg(input)._data))


def isnan(input):
    return Tensor._make(np.isnan(as_tensor_arg(input)._data))


def isinf(input):
    return Tensor._make(np.isinf(as_tensor_arg(input)._data))


def equal(input, other) -> bool:
    a, b = as_tensor_arg(input)._data, as_tensor_arg(other)._data
    return a.shape == b.shape and bool(np.array_equal(a, b))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return bool(np.allclose(as_tensor_arg(input)._data, as_tensor_arg(other)._data, rtol=rtol,
                            atol=atol, equal_nan=equal_nan))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return Tensor._make(np.isclose(as_tensor_arg(input)._data, as_tensor_arg(other)._data,
                                   rtol=rtol, atol=atol, equal_nan=equal_nan))


def _bitwise(ufunc):
    def f(input, other):
        x = as_tensor_arg(input)
        y = as_tensor_arg(other)
        if x._data.dtype.kind == "f" or y._data.dtype.kind == "f":
            raise TypeError(f"{ufunc.__name__} is only supported for integer and boolean tensors")
        return Tensor._make(ufunc(x._data, y._data))
    return f


bitwise_and = _bitwise(np.bitwise_and)
bitwise_or = _bitwise(np.bitwise_or)
bitwise_xor = _bitwise(np.bitwise_xor)
