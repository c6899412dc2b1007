"""``torch.special``: the special functions under their ``torch.special`` names (the same
functions as ``tapegrad.erf`` and friends; ``expit`` is the sigmoid)."""
from __future__ import annotations

import math

from .forward import (
    erf,
    erfc,
    erfinv,
    exp2,
    expm1,
    log1p,
    log_softmax,
    logit,
    logsumexp,
    round,
    sigmoid,
    sinc,
    softmax,
    xlogy,
)

__all__ = ["erf", "erfc", "erfinv", "exp2", "expm1", "log1p", "log_softmax", "logit",
           "logsumexp", "round", "sinc", "softmax", "xlogy", "expit", "ndtr"]


def expit(input):
    """The logistic sigmoid ``1 / (1 + exp(-x))`` (``torch.sigmoid``)."""
    return sigmoid(input)


def ndtr(input):
    """The standard normal distribution function ``(1 + erf(x / sqrt(2))) / 2``."""
    return 0.5 * (1 + erf(input * (1 / math.sqrt(2))))
