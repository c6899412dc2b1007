"""Sorting: sort and argsort (values and indices, as PyTorch's return_types)."""
from __future__ import annotations

import numpy as np

from ..ops import OPS
from ..tensor import Tensor, _dim
from .elementwise import clone
from .record import _wants_grad, as_tensor_arg, emit, return_types


def _order(a: np.ndarray, d: int, descending: bool, stable: bool) -> np.ndarray:
    kind = "stable" if stable else None
    if not descending:
        return np.argsort(a, axis=d, kind=kind)
    # Descending and stable: sort the reversed array ascending, then reverse back.
    n = a.shape[d]
    rev = np.flip(a, d)
    idx = np.flip(np.argsort(rev, axis=d, kind="stable"), d)
    return n - 1 - idx


def sort(input, dim=-1, descending=False, stable=False):
    """Sorts ``input`` along ``dim``; returns ``return_types.sort(values, indices)``.
    ``descending`` reverses the order; ``stable`` keeps equal elements in their order."""
    x = as_tensor_arg(input)
    if x.ndim == 0:
        values = clone(x) if _wants_grad(x) else Tensor._make(x._data.copy())
        return return_types.sort(values, Tensor._make(np.zeros((), np.int64)))
    d = _dim(dim, x.ndim)
    idx = _order(x._data, d, descending, stable)
    grids = list(np.meshgrid(*(np.arange(s) for s in idx.shape), indexing="ij", sparse=True))
    grids[d] = idx
    index = tuple(grids)
    data = x._data[index]
    if _wants_grad(x):
        values = emit(OPS["getitem"], "SortBackward0", data, (x,), (x._data,), (index,))
    else:
        values = Tensor._make(data)
    return return_types.sort(values, Tensor._make(idx.astype(np.int64)))


def argsort(input, dim=-1, descending=False, stable=False) -> Tensor:
    """The indices that sort ``input`` along ``dim`` (``sort(...).indices``), as int64."""
    x = as_tensor_arg(input)
    if x.ndim == 0:
        return Tensor._make(np.zeros((), np.int64))
    return Tensor._make(_order(x._data, _dim(dim, x.ndim), descending, stable).astype(np.int64))
