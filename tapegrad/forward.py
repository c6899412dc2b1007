"""The eager forward: every operation computes with numpy and, when a gradient is wanted,
appends one record to this thread's tape.

This is the hot path of every user script, so recording is kept to a few attribute reads and
one small object. ``emit`` is the only place a record is made.
"""
from __future__ import annotations

import builtins
import traceback
import warnings
from collections import namedtuple

import numpy as np

from . import dtypes, threads
from .dtypes import result_type, scalar_result_type
from .graph import ACTIVE as SAVED_HOOKS
from .graph import pack_saved
from .ops import FORWARD, NO_SAVE, OPS, _is_basic
from .tape import OTHER_THREAD, TLS, Record
from .tensor import Tensor, _dim, recorded

_SCALARS = (int, float, bool, np.number, np.bool_)
NO_SAVED = (None, None, None, None)


# ---- recording ---------------------------------------------------------------------------
def _slot_of(x: Tensor, tape) -> int:
    slot = x._slot
    if slot is None:
        return tape.leaf_slot(x)
    if x._tape is not tape:
        raise RuntimeError(OTHER_THREAD)
    return slot


def emit(op, name: str, data: np.ndarray, inputs: tuple, arrays: tuple, params: tuple = ()):
    """Wrap ``data`` in a tensor that requires grad and record how it was computed.

    ``inputs`` are the operands as the user gave them (tensors or Python scalars); ``arrays``
    are the values the forward actually used (after promotion), which is what gets saved.
    """
    tape = TLS.s.tape
    ins = []
    mask = 0
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor) or not x._rg:
            ins.append(None)
            continue
        ins.append(_slot_of(x, tape))
        mask |= 1 << i
    out = Tensor._make(data, True)
    plan = op.plans[mask] if mask < 8 else NO_SAVE
    saved = [None, None, None, None]
    vl = []
    for k in range(len(inputs) if len(inputs) < 3 else 3):
        x = inputs[k]
        if plan[k]:
            saved[k] = arrays[k]
            if isinstance(x, Tensor):
                vl.append((k, x._vc, x._vc[0]))
        elif x is not None and not isinstance(x, Tensor):
            saved[k] = arrays[k]  # a Python scalar costs nothing to keep, and the listing shows it
    if plan[3]:
        saved[3] = data
        vl.append((3, out._vc, 0))
    saved = tuple(saved)
    vers = tuple(vl)
    in_shapes = tuple(a.shape if isinstance(a, np.ndarray) else () for a in arrays)
    rec = Record(op, name, tuple(ins), saved, params, in_shapes, data.shape, data.dtype, vers)
    out._slot = tape.append(rec)
    out._tape = tape
    rec.h = structural_hash(rec, tape.records)
    if SAVED_HOOKS:  # torch.autograd.graph.saved_tensors_hooks is active somewhere
        pack_saved(rec, inputs, out)
    if TLS.s.anomaly:
        rec.where = "".join(traceback.format_stack()[:-2])
    return out


def structural_hash(rec: Record, records: dict) -> int:
    """A hash of a record's structure and of everything it depends on, made as it is appended:
    its signature (op, dtype, ndim, operand kinds, which inputs have its shape; no sizes, no
    scalar values), and per input the input's hash and its distance on the tape. Equal hashes
    at a backward's root mean an equal graph, so the JIT finds its plan in O(1); the plan then
    checks every record's hash as it reads it."""
    from .jit.plan import local_sig
    parts = [local_sig(rec)]
    for s in rec.ins:
        parts.append(-1 if s is None else rec.out - s)
        parts.append(0 if s is None else records[s].h)
    return hash(tuple(parts))


def _wants_grad(*xs) -> bool:
    if not TLS.s.grad_enabled:
        return False
    for x in xs:
        if isinstance(x, Tensor) and x._rg:
            return True
    return False


# ---- operands, promotion, broadcasting ----------------------------------------------------
def as_tensor_arg(x) -> Tensor:
    if isinstance(x, Tensor):
        return x
    from .creation import tensor
    return tensor(x)


