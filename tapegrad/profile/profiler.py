"""Interpreted against JIT backward, per graph structure, on the user's own code.

The profiler watches every backward. For the first ``repeat`` backward passes of each graph
structure it times *dry* runs over the very same records: the interpreter, and the JIT
(compiling on first sight, which is timed apart, split into compiling and loading from the
disk cache). A dry run has no side effects: no hook runs, no gradient is accumulated, nothing
is freed. Then the real backward runs as it would have.

Each sample set is reported as a median with its spread (the interquartile range from four
samples on, min-max below that); a verdict (which engine is faster) is given only where the two
spreads do not overlap. What ``auto`` would do is computed with ``auto``'s own cost model
(``tapegrad.jit.cost``), so the recommendation is the decision ``auto`` makes.
"""
from __future__ import annotations

import ast
import json
import linecache
import math
import os
import re
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field

from ..engine import _PROFILERS as _ACTIVE  # the engine reports to the innermost profiler
from ..engine import Backward
from ..registry import FORWARD_WATCHERS
from ..tape import LEAF, type_str

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
MAX_EVENTS = 200_000  # the Chrome trace keeps at most this many events


class _DryRun(Backward):
    """A backward that computes every adjoint and changes nothing."""

    def __init__(self, order, records) -> None:
        super().__init__(order, records, None)
        self.anomaly = False

    def arrive(self, rec, g):
        return None if rec.op is LEAF else g


# ---- statistics ------------------------------------------------------------------------
def spread(samples: list) -> tuple | None:
    """(low, high): the interquartile range from four samples on, else min and max."""
    if not samples:
        return None
    if len(samples) >= 4:
        q = statistics.quantiles(samples, n=4, method="inclusive")
        return q[0], q[2]
    return min(samples), max(samples)


def _median(samples: list) -> float | None:
    return statistics.median(samples) if samples else None


# ---- where a graph comes from ----------------------------------------------------------
def _user_frame():
    """The innermost frame outside tapegrad (the line that called backward)."""
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame = frame.f_back
    return frame


_CALL_NAMES = {"Add": "add", "Sub": "sub", "Mult": "mul", "Div": "div", "Pow": "pow",
               "MatMult": "matmul"}


def _top_op(source: str) -> str | None:
    """The outermost operation of an assignment's right-hand side: ``a + b`` -> add,
    ``f(x).mean()`` -> mean, ``F.mse_loss(...)`` -> mse_loss."""
    try:
        node = ast.parse(source.strip()).body[0]
    except (SyntaxError, IndexError):
        return None
    value = getattr(node, "value", None)
    if isinstance(value, ast.BinOp):
        return _CALL_NAMES.get(type(value.op).__name__)
    if isinstance(value, ast.Call):
        f = value.func
        return f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
    return None


def _matches(call: str | None, rec) -> bool:
    if call is None:
        return False
    flat = call.replace("_", "").lower()
    return call == rec.op.name or rec.name.lower().startswith(flat)


def source_of_root(root_slot: int, root_rec) -> str:
    """``file.py:23  loss = ...``: the user's line that produced the root of a backward.

    Found from the line that called backward: a name on it bound to the root tensor is looked
    up in the lines above it (in the same function) for its assignment; among several, the
    nearest whose outermost operation is the root's own op (``loss = loss + l1`` for an add,
    ``loss = crit(out, y).mean()`` for a mean), else the nearest. Otherwise the backward line
    itself (``(x * w).sum().backward()`` produces its root there)."""
    frame = _user_frame()
    if frame is None:
        return "?"
    filename, lineno = frame.f_code.co_filename, frame.f_lineno
    here = linecache.getline(filename, lineno).strip()
    short = os.path.basename(filename)
    found = lineno, here
    for name in dict.fromkeys(re.findall(r"[A-Za-z_]\w*", here)):
        value = frame.f_locals.get(name)
        if getattr(value, "_slot", None) != root_slot:
            continue
        pattern = re.compile(rf"^\s*{re.escape(name)}\s*(:[^=]*)?=[^=]")
        first = max(frame.f_code.co_firstlineno, lineno - 200)
        candidates = [(n, linecache.getline(filename, n).strip())
                      for n in range(lineno - 1, first - 1, -1)
                      if pattern.match(linecache.getline(filename, n))]
        if candidates:
            found = next((c for c in candidates if _matches(_top_op(c[1]), root_rec)),
                         candidates[0])
        break
    text = found[1] if len(found[1]) <= 60 else found[1][:57] + "..."
    cell = _notebook_cell(filename)
    if cell is not None:
        return f"In [{cell}], line {found[0]}  {text}"
    return f"{short}:{found[0]}  {text}"


