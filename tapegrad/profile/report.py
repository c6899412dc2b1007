"""What the profiler reports: a graph's timings and verdict (``GraphReport``), the per-op table
(``OpStat``, ``OpTable``), the whole ``Report`` with its tables, JSON, Chrome trace and plot;
medians and spreads of samples."""
from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass, field

from ..tape import LEAF


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
