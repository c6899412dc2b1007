"""RAdam, as torch.optim.RAdam computes it (the variance rectification of Liu et al.)."""
from __future__ import annotations

import math

import numpy as np

from ._common import apply, check, lerp_moments
from .optimizer import Optimizer


class RAdam(Optimizer):
    """rho_t = rho_inf - 2 t b2^t / (1 - b2^t); if rho_t > 5 the Adam step scaled by the
    rectification r_t, else an SGD-with-momentum step on the bias-corrected mean."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *, foreach=None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False):
        check(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, maximize=maximize,
                                      foreach=foreach, capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      differentiable=differentiable))

    def _update(self, group: dict) -> None:
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        for p, _, _, step, m, v in lerp_moments(self, group):
            bias1 = 1 - beta1 ** step
            bias2 = 1 - beta2 ** step
            corrected = m / bias1
            rho_inf = 2 / (1 - beta2) - 1
            rho_t = rho_inf - 2 * step * (beta2 ** step) / bias2
            if rho_t > 5.0:
                rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                                 / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                adaptive = math.sqrt(bias2) / (np.sqrt(v) + eps)
                apply(p, -(corrected * lr * adaptive * rect))
            else:
                apply(p, -(corrected * lr))