def _broadcast_error(sa: tuple, sb: tuple):
    n = builtins.max(len(sa), len(sb))
    pa, pb = (1,) * (n - len(sa)) + tuple(sa), (1,) * (n - len(sb)) + tuple(sb)
    for d in range(n - 1, -1, -1):
        if pa[d] != pb[d] and pa[d] != 1 and pb[d] != 1:
            return RuntimeError(f"The size of tensor a ({pa[d]}) must match the size of tensor b "
                                f"({pb[d]}) at non-singleton dimension {d}")
    return RuntimeError(f"shapes {list(sa)} and {list(sb)} cannot be broadcast together")


def _operands(x, y, floating: bool):
    """The numpy operands of a binary op, promoted as PyTorch promotes, and the result dtype."""
    if isinstance(x, Tensor):
        xa = x._data
        if isinstance(y, Tensor):
            ya = y._data
            if xa.dtype is ya.dtype or xa.dtype == ya.dtype:
                dt = xa.dtype
            else:
                dt = result_type(x.dtype, xa.ndim == 0, y.dtype, ya.ndim == 0).np
        elif isinstance(y, _SCALARS):
            ya = y.item() if isinstance(y, (np.number, np.bool_)) else y
            dt = scalar_result_type(x.dtype, ya).np
        else:
            return _operands(x, as_tensor_arg(y), floating)
    else:
        ya = y._data
        xa = x.item() if isinstance(x, (np.number, np.bool_)) else x
        if not isinstance(xa, _SCALARS):
            return _operands(as_tensor_arg(x), y, floating)
        dt = scalar_result_type(y.dtype, xa).np
    if floating and dt.kind != "f":
        dt = dtypes.get_default_dtype().np
    if isinstance(xa, np.ndarray) and xa.dtype != dt:
        xa = xa.astype(dt)
    if isinstance(ya, np.ndarray) and ya.dtype != dt:
        ya = ya.astype(dt)
    return xa, ya, dt


_FLOATING = frozenset(("div", "exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "sin", "cos", "tan",
                       "tanh", "sigmoid", "reciprocal"))


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
        if SAVED_HOOKS:
            pack_saved(rec, (x, y), out)
        if st.anomaly:
            rec.where = "".join(traceback.format_stack()[:-1])
        return out

    f.__name__ = opname
    return f


_BINARY = {name: _make_binary(name) for name in ("add", "sub", "mul", "div", "pow", "maximum",
                                                  "minimum")}


def binary(opname: str, x, y, name: str | None = None):
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
    heavy = fwd in _COMPUTE_BOUND and threads.THREADS > 1
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
        if SAVED_HOOKS:
            pack_saved(rec, (x,), out)
        if st.anomaly:
            rec.where = "".join(traceback.format_stack()[:-1])
        return out

    f.__name__ = opname
    return f


_UNARY = {name: _make_unary(name) for name, op in OPS.items() if op.elementwise and op.arity == 1}


def unary(opname: str, x, params: tuple = (), name: str | None = None):
    return _UNARY[opname](x, params, name)


# ---- elementwise ---------------------------------------------------------------------------
def add(input, other, *, alpha=1):
    if alpha != 1:
        other = mul(other, alpha)
    return binary("add", input, other)


def sub(input, other, *, alpha=1):
    if alpha != 1:
        other = mul(other, alpha)
    return binary("sub", input, other)


def mul(input, other):
    return binary("mul", input, other)


def div(input, other, *, rounding_mode=None):
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
    if isinstance(input, Tensor):
        name = "PowBackward1" if isinstance(exponent, Tensor) else "PowBackward0"
        if (not isinstance(exponent, Tensor) and input.dtype.np.kind in "iub"
                and isinstance(exponent, int) and exponent < 0):
            raise RuntimeError("Integers to negative integer powers are not allowed.")
    else:
        name = "PowBackward2"
    return binary("pow", input, exponent, name)


def neg(input):
    return unary("neg", input)


def maximum(input, other):
    return binary("maximum", input, other)


def minimum(input, other):
    return binary("minimum", input, other)


def clamp(input, min=None, max=None):
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
    return unary("leaky_relu", input, (negative_slope,))


def _public_unary(opname: str):
    fn = _UNARY[opname]

    def f(input):
        return fn(input)
    f.__name__ = opname
    f.__doc__ = f"Elementwise {opname}; its derivative is ``{OPS[opname].grads[0]}``."
    return f


