"""Backward: the tape read in reverse.

``run_backward`` is shared by both engines: it finds the records a root depends on, checks them
all *before* anything changes (so a failed backward leaves tensors, grads and the tape as they
were), hands the records in reverse order to an engine, then accumulates the leaves' gradients
and frees what was consumed. ``interpret`` is the reference engine: one VJP call per record.
"""
from __future__ import annotations

import re
from typing import Callable

import numpy as np

from . import backends
from .ops import FORMULA_NUMPY, NP
from .registry import upper
from .tape import FREED, LEAF, OTHER_THREAD, TLS, Record
from .tensor import Tensor

_PROFILERS: list = []  # tapegrad.profile registers here; its dry runs compare the two engines

SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward.")

_TYPE = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
         "int64": "LongTensor", "int32": "IntTensor", "bool": "BoolTensor", "uint8": "ByteTensor"}


def reachable(records: dict, roots) -> list[Record]:
    """The records the roots depend on, latest first: the order backward visits them."""
    seen = set()
    stack = [s for s in roots if s is not None]
    while stack:
        slot = stack.pop()
        if slot in seen:
            continue
        seen.add(slot)
        rec = records.get(slot)
        if rec is None:
            raise RuntimeError(SECOND_BACKWARD)
        for s in rec.ins:
            if s is not None and s not in seen:
                stack.append(s)
    return [records[s] for s in sorted(seen, reverse=True)]


def validate(order: list[Record], records: dict) -> None:
    for rec in order:
        if rec.saved is FREED:
            raise RuntimeError(SECOND_BACKWARD)
        for k, vc, v in rec.vers:
            if vc[0] != v:
                raise RuntimeError(_modified_message(rec, k, vc[0], v, records))


def _short(name: str) -> str:
    """PyTorch 2.13 names a node in this message without its suffix: AddBackward0 -> Add."""
    return re.sub(r"Backward\d*$", "", name)


def _modified_message(rec: Record, k: int, now: int, then: int, records: dict) -> str:
    """PyTorch's wording: a saved output names the op that saved it; a saved input names the
    op that last wrote to it (the tensor's current grad_fn); a leaf names nothing."""
    arr = rec.saved[k]
    if k == 3:
        where = f", which is output 0 of {_short(rec.name)},"
    else:
        slot = rec.ins[k] if k < len(rec.ins) else None
        rebound = TLS.s.tape.rebound
        while slot in rebound:
            slot = rebound[slot]
        producer = records.get(slot) if slot is not None else None
        where = "" if producer is None or producer.op is LEAF else \
            f", which is output 0 of {_short(producer.name)},"
    return modified_message(arr, now, then, where)


def modified_message(arr: np.ndarray, now: int, then: int, where: str = "") -> str:
    """PyTorch's error for a saved value (``arr``) written in place after it was saved."""
    kind = _TYPE.get(arr.dtype.name, arr.dtype.name)
    what = f"[tapegrad.{kind} [{', '.join(map(str, arr.shape))}]]"
    return ("one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: {what}{where} is at version {now}; expected version {then} "
            "instead. Hint: enable anomaly detection to find the operation that failed to "
            "compute its gradient, with torch.autograd.set_detect_anomaly(True, "
            "check_nan=False).")


def vjp_numpy(rec: Record, g: np.ndarray) -> tuple:
    """One record's input gradients, computed with numpy: the interpreter's step."""
    op = rec.op
    a, b, c, out = rec.saved
    if op.elementwise:
        fns = op.grad_fns("numpy", FORMULA_NUMPY)
        params = rec.params
        grads = []
        for i, slot in enumerate(rec.ins):
            if slot is None:
                grads.append(None)
                continue
            gi = fns[i](g, a, b, c, out, *params)
            shape = rec.in_shapes[i]
            if np.shape(gi) != shape:
                gi = NP.unbroadcast(np.broadcast_to(gi, rec.shape), shape)
            grads.append(gi)
        return grads
    return op.vjp(NP, g, rec, a, b, out)


