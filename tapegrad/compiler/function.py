"""A compiled function: its signatures, their traces, and the calls that replay them.

A call's *signature* is what its trace depended on: the arguments' structure; per tensor its
dtype, shape, requires_grad, leaf-ness, contiguity and which earlier argument it repeats;
Python arguments by value (other objects by identity); the globals and closure cells the
function's code names; for a module, each submodule's state (``module_state``). Each entry
also checks, per call, the tensors it reads from outside (dtype, shape, requires_grad) and the
state of every module the trace called. A signature seen for the first time is traced (one
eager run); a new batch size is a new signature, traced again, and compiles no new kernel
(kernels are cached by their source, which holds no sizes). Calls under no_grad run eagerly.
"""
from __future__ import annotations

import sys
import warnings
import weakref
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
from .replay import Replay, ShapeChanged, resolve_outputs
from .trace import flatten, run_traced, unflatten

_SCALARS = (int, float, bool, str, type(None))
STATS = {"traces": 0, "replays": 0, "eager_calls": 0, "graph_breaks": 0}


class _State:
    """What one replayed call's backward needs, held by its record."""

    __slots__ = ("replay", "vals", "saved", "ins", "versions", "fn", "call", "tensors")

    def __init__(self, replay, vals, saved, ins, versions, fn, call, tensors) -> None:
        self.replay, self.vals, self.saved, self.ins = replay, vals, saved, ins
        self.versions, self.fn, self.call, self.tensors = versions, fn, call, tensors

    def __repr__(self) -> str:
        return f"<a traced program of {len(self.replay.program.nodes)} ops>"

    def check(self) -> None:
        """An input written in place since the call: PyTorch's error, not a wrong gradient."""
        if self.saved is None:
            raise RuntimeError(SECOND_BACKWARD)
        for vc, then, arr in self.versions:
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
        return eager_grads(state.fn, state.call, state.tensors, [g])
    return tuple(state.grads(leaves))


class _CompiledOp(Op):
    """The op of a replayed call with one tensor output: one record, no ``saved`` (its state
    holds the program's values); ``release`` drops them when backward frees the graph."""

    @staticmethod
    def release(rec) -> None:
        state = rec.params[0]
        state.saved = state.vals = state.call = state.tensors = None


COMPILED = _CompiledOp("compiled", "CompiledFunctionBackward", -1, vjp=_compiled_vjp,
                       params=("state",), uses=())


class CompiledFunction(Function):
    """The one record a replayed call puts on the caller's tape (``CompiledFunctionBackward``,
    as PyTorch names it): its backward runs the program's backward."""

    @staticmethod
    def forward(ctx, entry, replay, ins, call, *tensors):
        ctx.versions = _versions(entry.inputs_of(call))
        vals, saved = replay.forward(ins, True)
        outs = []
        for (kind, x), _ in _own_outputs(replay.program):
            # A copy: the backward kernels read these values, and the caller may write to an
            # output in place (eager saves what it needs apart).
            t = Tensor._make(np.array(vals[x] if kind == trace.NODE else x))
            if not (kind == trace.NODE and replay.carries[x]):
                ctx.mark_non_differentiable(t)
            outs.append(t)
        ctx.entry, ctx.replay, ctx.ins, ctx.saved, ctx.vals = entry, replay, ins, saved, vals
        ctx.tensors, ctx.call = tensors, call
        return tuple(outs)

    @staticmethod
    def backward(ctx, *grads):
        replay = ctx.replay
        state = _State(replay, ctx.vals, ctx.saved, ctx.ins, ctx.versions,
                       ctx.entry.compiled.fn, ctx.call, ctx.tensors)
        if TLS.s.grad_enabled:  # create_graph: differentiate the eager function instead
            state.check()
            return (None,) * 4 + eager_grads(state.fn, ctx.call, ctx.tensors, grads)
        it = iter(grads)
        per_leaf = [_array(next(it)) if is_t and ref[0] != trace.IN else None
                    for ref, is_t in replay.program.outputs]
        result = state.grads(per_leaf)
        return (None,) * 4 + tuple(
            None if g is None else Tensor._make(np.asarray(g)) for g in result)


def _versions(tensors) -> list:
    """What ``_State.check`` compares at backward: each tensor's version now, and its data."""
    return [(t._vc, t._vc[0], t._data) for t in tensors]


def _own_outputs(program) -> list:
    """The tensor leaves of the result that a replayed call makes (an argument returned is
    the caller's own tensor)."""
    return [(ref, is_t) for ref, is_t in program.outputs if is_t and ref[0] != trace.IN]


def _array(g):
    return None if g is None else g._data


