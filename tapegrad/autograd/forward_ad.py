"""``torch.autograd.forward_ad``: forward-mode AD (dual tensors), derived from the op table.

    with forward_ad.dual_level():
        x = forward_ad.make_dual(primal, tangent)
        y = f(x)
        value, jvp = forward_ad.unpack_dual(y)

A dual tensor is recorded on the tape like a tensor that requires grad (``make_dual`` marks it
so), and while a level is open a watcher (``registry.FORWARD_WATCHERS``) sees each record as it
is appended and computes the output's tangent from the inputs' tangents. No second table:

* an elementwise row's derivative formulas are linear in ``g``: the tangent is the sum over
  inputs of the formula with ``g`` set to that input's tangent;
* a structural row's VJP ``g -> J^T g`` is linear in ``g``: its transpose ``t -> J t`` is the
  gradient of ``<vjp(u), t>`` with respect to ``u`` (the double-VJP trick, run on the rule's
  own tensor form), so every structural row with a tensor-form VJP pushes tangents with no
  per-op code. In-place writes through views (whose VJPs work on numpy views) take their map
  from the view function; a custom ``autograd.Function`` raises an error naming it.

When a primal or a tangent requires grad (reverse mode over forward mode), tangents are computed
with recorded ops and can be differentiated; otherwise with numpy. With no level open nothing is
watched, so the eager forward pays nothing.

Differences from PyTorch: a dual tensor made from a primal that does not require grad reports
``requires_grad=True`` (it is recorded so that its ops can be watched) and prints without its
tangent. Ops run under ``no_grad`` record nothing, so they carry no tangent (PyTorch's do):
``make_dual`` refuses to run under ``no_grad``; keep ``no_grad`` blocks out of a dual level.
"""
from __future__ import annotations

import weakref
from collections import namedtuple

import numpy as np

from ..grad_mode import enable_grad
from ..ops import FORMULA_NUMPY, NP
from ..registry import FORWARD_WATCHERS
from ..tape import TLS
from ..tensor import Tensor, recorded

__all__ = ["dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual",
           "UnpackedDualTensor"]


class UnpackedDualTensor(namedtuple("UnpackedDualTensor", ["primal", "tangent"])):
    """What ``unpack_dual`` returns: the primal (a tensor without tangent) and the tangent
    (``None`` for a tensor that is not dual at this level)."""

    __slots__ = ()


# Structural rows whose VJP is user code, so it cannot be transposed.
_NO_TANGENT = {"function": "a custom autograd.Function"}


class _Level:
    __slots__ = ("index", "per_tape", "leaves", "alive")

    def __init__(self, index: int) -> None:
        self.index = index
        # Per thread's tape (slots are per tape): [tape, slot -> tangent of the tensor at that
        # slot, slots recorded only for forward mode, busy: computing a tangent, whose own ops
        # are not watched, size at which entries of freed records are next dropped].
        self.per_tape: dict[int, list] = {}
        self.leaves: list = []                  # weakrefs to the leaves make_dual marked
        self.alive = [True]                     # [False] once the level is closed

    def state(self, tape=None) -> list:
        tape = TLS.s.tape if tape is None else tape
        st = self.per_tape.get(id(tape))
        if st is None:
            st = self.per_tape[id(tape)] = [tape, {}, set(), False, 1024]
        return st

    @property
    def tangents(self) -> dict:
        return self.state()[1]

    @property
    def fw_only(self) -> set:
        return self.state()[2]


_LEVEL: _Level | None = None


def enter_dual_level() -> int:
    """Open a forward-AD level and return its index (0: levels do not nest, as in PyTorch)."""
    global _LEVEL
    if _LEVEL is not None:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _LEVEL = _Level(0)
    FORWARD_WATCHERS.append(_watch)
    return 0


def exit_dual_level(*, level: int | None = None) -> None:
    """Close the level: every dual tensor of it loses its tangent."""
    global _LEVEL
    lvl = _LEVEL
    if lvl is None and level is None:
        raise RuntimeError("Dual level must be a positive number.")
    if lvl is None or level is not None and level != lvl.index:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that was "
                           "created. This is not supported.")
    _LEVEL = None
    lvl.alive[0] = False
    if _watch in FORWARD_WATCHERS:
        FORWARD_WATCHERS.remove(_watch)
    for ref in lvl.leaves:
        t = ref()
        if t is not None:
            if t._slot is None:
                t._rg = False
    lvl.per_tape.clear()


