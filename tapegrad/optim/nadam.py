"""NAdam, as torch.optim.NAdam computes it (momentum decay schedule mu_t)."""
from __future__ import annotations

import numpy as np

from ._common import apply, check, lerp_moments
from .optimizer import Optimizer


class NAdam(Optimizer):
    """mu_t = b1 (1 - 0.5 * 0.96^(t psi)); p -= lr (1-mu_t)/(1-prod mu) g / d
    + lr mu_{t+1}/(1 - prod mu * mu_{t+1}) m / d, with d = sqrt(v / (1-b2^t)) + eps"""

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach=None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False):
        check(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable))

    def _update(self, group: dict) -> None:
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        psi = group["momentum_decay"]
        for p, grad, state, step, m, v in lerp_moments(self, group, {"mu_product": 1.0}):
            bias2 = 1 - beta2 ** step
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
            state["mu_product"]._data *= mu
            mu_product = float(state["mu_product"]._data)
            denom = np.sqrt(v / bias2) + eps
            apply(p, (-lr * (1.0 - mu) / (1.0 - mu_product)) * grad / denom)
            apply(p, (-lr * mu_next / (1.0 - mu_product * mu_next)) * m / denom)
