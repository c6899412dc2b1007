"""Helpers shared by the optimizers added for issue 14: argument checks with PyTorch's
messages, and state tensors."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor


def check(lr=None, eps=None, betas=None, weight_decay=None) -> None:
    if lr is not None and not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if eps is not None and not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if betas is not None:
        for i, b in enumerate(betas):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {b}")
    if weight_decay is not None and not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


def zeros_like(p) -> Tensor:
    return Tensor._make(np.zeros_like(p._data))


def scalar(value: float) -> Tensor:
    """A float32 0-d state tensor (PyTorch's ``step``)."""
    return Tensor._make(np.array(value, np.float32))


def apply(p, delta: np.ndarray) -> None:
    """``p += delta`` in p's dtype, bumping its version as an in-place op does."""
    p._data += delta.astype(p._data.dtype, copy=False)
    p._vc[0] += 1
