"""Trace: run a function eagerly once and capture its tape as a program to replay.

The trace runs the function on its real arguments, with each floating-point argument that does
not require grad replaced by a *proxy* (the same data, requiring grad), so every op on it is
recorded; the forward watchers (``registry.FORWARD_WATCHERS``) hand each record over with the
operands it was given. Tensors the function reads that existed before the call (parameters,
buffers, globals) become inputs read live on every replay.

Whatever the trace cannot account for is a *graph break*, and the signature then runs eagerly:
a tensor's value read into Python (``item()``, ``bool()``, printing, ``numpy()``), a random draw
(it must differ call to call), an in-place write, a hook, ``retain_grad``/``requires_grad_``, a
backward pass, a tensor computed outside the tape (an op under ``no_grad``, an integer op,
``detach()``) that a recorded op then reads, a numpy array operand, an output that is a view
of an input, or an op with no replay rule. Tensors made inside the function by creation
functions from Python values (``arange``, ``zeros``, ``tensor([...])``) are constants of the
trace: their Python arguments come from sizes, constants or the guarded arguments and globals.
"""
from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass

import numpy as np

from ..engine import reachable
from ..forward.record import _operands, emit
from ..ops import OPS
from ..random import Generator
from ..nn.modules import Module
from ..registry import FORWARD_WATCHERS, WRITE_WATCHERS
from ..tape import TLS, format_record, type_str
from ..tensor import Tensor
from .rules import RULES

_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_CREATION = _PKG + "creation.py"
# Creation functions whose result is a constant when their data is Python values.
_FROM_DATA = frozenset(("tensor", "as_tensor", "from_numpy"))
_VALUE_READS = ("item", "tolist", "numpy", "__array__", "__bool__", "__float__", "__int__",
                "__index__", "__repr__", "__str__", "__format__")
# Calls whose effect a replay would not repeat.
_EFFECTS = {"register_hook": "a hook registered inside the function",
            "retain_grad": "retain_grad() inside the function",
            "requires_grad_": "requires_grad_() inside the function"}

IN, NODE, CONST, PY = "in", "node", "const", "py"


class GraphBreak(Exception):
    """Raised by ``fullgraph=True`` at the first point a trace cannot capture."""


@dataclass
class Node:
    """One recorded op of the program: ``op(operands..., params)``."""

    op: object            # the op table's row
    name: str             # PyTorch's grad_fn name
    operands: tuple       # per operand: (IN, k) | (NODE, j) | (CONST, array) | (PY, value)
    params: tuple         # the record's params, live index arrays as refs
    shape: tuple
    dtype: np.dtype
    casts: tuple          # per operand: the dtype the op computed it in, or None
    line: str = ""        # the tape line it came from (teaching views)


@dataclass
class Program:
    """A traced function: its nodes in order, its inputs (``("arg", leaf index)`` or
    ``("ext", tensor)``), its result's leaves as ``(ref, is a tensor)`` and their structure."""

    nodes: list
    inputs: list
    outputs: list
    out_tree: object


def flatten(obj, leaves: list):
    """The structure of ``obj`` (tuples, lists, dicts), its leaves appended to ``leaves``."""
    if isinstance(obj, (tuple, list)):  # named tuples too (return_types): see _build_tree
        for x in obj:
            if isinstance(x, (tuple, list, dict)):
                return (type(obj), tuple(flatten(x, leaves) for x in obj))
        leaves.extend(obj)   # (the common case, a call's positional arguments: no recursion)
        return (type(obj), (None,) * len(obj))
    if isinstance(obj, dict):
        return (dict, tuple((k, flatten(v, leaves)) for k, v in obj.items()))
    leaves.append(obj)
    return None


def unflatten(tree, leaves):
    """``flatten``'s inverse: the structure ``tree`` filled with ``leaves`` in order."""
    return _build_tree(tree, iter(leaves))


