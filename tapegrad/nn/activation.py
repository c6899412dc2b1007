"""Activation modules over ``nn.functional``'s activations, with PyTorch's printed form."""
from __future__ import annotations

from . import functional as Fn
from . import functional_act as FA
from . import init
from ._common import empty_param
from .modules import Module


class ReLU(Module):
    """Applies ``relu`` elementwise."""
    def __init__(self, inplace: bool = False) -> None:
        super().__init__()

    def forward(self, input):
        return Fn.relu(input)


class LeakyReLU(Module):
    """Applies ``leaky_relu`` with ``negative_slope`` elementwise."""
    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, input):
        return Fn.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """Applies the logistic sigmoid elementwise."""
    def forward(self, input):
        return Fn.sigmoid(input)


class Tanh(Module):
    """Applies ``tanh`` elementwise."""
    def forward(self, input):
        return Fn.tanh(input)


class _AlongDim(Module):
    """An activation along one dimension ``dim`` (Softmax, LogSoftmax, Softmin)."""

    def __init__(self, dim=None) -> None:
        super().__init__()
        self.dim = dim

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_AlongDim):
    """Applies ``softmax`` along ``dim``."""
    def forward(self, input):
        return Fn.softmax(input, self.dim)


class LogSoftmax(Softmax):
    """Applies ``log_softmax`` along ``dim``."""
    def forward(self, input):
        return Fn.log_softmax(input, self.dim)


def _simple(name: str, fn, doc: str):
    def forward(self, input):
        return fn(input)

    def __init__(self, inplace: bool = False) -> None:
        Module.__init__(self)
        self.inplace = inplace

    return type(name, (Module,), {"forward": forward, "__init__": __init__, "__doc__": doc,
                                  "__module__": __name__})


SiLU = _simple("SiLU", FA.silu, "x * sigmoid(x).")
Mish = _simple("Mish", FA.mish, "x * tanh(softplus(x)).")
ReLU6 = _simple("ReLU6", FA.relu6, "min(max(0, x), 6).")
Hardsigmoid = _simple("Hardsigmoid", FA.hardsigmoid, "clamp(x/6 + 1/2, 0, 1).")
Hardswish = _simple("Hardswish", FA.hardswish, "x * relu6(x + 3) / 6.")
SELU = _simple("SELU", FA.selu, "scale * elu(x, alpha) with the self-normalising constants.")
LogSigmoid = _simple("LogSigmoid", FA.logsigmoid, "log(sigmoid(x)), computed stably.")
Softsign = _simple("Softsign", FA.softsign, "x / (1 + |x|).")
Tanhshrink = _simple("Tanhshrink", FA.tanhshrink, "x - tanh(x).")


class ELU(Module):
    """x where x > 0, alpha * (exp(x) - 1) elsewhere."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return FA.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class CELU(ELU):
    """x where x > 0, alpha * (exp(x/alpha) - 1) elsewhere."""

    def forward(self, input):
        return FA.celu(input, self.alpha)


class GELU(Module):
    """x * Phi(x) (``approximate='tanh'``: PyTorch's tanh formula)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return FA.gelu(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """log(1 + exp(beta x)) / beta, linear above ``threshold``."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return FA.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """clamp(x, min_val, max_val)."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__()
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        return FA.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + (
            ", inplace=True" if self.inplace else "")


class Threshold(Module):
    """x where x > threshold, else value."""

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return FA.threshold(input, self.threshold, self.value)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + (
            ", inplace=True" if self.inplace else "")


class Softshrink(Module):
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return FA.softshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Hardshrink(Softshrink):
    """x where |x| > lambd, 0 elsewhere."""

    def forward(self, input):
        return FA.hardshrink(input, self.lambd)


class PReLU(Module):
    """max(0, x) + a * min(0, x) with a learned slope (one, or one per channel); a = init."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = empty_param((num_parameters,), dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.constant_(self.weight, self.init)

    def forward(self, input):
        return FA.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class GLU(Module):
    """a * sigmoid(b), a and b the halves of the input along ``dim``."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return FA.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmin(_AlongDim):
    """softmax(-x) along ``dim``."""

    def forward(self, input):
        return FA.softmin(input, self.dim)


class RReLU(Module):
    """Leaky ReLU with a random slope in [lower, upper] in training, their mean in eval."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
                 inplace: bool = False) -> None:
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input):
        return FA.rrelu(input, self.lower, self.upper, self.training)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}" + (
            ", inplace=True" if self.inplace else "")
