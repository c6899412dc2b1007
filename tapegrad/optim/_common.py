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


def lerp_moments(opt, group: dict, scalars: dict | None = None):
    """NAdam's and RAdam's step over ``group``: (parameter, gradient array, state, step number,
    first moment, second moment) for each parameter with a gradient, the step begun as
    ``Optimizer._steps`` begins it and the moments updated as PyTorch does for both
    (``exp_avg.lerp_(grad, 1 - beta1)``; ``exp_avg_sq`` times beta2 plus (1 - beta2) grad^2)."""
    beta1, beta2 = group["betas"]
    for p, grad, state, step in opt._steps(group, ("exp_avg", "exp_avg_sq"), scalars,
                                           group["decoupled_weight_decay"]):
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        m += (1 - beta1) * (grad - m)
        v *= beta2
        v += (1 - beta2) * grad * grad
        yield p, grad, state, step, m, v
