"""Adam, AdamW and RMSprop, computing what torch.optim computes (its default, non-foreach
formulas), in place on the parameters' arrays, recording nothing."""
from __future__ import annotations

import math

import numpy as np

from .optimizer import Optimizer


def _check(lr, eps, betas=None, weight_decay=0.0):
    if lr < 0:
        raise ValueError(f"Invalid learning rate: {lr}")
    if eps < 0:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if betas is not None:
        for i, b in enumerate(betas):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {b}")
    if weight_decay < 0:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


# Accepted for PyTorch compatibility and shown in the printed form; they change nothing here.
_COMPAT = dict(foreach=None, differentiable=False)


class Adam(Optimizer):
    """Adam (Kingma and Ba), with bias correction, optional AMSGrad and L2 weight decay (decoupled,
    as AdamW, with ``decoupled_weight_decay=True``), as torch.optim.Adam. ``foreach``,
    ``capturable``, ``differentiable`` and ``fused`` are accepted and change nothing."""
    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach=None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused=None, decoupled_weight_decay: bool = False):
        _check(lr, eps, betas, weight_decay)
        # decoupled_weight_decay (AdamW): decay the parameter, not the gradient.
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, capturable=capturable, fused=fused,
                                      decoupled_weight_decay=decoupled_weight_decay, **_COMPAT))

    def _update(self, group: dict) -> None:
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        zeros = ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if group["amsgrad"] else ())
        for p, grad, state, step in self._steps(group, zeros,
                                                decoupled=group["decoupled_weight_decay"]):
            data = p._data
            m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
            m *= beta1
            m += (1 - beta1) * grad
            v *= beta2
            v += (1 - beta2) * (grad * grad)
            bias1 = 1 - beta1 ** step
            bias2_sqrt = math.sqrt(1 - beta2 ** step)
            if group["amsgrad"]:
                vmax = state["max_exp_avg_sq"]._data
                np.maximum(vmax, v, out=vmax)
                denom = np.sqrt(vmax)
            else:
                denom = np.sqrt(v)
            denom /= bias2_sqrt
            denom += eps
            np.divide(m, denom, out=denom)
            denom *= lr / bias1
            data -= denom.astype(data.dtype, copy=False)
            p._vc[0] += 1


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.01): the parameters decay, not the gradients, as
    torch.optim.AdamW."""
    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 **compat):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True, **compat)


class RMSprop(Optimizer):
    """RMSprop: divides the gradient by a running root mean square (``alpha`` its smoothing),
    optionally centered and with momentum, as torch.optim.RMSprop."""
    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach=None, maximize: bool = False,
                 differentiable: bool = False):
        _check(lr, eps, None, weight_decay)
        if alpha < 0:
            raise ValueError(f"Invalid alpha value: {alpha}")
        if momentum < 0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize,
                                      capturable=capturable, **_COMPAT))

    def _update(self, group: dict) -> None:
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        zeros = (("square_avg",) + (("momentum_buffer",) if group["momentum"] else ())
                 + (("grad_avg",) if group["centered"] else ()))
        for p, grad, state, _ in self._steps(group, zeros):
            sq = state["square_avg"]._data
            sq *= alpha
            sq += (1 - alpha) * grad * grad
            if group["centered"]:
                ga = state["grad_avg"]._data
                ga *= alpha
                ga += (1 - alpha) * grad
                avg = np.sqrt(sq - ga * ga) + eps
            else:
                avg = np.sqrt(sq) + eps
            if group["momentum"]:
                buf = state["momentum_buffer"]._data
                buf *= group["momentum"]
                buf += grad / avg
                p._data -= (lr * buf).astype(p._data.dtype, copy=False)
            else:
                p._data -= (lr * grad / avg).astype(p._data.dtype, copy=False)
            p._vc[0] += 1