def _notebook_cell(filename: str) -> int | None:
    """The execution count of the notebook cell compiled under ``filename`` (IPython names a
    cell's code ``/tmp/ipykernel_<pid>/<hash>.py``), as Jupyter's own tracebacks show it; None
    outside IPython."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    try:
        shell = ipython.get_ipython()
        return shell.compile._filename_map.get(filename) if shell is not None else None
    except AttributeError:  # an IPython without the map: keep the file name
        return None


def ops_summary(order) -> str:
    """The graph's ops with their counts, in forward order: ``linear 2, tanh, sub, pow, mean``."""
    counts: dict[str, int] = {}
    for rec in reversed(order):
        if rec.op is not LEAF:
            counts[rec.op.name] = counts.get(rec.op.name, 0) + 1
    parts = [n if c == 1 else f"{n} {c}" for n, c in counts.items()]
    return ", ".join(parts[:8]) + (", ..." if len(parts) > 8 else "")


# ---- one graph structure ---------------------------------------------------------------
@dataclass
class GraphReport:
    """What the profiler measured for one graph structure."""

    label: str
    entries: int
    kernels: int = 0
    calls: int = 0
    interp_s: list = field(default_factory=list)
    jit_s: list = field(default_factory=list)
    compile_s: float = 0.0
    load_s: float = 0.0
    source: str = ""
    root: str = ""
    ops: str = ""
    fused_s: float | None = None       # least interpreted time of the records kernels take over
    predicted_kernel_s: float = 0.0    # auto's cost model: the kernels' time per pass
    predicted_compile_s: float = 0.0   # auto's cost model: the compile, before it happened
    fusible: bool = False              # has the plan any kernel at all

    @property
    def interp_backward_s(self) -> float | None:
        return _median(self.interp_s)

    @property
    def jit_backward_s(self) -> float | None:
        return _median(self.jit_s)

    @property
    def interp_spread(self) -> tuple | None:
        return spread(self.interp_s)

    @property
    def jit_spread(self) -> tuple | None:
        return spread(self.jit_s)

    @property
    def speedup(self) -> float | None:
        i, j = self.interp_backward_s, self.jit_backward_s
        return i / j if i and j else None

    @property
    def verdict(self) -> str:
        """``"jit"`` or ``"interp"`` when one is faster beyond both spreads, else
        ``"no difference"``."""
        si, sj = self.interp_spread, self.jit_spread
        if si is None or sj is None:
            return "no difference"
        if sj[1] < si[0]:
            return "jit"
        if si[1] < sj[0]:
            return "interp"
        return "no difference"

    @property
    def break_even_calls(self) -> float | None:
        """Calls after which what this run paid for kernels (compile and disk load) is repaid;
        None unless the JIT is faster beyond the spread."""
        i, j = self.interp_backward_s, self.jit_backward_s
        if self.verdict != "jit" or i is None or j is None:
            return None
        return (self.compile_s + self.load_s) / (i - j)

    @property
    def auto_compiles_at(self) -> int | None:
        """The call at which ``auto`` compiles this structure, by its cost model, or None if it
        would not within the calls seen (it compiles at the first call ``k`` past its threshold
        where ``(interpreted - predicted kernel time) * k > predicted compile``)."""
        from ..jit import runtime
        if not self.fusible or self.fused_s is None:
            return None
        saving = self.fused_s - self.predicted_kernel_s
        if saving <= 0:
            return None
        k = max(runtime.THRESHOLD + 1, math.floor(self.predicted_compile_s / saving) + 1)
        return k if k <= self.calls else None

    @property
    def auto(self) -> str:
        """What ``auto`` does with this structure, and why, in its cost model's terms."""
        if not self.fusible:
            return "interprets: nothing to fuse"
        saving = (self.fused_s or 0.0) - self.predicted_kernel_s
        if saving <= 0:
            return "interprets: kernels would not beat the interpreter"
        at = self.auto_compiles_at
        if at is not None:
            return f"compiles at call {at}"
        need = math.floor(self.predicted_compile_s / saving) + 1
        return f"interprets: a compile pays after ~{need} calls"

    def estimate(self, backend: str) -> float:
        """This structure's backward seconds over its calls under ``backend`` (from the
        medians, plus what compiling and loading cost in this run)."""
        i, j = self.interp_backward_s or 0.0, self.jit_backward_s or 0.0
        paid = self.compile_s + self.load_s
        if backend == "interp" or not self.fusible:
            return i * self.calls
        if backend == "jit":
            return j * self.calls + paid
        at = self.auto_compiles_at
        if at is None:
            return i * self.calls
        return i * (at - 1) + paid + j * (self.calls - at + 1)

    def to_dict(self) -> dict:
        return {"label": self.label, "source": self.source, "root": self.root, "ops": self.ops,
                "entries": self.entries, "kernels": self.kernels, "calls": self.calls,
                "samples": len(self.interp_s),
                "interp_backward_s": self.interp_backward_s,
                "interp_spread_s": self.interp_spread,
                "jit_backward_s": self.jit_backward_s, "jit_spread_s": self.jit_spread,
                "compile_s": self.compile_s, "disk_load_s": self.load_s,
                "speedup": self.speedup, "verdict": self.verdict,
                "break_even_calls": self.break_even_calls,
                "auto": self.auto, "auto_compiles_at": self.auto_compiles_at,
                "predicted_compile_s": self.predicted_compile_s}


