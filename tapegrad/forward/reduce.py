"""Reductions and scans: sum, mean, var/std, max/min, prod, norm, cumsum, logsumexp, softmax."""
from __future__ import annotations

import warnings

import numpy as np

from .. import dtypes
from ..ops import OPS
from ..tape import TLS
from ..tensor import Tensor, _dim
from .elementwise import clone, maximum, minimum, to_dtype
from .record import _dims, _type_name, _wants_grad, as_tensor_arg, emit, return_types

# ---- reductions --------------------------------------------------------------------------


def _reduce_args(dim, keepdim, kwargs):
    if "axis" in kwargs:
        dim = kwargs.pop("axis")
    if "keepdims" in kwargs:
        keepdim = kwargs.pop("keepdims")
    if kwargs.get("out", 0) is None:  # numpy's np.sum(t) passes out=None
        kwargs.pop("out")
    if kwargs:
        raise TypeError(f"unexpected keyword argument {next(iter(kwargs))!r}")
    return dim, bool(keepdim)


def _reduction(opname, name_all, name_dim, x, dims, keepdim, data, arrays_a=None):
    data = np.asarray(data)
    if x._rg and TLS.s.grad_enabled and data.dtype.kind == "f":
        return emit(OPS[opname], name_all if dims is None else name_dim, data, (x,),
                    (x._data if arrays_a is None else arrays_a,), (dims, keepdim))
    return Tensor._make(data)


def sum(input, dim=None, keepdim=False, *, dtype=None, **kwargs):
    """Sum of the elements, over all of them or over ``dim`` (an int or a tuple); ``keepdim`` keeps
    the reduced dimensions as size 1. Integer and bool inputs sum to int64. numpy's
    ``axis``/``keepdims`` are accepted."""
    dim, keepdim = _reduce_args(dim, keepdim, kwargs)
    x = as_tensor_arg(input)
    if dtype is not None:
        x = to_dtype(x, dtype)
    dims = _dims(dim, x.ndim)
    xa = x._data
    np_dt = np.int64 if xa.dtype.kind in "iub" else None
    data = np.sum(xa, axis=dims, keepdims=keepdim, dtype=np_dt)
    return _reduction("sum", "SumBackward0", "SumBackward1", x, dims, keepdim, data)


def mean(input, dim=None, keepdim=False, *, dtype=None, **kwargs):
    """Mean of the elements, over all of them or over ``dim``; the input must be floating point (or
    ``dtype`` given)."""
    dim, keepdim = _reduce_args(dim, keepdim, kwargs)
    x = as_tensor_arg(input)
    if dtype is not None:
        x = to_dtype(x, dtype)
    if not x.dtype.is_floating_point:
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {_type_name(x.dtype)}")
    dims = _dims(dim, x.ndim)
    data = np.mean(x._data, axis=dims, keepdims=keepdim)
    return _reduction("mean", "MeanBackward0", "MeanBackward1", x, dims, keepdim, data)


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


def _spread(opname, name, np_fn, input, dim, unbiased, keepdim, correction, kwargs):
    """var and std: one reduction with a Bessel-style correction."""
    dim, keepdim = _reduce_args(dim, keepdim, kwargs)
    x = as_tensor_arg(input)
    dims, corr = _dims(dim, x.ndim), _correction(unbiased, correction)
    n = x._data.size if dims is None else int(np.prod([x.shape[d] for d in dims]))
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        if n - corr <= 0:  # PyTorch's warning, in place of numpy's
            warnings.warn(f"{opname}(): degrees of freedom is <= 0. Correction should be "
                          "strictly less than the reduction factor (input numel divided by "
                          "output numel).", UserWarning, stacklevel=3)
            warnings.simplefilter("ignore", RuntimeWarning)
        data = np.asarray(np_fn(x._data, axis=dims, keepdims=keepdim, ddof=corr))
    if x._rg and TLS.s.grad_enabled:
        return emit(OPS[opname], name, data, (x,), (x._data,), (dims, corr, keepdim))
    return Tensor._make(data)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, **kwargs):
    """Variance over ``dim`` (all elements by default), with ``correction`` (default 1, Bessel's);
    ``unbiased=False`` means ``correction=0``."""
    return _spread("var", "VarBackward0", np.var, input, dim, unbiased, keepdim, correction,
                   kwargs)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, **kwargs):
    """Standard deviation over ``dim`` (all elements by default), with ``correction`` (default 1);
    ``unbiased=False`` means ``correction=0``."""
    return _spread("std", "StdBackward0", np.std, input, dim, unbiased, keepdim, correction,
                   kwargs)


def _check_nonempty(x, what):
    if x._data.size == 0:
        raise RuntimeError(f"{what}(): Expected reduction dim to be specified for input.numel() "
                           "== 0. Specify the reduction dim with the 'dim' argument.")


