"""Scatter and its kin (issue 13, point 3): scatter, scatter_add, scatter_reduce, index_add,
index_copy, index_fill, take, take_along_dim, masked_select, masked_scatter, nonzero,
argwhere. Each is written with the table's indexing rows (getitem, index_put, index_grad), so
its gradients, of every order, come from those rows."""
from __future__ import annotations

import numpy as np

from ..ops import OPS
from ..tensor import Tensor, _dim
from .elementwise import binary, mul
from .record import _wants_grad, as_tensor_arg, emit
from .shape import broadcast_tensors, reshape


def _grids(idx: np.ndarray, d: int) -> tuple:
    grids = list(np.meshgrid(*(np.arange(s) for s in idx.shape), indexing="ij", sparse=True))
    grids[d] = idx
    return tuple(grids)


def _scatter_index(x: Tensor, dim, index, what: str):
    idx = as_tensor_arg(index)._data
    d = _dim(dim, max(x.ndim, 1))
    if idx.dtype != np.int64:
        raise RuntimeError(f"{what}(): Expected dtype int64 for index")
    if idx.ndim != x.ndim and not (idx.ndim <= 1 and x.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if idx.size and (idx.max() >= x.shape[d] or idx.min() < 0):
        bad = int(idx.max() if idx.max() >= x.shape[d] else idx.min())
        raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size "
                           f"{x.shape[d]}")
    return idx, d, _grids(idx, d)


def _src_part(src, idx: np.ndarray, like: Tensor) -> Tensor:
    """The leading ``idx.shape`` block of ``src`` (only that much is read)."""
    s = as_tensor_arg(src)
    if s.dtype != like.dtype:
        s = s.to(like.dtype)
    if tuple(s.shape) == idx.shape:
        return s
    return s[tuple(slice(0, n) for n in idx.shape)]


def _put(x: Tensor, index: tuple, value, name: str) -> Tensor:
    data = x._data.copy()
    va = value._data if isinstance(value, Tensor) else value
    data[index] = va
    if _wants_grad(x, value):
        return emit(OPS["index_put"], name, data, (x, value), (x._data, va), (index,))
    return Tensor._make(data)


def _placed(value: Tensor, index: tuple, shape: tuple, name: str) -> Tensor:
    """Zeros of ``shape`` with ``value`` added at ``index`` (repeated positions accumulate)."""
    data = np.zeros(shape, value._data.dtype)
    np.add.at(data, index, value._data)
    if _wants_grad(value):
        return emit(OPS["index_grad"], name, data, (value,), (value._data,), (index, shape))
    return Tensor._make(data)


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """``input`` with ``out[index[i][j]][j] = src[i][j]`` (dim 0; likewise for others); ``src``
    may be a number (``value``). ``reduce='add'``/``'multiply'`` combine instead of writing."""
    x = as_tensor_arg(input)
    if src is None:
        src = value
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError("reduce argument must be either add or multiply.")
        s = src if isinstance(src, Tensor) else None
        if s is None:
            idx = as_tensor_arg(index)._data
            s = Tensor._make(np.full(idx.shape, src, x._data.dtype))
        return scatter_reduce(x, dim, index, s, "sum" if reduce == "add" else "prod")
    idx, d, grid = _scatter_index(x, dim, index, "scatter")
    if isinstance(src, Tensor):
        return _put(x, grid, _src_part(src, idx, x), "ScatterBackward0")
    return _put(x, grid, src, "ScatterBackward1")


def scatter_add(input, dim, index, src):
    """``input`` plus ``src`` added at ``index`` along ``dim`` (repeated indices accumulate)."""
    x = as_tensor_arg(input)
    idx, d, grid = _scatter_index(x, dim, index, "scatter_add")
    placed = _placed(_src_part(src, idx, x), grid, tuple(x.shape), "ScatterAddBackward0")
    return binary("add", x, placed, "ScatterAddBackward0")


