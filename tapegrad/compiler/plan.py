"""Planning a replay's forward: which nodes become fused runs, and where long runs are cut.

Consecutive elementwise nodes of one shape and float dtype form a run; a sum or mean over a
small run's node is absorbed by it; a long run is cut into pieces (compile time grows faster
than a kernel's length), at its loop's period when it repeats itself, and on small arrays a
repeating run is rolled into one kernel with a loop over its iterations (``roll``).
"""
from __future__ import annotations

import numpy as np

from ..jit.plan import KERNEL_DTYPES, LARGE_RUN_ELEMENTS, MAX_RUN
from . import roll
from .fuse import EXPR, FusedRun
from .trace import IN, NODE, PY


def fusible(node) -> bool:
    return (node.op.elementwise and node.op.name in EXPR and node.dtype in KERNEL_DTYPES
            and all(c is None or c == node.dtype for c in node.casts)
            and all(isinstance(p, (int, float)) and not isinstance(p, bool)
                    for p in node.params))


def plan_forward(program) -> list:
    """The program's nodes as steps: an int (a node computed by numpy) or a ``FusedRun``.

    A sum or mean over every element of a run's node is computed by the run's kernel as it
    goes (``absorbs``): no pass over memory for it, no numpy call, no record."""
    steps: list = []
    current: list = []
    sums: list = []      # absorbed reductions of the current run
    readers = _readers(program)

    def close():
        # As the backward JIT cuts its runs (jit.plan): longer runs on large arrays, where a
        # cut costs a pass over memory and compile time is small beside run time.
        limit = MAX_RUN
        n = int(np.prod(nodes[current[0]].shape)) if current else 0
        if n >= LARGE_RUN_ELEMENTS:
            limit = 2 * MAX_RUN
        rest = list(current)
        while len(rest) > limit and n <= roll.ROLL_MAX:   # a long run on a small array
            rolled = _rolled(program, rest, limit, readers, sums)
            if rolled is None:
                break
            steps.append(rolled)
            rest = rest[len(rolled.nodes):]
        for piece in _pieces(program, rest, limit, readers):
            mine = [j for j in sums if nodes[j].operands[0][1] in piece]
            if len(piece) >= 2:
                steps.append(FusedRun(program, piece, readers, mine))
            else:
                steps.extend(piece + mine)
        current.clear()
        sums.clear()

    nodes = program.nodes
    for j, node in enumerate(nodes):
        if fusible(node):
            first = nodes[current[0]] if current else None
            if first is not None and (first.shape != node.shape or first.dtype != node.dtype
                                      or any(r in sums for k, r in node.operands if k == NODE)):
                close()
            current.append(j)
        elif current and absorbs(node, nodes[current[0]], current):
            sums.append(j)
        else:
            close()
            steps.append(j)
    close()
    return steps


# Runs over at most this many elements absorb their sums: an in-order sum keeps LLVM from
# vectorising the loop, which costs nothing on a few elements and much on many (where
# numpy's sum is one fast pass anyway). Float64 only: the kernel sums in float64, and a
# float32 sum must overflow (or cancel) as numpy's float32 sum does.
ABSORB_MAX = 1 << 12


def absorbs(node, first, run: list) -> bool:
    """Whether ``node`` is a sum or mean over every element of a node of ``run`` (whose first
    node is ``first``), in the run's dtype, and the run is small enough to absorb it."""
    if node.op.name not in ("sum", "mean") or node.shape != () or first.shape == ():
        return False
    if int(np.prod(first.shape)) > ABSORB_MAX or first.dtype != np.float64:
        return False
    kind, x = node.operands[0]
    dims, keepdim = node.params
    return (kind == NODE and x in run and not keepdim and node.dtype == first.dtype
            and node.casts[0] is None
            and (dims is None or sorted(dims) == list(range(len(first.shape)))))


