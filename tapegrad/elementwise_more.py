"""Elementwise ops added for numpy interop: atan and atan2 (rows of the op table). Integer
inputs compute in the default floating dtype, as PyTorch's do."""
from __future__ import annotations

from . import dtypes
from . import forward as F
from .tensor import Tensor

_atan2 = F._make_binary("atan2")
F._BINARY.setdefault("atan2", _atan2)  # binary("atan2", ...) like the binary ops of forward.py


def _floating(x) -> Tensor:
    x = F.as_tensor_arg(x)
    return x if x.dtype.is_floating_point else F.to_dtype(x, dtypes.get_default_dtype())


def atan(input) -> Tensor:
    return F.unary("atan", _floating(input))


def atan2(input, other) -> Tensor:
    x = _floating(input)
    y = other if isinstance(other, (int, float)) else _floating(other)
    return _atan2(x, y)


arctan, arctan2 = atan, atan2
