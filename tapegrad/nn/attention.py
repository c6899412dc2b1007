"""MultiheadAttention, as ``torch.nn.MultiheadAttention`` (packed in-projection, parameter
names and initialisation, masks, averaged attention weights)."""
from __future__ import annotations

import math

import numpy as np

from .. import cat, matmul, softmax, zeros
from ..tensor import Tensor
from . import functional as Fn
from . import init
from ._common import empty_param
from .linear import Linear
from .modules import Module


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear under the name PyTorch gives MultiheadAttention's output projection."""


def _float_mask(mask, dtype, name: str):
    """A boolean mask (True: leave out) becomes -inf/0; a float mask is added as it is."""
    if mask is None:
        return None
    if mask.dtype.is_floating_point:
        return mask
    if mask.dtype.name != "bool":
        raise AssertionError(f"only bool and floating types of {name} are supported")
    return Tensor._make(np.where(mask._data, -np.inf, 0.0).astype(dtype))


class MultiheadAttention(Module):
    """Attention with ``num_heads`` heads over (L, N, E) inputs ((N, L, E) with
    ``batch_first``, or unbatched (L, E)); returns (output, attention weights or None)."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim=None, vdim=None,
                 batch_first: bool = False, device=None, dtype=None) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        assert self.head_dim * num_heads == embed_dim, "embed_dim must be divisible by num_heads"
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = empty_param((embed_dim, embed_dim), dtype)
            self.k_proj_weight = empty_param((embed_dim, self.kdim), dtype)
            self.v_proj_weight = empty_param((embed_dim, self.vdim), dtype)
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = empty_param((3 * embed_dim, embed_dim), dtype)
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = empty_param((3 * embed_dim,), dtype)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias,
                                                        dtype=dtype)
        if add_bias_kv:  # a learned key and value appended to every sequence
            self.bias_k = empty_param((1, 1, embed_dim), dtype)
            self.bias_v = empty_param((1, 1, embed_dim), dtype)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True,
                attn_mask=None, average_attn_weights: bool = True, is_causal: bool = False):
        batched = query.ndim == 3
        if is_causal and attn_mask is None:
            raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use "
                               "the Transformer module method `generate_square_subsequent_mask`"
                               " to create this mask.")
        if batched and self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        if not batched:
            query, key, value = (t.unsqueeze(1) for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        L, N, E = query.shape
        S = key.shape[0]
        H, hd = self.num_heads, self.head_dim
        if E != self.embed_dim:
            raise AssertionError(f"was expecting embedding dimension of {self.embed_dim}, but "
                                 f"got {E}")
        if self._qkv_same_embed_dim:
            w_q, w_k, w_v = self.in_proj_weight.chunk(3)
        else:
            w_q, w_k, w_v = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        if self.in_proj_bias is not None:
            b_q, b_k, b_v = self.in_proj_bias.chunk(3)
        else:
            b_q = b_k = b_v = None
        q = Fn.linear(query, w_q, b_q)
        k = Fn.linear(key, w_k, b_k)
        v = Fn.linear(value, w_v, b_v)
        extra = 0  # key positions appended after the projections (PyTorch's order)
        if self.bias_k is not None:
            k = cat([k, self.bias_k.expand(1, N, E)])
            v = cat([v, self.bias_v.expand(1, N, E)])
            extra += 1
        # (L, N, E) -> (N, H, L, hd)
        q = q.reshape(L, N, H, hd).permute(1, 2, 0, 3)
        k = k.reshape(S + extra, N, H, hd).permute(1, 2, 0, 3)
        v = v.reshape(S + extra, N, H, hd).permute(1, 2, 0, 3)
        if self.add_zero_attn:
            zero = zeros((N, H, 1, hd), dtype=k.dtype)
            k = cat([k, zero], 2)
            v = cat([v, zero], 2)
            extra += 1
        scores = matmul(q, k.transpose(-2, -1)) * (1 / math.sqrt(hd))
        dt = scores._data.dtype
        am = _float_mask(attn_mask, dt, "attn_mask")
        if am is not None and extra:  # the appended positions are not masked
            am = cat([am, zeros(tuple(am.shape[:-1]) + (extra,), dtype=am.dtype)], -1)
        if am is not None:
            if am.ndim == 3:  # (N*H, L, S)
                am = am.reshape(N, H, L, S + extra)
            scores = scores + am
        kpm = _float_mask(key_padding_mask, dt, "key_padding_mask")
        if kpm is not None:
            if extra:
                kpm = cat([kpm, zeros((N, extra), dtype=kpm.dtype)], -1)
            scores = scores + kpm.reshape(N, 1, 1, S + extra)
        weights = softmax(scores, -1)
        if self.training and self.dropout > 0:
            weights = Fn.dropout(weights, self.dropout, True)
        out = matmul(weights, v)                                # (N, H, L, hd)
        out = out.permute(2, 0, 1, 3).reshape(L, N, E)
        out = self.out_proj(out)
        if batched and self.batch_first:
            out = out.transpose(0, 1)
        if not batched:
            out = out.squeeze(1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(1)
        if not batched:
            weights = weights.squeeze(0)
        return out, weights
