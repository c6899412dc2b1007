"""``tapegrad.compiler`` (PyTorch's ``torch.compiler``): what ``tapegrad.compile`` is made of,
and ``explain``/``reset``.

A function's first call with a new signature is traced (``trace``: run eagerly, its tape
captured as a program); later calls whose signature matches (``function``) replay that program
(``replay``: numpy for boundaries, fused Numba kernels for runs of elementwise ops, ``fuse``)
and carry one ``CompiledFunctionBackward`` record. Anything the trace cannot account for is a
graph break: that signature runs eagerly, so a compiled function always computes what its
eager self computes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..jit import clear_cache
from .fuse import plan_forward
from .trace import _mine, listing, run_traced

__all__ = ["ExplainOutput", "explain", "is_compiling", "reset"]


@dataclass
class ExplainOutput:
    """What ``explain(fn)(*args)`` found, as ``torch._dynamo.explain`` reports it: graphs,
    graph breaks and why, ops per graph; here also each graph's program and its kernels."""

    graph_count: int = 0
    graph_break_count: int = 0
    break_reasons: list = field(default_factory=list)
    op_count: int = 0
    programs: list = field(default_factory=list)   # each graph as text
    kernels: list = field(default_factory=list)    # per graph: fused forward kernels' sources

    def __str__(self) -> str:
        out = [f"Graph Count: {self.graph_count}", f"Graph Break Count: {self.graph_break_count}",
               f"Op Count: {self.op_count}", "Break Reasons:"]
        out += [f"  Break Reason {i + 1}: {r}" for i, r in enumerate(self.break_reasons)]
        for i, (text, kernels) in enumerate(zip(self.programs, self.kernels)):
            out.append(f"Graph {i + 1}:")
            out += ["  " + line for line in text.splitlines()]
            for source in kernels:
                out.append("  fused forward kernel:")
                out += ["    " + line for line in source.splitlines() if line.strip()]
        return "\n".join(out)


def explain(fn: Callable) -> Callable:
    """``explain(fn)(*args, **kwargs)``: trace ``fn`` once on these arguments (it runs
    eagerly, once) and report what ``tapegrad.compile`` would make of it."""

    def run(*args, **kwargs) -> ExplainOutput:
        _, program, reason, _ = run_traced(fn, args, kwargs, False)
        if program is None:
            return ExplainOutput(0, 1, [reason])
        steps = plan_forward(program)
        return ExplainOutput(1, 0, [], len(program.nodes), [listing(program)],
                             [[s.source for s in steps if type(s) is not int]])
    return run


def reset() -> None:
    """Forget compiled kernels held in memory (``torch.compiler.reset``); each compiled
    function keeps its traces, as the disk cache keeps its kernels."""
    clear_cache()


def is_compiling() -> bool:
    """True while a ``tapegrad.compile`` trace runs on this thread."""
    return _mine() is not None