class Entry:
    """One signature: its program (None when the trace broke) and its replays, one per set of
    inputs that require grad."""

    def __init__(self, compiled, program, reason: str | None, modules: list) -> None:
        self.compiled = compiled
        self.program = program
        self.reason = reason
        self.replays: dict = {}
        # Outside tensors are held weakly (a dropped one retraces) and checked on every call.
        self.externals = [] if program is None else [
            (weakref.ref(t), t._data.dtype, t._data.shape, t._rg) for kind, t in program.inputs
            if kind == "ext"]
        self.modules = [(weakref.ref(m), module_state(m)) for m in modules]
        self.inputs = [] if program is None else [
            (k, x if k == "arg" else weakref.ref(x)) for k, x in program.inputs]
        if program is not None:  # the program itself no longer holds outside tensors
            program.inputs = [(k, x if k == "arg" else None) for k, x in program.inputs]
        # The one tensor output computed by the program, when it is the only tensor output:
        # such a call makes a single record.
        outs = [] if program is None else [k for k, (_, is_t) in enumerate(program.outputs)
                                           if is_t]
        self.single = outs[0] if len(outs) == 1 and program.outputs[outs[0]][0][0] == \
            trace.NODE else None

    def fits(self) -> bool:
        """Whether what the trace read from outside still looks as it did: the outside
        tensors (dtype, shape, requires_grad) and every module it called (its flags, plain
        attributes by value, everything else it holds by identity)."""
        for ref, dt, shape, rg in self.externals:
            t = ref()
            if t is None:
                return False
            d = t._data
            if d.dtype != dt or d.shape != shape or t._rg != rg:
                return False
        for ref, state in self.modules:
            m = ref()
            if m is None or module_state(m) != state:
                return False
        return True

    def tensors_of(self, leaves: list) -> list:
        """The program's input tensors: the call's arguments, the outside tensors it reads."""
        return [leaves[x] if kind == "arg" else x() for kind, x in self.inputs]

    def inputs_of(self, call: tuple) -> list:
        """The program's input tensors for a call's arguments."""
        leaves: list = []
        flatten(call, leaves)
        return self.tensors_of(leaves)

    def call(self, leaves: list, call: tuple):
        program = self.program
        tensors = self.tensors_of(leaves)
        ins = [t._data for t in tensors]
        grad_inputs = tuple(k for k, t in enumerate(tensors) if t._rg)
        replay = self.replays.get(grad_inputs)
        if replay is None:
            replay = self.replays[grad_inputs] = Replay(program, grad_inputs)
        STATS["replays"] += 1
        if grad_inputs and self.single is not None and self.carries_single(replay):
            versions = _versions(tensors)
            vals, saved = replay.forward(ins, True)
            x = program.outputs[self.single][0][1]
            grad_tensors = tuple(tensors[k] for k in grad_inputs)
            state = _State(replay, vals, saved, ins, versions, self.compiled.fn, call,
                           grad_tensors)
            out = emit(COMPILED, "CompiledFunctionBackward", vals[x], grad_tensors,
                       tuple(t._data for t in grad_tensors), (state,))
            state.versions.append((out._vc, 0, vals[x]))  # its backward reads the output too
            result = [out if is_t else v for ((_, v), is_t) in program.outputs]
        elif grad_inputs:
            outs = iter(CompiledFunction.apply(self, replay, ins, call,
                                               *[tensors[k] for k in grad_inputs]))
            result = [tensors[x] if kind == trace.IN else next(outs) if is_t else x
                      for ((kind, x), is_t) in program.outputs]
        else:
            vals, _ = replay.forward(ins, False)
            arrays = resolve_outputs(program, vals, ins)
            result = [_output(kind, x, a, tensors) if is_t else a
                      for ((kind, x), is_t), a in zip(program.outputs, arrays)]
        return unflatten(program.out_tree, result)

    def carries_single(self, replay) -> bool:
        return replay.carries[self.program.outputs[self.single][0][1]]


def _output(kind, x, a, tensors):
    """A tensor leaf of a replayed result: an argument returned is the caller's tensor itself;
    a constant is a fresh copy (the caller may write to it)."""
    if kind == trace.IN:
        return tensors[x]
    return Tensor._make(a if kind == trace.NODE else np.array(a))


def module_state(m) -> tuple:
    """What a module's forward may depend on besides tensors' values: its flags and plain
    attributes by value, its parameters, buffers, submodules and other attributes by
    identity (a replaced layer or activation retraces)."""
    return tuple((k, tuple((kk, id(vv)) for kk, vv in v.items()) if isinstance(v, dict)
                  else _value(v)) for k, v in vars(m).items())


