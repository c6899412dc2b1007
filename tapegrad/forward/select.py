"""Order statistics and the reductions around them (issue 13, point 2): topk, kthvalue,
median, mode, quantile, aminmax, nansum/nanmean, std_mean/var_mean, count_nonzero, and the
scans logcumsumexp and diff. Selected values are recorded as an index into the input (the
``getitem`` row under PyTorch's node name), so they have gradients of every order."""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..ops import OPS
from ..tensor import Tensor, _dim
from .elementwise import binary, where
from .join import cat
from .record import _dims, _wants_grad, as_tensor_arg, emit, return_types
from .reduce import _reduction, _spread, mean, sum
from .sort import _order


def _take(x: Tensor, idx: np.ndarray, d: int, name: str, keep: bool = True) -> Tensor:
    """``x``'s values at ``idx`` along ``d`` (idx broadcast over the other dimensions); with
    ``keep=False`` idx has size 1 along d and that dimension is dropped."""
    if not keep:
        idx = np.squeeze(idx, d)
    grids = list(np.meshgrid(*(np.arange(s) for s in idx.shape), indexing="ij", sparse=True))
    if keep:
        grids[d] = idx
    else:
        grids.insert(d, idx)
    index = tuple(grids)
    data = x._data[index]
    if _wants_grad(x):
        return emit(OPS["getitem"], name, data, (x,), (x._data,), (index,))
    return Tensor._make(data)


def _select_one(x, idx, d, keepdim, name, kind):
    """One value per row along d at ``idx`` (shape with d of size 1): a return_types pair."""
    values = _take(x, idx, d, name, keepdim)
    indices = Tensor._make((idx if keepdim else np.squeeze(idx, d)).astype(np.int64))
    return getattr(return_types, kind)(values, indices)


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) elements along ``dim`` and their indices, as
    ``return_types.topk``; in order when ``sorted``."""
    x = as_tensor_arg(input)
    if x.ndim == 0:
        x = x.reshape(1)
    d = _dim(dim, x.ndim)
    if not 0 <= k <= x.shape[d]:
        raise RuntimeError("selected index k out of range")
    idx = np.take(_order(x._data, d, largest, True), np.arange(k), axis=d)
    values = _take(x, idx, d, "TopkBackward0")
    out = return_types.topk(values, Tensor._make(idx.astype(np.int64)))
    return out if input.ndim else return_types.topk(out.values.reshape(()), out.indices.reshape(()))


def kthvalue(input, k, dim=-1, keepdim=False):
    """The ``k``-th smallest element along ``dim`` (k from 1) and its index, as
    ``return_types.kthvalue``."""
    x = as_tensor_arg(input)
    d = _dim(dim, max(x.ndim, 1))
    n = x.shape[d] if x.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    xs = x if x.ndim else x.reshape(1)
    idx = np.take(_order(xs._data, d, False, True), [k - 1], axis=d)
    out = _select_one(xs, idx, d, keepdim or not x.ndim, "KthvalueBackward0", "kthvalue")
    if not x.ndim:
        return return_types.kthvalue(out.values.reshape(()), out.indices.reshape(()))
    return out


def median(input, dim=None, keepdim=False):
    """The lower median: of all elements (a tensor), or along ``dim`` with its index
    (``return_types.median``). NaN propagates, as in PyTorch."""
    x = as_tensor_arg(input)
    if dim is None:
        flat = x.reshape(-1)
        if flat.shape[0] == 0:
            return Tensor._make(np.array(np.nan, x._data.dtype))
        a = flat._data
        nan = np.isnan(a) if a.dtype.kind == "f" else np.zeros(a.shape, bool)
        i = int(np.argmax(nan)) if nan.any() else int(np.argsort(a, kind="stable")[
            (a.shape[0] - 1) // 2])
        return _take(flat, np.array([i]), 0, "MedianBackward0", keep=False)
    return _median_dim(x, dim, keepdim, False)


def nanmedian(input, dim=None, keepdim=False):
    """``median`` ignoring NaNs (NaN only where a row is all NaN)."""
    x = as_tensor_arg(input)
    if dim is None:
        return _median_dim(x.reshape(-1), 0, False, True).values
    return _median_dim(x, dim, keepdim, True)


def _median_dim(x, dim, keepdim, ignore_nan):
    xs = x if x.ndim else x.reshape(1)
    d = _dim(dim, xs.ndim)
    a = xs._data
    order = _order(a, d, False, True)  # NaNs sort last
    if a.dtype.kind == "f":
        count = np.sum(~np.isnan(a), axis=d, keepdims=True)
    else:
        count = np.full([1 if i == d else s for i, s in enumerate(a.shape)], a.shape[d])
    if ignore_nan:
        k = np.maximum(count - 1, 0) // 2
    else:
        k = np.where(count < a.shape[d], a.shape[d] - 1, (a.shape[d] - 1) // 2)
        k = np.where(count < a.shape[d], count, k)  # the first NaN
    idx = np.take_along_axis(order, k, axis=d)
    kind = "nanmedian" if ignore_nan else "median"
    out = _select_one(xs, idx, d, keepdim or not x.ndim, "MedianBackward1" if not ignore_nan
                      else "NanmedianBackward1", kind)
    if not x.ndim:
        return getattr(return_types, kind)(out.values.reshape(()), out.indices.reshape(()))
    return out


def mode(input, dim=-1, keepdim=False):
    """The most frequent value along ``dim`` (the smallest of equally frequent ones) and the
    index of its last occurrence, as ``return_types.mode``."""
    x = as_tensor_arg(input)
    xs = x if x.ndim else x.reshape(1)
    d = _dim(dim, xs.ndim)
    a = np.moveaxis(xs._data, d, -1)
    rows = a.reshape(-1, a.shape[-1])
    best = np.empty(rows.shape[0], np.int64)
    for r, row in enumerate(rows):
        vals, counts = np.unique(row, return_counts=True)
        v = vals[np.argmax(counts)]
        best[r] = np.flatnonzero(row == v)[-1]
    idx = np.expand_dims(np.moveaxis(best.reshape(a.shape[:-1]), -1, -1) if a.ndim > 1
                         else best.reshape(()), d)
    idx = idx.reshape([1 if i == d else s for i, s in enumerate(xs.shape)])
    out = _select_one(xs, idx, d, keepdim or not x.ndim, "ModeBackward0", "mode")
    if not x.ndim:
        return return_types.mode(out.values.reshape(()), out.indices.reshape(()))
    return out


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The ``q``-th quantiles (q a number or a 1-D tensor in [0, 1]) of all elements or along
    ``dim``, interpolated as numpy's methods of the same names; a tensor q puts its dimension
    first. Differentiable through the sorted values."""
    return _quantile(input, q, dim, keepdim, interpolation, "quantile")


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """``quantile`` ignoring NaNs."""
    return _quantile(input, q, dim, keepdim, interpolation, "nanquantile")