abs = _public_unary("abs")
exp = _public_unary("exp")
log = _public_unary("log")
log1p = _public_unary("log1p")
expm1 = _public_unary("expm1")
sqrt = _public_unary("sqrt")
rsqrt = _public_unary("rsqrt")
sin = _public_unary("sin")
cos = _public_unary("cos")
tan = _public_unary("tan")
tanh = _public_unary("tanh")
sigmoid = _public_unary("sigmoid")
relu = _public_unary("relu")
square = _public_unary("square")
reciprocal = _public_unary("reciprocal")
sign = _public_unary("sign")
absolute = abs


def clone(input):
    x = as_tensor_arg(input)
    return unary("copy", x)


def to_dtype(x: Tensor, dt, copy: bool = False) -> Tensor:
    dt = dtypes.to_dtype(dt)
    if dt.np == x._data.dtype:
        return clone(x) if copy else x
    data = x._data.astype(dt.np)
    if x._rg and TLS.s.grad_enabled and dt.is_floating_point:
        return emit(OPS["copy"], "ToCopyBackward0", data, (x,), (x._data,))
    return Tensor._make(data)


# ---- comparisons and logic (no gradient) --------------------------------------------------
def _compare(ufunc):
    def f(input, other):
        if other is None:
            return False
        x = as_tensor_arg(input)
        xa, ya, _ = _operands(x, other, False)
        try:
            return Tensor._make(np.asarray(ufunc(xa, ya)))
        except ValueError:
            raise _broadcast_error(np.shape(xa), np.shape(ya)) from None
    f.__name__ = ufunc.__name__
    return f


eq = _compare(np.equal)
ne = _compare(np.not_equal)
lt = _compare(np.less)
le = _compare(np.less_equal)
gt = _compare(np.greater)
ge = _compare(np.greater_equal)
greater, less, greater_equal, less_equal, not_equal = gt, lt, ge, le, ne
logical_and = _compare(np.logical_and)
logical_or = _compare(np.logical_or)
logical_xor = _compare(np.logical_xor)


def logical_not(input):
    return Tensor._make(np.logical_not(as_tensor_arg(input)._data))


def isfinite(input):
    return Tensor._make(np.isfinite(as_tensor_arg(input)._data))


def isnan(input):
    return Tensor._make(np.isnan(as_tensor_arg(input)._data))


def isinf(input):
    return Tensor._make(np.isinf(as_tensor_arg(input)._data))


def equal(input, other) -> bool:
    a, b = as_tensor_arg(input)._data, as_tensor_arg(other)._data
    return a.shape == b.shape and bool(np.array_equal(a, b))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return bool(np.allclose(as_tensor_arg(input)._data, as_tensor_arg(other)._data, rtol=rtol,
                            atol=atol, equal_nan=equal_nan))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return Tensor._make(np.isclose(as_tensor_arg(input)._data, as_tensor_arg(other)._data,
                                   rtol=rtol, atol=atol, equal_nan=equal_nan))


def _bitwise(ufunc):
    def f(input, other):
        x = as_tensor_arg(input)
        y = as_tensor_arg(other)
        if x._data.dtype.kind == "f" or y._data.dtype.kind == "f":
            raise TypeError(f"{ufunc.__name__} is only supported for integer and boolean tensors")
        return Tensor._make(ufunc(x._data, y._data))
    return f


bitwise_and = _bitwise(np.bitwise_and)
bitwise_or = _bitwise(np.bitwise_or)
bitwise_xor = _bitwise(np.bitwise_xor)


# ---- reductions --------------------------------------------------------------------------
def _dims(dim, ndim: int):
    """None, or a sorted tuple of non-negative dims."""
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)):
        if len(dim) == 0:
            return None
        return tuple(sorted(_dim(d, ndim) for d in dim))
    return (_dim(dim, ndim),)


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
    return _spread("var", "VarBackward0", np.var, input, dim, unbiased, keepdim, correction,
                   kwargs)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, **kwargs):
    return _spread("std", "StdBackward0", np.std, input, dim, unbiased, keepdim, correction,
                   kwargs)


