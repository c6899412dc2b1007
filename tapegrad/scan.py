"""Cumulative products (cumsum lives in forward.py): torch.cumprod, recorded as ``cumprod``."""
from __future__ import annotations

import numpy as np

from . import forward as F
from .ops import OPS
from .tensor import Tensor, _dim


def cumprod(input, dim, *, dtype=None) -> Tensor:
    x = F.as_tensor_arg(input)
    if dtype is not None:
        x = F.to_dtype(x, dtype)
    d = _dim(dim, x.ndim) if x.ndim else 0
    np_dt = np.int64 if x._data.dtype.kind in "iub" else None
    data = np.cumprod(x._data, axis=d, dtype=np_dt) if x.ndim else x._data.copy()
    if F._wants_grad(x) and x.ndim:
        return F.emit(OPS["cumprod"], "CumprodBackward0", data, (x,), (x._data,), (d,))
    if F._wants_grad(x):
        return F.clone(x)
    return Tensor._make(data)
