"""``tapegrad.autograd.Function``: a user-defined op with its own forward and backward.

Its record on the tape is a boundary for the JIT: the user's backward runs as written.

A Function with one output is one record. With several (``forward`` returns a tuple), the tape
still has one output per record, so the Function's record yields a flat *buffer* (a zero-strided
array: it costs no memory) and each differentiable output is a ``function_output`` record that
reads its stretch of the buffer. Gradients arriving at the outputs add up in the buffer's
adjoint, and the user's backward receives them split back per output (``None`` or zeros for an
output no gradient reached, as ``ctx.set_materialize_grads`` says).

A saved output is not a constant: under ``create_graph=True``, ``ctx.saved_tensors`` gives it
back bound to the Function's own record, so a second derivative flows through it, as PyTorch's
saved output carries its grad_fn.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from ..grad_mode import no_grad
from ..ops import Op
from ..registry import provide
from ..tape import TLS
from ..tensor import Tensor

_NOTHING = frozenset()


# ---- the two ops a Function adds to the tape --------------------------------------------
def _output_vjp(xp, g, rec, *unused):
    """``function_output``: put the gradient of one output into its stretch of the buffer."""
    nr, offset, shape = rec.params
    parent = TLS.s.tape.records.get(rec.ins[0])
    if parent is not None:
        parent.params[1]._got.add(nr)
    n = math.prod(shape)
    flat = xp.reshape(g, (-1,))
    return (xp.index_grad(flat, slice(offset, offset + n), rec.in_shapes[0]),)


FUNCTION_OUTPUT = Op("function_output", "BackwardCFunction", 1, vjp=_output_vjp,
                     params=("output_nr", "offset", "out_shape"), uses=(_NOTHING,))

ONCE_MESSAGE = ("trying to differentiate twice a function that was marked with "
                "@once_differentiable")


def _delayed_error(xp, g, rec, *unused):
    raise RuntimeError(rec.params[0])


DELAYED_ERROR = Op("delayed_error", "DelayedError", 1, vjp=_delayed_error, params=("message",),
                   uses=(_NOTHING,))


# ---- ctx ----------------------------------------------------------------------------------
class FunctionCtx:
    """The ``ctx`` passed to forward and backward."""

    def __init__(self) -> None:
        self._saved: tuple | None = ()
        self._versions: tuple = ()
        self.needs_input_grad: tuple = ()
        self.materialize_grads = True
        self._non_differentiable: set = set()
        self._dirty: list = []
        self._out_of: dict = {}     # saved index -> output index, for saved outputs
        self._packed: dict = {}     # saved index -> (packed, unpack_hook)
        self._graph = None          # (record, tape) while a create_graph backward runs
        self._got: set = set()      # outputs a gradient reached, in this backward
        self._outputs: tuple = ()   # per output: ("diff", offset, shape, dtype, data) | ...

    def save_for_backward(self, *tensors) -> None:
        """Saves tensors for backward (read back as ``saved_tensors``, which checks they were not
        modified in place since)."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument "
                                f"{i} is of type {type(t).__name__}")
        self._saved = tensors
        self._versions = tuple((t._vc, t._vc[0]) if t is not None else None for t in tensors)

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to ``save_for_backward``; raises if one was modified in place since,
        or after the graph was freed."""
        from ..engine import SECOND_BACKWARD
        if self._saved is None:
            raise RuntimeError(SECOND_BACKWARD)
        for i, v in enumerate(self._versions):
            if v is not None and v[0][0] != v[1]:
                t = self._saved[i]
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: [tapegrad.{_type_name(t)} "
                    f"[{', '.join(map(str, t.shape))}]] is at version {v[0][0]}; expected "
                    f"version {v[1]} instead. Hint: enable anomaly detection to find the "
                    "operation that failed to compute its gradient, with "
                    "torch.autograd.set_detect_anomaly(True).")
        out = []
        for i, t in enumerate(self._saved):
            entry = self._packed.get(i)
            if entry is not None:
                from ..graph import _unpack
                t = _unpack(entry)
            if i in self._out_of and self._graph is not None:
                t = self._bound_output(self._out_of[i], t)
            out.append(t)
        return tuple(out)

    saved_variables = saved_tensors

    def _bound_output(self, k: int, t: Tensor) -> Tensor:
        """Output ``k`` as a tensor whose gradient flows into this Function's record."""
        from .higher import _bound
        rec, tape = self._graph
        info = self._outputs[k]
        if info[0] != "diff":
            return t
        if rec.params[4] is None:  # one output: the record's own slot
            return _bound(t._data, rec.out, tape)
        from ..forward import emit
        buf = _bound(np.broadcast_to(np.zeros((), rec.dtype), rec.shape), rec.out, tape)
        return emit(FUNCTION_OUTPUT, rec.name, t._data, (buf,), (buf._data,),
                    (k, info[1], info[2]))

    def mark_non_differentiable(self, *tensors) -> None:
        """Marks outputs that get no gradient (e.g. indices)."""
        self._non_differentiable.update(id(t) for t in tensors)

    def mark_dirty(self, *tensors) -> None:
        """Marks inputs that forward modified in place."""
        self._dirty = list(tensors)

    def set_materialize_grads(self, value: bool) -> None:
        """Whether backward receives zeros (True, the default) or None for outputs that got no
        gradient."""
        self.materialize_grads = bool(value)

    def _free(self) -> None:
        self._saved = None
        self._packed = {}


