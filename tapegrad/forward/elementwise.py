"""Elementwise ops: the binary and unary forwards (recording inlined: every ``a * b`` runs this
code) and the public functions built on them."""
from __future__ import annotations

import numpy as np

from .. import dtypes, threads
from ..dtypes import result_type, scalar_result_type
from ..registry import FORWARD_WATCHERS, SAVED_HOOKS
from ..ops import FORWARD, NO_SAVE, OPS
from ..tape import TLS, Record
from ..tensor import Tensor, recorded
from .record import (
    _broadcast_error,
    _no_grad,
    _operands,
    _slot_of,
    _wants_grad,
    as_tensor_arg,
    emit,
    observe,
)

_FLOATING = frozenset(("div", "exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "sin", "cos", "tan",
                       "atan", "atan2",
                       "tanh", "sigmoid", "reciprocal",
                       # issue 13's pointwise math: integer inputs give the default float dtype
                       "sinh", "cosh", "asinh", "acosh", "atanh", "asin", "acos", "erf", "erfc",
                       "erfinv", "log2", "log10", "exp2", "hypot", "logaddexp", "logaddexp2",
                       "logit", "xlogy", "sinc", "deg2rad", "rad2deg", "softplus", "gelu",
                       "gelu_tanh", "silu", "mish", "elu", "hardsigmoid", "hardswish",
                       "logsigmoid"))


def _make_binary(opname: str):
    """The forward of one binary elementwise op, with recording inlined: this is the code every
    ``a * b`` in a user's script runs, so it avoids calls it can do without."""
    op = OPS[opname]
    fwd = FORWARD[opname]
    floating = opname in _FLOATING
    plans = op.plans
    default_name = op.node_name

    def f(x, y, name=None):
        fast = False
        tx, ty = isinstance(x, Tensor), isinstance(y, Tensor)
        if tx:
            xa = x._data
            if ty:
                ya = y._data
                fast = xa.dtype is ya.dtype and (not floating or xa.dtype.kind == "f")
            elif type(y) is float or type(y) is int:
                ya = y
                fast = xa.dtype.kind == "f"
        dt = None  # fast: same dtypes, or a float tensor and a Python number; nothing to promote
        if not fast:
            xa, ya, dt = _operands(x, y, floating)
        try:
            data = fwd(xa, ya)
        except ValueError:
            raise _broadcast_error(np.shape(xa), np.shape(ya)) from None
        if type(data) is not np.ndarray or dt is not None and data.dtype != dt:
            data = np.asarray(data, dtype=dt)
        rx, ry = tx and x._rg, ty and y._rg
        if not (rx or ry):
            return Tensor._make(data)
        st = TLS.s
        if not st.grad_enabled:
            return Tensor._make(data)
        tape = st.tape
        s0 = _slot_of(x, tape) if rx else None
        s1 = _slot_of(y, tape) if ry else None
        mask = rx | ry << 1
        plan = plans[mask]
        slot = tape.next_slot
        tape.next_slot = slot + 1
        out = recorded(data, slot, tape)
        vers = ()
        if plan is NO_SAVE:
            saved = (None if tx else xa, None if ty else ya, None, None)
        else:
            saved = (xa if plan[0] or not tx else None, ya if plan[1] or not ty else None, None,
                     data if plan[3] else None)
            if plan[0] and tx:
                vers = ((0, x._vc, x._vc[0]),)
            if plan[1] and ty:
                vers += ((1, y._vc, y._vc[0]),)
            if plan[3]:
                vers += ((3, out._vc, 0),)
        ax, ay = type(xa) is np.ndarray, type(ya) is np.ndarray
        rec = Record(op, name or default_name, (s0, s1), saved, (),
                     (xa.shape if ax else (), ya.shape if ay else ()), data.shape, data.dtype, vers)
        records = tape.records
        rec.out = slot
        h0 = h1 = 0
        if rx:
            r0 = records[s0]
            r0.rc += 1
            h0 = r0.h
        if ry:
            r1 = records[s1]
            r1.rc += 1
            h1 = r1.h
        # The structural hash (see structural_hash), inlined for the two-input case.
        shape = data.shape
        # An operand that is an array (a tensor, or a numpy array the user passed) hashes by its
        # ndim and whether it has the output's shape; a Python number by -1: the JIT passes
        # them to a kernel differently, so they must never share a plan.
        rec.h = hash((op, data.dtype, mask, xa.ndim if ax else -1, ya.ndim if ay else -1,
                      len(shape), ax and xa.shape == shape, ay and ya.shape == shape,
                      slot - s0 if rx else -1, h0, slot - s1 if ry else -1, h1))
        records[slot] = rec
        if SAVED_HOOKS or FORWARD_WATCHERS or st.anomaly:  # hooks, a profiler, anomaly mode
            observe(rec, (x, y), out, 2)
        return out

    f.__name__ = opname
    return f


_BINARY = {name: _make_binary(name) for name in ("add", "sub", "mul", "div", "pow", "maximum",
                                                  "minimum", "atan2", "hypot", "logaddexp",
                                                  "logaddexp2", "fmod", "remainder", "xlogy")}


