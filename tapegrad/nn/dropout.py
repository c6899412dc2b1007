"""Dropout layers: Dropout (elements), Dropout1d and Dropout2d (whole channels)."""
from __future__ import annotations

from . import functional as Fn
from . import functional_layers as FL
from .modules import Module


class Dropout(Module):
    """Zeroes elements with probability ``p`` in training mode and scales the rest by ``1 / (1 -
    p)``; the identity in eval mode."""
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, input):
        return Fn.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace=False"


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(_DropoutNd):
    """Zero whole channels of (N, C, L) or (C, L) in training, scaling the rest by 1/(1-p)."""

    def forward(self, input):
        return FL.dropout1d(input, self.p, self.training)


class Dropout2d(_DropoutNd):
    """Zero whole channels of (N, C, H, W) in training, scaling the rest by 1/(1-p)."""

    def forward(self, input):
        return FL.dropout2d(input, self.p, self.training)
