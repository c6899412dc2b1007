"""NEP 18: numpy functions (``np.dot``, ``np.sum``, ``np.reshape``, ``np.linalg.norm``, ...) as
tapegrad ops under numpy's argument names and result conventions; ``HANDLED`` is the table."""
from __future__ import annotations


import numpy as np

from .. import dtypes
from .. import forward as F
from ..tensor import Tensor

from ._common import Unsupported, _axes, _cast, _no, _same, _t


# ---- products and contractions ----------------------------------------------------------
def _dot(a, b, out=None):
    _no("out", out)
    x, y = _same(a, b)
    if x.ndim == 0 or y.ndim == 0:
        return F.mul(x, y)
    if x.ndim <= 2 and y.ndim <= 2:
        return F.matmul(x, y)
    return F.tensordot(x, y, ([-1], [-2 if y.ndim >= 2 else 0]))


def _vdot(a, b):
    x, y = _same(a, b)
    return F.matmul(F.reshape(x, -1), F.reshape(y, -1))


def _inner(a, b):
    x, y = _same(a, b)
    if x.ndim == 0 or y.ndim == 0:
        return F.mul(x, y)
    return F.tensordot(x, y, ([-1], [-1]))


def _outer(a, b, out=None):
    _no("out", out)
    x, y = _same(a, b)
    return F.outer(F.reshape(x, -1), F.reshape(y, -1))


def _tensordot(a, b, axes=2):
    x, y = _same(a, b)
    return F.tensordot(x, y, axes)


def _einsum(*operands, out=None, optimize=False, **kwargs):
    _no("out", out)
    if kwargs:
        raise Unsupported(", ".join(kwargs))
    if not isinstance(operands[0], str):
        raise Unsupported("the sublist form (use a subscripts string)")
    return F.einsum(operands[0], *_same(*operands[1:]))


def _trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    _no("out", out)
    x = _cast(_t(a), dtype)
    if x.ndim == 2 and offset == 0 and (axis1, axis2) in ((0, 1), (1, 0)):
        return F.trace(x)
    return F.sum(F.diagonal(x, offset, axis1, axis2), -1)


def _diag(v, k=0):
    return F.diag(_t(v), k)


def _diagonal(a, offset=0, axis1=0, axis2=1):
    return F.diagonal(_t(a), offset, axis1, axis2)


# ---- reductions -------------------------------------------------------------------------
def _reducer(fn, name):
    def f(a, axis=None, dtype=None, out=None, keepdims=False, initial=np._NoValue,
          where=np._NoValue):
        _no("out", out)
        _no("initial", initial, np._NoValue)
        _no("where", where, np._NoValue)
        x = _cast(_t(a), dtype)
        return fn(x, dim=_axes(axis, x.ndim), keepdim=bool(keepdims))
    f.__name__ = name
    return f


def _mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=np._NoValue):
    _no("out", out)
    _no("where", where, np._NoValue)
    x = _t(a)
    if dtype is None and not x.dtype.is_floating_point:
        dtype = np.float64
    return F.mean(_cast(x, dtype), dim=_axes(axis, x.ndim), keepdim=bool(keepdims))


def _extreme(fn):
    def f(a, axis=None, out=None, keepdims=False, initial=np._NoValue, where=np._NoValue):
        _no("out", out)
        _no("initial", initial, np._NoValue)
        _no("where", where, np._NoValue)
        x = _t(a)
        if x.numel() == 0:
            raise ValueError("zero-size array to reduction operation which has no identity")
        return fn(x, dim=_axes(axis, x.ndim), keepdim=bool(keepdims))
    return f


def _arg(fn):
    def f(a, axis=None, out=None, *, keepdims=False):
        _no("out", out)
        x = _t(a)
        if axis is None:
            r = fn(F.reshape(x, -1), dim=0)
            return F.reshape(r, (1,) * x.ndim) if keepdims else r
        return fn(x, dim=int(axis), keepdim=bool(keepdims))
    return f


def _spread(fn):
    def f(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=np._NoValue,
          mean=np._NoValue, correction=np._NoValue):
        _no("out", out)
        _no("where", where, np._NoValue)
        _no("mean", mean, np._NoValue)
        if correction is not np._NoValue:
            ddof = correction
        x = _t(a)
        if dtype is None and not x.dtype.is_floating_point:
            dtype = np.float64
        x = _cast(x, dtype)
        return fn(x, dim=_axes(axis, x.ndim), keepdim=bool(keepdims), correction=ddof)
    return f


