"""Recording: ``emit`` (the one place a record is made), operands and PyTorch's type
promotion. This is the hot path of every user script: a few attribute reads and one small object
per recorded op."""
from __future__ import annotations

import builtins
import traceback
from collections import namedtuple

import numpy as np

from .. import dtypes
from ..creation import tensor
from ..dtypes import result_type, scalar_result_type
from ..registry import FORWARD_WATCHERS, SAVED_HOOKS, upper
from ..ops import NO_SAVE
from ..structure import local_sig
from ..tape import OTHER_THREAD, TLS, Record
from ..tensor import Tensor, _dim

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
    if SAVED_HOOKS or FORWARD_WATCHERS or TLS.s.anomaly:
        observe(rec, inputs, out, 3)
    return out


def observe(rec: Record, inputs: tuple, out, skip: int) -> None:
    """What recording ``rec`` (made from ``inputs``, giving ``out``) does beyond the tape, called
    only while something asks for it: pack what it saved under saved-tensor hooks, show it to a
    profiler's watchers, keep the forward's traceback under anomaly detection, without the
    innermost ``skip`` frames (this one and the forward's own)."""
    if SAVED_HOOKS:  # torch.autograd.graph.saved_tensors_hooks is active somewhere
        upper("pack_saved")(rec, inputs, out)
    if FORWARD_WATCHERS:  # a profiler records the forward
        for watch in FORWARD_WATCHERS:
            watch(rec, inputs, out)
    if TLS.s.anomaly:
        rec.where = "".join(traceback.format_stack()[:-skip])


def structural_hash(rec: Record, records: dict) -> int:
    """A hash of a record's structure and of everything it depends on, made as it is appended:
    its signature (op, dtype, ndim, operand kinds, which inputs have its shape; no sizes, no
    scalar values), and per input the input's hash and its distance on the tape. Equal hashes
    at a backward's root mean an equal graph, so the JIT finds its plan in O(1); the plan then
    checks every record's hash as it reads it."""
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


def _return_type(name: str, fields=("values", "indices")):
    base = namedtuple(name, list(fields))

    def __repr__(self):
        body = ",\n".join(f"{f}={getattr(self, f)!r}" for f in fields)
        return f"tapegrad.return_types.{name}(\n{body})"
    return type(name, (base,), {"__slots__": (), "__repr__": __repr__})


class return_types:
    """PyTorch's ``torch.return_types``: (values, indices) pairs."""
    max = _return_type("max")
    min = _return_type("min")
    sort = _return_type("sort")
    topk = _return_type("topk")
    kthvalue = _return_type("kthvalue")
    median = _return_type("median")
    nanmedian = _return_type("nanmedian")
    mode = _return_type("mode")
    aminmax = _return_type("aminmax", ("min", "max"))


# ---- helpers shared by the families ---------------------------------------------------
class _no_grad:
    def __enter__(self):
        self.prev = TLS.s.grad_enabled
        TLS.s.grad_enabled = False

    def __exit__(self, *exc):
        TLS.s.grad_enabled = self.prev


_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
               "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _type_name(dt) -> str:
    return _TYPE_NAMES[dt.name]


def _dims(dim, ndim: int):
    """None, or a sorted tuple of non-negative dims."""
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)):
        if len(dim) == 0:
            return None
        return tuple(sorted(_dim(d, ndim) for d in dim))
    return (_dim(dim, ndim),)


def _as_view(out: Tensor, x: Tensor, fn) -> Tensor:
    base = x._base if x._base is not None else x
    prev = x._view_fn
    out._base = base
    out._view_fn = fn if prev is None else (lambda a, prev=prev, fn=fn: fn(prev(a)))
    out._vc = x._vc
    return out
