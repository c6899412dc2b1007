"""Teaching views: the tape behind a tensor as a program, its backward kernels, and a
record-by-record trace of the reverse pass.

    tapegrad.explain(loss)          # .tape, .kernels; prints as text, renders in Jupyter
    tapegrad.trace_backward(loss)   # per record: op, adjoint shape and norm, first non-finite
"""
from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np

from .compiler import describe
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
        # A tapegrad.compile call is one record; what it runs is its traced program.
        self.compiled = [(r.out, describe(r.params[0].replay.program)[0])
                         for r in self.records if r.op.name == "compiled"]

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
        for slot, text in self.compiled:
            parts += ["", f"%{slot} is a tapegrad.compile call; its traced program and kernels:",
                      text]
        return "\n".join(parts)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        from .printing import TABLE_STYLE, html_table
        from .tape import RECORD_HEADER, record_cells
        if self.message:
            return html_table(("explain",), [(self.message,)])
        rows = [record_cells(r) for r in reversed(self.records)]
        out = [html_table(RECORD_HEADER, rows,
                          caption="tape (forward order; backward reads it bottom-up)")]
        for i, k in enumerate(self.kernels, 1):
            slots = ", ".join(f"%{s}" for s in k.records)
            out.append(f'<details open=""><summary style="{TABLE_STYLE}">backward kernel {i} '
                       f"(fuses {html.escape(slots)})</summary>"
                       f'<pre style="{TABLE_STYLE}; white-space: pre; overflow-x: auto">'
                       f"{html.escape(k.source)}</pre></details>")
        if not self.kernels:
            out.append(f'<p style="{TABLE_STYLE}">no fused kernel: no run of two or more '
                       "elementwise records of one shape</p>")
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
    """One record of the reverse pass: the adjoint arriving at its output, and what its
    backward returned (per input: ``"ok"``, ``"inf"`` or ``"nan"``; ``"-"`` where that input
    needs no gradient)."""

    slot: int
    op: str
    grad_fn: str
    shape: tuple
    norm: float
    finite: bool
    made_by: str = ""  # for a non-finite adjoint: whose backward first made it so
    returned: tuple = ()

    @property
    def nan_output(self) -> int | None:
        """The first of this record's backward outputs with a NaN (PyTorch's "ith output")."""
        return next((i for i, r in enumerate(self.returned) if r == "nan"), None)

    @property
    def inf_output(self) -> int | None:
        return next((i for i, r in enumerate(self.returned) if r == "inf"), None)


def _status(gi) -> str:
    if gi is None:
        return "-"
    data = np.asarray(gi if not hasattr(gi, "_data") else gi._data)
    if np.isnan(data).any():
        return "nan"
    return "ok" if np.isfinite(data).all() else "inf"


class Trace:
    """The reverse pass, record by record, in the order backward visits them.

    ``anomaly`` is the row where ``detect_anomaly`` (and PyTorch's anomaly mode) stops: the
    first record whose backward returns a NaN, in its ``nan_output``-th output; ``message`` is
    that error's text. It may say more than PyTorch: ``first_inf`` is the first record whose
    backward returned an inf (an inf is no anomaly to PyTorch, but it is often where a NaN
    starts), and ``first_nonfinite`` the first record whose incoming adjoint is not finite."""

    def __init__(self, rows: list[TraceRow]) -> None:
        self.rows = rows
        self.first_nonfinite = next((r for r in rows if not r.finite), None)
        self.anomaly = next((r for r in rows if r.nan_output is not None), None)
        self.first_inf = next((r for r in rows if r.inf_output is not None), None)

    @property
    def message(self) -> str | None:
        """``detect_anomaly``'s error for this pass, or None when it would pass."""
        r = self.anomaly
        if r is None:
            return None
        return f"Function '{r.grad_fn}' returned nan values in its {r.nan_output}th output."

    def _marks(self, r: TraceRow) -> str:
        marks = []
        if r is self.anomaly:
            marks.append(f"detect_anomaly stops here: nan in its {r.nan_output}th output")
        if r is self.first_inf:
            marks.append(f"first inf: in its {r.inf_output}th output")
        if r is self.first_nonfinite:
            marks.append(f"first non-finite adjoint, made by the backward of {r.made_by}")
        return "; ".join(marks)

    def _table(self):
        header = ("record", "op", "grad_fn", "adjoint", "norm", "returns", "")
        rows = [(f"%{r.slot}", r.op, r.grad_fn, "[" + ",".join(map(str, r.shape)) + "]",
                 f"{r.norm:.4g}", " ".join(r.returned) if r.returned else "(leaf)",
                 self._marks(r)) for r in self.rows]
        return header, rows

    def _summary(self) -> str:
        if self.anomaly is None:
            return "no NaN in any backward output: detect_anomaly would let this pass run"
        return f"detect_anomaly (as PyTorch's anomaly mode) raises: {self.message}"

    def __str__(self) -> str:
        from .printing import text_table
        header, rows = self._table()
        return text_table(header, rows, right={4}) + "\n" + self._summary()

    __repr__ = __str__

    def _repr_html_(self) -> str:
        from .printing import html_table
        header, rows = self._table()
        marked = [i for i, r in enumerate(self.rows)
                  if r is self.anomaly or r is self.first_inf or r is self.first_nonfinite]
        return html_table(header, rows, marked, caption="the reverse pass, record by record",
                          notes=[self._summary()])


def trace_backward(loss: Tensor, gradient=None) -> Trace:
    """Step through ``loss``'s reverse pass without changing anything (no gradient is
    accumulated, nothing is freed, no hook runs), checking each record's backward outputs as
    anomaly mode does."""
    from .autograd import _seeds
    from .engine import Backward, validate, vjp_numpy
    records = _records_of(loss)
    if records is None:
        raise RuntimeError(_NO_HISTORY)
    validate(records, loss._tape.records)
    (seed,) = _seeds((loss,), () if gradient is None else (gradient,), False)
    bw = Backward(records, loss._tape.records, None)
    bw.anomaly = False
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
            row = TraceRow(rec.out, rec.op.name, rec.name, tuple(g.shape), norm, finite,
                           "" if finite else made_by.get(rec.out, "the seed"))
            rows.append(row)
            if rec.op is not LEAF:
                grads = vjp_numpy(rec, g)
                row.returned = tuple(_status(gi) if s is not None else "-"
                                     for s, gi in zip(rec.ins, grads))
                for s, st in zip(rec.ins, row.returned):
                    if s is not None and st in ("inf", "nan") and s not in made_by:
                        made_by[s] = f"%{rec.out} {rec.op.name}"
                bw.spread(rec, grads)
    return Trace(rows)
