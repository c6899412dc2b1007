"""Helpers the layer modules share: parameter creation in a dtype, PyTorch's tuple arguments."""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..tensor import Tensor


def ntuple(v, n: int) -> tuple:
    if isinstance(v, (list, tuple)):
        return tuple(v)
    return (v,) * n


def empty_param(shape, dtype=None):
    """An uninitialised Parameter in ``dtype`` (default: the default dtype)."""
    from .modules import Parameter
    dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    return Parameter(Tensor._make(np.empty(shape, dt.np)))


def buffer(values, dtype=None) -> Tensor:
    """A buffer tensor (no grad) holding ``values`` in ``dtype`` (default: the default dtype)."""
    dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    return Tensor._make(np.array(values, dt.np))


def legacy_reduction(size_average, reduce, reduction: str) -> str:
    """PyTorch's mapping of the deprecated ``size_average``/``reduce`` to ``reduction``."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        return "mean"
    return "sum" if reduce else "none"
