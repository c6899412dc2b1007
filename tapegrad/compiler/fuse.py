"""Fused forward kernels: a run of elementwise nodes of one shape and one float dtype computed in
one loop over the elements, each value written once.

``EXPR`` is each elementwise op's value per element (``a``, ``b``, ``c`` its operands, params by
name), the forward twin of the op table's derivative formulas; an op without an expression is
computed by numpy, as eagerly. Kernels are cached by source (``jit.compile``), so a program seen
again with other sizes, or another program with the same run, compiles nothing.
"""
from __future__ import annotations

import ast

import numpy as np

from ..jit import compile as jit_compile
from ..jit.codegen import _Rewrite
from ..jit.plan import KERNEL_DTYPES, MAX_RUN
from ..jit.runtime import _call, _lock
from .trace import IN, NODE, PY

EXPR = {
    "add": "a + b", "sub": "a - b", "mul": "a * b", "div": "a / b", "neg": "-a",
    "exp": "exp(a)", "log": "log(a)", "log1p": "log1p(a)", "expm1": "expm1(a)",
    "sqrt": "sqrt(a)", "rsqrt": "1 / sqrt(a)", "sin": "sin(a)", "cos": "cos(a)",
    "tan": "tan(a)", "tanh": "tanh(a)", "abs": "abs(a)", "square": "a * a",
    "reciprocal": "1 / a", "relu": "where(a > 0, a, 0 * a)",
    "sigmoid": "where(a >= 0, 1, exp(-abs(a))) / (1 + exp(-abs(a)))",
    "leaky_relu": "where(a > 0, a, a * slope)",
    "clamp": "minimum(maximum(a, lo), hi)", "maximum": "maximum(a, b)",
    "minimum": "minimum(a, b)", "where": "where(a, b, c)", "atan": "arctan(a)",
    "sinh": "sinh(a)", "cosh": "cosh(a)",
    "silu": "a * where(a >= 0, 1, exp(-abs(a))) / (1 + exp(-abs(a)))",
}
# Functions an expression may call, and what they become in a kernel.
FUNCTIONS = {name: f"np.{name}" for name in (
    "exp", "log", "log1p", "expm1", "sqrt", "sin", "cos", "tan", "tanh", "maximum", "minimum",
    "arctan", "sinh", "cosh")}
FUNCTIONS["abs"] = "abs"


class _Forward(_Rewrite):
    """The backward codegen's rewrite (names, literals in the run's dtype), with ``where`` as a
    conditional expression and the forward's functions."""

    def visit_Call(self, node):
        self.generic_visit(node)
        fn = node.func.id
        if fn == "where":
            return ast.IfExp(*node.args)
        node.func = ast.parse(FUNCTIONS[fn], mode="eval").body
        return node


def render(expr: str, names: dict) -> str:
    tree = _Forward(names).visit(ast.parse(expr, mode="eval"))
    return ast.unparse(ast.fix_missing_locations(tree).body)


def _fusible(node, carries) -> bool:
    return (node.op.elementwise and node.op.name in EXPR and node.dtype in KERNEL_DTYPES
            and all(c is None or c == node.dtype for c in node.casts)
            and all(isinstance(p, (int, float)) and not isinstance(p, bool)
                    for p in node.params))


def plan_forward(program, carries) -> list:
    """The program's nodes as steps: an int (a node computed by numpy) or a ``FusedRun``."""
    steps: list = []
    current: list = []

    def close():
        if len(current) >= 2:
            for k in range(0, len(current), MAX_RUN):
                piece = current[k:k + MAX_RUN]
                if len(piece) >= 2:
                    steps.append(FusedRun(program, piece))
                else:
                    steps.extend(piece)
        else:
            steps.extend(current)
        current.clear()

    nodes = program.nodes
    for j, node in enumerate(nodes):
        if _fusible(node, carries):
            first = nodes[current[0]] if current else None
            if first is not None and (first.shape != node.shape or first.dtype != node.dtype):
                close()
            current.append(j)
        else:
            close()
            steps.append(j)
    close()
    return steps


def fused_carrying(steps) -> list:
    """The nodes inside fused runs (their saved values are taken after the forward)."""
    return [j for s in steps if type(s) is not int for j in s.nodes]


class FusedRun:
    """Nodes ``nodes`` (consecutive, one shape and dtype) as one kernel. Every node's value is
    written out: later nodes, the outputs and the backward may read any of them."""

    def __init__(self, program, nodes: list) -> None:
        self.nodes = nodes
        first = program.nodes[nodes[0]]
        self.shape, self.dtype = first.shape, first.dtype
        self.n = int(np.prod(self.shape)) if self.shape else 1
        inside = {j: i for i, j in enumerate(nodes)}
        self.inputs: list = []   # (ref, is_array) per kernel argument from outside the run
        arg_of: dict = {}
        lines = []
        for i, j in enumerate(nodes):
            node = program.nodes[j]
            names = {}
            for name, ref in zip("abc", node.operands):
                kind, x = ref
                if kind == NODE and x in inside:
                    names[name] = f"v{inside[x]}"
                    continue
                key = (kind, x) if kind in (IN, NODE) else ("id", id(ref))
                arg = arg_of.get(key)
                if arg is None:
                    arg = f"x{len(self.inputs)}"
                    arg_of[key] = arg
                    self.inputs.append(ref)
                names[name] = arg if kind == PY else f"{arg}[i]"
            for k, pname in enumerate(node.op.params):
                names[pname] = f"x{len(self.inputs)}"
                self.inputs.append((PY, node.params[k]))
            expr = render(EXPR[node.op.name], names)
            lines.append(f"v{i} = {expr}")
            lines.append(f"o{i}[i] = v{i}")
        args = ["n"] + [f"x{k}" for k in range(len(self.inputs))] + \
               [f"o{i}" for i in range(len(nodes))]
        self.source = "\n".join([
            "# generated by tapegrad.compiler.fuse: one fused forward kernel",
            "import numpy as np",
            "from numba import njit",
            "",
            f"_f = np.{self.dtype.name}",
            "",
            "",
            "@njit(cache=True, fastmath=False, nogil=True, error_model='numpy')",
            f"def kernel({', '.join(args)}):",
            "    for i in range(n):",
        ] + ["        " + line for line in lines]) + "\n"
        self.kernel = None

    def run(self, vals: list, ins: list) -> None:
        shape, dtype, n = self.shape, self.dtype, self.n
        args = []
        for kind, x in self.inputs:
            v = vals[x] if kind == NODE else ins[x] if kind == IN else x
            if type(v) is np.ndarray:
                if v.shape != shape:
                    v = np.broadcast_to(v, shape)
                if v.dtype != dtype and v.dtype != np.bool_:
                    v = v.astype(dtype)
                flags = v.flags
                v = v.reshape(-1) if flags.c_contiguous and flags.writeable else \
                    np.array(v, order="C").reshape(-1)
            elif type(v) is not bool:
                v = dtype.type(v)
            args.append(v)
        outs = [np.empty(n, dtype) for _ in self.nodes]
        args += outs
        if self.kernel is None:
            with _lock:
                source = self.source
                if jit_compile.cache_dir() is None:
                    source = source.replace("cache=True", "cache=False")
                self.kernel = jit_compile.load(source)
                jit_compile.first_call(self.kernel, (min(n, 1), *args))
        if n:
            _call(self.kernel, n, args)
        for j, o in zip(self.nodes, outs):
            vals[j] = o.reshape(shape)