def _build_tree(tree, it):
    # A module-level function, not a closure: a recursive closure is a reference cycle, which
    # would keep the leaves (and the records their tensors hold) alive until the collector ran.
    if tree is None:
        return next(it)
    kind, items = tree
    if kind is dict:
        return {k: _build_tree(v, it) for k, v in items}
    values = [_build_tree(x, it) for x in items]
    if kind in (tuple, list):
        return kind(values)
    return kind(*values)


class _Capture:
    def __init__(self, fullgraph: bool) -> None:
        self.thread = threading.get_ident()
        self.records: list = []     # (record, operands as given, output tensor)
        self.made: dict = {}        # id -> (tensor, "const" | "derived"), unrecorded tensors
        self.reason: str | None = None
        self.fullgraph = fullgraph
        self.modules: dict = {}     # id -> module, every module called (their state is guarded)
        self.originals: dict = {}   # id(proxy) -> the caller's tensor it stands for

    def stop(self, reason: str) -> None:
        if self.reason is None:
            self.reason = f"{reason} ({_user_line()})"
            if self.fullgraph:
                raise GraphBreak(f"tapegrad.compile(fullgraph=True): graph break: {self.reason}")


_active: list = []  # the capture running on some thread (one trace at a time)
_lock = threading.Lock()


def _mine():
    if _active and _active[0].thread == threading.get_ident():
        return _active[0]
    return None


def _user_line() -> str:
    f = sys._getframe(2)
    while f is not None and f.f_code.co_filename.startswith(_PKG):
        f = f.f_back
    return "unknown location" if f is None else f"{f.f_code.co_filename}:{f.f_lineno}"


def _kind_of_new_tensor() -> str:
    """"const" when the tensor being made comes from a creation function given Python values;
    "derived" otherwise (it came from tensors: an unrecorded op, detach, a conversion)."""
    f = sys._getframe(2)
    for _ in range(3):
        if f is None:
            break
        if f.f_code.co_filename == _CREATION:
            name = f.f_code.co_name
            if name in _FROM_DATA:
                data = f.f_locals.get("data", f.f_locals.get("ndarray"))
                return "derived" if isinstance(data, (np.ndarray, Tensor)) else "const"
            return "const"
        f = f.f_back
    return "derived"


_orig_make = Tensor.__dict__["_make"].__func__


def _traced_make(data, requires_grad=False):
    t = _orig_make(data, requires_grad)
    if not requires_grad and _active:
        cap = _mine()
        if cap is not None:
            cap.made[id(t)] = (t, _kind_of_new_tensor())
    return t


def _breaking(name: str, orig, reason: str):
    """``Tensor.<name>``, made to break the trace running on this thread."""
    def call(self, *args, **kwargs):
        cap = _mine()
        if cap is not None:
            cap.stop(reason)
            # On a proxy, act on the caller's tensor (numpy() of a tensor that does not
            # require grad works; requires_grad_() is the caller's to set).
            self = cap.originals.get(id(self), self)
        return orig(self, *args, **kwargs)
    call.__name__ = name
    call.__doc__ = orig.__doc__
    return call


def _write(t) -> None:
    cap = _mine()
    if cap is not None:
        cap.stop("an in-place write (a replay would not repeat it)")


def _module_call(self, *args, **kwargs):
    cap = _mine()
    if cap is not None:
        cap.modules[id(self)] = self
    return _orig_module_call(self, *args, **kwargs)


_orig_module_call = Module.__call__


_orig_random32 = Generator.random32


def _traced_random32(self, n):
    cap = _mine()
    if cap is not None:
        cap.stop("a random draw (it must differ from call to call)")
    return _orig_random32(self, n)


class Comparison:
    """A node for a comparison (``x > 0``): no record, no gradient; replayed by its ufunc."""

    elementwise = False
    params = ()

    def __init__(self, ufunc) -> None:
        self.ufunc = ufunc
        self.name = ufunc.__name__


def _watch(rec, inputs, out, ufunc=None) -> None:
    cap = _mine()
    if cap is not None:
        cap.records.append((rec if rec is not None else Comparison(ufunc), inputs, out))


