"""SGD with momentum, dampening, Nesterov and weight decay, as torch.optim.SGD computes it."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and weight
    decay, computed as torch.optim.SGD computes it."""
    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach=None, differentiable: bool = False, fused=None):
        if lr < 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    def _update(self, group: dict) -> None:
        lr, momentum = group["lr"], group["momentum"]
        for p, d_p in self._gradients(group):
            if momentum:
                state = self.state.setdefault(p, {})
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = _tensor(np.array(d_p, copy=True))
                else:
                    buf._data *= momentum
                    buf._data += (1 - group["dampening"]) * d_p
                d_p = d_p + momentum * buf._data if group["nesterov"] else buf._data
            p._data -= (lr * d_p).astype(p._data.dtype, copy=False)
            p._vc[0] += 1


def _tensor(a):
    from ..tensor import Tensor
    return Tensor._make(a)