# ---- the profiler ----------------------------------------------------------------------
class _Ticker:
    """A progress line every ``every`` seconds while a long piece of work runs (a compile):
    rewritten in place on a terminal, one line each time elsewhere (a notebook, a log)."""

    def __init__(self, what: str, enabled: bool, every: float = 2.0) -> None:
        self.what = what
        self.enabled = enabled
        self.every = every
        self._stop = threading.Event()
        self._thread = None
        self._shown = False

    def __enter__(self) -> "_Ticker":
        if self.enabled:
            self._t0 = time.perf_counter()
            self._thread = threading.Thread(target=self._loop, daemon=True,
                                            name="tapegrad-profile-progress")
            self._thread.start()
        return self

    def _loop(self) -> None:
        tty = sys.stderr.isatty()
        while not self._stop.wait(self.every):
            line = f"[tapegrad.profile] {self.what}: {time.perf_counter() - self._t0:.0f} s"
            print(("\r" + line) if tty else line, end="" if tty else "\n", file=sys.stderr,
                  flush=True)
            self._shown = True

    def __exit__(self, *exc) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            if self._shown and sys.stderr.isatty():
                print(f"\r[tapegrad.profile] {self.what}: done in "
                      f"{time.perf_counter() - self._t0:.1f} s", file=sys.stderr, flush=True)