def _extreme(which: str, input, dim=None, keepdim=False, **kwargs):
    if isinstance(dim, Tensor):
        return (maximum if which == "max" else minimum)(input, dim)
    dim, keepdim = _reduce_args(dim, keepdim, kwargs)
    x = as_tensor_arg(input)
    reduce = np.amax if which == "max" else np.amin
    if dim is None:
        _check_nonempty(x, which)
        data = np.asarray(reduce(x._data))
        name = "MaxBackward1" if which == "max" else "MinBackward1"
        return _reduction("amax" if which == "max" else "amin", name, name, x, None, False, data)
    d = _dim(dim, x.ndim)
    arg = np.argmax if which == "max" else np.argmin
    idx = arg(x._data, axis=d, keepdims=True) if x.ndim else np.zeros((), np.int64)
    values = np.take_along_axis(x._data, idx, d) if x.ndim else x._data.copy()
    if not keepdim and x.ndim:
        idx, values = np.squeeze(idx, d), np.squeeze(values, d)
    indices = Tensor._make(idx.astype(np.int64))
    if x._rg and TLS.s.grad_enabled and x.ndim:
        name = "MaxBackward0" if which == "max" else "MinBackward0"
        out = emit(OPS["max_dim"], name, values, (x,), (x._data,), (d, idx, keepdim))
    else:
        out = Tensor._make(values)
    return getattr(return_types, which)(out, indices)


def max(input, dim=None, keepdim=False, **kwargs):
    """The largest element. With ``dim``, returns values and indices as ``return_types.max``; with
    a tensor as second argument, ``maximum``."""
    return _extreme("max", input, dim, keepdim, **kwargs)


def min(input, dim=None, keepdim=False, **kwargs):
    """The smallest element. With ``dim``, returns values and indices as ``return_types.min``; with
    a tensor as second argument, ``minimum``."""
    return _extreme("min", input, dim, keepdim, **kwargs)


def _amax_amin(op: str, input, dim, keepdim, kwargs):
    dim, keepdim = _reduce_args(dim, keepdim, kwargs)
    x = as_tensor_arg(input)
    dims = _dims(dim, x.ndim)
    data = getattr(np, op)(x._data, axis=dims, keepdims=keepdim)
    node = op.capitalize() + "Backward0"
    return _reduction(op, node, node, x, dims, keepdim, data)


def amax(input, dim=(), keepdim=False, **kwargs):
    """The maximum over ``dim`` (all dimensions by default); the gradient is shared evenly between
    equal maxima."""
    return _amax_amin("amax", input, dim, keepdim, kwargs)


def amin(input, dim=(), keepdim=False, **kwargs):
    """The minimum over ``dim`` (all dimensions by default); the gradient is shared evenly between
    equal minima."""
    return _amax_amin("amin", input, dim, keepdim, kwargs)


def _arg_extreme(op: str, input, dim, keepdim, kwargs):
    dim, keepdim = _reduce_args(dim, keepdim, kwargs)
    x = as_tensor_arg(input)
    if dim is None:
        return Tensor._make(np.asarray(getattr(np, op)(x._data), dtype=np.int64))
    return Tensor._make(getattr(np, op)(x._data, axis=_dim(dim, x.ndim), keepdims=keepdim)
                        .astype(np.int64))


def argmax(input, dim=None, keepdim=False, **kwargs):
    """The index of the largest element: of the flattened tensor, or along ``dim``; int64."""
    return _arg_extreme("argmax", input, dim, keepdim, kwargs)


def argmin(input, dim=None, keepdim=False, **kwargs):
    """The index of the smallest element: of the flattened tensor, or along ``dim``; int64."""
    return _arg_extreme("argmin", input, dim, keepdim, kwargs)


def prod(input, dim=None, keepdim=False, *, dtype=None, **kwargs):
    """Product of the elements, over all of them or over ``dim``; integer inputs give int64."""
    dim, keepdim = _reduce_args(dim, keepdim, kwargs)
    x = as_tensor_arg(input)
    if dtype is not None:
        x = to_dtype(x, dtype)
    dims = _dims(dim, x.ndim)
    np_dt = np.int64 if x._data.dtype.kind in "iub" else None
    data = np.prod(x._data, axis=dims, keepdims=keepdim, dtype=np_dt)
    return _reduction("prod", "ProdBackward0", "ProdBackward1", x, dims, keepdim, data)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None, **kwargs):
    """The vector p-norm over ``dim`` (all elements by default): ``p`` 2 (also ``'fro'``), 1, inf
    or any other number; ``p='nuc'`` is the nuclear norm of the matrices over ``dim`` (the last
    two by default), as ``linalg.matrix_norm``."""
    dim, keepdim = _reduce_args(dim, keepdim, kwargs)
    x = as_tensor_arg(input)
    if p == "nuc":
        from .decomp import matrix_norm  # decomp builds on this module: imported when needed
        return matrix_norm(x, "nuc", dim=(-2, -1) if dim is None else dim, keepdim=keepdim,
                           dtype=dtype)
    if dtype is not None:
        x = to_dtype(x, dtype)
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {_type_name(x.dtype)}")
    if p in ("fro", None):
        p = 2
    p = float(p)
    dims = _dims(dim, x.ndim)
    xa = x._data
    if p == 2:
        data = np.sqrt(np.sum(xa * xa, axis=dims, keepdims=keepdim))
    elif p == np.inf:
        data = np.amax(np.abs(xa), axis=dims, keepdims=keepdim)
    elif p == 1:
        data = np.sum(np.abs(xa), axis=dims, keepdims=keepdim)
    else:
        data = np.sum(np.abs(xa) ** p, axis=dims, keepdims=keepdim) ** (1 / p)
    data = np.asarray(data, dtype=xa.dtype)
    if x._rg and TLS.s.grad_enabled:
        return emit(OPS["norm"], "LinalgVectorNormBackward0", data, (x,), (xa,), (p, dims, keepdim))
    return Tensor._make(data)


