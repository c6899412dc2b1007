"""The JIT engine: look the graph up in the trace cache, plan it once, run its fused kernels.

The trace cache maps a graph's structural key to its plan; each run of a plan holds its kernels
by runtime signature (how adjoints arrive into it). Kernels themselves are cached by
their source, so two graphs that share a run share its kernel. Under ``auto`` a structure is
interpreted until it has been seen ``TAPEGRAD_JIT_THRESHOLD`` times, so a one-off backward never
waits for a compile.
"""
from __future__ import annotations

import sys
import threading
import warnings

import numpy as np

from .. import threads
from ..envvars import env_flag, env_int
from ..registry import provide
from ..engine import Backward
from ..ops import NP
from ..tape import TLS, format_listing
from . import codegen, compile, cost, debug
from .plan import ARR, SCALAR, SIG_FIELDS, Plan, Run, graph_key, make_plan
from .stats import STATS

THRESHOLD = env_int("TAPEGRAD_JIT_THRESHOLD", 2)
# Check every O(1) hash hit against the full structural key (slow; for tests and fuzzing).
VERIFY = env_flag("TAPEGRAD_JIT_VERIFY", False)


def _call(kernel, n: int, args: list):
    """Run ``kernel`` over all n elements; when n is large, each thread gets slices. Returns
    what the kernel returns (see ``codegen.kernel_module``), the threads' results added."""
    if n < threads.PARALLEL_MIN or threads.THREADS == 1:
        return kernel(n, *args)

    def sliced(lo, hi):
        return [a[lo:hi] if type(a) is np.ndarray else a for a in args]

    parts = threads.run_split(kernel, n, sliced)
    if type(parts[0]) is tuple:
        return tuple(map(sum, zip(*parts)))
    return None if parts[0] is None else sum(parts)


def _far(result) -> bool:
    """Whether a kernel's result says that arguments were beyond vmath's range."""
    return bool(result[0] if type(result) is tuple else result)


def call_kernel(kernel, n: int, args: list):
    """``_call``; where the kernel's vmath sin or cos met an argument beyond their range
    (codegen.kernel_module), its libm twin computes the whole run again, exactly. Returns the
    result of the run that counts."""
    result = _call(kernel, n, args)
    if result is not None and _far(result):
        twin = getattr(kernel, "tapegrad_twin", None)
        if twin is None:
            with _lock:
                twin = compile.load(codegen.libm_twin(kernel.tapegrad_source))
                compile.first_call(twin, (min(n, 1), *args))
            kernel.tapegrad_twin = twin
        result = _call(twin, n, args)
    return result


class _Entry:
    __slots__ = ("seen", "plan", "key", "same_as_prev", "used", "root_hash", "chosen",
                 "fused", "fused_seconds", "announced")

    def __init__(self, key: tuple) -> None:
        self.seen = 0
        self.plan: Plan | None = None
        self.key = key
        self.used = 0          # the backward count when last used: least recently used goes
        self.root_hash = None  # its key in _by_hash, if any
        self.chosen = False    # auto: the cost model said compiling pays (or it is compiled)
        self.fused = frozenset()   # auto: positions the plan's kernels would take over
        self.fused_seconds = None  # auto: interpreted seconds of those records, least seen
        self.announced = False
        # per record: does its shape equal the previous record's (the key's second field)
        self.same_as_prev = tuple([part[1] for part in key])


def find_by_hash(records: dict, root: int):
    """The backward order and trace-cache entry of the graph rooted at ``root``, from the root's
    structural hash alone; None if this structure has not been seen (or a record differs).

    A record's hash holds its signature and its inputs' hashes and distances, but not how its
    shape compares with its neighbour's in the backward order (records on independent branches),
    which decides where fused runs are cut. That is checked here, as the records are read: a
    graph that differs only there is planned afresh under its own full key."""
    rec = records.get(root)
    if rec is None:
        return None
    found = _by_hash.get(rec.h)
    if found is None:
        return None
    entry, distances, hashes = found
    order = []
    get = records.get
    same = entry.same_as_prev
    prev = None
    for d, h, eq in zip(distances, hashes, same):
        r = get(root - d)
        if r is None or r.h != h:
            return None
        shape = r.shape
        if (shape == prev) is not eq:
            return None
        prev = shape
        order.append(r)
    return order, entry


_graphs: dict[tuple, _Entry] = {}
# root record's structural hash -> (entry, each record's distance from the root, its hash)
_by_hash: dict[int, tuple] = {}
# The trace cache holds at most this many graph structures (TAPEGRAD_TRACE_CACHE_SIZE); past
# it the least recently used quarter is dropped, with their plans (their kernels stay cached).
MAX_GRAPHS = env_int("TAPEGRAD_TRACE_CACHE_SIZE", 512, minimum=1)
_clock = [0]