class dual_level:
    """Context manager for a forward-AD level: ``with dual_level(): ...``; tangents exist
    only inside it."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc) -> None:
        exit_dual_level()


def _level(level, make: bool = False) -> _Level | None:
    """The open level, if ``level`` names it (or is None). A level that is not open: an error
    for make_dual (PyTorch's), nothing for unpack_dual (no tangent there)."""
    lvl = _LEVEL
    if lvl is not None and level is not None and level != lvl.index:
        if make:
            raise RuntimeError("Invalid level given to _make_dual")
        return None
    return lvl


def _tangent_of(t: Tensor, lvl: _Level):
    if t._slot is not None:
        return lvl.state(t._tape)[1].get(t._slot)
    return None


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A tensor equal to ``tensor`` whose forward gradient is ``tangent`` (same size), at the
    current level. Gradients of reverse mode flow through it into ``tensor``."""
    lvl = _level(level, make=True)
    if lvl is None:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, "
                           "make sure to enter_dual_level() first.")
    if not tensor.dtype.is_floating_point:
        raise ValueError(f"Expected primal to be floating point or complex, but got: "
                         f"{tensor.dtype}")
    if not tangent.dtype.is_floating_point:
        raise ValueError(f"Expected tangent to be floating point or complex, but got: "
                         f"{tangent.dtype}")
    if tuple(tensor.shape) != tuple(tangent.shape):
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the "
            f"original Tensor, this is not supported. Tensor is of size {list(tensor.shape)} "
            f"while the given forward gradient is of size {list(tangent.shape)}.")
    if not TLS.s.grad_enabled:
        raise RuntimeError("tapegrad: make_dual under no_grad: ops under no_grad record "
                           "nothing, so tapegrad cannot carry their tangents (PyTorch can); "
                           "make and use dual tensors with grad mode on")
    if _tangent_of(tensor, lvl) is not None:
        raise RuntimeError("Making a dual Tensor based on a Tensor that already has a forward "
                           f"gradient at the same level {lvl.index} is not supported.")
    if tensor._rg and not _is_fw_only(tensor, lvl):
        # A differentiable view of the primal, as PyTorch's (ViewBackward0).
        from ..forward import reshape
        st = lvl.state()
        st[3] = True
        try:
            dual = reshape(tensor, tuple(tensor.shape))
        finally:
            st[3] = False
        if dual is tensor or dual._slot is None:
            raise RuntimeError("tapegrad internal error: make_dual needs a recorded view")
        lvl.tangents[dual._slot] = tangent
        return dual
    # Recorded only for forward mode: a hidden leaf, and a copy of it, so that in-place ops on
    # the dual tensor are allowed (they are on a leaf that requires grad).
    leaf = Tensor._make(tensor._data, True)
    leaf._fw_only = True
    leaf._transient = lvl.alive  # torch.func: a leaf of an open level is still differentiated
    lvl.leaves.append(weakref.ref(leaf))
    from ..forward import clone
    st = lvl.state()
    st[3] = True
    try:
        dual = clone(leaf)
    finally:
        st[3] = False
    lvl.fw_only.add(dual._slot)
    lvl.tangents[dual._slot] = tangent
    return dual


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)``: the primal as a tensor without tangent, and the tangent at the
    current level (``None`` when ``tensor`` has none, or no level is open)."""
    lvl = _level(level)
    tangent = _tangent_of(tensor, lvl) if lvl is not None and isinstance(tensor, Tensor) else None
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    if _is_fw_only(tensor, lvl):
        primal = Tensor._make(tensor._data)
    else:
        from ..forward import reshape
        st = lvl.state()
        st[3] = True
        try:
            primal = reshape(tensor, tuple(tensor.shape)) if TLS.s.grad_enabled \
                else Tensor._make(tensor._data)
        finally:
            st[3] = False
    return UnpackedDualTensor(primal, tangent)


def _is_fw_only(t: Tensor, lvl: _Level) -> bool:
    if t._slot is not None:
        return t._slot in lvl.state(t._tape)[2]
    return bool(t.__dict__.get("_fw_only"))


# ---- the watcher: one tangent per recorded op ------------------------------------------
def _watch(rec, inputs=None, out=None, *rest) -> None:
    lvl = _LEVEL
    if lvl is None or rec is None:  # rec None: an op that records nothing (a comparison)
        return
    st = lvl.state()
    if st[3]:
        return
    tape, tangents, fw_only = st[0], st[1], st[2]
    records = tape.records
    tans = []
    fw_flags = []
    found = False
    for s in rec.ins:
        if s is None:
            tans.append(None)
            fw_flags.append(True)
            continue
        r = records.get(s)
        leaf = r.leaf if r is not None else None
        if leaf is not None:
            t = None  # make_dual's tangents live on recorded tensors, never on leaves
            fw_flags.append(bool(leaf.__dict__.get("_fw_only")))
        else:
            t = tangents.get(s)
            fw_flags.append(s in fw_only)
        tans.append(t)
        found = found or t is not None
    only_fw = all(fw_flags)
    if only_fw:
        fw_only.add(rec.out)
    if not found:
        return
    differentiable = not only_fw or any(t is not None and t._rg for t in tans)
    st[3] = True
    try:
        if differentiable:
            with enable_grad():
                out = _tangent(rec, tans, tape, lvl, differentiable)
        else:
            out = _tangent(rec, tans, tape, lvl, differentiable)
    finally:
        st[3] = False
    if out is not None:
        tangents[rec.out] = out
        if len(tangents) > st[4]:
            _prune(st)


def _prune(st: list) -> None:
    """Drop the entries of records the tape has freed: no tensor can be bound to them any
    more, so a long loop inside one level holds only its live tangents."""
    tape, tangents, fw_only = st[0], st[1], st[2]
    live = tape.records
    for k in [k for k in tangents if k not in live]:
        del tangents[k]
    fw_only.intersection_update(live.keys())
    st[4] = 2 * len(tangents) + 1024


def _saved(rec, tape, lvl, bind: bool) -> tuple:
    """A record's saved values as tensors: bound to the records they came from (so reverse
    mode flows through a tangent into them) when ``bind`` and they are real, plain otherwise."""
    out = []
    for k, value in enumerate(rec.saved):
        if not isinstance(value, np.ndarray):
            out.append(value)
            continue
        slot = rec.out if k == 3 else (rec.ins[k] if k < len(rec.ins) else None)
        if bind and slot is not None and slot not in lvl.fw_only \
                and slot in tape.records and not _leaf_fw_only(tape.records[slot]):
            tape.records[slot].rc += 1
            out.append(recorded(value, slot, tape))
        else:
            out.append(Tensor._make(value))
    return tuple(out)


def _leaf_fw_only(rec) -> bool:
    return rec.leaf is not None and bool(rec.leaf.__dict__.get("_fw_only"))


def _tangent(rec, tans, tape, lvl, differentiable: bool):
    op = rec.op
    if rec.saved == "freed":
        raise RuntimeError("forward-mode AD: a record's saved values were freed")
    if op.elementwise:
        return _elementwise(rec, tans, tape, lvl, differentiable)
    fast = _LINEAR.get(op.name)
    if fast is not None:
        return _direct(fast, rec, tans, tape, lvl, differentiable)
    if op.name in ("view_write", "view_of"):
        return _through_view(rec, tans, differentiable)
    if op.name == "function":  # PyTorch's message, naming the class
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with "
            f"forward mode AD (tapegrad: '{rec.params[0].__name__}' has no tangent rule, and "
            "tapegrad's Functions have no jvp yet).")
    if op.name in _NO_TANGENT:
        raise NotImplementedError(
            f"forward-mode AD: tapegrad has no tangent rule for the op '{op.name}' "
            f"({rec.name}, {_NO_TANGENT[op.name]})")
    return _structural(rec, tans, tape, lvl, differentiable)


