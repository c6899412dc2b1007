"""``tapegrad.autograd.Function``: a user-defined op with its own forward and backward.

Its record on the tape is a boundary for the JIT: the user's backward runs as written.
"""
from __future__ import annotations

import numpy as np

from ..grad_mode import no_grad
from ..tape import TLS
from ..tensor import Tensor


class FunctionCtx:
    """The ``ctx`` passed to forward and backward."""

    def __init__(self) -> None:
        self._saved: tuple | None = ()
        self._versions: tuple = ()
        self.needs_input_grad: tuple = ()
        self.materialize_grads = True
        self._non_differentiable: set = set()

    def save_for_backward(self, *tensors) -> None:
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument "
                                f"{tensors.index(t)} is of type {type(t).__name__}")
        self._saved = tensors
        self._versions = tuple(t._vc[0] if t is not None else 0 for t in tensors)

    @property
    def saved_tensors(self) -> tuple:
        from ..engine import SECOND_BACKWARD
        if self._saved is None:
            raise RuntimeError(SECOND_BACKWARD)
        for i, (t, v) in enumerate(zip(self._saved, self._versions)):
            if t is not None and t._vc[0] != v:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: saved tensor {i} is at version {t._vc[0]}; expected "
                    f"version {v} instead.")
        return self._saved

    saved_variables = saved_tensors

    def mark_non_differentiable(self, *tensors) -> None:
        self._non_differentiable.update(id(t) for t in tensors)

    def mark_dirty(self, *tensors) -> None:
        pass

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)

    def _free(self) -> None:
        self._saved = None


class _FunctionMeta(type):
    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        cls._backward_name = f"{name}Backward"


class Function(metaclass=_FunctionMeta):
    """Subclass with static ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)``,
    then call ``apply``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode AD.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        from ..forward import emit
        from ..ops import OPS
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._rg for a in args)
        custom_setup = cls.setup_context is not Function.setup_context
        with no_grad():
            if custom_setup:
                out = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, out)
            else:
                out = cls.forward(ctx, *args, **kwargs)
        wants = TLS.s.grad_enabled and any(ctx.needs_input_grad)
        if not wants:
            return out
        if not isinstance(out, Tensor):
            raise NotImplementedError(
                f"{cls.__name__}.forward returned {type(out).__name__}: tapegrad records custom "
                "Functions with a single tensor output")
        positions = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
        tensors = tuple(args[i] for i in positions)
        data = out._data
        if any(data is t._data for t in tensors):
            data = data.view()  # forward returned an input: the output still needs its own slot
        if id(out) in ctx._non_differentiable:
            return out
        return emit(OPS["function"], cls._backward_name, data, tensors,
                    tuple(t._data for t in tensors), (cls, ctx, positions, len(args)))


def run_backward(rec, g, xp) -> tuple:
    """The user's backward, for the interpreter (numpy g) or with create_graph (tensor g)."""
    cls, ctx, positions, n_args = rec.params
    numpy_mode = isinstance(g, np.ndarray)
    g_t = Tensor._make(g) if numpy_mode else g
    if numpy_mode:
        with no_grad():
            result = cls.backward(ctx, g_t)
    else:
        result = cls.backward(ctx, g_t)
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
