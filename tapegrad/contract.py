"""Contractions: einsum, tensordot, trace.

einsum is a row of the op table over one or two operands; longer einsums are recorded as a
chain of pairs (contracting left to right, keeping the letters still needed). tensordot is an
einsum; trace of a matrix is its own row, as in PyTorch.
"""
from __future__ import annotations

import numpy as np

from . import dtypes
from . import forward as F
from .ops import OPS
from .tensor import Tensor

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _normalise(equation: str, ndims: list) -> tuple:
    """(subscripts per operand, output subscripts): explicit letters, no ellipsis."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    subs = lhs.split(",")
    if len(subs) != len(ndims):
        raise RuntimeError(f"einsum(): {len(subs)} operands were specified in the equation but "
                           f"{len(ndims)} were given")
    used = set(eq)
    spare = [c for c in _LETTERS if c not in used]
    n_ell = max([nd - (len(s) - 3) for s, nd in zip(subs, ndims) if "..." in s] or [0])
    ell = "".join(spare[:n_ell])
    out_subs = []
    for s, nd in zip(subs, ndims):
        if "..." in s:
            k = nd - (len(s) - 3)
            s = s.replace("...", ell[n_ell - k:] if k else "")
        if len(s) != nd:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(s)}) "
                               f"does not match the number of dimensions ({nd}) for operand")
        out_subs.append(s)
    if arrow:
        out = rhs.replace("...", ell)
    else:
        letters = "".join(out_subs)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1
                                   and c not in ell))
    return out_subs, out


def _record(spec: str, xs: list) -> Tensor:
    arrays = [x._data for x in xs]
    data = np.asarray(np.einsum(spec, *arrays))
    if F._wants_grad(*xs):
        return F.emit(OPS["einsum"], "EinsumBackward0", data, tuple(xs), tuple(arrays), (spec,))
    return Tensor._make(data)


def einsum(equation: str, *operands) -> Tensor:
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    xs = [F.as_tensor_arg(x) for x in operands]
    dt = xs[0].dtype
    for x in xs[1:]:
        dt = dtypes.promote(dt, x.dtype)
    xs = [x if x.dtype == dt else F.to_dtype(x, dt) for x in xs]
    subs, out = _normalise(equation, [x.ndim for x in xs])
    if len(xs) <= 2:
        return _record(",".join(subs) + "->" + out, xs)
    cur, cur_s = xs[0], subs[0]
    for k in range(1, len(xs)):
        if k == len(xs) - 1:
            keep = out
        else:
            later = set("".join(subs[k + 1:]) + out)
            keep = "".join(c for c in dict.fromkeys(cur_s + subs[k]) if c in later)
        cur = _record(f"{cur_s},{subs[k]}->{keep}", [cur, xs[k]])
        cur_s = keep
    return cur


def tensordot(a, b, dims=2) -> Tensor:
    """numpy's tensordot: ``dims`` an int (the last n of a with the first n of b) or two
    lists of dimensions."""
    x, y = F.as_tensor_arg(a), F.as_tensor_arg(b)
    if isinstance(dims, (int, np.integer)):
        n = int(dims)
        da, db = list(range(x.ndim - n, x.ndim)), list(range(n))
    else:
        da, db = dims
        da = [da] if isinstance(da, (int, np.integer)) else list(da)
        db = [db] if isinstance(db, (int, np.integer)) else list(db)
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    da = [d % x.ndim for d in da]
    db = [d % y.ndim for d in db]
    sa = list(_LETTERS[:x.ndim])
    sb = list(_LETTERS[x.ndim:x.ndim + y.ndim])
    for i, j in zip(da, db):
        if x.shape[i] != y.shape[j]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{x.shape[i]} in dim {i} and second has size {y.shape[j]} in "
                               f"dim {j}")
        sb[j] = sa[i]
    out = "".join(c for k, c in enumerate(sa) if k not in da) + \
        "".join(c for k, c in enumerate(sb) if k not in db)
    return einsum(f"{''.join(sa)},{''.join(sb)}->{out}", x, y)


def trace(input) -> Tensor:
    x = F.as_tensor_arg(input)
    if x.ndim != 2:
        raise RuntimeError("trace: expected a matrix, but got tensor with dim " f"{x.ndim}")
    data = np.asarray(np.trace(x._data))
    if F._wants_grad(x):
        return F.emit(OPS["trace"], "TraceBackward0", data, (x,), (x._data,))
    return Tensor._make(data)
