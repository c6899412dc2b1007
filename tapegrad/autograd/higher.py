"""Backward that records itself: ``create_graph=True``.

The op table's rules are evaluated on tapegrad tensors instead of numpy arrays: elementwise
formulas with the tensor versions of ``where``, ``exp``, ...; structural VJPs with ``TX``, a
namespace of tapegrad functions that mirrors the numpy one (``ops.NP``). Every operation of the
backward is then an ordinary recorded op, so the gradient can be differentiated again, to any
order, with no second set of rules.

A rule's saved values become tensors bound to the slots they came from, so the second derivative
flows through them: ``a`` to the record of input a, ``out`` to the record itself.
"""
from __future__ import annotations

import numpy as np

from .. import forward as F
from ..engine import Backward
from ..grad_mode import enable_grad
from ..ops import _index_grad
from ..registry import provide
from ..tape import FREED, TLS, Record
from ..tensor import Tensor, recorded


def _axis(axis):
    return axis if axis is None or isinstance(axis, (int, tuple)) else tuple(axis)


def _t(x):
    return x if isinstance(x, Tensor) else F.as_tensor_arg(x)


class _Tensors:
    """The namespace rules see under create_graph: numpy's names, tapegrad's ops."""

    @staticmethod
    def sum(x, axis=None, keepdims=False):
        return F.sum(_t(x), dim=_axis(axis), keepdim=keepdims)

    @staticmethod
    def mean(x, axis=None, keepdims=False):
        return F.mean(_t(x), dim=_axis(axis), keepdim=keepdims)

    @staticmethod
    def reshape(x, shape):
        return F.reshape(_t(x), tuple(shape))

    @staticmethod
    def broadcast_to(x, shape):
        return F.expand(_t(x), tuple(shape))

    @staticmethod
    def transpose(x, axes):
        return F.permute(_t(x), *axes)

    @staticmethod
    def swapaxes(x, a, b):
        return F.transpose(_t(x), a, b)

    @staticmethod
    def expand_dims(x, axis):
        return F.unsqueeze(_t(x), axis)

    @staticmethod
    def matmul(a, b):
        return F.matmul(a, b)

    @staticmethod
    def cumsum(x, axis):
        return F.cumsum(_t(x), axis)

    @staticmethod
    def where(cond, x, y):
        return F.where(_t(cond), x, y)

    @staticmethod
    def equal(a, b):
        return F.eq(_t(a), b)

    exp = staticmethod(F.exp)
    log = staticmethod(F.log)
    sign = staticmethod(F.sign)
    abs = staticmethod(F.abs)

    # The rows of the numpy-interop families (shaping, contract, linalg).
    @staticmethod
    def flip(x, dims):
        from ..forward import flip
        return flip(_t(x), dims)

    @staticmethod
    def roll(x, shifts, dims):
        from ..forward import roll
        return roll(_t(x), shifts, dims)

    @staticmethod
    def einsum(spec, *xs):
        from ..forward import einsum
        return einsum(spec, *[_t(x) for x in xs])

    @staticmethod
    def linalg_inv(x):
        from ..forward import inv
        return inv(_t(x))

    @staticmethod
    def linalg_solve(a, b):
        from ..forward import solve
        return solve(_t(a), _t(b))

    @staticmethod
    def unbroadcast(g, shape):
        shape = tuple(shape)
        if tuple(g.shape) == shape:
            return g
        extra = g.ndim - len(shape)
        axes = tuple(range(extra)) + tuple(
            i + extra for i, n in enumerate(shape) if n == 1 and g.shape[i + extra] != 1)
        if axes:
            g = F.sum(g, dim=axes, keepdim=True)
        return F.reshape(g, shape)

    @staticmethod
    def index_grad(g, index, shape):
        """Scatter g into zeros of ``shape`` at ``index``, recorded as the op index_grad."""
        from ..ops import OPS
        data = _index_grad(g._data, index, tuple(shape))
        if g._rg and TLS.s.grad_enabled:
            return F.emit(OPS["index_grad"], "IndexPutBackward0", data, (g,), (g._data,),
                          (index, tuple(shape)))
        return Tensor._make(data)

    @staticmethod
    def index_zero(g, index):
        return F.index_put(g, index, 0.0)

    @staticmethod
    def getitem(x, index):
        return F.getitem(_t(x), index)


TX = _Tensors()
def _where(c, x, y):
    """A condition on constants alone (pow's ``b == 0`` for a Python exponent) picks a branch
    and records nothing, so the gradient's grad_fn is what PyTorch's is."""
    if isinstance(c, (bool, np.bool_)):
        return x if c else y
    return F.where(_t(c), x, y)


FORMULA_TENSOR = {"where": _where, "sign": F.sign, "log": F.log,
                  "exp": F.exp, "sin": F.sin, "cos": F.cos, "sqrt": F.sqrt, "tanh": F.tanh,
                  "erf": F.erf, "trunc": F.trunc, "floor": F.floor}


def _bound(value: np.ndarray, slot: int, tape) -> Tensor:
    """A tensor holding ``value`` whose gradient flows into record ``slot``."""
    tape.records[slot].rc += 1
    return recorded(value, slot, tape)


def saved_tensors(rec: Record, tape) -> tuple:
    saved = rec.saved
    out = []
    for k, value in enumerate(saved):
        if not isinstance(value, np.ndarray):
            out.append(value)
            continue
        slot = rec.out if k == 3 else (rec.ins[k] if k < len(rec.ins) else None)
        out.append(_bound(value, slot, tape) if slot is not None else Tensor._make(value))
    return tuple(out)


def vjp_tensor(rec: Record, g: Tensor, tape) -> tuple:
    """One record's input gradients, computed with recorded tapegrad ops."""
    op = rec.op
    if rec.saved is FREED:
        from ..engine import SECOND_BACKWARD
        raise RuntimeError(SECOND_BACKWARD)
    if op.name in ("view_write", "view_of"):
        raise NotImplementedError("tapegrad: create_graph=True through an in-place write into a "
                                  "view is not supported; clone() before writing")
    a, b, c, out = saved_tensors(rec, tape)
    if op.elementwise:
        fns = op.grad_fns("tensor", FORMULA_TENSOR)
        grads = []
        for i, slot in enumerate(rec.ins):
            if slot is None:
                grads.append(None)
                continue
            gi = fns[i](g, a, b, c, out, *rec.params)
            if not isinstance(gi, Tensor):
                gi = F.as_tensor_arg(gi)
            shape = rec.in_shapes[i]
            if tuple(gi.shape) != tuple(shape):
                if tuple(gi.shape) != tuple(rec.shape):
                    gi = F.expand(gi, rec.shape)
                gi = TX.unbroadcast(gi, shape)
            grads.append(gi)
        return grads
    return op.vjp(TX, g, rec, a, b, out)


def interpret_with_graph(bw: Backward) -> None:
    tape = TLS.s.tape
    with enable_grad():
        bw.interpret(bw.order, lambda rec, g: vjp_tensor(rec, g, tape))


provide("interpret_graph", interpret_with_graph)