def _return_type(name: str):
    base = namedtuple(name, ["values", "indices"])

    def __repr__(self):
        return f"tapegrad.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"
    return type(name, (base,), {"__slots__": (), "__repr__": __repr__})


class return_types:
    max = _return_type("max")
    min = _return_type("min")


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
    return _extreme("max", input, dim, keepdim, **kwargs)


def min(input, dim=None, keepdim=False, **kwargs):
    return _extreme("min", input, dim, keepdim, **kwargs)


def amax(input, dim=(), keepdim=False, **kwargs):
    dim, keepdim = _reduce_args(dim, keepdim, kwargs)
    x = as_tensor_arg(input)
    dims = _dims(dim, x.ndim)
    data = np.amax(x._data, axis=dims, keepdims=keepdim)
    return _reduction("amax", "AmaxBackward0", "AmaxBackward0", x, dims, keepdim, data)


def amin(input, dim=(), keepdim=False, **kwargs):
    dim, keepdim = _reduce_args(dim, keepdim, kwargs)
    x = as_tensor_arg(input)
    dims = _dims(dim, x.ndim)
    data = np.amin(x._data, axis=dims, keepdims=keepdim)
    return _reduction("amin", "AminBackward0", "AminBackward0", x, dims, keepdim, data)


def argmax(input, dim=None, keepdim=False, **kwargs):
    dim, keepdim = _reduce_args(dim, keepdim, kwargs)
    x = as_tensor_arg(input)
    if dim is None:
        return Tensor._make(np.asarray(np.argmax(x._data), dtype=np.int64))
    return Tensor._make(np.argmax(x._data, axis=_dim(dim, x.ndim), keepdims=keepdim)
                        .astype(np.int64))


def argmin(input, dim=None, keepdim=False, **kwargs):
    dim, keepdim = _reduce_args(dim, keepdim, kwargs)
    x = as_tensor_arg(input)
    if dim is None:
        return Tensor._make(np.asarray(np.argmin(x._data), dtype=np.int64))
    return Tensor._make(np.argmin(x._data, axis=_dim(dim, x.ndim), keepdims=keepdim)
                        .astype(np.int64))


def prod(input, dim=None, keepdim=False, *, dtype=None, **kwargs):
    dim, keepdim = _reduce_args(dim, keepdim, kwargs)
    x = as_tensor_arg(input)
    if dtype is not None:
        x = to_dtype(x, dtype)
    dims = _dims(dim, x.ndim)
    np_dt = np.int64 if x._data.dtype.kind in "iub" else None
    data = np.prod(x._data, axis=dims, keepdims=keepdim, dtype=np_dt)
    return _reduction("prod", "ProdBackward0", "ProdBackward1", x, dims, keepdim, data)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None, **kwargs):
    dim, keepdim = _reduce_args(dim, keepdim, kwargs)
    x = as_tensor_arg(input)
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


# ---- matrix products -----------------------------------------------------------------------
def _shape_str(shape) -> str:
    return "x".join(map(str, shape))


def matmul(input, other, _name=None):
    x, y = as_tensor_arg(input), as_tensor_arg(other)
    if x.ndim == 0 or y.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{x.ndim}D and {y.ndim}D")
    xa, ya, dt = _operands(x, y, False)
    if xa.dtype != ya.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_type_name(x.dtype).lower()} != {_type_name(y.dtype).lower()}")
    k1 = xa.shape[-1]
    k2 = ya.shape[0] if ya.ndim == 1 else ya.shape[-2]
    if k1 != k2:
        if xa.ndim == 1 and ya.ndim == 1:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{k1}] and src [{k2}] "
                               f"to have the same number of elements, but got {k1} and {k2} "
                               "elements respectively")
        if xa.ndim <= 2 and ya.ndim <= 2:
            sx = xa.shape if xa.ndim == 2 else (1,) + xa.shape
            sy = ya.shape if ya.ndim == 2 else ya.shape + (1,)
            if ya.ndim == 1:
                raise RuntimeError(f"size mismatch, got input ({sx[0]}), mat ({_shape_str(sx)}), "
                                   f"vec ({k2})")
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_shape_str(sx)} and "
                               f"{_shape_str(sy)})")
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{xa.shape[0] if xa.ndim > 2 else 1}, {k1}] but got: "
                           f"[{ya.shape[0] if ya.ndim > 2 else 1}, {k2}].")
    try:
        data = np.matmul(xa, ya)
    except ValueError:
        raise _broadcast_error(xa.shape[:-2], ya.shape[:-2]) from None
    data = np.asarray(data)
    if _wants_grad(x, y):
        if _name is None:
            nd = (xa.ndim, ya.ndim)
            _name = {(1, 1): "DotBackward0", (2, 1): "MvBackward0", (2, 2): "MmBackward0",
                     (3, 3): "BmmBackward0"}.get(nd, "UnsafeViewBackward0")
        return emit(OPS["matmul"], _name, data, (x, y), (xa, ya))
    return Tensor._make(data)


