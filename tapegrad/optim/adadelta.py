"""Adadelta, as torch.optim.Adadelta computes it."""
from __future__ import annotations

import numpy as np

from ._common import apply, check
from .optimizer import Optimizer


class Adadelta(Optimizer):
    """v = rho v + (1-rho) g^2; d = sqrt(u + eps) / sqrt(v + eps) * g;
    u = rho u + (1-rho) d^2; p -= lr d"""

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach=None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False):
        check(lr=lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check(eps=eps, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, capturable=capturable, foreach=foreach,
                                      differentiable=differentiable))

    def _update(self, group: dict) -> None:
        rho, eps = group["rho"], group["eps"]
        for p, grad, state, _ in self._steps(group, ("square_avg", "acc_delta")):
            v, u = state["square_avg"]._data, state["acc_delta"]._data
            v *= rho
            v += (1 - rho) * grad * grad
            delta = np.sqrt(u + eps) / np.sqrt(v + eps) * grad
            u *= rho
            u += (1 - rho) * delta * delta
            apply(p, -group["lr"] * delta)
