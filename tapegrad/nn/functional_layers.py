"""Normalisation, embedding, channel dropout and attention for ``tapegrad.nn.functional``,
composed from public tapegrad ops so their gradients (of every order) come from the op table."""
from __future__ import annotations

import math

import numpy as np

from .. import matmul, no_grad, rsqrt, softmax, where
from ..autograd.function import Function
from ..tensor import Tensor

__all__ = ["batch_norm", "instance_norm", "layer_norm", "group_norm", "embedding", "dropout1d",
           "dropout2d", "dropout3d", "scaled_dot_product_attention"]


def _stats_shape(x, dims):
    return tuple(1 if i in dims else n for i, n in enumerate(x.shape))


def _normalize(input, mean, var, eps, weight, bias, shape):
    """``(input - mean) / sqrt(var + eps)``, then scaled by ``weight`` and shifted by ``bias``
    (either may be None), each reshaped to ``shape`` to broadcast over the channels."""
    y = (input - mean) * rsqrt(var + eps)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5):
    """Normalise each channel (dim 1) over the batch and the spatial dims. In training the
    batch's statistics are used and the running ones updated (the variance unbiased); in
    evaluation the running statistics are used."""
    dims = (0,) + tuple(range(2, input.ndim))
    c = input.shape[1] if input.ndim > 1 else input.shape[0]
    shape = (1, c) + (1,) * (input.ndim - 2)
    if training:
        count = int(np.prod([input.shape[d] for d in dims]))
        if count == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {input.shape!r}")
        mean = input.mean(dims, keepdim=True)
        var = input.var(dims, keepdim=True, correction=0)
        if running_mean is not None:
            with no_grad():
                m = momentum
                running_mean.mul_(1 - m).add_(mean.detach().reshape(c) * m)
                running_var.mul_(1 - m).add_(var.detach().reshape(c) * (m * count / (count - 1)))
    else:
        mean = running_mean.reshape(shape)
        var = running_var.reshape(shape)
    return _normalize(input, mean, var, eps, weight, bias, shape)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats: bool = True, momentum: float = 0.1, eps: float = 1e-5):
    """Normalise each (sample, channel) over its spatial dims."""
    dims = tuple(range(2, input.ndim))
    shape = (1, input.shape[1]) + (1,) * (input.ndim - 2)
    mean = input.mean(dims, keepdim=True)
    var = input.var(dims, keepdim=True, correction=0)
    if running_mean is not None and use_input_stats:
        n = int(np.prod(input.shape[2:]))
        with no_grad():
            running_mean.mul_(1 - momentum).add_(mean.detach().mean(0).reshape(-1) * momentum)
            running_var.mul_(1 - momentum).add_(
                var.detach().mean(0).reshape(-1) * (momentum * n / (n - 1)))
    if not use_input_stats:
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
    return _normalize(input, mean, var, eps, weight, bias, shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """Normalise over the last ``len(normalized_shape)`` dims (biased variance)."""
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[input.ndim - len(ns):]) != ns:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape "
                           f"[*, {', '.join(map(str, ns))}], but got input of size"
                           f"{list(input.shape)}")
    dims = tuple(range(input.ndim - len(ns), input.ndim))
    mean = input.mean(dims, keepdim=True)
    var = input.var(dims, keepdim=True, correction=0)
    y = (input - mean) * rsqrt(var + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5):
    """Normalise each sample's channels in ``num_groups`` groups."""
    n, c = input.shape[0], input.shape[1]
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {input.shape!r} and "
                           f"num_groups={num_groups}")
    x = input.reshape(n, num_groups, -1)
    mean = x.mean(2, keepdim=True)
    var = x.var(2, keepdim=True, correction=0)
    y = ((x - mean) * rsqrt(var + eps)).reshape(input.shape)
    shape = (1, c) + (1,) * (input.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False):
    """Rows of ``weight`` picked by the integer tensor ``input``; the row ``padding_idx`` gets
    no gradient; with ``scale_grad_by_freq`` each row's gradient is divided by how often the
    batch picks it. ``sparse=True`` is accepted: the gradient is the same, but dense (tapegrad
    has no sparse tensors)."""
    idx = input if isinstance(input, Tensor) else Tensor._make(np.asarray(input))
    if idx.dtype.is_floating_point:
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the "
                           "following scalar types: Long, Int; but got "
                           f"{idx.dtype} instead (while checking arguments for embedding)")
    n = weight.shape[0]
    bad = idx._data[(idx._data < -n) | (idx._data >= n)]
    if bad.size or (idx._data < 0).any():
        raise IndexError("index out of range in self")
    if max_norm is not None:
        with no_grad():  # renormalise the looked-up rows in place, as PyTorch does
            rows = np.unique(idx._data)
            w = weight._data
            norms = np.linalg.norm(w[rows], ord=norm_type, axis=1)
            scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
            w[rows] *= scale[:, None].astype(w.dtype)
            weight._vc[0] += 1
    out = weight[idx]
    if padding_idx is not None:
        if padding_idx < 0:
            padding_idx += n
        pad = Tensor._make((idx._data == padding_idx)[..., None])
        out = where(pad, weight.detach()[idx], out)
    if scale_grad_by_freq:  # each row's gradient divided by how often the batch picks it
        _, inverse, counts = np.unique(idx._data, return_inverse=True, return_counts=True)
        scale = (1.0 / counts[inverse.reshape(idx.shape)])[..., None].astype(out._data.dtype)
        out = _ScaleGrad.apply(out, scale)
    return out