def mm(input, mat2):
    x, y = as_tensor_arg(input), as_tensor_arg(mat2)
    if x.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if y.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    return matmul(x, y, "MmBackward0")


def mv(input, vec):
    x, y = as_tensor_arg(input), as_tensor_arg(vec)
    if x.ndim != 2 or y.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {y.ndim}, {x.ndim}, {y.ndim}")
    return matmul(x, y, "MvBackward0")


def dot(input, other):
    x, y = as_tensor_arg(input), as_tensor_arg(other)
    if x.ndim != 1 or y.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {x.ndim}D and {y.ndim}D tensors")
    return matmul(x, y, "DotBackward0")


def outer(input, vec2):
    x, y = as_tensor_arg(input), as_tensor_arg(vec2)
    if x.ndim != 1 or y.ndim != 1:
        raise RuntimeError(f"outer: expected 1D tensors, but got {x.ndim}D and {y.ndim}D")
    return mul(unsqueeze(x, 1), y)


ger = outer


def bmm(input, mat2):
    x, y = as_tensor_arg(input), as_tensor_arg(mat2)
    if x.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if y.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if x.shape[0] != y.shape[0]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{x.shape[0]}, {x.shape[2]}] but got: [{y.shape[0]}, {y.shape[1]}].")
    return matmul(x, y, "BmmBackward0")


# ---- shape ops: each returns a view that shares memory (and the version counter) ----------
def _as_view(out: Tensor, x: Tensor, fn) -> Tensor:
    base = x._base if x._base is not None else x
    prev = x._view_fn
    out._base = base
    out._view_fn = fn if prev is None else (lambda a, prev=prev, fn=fn: fn(prev(a)))
    out._vc = x._vc
    return out


def _shape_op(x: Tensor, data: np.ndarray, opname: str, name: str, params: tuple, fn):
    """A view op: record it if needed, and remember how to re-derive the view from its base."""
    if x._rg and TLS.s.grad_enabled:
        out = emit(OPS[opname], name, data, (x,), (x._data,), params)
    else:
        out = Tensor._make(data)
    if fn is not None and np.shares_memory(data, x._data):
        _as_view(out, x, fn)
    return out


def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _infer_shape(shape: tuple, numel: int) -> tuple:
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def view(input, *shape):
    x = as_tensor_arg(input)
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int)):
        return to_dtype(x, shape[0])  # x.view(dtype): reinterpretation is not supported
    shape = _infer_shape(_shape_arg(shape), x._data.size)
    data = x._data.view()
    try:
        data.shape = shape
    except AttributeError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.") from None
    return _shape_op(x, data, "reshape", "ViewBackward0", (), lambda a, s=shape: a.reshape(s))


def reshape(input, *shape):
    x = as_tensor_arg(input)
    shape = _infer_shape(_shape_arg(shape), x._data.size)
    data = x._data.reshape(shape)
    name = "ViewBackward0" if np.shares_memory(data, x._data) or not data.size else \
        "UnsafeViewBackward0"
    return _shape_op(x, data, "reshape", name, (), lambda a, s=shape: a.reshape(s))


