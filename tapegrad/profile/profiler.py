"""Interpreted against JIT backward, per graph structure, on the user's own code.

The profiler watches every backward. For the first ``repeat`` backward passes of each graph
structure it times two *dry* runs over the very same records: the interpreter, and the JIT
(compiling on first sight, which is timed apart). A dry run has no side effects: no hook runs,
no gradient is accumulated, nothing is freed. Then the real backward runs as it would have.
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from dataclasses import dataclass, field

from ..engine import Backward
from ..tape import LEAF, type_str

from ..engine import _PROFILERS as _ACTIVE  # the engine reports to the innermost profiler


class _DryRun(Backward):
    """A backward that computes every adjoint and changes nothing."""

    def arrive(self, rec, g):
        return None if rec.op is LEAF else g


@dataclass
class GraphReport:
    label: str
    entries: int
    kernels: int = 0
    calls: int = 0
    interp_s: list = field(default_factory=list)
    jit_s: list = field(default_factory=list)
    compile_s: float = 0.0

    @property
    def interp_backward_s(self) -> float | None:
        return statistics.median(self.interp_s) if self.interp_s else None

    @property
    def jit_backward_s(self) -> float | None:
        return statistics.median(self.jit_s) if self.jit_s else None

    @property
    def speedup(self) -> float | None:
        i, j = self.interp_backward_s, self.jit_backward_s
        return i / j if i and j else None

    @property
    def break_even_calls(self) -> float | None:
        """Calls after which compiling has paid for itself; None if the JIT is not faster."""
        i, j = self.interp_backward_s, self.jit_backward_s
        if i is None or j is None or j >= i:
            return None
        return self.compile_s / (i - j)

    def to_dict(self) -> dict:
        return {"label": self.label, "entries": self.entries, "kernels": self.kernels,
                "calls": self.calls, "samples": len(self.interp_s),
                "interp_backward_s": self.interp_backward_s,
                "jit_backward_s": self.jit_backward_s, "compile_s": self.compile_s,
                "speedup": self.speedup, "break_even_calls": self.break_even_calls}


class Profiler:
    def __init__(self, repeat: int = 5, progress: bool = False) -> None:
        self.repeat = max(1, int(repeat))
        self.graphs: dict[tuple, GraphReport] = {}
        self.backwards = 0
        self.progress = progress
        self._last_progress = time.perf_counter()
        self._started = time.perf_counter()

    def __enter__(self) -> "Profiler":
        _ACTIVE.append(self)
        return self

    def __exit__(self, *exc) -> None:
        _ACTIVE.remove(self)

    def observe(self, order, records, root_slots, seeds) -> None:
        """Called by the engine before a backward runs (never under create_graph)."""
        from ..jit.plan import graph_key, make_plan
        from ..jit.runtime import execute
        from ..jit.stats import STATS
        self.backwards += 1
        key = graph_key(order, None)
        report = self.graphs.get(key)
        if report is None:
            root = order[0]
            report = self.graphs[key] = GraphReport(
                f"#{len(self.graphs) + 1} {root.name} {type_str(root.dtype, root.shape)}",
                len(order))
        report.calls += 1
        if len(report.interp_s) < self.repeat:
            report.interp_s.append(self._dry(order, records, root_slots, seeds, None))
            plan = make_plan(order, records, key)
            report.kernels = len(plan.runs)
            before = STATS["compile_seconds"] + STATS["disk_load_seconds"]
            first = self._dry(order, records, root_slots, seeds, lambda bw: execute(plan, bw))
            spent = STATS["compile_seconds"] + STATS["disk_load_seconds"] - before
            if spent:
                report.compile_s += spent
                report.jit_s.append(self._dry(order, records, root_slots, seeds,
                                              lambda bw: execute(plan, bw)))
            else:
                report.jit_s.append(first)
        self._maybe_progress()

    @staticmethod
    def _dry(order, records, root_slots, seeds, engine) -> float:
        import numpy as np
        bw = _DryRun(order, records, None)
        for slot, g in zip(root_slots, seeds):
            bw.seed(slot, g)
        t0 = time.perf_counter()
        with np.errstate(all="ignore"):
            if engine is None:
                bw.interpret(order)
            else:
                engine(bw)
        return time.perf_counter() - t0

    def _maybe_progress(self) -> None:
        now = time.perf_counter()
        if self.progress and now - self._last_progress > 5:
            self._last_progress = now
            from ..jit.stats import STATS
            print(f"[tapegrad.profile] {now - self._started:.0f} s: {self.backwards} backward "
                  f"passes, {len(self.graphs)} graph structures, {STATS['compiles']} kernels "
                  f"compiled ({STATS['compile_seconds']:.1f} s)", file=sys.stderr, flush=True)

    def report(self) -> "Report":
        return Report(list(self.graphs.values()), self.backwards)


def _ms(s) -> str:
    return "-" if s is None else f"{s * 1e3:.3f}"


class Report:
    """What the profiler saw: one row per graph structure."""

    def __init__(self, graphs: list[GraphReport], backwards: int) -> None:
        self.graphs = graphs
        self.backwards = backwards

    def table(self) -> str:
        if not self.graphs:
            return ("tapegrad.profile: no backward pass was run, so there is nothing to compare "
                    "(call .backward() on a loss in the profiled code)")
        header = ("graph", "records", "kernels", "calls", "interp ms", "jit ms", "compile s",
                  "speedup", "break-even calls")
        rows = []
        for g in self.graphs:
            be = g.break_even_calls
            rows.append((g.label, str(g.entries), str(g.kernels), str(g.calls),
                         _ms(g.interp_backward_s), _ms(g.jit_backward_s), f"{g.compile_s:.2f}",
                         "-" if g.speedup is None else f"{g.speedup:.2f}x",
                         "never" if be is None else f"{be:.0f}"))
        widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
        n = len(self.graphs)
        lines = [f"tapegrad.profile: {self.backwards} backward "
                 f"pass{'es' if self.backwards != 1 else ''}, {n} graph "
                 f"structure{'s' if n != 1 else ''} (medians of up to "
                 f"{max(len(g.interp_s) for g in self.graphs)} samples each)",
                 "  ".join(h.ljust(w) for h, w in zip(header, widths)),
                 "  ".join("-" * w for w in widths)]
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
        return "\n".join(lines)

    __str__ = table
    __repr__ = table

    def to_dict(self) -> dict:
        return {"backward_passes": self.backwards, "graphs": [g.to_dict() for g in self.graphs]}

    def to_json(self, path: str | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=2)
        if path is not None:
            with open(path, "w") as f:
                f.write(text + "\n")
        return text

    def plot(self, path: str | None = None):
        """A bar chart of interpreted against JIT backward per graph (needs matplotlib)."""
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
        interp = [g.interp_backward_s * 1e3 for g in graphs]
        jit = [g.jit_backward_s * 1e3 for g in graphs]
        ax.bar([x - 0.2 for x in xs], interp, 0.4, label="interpreted")
        ax.bar([x + 0.2 for x in xs], jit, 0.4, label="JIT (compiled)")
        for x, g in zip(xs, graphs):
            ax.annotate(f"compile {g.compile_s:.2f} s", (x + 0.2, g.jit_backward_s * 1e3),
                        ha="center", va="bottom", fontsize=8)
        ax.set_xticks(list(xs))
        ax.set_xticklabels([g.label for g in graphs], fontsize=8)
        ax.set_ylabel("median backward (ms)")
        ax.set_title("interpreted vs JIT backward, per graph structure", fontsize=10)
        ax.legend()
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=120)
        return fig

    def _repr_html_(self) -> str:
        import html
        return f"<pre>{html.escape(self.table())}</pre>"


def compare(fn, *args, repeat: int = 5, **kwargs) -> Report:
    """Call ``fn(*args, **kwargs)`` ``repeat`` times and compare the two backward engines on
    every backward it runs. If ``fn`` runs no backward itself but returns a scalar tensor that
    requires grad, that tensor's backward is run."""
    from ..tensor import Tensor
    with Profiler(repeat) as prof:
        for _ in range(repeat):
            before = prof.backwards
            out = fn(*args, **kwargs)
            if prof.backwards == before and isinstance(out, Tensor) and out.requires_grad \
                    and out.numel() == 1:
                out.backward()
    return prof.report()