class Backward:
    """One backward pass over ``order``: adjoints by slot, leaf gradients collected for the end."""

    def __init__(self, order: list[Record], records: dict, capture: dict | None) -> None:
        self.order = order
        self.records = records
        self.adj: dict[int, object] = {}
        self.leaves: list = []           # (leaf record, gradient) in visiting order
        self.capture = capture           # slot -> gradient, for autograd.grad's inputs
        self.anomaly = TLS.s.anomaly
        self.check_nan = TLS.s.check_nan
        self.entry = None                # the JIT's trace-cache entry, when found by hash

    def seed(self, slot: int, g) -> None:
        self.add(slot, g)

    def add(self, slot: int, g) -> None:
        adj = self.adj
        prev = adj.get(slot)
        adj[slot] = g if prev is None else prev + g

    def arrive(self, rec: Record, g):
        """What happens to a record's gradient before its VJP: hooks, retain_grad, capture."""
        if rec.hooks:
            g = _run_hooks(rec.hooks, g)
        if rec.retain is not None:
            t = rec.retain()
            if t is not None:
                _accumulate(t, g)
        if self.capture is not None and rec.out in self.capture:
            self.capture[rec.out] = g
        if rec.op is LEAF:
            self.leaves.append((rec, g))
            return None
        return g

    def spread(self, rec: Record, grads) -> None:
        """Add a record's input gradients to its inputs' adjoints, in each input's dtype."""
        records = self.records
        for index, (slot, gi) in enumerate(zip(rec.ins, grads)):
            if slot is None or gi is None:
                continue
            dt = records[slot].dtype
            tg = type(gi)
            if tg is not np.ndarray and not hasattr(gi, "_data"):
                gi = np.asarray(gi)  # numpy turns 0-d results into scalars
                tg = np.ndarray
            if (gi.dtype if tg is np.ndarray else gi._data.dtype) != dt:
                gi = _cast(gi, dt)
            if self.anomaly and self.check_nan:
                check_nan(rec, gi, index)
            self.add(slot, gi)

    def visit(self, rec: Record, vjp: Callable = vjp_numpy) -> None:
        """One record of the reverse pass: take its adjoint, hand its VJP to its inputs."""
        g = self.adj.pop(rec.out, None)
        if g is not None:
            g = self.arrive(rec, g)
            if g is not None:
                self.spread(rec, vjp(rec, g))

    def interpret(self, records: list[Record], vjp: Callable = vjp_numpy) -> None:
        visit = self.visit
        for rec in records:
            visit(rec, vjp)


def _cast(g, dt):
    if isinstance(g, np.ndarray):
        return g.astype(dt)
    return g.to(dt)


def check_nan(rec: Record, g, index: int) -> None:
    """Anomaly mode's check, as PyTorch's engine makes it after each node: a gradient with a
    NaN (an inf is allowed) raises PyTorch's error, naming the node and which of its outputs
    (the gradient for input ``index``). As in PyTorch, a warning carries the traceback of the
    forward call that recorded the node; the error carries it too, as a note (shown under the
    traceback, not part of ``str(error)``). Only the user's frames are shown."""
    data = g if isinstance(g, np.ndarray) else g._data
    if not np.isnan(data).any():
        return
    error = RuntimeError(f"Function '{rec.name}' returned nan values in its {index}th output.")
    if rec.where:
        stack = user_frames(rec.where)
        import warnings
        warnings.warn(f"Error detected in {rec.name}. Traceback of forward call that caused the "
                      f"error:\n{stack}", UserWarning, stacklevel=_outside_stacklevel())
        error.add_note(f"The forward call that recorded {rec.name} (most recent call last):\n"
                       + stack.rstrip())
    raise error


def _package_dir() -> str:
    import os
    return os.path.dirname(os.path.abspath(__file__)) + os.sep


