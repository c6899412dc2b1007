"""``tapegrad.nn.functional``: activations and losses, built from ops in the table (so every
one of them has gradients of every order, and fuses under the JIT where it is elementwise)."""
from __future__ import annotations

import warnings

import numpy as np

from .. import forward as F
from ..creation import arange
from ..tensor import Tensor
from .functional_loss import _reduce  # the losses' reduction, written once

relu = F.relu
sigmoid = F.sigmoid
tanh = F.tanh
softmax = F.softmax
log_softmax = F.log_softmax


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):
    """``x`` where ``x > 0``, ``negative_slope * x`` elsewhere (``inplace`` is accepted; the result
    is always a new tensor)."""
    return F.leaky_relu(input, negative_slope)


def linear(input, weight, bias=None):
    """``input @ weight.T + bias``: ``weight`` has shape (out_features, in_features)."""
    out = F.matmul(input, F.t(weight) if weight.ndim == 2 else weight)
    if bias is None:
        return out
    # PyTorch computes 2-D input with a bias as one addmm (and other ranks through a view).
    return _named(out + bias, "AddmmBackward0" if input.ndim == 2 else "ViewBackward0")


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """In training, zeroes each element with probability ``p`` and scales the rest by ``1 / (1 -
    p)``; otherwise returns ``input``. The mask is PyTorch's for the same seed."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0.0
    from ..random import default_generator
    keep = default_generator.keep_mask(input.shape, p, input._data.dtype) / (1 - p)
    return input * Tensor._make(keep)


def _named(t, name: str):
    """Give a loss's last record PyTorch's grad_fn name, so ``print(loss)`` reads the same."""
    if isinstance(t, Tensor) and t._slot is not None:
        t._tape.records[t._slot].name = name
    return t


def _check_same_size(input, target):
    if tuple(input.shape) != tuple(target.shape):
        warnings.warn(
            f"Using a target size ({target.shape!r}) that is different to the input size "
            f"({input.shape!r}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            UserWarning, stacklevel=3)


def mse_loss(input, target, reduction: str = "mean"):
    """Mean squared error ``(input - target)**2``, reduced by ``reduction`` ('mean', 'sum' or
    'none'); warns if the shapes differ."""
    _check_same_size(input, target)
    d = input - target
    return _named(_reduce(d * d, reduction), "MseLossBackward0")


def l1_loss(input, target, reduction: str = "mean"):
    """Mean absolute error ``|input - target|``, reduced by ``reduction``."""
    _check_same_size(input, target)
    return _reduce(F.abs(input - target), reduction)  # PyTorch's is this too: MeanBackward0


def smooth_l1_loss(input, target, reduction: str = "mean", beta: float = 1.0):
    """Huber-style loss: ``0.5 d**2 / beta`` where ``|d| < beta``, ``|d| - 0.5 beta`` elsewhere
    (``d = input - target``), reduced by ``reduction``."""
    _check_same_size(input, target)
    d = F.abs(input - target)
    if beta == 0:
        return _reduce(d, reduction)
    loss = F.where(d < beta, d * d * (0.5 / beta), d - 0.5 * beta)
    return _named(_reduce(loss, reduction), "SmoothL1LossBackward0")


def _class_targets(input, target, name):
    if input.ndim not in (1, 2):
        raise ValueError(f"{name}: expected input of shape (N, C) or (C,), got {list(input.shape)}")
    n = input.shape[0] if input.ndim == 2 else 1
    t = target._data
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"expected scalar type Long but found {F._type_name(target.dtype)}")
    if (input.ndim == 2 and t.ndim != 1) or (input.ndim == 1 and t.ndim != 0):
        raise RuntimeError(f"{name}: expected target of shape (N,) for input of shape "
                           f"{list(input.shape)}, got {list(target.shape)}")
    if input.ndim == 2 and t.shape[0] != n:
        raise ValueError(f"Expected input batch_size ({n}) to match target batch_size "
                         f"({t.shape[0]}).")
    c = input.shape[-1]
    bad = t[(t < 0) | (t >= c)]
    if bad.size:
        raise IndexError(f"Target {int(bad.reshape(-1)[0])} is out of bounds.")
    return t


def nll_loss(input, target, weight=None, reduction: str = "mean"):
    """Negative log-likelihood: ``-input[n, target[n]]`` for log-probabilities of shape (N, C) or
    (C,) and class indices ``target``; optional class ``weight`` (the mean is weighted)."""
    t = _class_targets(input, target, "nll_loss")
    picked = -(input[arange(input.shape[0]), Tensor._make(t)] if input.ndim == 2
               else input[int(t)])
    if weight is None:
        return _named(_reduce(picked, reduction), "NllLossBackward0")
    w = weight[Tensor._make(t)]
    if reduction == "mean":
        return _named((picked * w).sum() / w.sum(), "NllLossBackward0")
    return _named(_reduce(picked * w, reduction), "NllLossBackward0")


def cross_entropy(input, target, weight=None, reduction: str = "mean",
                  label_smoothing: float = 0.0):
    """``nll_loss(log_softmax(input), target)`` for class indices, or the cross entropy with class
    probabilities when ``target`` is floating and of the input's shape; supports ``weight`` and
    ``label_smoothing``."""
    dim = 1 if input.ndim == 2 else 0
    logp = log_softmax(input, dim)
    if isinstance(target, Tensor) and target.dtype.is_floating_point:  # class probabilities
        if tuple(target.shape) != tuple(input.shape):
            raise RuntimeError(f"Expected target size {list(input.shape)}, got "
                               f"{list(target.shape)}")
        return _reduce(-(target * logp).sum(dim), reduction)
    loss = nll_loss(logp, target, weight, reduction)
    if label_smoothing:
        smooth = _reduce(-logp.mean(dim), reduction)
        loss = loss * (1 - label_smoothing) + smooth * label_smoothing
    return loss


def binary_cross_entropy(input, target, weight=None, reduction: str = "mean"):
    """``-(t log x + (1 - t) log(1 - x))`` for probabilities ``x`` in [0, 1], each log clamped at
    -100 as in PyTorch; optional ``weight``."""
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"Using a target size ({target.shape!r}) that is different to the input "
                         f"size ({input.shape!r}) is deprecated. Please ensure they have the same "
                         "size.")
    x = input._data
    if np.any((x < 0) | (x > 1)):
        raise RuntimeError("all elements of input should be between 0 and 1")
    # PyTorch clamps each log at -100 so that a 0 or 1 probability gives a finite loss.
    loss = -(target * F.clamp(F.log(input), min=-100)
             + (1 - target) * F.clamp(F.log(1 - input), min=-100))
    if weight is not None:
        loss = loss * weight
    return _named(_reduce(loss, reduction), "BinaryCrossEntropyBackward0")


def binary_cross_entropy_with_logits(input, target, weight=None, reduction: str = "mean",
                                     pos_weight=None):
    """Binary cross entropy of ``sigmoid(input)``, computed stably from the logits; optional
    ``weight`` and ``pos_weight`` (the positive class's weight)."""
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"Target size ({target.shape!r}) must be the same as input size "
                         f"({input.shape!r})")
    # log(1 + exp(-|x|)) + max(x, 0) - x * t, written to stay finite for large |x|.
    soft = F.log1p(F.exp(-F.abs(input))) + F.relu(input)
    if pos_weight is None:
        loss = soft - input * target
    else:
        log_weight = 1 + (pos_weight - 1) * target
        loss = (1 - target) * input + log_weight * (soft - input)
    if weight is not None:
        loss = loss * weight
    return _named(_reduce(loss, reduction), "BinaryCrossEntropyWithLogitsBackward0")