def eager_grads(fn, call: tuple, tensors: tuple, grads) -> tuple:
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
        self.warned = False

    def _python_state(self) -> tuple:
        """What the trace may have read from Python besides the arguments: the globals the
        function's code names and its closure cells (plain values by value, anything else by
        identity), and for a module the state of each of its submodules."""
        parts = []
        fn = getattr(self.fn, "__func__", self.fn)
        if self.module is not None:
            fn = type(self.module).forward
        code = getattr(fn, "__code__", None)
        if code is not None:
            g = fn.__globals__
            for name in code.co_names:
                v = g.get(name, _MISSING)
                if v is not _MISSING:
                    parts.append((name, _value(v)))
            for cell in fn.__closure__ or ():
                try:
                    parts.append(_value(cell.cell_contents))
                except ValueError:  # an empty cell
                    parts.append(None)
        if self.module is not None:
            parts += [module_state(m) for m in self.module.modules()]
        return tuple(parts)

    def key(self, leaves: list, in_tree) -> tuple | None:
        """The call's signature, or None when it must run eagerly."""
        parts: list = [in_tree]
        seen: dict = {}
        for i, x in enumerate(leaves):
            if isinstance(x, Tensor):
                d = x._data
                # Which earlier argument it is, if the same tensor is passed twice.
                parts.append((d.dtype, d.shape, x._rg, x._slot is None,
                              d.flags.c_contiguous, seen.setdefault(id(x), i)))
            elif isinstance(x, np.ndarray):
                return None  # its values may change between calls, unseen by any guard
            else:
                parts.append(_value(x))
        parts.append(self._python_state())
        return tuple(parts)

    def __call__(self, *args, **kwargs):
        if trace._mine() is not None or not TLS.s.grad_enabled:
            # Inside another trace (which records this call), or under no_grad (a trace
            # records ops only with grad mode on): eagerly.
            STATS["eager_calls"] += 1
            return self.fn(*args, **kwargs)
        leaves: list = []
        in_tree = flatten((args, kwargs), leaves)
        try:
            key = self.key(leaves, in_tree)
            entry = None if key is None else self.entries.get(key)
        except TypeError:  # an unhashable argument: nothing to key a trace by
            key = None
        if key is None:
            STATS["eager_calls"] += 1
            return self.fn(*args, **kwargs)
        if entry is not None and entry.program is not None and not entry.fits():
            entry = None
        if entry is None:
            if len(self.entries) >= MAX_SIGNATURES:
                return self._too_many(args, kwargs)
            return self._trace(key, args, kwargs)
        if entry.program is None:
            STATS["eager_calls"] += 1
            return self.fn(*args, **kwargs)
        try:
            return entry.call(leaves, (args, kwargs))
        except ShapeChanged as e:  # nothing ran that eager execution would not repeat
            entry.program, entry.reason = None, f"a shape that depends on values ({e})"
            self.breaks.append(entry.reason)
            STATS["graph_breaks"] += 1
            return self.fn(*args, **kwargs)

    def _too_many(self, args, kwargs):
        if not self.warned:
            self.warned = True
            warnings.warn(f"tapegrad.compile: {_name(self.fn)} has been traced for "
                          f"{MAX_SIGNATURES} signatures; new ones run eagerly (an argument "
                          "that changes on every call, such as a step counter, is part of the "
                          "signature)", UserWarning, stacklevel=3)
        STATS["eager_calls"] += 1
        return self.fn(*args, **kwargs)

    def _trace(self, key, args, kwargs):
        if self.last_key is not None and _debug() >= 2:
            print(f"[tapegrad] compile: retracing {_name(self.fn)}: "
                  f"{why_retraced(self.last_key, key)}", file=sys.stderr)
        STATS["traces"] += 1
        result, program, reason, modules = run_traced(self.fn, args, kwargs, self.fullgraph)
        entry = Entry(self, program, reason, modules)
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
# Signatures traced per function at most (PyTorch's recompile limit is 8); then eagerly.
MAX_SIGNATURES = 64


def _value(v):
    """A Python value as a signature holds it: plain values by value (a float also by its
    text, so -0.0 and 0.0 differ), anything else by identity."""
    if isinstance(v, float):
        return (float, v, repr(v))
    if isinstance(v, _SCALARS):
        return (type(v), v)
    if isinstance(v, (tuple, list)) and all(isinstance(e, _SCALARS) for e in v):
        return (type(v), tuple(v))
    return (type(v), id(v))


def why_retraced(old: tuple, new: tuple) -> str:
    """What differs between the last traced signature and a new one, in words."""
    if old[0] != new[0]:
        return "the arguments' structure changed"
    for i, (a, b) in enumerate(zip(old[1:-1], new[1:-1])):
        if a == b:
            continue
        if isinstance(a[0], np.dtype) and isinstance(b[0], np.dtype):
            for what, x, y in zip(("dtype", "shape", "requires_grad", "is_leaf", "contiguous",
                                   "the argument it repeats"), a, b):
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
