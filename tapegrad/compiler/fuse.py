"""Fused kernels for a run of elementwise nodes of one shape and one float dtype.

The forward kernel computes the run in one loop over the elements and writes out only the
values something outside the run reads. The backward kernel recomputes the run's values from
its inputs (cheaper than a pass over memory per saved value) and then, in the same loop, runs
the op table's derivative formulas in reverse, keeping every adjoint inside the run in a
register: one pass over memory, as a hand-fused kernel makes it.

``EXPR`` is each elementwise op's value per element (``a``, ``b``, ``c`` its operands, params by
name): the forward twin of the op table's derivative formulas; an op without an expression is
computed by numpy, as eagerly. Kernels are cached by source (``jit.compile``) and the source
holds no sizes, so a program replayed at other sizes, or another program with the same run,
compiles nothing.
"""
from __future__ import annotations

import functools
import re

import numpy as np

from .. import threads
from ..jit import compile as jit_compile
from ..jit.codegen import RENDER_FUNCTIONS, kernel_module, render_formula
from ..jit.runtime import _far, _flat, _lock, call_kernel
from ..ops import NP
from .trace import IN, NODE, PY

EXPR = {
    "add": "a + b", "sub": "a - b", "mul": "a * b", "div": "a / b", "neg": "-a",
    "exp": "exp(a)", "log": "log(a)", "log1p": "log1p(a)", "expm1": "expm1(a)",
    "sqrt": "sqrt(a)", "rsqrt": "1 / sqrt(a)", "sin": "sin(a)", "cos": "cos(a)",
    "tan": "tan(a)", "tanh": "tanh(a)", "abs": "abs(a)", "square": "a * a",
    "reciprocal": "1 / a", "relu": "where(a > 0, a, 0)",
    "sigmoid": "where(a >= 0, 1, exp(-abs(a))) / (1 + exp(-abs(a)))",
    "leaky_relu": "where(a > 0, a, a * slope)",
    "clamp": "minimum(maximum(a, lo), hi)", "maximum": "maximum(a, b)",
    "minimum": "minimum(a, b)", "where": "where(a, b, c)", "atan": "arctan(a)",
    "sinh": "sinh(a)", "cosh": "cosh(a)",
    "silu": "a * where(a >= 0, 1, exp(-abs(a))) / (1 + exp(-abs(a)))",
}
# Functions an expression may call, and what they become in a kernel.
# (exp, sin, cos and tanh as the backward's formulas render them: vmath's, which vectorise.)
FUNCTIONS = {name: f"np.{name}" for name in (
    "log", "log1p", "expm1", "sqrt", "tan", "maximum", "minimum", "arctan", "sinh", "cosh")}
FUNCTIONS.update({name: RENDER_FUNCTIONS[name] for name in ("exp", "sin", "cos", "tanh")})
FUNCTIONS["abs"] = "abs"
ARR, SCALAR = "arr", "scalar"
# Ops whose value costs a libm call or a long polynomial; and the size from which the backward
# reads them rather than recomputing.
_EXPENSIVE = re.compile(r"\b(exp|log|log1p|expm1|sin|cos|tan|tanh|sinh|cosh|arctan)\(")
STORE_MIN = 1 << 14


def render(expr: str, names: dict, cast: bool) -> str:
    return render_formula(expr, names, cast, FUNCTIONS)


def _module(dtype, args: list, lines: list, comment: str, setup: list, sums: list = (),
            loop: bool = True) -> str:
    return kernel_module(f"tapegrad.compiler.fuse: {comment}", dtype.name, args, lines, True,
                         setup, sums, loop)


def _load(source: str, args: list, n: int):
    with _lock:
        if jit_compile.cache_dir() is None:
            source = source.replace("cache=True", "cache=False")
        kernel = jit_compile.load(source)
        jit_compile.first_call(kernel, (min(n, 1), *args))
    return kernel