_REDUCE = {"sum": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum,
           "mean": np.add}


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Combines ``src`` into ``input`` at ``index`` along ``dim`` by ``reduce`` ('sum', 'prod',
    'mean', 'amax', 'amin'), counting ``input``'s own value unless ``include_self=False``.
    Gradients for all; for 'prod' first derivatives only."""
    x = as_tensor_arg(input)
    if reduce not in _REDUCE:
        raise RuntimeError("reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    idx, d, grid = _scatter_index(x, dim, index, "scatter_reduce")
    s = _src_part(src, idx, x)
    hit = np.zeros(x.shape, bool)
    hit[grid] = True
    if reduce in ("sum", "mean"):
        count = np.zeros(x.shape, np.int64)
        np.add.at(count, grid, 1)
        base = x if include_self else _put(x, grid, 0, "ScatterReduceBackward0")
        out = binary("add", base, _placed(s, grid, tuple(x.shape), "ScatterReduceBackward0"),
                     "ScatterReduceBackward0")
        if reduce == "mean":
            n = count + (1 if include_self else 0)
            n = np.where(hit, np.maximum(n, 1), 1).astype(x._data.dtype)
            out = binary("div", out, Tensor._make(n), "ScatterReduceBackward0")
            if x._data.dtype.kind in "iu":
                out = Tensor._make(np.floor_divide(
                    (out._data * n).round().astype(x._data.dtype), n.astype(x._data.dtype)))
        return out
    ufunc = _REDUCE[reduce]
    data = x._data.copy()
    if not include_self:
        first = {"prod": 1, "amax": -np.inf, "amin": np.inf}[reduce]
        if data.dtype.kind in "iu":
            first = {"prod": 1, "amax": np.iinfo(data.dtype).min,
                     "amin": np.iinfo(data.dtype).max}[reduce]
        data[hit] = first
    ufunc.at(data, grid, s._data)
    if not _wants_grad(x, s):
        return Tensor._make(data)
    # expr has the reduction's gradient, with constant weights; expr - expr.detach() is exactly
    # 0, so the value is the reduction's own, to the bit.
    if reduce == "prod":
        return _prod_gradient(x, s, grid, hit, include_self, data)
    # amax/amin: the gradient goes, shared evenly, to every contributor equal to the result (as
    # PyTorch).
    # (PyTorch counts input's own equal value among the sharers even with include_self=False,
    # and then gives it nothing: so does this.)
    self_eq = x._data == data
    src_hit = s._data == data[grid]
    count = self_eq.astype(np.int64)
    np.add.at(count, grid, src_hit)
    count = np.maximum(count, 1).astype(x._data.dtype)
    w_self = Tensor._make((self_eq & (include_self | ~hit)) / count)
    w_src = Tensor._make(src_hit / count[grid])
    expr = binary("add", mul(x, w_self), _placed(mul(s, w_src), grid, tuple(x.shape),
                                                  "ScatterReduceBackward0"))
    return binary("add", binary("sub", expr, expr.detach()), Tensor._make(data),
                  "ScatterReduceBackward0")


def _prod_gradient(x, s, grid, hit, include_self, data):
    """scatter_reduce 'prod': each contributor's gradient is g times the product of the other
    contributors to its target (exact with zeros: nonzero only for a target's single zero).
    The weights are constants: first derivatives only (a second derivative through this is
    not the product's)."""
    dt = x._data.dtype
    self_in = include_self | ~hit
    nz_prod = np.where(self_in & (x._data != 0), x._data, 1).astype(dt)
    zeros = (self_in & (x._data == 0)).astype(np.int64)
    sa = s._data
    np.multiply.at(nz_prod, grid, np.where(sa != 0, sa, 1))
    np.add.at(zeros, grid, sa == 0)

    def others(v, nzp, zc):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(v != 0, np.where(zc == 0, nzp / np.where(v != 0, v, 1), 0),
                            np.where(zc == 1, nzp, 0))
    w_self = np.where(self_in, others(x._data, nz_prod, zeros), 0).astype(dt)
    w_src = others(sa, nz_prod[grid], zeros[grid]).astype(dt)
    expr = binary("add", mul(x, Tensor._make(w_self)),
                  _placed(mul(s, Tensor._make(w_src)), grid, tuple(x.shape),
                          "ScatterReduceBackward0"))
    return binary("add", binary("sub", expr, expr.detach()), Tensor._make(data),
                  "ScatterReduceBackward0")


def _index_tuple(x: Tensor, dim, index, what: str):
    d = _dim(dim, max(x.ndim, 1))
    idx = as_tensor_arg(index)._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{what}(): Expected dtype int32/int64 for index")
    if idx.ndim > 1:
        raise IndexError(f"{what}(): Index is supposed to be a vector")
    idx = idx.reshape(-1)
    n = x.shape[d] if x.ndim else 1
    low = -n if what == "index_fill" else 0  # index_fill wraps negative indices, as PyTorch
    if idx.size and (idx.max() >= n or idx.min() < low):
        bad = int(idx.max() if idx.max() >= n else idx.min())
        msg = f"index {bad} is out of bounds for dimension {d} with size {n}"
        if what == "index_add":
            raise RuntimeError(msg)
        raise IndexError(f"index_copy_(): {msg}" if what == "index_copy" else msg)
    return (slice(None),) * d + (idx,), d


def index_add(input, dim, index, source, *, alpha=1):
    """``input`` with ``alpha * source`` added at the positions ``index`` along ``dim``
    (repeated indices accumulate)."""
    x = as_tensor_arg(input)
    it, d = _index_tuple(x, dim, index, "index_add")
    s = as_tensor_arg(source)
    if alpha != 1:
        s = mul(s, alpha)
    if s.dtype != x.dtype:
        s = s.to(x.dtype)
    return binary("add", x, _placed(s, it, tuple(x.shape), "IndexAddBackward0"),
                  "IndexAddBackward0")


def index_copy(input, dim, index, source):
    """``input`` with the slices at ``index`` along ``dim`` replaced by ``source``'s."""
    x = as_tensor_arg(input)
    it, d = _index_tuple(x, dim, index, "index_copy")
    s = as_tensor_arg(source)
    return _put(x, it, s if s.dtype == x.dtype else s.to(x.dtype), "IndexCopyBackward0")


def index_fill(input, dim, index, value):
    """``input`` with the slices at ``index`` along ``dim`` set to ``value``."""
    x = as_tensor_arg(input)
    it, d = _index_tuple(x, dim, index, "index_fill")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError("index_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value.ndim} dimension(s).")
        value = value.item()
    return _put(x, it, value, "IndexFillBackward0")


def take(input, index):
    """The elements of ``input`` flattened, at ``index`` (the result has index's shape)."""
    x = as_tensor_arg(input)
    idx = as_tensor_arg(index)._data
    n = x.numel()
    if idx.size and (idx.max() >= n or idx.min() < -n):
        bad = int(idx.max() if idx.max() >= n else idx.min())
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} "
                         "elements.")
    flat = reshape(x, (-1,))
    data = flat._data[idx]
    if _wants_grad(flat):
        return emit(OPS["getitem"], "TakeBackward0", data, (flat,), (flat._data,), ((idx,),))
    return Tensor._make(data)


