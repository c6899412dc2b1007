"""What the numpy tables share: numpy arguments to tensors of one dtype, numpy's axis and dtype
arguments, and ``Unsupported`` for an argument the tables do not handle."""
from __future__ import annotations


import numpy as np

from .. import dtypes
from .. import forward as F
from ..tensor import Tensor


class Unsupported(Exception):
    """An argument this table does not handle; raised to the dispatcher, never to the user."""


# ---- helpers ----------------------------------------------------------------------------
def _t(x) -> Tensor:
    """A tensor from a numpy argument: arrays and lists keep numpy's dtype (a Python float is
    float64, as numpy makes it; never the default float32)."""
    if isinstance(x, Tensor):
        return x
    a = np.asarray(x)
    if a.dtype == np.float16 or a.dtype.kind in "fiub":
        return Tensor._make(a if a.dtype.kind == "f" or a.dtype == np.bool_ else
                            a.astype(np.int64))
    raise Unsupported(f"an argument of dtype {a.dtype}")


def _same(*xs) -> list:
    """Tensors of one dtype (numpy promotes where PyTorch's matmul/cat would refuse)."""
    ts = [_t(x) for x in xs]
    dt = ts[0].dtype
    for t in ts[1:]:
        dt = dtypes.promote(dt, t.dtype)
    return [t if t.dtype == dt else F.to_dtype(t, dt) for t in ts]


def _no(name, value, default=None):
    if value is not default:
        raise Unsupported(f"{name}={value!r}")


def _axes(axis, ndim):
    if axis is None:
        return None
    if isinstance(axis, (list, tuple)):
        return tuple(int(a) for a in axis)
    return int(axis)


def _cast(x: Tensor, dtype):
    if dtype is None:
        return x
    return F.to_dtype(x, dtypes.from_numpy_dtype(np.dtype(dtype)))
