"""A compiled function: its signatures, their traces, and the calls that replay them.

A call's *signature* is what its trace depended on: the arguments' structure; per tensor its
dtype, shape and requires_grad; Python arguments by value (other objects by identity); grad
mode; the Python numbers, strings and flags in the function's globals and closure; for a
module, every submodule's ``training`` flag and plain attributes. Tensors read from outside
(parameters, buffers) are checked on each call for dtype, shape and requires_grad. A signature
seen for the first time is traced (one eager run); a new batch size is a new signature, traced
again, and compiles no new kernel (kernels are cached by their source, which holds no sizes).
"""
from __future__ import annotations

import sys
from typing import Any, Callable

import numpy as np

from ..autograd import grad as autograd_grad
from ..autograd.function import Function
from ..engine import SECOND_BACKWARD, modified_message
from ..forward import emit
from ..ops import Op
from ..grad_mode import enable_grad
from ..jit import debug
from ..tape import TLS
from ..tensor import Tensor
from . import trace
from .replay import Replay, resolve_outputs
from .trace import flatten, run_traced, unflatten

_SCALARS = (int, float, bool, str, type(None))
STATS = {"traces": 0, "replays": 0, "eager_calls": 0, "graph_breaks": 0}


class _State:
    """What one replayed call's backward needs, held by its record."""

    __slots__ = ("replay", "vals", "saved", "ins", "versions", "fn", "call", "tensors")

    def __init__(self, replay, vals, saved, ins, versions, fn, call, tensors) -> None:
        self.replay, self.vals, self.saved, self.ins = replay, vals, saved, ins
        self.versions, self.fn, self.call, self.tensors = versions, fn, call, tensors

    def check(self) -> None:
        """An input written in place since the call: PyTorch's error, not a wrong gradient."""
        if self.saved is None:
            raise RuntimeError(SECOND_BACKWARD)
        for (vc, then), arr in zip(self.versions, self.ins):
            if vc[0] != then:
                raise RuntimeError(modified_message(arr, vc[0], then))

    def grads(self, per_leaf: list) -> list:
        self.check()
        return self.replay.backward(self.saved, self.vals, self.ins, per_leaf)


def _compiled_vjp(xp, g, rec, *unused):
    state = rec.params[0]
    leaves = [g if is_t else None for _, is_t in state.replay.program.outputs]
    if isinstance(g, Tensor):  # create_graph
        state.check()
        return eager_grads(state.fn, state.call, state.tensors, state.replay.program, [g])
    return tuple(state.grads(leaves))


class _CompiledOp(Op):
    """The op of a replayed call with one tensor output: one record, no ``saved`` (its state
    holds the program's values); ``release`` drops them when backward frees the graph."""

    @staticmethod
    def release(rec) -> None:
        state = rec.params[0]
        state.saved = state.vals = None


COMPILED = _CompiledOp("compiled", "CompiledFunctionBackward", -1, vjp=_compiled_vjp,
                       params=("state",), uses=())


class CompiledFunction(Function):
    """The one record a replayed call puts on the caller's tape (``CompiledFunctionBackward``,
    as PyTorch names it): its backward runs the program's backward."""

    @staticmethod
    def forward(ctx, entry, replay, ins, call, *tensors):
        ctx.versions = [(t._vc, t._vc[0]) for t in entry.inputs_of(call)]
        vals, saved = replay.forward(ins, True)
        arrays = resolve_outputs(replay.program, vals, ins)
        outs = []
        for ((kind, _), is_tensor), a in zip(replay.program.outputs, arrays):
            if is_tensor:
                outs.append(Tensor._make(a if kind == trace.NODE else np.array(a)))
        ctx.entry, ctx.replay, ctx.ins, ctx.saved, ctx.vals = entry, replay, ins, saved, vals
        ctx.tensors, ctx.call = tensors, call
        for ((kind, x), _), t in zip(
                (o for o in replay.program.outputs if o[1]), outs):
            if not (kind == trace.NODE and replay.carries[x]):
                ctx.mark_non_differentiable(t)
        return tuple(outs)

    @staticmethod
    def backward(ctx, *grads):
        replay = ctx.replay
        state = _State(replay, ctx.vals, ctx.saved, ctx.ins, ctx.versions,
                       ctx.entry.compiled.fn, ctx.call, ctx.tensors)
        if TLS.s.grad_enabled:  # create_graph: differentiate the eager function instead
            state.check()
            return (None,) * 4 + eager_grads(state.fn, ctx.call, ctx.tensors, replay.program,
                                             grads)
        it = iter(grads)
        per_leaf = [None if not is_t else _array(next(it)) for _, is_t in replay.program.outputs]
        result = state.grads(per_leaf)
        return (None,) * 4 + tuple(
            None if g is None else Tensor._make(np.asarray(g)) for g in result)