def _evict() -> None:
    """Drop the least recently used quarter of the trace cache: amortised O(1) per insert, and
    a hit costs one integer store (no reordering of a dict keyed by long tuples)."""
    keep = max(1, MAX_GRAPHS - MAX_GRAPHS // 4)
    by_age = sorted(_graphs.values(), key=lambda e: e.used)
    for entry in by_age[: len(by_age) - keep]:
        del _graphs[entry.key]
        found = _by_hash.get(entry.root_hash)
        if found is not None and found[0] is entry:
            del _by_hash[entry.root_hash]
        STATS["trace_cache_evictions"] += 1
_last_key: list = [None]
_lock = threading.Lock()  # compiling is not thread-safe in Numba: one at a time


def run_jit(bw: Backward, tape, mode: str) -> None:
    """Runs one backward pass ``bw`` on ``tape`` with compiled kernels: the engine's entry point
    into the JIT (``mode`` is ``jit`` or ``auto``). Not for user code: choose the engine with
    ``tapegrad.set_backend``."""
    if TLS.s.anomaly:  # anomaly detection checks every record: the interpreter does that
        STATS["interpreted_backwards"] += 1
        bw.interpret(bw.order)
        return
    entry = bw.entry
    if entry is not None:  # found by the root's hash: the key is not even built
        STATS["cache_hits"] += 1
        if VERIFY:
            _verify_hash_hit(entry, bw)
    else:
        key = graph_key(bw.order, bw.capture)
        entry = _graphs.get(key)
        if entry is None:
            STATS["cache_misses"] += 1
            if debug.LEVEL >= 2:
                print(f"[tapegrad] trace cache miss: {explain_miss(key, _last_key[0], bw.order)}",
                      file=sys.stderr)
            if len(_graphs) >= MAX_GRAPHS:
                _evict()
            entry = _graphs[key] = _Entry(key)
        else:
            STATS["cache_hits"] += 1
        _last_key[0] = key
        if bw.capture is None and not any(part[3] for part in key):
            root = bw.order[0].out
            entry.root_hash = bw.order[0].h
            _by_hash[entry.root_hash] = (entry, tuple(root - r.out for r in bw.order),
                                         tuple(r.h for r in bw.order))
    entry.seen += 1
    _clock[0] += 1
    entry.used = _clock[0]
    if debug.LEVEL >= 3:
        print(f"[tapegrad] backward over:\n{format_listing(reversed(bw.order))}", file=sys.stderr)
    if mode == "auto" and not entry.chosen:
        if entry.plan is None:  # linear in the graph, and what the cost model reads
            entry.plan = make_plan(bw.order, bw.records, entry.key)
            entry.fused = cost.fused_positions(entry.plan)
        if entry.seen > THRESHOLD and entry.fused_seconds is not None:
            entry.chosen = cost.worth_compiling(entry.plan, bw.order, entry.fused_seconds,
                                                entry.seen)
            if entry.chosen and debug.LEVEL >= 1:
                print(f"[tapegrad] auto compiles a {len(bw.order)}-record graph: "
                      f"{cost.explain(entry.plan, bw.order, entry.fused_seconds, entry.seen)}",
                      file=sys.stderr)
        if not entry.chosen:
            STATS["interpreted_backwards"] += 1
            if entry.fused:
                # The least time seen: a pass slowed by another thread (Numba initialising at
                # import, say) or the garbage collector must not look like a saving.
                t = cost.interpret_timed(bw, bw.order, entry.fused)
                if entry.fused_seconds is None or t < entry.fused_seconds:
                    entry.fused_seconds = t
            else:  # nothing a kernel could take over: never compiled
                bw.interpret(bw.order)
            return
    if entry.plan is None:
        entry.plan = make_plan(bw.order, bw.records, entry.key)
    if not entry.announced:
        entry.announced = True
        _announce(entry.plan, bw.order)
    STATS["jit_backwards"] += 1
    execute(entry.plan, bw)


class CompileNotice(UserWarning):
    """A backward is about to spend seconds compiling. Filter it like any warning:
    ``warnings.simplefilter("ignore", tapegrad.jit.CompileNotice)``."""


NOTICE_SECONDS = 2.0


def _announce(plan: Plan, order) -> None:
    """One line, once per structure, before a compile predicted to take seconds."""
    predicted = cost.compile_seconds(plan)
    if predicted > NOTICE_SECONDS:
        warnings.warn(f"tapegrad: compiling the backward of a {len(order)}-record graph "
                      f"({len(plan.runs)} fused runs), about {predicted:.0f} s; later passes "
                      "reuse it (TAPEGRAD_BACKEND=interp never compiles)", CompileNotice,
                      stacklevel=7)


def _verify_hash_hit(entry: _Entry, bw: Backward) -> None:
    """TAPEGRAD_JIT_VERIFY=1: build the full key on every hash hit and insist it is the
    entry's. The differential tests run with this on; a failure is a bug in the hashing."""
    key = graph_key(bw.order, bw.capture)
    if key != entry.key:
        raise AssertionError("tapegrad internal error: the structural hash found a plan for "
                             f"another graph ({explain_miss(key, entry.key, bw.order)})")


def execute(plan: Plan, bw: Backward) -> None:
    order = bw.order
    for step in plan.steps:
        if type(step) is int:
            bw.visit(order[step])  # a boundary: the interpreter's step
        else:
            _run(step, bw)


def _flat(a: np.ndarray) -> np.ndarray:
    """A kernel argument: flat, C-contiguous and writable. Numba types read-only arrays apart,
    so a read-only view (np.broadcast_to's) would compile the kernel a second time."""
    flags = a.flags
    if flags.c_contiguous and flags.writeable:
        return a.reshape(-1)
    return np.array(a, order="C").reshape(-1)


def _scalar(value, cast):
    """A constant as a kernel argument: cast to the run's dtype (a Python float would make a
    float32 kernel compute in float64); conditions stay bool."""
    if isinstance(value, np.ndarray):
        value = value.item()
    return value if type(value) is bool else cast(value)


def _run(run: Run, bw: Backward) -> None:
    order, adj = bw.order, bw.adj
    first = order[run.records[0].position]
    shape, dtype = first.shape, first.dtype
    n = int(np.prod(shape)) if shape else 1
    if n == 0:
        _run_empty(run, bw, shape, dtype)
        return
    cast = dtype.type
    incoming, gins = [], []
    for rr in run.records:
        g = adj.pop(order[rr.position].out, None)
        if g is None:
            incoming.append(None)
        elif g.ndim == 0 or not any(g.strides):  # one value broadcast (the seed, sum's VJP)
            incoming.append(SCALAR)
            gins.append(cast(g.reshape(-1)[0]))
        else:
            incoming.append(ARR)
            gins.append(_flat(np.asarray(g, dtype=dtype)))
    if all(k is None for k in incoming):
        return  # nothing flows into this run
    args = gins
    for rr in run.records:
        rec = order[rr.position]
        for value, kind in zip(rec.saved, rr.operands):
            if kind is ARR:
                if value.shape != shape:
                    value = np.broadcast_to(value, shape)
                args.append(_flat(value))
            elif kind is not None:
                args.append(_scalar(value, cast))
        for p in rec.params:
            args.append(cast(p))
    outs = [np.empty(n, dtype) for _ in run.externals]
    args += outs
    sig = tuple(incoming)
    kernel = run.kernels.get(sig)
    if kernel is None:
        with _lock:
            source = codegen.render(run, sig, dtype.name, cache=compile.cache_dir() is not None)
            kernel = compile.load(source)
            before = STATS["compiles"], STATS["compile_seconds"]
            compile.first_call(kernel, (min(n, 1), *args))
            if STATS["compiles"] > before[0]:
                cost.observe_compile(len(run.records), STATS["compile_seconds"] - before[1])
            run.kernels[sig] = kernel
    if VERIFY:
        known = len(kernel.signatures)
        call_kernel(kernel, n, args)
        if len(kernel.signatures) != known:
            raise AssertionError("tapegrad internal error: a kernel was compiled again for other "
                                 f"argument types: {kernel.signatures}")
    else:
        call_kernel(kernel, n, args)
    for pos, out in zip(run.externals, outs):
        slot = order[pos].out
        target = bw.records[slot].shape
        g = out.reshape(shape)
        if target != shape:
            g = NP.unbroadcast(g, target)
        bw.add(slot, g)


def _run_empty(run: Run, bw: Backward, shape: tuple, dtype) -> None:
    """A run over no elements: nothing to compute, but its outside inputs still receive their
    (zero) gradients, as the interpreter gives them."""
    arrived = False
    for rr in run.records:
        arrived |= bw.adj.pop(bw.order[rr.position].out, None) is not None
    if not arrived:
        return
    for pos in run.externals:
        slot = bw.order[pos].out
        g = np.zeros(shape, dtype)
        target = bw.records[slot].shape
        bw.add(slot, NP.unbroadcast(g, target) if target != shape else g)


def explain_miss(key: tuple, last: tuple | None, order) -> str:
    """Which record differs from the last structure seen, and how."""
    if last is None:
        return f"first graph seen ({len(key)} records)"
    if len(key) != len(last):
        return f"{len(key)} records where the last graph had {len(last)}"
    for i, (new, old) in enumerate(zip(key, last)):
        if new == old:
            continue
        rec = order[i]
        where = f"record %{rec.out} ({rec.op.name})"
        (sn, eq_n, ins_n, _), (so, eq_o, ins_o, _) = new, old
        if sn != so:
            for name, a, b in zip(SIG_FIELDS, sn, so):
                if a != b:
                    return f"{where}: {name} changed from {b!r} to {a!r}"
            return f"{where}: op changed from {so[0]!r} to {sn[0]!r}"
        if ins_n != ins_o:
            return f"{where}: its inputs come from different records"
        if eq_n != eq_o:
            return f"{where}: its shape no longer matches the record before it"
        return f"{where}: hooks, retain_grad or grad() inputs changed"
    return "unknown difference"


def clear_plans() -> None:
    _graphs.clear()
    _by_hash.clear()
    _last_key[0] = None


provide("find_by_hash", find_by_hash)
provide("run_jit", run_jit)
