"""Linear layers: Linear (initialised as PyTorch does) and Identity."""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes
from ..tensor import Tensor
from . import functional as Fn
from . import init
from .modules import Module, Parameter


class Linear(Module):
    """y = x @ W.T + b, initialised as PyTorch does (kaiming_uniform_ with a=sqrt(5))."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=None,
                 device=None) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
        self.weight = Parameter(Tensor._make(np.empty((out_features, in_features), dt.np)))
        if bias:
            self.bias = Parameter(Tensor._make(np.empty(out_features, dt.np)))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialises weight and bias as PyTorch does (Kaiming-uniform weight, uniform bias
        bounded by 1/sqrt(fan_in))."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return Fn.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """Returns its input unchanged (any constructor arguments are accepted and ignored)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input):
        return input
