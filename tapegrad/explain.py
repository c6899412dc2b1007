"""Teaching views: the tape behind a tensor as a program, its backward kernels, and a
record-by-record trace of the reverse pass.

    tapegrad.explain(loss)          # .tape, .kernels; prints as text, renders in Jupyter
    tapegrad.trace_backward(loss)   # per record: op, adjoint shape and norm, first non-finite
"""
from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np

from .engine import reachable
from .tape import FREED, LEAF, Record, format_record, type_str
from .tensor import Tensor

_NO_HISTORY = ("this tensor has no history: it was not computed from tensors that require "
               "grad (or was computed under no_grad), so no record on the tape leads to it")


def _records_of(t: Tensor) -> list[Record] | None:
    if not isinstance(t, Tensor):
        raise TypeError(f"expected a tapegrad Tensor, got {type(t).__name__}")
    if t._slot is None:
        return None
    return reachable(t._tape.records, [t._slot])


def _saved_names(rec: Record) -> str:
    """What a record keeps for backward, named by where it came from."""
    if rec.saved is FREED:
        return "freed by an earlier backward"
    names = []
    for k, (label, value) in enumerate(zip(("a", "b", "c", "out"), rec.saved)):
        if not isinstance(value, np.ndarray):
            continue
        if k == 3:
            names.append(f"out = %{rec.out}")
        else:
            slot = rec.ins[k] if k < len(rec.ins) else None
            src = f"%{slot}" if slot is not None else "a constant"
            names.append(f"{label} = {src} {type_str(value.dtype, value.shape)}")
    return ", ".join(names)


def tape_listing(records: list[Record]) -> str:
    lines = []
    for rec in reversed(records):
        line = format_record(rec, comment=False)
        saved = "" if rec.op is LEAF else _saved_names(rec)
        lines.append(line + (f"    # saves {saved}" if saved else ""))
    return "\n".join(lines)


@dataclass
class Kernel:
    """One fused backward kernel: its records (slots) and its generated source."""

    records: list[int]
    source: str


class Explanation:
    def __init__(self, t: Tensor) -> None:
        records = _records_of(t)
        self.message = _NO_HISTORY if records is None else ""
        self.records = records or []
        self.tape = tape_listing(self.records) if records else ""
        self.kernels = _kernels(self.records) if records else []

    def __str__(self) -> str:
        if self.message:
            return self.message
        parts = ["tape (forward order; backward reads it bottom-up):", self.tape]
        if self.kernels:
            for i, k in enumerate(self.kernels, 1):
                slots = ", ".join(f"%{s}" for s in k.records)
                parts += ["", f"backward kernel {i} (fuses {slots}):", k.source.rstrip()]
        else:
            parts += ["", "no fused kernel: no run of two or more elementwise records of one "
                      "shape (the JIT runs every record as a boundary)"]
        return "\n".join(parts)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        if self.message:
            return f"<p>{html.escape(self.message)}</p>"
        out = ["<b>tape</b>", f"<pre>{html.escape(self.tape)}</pre>"]
        for i, k in enumerate(self.kernels, 1):
            out += [f"<b>backward kernel {i}</b>", f"<pre>{html.escape(k.source)}</pre>"]
        return "\n".join(out)


def _kernels(order: list[Record]) -> list[Kernel]:
    from .jit import codegen
    from .jit.plan import ARR, SCALAR, Run, graph_key, make_plan
    by_slot = {r.out: r for r in order}
    plan = make_plan(order, by_slot, graph_key(order, None))
    kernels = []
    consumers_of: dict[int, set] = {}
    for rec in order:
        for s in rec.ins:
            if s is not None:
                consumers_of.setdefault(s, set()).add(rec.out)
    for step in plan.steps:
        if not isinstance(step, Run):
            continue
        run_slots = {order[rr.position].out for rr in step.records}
        incoming = []
        for rr in step.records:
            rec = order[rr.position]
            # The runtime decides how each adjoint arrives; predict it from who sends it.
            consumers = [by_slot[c] for c in consumers_of.get(rec.out, set()) - run_slots]
            if rr.position == 0 or consumers and all(
                    c.op.name in ("sum", "mean") and c.params[0] is None for c in consumers):
                incoming.append(SCALAR)  # the seed, or a full sum's gradient: one value
            else:
                incoming.append(ARR if consumers else None)
        labels = [format_record(order[rr.position], comment=False) for rr in step.records]
        dtype = order[step.records[0].position].dtype.name
        source = codegen.render(step, tuple(incoming), dtype, cache=False, labels=labels)
        kernels.append(Kernel([order[rr.position].out for rr in step.records], source))
    return kernels


def explain(t: Tensor) -> Explanation:
    """The records ``t`` depends on, as a program, and the backward kernels the JIT would
    generate for them (each line under the comment of the record it came from)."""
    return Explanation(t)


@dataclass
class TraceRow:
    slot: int
    op: str
    grad_fn: str
    shape: tuple
    norm: float
    finite: bool
    made_by: str = ""  # for a non-finite adjoint: whose backward first made it so


class Trace:
    """The reverse pass, record by record: the adjoint arriving at each record's output."""

    def __init__(self, rows: list[TraceRow]) -> None:
        self.rows = rows
        self.first_nonfinite = next((r for r in rows if not r.finite), None)

    def __str__(self) -> str:
        lines = [f"{'record':>7}  {'op':<12} {'grad_fn':<22} {'adjoint':<14} {'norm':>12}"]
        for r in self.rows:
            mark = ""
            if r is self.first_nonfinite:
                mark = f"  <- first non-finite adjoint, made by the backward of {r.made_by}"
            shape = "[" + ",".join(map(str, r.shape)) + "]"
            lines.append(f"{'%' + str(r.slot):>7}  {r.op:<12} {r.grad_fn:<22} {shape:<14} "
                         f"{r.norm:>12.4g}{mark}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(str(self))}</pre>"


def trace_backward(loss: Tensor, gradient=None) -> Trace:
    """Step through ``loss``'s reverse pass without changing anything (no gradient is
    accumulated, nothing is freed, no hook runs)."""
    from .autograd import _seeds
    from .engine import Backward, validate, vjp_numpy
    records = _records_of(loss)
    if records is None:
        raise RuntimeError(_NO_HISTORY)
    validate(records, loss._tape.records)
    (seed,) = _seeds((loss,), () if gradient is None else (gradient,), False)
    bw = Backward(records, loss._tape.records, None)
    bw.seed(loss._slot, seed)
    rows = []
    made_by: dict[int, str] = {}
    with np.errstate(all="ignore"):
        for rec in records:
            g = bw.adj.pop(rec.out, None)
            if g is None:
                continue
            g = np.asarray(g)
            norm = float(np.sqrt(np.sum(np.abs(g.astype(np.float64)) ** 2)))
            finite = bool(np.all(np.isfinite(g)))
            rows.append(TraceRow(rec.out, rec.op.name, rec.name, tuple(g.shape), norm, finite,
                                 "" if finite else made_by.get(rec.out, "the seed")))
            if rec.op is not LEAF:
                grads = vjp_numpy(rec, g)
                for s, gi in zip(rec.ins, grads):
                    if s is not None and gi is not None and s not in made_by and \
                            not np.all(np.isfinite(gi)):
                        made_by[s] = f"%{rec.out} {rec.op.name}"
                bw.spread(rec, grads)
    return Trace(rows)
