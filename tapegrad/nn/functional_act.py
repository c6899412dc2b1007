"""Activations for ``tapegrad.nn.functional`` composed from public ops (so they have
gradients of every order and fuse under the JIT where they are elementwise)."""
from __future__ import annotations

from .. import sigmoid, tanh, where
from ..forward import binary
from ..forward import special as S
from ..tensor import Tensor

__all__ = ["elu", "selu", "celu", "gelu", "silu", "mish", "softplus", "hardtanh", "relu6",
           "hardsigmoid", "hardswish", "logsigmoid", "softsign", "tanhshrink", "softshrink",
           "hardshrink", "threshold", "prelu", "glu", "softmin", "rrelu"]


def elu(input, alpha: float = 1.0, inplace: bool = False):
    """x where x > 0, alpha * (exp(x) - 1) elsewhere (the op table's ``elu`` row)."""
    return S.elu(input, alpha)


def selu(input, inplace: bool = False):
    """scale * elu(x, alpha) with the self-normalising constants of Klambauer et al."""
    return S.selu(input)


def celu(input, alpha: float = 1.0, inplace: bool = False):
    """x where x > 0, alpha * (exp(x / alpha) - 1) elsewhere."""
    return S.celu(input, alpha)


def gelu(input, approximate: str = "none"):
    """x * Phi(x); ``approximate='tanh'`` gives PyTorch's tanh formula."""
    return S.gelu(input, approximate)


def silu(input, inplace: bool = False):
    """x * sigmoid(x) (the swish)."""
    return S.silu(input)


def softplus(input, beta: float = 1.0, threshold: float = 20.0):
    """log(1 + exp(beta x)) / beta, linear above ``threshold``."""
    return S.softplus(input, beta, threshold)


def mish(input, inplace: bool = False):
    """x * tanh(softplus(x))."""
    return S.mish(input)


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
    """clamp(x, min_val, max_val)."""
    return S.hardtanh(input, min_val, max_val)


def relu6(input, inplace: bool = False):
    """min(max(0, x), 6)."""
    return S.relu6(input)


def hardsigmoid(input, inplace: bool = False):
    """clamp(x / 6 + 1/2, 0, 1)."""
    return S.hardsigmoid(input)


def hardswish(input, inplace: bool = False):
    """x * relu6(x + 3) / 6."""
    return S.hardswish(input)


def logsigmoid(input):
    """log(sigmoid(x)), computed without overflow."""
    return S.logsigmoid(input)


def softsign(input):
    """x / (1 + |x|)."""
    return input / (1 + input.abs())


def tanhshrink(input):
    """x - tanh(x)."""
    return input - tanh(input)


def softshrink(input, lambd: float = 0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""
    return where(input > lambd, input - lambd, where(input < -lambd, input + lambd, 0.0))


def hardshrink(input, lambd: float = 0.5):
    """x where |x| > lambd, 0 elsewhere."""
    return where(input.abs() > lambd, input, 0.0)


def threshold(input, threshold: float, value: float, inplace: bool = False):
    """x where x > threshold, value elsewhere."""
    return where(input > threshold, input, value)


def prelu(input, weight):
    """max(0, x) + weight * min(0, x), one weight per channel (dim 1) or one for all."""
    w = weight
    if weight.numel() > 1 and input.ndim > 1:
        w = weight.reshape((1, -1) + (1,) * (input.ndim - 2))
    return where(input > 0, input, w * input)


def glu(input, dim: int = -1):
    """a * sigmoid(b), a and b the two halves of the input along ``dim``."""
    n = input.shape[dim]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension "
                           f"{dim % input.ndim} is size {n}")
    a, b = input.split(n // 2, dim)
    return binary("mul", a, sigmoid(b), "GluBackward0")


def softmin(input, dim=None, dtype=None):
    """softmax(-x) along ``dim``."""
    from .. import softmax
    return softmax(-input, dim)


def rrelu(input, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False):
    """Leaky ReLU with slopes drawn from U(lower, upper) in training, their mean otherwise."""
    if not training:
        return where(input >= 0, input, input * ((lower + upper) / 2))
    import numpy as np

    from ..random import default_generator
    x = input._data
    slopes = np.ones(x.shape, dtype=x.dtype)
    neg = x <= 0
    lo, hi = float(x.dtype.type(lower)), float(x.dtype.type(upper))  # PyTorch's opmath bounds
    slopes[neg] = default_generator.uniform(int(neg.sum()), np.float64, lo, hi)
    a = Tensor._make(slopes)
    return where(input >= 0, input, input * a)