def _array(g):
    return None if g is None else g._data


class Entry:
    """One signature: its program (None when the trace broke) and its replays, one per set of
    inputs that require grad."""

    def __init__(self, compiled, program, reason: str | None) -> None:
        self.compiled = compiled
        self.program = program
        self.reason = reason
        self.replays: dict = {}
        self.externals = [] if program is None else [
            (t, t._data.dtype, t._data.shape, t._rg) for kind, t in program.inputs
            if kind == "ext"]
        # The one tensor output, when there is just one (its call makes one record).
        tensor_leaves = [k for k, (_, is_t) in enumerate(program.outputs)] \
            if program is not None else []
        tensor_leaves = [k for k in tensor_leaves if program.outputs[k][1]]
        self.single = tensor_leaves[0] if len(tensor_leaves) == 1 else None

    def carries_single(self, replay) -> bool:
        kind, x = self.program.outputs[self.single][0]
        return kind == trace.NODE and replay.carries[x]

    def inputs_of(self, call: tuple) -> list:
        """The program's input tensors for a call's arguments."""
        leaves: list = []
        flatten(call, leaves)
        return [leaves[x] if kind == "arg" else x for kind, x in self.program.inputs]

    def fits(self) -> bool:
        """Whether the tensors it reads from outside still look as they did at the trace."""
        for t, dt, shape, rg in self.externals:
            d = t._data
            if d.dtype != dt or d.shape != shape or t._rg != rg:
                return False
        return True

    def call(self, leaves: list, call: tuple):
        program = self.program
        tensors = [leaves[x] if kind == "arg" else x for kind, x in program.inputs]
        ins = [t._data for t in tensors]
        grad = TLS.s.grad_enabled
        grad_inputs = tuple(k for k, t in enumerate(tensors) if t._rg) if grad else ()
        replay = self.replays.get(grad_inputs)
        if replay is None:
            replay = self.replays[grad_inputs] = Replay(program, grad_inputs)
        STATS["replays"] += 1
        if grad_inputs and self.single is not None and self.carries_single(replay):
            versions = [(t._vc, t._vc[0]) for t in tensors]
            vals, saved = replay.forward(ins, True)
            kind, x = program.outputs[self.single][0]
            grad_tensors = tuple(tensors[k] for k in grad_inputs)
            state = _State(replay, vals, saved, ins, versions, self.compiled.fn, call,
                           grad_tensors)
            out = emit(COMPILED, "CompiledFunctionBackward", vals[x], grad_tensors,
                       tuple(t._data for t in grad_tensors), (state,))
            result = [out if is_t else v for ((_, v), is_t) in program.outputs]
        elif grad_inputs:
            outs = CompiledFunction.apply(self, replay, ins, call,
                                          *[tensors[k] for k in grad_inputs])
            it = iter(outs)
            result = [next(it) if is_t else x for ((_, x), is_t) in program.outputs]
        else:
            vals, _ = replay.forward(ins, False)
            arrays = resolve_outputs(program, vals, ins)
            result = [Tensor._make(a if kind == trace.NODE else np.array(a)) if is_t else a
                      for ((kind, _), is_t), a in zip(program.outputs, arrays)]
        return unflatten(program.out_tree, result)



def eager_grads(fn, call: tuple, tensors: tuple, program, grads) -> tuple:
    """create_graph through a compiled call: the compiled backward records nothing, so the
    function runs again eagerly (a compiled region has no side effects: those are graph
    breaks) and its graph is differentiated with history."""
    args, kwargs = call
    with enable_grad():
        leaves: list = []
        flatten(fn(*args, **kwargs), leaves)
        outs = [x for x in leaves if isinstance(x, Tensor)]
        pairs = [(o, g) for o, g in zip(outs, grads) if g is not None and o._rg]
        if not pairs:
            return (None,) * len(tensors)
        got = autograd_grad([o for o, _ in pairs], list(tensors), [g for _, g in pairs],
                            create_graph=True, allow_unused=True)
    return tuple(got)


