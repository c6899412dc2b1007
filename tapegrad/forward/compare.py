"""Comparisons and logic: no gradient flows through them."""
from __future__ import annotations

import numpy as np

from ..registry import FORWARD_WATCHERS
from ..tensor import Tensor
from .record import _broadcast_error, _operands, as_tensor_arg


# ---- comparisons and logic (no gradient) --------------------------------------------------
def _compare(ufunc, doc: str):
    def f(input, other):
        if other is None:
            return False
        x = as_tensor_arg(input)
        xa, ya, _ = _operands(x, other, False)
        try:
            out = Tensor._make(np.asarray(ufunc(xa, ya)))
        except ValueError:
            raise _broadcast_error(np.shape(xa), np.shape(ya)) from None
        if FORWARD_WATCHERS:  # a trace records comparisons too (no record: no gradient)
            for watch in FORWARD_WATCHERS:
                watch(None, (x, other), out, ufunc)
        return out
    f.__name__ = ufunc.__name__
    f.__doc__ = doc + " Broadcasts; returns a bool tensor with no gradient."
    return f


eq = _compare(np.equal, "Elementwise ``input == other``.")
ne = _compare(np.not_equal, "Elementwise ``input != other``.")
lt = _compare(np.less, "Elementwise ``input < other``.")
le = _compare(np.less_equal, "Elementwise ``input <= other``.")
gt = _compare(np.greater, "Elementwise ``input > other``.")
ge = _compare(np.greater_equal, "Elementwise ``input >= other``.")
greater, less, greater_equal, less_equal, not_equal = gt, lt, ge, le, ne
logical_and = _compare(np.logical_and, "Elementwise logical AND (nonzero is true).")
logical_or = _compare(np.logical_or, "Elementwise logical OR (nonzero is true).")
logical_xor = _compare(np.logical_xor, "Elementwise logical XOR (nonzero is true).")


def logical_not(input):
    """Elementwise logical NOT (zero is true); a bool tensor."""
    return Tensor._make(np.logical_not(as_tensor_arg(input)._data))


def isfinite(input):
    """A bool tensor: True where the element is neither inf nor NaN."""
    return Tensor._make(np.isfinite(as_tensor_arg(input)._data))


def isnan(input):
    """A bool tensor: True where the element is NaN."""
    return Tensor._make(np.isnan(as_tensor_arg(input)._data))


def isinf(input):
    """A bool tensor: True where the element is +inf or -inf."""
    return Tensor._make(np.isinf(as_tensor_arg(input)._data))


def equal(input, other) -> bool:
    """True if the two tensors have the same shape and the same elements (a Python bool)."""
    a, b = as_tensor_arg(input)._data, as_tensor_arg(other)._data
    return a.shape == b.shape and bool(np.array_equal(a, b))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """True if ``|input - other| <= atol + rtol * |other|`` everywhere (a Python bool)."""
    return bool(np.allclose(as_tensor_arg(input)._data, as_tensor_arg(other)._data, rtol=rtol,
                            atol=atol, equal_nan=equal_nan))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|input - other| <= atol + rtol * |other|``, as a bool tensor; NaNs are equal
    only with ``equal_nan=True``."""
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