class Profiler:
    """Compare the two backward engines on every backward run inside ``with Profiler():``.

    ``repeat`` passes of each graph structure are timed (dry runs of both engines); the
    report (``report()``) has a row per structure, a per-op table and a Chrome trace."""

    def __init__(self, repeat: int = 5, progress: bool = False) -> None:
        self.repeat = max(1, int(repeat))
        self.graphs: dict[tuple, GraphReport] = {}
        self.backwards = 0
        self.progress = progress
        self._last_progress = time.perf_counter()
        self._started = time.perf_counter()
        self._plans: dict[tuple, object] = {}
        self.ops: dict[str, list] = {}       # grad_fn name -> [calls, self seconds]
        self.events: list[dict] = []         # Chrome trace events
        self._mark = self._started           # end of the profiler's last piece of work
        self._forward: list = []             # (time appended, record) since the last backward

    def __enter__(self) -> "Profiler":
        _ACTIVE.append(self)
        FORWARD_WATCHERS.append(self._watch)
        self._started = self._mark = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        _ACTIVE.remove(self)
        FORWARD_WATCHERS.remove(self._watch)
        now = time.perf_counter()
        self._forward_spans(now)
        self._span("rest of the script", "python", 0, self._mark, now, {})

    def _watch(self, rec, inputs, out, ufunc=None) -> None:
        """Called as each forward record is appended: its time, for the trace."""
        if rec is not None and len(self._forward) < MAX_EVENTS:
            self._forward.append((time.perf_counter(), rec))

    def _forward_spans(self, until: float) -> None:
        """The forward records since the last backward, each a span from the previous record's
        end to its own (so a span holds the op and the Python around it)."""
        prev = self._mark
        for t, rec in self._forward:
            if t > until:
                break
            self._span(rec.op.name, "forward", 4, prev, t,
                       {"record": f"%{rec.out}", "type": type_str(rec.dtype, rec.shape)})
            prev = t
        self._forward.clear()

    def after_backward(self) -> None:
        """Called by the engine when a real backward has finished: its span in the trace."""
        from ..backends import get_backend
        now = time.perf_counter()
        self._span(f"backward {self.backwards} ({get_backend()})", "backward", 0, self._mark,
                   now, {})
        self._mark = now

    # -- trace events --
    def _us(self, t: float) -> float:
        return round((t - self._started) * 1e6, 3)

    def _span(self, name: str, cat: str, tid: int, t0: float, t1: float, args: dict) -> None:
        if len(self.events) < MAX_EVENTS:
            self.events.append({"name": name, "cat": cat, "ph": "X", "ts": self._us(t0),
                                "dur": round((t1 - t0) * 1e6, 3), "pid": 1, "tid": tid,
                                "args": args})

    def observe(self, order, records, root_slots, seeds) -> None:
        """Called by the engine before a backward runs (never under create_graph)."""
        from ..jit import cost
        from ..jit.plan import graph_key, make_plan
        from ..jit.stats import STATS
        now = time.perf_counter()
        self.backwards += 1
        key = graph_key(order, None)
        report = self.graphs.get(key)
        if report is None:
            root = order[0]
            n = len(self.graphs) + 1
            plan = self._plans[key] = make_plan(order, records, key)
            report = self.graphs[key] = GraphReport(
                f"#{n}", len(order), kernels=len(plan.runs),
                source=source_of_root(root.out, root),
                root=f"{root.name} {type_str(root.dtype, root.shape)}", ops=ops_summary(order),
                fusible=bool(plan.runs), predicted_compile_s=cost.compile_seconds(plan))
        report.calls += 1
        self._forward_spans(now)
        self._span(f"forward and the rest of the step (before backward {self.backwards})",
                   "python", 0, self._mark, now,
                   {"graph": report.label, "records": len(order), "ops": report.ops})
        if len(report.interp_s) < self.repeat:
            plan = self._plans[key]
            report.interp_s.append(self._dry(order, records, root_slots, seeds, None))
            fused = cost.fused_positions(plan)
            t = self._detailed_interp(order, records, root_slots, seeds, fused, report)
            if report.fused_s is None or t < report.fused_s:
                report.fused_s = t
            report.predicted_kernel_s = cost.kernel_seconds(plan, order)
            before_c, before_l = STATS["compile_seconds"], STATS["disk_load_seconds"]
            what = (f"graph {report.label}: compiling {len(plan.runs)} kernels "
                    f"(predicted {report.predicted_compile_s:.1f} s)")
            t0 = time.perf_counter()
            with _Ticker(what, self.progress and report.predicted_compile_s > 2.0):
                first = self._dry(order, records, root_slots, seeds, plan)
            compiled = STATS["compile_seconds"] - before_c
            loaded = STATS["disk_load_seconds"] - before_l
            if compiled or loaded:
                report.compile_s += compiled
                report.load_s += loaded
                args = {"graph": report.label, "kernels": len(plan.runs)}
                if loaded:
                    self._span("load kernels from the disk cache", "compile", 3, t0,
                               t0 + loaded, args)
                if compiled:
                    self._span("compile kernels", "compile", 3, t0 + loaded,
                               t0 + loaded + compiled, args)
                report.jit_s.append(self._detailed_jit(order, records, root_slots, seeds, plan,
                                                       report))
            else:
                report.jit_s.append(first)
                self._detailed_jit(order, records, root_slots, seeds, plan, report)
        self._mark = time.perf_counter()
        self._maybe_progress()

    def _seeded(self, order, records, root_slots, seeds) -> _DryRun:
        bw = _DryRun(order, records)
        for slot, g in zip(root_slots, seeds):
            bw.seed(slot, g)
        return bw

    def _dry(self, order, records, root_slots, seeds, plan) -> float:
        """One dry run, timed as a whole: the interpreter (``plan`` None) or the JIT."""
        import numpy as np

        from ..jit.runtime import execute
        bw = self._seeded(order, records, root_slots, seeds)
        t0 = time.perf_counter()
        with np.errstate(all="ignore"):
            if plan is None:
                bw.interpret(order)
            else:
                execute(plan, bw)
        return time.perf_counter() - t0

    def _detailed_interp(self, order, records, root_slots, seeds, fused, report) -> float:
        """An interpreted dry run timed record by record: the per-op table, the trace, and the
        seconds of the records kernels would take over (what ``auto`` measures)."""
        import numpy as np
        bw = self._seeded(order, records, root_slots, seeds)
        clock = time.perf_counter
        ops = self.ops
        fused_s = 0.0
        start = clock()
        children = []
        with np.errstate(all="ignore"):
            for i, rec in enumerate(order):
                t0 = clock()
                bw.visit(rec)
                t1 = clock()
                if i in fused:
                    fused_s += t1 - t0
                stat = ops.get(rec.name)
                if stat is None:
                    stat = ops[rec.name] = [0, 0.0]
                stat[0] += 1
                stat[1] += t1 - t0
                children.append((rec, t0, t1))
        end = clock()
        self._span(f"interpreted backward {report.label} (dry run)", "backward", 1, start, end,
                   {"graph": report.label, "source": report.source})
        for rec, t0, t1 in children:
            self._span(rec.name, "backward", 1, t0, t1,
                       {"record": f"%{rec.out}", "op": rec.op.name,
                        "type": type_str(rec.dtype, rec.shape)})
        return fused_s

    def _detailed_jit(self, order, records, root_slots, seeds, plan, report) -> float:
        """A JIT dry run timed step by step (kernels and boundary records), for the trace."""
        import numpy as np

        from ..jit.runtime import _run
        bw = self._seeded(order, records, root_slots, seeds)
        clock = time.perf_counter
        steps = []
        start = clock()
        with np.errstate(all="ignore"):
            for step in plan.steps:
                t0 = clock()
                if type(step) is int:
                    bw.visit(order[step])
                else:
                    _run(step, bw)
                steps.append((step, t0, clock()))
        end = clock()
        self._span(f"JIT backward {report.label} (dry run)", "backward", 2, start, end,
                   {"graph": report.label, "source": report.source})
        for step, t0, t1 in steps:
            if type(step) is int:
                rec = order[step]
                self._span(rec.name, "backward", 2, t0, t1, {"record": f"%{rec.out}"})
            else:
                recs = [order[rr.position] for rr in step.records]
                self._span(f"kernel ({len(recs)} records)", "kernel", 2, t0, t1,
                           {"records": " ".join(f"%{r.out} {r.op.name}" for r in recs)})
        return end - start

    def _maybe_progress(self) -> None:
        now = time.perf_counter()
        if self.progress and now - self._last_progress > 5:
            self._last_progress = now
            from ..jit.stats import STATS
            print(f"[tapegrad.profile] {now - self._started:.0f} s: {self.backwards} backward "
                  f"passes, {len(self.graphs)} graph structures, {STATS['compiles']} kernels "
                  f"compiled ({STATS['compile_seconds']:.1f} s)", file=sys.stderr, flush=True)

    def report(self) -> "Report":
        ops = [OpStat(name, calls, seconds) for name, (calls, seconds) in self.ops.items()]
        return Report(list(self.graphs.values()), self.backwards, OpTable(ops),
                      list(self.events))


