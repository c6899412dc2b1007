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
from .fuse import ARR, SCALAR
from .replay import Replay
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
        for i, text in enumerate(self.programs):
            out.append(f"Graph {i + 1}:")
            out += ["  " + line for line in text.splitlines()]
        return "\n".join(out)


def explain(fn: Callable) -> Callable:
    """``explain(fn)(*args, **kwargs)``: trace ``fn`` once on these arguments (it runs
    eagerly, once) and report what ``tapegrad.compile`` would make of it."""

    def run(*args, **kwargs) -> ExplainOutput:
        _, program, reason, _ = run_traced(fn, args, kwargs, False)
        if program is None:
            return ExplainOutput(0, 1, [reason])
        text, kernels = describe(program)
        return ExplainOutput(1, 0, [], len(program.nodes), [text], [kernels])
    return run


def describe(program) -> tuple[str, list]:
    """A traced program as text, each fused run's kernels under its lines: the forward kernel,
    and the backward kernel for gradients arriving at every value the run hands on (with every
    input requiring grad). Returns the text and the kernels' sources."""
    replay = Replay(program, tuple(range(len(program.inputs))))
    lines = listing(program).splitlines()
    kernels = []
    out = lines[:len(program.inputs)]
    runs = {s.nodes[0]: s for s in replay.steps if type(s) is not int}
    k = len(program.inputs)
    shown: set = set()
    for j in range(len(program.nodes)):
        if j in shown:
            continue
        run = runs.get(j)
        if run is None:
            out.append(lines[k + j])
            continue
        mine = sorted(run.nodes + run.sums)   # (a run's absorbed sums come with it)
        shown.update(mine)
        out += [lines[k + i] for i in mine]
        incoming = [ARR] * len(run.escaping) + [SCALAR] * len(run.sums)
        backward = run._backward_source(incoming, run._reached(incoming, replay.carrying),
                                        replay.carrying)
        kernels += [run.source, backward]
        for name, source in (("fused forward kernel", run.source),
                             ("fused backward kernel (recomputes the run)", backward)):
            out.append(f"    {name}:")
            out += ["      " + line for line in source.splitlines()
                    if line.strip() and not line.startswith(("import", "from", "#"))]
    out += lines[k + len(program.nodes):]
    return "\n".join(out), kernels


def reset() -> None:
    """Forget compiled kernels held in memory (``torch.compiler.reset``); each compiled
    function keeps its traces, as the disk cache keeps its kernels."""
    clear_cache()


def is_compiling() -> bool:
    """True while a ``tapegrad.compile`` trace runs on this thread."""
    return _mine() is not None
