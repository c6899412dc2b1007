"""Activations for ``tapegrad.nn.functional`` composed from public ops (so they have
gradients of every order and fuse under the JIT where they are elementwise)."""
from __future__ import annotations

import math

from .. import clamp, exp, expm1, log1p, relu, sigmoid, tanh, where
from ..tensor import Tensor

__all__ = ["elu", "selu", "celu", "gelu", "silu", "mish", "softplus", "hardtanh", "relu6",
           "hardsigmoid", "hardswish", "logsigmoid", "softsign", "tanhshrink", "softshrink",
           "hardshrink", "threshold", "prelu", "glu", "softmin", "rrelu"]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def elu(input, alpha: float = 1.0, inplace: bool = False):
    """x where x > 0, alpha * (exp(x) - 1) elsewhere."""
    return where(input > 0, input, alpha * expm1(clamp(input, max=0)))


def selu(input, inplace: bool = False):
    """scale * elu(x, alpha) with the self-normalising constants of Klambauer et al."""
    return _SELU_SCALE * elu(input, _SELU_ALPHA)


def celu(input, alpha: float = 1.0, inplace: bool = False):
    """x where x > 0, alpha * (exp(x / alpha) - 1) elsewhere."""
    return where(input > 0, input, alpha * expm1(clamp(input, max=0) / alpha))


def _erf(x):
    """erf, from ``tapegrad.erf`` where the op table has it; otherwise Abramowitz and Stegun
    7.1.26 (absolute error below 1.5e-7: float32's resolution, not float64's)."""
    import tapegrad
    if hasattr(tapegrad, "erf"):
        return tapegrad.erf(x)
    a = x.abs()
    t = 1 / (1 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027
                                                                          + t * 1.061405429))))
    y = 1 - poly * exp(-a * a)
    return where(x < 0, -y, y)


def gelu(input, approximate: str = "none"):
    """x * Phi(x); ``approximate='tanh'`` gives PyTorch's tanh formula."""
    if approximate == "tanh":
        inner = math.sqrt(2 / math.pi) * (input + 0.044715 * input * input * input)
        return 0.5 * input * (1 + tanh(inner))
    if approximate != "none":
        raise RuntimeError("approximate argument must be either none or tanh.")
    return 0.5 * input * (1 + _erf(input * (1 / math.sqrt(2))))


def silu(input, inplace: bool = False):
    """x * sigmoid(x) (the swish)."""
    return input * sigmoid(input)


def softplus(input, beta: float = 1.0, threshold: float = 20.0):
    """log(1 + exp(beta x)) / beta, linear above ``threshold``."""
    z = input * beta
    soft = (log1p(exp(-z.abs())) + relu(z)) / beta
    return where(z > threshold, input, soft)


def mish(input, inplace: bool = False):
    """x * tanh(softplus(x))."""
    return input * tanh(softplus(input))


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
    """clamp(x, min_val, max_val)."""
    return clamp(input, min_val, max_val)


def relu6(input, inplace: bool = False):
    """min(max(0, x), 6)."""
    return clamp(input, 0.0, 6.0)


def hardsigmoid(input, inplace: bool = False):
    """clamp(x / 6 + 1/2, 0, 1)."""
    return clamp(input / 6 + 0.5, 0.0, 1.0)


def hardswish(input, inplace: bool = False):
    """x * relu6(x + 3) / 6."""
    return input * clamp(input + 3, 0.0, 6.0) / 6


def logsigmoid(input):
    """log(sigmoid(x)), computed without overflow."""
    return -(log1p(exp(-input.abs())) + relu(-input))


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
    return a * sigmoid(b)


def softmin(input, dim=None, dtype=None):
    """softmax(-x) along ``dim``."""
    from .. import softmax
    return softmax(-input, dim)


def rrelu(input, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False):
    """Leaky ReLU with slopes drawn from U(lower, upper) in training, their mean otherwise."""
    if not training:
        return where(input >= 0, input, input * ((lower + upper) / 2))
    from ..creation import _rng
    a = Tensor._make(_rng.uniform(lower, upper, input.shape).astype(input._data.dtype))
    return where(input >= 0, input, input * a)