class Compiled:
    """The callable ``tapegrad.compile(fn)`` returns (for a module, its forward's)."""

    def __init__(self, fn: Callable, fullgraph: bool = False, module=None) -> None:
        self.fn = fn
        self.fullgraph = fullgraph
        self.module = module
        self.entries: dict = {}
        self.last_key = None
        self.breaks: list = []   # (reason) of each signature that runs eagerly

    def _python_state(self) -> tuple:
        """The Python values the trace may have read: globals and closure cells holding plain
        values; for a module, each submodule's flags and plain attributes."""
        parts = []
        fn = getattr(self.fn, "__func__", self.fn)
        code = getattr(fn, "__code__", None)
        if code is not None:
            g = fn.__globals__
            for name in code.co_names:
                v = g.get(name, _MISSING)
                if isinstance(v, _SCALARS):
                    parts.append((name, v))
            for cell in fn.__closure__ or ():
                try:
                    v = cell.cell_contents
                except ValueError:
                    continue
                if isinstance(v, _SCALARS):
                    parts.append(v)
        if self.module is not None:
            for m in self.module.modules():
                parts.append(tuple((k, v) for k, v in vars(m).items()
                                   if isinstance(v, _SCALARS)))
        return tuple(parts)

    def key(self, leaves: list, in_tree) -> tuple:
        parts: list = [in_tree, TLS.s.grad_enabled]
        for x in leaves:
            if isinstance(x, Tensor):
                d = x._data
                parts.append((d.dtype, d.shape, x._rg))
            elif isinstance(x, _SCALARS):
                parts.append((type(x), x))
            else:
                parts.append((type(x), id(x)))
        parts.append(self._python_state())
        return tuple(parts)

    def __call__(self, *args, **kwargs):
        if trace._mine() is not None:  # inside another trace: that trace records this call
            return self.fn(*args, **kwargs)
        leaves: list = []
        in_tree = flatten((args, kwargs), leaves)
        try:
            key = self.key(leaves, in_tree)
            hash(key)
        except TypeError:  # an unhashable argument: nothing to key a trace by
            STATS["eager_calls"] += 1
            return self.fn(*args, **kwargs)
        entry = self.entries.get(key)
        if entry is not None and entry.program is not None and not entry.fits():
            entry = None
        if entry is None:
            return self._trace(key, args, kwargs)
        if entry.program is None:
            STATS["eager_calls"] += 1
            return self.fn(*args, **kwargs)
        return entry.call(leaves, (args, kwargs))

    def _trace(self, key, args, kwargs):
        if self.last_key is not None and _debug() >= 2:
            print(f"[tapegrad] compile: retracing {_name(self.fn)}: "
                  f"{why_retraced(self.last_key, key)}", file=sys.stderr)
        STATS["traces"] += 1
        result, program, reason = run_traced(self.fn, args, kwargs, self.fullgraph)
        entry = Entry(self, program, reason)
        self.entries[key] = entry
        self.last_key = key
        if reason is not None:
            STATS["graph_breaks"] += 1
            self.breaks.append(reason)
            if _debug() >= 2:
                print(f"[tapegrad] compile: graph break in {_name(self.fn)}: {reason}; this "
                      "signature runs eagerly", file=sys.stderr)
        return result


_MISSING = object()


def why_retraced(old: tuple, new: tuple) -> str:
    """What differs between the last traced signature and a new one, in words."""
    if old[0] != new[0]:
        return "the arguments' structure changed"
    if old[1] != new[1]:
        return f"grad mode changed to {new[1]}"
    for i, (a, b) in enumerate(zip(old[2:-1], new[2:-1])):
        if a == b:
            continue
        if isinstance(a[0], np.dtype) and isinstance(b[0], np.dtype):
            for what, x, y in zip(("dtype", "shape", "requires_grad"), a, b):
                if x != y:
                    return f"argument {i}: {what} {x} -> {y}"
        return f"argument {i} changed: {a[1]!r} -> {b[1]!r}"
    if old[-1] != new[-1]:
        return "a global, closure value or module attribute changed"
    return "a tensor it reads from outside changed dtype, shape or requires_grad"


def _debug() -> int:
    return debug.LEVEL


def _name(fn) -> str:
    return getattr(fn, "__qualname__", None) or type(fn).__name__


__all__: list[Any] = ["Compiled", "CompiledFunction", "STATS"]