def _type_name(t) -> str:
    from ..engine import _TYPE
    return _TYPE.get(t._data.dtype.name, t._data.dtype.name)


class _FunctionMeta(type):
    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        cls._backward_name = f"{name}Backward"


class Function(metaclass=_FunctionMeta):
    """Subclass with static ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)``,
    then call ``apply``. Or the ``setup_context`` style: ``forward(*args)`` without ctx and
    ``setup_context(ctx, inputs, output)``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        """The forward computation: ``forward(ctx, *args)``, or ``forward(*args)`` with
        ``setup_context``. Runs without recording."""
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """Given the gradients of the outputs, returns one gradient (or None) per input of forward.
        """
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode AD.")

    @staticmethod
    def vjp(ctx, *grad_outputs):
        """An alias for ``backward``, as in PyTorch: define one of the two."""
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode AD.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Saves what backward needs from ``inputs`` and ``output``, when ``forward`` takes no ctx.
        """
        raise NotImplementedError("setup_context is not implemented.")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Runs ``forward`` and records one node whose backward is this class's ``backward``;
        returns forward's output(s)."""
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._rg for a in args)
        custom_setup = cls.setup_context is not Function.setup_context
        with no_grad():
            if custom_setup:
                out = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, out)
            else:
                out = cls.forward(ctx, *args, **kwargs)
        if not (TLS.s.grad_enabled and any(ctx.needs_input_grad)):
            return out
        return _record(cls, ctx, args, out)


def _record(cls, ctx: FunctionCtx, args: tuple, out):
    """Put the Function on the tape and return its outputs, bound to it."""
    from ..forward import _adopt, emit
    from ..ops import OPS
    several = isinstance(out, tuple)
    items = out if several else (out,)
    if not several and not isinstance(out, Tensor):
        raise TypeError(f"{cls.__name__}.forward must return a Tensor or a tuple, got "
                        f"{type(out).__name__}")
    positions = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
    tensors = tuple(args[i] for i in positions)
    dirty = {id(t): t for t in ctx._dirty}
    returned = {id(o) for o in items}
    if any(i not in returned for i in dirty):
        raise RuntimeError("Some elements marked as dirty during the forward method were not "
                           "returned as output. The inputs that are modified inplace must all "
                           "be outputs of the Function.")
    for t in dirty.values():
        if t._slot is None and t._rg:
            raise RuntimeError("a leaf Variable that requires grad has been used in an in-place "
                               "operation.")
    # What each output is: differentiable (its stretch of the buffer), or not.
    infos = []
    offset = 0
    diff = []
    for k, o in enumerate(items):
        if not isinstance(o, Tensor):
            infos.append(("other",))
        elif id(o) in ctx._non_differentiable or not o.dtype.is_floating_point:
            infos.append(("nondiff", o.shape, o._data.dtype))
        else:
            infos.append(("diff", offset, tuple(o.shape), o._data.dtype))
            diff.append(k)
            offset += o._data.size
    ctx._outputs = tuple(infos)
    if not diff:
        return out
    input_data = {id(t._data) for t in tensors}

    def own_data(o):
        # An output that is an input (not marked dirty) needs its own slot: a view.
        if id(o) not in dirty and (id(o._data) in input_data or any(o is t for t in tensors)):
            return o._data.view()
        return o._data

    results = list(items)
    if not several:
        layout = None
        r = emit(OPS["function"], cls._backward_name, own_data(out), tensors,
                 tuple(t._data for t in tensors), (cls, ctx, positions, len(args), layout))
        bound = {0: r}
    else:
        dt = np.result_type(*[items[k]._data.dtype for k in diff])
        layout = tuple(diff)
        buf = emit(OPS["function"], cls._backward_name,
                   np.broadcast_to(np.zeros((), dt), (offset,)), tensors,
                   tuple(t._data for t in tensors), (cls, ctx, positions, len(args), layout))
        bound = {}
        for k in diff:
            info = infos[k]
            bound[k] = emit(FUNCTION_OUTPUT, cls._backward_name, own_data(items[k]), (buf,),
                            (buf._data,), (k, info[1], info[2]))
        del buf
    for k, r in bound.items():
        o = items[k]
        if id(o) in dirty:
            _adopt(o, r)       # the input written in place now carries the Function's history
            results[k] = o
        else:
            results[k] = r
    # The record holds ctx: ctx must not hold a tensor bound to the record, or the cycle (which
    # runs through the tape's reference counts, unseen by the garbage collector) never dies.
    ctx._dirty = []
    # Saved outputs are kept by value; under create_graph they are bound again (saved_tensors).
    if ctx._saved:
        saved = list(ctx._saved)
        versions = list(ctx._versions)
        for i, t in enumerate(saved):
            for k, o in enumerate(items):
                if t is o and k in bound:
                    ctx._out_of[i] = k
                    versions[i] = (results[k]._vc, results[k]._vc[0])
                    if id(o) in dirty:  # o is bound to the record now: keep its value only
                        alias = Tensor._make(o._data)
                        alias._vc = o._vc
                        saved[i] = alias
        ctx._versions = tuple(versions)
        ctx._saved = tuple(saved)
        _pack_ctx(ctx, saved)
    return tuple(results) if several else results[0]


