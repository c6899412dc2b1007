"""Replay: a traced program run again on new inputs, with no tensor or record per op.

The forward computes the nodes in order: a fused kernel per run of elementwise nodes
(``fuse``), the op table's numpy forward or a replay rule (``rules``) for the rest. Only those
other nodes keep what their derivative reads (as ``emit`` would have saved it), in a record of
their own; a fused run keeps just its kernel's arguments, and its backward kernel recomputes
the run. The backward walks the steps in reverse: a fused run's backward kernel, or a record's
VJP (the interpreter's step), adjoints kept by ref.
"""
from __future__ import annotations

import threading

import numpy as np

from ..engine import vjp_numpy
from ..ops import FORWARD
from ..tape import NOTHING, Record
from .plan import plan_forward
from .rules import RULES, _index
from .trace import CONST, IN, NODE, Comparison, Program

_lock = threading.Lock()  # a record takes one call's saved values at a time


def _in(ref, refs: set) -> bool:
    """``ref in refs`` for any ref: a constant's holds an array, which does not hash."""
    return ref[0] in (IN, NODE) and ref in refs


class ShapeChanged(Exception):
    """A replayed node's value has another shape than at the trace: the shape depended on
    values (a boolean mask, say). The call runs eagerly instead."""


class Replay:
    """A program made runnable for one set of inputs that carry gradients."""

    def __init__(self, program: Program, grad_inputs: tuple) -> None:
        self.program = program
        self.grad_inputs = grad_inputs
        nodes = program.nodes
        carrying = {(IN, k) for k in grad_inputs}
        for j, node in enumerate(nodes):
            if type(node.op) is not Comparison and any(_in(r, carrying) for r in node.operands):
                carrying.add((NODE, j))
        self.carrying = carrying
        self.carries = [(NODE, j) in carrying for j in range(len(nodes))]
        self.steps = plan_forward(program)
        fused = {j for s in self.steps if type(s) is not int for j in s.nodes + s.sums}
        # A record per carrying node outside the fused runs: its VJP is the interpreter's.
        self.records: dict = {}
        for j, node in enumerate(nodes):
            if self.carries[j] and j not in fused:
                ins = tuple(0 if _in(r, carrying) else None for r in node.operands)
                self.records[j] = Record(node.op, node.name, ins, NOTHING, node.params, (),
                                         node.shape, node.dtype, ())

    # ---- forward ------------------------------------------------------------------------
    def forward(self, ins: list, keep: bool) -> tuple:
        """Every node's value for inputs ``ins`` (arrays) and, with ``keep``, what the
        backward needs: per record its saved values, per fused run its kernel's arguments."""
        nodes = self.program.nodes
        vals: list = [None] * len(nodes)

        def resolve(r):
            kind, x = r
            if kind == NODE:
                return vals[x]
            if kind == IN:
                return ins[x]
            return x

        saved: dict = {}
        records = self.records
        for k, step in enumerate(self.steps):
            if type(step) is not int:
                args = step.run(vals, ins)
                if keep:
                    saved[-1 - k] = args  # negative keys: runs; node indices: records
                continue
            node = nodes[step]
            xs = [resolve(r) for r in node.operands]
            for i, c in enumerate(node.casts):
                if c is not None and type(xs[i]) is np.ndarray and xs[i].dtype != c:
                    xs[i] = xs[i].astype(c)
            op = node.op
            params = node.params
            if op.elementwise:
                out = FORWARD[op.name](*xs, *params)
            elif type(op) is Comparison:
                out = op.ufunc(*xs)
            else:
                rule = RULES[op.name]
                if rule.live_params:
                    params = tuple(_index(p, resolve) if n in rule.live_params else p
                                   for n, p in zip(op.params, params))
                out = rule.fn(xs, params, node)
            if type(out) is not np.ndarray or out.dtype != node.dtype:
                out = np.asarray(out, dtype=node.dtype)
            if out.shape != node.shape:
                raise ShapeChanged(f"{node.name}: shape {out.shape}, traced {node.shape}")
            vals[step] = out
            if keep and step in records:
                saved[step] = self._saved(records[step], node, xs, out, params)
        return vals, saved

    @staticmethod
    def _saved(rec: Record, node, xs: list, out, params) -> tuple:
        """What ``emit`` would save: the operands the needed derivatives read, Python numbers
        always, the output if a derivative reads it; the operands' shapes; the params."""
        mask = sum(1 << k for k, s in enumerate(rec.ins) if s is not None)
        plan = node.op.plans[mask] if mask < 8 else (False,) * 4
        s = [None, None, None, out if plan[3] else None]
        for k in range(min(3, len(xs))):
            if plan[k] or node.operands[k][0] not in (IN, NODE, CONST):
                s[k] = xs[k]
        shapes = tuple(x.shape if isinstance(x, np.ndarray) else () for x in xs)
        return tuple(s), shapes, params

    # ---- backward -----------------------------------------------------------------------
    def backward(self, saved: dict, vals: list, ins: list, grads: list) -> list:
        """Gradients of the inputs that carry them, from the outputs' gradients ``grads``
        (one per leaf of the result, None where none arrives)."""
        program, carrying = self.program, self.carrying
        adj: dict = {}

        def add(ref, g, like):
            if g.dtype != like.dtype:
                g = g.astype(like.dtype)
            prev = adj.get(ref)
            adj[ref] = g if prev is None else prev + g

        for ((kind, x), _), g in zip(program.outputs, grads):
            if g is not None and _in((kind, x), carrying):
                add((kind, x), np.asarray(g), vals[x] if kind == NODE else ins[x])
        nodes = program.nodes
        # (numpy's warnings are off: this runs inside the engine's backward, which turns them
        # off as the eager backward has them)
        for k in range(len(self.steps) - 1, -1, -1):
            step = self.steps[k]
            if type(step) is not int:
                step.backward(saved[-1 - k], adj, carrying, ins, vals)
                continue
            g = adj.pop((NODE, step), None)
            rec = self.records.get(step)
            if g is None or rec is None:
                continue
            with _lock:
                rec.saved, rec.in_shapes, rec.params = saved[step]
                try:
                    grads_in = vjp_numpy(rec, g)
                finally:
                    rec.saved = NOTHING
            for ref, gi in zip(nodes[step].operands, grads_in):
                if gi is None or not _in(ref, carrying):
                    continue
                kind, x = ref
                add(ref, np.asarray(gi), vals[x] if kind == NODE else ins[x])
        return [adj.get((IN, k)) for k in self.grad_inputs]


def resolve_outputs(program: Program, vals: list, ins: list) -> list:
    """Each leaf of the result: an array for a tensor, the traced value for a Python one."""
    out = []
    for (kind, x), _ in program.outputs:
        if kind == NODE:
            out.append(vals[x])
        elif kind == IN:
            out.append(ins[x])
        else:
            out.append(x)
    return out