# ---- the per-op table ------------------------------------------------------------------
@dataclass
class OpStat:
    """One backward op (by PyTorch's node name) summed over the timed interpreted passes."""

    name: str
    calls: int
    self_s: float

    @property
    def avg_s(self) -> float:
        return self.self_s / self.calls if self.calls else 0.0


SORT_KEYS = {"self": lambda o: -o.self_s, "self_cpu_time_total": lambda o: -o.self_s,
             "calls": lambda o: -o.calls, "count": lambda o: -o.calls,
             "avg": lambda o: -o.avg_s, "name": lambda o: o.name}


class OpTable:
    """Per op like ``torch.profiler``'s ``key_averages()``: the self time of each backward op
    in the interpreted dry runs, its calls and average. Self times sum to ``total_s``."""

    def __init__(self, ops: list) -> None:
        self.ops = ops

    @property
    def total_s(self) -> float:
        return sum(o.self_s for o in self.ops)

    def sorted(self, sort_by: str = "self") -> list:
        if sort_by not in SORT_KEYS:
            raise ValueError(f"sort_by={sort_by!r}: expected one of {', '.join(SORT_KEYS)}")
        return sorted(self.ops, key=SORT_KEYS[sort_by])

    def _rows(self, sort_by: str, row_limit: int | None):
        total = self.total_s or 1.0
        ops = self.sorted(sort_by)
        shown = ops if row_limit is None else ops[:row_limit]
        rows = [(o.name, f"{o.self_s * 1e3:.3f}", f"{100 * o.self_s / total:.1f}%", o.calls,
                 f"{o.avg_s * 1e6:.1f}") for o in shown]
        if len(shown) < len(ops):
            rest = ops[len(shown):]
            s = sum(o.self_s for o in rest)
            rows.append((f"({len(rest)} more)", f"{s * 1e3:.3f}", f"{100 * s / total:.1f}%",
                         sum(o.calls for o in rest), ""))
        rows.append(("total", f"{self.total_s * 1e3:.3f}", "100.0%",
                     sum(o.calls for o in ops), ""))
        return ("backward op", "self ms", "self %", "calls", "avg us"), rows

    def table(self, sort_by: str = "self", row_limit: int | None = None) -> str:
        from ..printing import text_table
        header, rows = self._rows(sort_by, row_limit)
        return text_table(header, rows, right={1, 2, 3, 4})

    __str__ = table

    def __repr__(self) -> str:
        return self.table()

    def _repr_html_(self) -> str:
        from ..printing import html_table
        header, rows = self._rows("self", None)
        return html_table(header, rows, caption="backward ops, interpreted (self time)")

    def to_list(self) -> list:
        return [{"name": o.name, "calls": o.calls, "self_s": o.self_s}
                for o in self.sorted("self")]