def flatten(input, start_dim=0, end_dim=-1):
    x = as_tensor_arg(input)
    if x.ndim == 0:
        return reshape(x, 1)
    s, e = _dim(start_dim, x.ndim), _dim(end_dim, x.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return x
    shape = x.shape[:s] + (-1,) + x.shape[e + 1:]
    return reshape(x, shape)


def squeeze(input, dim=None):
    x = as_tensor_arg(input)
    if dim is None:
        shape = tuple(s for s in x.shape if s != 1)
        name = "SqueezeBackward0"
    else:
        dims = _dims(dim, x.ndim) or ()
        shape = tuple(s for i, s in enumerate(x.shape) if not (i in dims and s == 1))
        name = "SqueezeBackward1" if isinstance(dim, int) else "SqueezeBackward2"
    data = x._data.reshape(shape)
    return _shape_op(x, data, "reshape", name, (), lambda a, s=shape: a.reshape(s))


def unsqueeze(input, dim):
    x = as_tensor_arg(input)
    d = _dim(dim, x.ndim + 1)
    shape = x.shape[:d] + (1,) + x.shape[d:]
    data = x._data.reshape(shape)
    return _shape_op(x, data, "reshape", "UnsqueezeBackward0", (),
                     lambda a, s=shape: a.reshape(s))


def permute(input, *dims):
    x = as_tensor_arg(input)
    axes = tuple(_dim(d, x.ndim) for d in _shape_arg(dims)) if x.ndim else ()
    if len(axes) != x.ndim or len(set(axes)) != len(axes):
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {x.ndim} is not equal to len(dims) = {len(axes)}"
                           if len(axes) != x.ndim else "permute(): duplicate dims are not allowed.")
    return _permute(x, axes, "PermuteBackward0")


def _permute(x, axes, name):
    data = x._data.transpose(axes)
    return _shape_op(x, data, "permute", name, (axes,), lambda a, p=axes: a.transpose(p))


def transpose(input, dim0, dim1):
    x = as_tensor_arg(input)
    if x.ndim == 0:
        return x
    axes = list(range(x.ndim))
    d0, d1 = _dim(dim0, x.ndim), _dim(dim1, x.ndim)
    axes[d0], axes[d1] = axes[d1], axes[d0]
    return _permute(x, tuple(axes), "TransposeBackward0")


swapaxes = swapdims = transpose


def t(input):
    x = as_tensor_arg(input)
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    if x.ndim < 2:
        return x
    return _permute(x, (1, 0), "TBackward0")


def expand(input, *sizes):
    x = as_tensor_arg(input)
    sizes = _shape_arg(sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(x.shape)}}}, size={list(sizes)}): "
                           f"the number of sizes provided ({len(sizes)}) must be greater or equal "
                           f"to the number of dimensions in the tensor ({x.ndim})")
    lead = len(sizes) - x.ndim
    target = []
    for i, s in enumerate(sizes):
        have = x.shape[i - lead] if i >= lead else 1
        if s == -1:
            if i < lead:
                raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a "
                                   f"leading, non-existing dimension {i}")
            s = have
        elif have != 1 and have != s:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing "
                               f"size ({have}) at non-singleton dimension {i}.  Target sizes: "
                               f"{list(sizes)}.  Tensor sizes: {list(x.shape)}")
        target.append(s)
    target = tuple(target)
    data = np.broadcast_to(x._data, target)
    return _shape_op(x, data, "expand", "ExpandBackward0", (),
                     lambda a, s=target: np.broadcast_to(a, s))


def expand_as(input, other):
    return expand(input, as_tensor_arg(other).shape)


def broadcast_to(input, size):
    return expand(input, tuple(size))