def _outside_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first caller outside tapegrad."""
    import sys
    package = _package_dir()
    frame, level = sys._getframe(2), 2
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def user_frames(stack: str) -> str:
    """A formatted stack (``traceback.format_stack``) with only the user's frames: not
    tapegrad's, nor the standard library's or installed packages' (a notebook's kernel, a test
    runner); the whole stack if that leaves nothing."""
    import os
    import sysconfig
    hidden = [_package_dir()] + [os.path.abspath(sysconfig.get_paths()[k]) + os.sep
                                 for k in ("stdlib", "purelib", "platlib")]
    kept = []
    for entry in re.split(r'(?m)^(?=  File ")', stack):
        m = re.match(r'  File "([^"]+)"', entry)
        if m is None or m.group(1).startswith("<frozen"):
            continue
        path = os.path.abspath(m.group(1))
        if not any(path.startswith(h) for h in hidden):
            kept.append(entry)
    return "".join(kept) if kept else stack


def _run_hooks(hooks, g):
    for hook in list(hooks):
        wrapped = g if isinstance(g, Tensor) else Tensor._make(g)
        r = hook(wrapped)
        if r is not None:
            if tuple(r.shape) != tuple(np.shape(g if not isinstance(g, Tensor) else g._data)):
                raise RuntimeError(f"hook '{getattr(hook, '__name__', 'hook')}' has changed the "
                                   f"size of value")
            g = r if isinstance(g, Tensor) else r._data
    return g


def _accumulate(t, g) -> None:
    """AccumulateGrad: the first gradient is stored (a private copy), later ones added in place."""
    if isinstance(g, Tensor):  # create_graph: keep the gradient's history
        t._grad = g if t._grad is None else t._grad + g
        return
    if t._grad is None:
        t._grad = Tensor._make(np.array(g, dtype=t._data.dtype, copy=True))
    else:
        grad = t._grad
        if grad._slot is not None or grad._data.shape != g.shape:
            t._grad = Tensor._make(grad._data + g)
        else:
            grad._data += g


def finish(bw: Backward, retain_graph: bool, accumulate: bool) -> None:
    """Leaves receive their gradients only now, after every VJP succeeded."""
    if accumulate:
        for rec, g in bw.leaves:
            t = rec.leaf
            if t is None:
                continue
            if t._hooks:
                g = _run_hooks(t._hooks, g)
            _accumulate(t, g)
    if not retain_graph:
        for rec in bw.order:
            if rec.op.name == "function":
                rec.params[1]._free()
            release = getattr(rec.op, "release", None)  # an op holding more than ``saved``
            if release is not None:
                release(rec)
            saved = rec.saved
            if saved is not FREED:
                for v in saved:
                    if type(v) is np.ndarray:
                        rec.saved = FREED
                        rec.vers = ()
                        break


def unused_message(i: int) -> str:
    return (f"The differentiated Tensor at index {i} appears to not have been used in the graph. "
            "Set allow_unused=True if this is the desired behavior.")


def run_backward(roots: list, grads: list, retain_graph: bool, create_graph: bool,
                 inputs: list | None = None, allow_unused: bool = True) -> list | None:
    """Differentiate ``roots`` (tensors) with seeds ``grads`` (arrays).

    With ``inputs`` (autograd.grad) the gradients at those tensors are returned and no leaf's
    ``.grad`` changes; otherwise they accumulate into the leaves. Unless ``allow_unused``, an
    input the roots do not depend on is an error, raised before anything runs or is freed.
    """
    tape = TLS.s.tape
    records = tape.records
    for r in roots:
        if r._slot is not None and r._tape is not tape:
            raise RuntimeError(OTHER_THREAD)
    root_slots = [r._slot for r in roots]
    order = entry = None
    if (inputs is None and not create_graph and len(root_slots) == 1 and tape.special == 0
            and not TLS.s.anomaly and backends.get_backend() != "interp"):
        found = upper("find_by_hash")(records, root_slots[0])  # O(1): no walk of the graph
        if found is not None:
            order, entry = found
    if order is None:
        order = reachable(records, root_slots)
    validate(order, records)
    capture = slots_of = None
    if inputs is not None:
        # A leaf may own several leaf records (one per epoch): capture every one in this graph.
        wanted = {id(t): [] for t in inputs}
        for t in inputs:
            if t._slot is not None and t._tape is tape:
                wanted[id(t)].append(t._slot)
        for rec in order:
            if rec.op is LEAF and id(rec.leaf) in wanted:
                wanted[id(rec.leaf)].append(rec.out)
        slots_of = [wanted[id(t)] for t in inputs]
        capture = {s: None for slots in slots_of for s in slots}
        if not allow_unused:
            in_graph = {rec.out for rec in order}
            for i, slots in enumerate(slots_of):
                if not any(s in in_graph for s in slots):
                    raise RuntimeError(unused_message(i))
    # Every check has passed: from here on the pass runs.
    tape.epoch += 1
    if _PROFILERS and not create_graph:
        _PROFILERS[-1].observe(order, records, root_slots, grads)
    bw = Backward(order, records, capture)
    bw.entry = entry
    for slot, g in zip(root_slots, grads):
        bw.seed(slot, g)
    with np.errstate(all="ignore"):
        if create_graph:
            upper("interpret_graph")(bw)
        else:
            backends.run(bw, tape)
    finish(bw, retain_graph, accumulate=inputs is None)
    if _PROFILERS and not create_graph:
        _PROFILERS[-1].after_backward()
    if inputs is None:
        return None
    out = []
    for slots in slots_of:
        total = None
        for s in slots:
            g = capture.get(s)
            if g is not None:
                total = g if total is None else total + g
        out.append(total)
    return out