def binary(opname: str, x, y, name: str | None = None):
    """Runs the binary elementwise op ``opname`` of the op table (recorded as ``name``)."""
    return _BINARY[opname](x, y, name)


# Ufuncs whose cost is arithmetic, not memory traffic: splitting them over threads pays.
_COMPUTE_BOUND = frozenset((np.exp, np.log, np.log1p, np.expm1, np.sin, np.cos, np.tan, np.tanh,
                            np.sqrt))


def _make_unary(opname: str):
    """The forward of one unary elementwise op, recording inlined as in ``_make_binary``."""
    op = OPS[opname]
    fwd = FORWARD[opname]
    floating = opname in _FLOATING
    plan = op.plans[1]
    save_a, save_out = plan[0], plan[3]
    heavy = fwd in _COMPUTE_BOUND  # split_ufunc runs on one thread under set_num_threads(1)
    default_name = op.node_name

    def f(x, params=(), name=None):
        if not isinstance(x, Tensor):
            x = as_tensor_arg(x)
        xa = x._data
        if floating and xa.dtype.kind != "f":
            xa = xa.astype(dtypes.get_default_dtype().np)
        if heavy and xa.size >= threads.PARALLEL_MIN and xa.flags.c_contiguous:
            data = threads.split_ufunc(fwd, xa)  # compute-bound: worth both cores
        else:
            data = fwd(xa, *params) if params else fwd(xa)
        if type(data) is not np.ndarray or data.dtype is not xa.dtype:
            data = np.asarray(data, dtype=xa.dtype)
        if not x._rg:
            return Tensor._make(data)
        st = TLS.s
        if not st.grad_enabled:
            return Tensor._make(data)
        tape = st.tape
        s0 = _slot_of(x, tape)
        slot = tape.next_slot
        tape.next_slot = slot + 1
        out = recorded(data, slot, tape)
        if save_a:
            vers = ((0, x._vc, x._vc[0]), (3, out._vc, 0)) if save_out else \
                ((0, x._vc, x._vc[0]),)
        else:
            vers = ((3, out._vc, 0),) if save_out else ()
        rec = Record(op, name or default_name, (s0,),
                     (xa if save_a else None, None, None, data if save_out else None), params,
                     (xa.shape,), data.shape, data.dtype, vers)
        records = tape.records
        rec.out = slot
        r0 = records[s0]
        r0.rc += 1
        rec.h = hash((op, data.dtype, data.ndim, len(params), slot - s0, r0.h))
        records[slot] = rec
        if SAVED_HOOKS or FORWARD_WATCHERS or st.anomaly:  # hooks, a profiler, anomaly mode
            observe(rec, (x,), out, 2)
        return out

    f.__name__ = opname
    return f


_UNARY = {name: _make_unary(name) for name, op in OPS.items() if op.elementwise and op.arity == 1}


def unary(opname: str, x, params: tuple = (), name: str | None = None):
    """Runs the unary elementwise op ``opname`` of the op table, with static ``params``."""
    return _UNARY[opname](x, params, name)


# ---- elementwise ---------------------------------------------------------------------------
def add(input, other, *, alpha=1):
    """``input + alpha * other``, elementwise, with broadcasting and type promotion."""
    if alpha != 1:
        other = mul(other, alpha)
    return binary("add", input, other)


def sub(input, other, *, alpha=1):
    """``input - alpha * other``, elementwise, with broadcasting and type promotion."""
    if alpha != 1:
        other = mul(other, alpha)
    return binary("sub", input, other)


def mul(input, other):
    """``input * other``, elementwise, with broadcasting and type promotion."""
    return binary("mul", input, other)


def div(input, other, *, rounding_mode=None):
    """``input / other``, elementwise (true division: integers give a float).
    ``rounding_mode='trunc'`` or ``'floor'`` rounds the quotient (no gradient), keeping the
    promoted dtype."""
    if rounding_mode is not None:
        with _no_grad():
            q = binary("div", input, other)
            data = np.floor(q._data) if rounding_mode == "floor" else np.trunc(q._data)
            a = as_tensor_arg(input)
            if isinstance(other, Tensor):
                dt = result_type(a.dtype, a.ndim == 0, other.dtype, other.ndim == 0)
            else:
                dt = scalar_result_type(a.dtype, other)
            return Tensor._make(data.astype(dt.np))
    return binary("div", input, other)


def pow(input, exponent):
    """``input ** exponent``, elementwise; either may be a tensor or a number. Integers to negative
    integer powers raise, as in PyTorch."""
    if isinstance(input, Tensor):
        name = "PowBackward1" if isinstance(exponent, Tensor) else "PowBackward0"
        if (not isinstance(exponent, Tensor) and input.dtype.np.kind in "iub"
                and isinstance(exponent, int) and exponent < 0):
            raise RuntimeError("Integers to negative integer powers are not allowed.")
    else:
        name = "PowBackward2"
    return binary("pow", input, exponent, name)


def neg(input):
    """``-input``, elementwise."""
    return unary("neg", input)