class _ScaleGrad(Function):
    """The identity, whose gradient is multiplied by ``scale`` (embedding's
    scale_grad_by_freq)."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.clone()

    @staticmethod
    def backward(ctx, g):
        return g * Tensor._make(ctx.scale), None


def _channel_dropout(input, p, training, batched_ndim, name):
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    from ..random import default_generator
    batched = input.ndim == batched_ndim
    lead = 2 if batched else 1
    shape = tuple(input.shape[:lead]) + (1,) * (input.ndim - lead)
    if p == 1:
        return input * 0.0
    keep = default_generator.keep_mask(shape, p, input._data.dtype) / (1 - p)
    return input * Tensor._make(keep)


def dropout1d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of (N, C, L) or (C, L) with probability p, scale the rest by
    1/(1-p)."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a "
                           f"{input.ndim}D input. Note that dropout1d exists to provide channel-"
                           "wise dropout on inputs with 1 spatial dimension, a channel dimension,"
                           " and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _channel_dropout(input, p, training, 3, "dropout1d")


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of (N, C, H, W) with probability p, scale the rest by 1/(1-p)."""
    return _channel_dropout(input, p, training, 4, "dropout2d")


def dropout3d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of (N, C, D, H, W) with probability p, scale the rest by 1/(1-p)."""
    return _channel_dropout(input, p, training, 5, "dropout3d")


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale=None, enable_gqa: bool = False):
    """softmax(Q K^T * scale + mask) V over the last two dims. A boolean ``attn_mask`` marks with
    True the positions that take part; a float mask is added to the scores."""
    L, S = query.shape[-2], key.shape[-2]
    scale = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        rep = query.shape[-3] // key.shape[-3]
        key = key.repeat_interleave(rep, dim=-3)
        value = value.repeat_interleave(rep, dim=-3)
    scores = matmul(query, key.transpose(-2, -1)) * scale
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be "
                               "set when is_causal=True")
        causal = np.tril(np.ones((L, S), bool))
        scores = scores.masked_fill(Tensor._make(~causal), -math.inf)
    if attn_mask is not None:
        if attn_mask.dtype.is_floating_point:
            scores = scores + attn_mask
        else:
            scores = scores.masked_fill(attn_mask.logical_not(), -math.inf)
    weights = softmax(scores, -1)
    if dropout_p > 0:
        from .functional import dropout
        weights = dropout(weights, dropout_p, True)
    return matmul(weights, value)