# ---- the report ------------------------------------------------------------------------
def _ms(s) -> str:
    return "-" if s is None else f"{s * 1e3:.3f}"


def _ms_spread(median, sp) -> str:
    if median is None:
        return "-"
    return f"{median * 1e3:.3f} ({sp[0] * 1e3:.3f}-{sp[1] * 1e3:.3f})"


def _seconds(s: float) -> str:
    return f"{s:.3f} s" if s < 10 else f"{s:.1f} s"


class Report:
    """What the profiler saw: one row per graph structure, a per-op table, a Chrome trace and a
    recommendation of a backend."""

    def __init__(self, graphs: list, backwards: int, ops: OpTable | None = None,
                 events: list | None = None) -> None:
        self.graphs = graphs
        self.backwards = backwards
        self.ops = ops if ops is not None else OpTable([])
        self.events = events or []

    def key_averages(self) -> OpTable:
        """The per-op table (like ``torch.profiler.profile().key_averages()``)."""
        return self.ops

    # -- verdicts --
    def estimates(self) -> dict:
        """Backward seconds of the whole run under each backend, from the measurements."""
        return {b: sum(g.estimate(b) for g in self.graphs) for b in ("interp", "jit", "auto")}

    def recommendation(self) -> str:
        """Which backend to use for this script, and why."""
        if not self.graphs:
            return "nothing to recommend: no backward pass was run"
        est = self.estimates()
        best = min(est, key=est.get)
        # the difference must exceed the noise: a spread's width over every call
        noise = sum(((g.interp_spread or (0, 0))[1] - (g.interp_spread or (0, 0))[0]
                     + (g.jit_spread or (0, 0))[1] - (g.jit_spread or (0, 0))[0]) * g.calls
                    for g in self.graphs)
        figures = ", ".join(f"{b} {_seconds(s)}" for b, s in est.items())
        if est["auto"] - est[best] <= max(noise, 0.05 * est[best], 0.01):
            return f"use auto (the default): it is as fast as the best here ({figures})"
        if best == "interp":
            return (f"use interp for this script (TAPEGRAD_BACKEND=interp): compiling does not "
                    f"pay within its calls ({figures})")
        return (f"use jit for this script (TAPEGRAD_BACKEND=jit): compiling at once pays "
                f"({figures})")

    # -- views --
    def _graph_rows(self):
        header = ("graph (line that made its root)", "records", "kernels", "calls",
                  "interp ms (spread)", "jit ms (spread)", "compile s", "load s", "verdict",
                  "break-even calls")
        rows = []
        for g in self.graphs:
            be = g.break_even_calls
            v = g.verdict
            if v == "jit":
                v = f"jit {g.speedup:.2f}x faster"
            elif v == "interp":
                v = f"interp {1 / g.speedup:.2f}x faster"
            rows.append((f"{g.label} {g.source.split('  ')[0]}", g.entries, g.kernels, g.calls,
                         _ms_spread(g.interp_backward_s, g.interp_spread),
                         _ms_spread(g.jit_backward_s, g.jit_spread), f"{g.compile_s:.2f}",
                         f"{g.load_s:.2f}", v, "-" if be is None else f"{be:.0f}"))
        return header, rows

    def _notes(self) -> list:
        return [f"{g.label} {g.source}\n    root {g.root}; ops: {g.ops}\n    auto: {g.auto}"
                for g in self.graphs]

    def _headline(self) -> str:
        n = len(self.graphs)
        samples = max(len(g.interp_s) for g in self.graphs)
        return (f"tapegrad.profile: {self.backwards} backward "
                f"pass{'es' if self.backwards != 1 else ''}, {n} graph "
                f"structure{'s' if n != 1 else ''} (medians of up to {samples} samples each, "
                f"spread: interquartile range, or min-max under 4 samples)")

    def table(self, sort_by: str = "self", row_limit: int | None = 15) -> str:
        """The report as text: graphs, what each is, the per-op table and the verdict."""
        from ..printing import text_table
        if not self.graphs:
            return ("tapegrad.profile: no backward pass was run, so there is nothing to compare "
                    "(call .backward() on a loss in the profiled code)")
        header, rows = self._graph_rows()
        lines = [self._headline(), text_table(header, rows, right={1, 2, 3, 6, 7, 9}), ""]
        lines += self._notes()
        lines += ["", "per backward op, in the timed interpreted passes:",
                  self.ops.table(sort_by, row_limit), "",
                  f"recommendation: {self.recommendation()}"]
        return "\n".join(lines)

    __str__ = table

    def __repr__(self) -> str:
        return self.table()

    def _repr_html_(self) -> str:
        from ..printing import html_table
        if not self.graphs:
            return html_table(("tapegrad.profile",), [(self.table(),)])
        header, rows = self._graph_rows()
        graphs = html_table(header, rows, caption=self._headline(), notes=self._notes())
        ops_header, ops_rows = self.ops._rows("self", 15)
        ops = html_table(ops_header, ops_rows, marked=[len(ops_rows) - 1],
                         caption="backward ops, interpreted (self time), like key_averages()")
        return "\n".join([graphs, ops, html_table(("recommendation",),
                                                  [(self.recommendation(),)])])

    def to_dict(self) -> dict:
        return {"backward_passes": self.backwards, "graphs": [g.to_dict() for g in self.graphs],
                "ops": self.ops.to_list(), "ops_total_s": self.ops.total_s,
                "estimates_s": self.estimates() if self.graphs else {},
                "recommendation": self.recommendation()}

    def to_json(self, path: str | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=2)
        if path is not None:
            with open(path, "w") as f:
                f.write(text + "\n")
        return text

    def chrome_trace(self) -> dict:
        """The Chrome trace event format (opens in https://ui.perfetto.dev and
        chrome://tracing): the script's steps between backward passes, each timed dry run
        record by record (interpreted) or kernel by kernel (JIT), and compiles."""
        names = {0: "script (forward, optimizer, real backward)", 1: "interpreted backward",
                 2: "JIT backward (kernels)", 3: "compile / disk load", 4: "forward records"}
        meta = [{"name": "process_name", "ph": "M", "pid": 1, "tid": 0,
                 "args": {"name": "tapegrad.profile"}}]
        meta += [{"name": "thread_name", "ph": "M", "pid": 1, "tid": t, "args": {"name": n}}
                 for t, n in names.items()]
        meta += [{"name": "thread_sort_index", "ph": "M", "pid": 1, "tid": t,
                  "args": {"sort_index": t}} for t in names]
        return {"traceEvents": meta + self.events, "displayTimeUnit": "ms"}

    def to_trace(self, path: str) -> None:
        """Write ``chrome_trace()`` as JSON to ``path``."""
        with open(path, "w") as f:
            json.dump(self.chrome_trace(), f)

    def plot(self, path: str | None = None):
        """A bar chart of interpreted against JIT backward per graph, with each spread as an
        error bar (needs matplotlib)."""
        try:
            import matplotlib
            if path is not None:
                matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            raise ImportError("plotting needs matplotlib: pip install 'tapegrad[plot]'") from None
        graphs = [g for g in self.graphs if g.interp_s]
        fig, ax = plt.subplots(figsize=(max(5, 1.6 * len(graphs) + 2), 3.6))
        xs = range(len(graphs))

        def bars(med, sp):
            return ([m * 1e3 for m in med],
                    [[(m - s[0]) * 1e3 for m, s in zip(med, sp)],
                     [(s[1] - m) * 1e3 for m, s in zip(med, sp)]])
        interp, ierr = bars([g.interp_backward_s for g in graphs],
                            [g.interp_spread for g in graphs])
        jit, jerr = bars([g.jit_backward_s for g in graphs], [g.jit_spread for g in graphs])
        ax.bar([x - 0.2 for x in xs], interp, 0.4, yerr=ierr, capsize=3, label="interpreted")
        ax.bar([x + 0.2 for x in xs], jit, 0.4, yerr=jerr, capsize=3, label="JIT (compiled)")
        for x, g in zip(xs, graphs):
            ax.annotate(f"compile {g.compile_s:.2f} s\nload {g.load_s:.2f} s",
                        (x + 0.2, g.jit_backward_s * 1e3), ha="center", va="bottom", fontsize=7)
        ax.set_xticks(list(xs))
        ax.set_xticklabels([f"{g.label} {g.source.split('  ')[0]}" for g in graphs], fontsize=8)
        ax.set_ylabel("median backward (ms)")
        ax.set_title("interpreted vs JIT backward, per graph structure", fontsize=10)
        ax.legend()
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=120)
        return fig


def compare(fn, *args, repeat: int = 5, progress: bool = True, **kwargs) -> Report:
    """Call ``fn(*args, **kwargs)`` ``repeat`` times and compare the two backward engines on
    every backward it runs. If ``fn`` runs no backward itself but returns a scalar tensor that
    requires grad, that tensor's backward is run. ``progress`` prints a line during long
    compiles (to stderr, which a notebook shows under the cell)."""
    from ..tensor import Tensor
    with Profiler(repeat, progress=progress) as prof:
        for _ in range(repeat):
            before = prof.backwards
            out = fn(*args, **kwargs)
            if prof.backwards == before and isinstance(out, Tensor) and out.requires_grad \
                    and out.numel() == 1:
                out.backward()
    return prof.report()
