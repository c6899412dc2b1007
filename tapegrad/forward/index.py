"""Indexing, scatter and gather."""
from __future__ import annotations

import numpy as np

from ..ops import OPS, _is_basic
from ..tape import TLS
from ..tensor import Tensor, _dim
from .elementwise import where
from .record import _as_view, _wants_grad, as_tensor_arg, emit


# ---- indexing ---------------------------------------------------------------------------
def _index(index):
    """A numpy index from a PyTorch one: tensors and lists become arrays."""
    if isinstance(index, tuple):
        return tuple(_index_item(i) for i in index)
    return _index_item(index)


def _index_item(i):
    if isinstance(i, Tensor):
        d = i._data
        if d.dtype.kind == "f":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return d if d.ndim else (bool(d) if d.dtype == np.bool_ else int(d))
    if isinstance(i, list):
        arr = np.asarray([_index_item(v) for v in i])
        if arr.dtype.kind == "f":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return arr
    return i


def _index_error(e: IndexError, shape) -> IndexError:
    msg = str(e).replace("axis", "dimension")
    return IndexError(msg)


def _node_name_for_index(index) -> str:
    items = index if isinstance(index, tuple) else (index,)
    if not _is_basic(index):
        return "IndexBackward0"
    if any(isinstance(i, (int, np.integer)) for i in items):
        return "SelectBackward0"
    if any(isinstance(i, slice) for i in items):
        return "SliceBackward0"
    return "AliasBackward0"


def getitem(x: Tensor, index):
    index = _index(index)
    try:
        data = x._data[index]
    except IndexError as e:
        raise _index_error(e, x.shape) from None
    basic = _is_basic(index)
    if x._rg and TLS.s.grad_enabled:
        out = emit(OPS["getitem"], _node_name_for_index(index), np.asarray(data), (x,),
                   (x._data,), (index,))
    else:
        out = Tensor._make(np.asarray(data))
    if basic:
        _as_view(out, x, lambda a, i=index: a[i])
    return out


def index_put(x: Tensor, index, value) -> Tensor:
    """``x`` with ``x[index] = value``, as a new tensor: the out-of-place half of __setitem__."""
    index = _index(index)
    if isinstance(value, Tensor):
        va = value._data
        if va.dtype != x._data.dtype:
            va = va.astype(x._data.dtype)
    else:
        va = value
    data = x._data.copy()
    try:
        data[index] = va
    except IndexError as e:
        raise _index_error(e, x.shape) from None
    except ValueError:
        target = np.shape(x._data[index])
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(np.shape(va))} cannot be "
                           f"broadcast to indexing result of shape {list(target)}") from None
    if _wants_grad(x, value):
        # PyTorch writes a basic index through a view (CopySlices), an advanced one by index_put.
        name = "CopySlices" if _is_basic(index) else "IndexPutBackward0"
        return emit(OPS["index_put"], name, data, (x, value), (x._data, va), (index,))
    return Tensor._make(data)


def index_select(input, dim, index):
    """The entries of ``input`` at the positions ``index`` (a 1-D integer tensor) along ``dim``; a
    copy, not a view."""
    x = as_tensor_arg(input)
    d = _dim(dim, x.ndim)
    return getitem(x, (slice(None),) * d + (as_tensor_arg(index),))


def masked_fill(input, mask, value):
    """``input`` with ``value`` wherever the bool tensor ``mask`` (broadcast) is True."""
    return where(as_tensor_arg(mask), value, input)


def gather(input, dim, index):
    """``out[i][j] = input[index[i][j]][j]`` for dim 0, and so on: PyTorch's gather."""
    x = as_tensor_arg(input)
    idx = as_tensor_arg(index)._data
    d = _dim(dim, x.ndim)
    if idx.dtype != np.int64:
        raise RuntimeError("gather(): Expected dtype int64 for index")
    if idx.ndim != x.ndim and not (idx.ndim <= 1 and x.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for k in range(idx.ndim):
        if k != d and idx.shape[k] > x.shape[k]:
            raise RuntimeError(f"Size does not match at dimension {k} expected index "
                               f"{list(idx.shape)} to be smaller than self {list(x.shape)} "
                               f"apart from dimension {d}")
    grids = list(np.meshgrid(*(np.arange(s) for s in idx.shape), indexing="ij"))
    grids[d] = idx
    index_tuple = tuple(grids)
    if idx.size and idx.min() < 0:  # numpy would wrap it; PyTorch refuses
        raise RuntimeError(f"index {int(idx.min())} is out of bounds for dimension {d} with "
                           f"size {x.shape[d]}")
    try:
        data = x._data[index_tuple]
    except IndexError:
        raise RuntimeError(f"index {int(idx.max())} is out of bounds for dimension {d} with "
                           f"size {x.shape[d]}") from None
    if x._rg and TLS.s.grad_enabled:
        return emit(OPS["getitem"], "GatherBackward0", data, (x,), (x._data,), (index_tuple,))
    return Tensor._make(data)