def broadcast_tensors(*tensors):
    shape = np.broadcast_shapes(*(as_tensor_arg(t).shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


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
    x = as_tensor_arg(input)
    d = _dim(dim, x.ndim)
    return getitem(x, (slice(None),) * d + (as_tensor_arg(index),))


def masked_fill(input, mask, value):
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
    try:
        data = x._data[index_tuple]
    except IndexError:
        raise RuntimeError(f"index {int(idx.max())} is out of bounds for dimension {d} with "
                           f"size {x.shape[d]}") from None
    if x._rg and TLS.s.grad_enabled:
        return emit(OPS["getitem"], "GatherBackward0", data, (x,), (x._data,), (index_tuple,))
    return Tensor._make(data)


# ---- joining and splitting ------------------------------------------------------------------
def _join_operands(tensors, what):
    tensors = [as_tensor_arg(t) for t in tensors]
    if not tensors:
        raise RuntimeError(f"{what}(): expected a non-empty list of Tensors")
    dt = tensors[0].dtype
    for t_ in tensors[1:]:
        dt = dtypes.promote(dt, t_.dtype)
    arrays = [t_._data if t_._data.dtype == dt.np else t_._data.astype(dt.np) for t_ in tensors]
    return tensors, arrays


def cat(tensors, dim=0, **kwargs):
    if "axis" in kwargs:
        dim = kwargs.pop("axis")
    tensors, arrays = _join_operands(tensors, "cat")
    ref = next((a for a in arrays if a.ndim), arrays[0])
    if ref.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = _dim(dim, ref.ndim)
    keep = [(t_, a) for t_, a in zip(tensors, arrays) if not (a.ndim == 1 and a.shape[0] == 0)]
    for i, (_, a) in enumerate(keep):
        if a.ndim != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} and "
                               f"{a.ndim}")
        for k in range(ref.ndim):
            if k != d and a.shape[k] != ref.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {ref.shape[k]} but got size {a.shape[k]} for "
                                   f"tensor number {i} in the list.")
    tensors = [t_ for t_, _ in keep]
    arrays = [a for _, a in keep]
    data = np.concatenate(arrays, axis=d)
    if _wants_grad(*tensors):
        return emit(OPS["cat"], "CatBackward0", data, tuple(tensors), tuple(arrays), (d,))
    return Tensor._make(data)


concatenate = concat = cat


def stack(tensors, dim=0):
    tensors, arrays = _join_operands(tensors, "stack")
    for i, a in enumerate(arrays[1:], 1):
        if a.shape != arrays[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(arrays[0].shape)} at entry 0 and {list(a.shape)} at entry "
                               f"{i}")
    d = _dim(dim, arrays[0].ndim + 1)
    data = np.stack(arrays, axis=d)
    if _wants_grad(*tensors):
        return emit(OPS["stack"], "StackBackward0", data, tuple(tensors), tuple(arrays), (d,))
    return Tensor._make(data)


def _split_at(x: Tensor, sizes, d: int, name: str):
    out, start = [], 0
    for s in sizes:
        piece = getitem(x, (slice(None),) * d + (slice(start, start + s),))
        if piece._slot is not None:
            piece._tape.records[piece._slot].name = name
        out.append(piece)
        start += s
    return tuple(out)


def split(tensor, split_size_or_sections, dim=0):
    x = as_tensor_arg(tensor)
    d = _dim(dim, x.ndim)
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        sizes = [builtins.min(step, n - i) for i in range(0, n, step)] or [0]
        return _split_at(x, sizes, d, "SplitBackward0")
    sizes = list(split_size_or_sections)
    if builtins.sum(sizes) != n:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input "
                           f"tensor's size at dimension {d}), but got split_sizes={sizes}")
    return _split_at(x, sizes, d, "SplitWithSizesBackward0")