def _quantile(input, q, dim, keepdim, interpolation, fname):
    x = as_tensor_arg(input)
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{fname}() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest. Got {interpolation}")
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"{fname}() input tensor must be either float or double dtype")
    qs = np.atleast_1d(np.asarray(q._data if isinstance(q, Tensor) else q, dtype=np.float64))
    if ((qs < 0) | (qs > 1)).any():
        bad = qs[(qs < 0) | (qs > 1)][0]
        raise RuntimeError(f"{fname}() q must be in the range [0, 1] but got {bad:g}"
                           if not isinstance(q, Tensor) else
                           f"{fname}() q values must be in the range [0, 1]")
    scalar_q = not isinstance(q, Tensor) or q.ndim == 0
    xs = x.reshape(-1) if dim is None else x
    d = 0 if dim is None else _dim(dim, xs.ndim)
    sorted_x = _take(xs, _order(xs._data, d, False, True), d, "SortBackward0")
    a = xs._data
    n_valid = (np.sum(~np.isnan(a), axis=d, keepdims=True) if fname == "nanquantile"
               else np.full([1 if i == d else s for i, s in enumerate(a.shape)], a.shape[d]))
    outs = []
    for qv in qs:
        pos = qv * np.maximum(n_valid - 1, 0)
        lo, hi = np.floor(pos).astype(np.int64), np.ceil(pos).astype(np.int64)
        if interpolation == "nearest":
            lo = hi = np.round(pos).astype(np.int64)
        v_lo = _take(sorted_x, lo, d, "IndexBackward0")
        v_hi = _take(sorted_x, hi, d, "IndexBackward0")
        if interpolation == "lower":
            r = v_lo
        elif interpolation == "higher":
            r = v_hi
        elif interpolation == "midpoint":
            r = v_lo + (v_hi - v_lo) * 0.5
        elif interpolation == "nearest":
            r = v_lo
        else:
            frac = Tensor._make((pos - lo).astype(a.dtype))
            r = v_lo + (v_hi - v_lo) * frac
        if fname == "quantile" and a.dtype.kind == "f":
            has_nan = np.isnan(a).any(axis=d, keepdims=True)
            if has_nan.any():
                r = where(Tensor._make(has_nan), Tensor._make(np.array(np.nan, a.dtype)), r)
        if dim is None:
            r = r.reshape([1] * x.ndim) if keepdim else r.reshape(())
        elif not keepdim:
            r = r.squeeze(d)
        outs.append(r)
    if scalar_q:
        return outs[0]
    from .join import stack
    return stack(outs, 0)