def cumsum(input, dim, *, dtype=None):
    """Cumulative sum along ``dim``; integer inputs give int64."""
    x = as_tensor_arg(input)
    if dtype is not None:
        x = to_dtype(x, dtype)
    d = _dim(dim, x.ndim)
    np_dt = np.int64 if x._data.dtype.kind in "iub" else None
    data = np.cumsum(x._data, axis=d, dtype=np_dt) if x.ndim else x._data.copy()
    if x._rg and TLS.s.grad_enabled:
        return emit(OPS["cumsum"], "CumsumBackward0", data, (x,), (x._data,), (d,))
    return Tensor._make(data)


def logsumexp(input, dim, keepdim=False):
    """``log(sum(exp(input)))`` over ``dim``, computed stably (shifted by the maximum)."""
    x = as_tensor_arg(input)
    if not x.dtype.is_floating_point:
        x = to_dtype(x, dtypes.get_default_dtype())
    dims = _dims(dim, x.ndim)
    xa = x._data
    m = np.amax(xa, axis=dims, keepdims=True) if xa.size else np.zeros((1,) * xa.ndim, xa.dtype)
    m = np.where(np.isfinite(m), m, 0)
    data = np.log(np.sum(np.exp(xa - m), axis=dims, keepdims=True)) + m
    if not keepdim:
        data = np.squeeze(data, axis=dims) if dims is not None else data.reshape(())
    data = np.asarray(data, dtype=xa.dtype)
    if x._rg and TLS.s.grad_enabled:
        return emit(OPS["logsumexp"], "LogsumexpBackward0", data, (x,), (xa,), (dims, keepdim))
    return Tensor._make(data)


def _softmax_dim(dim, ndim):
    if dim is None:
        # PyTorch's legacy implicit choice, with its warning.
        import warnings
        warnings.warn("Implicit dimension choice for softmax has been deprecated. Change the call "
                      "to include dim=X as an argument.", UserWarning, stacklevel=3)
        dim = 0 if ndim in (0, 1, 3) else 1
    return _dim(dim, ndim)


def softmax(input, dim=None, dtype=None):
    """``exp(x) / sum(exp(x))`` along ``dim``, computed stably. Without ``dim``, PyTorch's
    deprecated implicit choice, with its warning."""
    x = as_tensor_arg(input)
    if dtype is not None:
        x = to_dtype(x, dtype)
    d = _softmax_dim(dim, x.ndim)
    xa = x._data
    e = np.exp(xa - np.amax(xa, axis=d, keepdims=True))
    data = e / np.sum(e, axis=d, keepdims=True)
    if x._rg and TLS.s.grad_enabled:
        return emit(OPS["softmax"], "SoftmaxBackward0", data, (x,), (xa,), (d,))
    return Tensor._make(data)


def log_softmax(input, dim=None, dtype=None):
    """``log(softmax(x))`` along ``dim``, computed stably."""
    x = as_tensor_arg(input)
    if dtype is not None:
        x = to_dtype(x, dtype)
    d = _softmax_dim(dim, x.ndim)
    xa = x._data
    shifted = xa - np.amax(xa, axis=d, keepdims=True)
    data = shifted - np.log(np.sum(np.exp(shifted), axis=d, keepdims=True))
    if x._rg and TLS.s.grad_enabled:
        return emit(OPS["log_softmax"], "LogSoftmaxBackward0", data, (x,), (xa,), (d,))
    return Tensor._make(data)


# ---- products along a dimension ------------------------------------------------------------
def cumprod(input, dim, *, dtype=None) -> Tensor:
    """Cumulative product along ``dim``; integer inputs give int64."""
    x = as_tensor_arg(input)
    if dtype is not None:
        x = to_dtype(x, dtype)
    d = _dim(dim, x.ndim) if x.ndim else 0
    np_dt = np.int64 if x._data.dtype.kind in "iub" else None
    data = np.cumprod(x._data, axis=d, dtype=np_dt) if x.ndim else x._data.copy()
    if _wants_grad(x) and x.ndim:
        return emit(OPS["cumprod"], "CumprodBackward0", data, (x,), (x._data,), (d,))
    if _wants_grad(x):
        return clone(x)
    return Tensor._make(data)
