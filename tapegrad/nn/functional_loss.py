"""More losses for ``tapegrad.nn.functional`` (PyTorch's formulas, composed from public ops),
and the distances they use."""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import clamp, exp, log, relu, sqrt, where
from ..tensor import Tensor

__all__ = ["kl_div", "huber_loss", "cosine_similarity", "cosine_embedding_loss",
           "margin_ranking_loss", "poisson_nll_loss", "gaussian_nll_loss",
           "pairwise_distance", "normalize", "soft_margin_loss", "hinge_embedding_loss",
           "triplet_margin_loss"]


def _reduce(loss, reduction: str):
    """A loss's ``reduction``: "mean", "sum" or "none", with PyTorch's error otherwise."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _xlogy(x, y):
    """x * log(y), 0 where x == 0 (also for y == 0), with no NaN leaking into the gradient."""
    zero = Tensor._make(x._data == 0) if isinstance(x, Tensor) else Tensor._make(
        np.asarray(x) == 0)
    safe_y = where(zero, 1.0, y)
    return where(zero, 0.0, x * log(safe_y))


def kl_div(input, target, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False):
    """Pointwise KL divergence ``target * (log target - input)``, ``input`` being log-probs."""
    if log_target:
        loss = exp(target) * (target - input)
    else:
        loss = _xlogy(target, target) - target * input
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.ndim else loss.sum()
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", UserWarning, stacklevel=2)
    return _reduce(loss, reduction)


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta (|d| - delta/2)."""
    d = input - target
    ad = d.abs()
    loss = where(ad < delta, 0.5 * d * d, delta * (ad - 0.5 * delta))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8):
    """x1.x2 / max(|x1| |x2|, eps), along ``dim``."""
    w12 = (x1 * x2).sum(dim)
    n1 = (x1 * x1).sum(dim)
    n2 = (x2 * x2).sum(dim)
    return w12 / sqrt(clamp(n1 * n2, min=eps * eps))


def cosine_embedding_loss(input1, input2, target, margin: float = 0.0,
                          reduction: str = "mean"):
    """1 - cos(x1, x2) where target is 1; max(0, cos(x1, x2) - margin) where it is -1."""
    if input1.ndim not in (1, 2):
        raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with "
                           f"sizes {list(input1.shape)} and {list(input2.shape)}.")
    dim = input1.ndim - 1
    eps = 1e-12  # ATen's EPSILON
    prod = (input1 * input2).sum(dim)
    mag1 = (input1 * input1).sum(dim) + eps
    mag2 = (input2 * input2).sum(dim) + eps
    cos = prod / sqrt(mag1 * mag2)
    pos = 1 - cos
    neg = relu(cos - margin)
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    loss = where(Tensor._make(t == 1), pos, 0.0) + where(Tensor._make(t == -1), neg, 0.0)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin: float = 0.0, reduction: str = "mean"):
    """max(0, -target * (x1 - x2) + margin)."""
    if not (input1.ndim == input2.ndim == target.ndim):
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {input1.shape!r}, input2: {input2.shape!r}, "
                           f"target: {target.shape!r} ")
    return _reduce(relu(-target * (input1 - input2) + margin), reduction)


def poisson_nll_loss(input, target, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean"):
    """exp(input) - target*input (log_input) or input - target*log(input+eps); ``full`` adds
    Stirling's term for target > 1."""
    if log_input:
        loss = exp(input) - target * input
    else:
        loss = input - target * log(input + eps)
    if full:
        t = target._data
        safe = np.where(t > 1, t, 2.0)
        stirling = np.where(t > 1, safe * np.log(safe) - safe + 0.5 * np.log(2 * math.pi * safe),
                            0.0)
        loss = loss + Tensor._make(stirling.astype(t.dtype))
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean"):
    """0.5 (log var + (input - target)^2 / var), var clamped at eps for the value only (the
    gradient passes through the clamp, as in PyTorch)."""
    if isinstance(var, (int, float)):
        var = Tensor._make(np.full(input.shape, var, input._data.dtype))
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    if (var._data < 0).any():
        raise ValueError("var has negative entry/entries")
    d = var.detach()
    var = var + (clamp(d, min=eps) - d)
    loss = 0.5 * (log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
    """||x1 - x2 + eps||_p along the last dim."""
    d = x1 - x2 + eps
    dim = max(x1.ndim, x2.ndim) - 1
    if p == 2:
        return sqrt((d * d).sum(dim, keepdim=keepdim))
    return (d.abs() ** p).sum(dim, keepdim=keepdim) ** (1.0 / p)


def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12):
    """input / max(||input||_p, eps) along ``dim``."""
    if p == 2:
        n = sqrt((input * input).sum(dim, keepdim=True))
    else:
        n = (input.abs() ** p).sum(dim, keepdim=True) ** (1.0 / p)
    return input / clamp(n, min=eps)


def soft_margin_loss(input, target, reduction: str = "mean"):
    """log(1 + exp(-target * input))."""
    z = -target * input
    return _reduce(log(1 + exp(-z.abs())) + relu(z), reduction)


def hinge_embedding_loss(input, target, margin: float = 1.0, reduction: str = "mean"):
    """input where target is 1, max(0, margin - input) where it is -1."""
    t = target._data
    loss = where(Tensor._make(t == 1), input, 0.0) + where(Tensor._make(t == -1),
                                                           relu(margin - input), 0.0)
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor, positive, negative, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, reduction: str = "mean"):
    """max(d(a, p) - d(a, n) + margin, 0) with pairwise distances."""
    dp = pairwise_distance(anchor, positive, p, eps)
    dn = pairwise_distance(anchor, negative, p, eps)
    if swap:
        from .. import minimum
        dn = minimum(dn, pairwise_distance(positive, negative, p, eps))
    return _reduce(relu(dp - dn + margin), reduction)