def take_along_dim(input, indices, dim=None):
    """``gather`` with broadcasting: the values of ``input`` at ``indices`` along ``dim`` (of
    the flattened input when ``dim`` is None)."""
    x = as_tensor_arg(input)
    idx = as_tensor_arg(indices)
    if dim is None:
        return take(x, reshape(idx, (-1,)))
    d = _dim(dim, x.ndim)
    shape_x, shape_i = list(x.shape), list(idx.shape)
    shape_x[d] = shape_i[d] = 1
    common = np.broadcast_shapes(tuple(shape_x), tuple(shape_i))
    tx, ti = list(common), list(common)
    tx[d], ti[d] = x.shape[d], idx.shape[d]
    if tuple(x.shape) != tuple(tx):
        x = x.expand(*tx)
    ia = np.broadcast_to(idx._data, ti)
    from .index import gather
    return gather(x, d, Tensor._make(np.ascontiguousarray(ia).astype(np.int64)))


def masked_select(input, mask):
    """The elements of ``input`` where the bool ``mask`` is True (both broadcast), as 1-D."""
    x, m = as_tensor_arg(input), as_tensor_arg(mask)
    if m.dtype.name != "bool":
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    if tuple(x.shape) != tuple(m.shape):
        x, m = broadcast_tensors(x, m)
    index = (m._data,)
    data = x._data[index]
    if _wants_grad(x):
        return emit(OPS["getitem"], "MaskedSelectBackward0", data, (x,), (x._data,), (index,))
    return Tensor._make(data)


def masked_scatter(input, mask, source):
    """``input`` with the positions where ``mask`` is True filled, in order, from ``source``."""
    x, m = as_tensor_arg(input), as_tensor_arg(mask)
    if m.dtype.name != "bool":
        raise RuntimeError("masked_scatter_ only supports boolean masks, but got mask with "
                           f"dtype {m.dtype}")
    ma = np.broadcast_to(m._data, x.shape)
    n = int(ma.sum())
    s = as_tensor_arg(source)
    if s.numel() < n:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    part = reshape(s, (-1,))[:n]
    if part.dtype != x.dtype:
        part = part.to(x.dtype)
    return _put(x, (ma,), part, "MaskedScatterBackward0")


def nonzero(input, *, as_tuple=False):
    """The indices of the nonzero elements: an (n, ndim) int64 tensor, or with ``as_tuple`` one
    1-D tensor per dimension."""
    a = as_tensor_arg(input)._data
    if as_tuple:
        if a.ndim == 0:
            return (Tensor._make(np.zeros(int(a != 0), np.int64)),)
        return tuple(Tensor._make(i.astype(np.int64)) for i in np.nonzero(a))
    return Tensor._make(np.argwhere(a).astype(np.int64))


def argwhere(input):
    """``nonzero(input)``: the indices of the nonzero elements, one row each."""
    return nonzero(input)