def _ptp(a, axis=None, out=None, keepdims=False):
    _no("out", out)
    x = _t(a)
    d = _axes(axis, x.ndim)
    return F.sub(F.amax(x, dim=d, keepdim=bool(keepdims)), F.amin(x, dim=d, keepdim=bool(keepdims)))


def _scan(fn):
    def f(a, axis=None, dtype=None, out=None):
        _no("out", out)
        x = _cast(_t(a), dtype)
        if axis is None:
            x, axis = F.reshape(x, -1), 0
        return fn(x, int(axis))
    return f


# ---- shapes -----------------------------------------------------------------------------
def _reshape(a, /, shape=None, order="C", *, newshape=None, copy=None):
    _no("order", order, "C")
    shape = newshape if shape is None else shape
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    return F.reshape(_t(a), tuple(int(s) for s in shape))


def _ravel(a, order="C"):
    _no("order", order, "C")
    return F.reshape(_t(a), -1)


def _transpose(a, axes=None):
    x = _t(a)
    if axes is None:
        axes = tuple(range(x.ndim))[::-1]
    return F.permute(x, *[int(d) for d in axes]) if x.ndim else x


def _swapaxes(a, axis1, axis2):
    return F.transpose(_t(a), int(axis1), int(axis2))


def _moveaxis(a, source, destination):
    return F.movedim(_t(a), source, destination)


def _squeeze(a, axis=None):
    x = _t(a)
    if axis is None:
        return F.squeeze(x)
    dims = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    for d in dims:
        if x.shape[int(d)] != 1:
            raise ValueError("cannot select an axis to squeeze out which has size not equal to "
                             "one")
    return F.squeeze(x, tuple(int(d) for d in dims))


def _expand_dims(a, axis):
    x = _t(a)
    dims = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    n = x.ndim + len(dims)
    for d in sorted(int(d) % n for d in dims):
        x = F.unsqueeze(x, d)
    return x


def _broadcast_to(array, shape, subok=False):
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return F.expand(_t(array), shape)


def _atleast(x: Tensor, n: int) -> Tensor:
    if x.ndim >= n:
        return x
    if n == 1 or x.ndim == 0 and n == 2:
        return F.reshape(x, (1,) * n)
    return F.unsqueeze(x, 0)


def _check_join(dtype, casting):
    _no("dtype", dtype)
    if casting not in (None, "same_kind"):
        raise Unsupported(f"casting={casting!r}")


def _stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    _no("out", out)
    _check_join(dtype, casting)
    return F.stack(_same(*arrays), int(axis))


