"""NEP 13: numpy ufuncs as tapegrad ops (``UFUNCS``), with their ``reduce``, ``accumulate`` and
``outer`` methods where a tapegrad op does the same."""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes
from .. import forward as F
from ..tensor import Tensor

from ._common import Unsupported, _axes, _cast, _same, _t


# ---- ufuncs -----------------------------------------------------------------------------
_LN2, _LN10 = math.log(2.0), math.log(10.0)


def _logaddexp(a, b, base_log=1.0):
    # m + log(e^(a-m) + e^(b-m)) is logaddexp for every m, so m (the larger input, detached)
    # only keeps exp from overflowing and adds nothing to the gradient.
    a, b = _same(a, b)
    m = Tensor._make(np.maximum(a._data, b._data))
    m = Tensor._make(np.where(np.isfinite(m._data), m._data, 0).astype(m._data.dtype))
    if base_log == 1.0:
        return F.add(F.log(F.add(F.exp(F.sub(a, m)), F.exp(F.sub(b, m)))), m)
    s = F.add(F.exp(F.mul(F.sub(a, m), base_log)), F.exp(F.mul(F.sub(b, m), base_log)))
    return F.add(F.div(F.log(s), base_log), m)


def _floating(x):
    x = _t(x)
    return x if x.dtype.is_floating_point else F.to_dtype(x, dtypes.float64)


def _asin(x):
    x = _floating(x)
    return _atan(F.div(x, F.sqrt(F.sub(1, F.mul(x, x)))))


def _atan(x):
    return F.atan(_floating(x))


def _atan2(a, b):
    return F.atan2(*_same(_floating(a), _floating(b)))


def _unary(fn):
    return lambda x: fn(_floating(x))


UFUNCS = {
    np.add: F.add, np.subtract: F.sub, np.multiply: F.mul, np.true_divide: F.div,
    np.power: F.pow, np.float_power: lambda a, b: F.pow(_floating(a), b),
    np.negative: F.neg, np.positive: lambda x: x, np.exp: F.exp, np.log: F.log,
    np.log1p: F.log1p, np.expm1: F.expm1, np.sqrt: F.sqrt, np.sin: F.sin, np.cos: F.cos,
    np.tan: F.tan, np.tanh: F.tanh, np.abs: F.abs, np.fabs: F.abs, np.square: F.square,
    np.sign: F.sign, np.reciprocal: F.reciprocal, np.maximum: F.maximum, np.minimum: F.minimum,
    np.fmax: F.maximum, np.fmin: F.minimum,
    np.equal: F.eq, np.not_equal: F.ne, np.less: F.lt, np.less_equal: F.le,
    np.greater: F.gt, np.greater_equal: F.ge, np.floor: F.floor, np.ceil: F.ceil,
    np.rint: F.round, np.matmul: lambda a, b: F.matmul(*_same(a, b)),
    np.logical_and: F.logical_and, np.logical_or: F.logical_or, np.logical_not: F.logical_not,
    np.logical_xor: F.logical_xor, np.isfinite: F.isfinite, np.isnan: F.isnan,
    np.isinf: F.isinf,
    # Compositions of ops in the table: their gradients follow.
    np.exp2: _unary(lambda x: F.exp(F.mul(x, _LN2))),
    np.log2: _unary(lambda x: F.div(F.log(x), _LN2)),
    np.log10: _unary(lambda x: F.div(F.log(x), _LN10)),
    np.sinh: _unary(lambda x: F.mul(F.sub(F.exp(x), F.exp(F.neg(x))), 0.5)),
    np.cosh: _unary(lambda x: F.mul(F.add(F.exp(x), F.exp(F.neg(x))), 0.5)),
    np.arcsinh: _unary(lambda x: F.mul(F.sign(x), F.log(F.add(F.abs(x), F.sqrt(
        F.add(F.mul(x, x), 1)))))),
    np.arccosh: _unary(lambda x: F.log(F.add(x, F.sqrt(F.sub(F.mul(x, x), 1))))),
    np.arctanh: _unary(lambda x: F.mul(F.log(F.div(F.add(1, x), F.sub(1, x))), 0.5)),
    np.cbrt: _unary(lambda x: F.mul(F.sign(x), F.pow(F.abs(x), 1 / 3))),
    np.hypot: lambda a, b: F.sqrt(F.add(F.mul(*_same(a, a)), F.mul(*_same(b, b)))),
    np.logaddexp: _logaddexp, np.logaddexp2: lambda a, b: _logaddexp(a, b, _LN2),
    np.arctan: _atan, np.arctan2: _atan2, np.arcsin: _asin,
    np.arccos: lambda x: F.sub(math.pi / 2, _asin(x)),
}
_REDUCE = {np.add: F.sum, np.multiply: F.prod, np.maximum: F.amax, np.minimum: F.amin}
_ACCUMULATE = {np.add: F.cumsum, np.multiply: F.cumprod}


def _ufunc_operand(x):
    if isinstance(x, (Tensor, bool, int, float)):
        return x
    return _t(x)


def _call_ufunc(ufunc, method, inputs, kwargs):
    out = kwargs.pop("out", None)
    if out is not None and any(o is not None for o in out):
        raise Unsupported("out=")
    if method == "__call__":
        fn = UFUNCS.get(ufunc)
        if fn is None or kwargs:
            raise Unsupported(", ".join(kwargs) if fn is not None else None)
        return fn(*[_ufunc_operand(x) for x in inputs])
    if method == "reduce" and ufunc in _REDUCE:
        axis = kwargs.pop("axis", 0)
        keepdims = kwargs.pop("keepdims", False)
        dtype = kwargs.pop("dtype", None)
        if kwargs:
            raise Unsupported(", ".join(kwargs))
        x = _cast(_t(inputs[0]), dtype)
        return _REDUCE[ufunc](x, dim=_axes(axis, x.ndim), keepdim=bool(keepdims))
    if method == "accumulate" and ufunc in _ACCUMULATE:
        axis = kwargs.pop("axis", 0)
        dtype = kwargs.pop("dtype", None)
        if kwargs:
            raise Unsupported(", ".join(kwargs))
        return _ACCUMULATE[ufunc](_cast(_t(inputs[0]), dtype), int(axis))
    if method == "outer" and ufunc in UFUNCS and len(inputs) == 2 and not kwargs:
        a, b = _t(inputs[0]), _t(inputs[1])
        a = F.reshape(a, tuple(a.shape) + (1,) * b.ndim)
        return UFUNCS[ufunc](a, b)
    raise Unsupported(None)
