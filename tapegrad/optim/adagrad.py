"""Adagrad, as torch.optim.Adagrad computes it (dense gradients)."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from ._common import apply, check, scalar
from .optimizer import Optimizer


class Adagrad(Optimizer):
    """sum += g*g; p -= lr / (1 + (step-1) lr_decay) * g / (sqrt(sum) + eps)"""

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach=None, *,
                 maximize: bool = False, differentiable: bool = False, fused=None):
        check(lr=lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        check(weight_decay=weight_decay)
        if not 0.0 <= initial_accumulator_value:
            raise ValueError("Invalid initial_accumulator_value value: "
                             f"{initial_accumulator_value}")
        check(eps=eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, fused=fused))
        # PyTorch makes Adagrad's state at construction.
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = {"step": scalar(0.0), "sum": Tensor._make(
                    np.full_like(p._data, group["initial_accumulator_value"]))}

    def _update(self, group: dict) -> None:
        for p, grad in self._gradients(group):
            state = self.state[p]
            state["step"]._data += 1
            step = float(state["step"]._data)
            clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
            s = state["sum"]._data
            s += grad * grad
            apply(p, -clr * grad / (np.sqrt(s) + group["eps"]))
