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

This module holds the ``Profiler`` and ``compare``; ``report`` what they report, ``source``
where each root came from.
"""
from __future__ import annotations

import sys
import threading
import time

from ..engine import _PROFILERS as _ACTIVE  # the engine reports to the innermost profiler
from ..engine import Backward
from ..registry import FORWARD_WATCHERS
from ..tape import LEAF, type_str
from .report import GraphReport, OpStat, OpTable, Report, ops_summary
from .source import source_of_root


MAX_EVENTS = 200_000  # the Chrome trace keeps at most this many events


class _DryRun(Backward):
    """A backward that computes every adjoint and changes nothing."""

    def __init__(self, order, records) -> None:
        super().__init__(order, records, None)
        self.anomaly = False

    def arrive(self, rec, g):
        return None if rec.op is LEAF else g


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