def chunk(input, chunks, dim=0):
    x = as_tensor_arg(input)
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = x.shape[_dim(dim, x.ndim)]
    step = -(-n // chunks) if n else 1
    return split(x, step, dim)


def unbind(input, dim=0):
    x = as_tensor_arg(input)
    d = _dim(dim, x.ndim)
    return tuple(getitem(x, (slice(None),) * d + (i,)) for i in range(x.shape[d]))


# ---- in-place ---------------------------------------------------------------------------
_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
               "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _type_name(dt) -> str:
    return _TYPE_NAMES[dt.name]


def _check_inplace_allowed(x: Tensor) -> None:
    if not TLS.s.grad_enabled:
        return
    if x._slot is None and x._rg:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    base = x._base
    if base is not None and base._slot is None and base._rg:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")


def _adopt(x: Tensor, r: Tensor) -> None:
    """Make ``x`` the output of ``r``'s record: the last step of every recorded in-place op."""
    old, old_tape = x._slot, x._tape
    x._slot, x._tape, x._rg = r._slot, r._tape, True
    r._slot = None
    if old is not None:
        if old_tape is x._tape and old in old_tape.records:
            old_tape.rebound[old] = x._slot  # names the in-place op in a version error
        old_tape.release(old)


def inplace(x: Tensor, compute) -> Tensor:
    """Run ``compute(x)`` out of place, write the result into ``x``'s memory, bump its version.

    A recorded result's record is rebound to ``x``; through a view the base is rebound too
    (PyTorch's CopySlices), so the base's gradient sees the write.
    """
    _check_inplace_allowed(x)
    r = compute(x)
    rd = r._data
    if rd.dtype != x._data.dtype and (
            dtypes.from_numpy_dtype(rd.dtype)._category > x.dtype._category):
        raise RuntimeError(f"result type {_type_name(dtypes.from_numpy_dtype(rd.dtype))} can't be "
                           f"cast to the desired output type {_type_name(x.dtype)}")
    if rd.shape != x._data.shape:
        try:
            np.broadcast_to(rd, x._data.shape)
        except ValueError:
            raise RuntimeError(f"output with shape {list(x.shape)} doesn't match the broadcast "
                               f"shape {list(rd.shape)}") from None
        raise RuntimeError(f"output with shape {list(x.shape)} doesn't match the broadcast shape "
                           f"{list(rd.shape)}")
    if r._slot is not None:
        _private_saved_copies(r, x._data)
    try:
        np.copyto(x._data, rd, casting="unsafe")
    except ValueError:
        raise RuntimeError("unsupported operation: more than one element of the written-to tensor "
                           "refers to a single memory location. Please clone() the tensor before "
                           "performing the operation.") from None
    x._vc[0] += 1
    if r._slot is None:
        return x
    if x._base is None:
        _adopt(x, r)
        return x
    base = x._base
    w = emit(OPS["view_write"], "CopySlices", base._data, (base, r), (base._data, rd),
             (x._view_fn,))
    _adopt(base, w)
    v = emit(OPS["view_of"], "AsStridedBackward0", x._data, (base,), (base._data,),
             (x._view_fn,))
    _adopt(x, v)
    return x


def _private_saved_copies(r: Tensor, target: np.ndarray) -> None:
    """The record of an in-place op may have saved the very array about to be overwritten
    (``x.mul_(y)`` saves x for y's gradient): give it a private copy, as PyTorch saves
    ``original_self``. A private copy can no longer be modified, so its version check goes."""
    rec = r._tape.records[r._slot]
    saved = list(rec.saved)
    hit = [k for k in range(3) if saved[k] is target]
    if not hit:
        return
    copy = target.copy()
    for k in hit:
        saved[k] = copy
    rec.saved = tuple(saved)
    rec.vers = tuple(v for v in rec.vers if v[0] not in hit)


def _fill_like(x: Tensor, value, name: str) -> Tensor:
    """A tensor of ``value`` shaped like x, recorded as where(False, x, value): the gradient to
    x is zero, and a value that requires grad receives the sum."""
    cond = np.zeros((), np.bool_)
    if isinstance(value, Tensor):
        va = value._data
    else:
        va = value
    data = np.empty_like(x._data)
    data[...] = va
    if _wants_grad(x, value):
        return emit(OPS["where"], name, data, (None, x, value), (cond, x._data, va))
    return Tensor._make(data)


def setitem(x: Tensor, index, value) -> None:
    if isinstance(value, Tensor) and not _wants_grad(x, value) or not isinstance(value, Tensor) \
            and not _wants_grad(x):
        _check_inplace_allowed(x)
        index = _index(index)
        va = value._data if isinstance(value, Tensor) else value
        try:
            x._data[index] = va
        except IndexError as e:
            raise _index_error(e, x.shape) from None
        except ValueError:
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(np.shape(va))} cannot "
                               f"be broadcast to indexing result of shape "
                               f"{list(np.shape(x._data[index]))}") from None
        x._vc[0] += 1
        return
    inplace(x, lambda s: index_put(s, index, value))


class _no_grad:
    def __enter__(self):
        self.prev = TLS.s.grad_enabled
        TLS.s.grad_enabled = False

    def __exit__(self, *exc):
        TLS.s.grad_enabled = self.prev


def floor(input):
    return unary("floor", input)


def ceil(input):
    return unary("ceil", input)


def round(input):
    return unary("round", input)


negative = neg