def maximum(input, other):
    """The elementwise maximum of two tensors (broadcast); the gradient is split evenly where they
    are equal."""
    return binary("maximum", input, other)


def minimum(input, other):
    """The elementwise minimum of two tensors (broadcast); the gradient is split evenly where they
    are equal."""
    return binary("minimum", input, other)


def clamp(input, min=None, max=None):
    """Clamps every element into ``[min, max]`` (either bound may be None, not both; bounds may be
    tensors)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = input
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    lo = -np.inf if min is None else min
    hi = np.inf if max is None else max
    return unary("clamp", input, (lo, hi))


clip = clamp


def where(condition, input=None, other=None):
    """``input`` where ``condition`` is True, ``other`` elsewhere (broadcast). With only
    ``condition``, the indices of its nonzero elements, as a tuple (``nonzero(as_tuple=True)``)."""
    if input is None and other is None:
        return tuple(Tensor._make(i) for i in np.nonzero(as_tensor_arg(condition)._data))
    cond = as_tensor_arg(condition)._data
    if cond.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {dtypes.from_numpy_dtype(cond.dtype).name.capitalize()}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = as_tensor_arg(input)
    xa, ya, dt = _operands(input, other, False)
    try:
        data = np.where(cond, xa, ya)
    except ValueError:
        raise _broadcast_error(np.shape(xa), np.shape(ya)) from None
    data = np.asarray(data, dtype=dt)
    if _wants_grad(input, other):
        return emit(OPS["where"], "WhereBackward0", data, (condition, input, other),
                    (cond, xa, ya))
    return Tensor._make(data)


def leaky_relu(input, negative_slope=0.01):
    """``x`` where ``x > 0``, ``negative_slope * x`` elsewhere."""
    return unary("leaky_relu", input, (negative_slope,))


def _public_unary(opname: str, doc: str):
    fn = _UNARY[opname]

    def f(input):
        return fn(input)
    f.__name__ = opname
    f.__doc__ = f"{doc}\n\nIts derivative (the op table's rule) is ``{OPS[opname].grads[0]}``."
    return f


abs = _public_unary("abs", "The absolute value of each element.")
exp = _public_unary("exp", "e to the power of each element.")
log = _public_unary("log", "The natural logarithm of each element.")
log1p = _public_unary("log1p", "``log(1 + x)``, accurate for small x.")
expm1 = _public_unary("expm1", "``exp(x) - 1``, accurate for small x.")
sqrt = _public_unary("sqrt", "The square root of each element.")
rsqrt = _public_unary("rsqrt", "The reciprocal of the square root of each element.")
sin = _public_unary("sin", "The sine of each element (radians).")
cos = _public_unary("cos", "The cosine of each element (radians).")
tan = _public_unary("tan", "The tangent of each element (radians).")
tanh = _public_unary("tanh", "The hyperbolic tangent of each element.")
sigmoid = _public_unary("sigmoid", "The logistic sigmoid ``1 / (1 + exp(-x))`` of each element.")
relu = _public_unary("relu", "``max(x, 0)`` for each element.")
square = _public_unary("square", "The square of each element.")
reciprocal = _public_unary("reciprocal", "``1 / x`` for each element.")
sign = _public_unary("sign", "-1, 0 or 1: the sign of each element.")
absolute = abs


def clone(input):
    """A copy of ``input`` with its own data; the gradient flows back to ``input``."""
    x = as_tensor_arg(input)
    return unary("copy", x)


def to_dtype(x: Tensor, dt, copy: bool = False) -> Tensor:
    """``x`` converted to dtype ``dt`` (itself if it already has it, unless ``copy``);
    differentiable between floating dtypes."""
    dt = dtypes.to_dtype(dt)
    if dt.np == x._data.dtype:
        return clone(x) if copy else x
    data = x._data.astype(dt.np)
    if x._rg and TLS.s.grad_enabled and dt.is_floating_point:
        return emit(OPS["copy"], "ToCopyBackward0", data, (x,), (x._data,))
    return Tensor._make(data)



def floor(input):
    """The largest integer not greater than each element (same dtype); zero gradient."""
    return unary("floor", input)


def ceil(input):
    """The smallest integer not less than each element (same dtype); zero gradient."""
    return unary("ceil", input)


def round(input):
    """Rounds each element to the nearest integer, halves to even (same dtype); zero gradient."""
    return unary("round", input)


negative = neg


# ---- atan and atan2 ----------------------------------------------------------------------
atan = _public_unary("atan", "The arctangent of each element, in radians.")


def atan2(input, other):
    """Elementwise ``atan(input / other)`` in the right quadrant, in radians."""
    return binary("atan2", input, other)


arctan, arctan2 = atan, atan2


# The recording closures in _UNARY are Tensor's methods (``x.exp()``, see methods.bind): they
# share the public functions' docstrings.
for _name, _fn in _UNARY.items():
    if _name in globals() and callable(globals()[_name]):
        _fn.__doc__ = globals()[_name].__doc__
    else:
        _fn.__doc__ = f"Elementwise ``{_name}`` (the op table's unary op)."