def _pack_ctx(ctx: FunctionCtx, saved: list) -> None:
    from ..graph import call_pack, innermost_hooks
    hooks = innermost_hooks()  # None unless this thread has saved-tensor hooks
    if hooks is None:
        return
    pack_hook, unpack_hook = hooks
    for i, t in enumerate(saved):
        if t is None:
            continue
        if i in ctx._out_of:
            t = Tensor._make(t._data)  # its value, without a reference back to the record
        ctx._packed[i] = (call_pack(pack_hook, t), unpack_hook)


# ---- backward ---------------------------------------------------------------------------
def run_backward(rec, g, xp) -> tuple:
    """The user's backward, for the interpreter (numpy g) or with create_graph (tensor g)."""
    cls, ctx, positions, n_args, layout = rec.params
    numpy_mode = not isinstance(g, Tensor)
    if numpy_mode:
        g = np.asarray(g)  # a sum of 0-d adjoints is a numpy scalar
    grads_out = _grad_outputs(ctx, g, layout, numpy_mode)
    ctx._got = set()
    backward = cls.backward if cls.backward is not Function.backward else cls.vjp
    if numpy_mode:
        with no_grad():
            result = backward(ctx, *grads_out)
    else:
        ctx._graph = (rec, TLS.s.tape)
        try:
            result = backward(ctx, *grads_out)
        finally:
            ctx._graph = None
    if not isinstance(result, tuple):
        result = (result,)
    if len(result) != n_args:
        if len(result) > n_args and all(r is None for r in result[n_args:]):
            result = result[:n_args]
        else:
            raise RuntimeError(f"function {cls._backward_name} returned an incorrect number of "
                               f"gradients (expected {n_args}, got {len(result)})")
    grads = []
    for slot, pos, shape in zip(rec.ins, positions, rec.in_shapes):
        r = result[pos]
        if slot is None or r is None:
            grads.append(None)
            continue
        if not isinstance(r, Tensor):
            r = Tensor._make(np.asarray(r))
        if tuple(r.shape) != tuple(shape):
            try:
                r = r.expand(shape) if r.ndim <= len(shape) else r
                np.broadcast_to(r._data, shape)
            except (RuntimeError, ValueError):
                raise RuntimeError(f"Function {cls._backward_name} returned an invalid gradient "
                                   f"at index {pos} - got {list(r.shape)} but expected shape "
                                   f"compatible with {list(shape)}") from None
        grads.append(r._data if numpy_mode else r)
    return tuple(grads)


def _grad_outputs(ctx: FunctionCtx, g, layout, numpy_mode: bool) -> list:
    """One gradient per output of forward, from the record's adjoint."""
    wrap = Tensor._make if numpy_mode else (lambda x: x)
    if layout is None:
        return [wrap(g)]
    out = []
    for k, info in enumerate(ctx._outputs):
        gk = None
        if info[0] == "diff" and k in ctx._got:
            _, offset, shape, dtype = info
            n = math.prod(shape)
            if numpy_mode:
                piece = g[offset:offset + n].reshape(shape)
                gk = Tensor._make(piece.astype(dtype, copy=False))
            else:
                piece = g[offset:offset + n].reshape(shape)
                gk = piece if piece._data.dtype == dtype else piece.to(dtype)
        elif info[0] != "other" and ctx.materialize_grads:
            shape, dtype = (info[2], info[3]) if info[0] == "diff" else (info[1], info[2])
            gk = Tensor._make(np.zeros(shape, dtype))
        out.append(gk)
    return out


# ---- once_differentiable ------------------------------------------------------------------
def once_differentiable(fn):
    """A backward that is not itself differentiable: it runs under no_grad, and a second
    derivative through it raises PyTorch's error."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            outputs = fn(ctx, *args)
        if not TLS.s.grad_enabled:
            return outputs
        if not any(isinstance(a, Tensor) and a._rg for a in args):
            return outputs
        from ..forward import emit
        several = isinstance(outputs, tuple)
        wrapped = []
        for o in (outputs if several else (outputs,)):
            if isinstance(o, Tensor):
                fake = Tensor._make(o._data, True)  # the output, detached, requiring grad
                o = emit(DELAYED_ERROR, "DelayedError", o._data.view(), (fake,),
                         (o._data,), (ONCE_MESSAGE,))
            wrapped.append(o)
        return tuple(wrapped) if several else wrapped[0]

    return wrapper


provide("function_vjp", run_backward)