def one_hot(tensor, num_classes: int = -1):
    """int64 one-hot encoding of the class indices ``tensor``: a new last dimension of size
    ``num_classes`` (default: the largest index + 1)."""
    t = tensor._data
    n = int(t.max()) + 1 if num_classes < 0 else num_classes
    return Tensor._make(np.eye(n, dtype=np.int64)[t])


# ---- layers, more losses and activations: composed in their own modules ----------------------
from .functional_act import (celu, elu, gelu, glu, hardshrink, hardsigmoid,  # noqa: E402
                             hardswish, hardtanh, logsigmoid, mish, prelu, relu6, rrelu, selu,
                             silu, softmin, softplus, softshrink, softsign, tanhshrink,
                             threshold)
from .functional_conv import (adaptive_avg_pool1d, adaptive_avg_pool2d,  # noqa: E402
                              avg_pool1d, avg_pool2d, conv1d, conv2d, conv_transpose1d,
                              conv_transpose2d, max_pool1d, max_pool2d, pad, unfold)
from .functional_layers import (batch_norm, dropout1d, dropout2d, dropout3d,  # noqa: E402
                                embedding, group_norm, instance_norm, layer_norm,
                                scaled_dot_product_attention)
from .functional_loss import (cosine_embedding_loss, cosine_similarity,  # noqa: E402
                              gaussian_nll_loss, hinge_embedding_loss, huber_loss, kl_div,
                              margin_ranking_loss, normalize, pairwise_distance,
                              poisson_nll_loss, soft_margin_loss, triplet_margin_loss)

__all__ = [
    "relu", "sigmoid", "tanh", "softmax", "log_softmax", "leaky_relu", "linear", "dropout",
    "mse_loss", "l1_loss", "smooth_l1_loss", "nll_loss", "cross_entropy", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "one_hot", "celu", "elu", "gelu", "glu", "hardshrink",
    "hardsigmoid", "hardswish", "hardtanh", "logsigmoid", "mish", "prelu", "relu6", "rrelu",
    "selu", "silu", "softmin", "softplus", "softshrink", "softsign", "tanhshrink", "threshold",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "avg_pool1d", "avg_pool2d", "conv1d", "conv2d",
    "conv_transpose1d", "conv_transpose2d", "max_pool1d", "max_pool2d", "pad", "unfold",
    "batch_norm", "dropout1d", "dropout2d", "dropout3d", "embedding", "group_norm",
    "instance_norm", "layer_norm", "scaled_dot_product_attention", "cosine_embedding_loss",
    "cosine_similarity", "gaussian_nll_loss", "hinge_embedding_loss", "huber_loss", "kl_div",
    "margin_ranking_loss", "normalize", "pairwise_distance", "poisson_nll_loss",
    "soft_margin_loss", "triplet_margin_loss",
]