def _elementwise(rec, tans, tape, lvl, differentiable: bool):
    """The sum over inputs of the row's formula with ``g`` set to that input's tangent."""
    op = rec.op
    if differentiable:
        from .. import forward as F
        from .higher import FORMULA_TENSOR
        fns = op.grad_fns("tensor", FORMULA_TENSOR)
        a, b, c, out = _saved(rec, tape, lvl, True)
        total = None
        for i, t in enumerate(tans):
            if t is None or fns[i] is None:
                continue
            term = fns[i](t, a, b, c, out, *rec.params)
            if not isinstance(term, Tensor):
                term = F.as_tensor_arg(term)
            total = term if total is None else total + term
        if total is None:
            return None
        if tuple(total.shape) != tuple(rec.shape):
            total = F.expand(total, tuple(rec.shape))
        if total.dtype.np != rec.dtype:
            from ..dtypes import to_dtype
            total = total.to(to_dtype(rec.dtype))
        return total
    fns = op.grad_fns("numpy", FORMULA_NUMPY)
    a, b, c, out = rec.saved
    total = None
    with np.errstate(all="ignore"):
        for i, t in enumerate(tans):
            if t is None or fns[i] is None:
                continue
            term = fns[i](t._data, a, b, c, out, *rec.params)
            total = term if total is None else total + term
    if total is None:
        return None
    total = np.asarray(total)
    if total.shape != rec.shape:
        total = np.broadcast_to(total, rec.shape)
    return Tensor._make(np.array(total, dtype=rec.dtype, copy=True))


