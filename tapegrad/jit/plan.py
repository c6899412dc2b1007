"""Stage 1, plan: cut the reversed tape into fused elementwise runs and boundaries.

A *run* is a maximal stretch of consecutive records (in backward order) that are elementwise, of
one float dtype and one output shape, with no hook, retain_grad or captured input on them. It
becomes one kernel: a loop over the elements that computes every record's VJP, keeping adjoints
that stay inside the run in registers. Everything else is a *boundary*, run by the interpreter's
VJP (matmul through BLAS, reductions, shape ops, indexing, user Functions).

The plan is keyed by the graph's *structure*: ops, dtypes, ndims, which shapes are equal, how
records connect (by position in the backward order), which inputs need grad, and whether saved
operands are arrays or scalars. Sizes and scalar values are not in it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..structure import ARR, FOREIGN, SCALAR, SIG_FIELDS, local_sig, operand_kind  # noqa: F401
from ..tape import Record


def graph_key(order: list[Record], capture) -> tuple:
    """The structural key of the graph being differentiated: every record's signature, and
    how records connect, by position in the backward order."""
    pos = {}
    parts = []
    prev = None
    for i, rec in enumerate(order):
        pos[rec.out] = i
    for rec in order:
        sig = rec.sig
        if sig is None:
            sig = rec.sig = local_sig(rec)
        special = rec.hooks is not None or rec.retain is not None or (
            capture is not None and rec.out in capture)
        shape = rec.shape
        parts.append((sig, shape == prev, tuple([-1 if s is None else pos[s] for s in rec.ins]),
                      special))
        prev = shape
    return tuple(parts)


@dataclass
class RunRecord:
    """One record of a run, as codegen sees it."""

    op: str
    n_params: int
    ins: tuple          # per input: ("run", j), ("ext", e) or None
    operands: tuple     # kinds of the saved (a, b, c, out): "arr", "scalar" or None
    position: int       # index in the backward order


@dataclass
class Run:
    records: list[RunRecord]
    externals: list[int] = field(default_factory=list)  # order positions of outside inputs
    kernels: dict = field(default_factory=dict)          # runtime signature -> compiled kernel


@dataclass
class Plan:
    steps: list          # ints (a boundary record's position) and Runs, in backward order
    run_costs: list | None = None  # the cost model's per-run constants, computed once
    compile_raw: float | None = None  # the cost model's uncalibrated compile seconds
    runs: list = field(init=False)  # the Runs among the steps

    def __post_init__(self) -> None:
        self.runs = [s for s in self.steps if isinstance(s, Run)]


# The dtypes kernels are generated for. float16 is left to the interpreter, which computes it
# as numpy does (Numba has no float16 arithmetic).
KERNEL_DTYPES = frozenset((np.dtype(np.float32), np.dtype(np.float64)))


def fusible(rec: Record, records: dict, special: bool) -> bool:
    """Whether a record can be part of a fused run. Reads only what the structural key holds
    (the record's signature, its inputs' dtypes, the special flag), so a plan made for one
    graph decides the same for every graph with an equal key."""
    if special or not rec.op.elementwise or rec.dtype not in KERNEL_DTYPES:
        return False
    for s in rec.ins:
        if s is not None and records[s].dtype != rec.dtype:
            return False  # the gradient would change dtype: leave the cast to the interpreter
    sig = rec.sig if rec.sig is not None else local_sig(rec)
    return FOREIGN not in sig[3:6]


# The most records one fused kernel holds. Numba's compile time per record grows with the
# kernel: measured here (float64, tanh/sin/mul/add chain) 16 ms/record at 25 records, 21 at 100,
# 30 at 200, 40 at 600 (benchmarks/compile_time.py). Up to about 32 it stays near linear, so a
# longer run is cut into pieces of at most this many, passing adjoints through memory.
MAX_RUN = 32
# On large arrays a kernel's run time outweighs its compile, and every cut costs a pass over
# memory (the 4M-element chain of benchmarks/run.py: 29 ms in one kernel, 49 ms in two), so
# runs over this many elements are cut at twice the length.
LARGE_RUN_ELEMENTS = 1 << 20


def make_plan(order: list[Record], records: dict, key: tuple, min_run: int = 2,
              max_run: int | None = None) -> Plan:
    """Cut the backward order into fused runs and boundaries. A run longer than ``max_run``
    (MAX_RUN) is cut into pieces; where the run repeats itself (a loop body), the pieces are cut
    at a multiple of its period, so they are identical and share one kernel."""
    max_run = max_run or MAX_RUN
    steps: list = []
    current: list[int] = []
    pos_of = {rec.out: i for i, rec in enumerate(order)}

    def close():
        limit = max_run
        if current:
            n = 1
            for d in order[current[0]].shape:
                n *= d
            if n >= LARGE_RUN_ELEMENTS:
                limit = 2 * max_run
        for piece in _pieces(order, current, limit):
            if len(piece) >= min_run:
                steps.append(_make_run(order, piece, pos_of))
            else:
                steps.extend(piece)
        current.clear()

    for i, rec in enumerate(order):
        special = key[i][3]
        if fusible(rec, records, special):
            if current and not (rec.shape == order[current[-1]].shape
                                and rec.dtype == order[current[-1]].dtype):
                close()
            current.append(i)
        else:
            close()
            steps.append(i)
    close()
    return Plan(steps)


def _pieces(order: list[Record], positions: list[int], max_run: int) -> list[list[int]]:
    """``positions`` cut into pieces of at most ``max_run``, at a multiple of the run's period
    when it has one (so the pieces are the same kernel)."""
    m = len(positions)
    if m <= max_run:
        return [list(positions)]
    index_of = {order[p].out: j for j, p in enumerate(positions)}
    shapes = []
    for j, p in enumerate(positions):
        rec = order[p]
        links = tuple(j - index_of[s] if s in index_of else None for s in rec.ins)
        shapes.append((rec.sig if rec.sig is not None else local_sig(rec), links))
    length = max_run
    # A loop's first and last iterations differ from the rest (they read the loop's inputs):
    # the period is looked for away from both ends.
    skip = m // 8
    for period in range(1, max_run + 1):
        if all(shapes[j] == shapes[j + period] for j in range(skip, m - period - skip)):
            length = period * (max_run // period)
            break
    return [positions[k:k + length] for k in range(0, m, length)]


def _make_run(order: list[Record], positions: list[int], pos_of: dict) -> Run:
    index_of = {order[p].out: j for j, p in enumerate(positions)}
    externals: list[int] = []
    ext_index: dict[int, int] = {}
    run_records = []
    for p in positions:
        rec = order[p]
        ins = []
        for s in rec.ins:
            if s is None:
                ins.append(None)
            elif s in index_of:
                ins.append(("run", index_of[s]))
            else:
                where = pos_of[s]
                e = ext_index.get(where)
                if e is None:
                    e = ext_index[where] = len(externals)
                    externals.append(where)
                ins.append(("ext", e))
        # Only what the needed derivatives read: a constant no formula uses is no argument.
        used = rec.op.plans[sum(1 << i for i, s in enumerate(rec.ins) if s is not None)]
        kinds = tuple(operand_kind(v) if u else None for v, u in zip(rec.saved, used))
        run_records.append(RunRecord(rec.op.name, len(rec.params), tuple(ins), kinds, p))
    return Run(run_records, externals)