class _Installed:
    """The trace's hooks, on for one call of the function (one trace at a time)."""

    def __init__(self, cap: _Capture) -> None:
        self.cap = cap

    def __enter__(self):
        _lock.acquire()
        _active.append(self.cap)
        reasons = {name: f"Tensor.{name}() reads a tensor's value into Python"
                   for name in _VALUE_READS}
        reasons.update(_EFFECTS)
        self.saved = {name: Tensor.__dict__[name] for name in reasons
                      if name in Tensor.__dict__}
        for name, orig in self.saved.items():
            setattr(Tensor, name, _breaking(name, orig, reasons[name]))
        Tensor._make = staticmethod(_traced_make)
        Generator.random32 = _traced_random32
        Module.__call__ = _module_call
        FORWARD_WATCHERS.append(_watch)
        WRITE_WATCHERS.append(_write)
        return self

    def __exit__(self, *exc):
        WRITE_WATCHERS.remove(_write)
        FORWARD_WATCHERS.remove(_watch)
        Module.__call__ = _orig_module_call
        Generator.random32 = _orig_random32
        Tensor._make = staticmethod(_orig_make)
        for name, orig in self.saved.items():
            setattr(Tensor, name, orig)
        _active.clear()
        _lock.release()


def run_traced(fn, args: tuple, kwargs: dict, fullgraph: bool):
    """Call ``fn`` eagerly, capturing its tape. Returns ``(result, program, reason, modules)``:
    the program is None when the trace broke, ``reason`` says why; ``modules`` are the modules
    the call ran (their state is part of the guard)."""
    if _mine() is not None:
        raise RuntimeError("tapegrad.compile: a trace is already running on this thread")
    leaves: list = []
    in_tree = flatten((args, kwargs), leaves)
    proxies = list(leaves)
    hidden = []  # the proxies' own leaves
    st = TLS.s
    for i, x in enumerate(leaves):
        if isinstance(x, Tensor) and not x._rg and x._data.dtype.kind == "f":
            proxies[i], leaf = _proxy(x)
            hidden.append(leaf)
    tape = st.tape
    start = tape.next_slot
    rebound = len(tape.rebound)
    epoch = tape.epoch
    cap = _Capture(fullgraph)
    cap.originals = {id(p): x for p, x in zip(proxies, leaves) if p is not x}
    grad_mode = st.grad_enabled
    versions = [x._vc[0] for x in leaves if isinstance(x, Tensor)]
    p_args, p_kwargs = unflatten(in_tree, proxies)
    with _Installed(cap):
        st.grad_enabled = True
        try:
            result = fn(*p_args, **p_kwargs)
        finally:
            st.grad_enabled = grad_mode
        out_leaves: list = []
        out_tree = flatten(result, out_leaves)
        try:
            program = None
            if cap.reason is None:
                program = _build(cap, leaves, proxies, out_leaves, out_tree, start)
        except _Unsupported as e:
            cap.stop(str(e))
    if [x._vc[0] for x in leaves if isinstance(x, Tensor)] != versions:
        cap.reason = cap.reason or "an in-place write to an argument"
    if len(tape.rebound) != rebound:
        cap.reason = cap.reason or "an in-place write to a tensor"
    if tape.epoch != epoch:
        cap.reason = cap.reason or "a backward pass inside the function"
    result = _eager_result(result, out_leaves, out_tree, cap.originals, grad_mode, hidden)
    modules = list(cap.modules.values())
    if cap.reason is not None:
        return result, None, cap.reason, modules
    return result, program, None, modules


def _proxy(x: Tensor):
    """A tensor that is ``x`` (its data, its version counter) but requires grad, so ops on it
    are recorded; not a leaf (an alias record over a hidden leaf), so in-place writes to it
    are allowed as they are on ``x``."""
    leaf = Tensor._make(x._data, True)
    prev = TLS.s.grad_enabled
    TLS.s.grad_enabled = True
    try:
        proxy = emit(OPS["copy"], "AliasBackward0", x._data, (leaf,), (x._data,))
    finally:
        TLS.s.grad_enabled = prev
    proxy._vc = x._vc
    return proxy, leaf