def _structural(rec, tans, tape, lvl, differentiable: bool):
    """``J t`` as the gradient of ``<vjp(u), t>`` with respect to ``u``: the row's VJP is
    linear in ``u``, so this is exact."""
    from . import grad
    from .. import forward as F
    from .higher import TX
    op = rec.op
    a, b, c, out = _saved(rec, tape, lvl, differentiable)
    with enable_grad():
        u = Tensor._make(np.zeros(rec.shape, rec.dtype), True)
        gs = op.vjp(TX, u, rec, a, b, out)
        total = None
        for gi, t in zip(gs, tans):
            if t is None or gi is None:
                continue
            if not isinstance(gi, Tensor) or not gi._rg:
                raise NotImplementedError(
                    f"forward-mode AD: tapegrad has no tangent rule for the op '{op.name}' "
                    f"({rec.name}): its VJP does not record on tensors")
            t = t if t.dtype == gi.dtype else t.to(gi.dtype)
            term = F.sum(F.mul(gi, t))
            total = term if total is None else total + term
        if total is None:
            return None
        (jt,) = grad(total, [u], retain_graph=True, create_graph=differentiable,
                     allow_unused=True)
    if jt is None:
        raise NotImplementedError(
            f"forward-mode AD: tapegrad has no tangent rule for the op '{op.name}' "
            f"({rec.name}): its VJP does not depend on the cotangent through recorded ops")
    return jt if differentiable else Tensor._make(jt._data)


# ---- the common structural rows directly: the op's own linear map on the tangent ---------
# (the double VJP gives the same, at the price of a backward pass per record). Written against
# xp like the VJPs: numpy arrays, or tensors when the tangent must be differentiable.
def _sum_jvp(xp, t, rec, a, b, out):
    return xp.sum(t[0], axis=rec.params[0], keepdims=rec.params[1])


def _mean_jvp(xp, t, rec, a, b, out):
    return xp.mean(t[0], axis=rec.params[0], keepdims=rec.params[1])


def _matmul_jvp(xp, t, rec, a, b, out):
    ta, tb = t
    left = xp.matmul(ta, b) if ta is not None else None
    right = xp.matmul(a, tb) if tb is not None else None
    return left if right is None else right if left is None else left + right


def _softmax_jvp(xp, t, rec, a, b, out):
    return out * (t[0] - xp.sum(t[0] * out, axis=rec.params[0], keepdims=True))


def _log_softmax_jvp(xp, t, rec, a, b, out):
    return t[0] - xp.sum(xp.exp(out) * t[0], axis=rec.params[0], keepdims=True)


