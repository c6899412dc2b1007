"""Adamax, as torch.optim.Adamax computes it."""
from __future__ import annotations

import numpy as np

from ._common import apply, check
from .optimizer import Optimizer


class Adamax(Optimizer):
    """m = lerp(m, g, 1-b1); u = max(b2 u, |g| + eps); p -= lr / (1 - b1^t) * m / u"""

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach=None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False):
        check(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _update(self, group: dict) -> None:
        (beta1, beta2), eps = group["betas"], group["eps"]
        for p, grad, state, step in self._steps(group, ("exp_avg", "exp_inf")):
            m, u = state["exp_avg"]._data, state["exp_inf"]._data
            m += (1 - beta1) * (grad - m)
            u *= beta2
            np.maximum(u, np.abs(grad) + eps, out=u)
            apply(p, -(group["lr"] / (1 - beta1 ** step)) * m / u)