def _eager_result(result, out_leaves, out_tree, original: dict, grad_mode, hidden):
    """The trace's own result, as eager execution would have given it: a proxy's history is
    cut off (the caller's argument did not require grad), and nothing requires grad when the
    call was made under no_grad."""
    proxy_ids = set(original) | {id(h) for h in hidden}
    if not proxy_ids and grad_mode:
        return result
    fixed = []
    for t in out_leaves:
        if isinstance(t, Tensor) and id(t) in original:
            t = original[id(t)]  # an argument returned: the caller's tensor itself
        elif isinstance(t, Tensor) and t._rg and (
                not grad_mode or not _needs_caller(t, proxy_ids)):
            t = t.detach()
        fixed.append(t)
    return unflatten(out_tree, fixed)


def _needs_caller(t: Tensor, proxy_ids: set) -> bool:
    """Whether ``t``'s history reaches a tensor of the caller's that requires grad (a leaf
    that is not a proxy): then it keeps its graph, and gradients reach the caller's tensors
    (the proxies' are dropped with them)."""
    if t._slot is None:
        return id(t) not in proxy_ids
    for rec in reachable(t._tape.records, [t._slot]):
        if rec.leaf is not None and id(rec.leaf) not in proxy_ids:
            return True
    return False


class _Unsupported(Exception):
    pass


def _build(cap: _Capture, leaves, proxies, out_leaves, out_tree, start: int) -> Program:
    """The captured records as a program over the arguments, outside tensors and constants."""
    source: dict = {}   # id(tensor) -> ref
    inputs: list = []
    keep: list = []     # tensors whose ids are in ``source``: alive until the program is built
    arrays: dict = {}   # id(array) -> ref, for index arrays inside params
    for i, (x, p) in enumerate(zip(leaves, proxies)):
        if isinstance(x, Tensor):
            source[id(p)] = arrays[id(x._data)] = (IN, len(inputs))
            keep.append(p)
            inputs.append(("arg", i))

    def ref_of(x):
        if not isinstance(x, Tensor):
            if isinstance(x, np.ndarray):
                raise _Unsupported("a numpy array operand (its values may change unseen)")
            return (PY, x)
        r = source.get(id(x))
        if r is not None:
            return r
        made = cap.made.get(id(x))
        if made is not None:
            if made[1] != "const":
                raise _Unsupported("a recorded op reads a tensor computed outside the graph "
                                   "(an op under no_grad, on integers, or detach())")
            r = (CONST, x._data.copy())  # the caller may write to the one it was given
        elif x._slot is not None and x._tape is TLS.s.tape and x._slot >= start:
            raise _Unsupported("a recorded op reads a tensor the trace did not see made")
        else:  # made before the call: read live on every call
            r = (IN, len(inputs))
            inputs.append(("ext", x))
        source[id(x)] = r
        keep.append(x)
        return r

    nodes = []
    for rec, operands, out in cap.records:
        if isinstance(rec, Comparison):
            refs = tuple(ref_of(x) for x in operands)
            dt = _operands(*operands, False)[2]  # the eager comparison's dtype
            casts = tuple(dt if isinstance(x, Tensor) and x._data.dtype != dt else None
                          for x in operands)
            source[id(out)] = arrays[id(out._data)] = (NODE, len(nodes))
            keep.append(out)
            nodes.append(Node(rec, rec.name, refs, (), out._data.shape, out._data.dtype, casts,
                              f"{type_str(out._data.dtype, out._data.shape)} = {rec.name} "
                              f"{', '.join(_ref_str(r) for r in refs)}"))
            continue
        if rec.out < start:
            continue
        op = rec.op
        rule = RULES.get(op.name)
        if rule is None and not op.elementwise:
            raise _Unsupported(f"{op.name} ({rec.name}) has no replay rule")
        refs = tuple(ref_of(x) for x in operands)
        for x, r in zip(operands, refs):
            if isinstance(x, Tensor):
                arrays[id(x._data)] = r
        params = rec.params
        if rule is not None and rule.live_params:
            params = tuple(_live(p, arrays, cap.made) if name in rule.live_params else p
                           for name, p in zip(op.params, params))
        casts = tuple(_cast_of(x, rec, op, k) for k, x in enumerate(operands))
        source[id(out)] = (NODE, len(nodes))
        keep.append(out)
        arrays[id(out._data)] = (NODE, len(nodes))
        line = format_record(rec, comment=False).split(" : ", 1)[1]
        nodes.append(Node(op, rec.name, refs, params, rec.shape, rec.dtype, casts, line))
    outputs = []
    for t in out_leaves:
        if not isinstance(t, Tensor):
            outputs.append(((PY, t), False))  # a Python value: the same on every call
            continue
        r = source.get(id(t))
        if r is not None and r[0] == NODE and any(
                np.may_share_memory(t._data, x._data) for x in keep if _is_input(x, source)):
            raise _Unsupported("an output that is a view of an input")
        if r is None:
            made = cap.made.get(id(t))
            if made is None or made[1] != "const":
                raise _Unsupported("the result holds a tensor computed outside the graph")
            r = (CONST, t._data.copy())
        outputs.append((r, True))
    return Program(nodes, inputs, outputs, out_tree)