def _prod_jvp(xp, t, rec, a, b, out):
    # Each output element reads its own inputs, so J t sums vjp(ones) * t over the reduced
    # dims; the numpy VJP takes the products of the others exactly where the input has zeros
    # (out / a, the tensor form's, would give nan there).
    ones = np.ones(rec.shape, rec.dtype)
    (per,) = rec.op.vjp(xp, ones if xp is NP else Tensor._make(ones), rec, a, b, out)
    return xp.sum(per * t[0], axis=rec.params[0], keepdims=rec.params[1])


def _cumprod_jvp(xp, t, rec, a, b, out):
    dim = rec.params[0]
    if xp is not NP or np.all(a != 0):
        return out * xp.cumsum(t[0] / a, dim)
    # With zeros: term i is the running product with a_i replaced by t_i, from position i on.
    am, tm = np.moveaxis(a, dim, -1), np.moveaxis(t[0], dim, -1)
    res = np.zeros(am.shape, am.dtype)
    for i in range(am.shape[-1]):
        others = am.copy()
        others[..., i] = tm[..., i]
        run = np.cumprod(others, -1)
        run[..., :i] = 0
        res += run
    return np.moveaxis(res, -1, dim)


_LINEAR = {
    "sum": _sum_jvp, "mean": _mean_jvp, "matmul": _matmul_jvp, "prod": _prod_jvp,
    "cumprod": _cumprod_jvp,
    "softmax": _softmax_jvp, "log_softmax": _log_softmax_jvp,
    "reshape": lambda xp, t, rec, a, b, out: xp.reshape(t[0], rec.shape),
    "permute": lambda xp, t, rec, a, b, out: xp.transpose(t[0], rec.params[0]),
    "expand": lambda xp, t, rec, a, b, out: xp.broadcast_to(t[0], rec.shape),
    "getitem": lambda xp, t, rec, a, b, out: xp.getitem(t[0], rec.params[0]),
}


def _direct(rule, rec, tans, tape, lvl, differentiable: bool):
    if differentiable:
        from .higher import TX
        a, b, c, out = _saved(rec, tape, lvl, True)
        res = rule(TX, tans, rec, a, b, out)
        if res.dtype.np != rec.dtype:
            from ..dtypes import to_dtype
            res = res.to(to_dtype(rec.dtype))
        return res
    a, b, c, out = rec.saved
    res = rule(NP, [None if t is None else t._data for t in tans], rec, a, b, out)
    return Tensor._make(np.array(res, dtype=rec.dtype, copy=True))


# ---- in-place writes through views: their VJPs work on numpy views, so the map is taken from
# the view function itself, as the positions of the base the view covers.
def _through_view(rec, tans, differentiable: bool):
    """``view_write`` (the base with the view's part replaced by the value) and ``view_of``
    (the view of the base): the same maps on the tangents, by position."""
    from .. import forward as F
    writes = rec.op.name == "view_write"
    base_shape = rec.shape if writes else rec.in_shapes[0]
    idx = np.arange(int(np.prod(base_shape, dtype=np.int64)), dtype=np.int64)
    pos = np.asarray(rec.params[0](idx.reshape(base_shape)))
    tb = tans[0]
    if not writes:
        if differentiable:
            return F.getitem(F.reshape(tb, -1), pos)
        return Tensor._make(np.array(tb._data.reshape(-1)[pos], dtype=rec.dtype))
    tv = tans[1]
    flat_pos = (pos.reshape(-1),)
    if differentiable:
        base = tb if tb is not None else Tensor._make(np.zeros(base_shape, rec.dtype))
        value = 0.0 if tv is None else F.reshape(F.expand(tv, pos.shape), -1)
        return F.reshape(F.index_put(F.reshape(base, -1), flat_pos, value), base_shape)
    res = np.zeros(base_shape, rec.dtype) if tb is None else np.array(tb._data, dtype=rec.dtype)
    flat = res.reshape(-1)
    flat[flat_pos] = 0 if tv is None else np.broadcast_to(tv._data, pos.shape).reshape(-1)
    return Tensor._make(res)
