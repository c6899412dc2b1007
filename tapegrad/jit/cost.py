"""The cost model ``auto`` decides by: compile a graph structure only when it pays.

For a structure seen ``k`` times, ``auto`` compiles when

    (interpreted time of its fusible records - predicted kernel time) * k  >  predicted compile

that is, when the time saved over as many calls again as have been seen (the structure's past
is the best guess of its future) exceeds the compile. The interpreted time is measured on the
structure's own interpreted backward passes; the kernel and compile times are predicted from the
plan (records, elements, transcendental calls), and the compile prediction is scaled by how
long this process's compiles actually took. A structure whose kernels would not beat the
interpreter (small arrays, few records) never compiles, however often it is seen.

The constants were measured on the reference machine (benchmarks/jit_economics.py and
benchmarks/run.py): importing and initialising Numba costs 1.3 s once per process; a kernel
about 0.15 s plus 12 ms per record to compile; a call about 20 us plus 2 us per record of
Python around it, and per element and record 0.7 ns, plus 3 ns per transcendental function
(exp, sin, cos and tanh are vmath's vectorised ones, 3 to 5 ns with their pass over memory;
log is libm's, 5 ns; sqrt one instruction).
"""
from __future__ import annotations

import functools
import time

from ..ops import OPS
from . import compile
from .plan import Plan

NUMBA_INIT_SECONDS = 1.3  # importing and initialising Numba, once per process
COMPILE_FIXED = 0.15
COMPILE_PER_RECORD = 0.012
CALL_SECONDS = 20e-6
RECORD_SECONDS = 2e-6
ELEMENT_SECONDS = 0.7e-9
TRANSCENDENTAL_SECONDS = 3e-9
_TRANSCENDENTAL = ("exp(", "log(", "sin(", "cos(", "tanh(", "sqrt(")

# measured / predicted compile seconds, as an exponential average over this process's compiles
_scale = [1.0]
_observed = [0]  # compiles measured in this process


def fused_positions(plan: Plan) -> frozenset:
    """The positions in the backward order that the plan's kernels would take over."""
    return frozenset(rr.position for run in plan.runs for rr in run.records)


def interpret_timed(bw, order, fused: frozenset) -> float:
    """Interpret ``order`` as the interpreter does, and return the seconds spent on the records
    at positions ``fused`` (consecutive ones timed as one block: two clock reads per block)."""
    visit = bw.visit
    clock = time.perf_counter
    seconds = 0.0
    start = None
    for i, rec in enumerate(order):
        if i in fused:
            if start is None:
                start = clock()
        elif start is not None:
            seconds += clock() - start
            start = None
        visit(rec)
    if start is not None:
        seconds += clock() - start
    return seconds


@functools.lru_cache(maxsize=None)
def _element_seconds(op_name: str) -> float:
    grads = OPS[op_name].grads or ()
    calls = sum(f.count(t) for f in grads if f for t in _TRANSCENDENTAL)
    return ELEMENT_SECONDS + TRANSCENDENTAL_SECONDS * calls


def kernel_seconds(plan: Plan, order) -> float:
    """Predicted time of one backward's kernels (the boundaries cost what they cost anyway)."""
    costs = plan.run_costs
    if costs is None:  # per run: (fixed seconds, seconds per element); sizes vary, these not
        costs = plan.run_costs = [
            (CALL_SECONDS + RECORD_SECONDS * len(run.records),
             sum(_element_seconds(rr.op) for rr in run.records)) for run in plan.runs]
    total = 0.0
    for run, (fixed, per_element) in zip(plan.runs, costs):
        n = 1
        for d in order[run.records[0].position].shape:
            n *= d
        total += fixed + n * per_element
    return total


def _structure(run) -> tuple:
    return tuple((rr.op, rr.ins, rr.operands) for rr in run.records)


def compile_seconds(plan: Plan) -> float:
    """Predicted compile time: identical pieces (a loop body) compile once; the first compile
    of a process also imports and initialises Numba."""
    raw = plan.compile_raw
    if raw is None:
        distinct = {_structure(run): len(run.records) for run in plan.runs}
        raw = plan.compile_raw = sum(COMPILE_FIXED + COMPILE_PER_RECORD * n
                                     for n in distinct.values())
    return raw * _scale[0] + (0.0 if compile.STATE["numba_ready"] else NUMBA_INIT_SECONDS)


def observe_compile(records: int, seconds: float) -> None:
    """Calibrate the compile prediction with a compile measured in this process. The first
    compile of a process also pays Numba's lazy set-up (about a second, predicted apart as part
    of NUMBA_INIT_SECONDS), so it does not calibrate."""
    _observed[0] += 1
    if _observed[0] == 1:
        return
    predicted = COMPILE_FIXED + COMPILE_PER_RECORD * records
    ratio = min(10.0, max(0.1, seconds / predicted))
    _scale[0] = 0.7 * _scale[0] + 0.3 * ratio


def explain(plan: Plan, order, fused_seconds: float, seen: int) -> str:
    kernel = kernel_seconds(plan, order)
    return (f"interpreted {fused_seconds * 1e3:.3f} ms - kernels {kernel * 1e3:.3f} ms per pass, "
            f"x {seen} passes seen, against a {compile_seconds(plan):.2f} s compile")


def worth_compiling(plan: Plan, order, fused_seconds: float, seen: int) -> bool:
    saving = fused_seconds - kernel_seconds(plan, order)
    if saving <= 0 or not plan.runs:
        return False
    return saving * seen > compile_seconds(plan)
