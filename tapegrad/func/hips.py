"""HIPS-autograd / JAX-style transforms on numpy code: ``tapegrad.grad(f)`` (for numpy
arguments) and ``tapegrad.value_and_grad(f)``.

``f`` receives tapegrad tensors; numpy ufuncs work on them (``np.sin(x)`` calls
``tapegrad.sin``). Arguments given as numpy arrays or Python numbers get their gradients back
as numpy arrays; tensors get tensors.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ..grad_mode import enable_grad
from ..tensor import Tensor

__all__ = ["grad", "value_and_grad"]


def _as_input(x):
    if isinstance(x, Tensor):
        return x.detach().requires_grad_(True), True
    # A copy (the caller's array is never touched), float64 unless it is already floating.
    keep = isinstance(x, np.ndarray) and x.dtype.kind == "f"
    return Tensor._make(np.array(x, dtype=None if keep else np.float64)).requires_grad_(True), \
        False


def value_and_grad(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """A function returning ``(f(*args), df/d args[argnums])``; f must return a scalar."""
    many = not isinstance(argnums, int)
    nums = tuple(argnums) if many else (argnums,)

    def wrapped(*args, **kwargs):
        args = list(args)
        was_tensor = {}
        for i in nums:
            args[i], was_tensor[i] = _as_input(args[i])
        with enable_grad():
            out = f(*args, **kwargs)
            if not isinstance(out, Tensor) or out.numel() != 1:
                raise TypeError("grad requires f to return a scalar (one-element) tensor; got "
                                f"{type(out).__name__}"
                                + (f" of shape {tuple(out.shape)}" if isinstance(out, Tensor)
                                   else ""))
            from ..autograd import grad
            gs = grad(out, [args[i] for i in nums], allow_unused=True)
        result = []
        for i, g in zip(nums, gs):
            if g is None:
                g = Tensor._make(np.zeros_like(args[i]._data))
            result.append(g if was_tensor[i] else g.numpy())
        value = out.detach() if any(was_tensor.values()) else out.item()
        return value, (tuple(result) if many else result[0])

    return wrapped


def grad(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """The gradient of scalar function ``f`` with respect to argument(s) ``argnums``."""
    vg = value_and_grad(f, argnums)

    def wrapped(*args, **kwargs):
        return vg(*args, **kwargs)[1]

    return wrapped