def _period(nodes: list, run: list, limit: int) -> int | None:
    """The period of ``run`` when it repeats itself (a loop body) with at most ``limit``
    nodes, else None. For a candidate period p, an operand within 2p nodes back is known by its
    distance (this iteration or the one before); one further back by "far" (a value from before
    the loop, read by every iteration, is ever further back)."""
    m = len(run)
    index = {j: i for i, j in enumerate(run)}
    ops, dists = [], []
    for i, j in enumerate(run):
        node = nodes[j]
        ops.append(node.op.name)
        dists.append(tuple(i - index[x] if kind == NODE and x in index else kind
                           for kind, x in node.operands))
    skip = m // 8  # the first and last iterations read the loop's inputs: look between them

    def shape(i, window):
        return ops[i], tuple(d if type(d) is str or d < window else "far" for d in dists[i])

    for period in range(1, limit + 1):
        window = 2 * period
        if all(shape(i, window) == shape(i + period, window)
               for i in range(skip, m - period - skip)):
            return period
    return None


def _rolled(program, run: list, limit: int, readers: dict, sums: list):
    """The longest loop at the start of ``run`` as a ``RolledRun``, or None."""
    period = _period(program.nodes, run, limit)
    found = None if period is None else roll.find(program.nodes, run, period, readers, sums)
    if found is None:
        return None
    head, count, slots = found
    # (iterations past what keeps the backward's values within BUF_MAX roll in another kernel)
    n = int(np.prod(program.nodes[run[0]].shape))
    count = min(count, roll.BUF_MAX // (2 * period * max(n, 1)))
    if count < 2:
        return None
    nodes = run[:head + count * period]
    mine = [j for j in sums if program.nodes[j].operands[0][1] in nodes]
    return roll.RolledRun(program, nodes, readers, mine, head, period, count, slots)


def _pieces(program, run: list, limit: int, readers: dict) -> list:
    """A run cut into pieces of at most ``limit`` nodes. A run longer than that is cut at a
    multiple of its period when it repeats itself (a loop body), and where the cuts start is
    chosen so that the fewest different kernels result: a loop whose first iteration reads its
    inputs directly then has one short piece for that and one kernel for all the others."""
    m = len(run)
    if m <= limit:
        return [list(run)] if run else []   # (a copy: the caller clears its list)
    nodes = program.nodes
    period = _period(nodes, run, limit)
    if period is None:
        return [run[k:k + limit] for k in range(0, m, limit)]
    length = period * (limit // period)
    best = None
    for offset in sorted(set(range(min(period, m))) | {m % length}):
        cuts = ([run[:offset]] if offset else []) + [run[k:k + length]
                                                     for k in range(offset, m, length)]
        kinds = len({_piece_key(nodes, c, readers) for c in cuts if len(c) >= 2})
        if best is None or (kinds, len(cuts)) < best[0]:
            best = ((kinds, len(cuts)), cuts)
    return best[1]


def _piece_key(nodes: list, piece: list, readers: dict) -> tuple:
    """What a piece's kernel source depends on: per node its op, Python values' places, its
    operands (a node of the piece by distance, an outside value by the order it is first
    read in) and whether something outside the piece reads it."""
    inside = {j: i for i, j in enumerate(piece)}
    outside: dict = {}
    key = []
    for i, j in enumerate(piece):
        node = nodes[j]
        ops = []
        for kind, x in node.operands:
            if kind == NODE and x in inside:
                ops.append(i - inside[x])
            elif kind == PY and type(x) is not bool:
                ops.append(PY)
            elif kind in (IN, NODE):
                ops.append(("arg", outside.setdefault((kind, x), len(outside))))
            else:
                ops.append(("const", len(outside)))
                outside[("id", len(outside))] = None
        escapes = any(r not in inside for r in readers.get(j, ()))
        key.append((node.op.name, len(node.params), tuple(ops), escapes))
    return tuple(key)


def _readers(program) -> dict:
    """node -> the nodes that read it; -1 stands for the program's outputs."""
    readers: dict = {}
    for j, node in enumerate(program.nodes):
        for kind, x in node.operands:
            if kind == NODE:
                readers.setdefault(x, set()).add(j)
        for p in node.params:
            for r in _refs_in(p):
                if r[0] == NODE:
                    readers.setdefault(r[1], set()).add(j)
    for (kind, x), _ in program.outputs:
        if kind == NODE:
            readers.setdefault(x, set()).add(-1)
    return readers


def _refs_in(value):
    if isinstance(value, (tuple, list)):
        for v in value:
            yield from _refs_in(v)
    elif type(value).__name__ == "Ref":
        yield value.ref