def _concatenate(arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    _no("out", out)
    _check_join(dtype, casting)
    ts = _same(*arrays)
    if axis is None:
        return F.cat([F.reshape(t, -1) for t in ts], 0)
    if any(t.ndim == 0 for t in ts):
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    return F.cat(ts, int(axis))


def _hstack(tup, *, dtype=None, casting="same_kind"):
    _check_join(dtype, casting)
    ts = [_atleast(t, 1) for t in _same(*tup)]
    return F.cat(ts, 0 if all(t.ndim == 1 for t in ts) else 1)


def _vstack(tup, *, dtype=None, casting="same_kind"):
    _check_join(dtype, casting)
    return F.cat([_atleast(t, 2) for t in _same(*tup)], 0)


def _split_sizes(n: int, indices_or_sections, even: bool) -> list:
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if k <= 0:
            raise ValueError("number sections must be larger than 0.")
        if even and n % k:
            raise ValueError("array split does not result in an equal division")
        q, r = divmod(n, k)
        return [q + 1] * r + [q] * (k - r)
    bounds = [min(max(int(i) if i >= 0 else n + int(i), 0), n) for i in indices_or_sections]
    edges = [0] + bounds + [n]
    return [max(e - s, 0) for s, e in zip(edges[:-1], edges[1:])]


def _splitter(even: bool):
    def f(ary, indices_or_sections, axis=0):
        x = _t(ary)
        d = int(axis) % x.ndim
        sizes = _split_sizes(x.shape[d], indices_or_sections, even)
        out, start = [], 0
        for s in sizes:
            stop = min(start + s, x.shape[d])
            out.append(F.getitem(x, (slice(None),) * d + (slice(start, stop),)))
            start = stop
        return out
    return f


def _flip(m, axis=None):
    x = _t(m)
    return F.flip(x, tuple(range(x.ndim)) if axis is None else axis)


def _roll(a, shift, axis=None):
    return F.roll(_t(a), shift, axis)


def _tile(A, reps):
    return F.tile(_t(A), reps)


def _repeat(a, repeats, axis=None):
    return F.repeat_interleave(_t(a), repeats, axis)


def _sort(a, axis=-1, kind=None, order=None, *, stable=None):
    _no("order", order)
    x = _t(a)
    if axis is None:
        x, axis = F.reshape(x, -1), 0
    return F.sort(x, int(axis), stable=bool(stable) or kind == "stable").values


def _diff(a, n=1, axis=-1, prepend=np._NoValue, append=np._NoValue):
    x = _t(a)
    if prepend is not np._NoValue or append is not np._NoValue:
        parts = ([] if prepend is np._NoValue else [_t(prepend)]) + [x] + \
            ([] if append is np._NoValue else [_t(append)])
        d = int(axis) % x.ndim
        parts = [p if p.ndim == x.ndim else F.expand(F.reshape(p, (1,) * x.ndim), tuple(
            1 if k == d else s for k, s in enumerate(x.shape))) for p in _same(*parts)]
        x = F.cat(parts, d)
    d = int(axis) % x.ndim
    for _ in range(int(n)):
        hi = F.getitem(x, (slice(None),) * d + (slice(1, None),))
        lo = F.getitem(x, (slice(None),) * d + (slice(None, -1),))
        x = F.sub(hi, lo)
    return x


# ---- elementwise functions that are not ufuncs --------------------------------------------
def _where(condition, x=np._NoValue, y=np._NoValue):
    if x is np._NoValue and y is np._NoValue:
        c = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
        return np.nonzero(c)
    c = _t(condition)
    if c.dtype != dtypes.bool_:
        c = F.ne(c, 0)
    x, y = _same(x, y)
    return F.where(c, x, y)


def _clip(a, a_min=np._NoValue, a_max=np._NoValue, out=None, *, min=np._NoValue,
          max=np._NoValue, **kwargs):
    _no("out", out)
    if kwargs:
        raise Unsupported(", ".join(kwargs))
    lo = a_min if a_min is not np._NoValue else (None if min is np._NoValue else min)
    hi = a_max if a_max is not np._NoValue else (None if max is np._NoValue else max)
    x = _t(a)
    scalar = (int, float, np.number)
    if (lo is None or isinstance(lo, scalar)) and (hi is None or isinstance(hi, scalar)):
        if lo is None and hi is None:
            raise ValueError("One of max or min must be given")
        return F.clamp(x, None if lo is None else float(lo), None if hi is None else float(hi))
    if lo is not None:
        x = F.maximum(*_same(x, lo))
    if hi is not None:
        x = F.minimum(*_same(x, hi))
    return x


# ---- linear algebra -----------------------------------------------------------------------
def _norm(x, ord=None, axis=None, keepdims=False):
    t = _t(x)
    if not t.dtype.is_floating_point:
        t = F.to_dtype(t, dtypes.float64)
    keep = bool(keepdims)
    if isinstance(axis, (int, np.integer)):
        axis = (int(axis),)
    matrix = axis is not None and len(axis) == 2 or axis is None and t.ndim == 2 \
        and ord is not None
    if ord is None or ord == "fro" and (axis is None or len(axis) == 2):
        return F.norm(t, 2, dim=None if axis is None else tuple(axis), keepdim=keep)
    if not matrix:
        if isinstance(ord, str):
            raise Unsupported(f"ord={ord!r} for a vector")
        if ord == -np.inf:
            return F.amin(F.abs(t), dim=axis, keepdim=keep)
        if ord == 0:
            return F.sum(F.ne(t, 0).double(), dim=axis, keepdim=keep)
        return F.norm(t, float(ord), dim=axis, keepdim=keep)
    r, c = axis if axis is not None else (0, 1)
    r, c = r % t.ndim, c % t.ndim
    if ord in (1, -1, np.inf, -np.inf):
        inner, outer = (r, c) if ord in (1, -1) else (c, r)
        sums = F.sum(F.abs(t), dim=inner, keepdim=True)
        res = (F.amax if ord > 0 else F.amin)(sums, dim=outer, keepdim=True)
        return res if keep else F.squeeze(res, tuple(sorted((r, c))))
    raise Unsupported(f"ord={ord!r} for a matrix (spectral and nuclear norms need an SVD)")


def _inv(a):
    return F.inv(_t(a))


def _det(a):
    return F.det(_t(a))


def _solve(a, b):
    return F.solve(*_same(a, b))


# ---- creation, comparison, shape queries ---------------------------------------------------
def _like(fill):
    def f(a, *args, dtype=None, order="K", subok=True, shape=None, device=None):
        if fill is None:  # full_like: the fill value is the second argument
            value, args = args[0], args[1:]
        else:
            value = fill
        if args:
            dtype = args[0]
        x = a if isinstance(a, Tensor) else _t(a)
        np_dt = x._data.dtype if dtype is None else np.dtype(dtype)
        shp = x.shape if shape is None else ((shape,) if isinstance(shape, int) else shape)
        return Tensor._make(np.full(tuple(shp), value._data if isinstance(value, Tensor)
                                    else value, dtype=np_dt))
    return f


def _isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return F.isclose(_t(a), _t(b), rtol, atol, equal_nan)


def _allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return F.allclose(_t(a), _t(b), rtol, atol, equal_nan)


def _shape(a):
    return tuple(a.shape) if isinstance(a, Tensor) else np.shape(a)


def _ndim(a):
    return a.ndim if isinstance(a, Tensor) else np.ndim(a)


def _size(a, axis=None):
    if not isinstance(a, Tensor):
        return np.size(a, axis)
    return a.numel() if axis is None else a.shape[int(axis)]


def _copy(a, order="K", subok=False):
    return F.clone(_t(a))


def _atleast_nd(n):
    def f(*arys):
        ts = [_atleast(_t(a), n) for a in arys]
        return ts[0] if len(ts) == 1 else tuple(ts)
    return f


def _trapezoid(y, x=None, dx=1.0, axis=-1):
    t = _t(y)
    d = int(axis) % t.ndim
    hi = F.getitem(t, (slice(None),) * d + (slice(1, None),))
    lo = F.getitem(t, (slice(None),) * d + (slice(None, -1),))
    avg = F.mul(F.add(hi, lo), 0.5)
    if x is None:
        return F.mul(F.sum(avg, dim=d), float(dx))
    steps = _diff(x, axis=-1 if _t(x).ndim == 1 else d)
    if steps.ndim == 1 and t.ndim > 1:
        steps = F.reshape(steps, tuple(-1 if k == d else 1 for k in range(t.ndim)))
    return F.sum(F.mul(*_same(avg, steps)), dim=d)


HANDLED = {
    np.dot: _dot, np.vdot: _vdot, np.inner: _inner, np.outer: _outer, np.tensordot: _tensordot,
    np.einsum: _einsum, np.trace: _trace, np.diag: _diag, np.diagonal: _diagonal,
    np.sum: _reducer(F.sum, "sum"), np.prod: _reducer(F.prod, "prod"), np.mean: _mean,
    np.cumsum: _scan(F.cumsum), np.cumprod: _scan(F.cumprod),
    np.max: _extreme(F.amax), np.min: _extreme(F.amin), np.amax: _extreme(F.amax),
    np.amin: _extreme(F.amin), np.argmax: _arg(F.argmax), np.argmin: _arg(F.argmin),
    np.std: _spread(F.std), np.var: _spread(F.var), np.ptp: _ptp,
    np.reshape: _reshape, np.ravel: _ravel, np.transpose: _transpose, np.swapaxes: _swapaxes,
    np.moveaxis: _moveaxis, np.squeeze: _squeeze, np.expand_dims: _expand_dims,
    np.broadcast_to: _broadcast_to, np.stack: _stack, np.hstack: _hstack, np.vstack: _vstack,
    np.concatenate: _concatenate, np.split: _splitter(True), np.array_split: _splitter(False),
    np.where: _where, np.clip: _clip, np.sort: _sort, np.flip: _flip, np.roll: _roll,
    np.tile: _tile, np.repeat: _repeat, np.diff: _diff,
    np.linalg.norm: _norm, np.linalg.inv: _inv, np.linalg.det: _det, np.linalg.solve: _solve,
    np.full_like: _like(None), np.zeros_like: _like(0), np.ones_like: _like(1),
    np.empty_like: _like(0),
    np.isclose: _isclose, np.allclose: _allclose, np.shape: _shape, np.ndim: _ndim,
    np.size: _size, np.copy: _copy, np.atleast_1d: _atleast_nd(1), np.atleast_2d: _atleast_nd(2),
    np.trapezoid: _trapezoid,
}