def aminmax(input, *, dim=None, keepdim=False):
    """The minimum and maximum together, as ``return_types.aminmax(min, max)``."""
    x = as_tensor_arg(input)
    dims = _dims(() if dim is None else dim, x.ndim)
    lo = np.amin(x._data, axis=dims, keepdims=keepdim)
    hi = np.amax(x._data, axis=dims, keepdims=keepdim)
    return return_types.aminmax(
        _reduction("amin", "AminmaxBackward0", "AminmaxBackward0", x, dims, keepdim, lo),
        _reduction("amax", "AminmaxBackward0", "AminmaxBackward0", x, dims, keepdim, hi))


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """The sum treating NaNs as zero (their gradient is zero)."""
    x = as_tensor_arg(input)
    if x._data.dtype.kind != "f":
        return sum(x, dim, keepdim, dtype=dtype)
    clean = where(Tensor._make(np.isnan(x._data)), Tensor._make(np.zeros((), x._data.dtype)), x)
    dims = _dims(dim, x.ndim)
    data = np.asarray(np.sum(clean._data, axis=dims, keepdims=keepdim))
    if _wants_grad(clean):
        return emit(OPS["sum"], "NansumBackward0", data, (clean,), (clean._data,),
                    (dims, keepdim))
    return Tensor._make(data)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """The mean of the non-NaN elements (NaN where there are none)."""
    x = as_tensor_arg(input)
    if not x.dtype.is_floating_point:
        raise RuntimeError("nanmean(): expected input to have floating point dtype but got "
                           f"{x.dtype}")
    count = np.sum(~np.isnan(x._data), axis=_dims(dim, x.ndim), keepdims=keepdim)
    return binary("div", nansum(x, dim, keepdim), Tensor._make(count.astype(x._data.dtype)))


def _spread_mean(opname, name, np_fn, input, dim, unbiased, keepdim, correction):
    x = as_tensor_arg(input)
    spread = _spread(opname, name, np_fn, x, dim, unbiased, keepdim, correction, {})
    m = mean(x, dim, keepdim)
    if spread.grad_fn is not None:
        dims = _dims(dim, x.ndim)
        m = _reduction("mean", name, name, x, dims, bool(keepdim), m._data)
    return spread, m


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var, mean)`` over the same dimensions."""
    return _spread_mean("var", "VarMeanBackward0", np.var, input, dim, unbiased, keepdim,
                        correction)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std, mean)`` over the same dimensions."""
    return _spread_mean("std", "StdMeanBackward0", np.std, input, dim, unbiased, keepdim,
                        correction)


def count_nonzero(input, dim=None):
    """How many elements are nonzero, over all or along ``dim`` (int64)."""
    x = as_tensor_arg(input)
    dims = _dims(dim, x.ndim)
    return Tensor._make(np.asarray(np.count_nonzero(x._data, axis=dims), dtype=np.int64))


def logcumsumexp(input, dim):
    """``log(cumsum(exp(input)))`` along ``dim``, exactly (a running logaddexp)."""
    x = as_tensor_arg(input)
    if not x.dtype.is_floating_point:
        x = x.to(dtypes.get_default_dtype())
    d = _dim(dim, max(x.ndim, 1))
    data = np.logaddexp.accumulate(x._data, axis=d) if x.ndim else x._data.copy()
    if _wants_grad(x):
        return emit(OPS["logcumsumexp"], "LogcumsumexpBackward0", data, (x,), (x._data,), (d,))
    return Tensor._make(data)


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The ``n``-th forward difference along ``dim``, after joining ``prepend``/``append``."""
    x = as_tensor_arg(input)
    if x.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    d = _dim(dim, x.ndim)
    parts = [p for p in (prepend, x, append) if p is not None]
    if len(parts) > 1:
        x = cat([as_tensor_arg(p) for p in parts], d)
    for _ in range(n):
        m = x.shape[d]
        if m == 0:
            break
        hi = x[(slice(None),) * d + (slice(1, None),)]
        lo = x[(slice(None),) * d + (slice(0, m - 1),)]
        x = (hi != lo) if x.dtype == dtypes.bool_ else hi - lo
    return x