def _ref_str(r) -> str:
    kind, x = r
    if kind == NODE:
        return f"%{x}"
    if kind == IN:
        return f"in{x}"
    if kind == CONST:
        return f"const {type_str(x.dtype, x.shape)}"
    return repr(x)


def listing(program: Program) -> str:
    """The program as text: one line per node, ``%j : type = op operands`` (operands renamed
    to the program's own numbering: ``in<k>`` inputs, ``%<j>`` nodes)."""
    lines = []
    for k, (kind, x) in enumerate(program.inputs):
        if kind == "arg":
            lines.append(f"in{k} : argument {x}")
        else:
            lines.append(f"in{k} : {type_str(x._data.dtype, x._data.shape)} read from outside")
    for j, node in enumerate(program.nodes):
        lhs, _, rhs = node.line.partition(" = ")
        op = rhs.split(" ", 1)[0]
        args = ", ".join(_ref_str(r) for r in node.operands)
        lines.append(f"%{j} : {lhs} = {op} {args}")
    outs = ", ".join(_ref_str(r) if is_t else repr(r[1]) for r, is_t in program.outputs)
    lines.append(f"return {outs}")
    return "\n".join(lines)


def _is_input(x, source: dict) -> bool:
    r = source.get(id(x))
    return r is not None and r[0] == IN


def _live(value, arrays: dict, made: dict):
    """An index param with each array in it replaced by the ref it came from."""
    if isinstance(value, tuple):
        return tuple(_live(v, arrays, made) for v in value)
    if isinstance(value, list):
        return [_live(v, arrays, made) for v in value]
    if isinstance(value, np.ndarray):
        r = arrays.get(id(value))
        if r is None:
            for t, kind in made.values():
                if t._data is value and kind == "const":
                    return Ref((CONST, value.copy()))
            raise _Unsupported("an index array the trace cannot trace back to a tensor")
        return Ref(r)
    return value


class Ref:
    """An array inside a param, resolved on each replay."""

    __slots__ = ("ref",)

    def __init__(self, ref) -> None:
        self.ref = ref


def _cast_of(x, rec, op, k):
    """The dtype operand ``k`` was computed in: the op's output dtype for an elementwise op's
    array operands (PyTorch's promotion), except a condition."""
    if not isinstance(x, Tensor):
        return None
    if op.elementwise and not (op.name == "where" and k == 0):
        return rec.dtype if x._data.dtype != rec.dtype else None
    return None