class FusedRun:
    """Nodes ``nodes`` (consecutive, one shape and dtype) as one forward kernel, writing out
    only the values read outside the run, and backward kernels (one per way the adjoints
    arrive) that recompute the run's values."""

    def __init__(self, program, nodes: list, readers: dict, sums: list = ()) -> None:
        self.program = program
        self.nodes = nodes
        self.sums = list(sums)   # absorbed full sums and means of the run's nodes
        first = program.nodes[nodes[0]]
        self.shape, self.dtype = first.shape, first.dtype
        self.n = int(np.prod(self.shape)) if self.shape else 1
        self.cast = self.dtype != np.float64   # a float32 kernel casts its literals
        inside = {j: i for i, j in enumerate(nodes)}
        self.inside = inside
        self.escaping = [j for j in nodes if any(r not in inside and r not in self.sums
                                                 for r in readers.get(j, ()))]
        # Where the backward's adjoints come from: each escaping node's, each sum's (one
        # value, for every element of the node it sums).
        self.sources = [(NODE, j) for j in self.escaping] + [(NODE, j) for j in self.sums]
        self.source_nodes = self.escaping + [program.nodes[j].operands[0][1] for j in self.sums]
        # Transcendental values on large arrays are written out for the backward to read:
        # a pass over memory costs less than computing exp or sin again.
        self.loaded = [j for j in nodes if self.n >= STORE_MIN
                       and _EXPENSIVE.search(EXPR[program.nodes[j].op.name])]
        self.written = self.escaping + [j for j in self.loaded if j not in self.escaping]
        self.inputs: list = []   # refs of the kernel arguments from outside the run
        # Python numbers (operands and params) travel in one array ``p``: a kernel call costs
        # about a microsecond per argument, and a value change must not recompile.
        self.scalars: list = []
        arg_of: dict = {}
        self.body = []           # per node: (its forward line, the names of its operands)
        self.first_scalar = []   # per node: the index in ``p`` of its first Python number
        for i, j in enumerate(nodes):
            node = program.nodes[j]
            self.first_scalar.append(len(self.scalars))
            names = {}
            for name, ref in zip("abc", node.operands):
                kind, x = ref
                if kind == NODE and x in inside:
                    names[name] = f"v{inside[x]}"
                    continue
                if kind == PY and type(x) is not bool:
                    names[name] = self._scalar(x)
                    continue
                key = (kind, x) if kind in (IN, NODE) else ("id", id(ref))
                arg = arg_of.get(key)
                if arg is None:
                    arg = arg_of[key] = f"x{len(self.inputs)}"
                    self.inputs.append(ref)
                names[name] = arg if kind == PY else f"{arg}_i"   # loaded once per element
            for k, pname in enumerate(node.op.params):
                names[pname] = self._scalar(node.params[k])
            self.body.append((f"v{i} = {render(EXPR[node.op.name], names, self.cast)}", names))
        self.arg_of = arg_of
        self.kernel = None
        self.backward_kernels: dict = {}
        self.fixed = self.live = None

    @functools.cached_property
    def source(self) -> str:
        """The forward kernel's source (made when first asked for)."""
        return self._forward_source()

    def _forward_source(self) -> str:
        inside = self.inside
        args = ["n", "p"] + [f"x{k}" for k in range(len(self.inputs))] + \
               [f"o{inside[j]}" for j in self.written]
        lines = self._loads() + [line for line, _ in self.body] + [
            f"o{inside[j]}[i] = v{inside[j]}" for j in self.written]
        sums = [f"v{inside[self.program.nodes[j].operands[0][1]]}" for j in self.sums]
        return _module(self.dtype, args, lines, "one fused forward kernel", self._setup(), sums)

    def _scalar(self, value) -> str:
        self.scalars.append(value)
        return f"p_{len(self.scalars) - 1}"

    # Each scalar and each input element is read once into a local: an indexing expression
    # costs Numba a few milliseconds of compile time for each place it appears.
    def _setup(self) -> list:
        return [f"p_{k} = p[{k}]" for k in range(len(self.scalars))]

    def _loads(self) -> list:
        return [f"x{k}_i = x{k}[i]" for k, (kind, _) in enumerate(self.inputs) if kind != PY]

    def _arg(self, v):
        """A kernel argument: a flat array of the run's shape (broadcast where an input is
        smaller), or a scalar in the run's dtype."""
        shape, dtype = self.shape, self.dtype
        if type(v) is np.ndarray:
            if v.shape != shape:
                v = np.broadcast_to(v, shape)
            if v.dtype != dtype and v.dtype != np.bool_:
                v = v.astype(dtype)
            return _flat(v)
        return v if type(v) is bool else dtype.type(v)

    def args(self, vals: list, ins: list) -> list:
        """The kernel arguments from outside the run; constants are converted once. An input
        of the run's shape and dtype on the first call has them on every call of this replay
        (the signature fixes the inputs', the program the nodes'): it is only flattened."""
        if self.fixed is None:
            self.fixed = [np.array(self.scalars or [0], dtype=self.dtype)] + [
                None if kind in (IN, NODE) else self._arg(x) for kind, x in self.inputs]
            self.live = []
            for k, (kind, x) in enumerate(self.inputs):
                if kind in (IN, NODE):
                    v = vals[x] if kind == NODE else ins[x]
                    plain = (type(v) is np.ndarray and v.shape == self.shape
                             and v.dtype == self.dtype)
                    self.live.append((k + 1, kind == NODE, x, plain))
        out = list(self.fixed)
        arg = self._arg
        for k, is_node, x, plain in self.live:
            v = vals[x] if is_node else ins[x]
            out[k] = v.reshape(-1) if plain else arg(v)
        return out

    def run(self, vals: list, ins: list) -> list:
        """Compute the run; store the values read outside it; return what its backward
        kernel reads: the same arguments, then the values written for it."""
        n, dtype, shape = self.n, self.dtype, self.shape
        args = self.args(vals, ins)
        outs = [np.empty(n, dtype) for _ in self.written]
        if self.kernel is None:
            self.kernel = _load(self.source, args + outs, n)
        result = None
        if n >= threads.PARALLEL_MIN and threads.THREADS > 1:
            result = call_kernel(self.kernel, n, args + outs)
        elif n:
            result = self.kernel(n, *args, *outs)
            if result is not None and _far(result):   # its libm twin must run
                result = call_kernel(self.kernel, n, args + outs)
        for j, o in zip(self.escaping, outs):
            vals[j] = o.reshape(shape)
        for m, j in enumerate(self.sums):
            node = self.program.nodes[j]
            total = result[m + 1] if result is not None else 0.0
            if node.op.name == "mean":
                total = total / n if n else np.nan
            vals[j] = np.array(total, dtype=node.dtype)
        if self.loaded:
            by_node = dict(zip(self.written, outs))
            args = args + [by_node[j] for j in self.loaded]
        return args

    # ---- backward ---------------------------------------------------------------------
    def backward(self, args: list, adj: dict, carrying: set, ins: list, vals: list) -> None:
        """Add the run's input gradients to ``adj`` (keyed by ref), from the adjoints that
        arrived for its escaping nodes and its sums. ``carrying``: the refs that need
        gradients."""
        dtype, n = self.dtype, self.n
        incoming, gins = [], []
        pop = adj.pop
        escaping = len(self.escaping)
        for k, key in enumerate(self.sources):
            g = pop(key, None)
            if g is None:
                incoming.append(None)
            elif k >= escaping:   # a sum's: the same value for every element (a mean's / n)
                incoming.append(SCALAR)
                v = g.reshape(-1)[0]
                if n and self.program.nodes[key[1]].op.name == "mean":
                    v = v / n
                gins.append(dtype.type(v))
            elif g.size and (g.ndim == 0 or not any(g.strides)):  # one value, broadcast
                incoming.append(SCALAR)
                gins.append(dtype.type(g.reshape(-1)[0]))
            else:
                incoming.append(ARR)
                gins.append(_flat(np.asarray(g, dtype=dtype)))
        key = tuple(incoming)
        found = self.backward_kernels.get(key)
        if found is None:
            if all(k is None for k in incoming):
                return
            targets = self._reached(incoming, carrying)
            outs = [np.empty(n, dtype) for _ in targets]
            source = self._backward_source(incoming, targets, carrying)
            # Per target: its ref, and what its gradient needs after the kernel (the shapes
            # and dtypes are the signature's: the same on every call of this replay).
            post = []
            for ref in targets:
                kind, x = ref
                target = ins[x] if kind == IN else vals[x]
                post.append((ref, target.shape if target.shape != self.shape else None,
                             target.dtype if target.dtype != dtype else None))
            found = self.backward_kernels[key] = (_load(source, gins + args + outs, n), post)
        kernel, post = found
        outs = [np.empty(n, dtype) for _ in post]
        if n >= threads.PARALLEL_MIN and threads.THREADS > 1:
            call_kernel(kernel, n, gins + args + outs)
        elif n:
            if kernel(n, *gins, *args, *outs):      # its libm twin must run
                call_kernel(kernel, n, gins + args + outs)
        else:
            for o in outs:
                o.fill(0)
        shape = self.shape
        for (ref, smaller, cast), o in zip(post, outs):
            g = o.reshape(shape)
            if smaller is not None:
                g = NP.unbroadcast(g, smaller)
            if cast is not None:
                g = g.astype(cast)
            prev = adj.get(ref)
            adj[ref] = g if prev is None else prev + g

    def _backward_source(self, incoming: list, targets: list, carrying: set) -> str:
        """The backward kernel: the run recomputed (or its stored values read), then the
        derivative formulas in reverse for the nodes a gradient reaches (as the eager backward
        visits only those), each register assigned by its first contribution and added to by
        the rest (fewer statements compile faster than zero-initialised sums); a register whose
        first contribution is another register as it is (an add's) is that register until a
        second one arrives."""
        program, inside = self.program, self.inside
        args = ["n"]
        lines = []
        defined: set = set()
        k = 0
        for j, kind in zip(self.source_nodes, incoming):
            if kind is None:
                continue
            args.append(f"gin{k}")
            reg = f"g{inside[j]}"
            value = f"gin{k}[i]" if kind == ARR else f"gin{k}"
            lines.append(f"{reg} += {value}" if reg in defined else f"{reg} = {value}")
            defined.add(reg)
            k += 1
        args += ["p"] + [f"x{m}" for m in range(len(self.inputs))]
        args += [f"s{m}" for m in range(len(self.loaded))]
        target_of = {ref: f"e{m}" for m, ref in enumerate(targets)}
        load = {inside[j]: m for m, j in enumerate(self.loaded)}
        lines = self._loads() + [f"v{i} = s{load[i]}[i]" if i in load else line
                                 for i, (line, _) in enumerate(self.body)] + lines
        live = self._live(incoming, carrying)
        alias: dict = {}
        for i in range(len(self.nodes) - 1, -1, -1):
            j = self.nodes[i]
            if j not in live:
                continue
            node = program.nodes[j]
            names = dict(self.body[i][1], g=alias.get(f"g{i}", f"g{i}"), out=f"v{i}")
            for ref, formula in zip(node.operands, node.op.grads):
                if not formula:
                    continue
                kind, x = ref
                if kind == NODE and x in inside:
                    if not self._carries(x, carrying):
                        continue
                    dest = f"g{inside[x]}"
                elif kind in (IN, NODE) and ref in target_of:
                    dest = target_of[ref]
                else:
                    continue
                expr = render_formula(formula, names, self.cast)
                if dest in alias:
                    lines.append(f"{dest} = {alias.pop(dest)} + ({expr})")   # (a where's)
                elif dest in defined:
                    lines.append(f"{dest} += {expr}")
                elif expr.isidentifier():
                    alias[dest] = expr
                    defined.add(dest)
                else:
                    lines.append(f"{dest} = _f({expr})" if self.cast else f"{dest} = {expr}")
                    defined.add(dest)
        args += [f"out{m}" for m in range(len(targets))]
        lines += [f"out{m}[i] = {alias.get(f'e{m}', f'e{m}')}" for m in range(len(targets))]
        return _module(self.dtype, args, lines, "one fused backward kernel, recomputing its "
                       "forward", self._setup())

    def _carries(self, j: int, carrying: set) -> bool:
        return (NODE, j) in carrying

    def _live(self, incoming: list, carrying: set) -> set:
        """The run's nodes a gradient reaches from the adjoints that arrived."""
        live = {j for j, kind in zip(self.source_nodes, incoming) if kind is not None}
        program, inside = self.program, self.inside
        for j in reversed(self.nodes):
            if j in live:
                for ref, formula in zip(program.nodes[j].operands, program.nodes[j].op.grads):
                    if formula and ref[0] == NODE and ref[1] in inside and ref in carrying:
                        live.add(ref[1])
        return live

    def _reached(self, incoming: list, carrying: set) -> list:
        """The inputs of the run a gradient reaches from the adjoints that arrived (as the
        eager backward visits only what its root reaches: the others get no gradient)."""
        live = self._live(incoming, carrying)
        reached = set()
        for j in self.nodes:
            if j in live:
                node = self.program.nodes[j]
                for ref, formula in zip(node.operands, node.op.grads):
                    if formula and ref[0] in (IN, NODE) and ref in carrying and not (
                            ref[0] == NODE and ref[1] in self.inside):
                        reached.add(ref)
        return [r for r in self.inputs if r[0] in (IN, NODE) and r in reached]
