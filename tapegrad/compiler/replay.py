"""Replay: a traced program run again on new inputs, with no tensor or record per op.

The forward computes each node from its operands: a fused Numba kernel for each run of
elementwise nodes (``fuse``), the op table's numpy forward or a replay rule (``rules``) for the
rest. What the backward needs (each record's saved operands and output, as ``emit`` would have
saved them) is kept per call; the backward runs the same records the eager tape would hold,
through the JIT's fused backward plan (or the interpreter under ``set_backend("interp")``).
"""
from __future__ import annotations

import threading

import numpy as np

from .. import backends
from ..engine import Backward, reachable
from ..jit.plan import graph_key, make_plan
from ..jit.runtime import execute
from ..ops import FORWARD
from ..tape import LEAF, NOTHING, TLS, Record
from . import fuse
from .rules import RULES, _index
from .trace import CONST, IN, NODE, Comparison, Program

_lock = threading.Lock()  # the template records take one call's saved values at a time


class Replay:
    """A program made runnable for one set of inputs that carry gradients."""

    def __init__(self, program: Program, grad_inputs: tuple) -> None:
        self.program = program
        nodes = program.nodes
        carries = [False] * len(nodes)
        slot_of_in = {k: i for i, k in enumerate(grad_inputs)}
        base = len(grad_inputs)
        self.grad_inputs = grad_inputs
        # Which operands carry gradients, and the records of the backward.
        self.masks = []
        records: dict = {}
        for i in slot_of_in.values():
            rec = Record(LEAF, "AccumulateGrad", (), NOTHING, (0,), (), (), None, ())
            rec.out = i
            records[i] = rec
        for j, node in enumerate(nodes):
            ins = []
            for kind, x in node.operands:
                if kind == IN and x in slot_of_in:
                    ins.append(slot_of_in[x])
                elif kind == NODE and carries[x]:
                    ins.append(base + x)
                else:
                    ins.append(None)
            carries[j] = type(node.op) is not Comparison and any(s is not None for s in ins)
            mask = sum(1 << k for k, s in enumerate(ins) if s is not None)
            self.masks.append(mask)
            if carries[j]:
                rec = Record(node.op, node.name, tuple(ins), NOTHING, node.params, (),
                             node.shape, node.dtype, ())
                rec.out = base + j
                records[base + j] = rec
        self.carries = carries
        self.records = records
        self.base = base
        self.steps = fuse.plan_forward(program, carries)
        # Per set of outputs that receive gradients: the records they reach (what the eager
        # tape's backward would visit) and their fused backward plan, made when first needed.
        self.backwards: dict = {}

    # ---- forward ------------------------------------------------------------------------
    def forward(self, ins: list) -> tuple:
        """The values of every node for inputs ``ins`` (arrays), and what the backward needs."""
        nodes = self.program.nodes
        vals: list = [None] * len(nodes)

        def resolve(r):
            kind, x = r
            if kind == NODE:
                return vals[x]
            if kind == IN:
                return ins[x]
            return x

        saved = {}
        for step in self.steps:
            if type(step) is not int:
                step.run(vals, ins)
                continue
            j = step
            node = nodes[j]
            xs = [resolve(r) for r in node.operands]
            for k, c in enumerate(node.casts):
                if c is not None and type(xs[k]) is np.ndarray and xs[k].dtype != c:
                    xs[k] = xs[k].astype(c)
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
            vals[j] = out
            if self.carries[j]:
                saved[j] = self._saved(j, node, xs, out, params)
        for j in fuse.fused_carrying(self.steps):
            if self.carries[j]:
                node = nodes[j]
                xs = [resolve(r) for r in node.operands]
                for k, c in enumerate(node.casts):
                    if c is not None and type(xs[k]) is np.ndarray and xs[k].dtype != c:
                        xs[k] = xs[k].astype(c)
                saved[j] = self._saved(j, node, xs, vals[j], node.params)
        return vals, saved

    def _saved(self, j: int, node, xs: list, out, params) -> tuple:
        """What ``emit`` would save for node j: the operands the needed derivatives read,
        Python numbers always, the output if a derivative reads it."""
        mask = self.masks[j]
        plan = node.op.plans[mask] if mask < 8 else (False,) * 4
        s = [None, None, None, out if plan[3] else None]
        for k in range(min(3, len(xs))):
            kind = node.operands[k][0]
            if plan[k] or kind not in (IN, NODE, CONST):
                s[k] = xs[k]
        shapes = tuple(x.shape if isinstance(x, np.ndarray) else () for x in xs)
        return tuple(s), shapes, params

    # ---- backward -----------------------------------------------------------------------
    def backward(self, saved: dict, vals: list, ins: list, grads: list) -> list:
        """Gradients of the inputs that carry them, from the outputs' gradients ``grads``."""
        program = self.program
        records, base = self.records, self.base
        result: list = [None] * len(self.grad_inputs)
        with _lock:
            for j, (s, shapes, params) in saved.items():
                rec = records[base + j]
                rec.saved = s
                rec.in_shapes = shapes
                rec.params = params
            for i, k in enumerate(self.grad_inputs):
                records[i].shape = ins[k].shape
                records[i].dtype = ins[k].dtype
            seeds = []
            for ((kind, x), _), g in zip(program.outputs, grads):
                if g is None:
                    continue
                if kind == NODE and self.carries[x]:
                    seeds.append((base + x, g))
                elif kind == IN and x in self.grad_inputs:
                    i = self.grad_inputs.index(x)
                    result[i] = g if result[i] is None else result[i] + g
            roots = tuple(sorted({slot for slot, _ in seeds}))
            found = self.backwards.get(roots)
            if found is None:
                order = reachable(records, roots)
                found = self.backwards[roots] = [order, None]
            order = found[0]
            bw = Backward(order, records, None)
            for slot, g in seeds:
                bw.seed(slot, g)
            with np.errstate(all="ignore"):
                if backends.get_backend() == "interp" or TLS.s.anomaly:
                    bw.interpret(order)
                else:
                    if found[1] is None:
                        found[1] = make_plan(order, records, graph_key(order, None))
                    execute(found[1], bw)
            for rec, g in bw.leaves:
                i = rec.out
                result[i] = g if result[i] is None else result[i] + g
            for rec in records.values():
                rec.saved = NOTHING
        return result


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
