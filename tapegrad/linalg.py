"""``tapegrad.linalg``: torch.linalg's inv, det, solve (and vector_norm), as recorded ops.

Their derivatives are rows of the op table (``linalg_inv``, ``linalg_det``, ``linalg_solve`` in
tapegrad/ops.py), written against ``xp``, so they have gradients of every order.
"""
from __future__ import annotations

import numpy as np

from . import forward as F
from .ops import OPS
from .tensor import Tensor


def _square(x: Tensor, what: str) -> None:
    if x.ndim < 2:
        raise RuntimeError(f"linalg.{what}: The input tensor A must have at least 2 dimensions.")
    if x.shape[-1] != x.shape[-2]:
        raise RuntimeError(f"linalg.{what}: A must be batches of square matrices, but they are "
                           f"{x.shape[-2]} by {x.shape[-1]} matrices")
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"linalg.{what}: Expected a floating point or complex tensor as "
                           f"input. Got {F._type_name(x.dtype)}")


def _singular(what: str) -> RuntimeError:
    return RuntimeError(f"linalg.{what}: The inversion could not be completed because the input "
                        "matrix is singular.")


def inv(A) -> Tensor:
    x = F.as_tensor_arg(A)
    _square(x, "inv")
    try:
        data = np.linalg.inv(x._data)
    except np.linalg.LinAlgError:
        raise _singular("inv") from None
    if F._wants_grad(x):
        return F.emit(OPS["linalg_inv"], "LinalgInvExBackward0", data, (x,), (x._data,))
    return Tensor._make(data)


def det(A) -> Tensor:
    x = F.as_tensor_arg(A)
    _square(x, "det")
    data = np.asarray(np.linalg.det(x._data), dtype=x._data.dtype)
    if F._wants_grad(x):
        return F.emit(OPS["linalg_det"], "LinalgDetBackward0", data, (x,), (x._data,))
    return Tensor._make(data)


def solve(A, B, *, left=True) -> Tensor:
    """X with A X = B. B is a vector when it is 1-D, a (batch of) matrix otherwise."""
    if not left:
        raise NotImplementedError("tapegrad.linalg.solve: left=False is not supported; solve "
                                  "the transposed system")
    x, y = F.as_tensor_arg(A), F.as_tensor_arg(B)
    _square(x, "solve")
    xa, ya, _ = F._operands(x, y, True)
    vector = ya.ndim == 1
    try:
        data = np.linalg.solve(xa, ya[..., None] if vector else ya)
    except np.linalg.LinAlgError:
        raise RuntimeError("linalg.solve: The solver failed because the input matrix is "
                           "singular.") from None
    except ValueError as e:
        raise RuntimeError(f"linalg.solve: {e}") from None
    if vector:
        data = data[..., 0]
    if F._wants_grad(x, y):
        return F.emit(OPS["linalg_solve"], "LinalgSolveExBackward0", data, (x, y), (xa, ya))
    return Tensor._make(data)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    return F.norm(x, p=ord, dim=dim, keepdim=keepdim, dtype=dtype)

