"""Pointwise math beyond the basics (issue 13): the hyperbolic and inverse trigonometric
functions, erf and its kin, logarithms and powers of 2 and 10, remainders, interpolation and
the activations of ``nn.functional``. Each is a row of the op table (tapegrad/ops.py), so the
JIT and higher-order gradients get them with no code here."""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..ops import FORWARD, OPS
from ..tensor import Tensor
from .elementwise import _UNARY, binary, clamp, unary
from .record import _broadcast_error, _operands, _wants_grad, as_tensor_arg, emit

_FLOAT_N = frozenset(("lerp", "lerp_scalar", "addcdiv"))


def _floating(arrays):
    """Integer operands of a floating op become the default dtype."""
    dt = np.result_type(*arrays)
    if dt.kind != "f":
        dt = dtypes.get_default_dtype().np
    return dt


def elementwise(opname: str, *inputs, params: tuple = (), name: str | None = None):
    """Runs any elementwise op ``opname`` of the op table on two or three operands (tensors or
    numbers, broadcast and promoted) with static ``params``, recording it for backward."""
    op = OPS[opname]
    ts = [x if isinstance(x, Tensor) else None for x in inputs]
    if all(t is None for t in ts):
        inputs = (as_tensor_arg(inputs[0]),) + tuple(inputs[1:])
        ts[0] = inputs[0]
    # Promote as PyTorch does: pairwise through the binary rule, then to float if needed.
    ref = next(t for t in ts if t is not None)
    arrays = []
    dt = None
    for x in inputs:
        xa, _, d = _operands(x, ref, False) if x is not ref else (ref._data, None, ref._data.dtype)
        arrays.append(xa)
        dt = d if dt is None else np.promote_types(dt, d)
    if opname in _FLOAT_N and dt.kind != "f":
        dt = dtypes.get_default_dtype().np
    arrays = [a.astype(dt) if isinstance(a, np.ndarray) and a.dtype != dt else a for a in arrays]
    try:
        data = FORWARD[opname](*arrays, *params)
    except ValueError:
        raise _broadcast_error(*[np.shape(a) for a in arrays[:2]]) from None
    data = np.asarray(data, dtype=dt)
    if _wants_grad(*inputs):
        return emit(op, name or op.node_name, data, tuple(inputs), tuple(arrays), params)
    return Tensor._make(data)


def _public(opname: str, doc: str, torch_name: str | None = None):
    fn = _UNARY[opname]

    def f(input, *, out=None):
        return fn(input)
    f.__name__ = torch_name or opname
    f.__doc__ = f"{doc}\n\nIts derivative (the op table's rule) is ``{OPS[opname].grads[0]}``."
    return f


sinh = _public("sinh", "The hyperbolic sine of each element.")
cosh = _public("cosh", "The hyperbolic cosine of each element.")
asinh = _public("asinh", "The inverse hyperbolic sine of each element.")
acosh = _public("acosh", "The inverse hyperbolic cosine of each element (NaN below 1).")
atanh = _public("atanh", "The inverse hyperbolic tangent of each element (NaN outside [-1, 1]).")
asin = _public("asin", "The arcsine of each element, in radians (NaN outside [-1, 1]).")
acos = _public("acos", "The arccosine of each element, in radians (NaN outside [-1, 1]).")
erf = _public("erf", "The error function ``2/sqrt(pi) * integral_0^x exp(-t^2) dt``.")
erfc = _public("erfc", "The complementary error function ``1 - erf(x)``, accurate for large x.")
erfinv = _public("erfinv", "The inverse error function (+-inf at +-1, NaN outside [-1, 1]).")
log2 = _public("log2", "The base-2 logarithm of each element.")
log10 = _public("log10", "The base-10 logarithm of each element.")
exp2 = _public("exp2", "2 to the power of each element.")
frac = _public("frac", "The fractional part ``x - trunc(x)`` of each element.")
sinc = _public("sinc", "The normalised sinc ``sin(pi x) / (pi x)`` (1 at 0).")
deg2rad = _public("deg2rad", "Degrees to radians.")
rad2deg = _public("rad2deg", "Radians to degrees.")
arcsinh, arccosh, arctanh, arcsin, arccos = asinh, acosh, atanh, asin, acos


def trunc(input):
    """Rounds each element towards zero (same dtype); zero gradient. Integers are returned as
    they are."""
    x = as_tensor_arg(input)
    if x._data.dtype.kind != "f":
        return x.clone()
    return unary("trunc", x)


fix = trunc


def hypot(input, other):
    """``sqrt(input**2 + other**2)`` elementwise, without overflow."""
    return binary("hypot", input, other)


def logaddexp(input, other):
    """``log(exp(input) + exp(other))`` elementwise, without overflow."""
    return binary("logaddexp", input, other)


def logaddexp2(input, other):
    """``log2(2**input + 2**other)`` elementwise, without overflow."""
    return binary("logaddexp2", input, other)


def _int_zero_divisor(input, other) -> None:
    """Integer fmod/remainder by zero raise, as PyTorch (numpy would give 0)."""
    ints = all(not isinstance(v, Tensor) and isinstance(v, (int, np.integer))
               or isinstance(v, Tensor) and v._data.dtype.kind in "iub" for v in (input, other))
    if ints and not np.all(other._data if isinstance(other, Tensor) else other):
        raise RuntimeError("ZeroDivisionError")


def fmod(input, other):
    """The C remainder of ``input / other``: it has the sign of ``input``."""
    _int_zero_divisor(input, other)
    return binary("fmod", input, other,
                  "FmodBackward1" if isinstance(other, Tensor) else "FmodBackward0")


def remainder(input, other):
    """Python's modulus of ``input / other``: it has the sign of ``other``."""
    if not isinstance(input, Tensor):
        input = as_tensor_arg(input)
    _int_zero_divisor(input, other)
    return binary("remainder", input, other,
                  "RemainderBackward1" if isinstance(other, Tensor) else "RemainderBackward0")


def xlogy(input, other):
    """``input * log(other)``, 0 where ``input`` is 0 (unless ``other`` is NaN)."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = as_tensor_arg(input)
    name = ("XlogyBackward0" if isinstance(input, Tensor) and isinstance(other, Tensor)
            else "XlogyBackward2" if isinstance(input, Tensor) else "XlogyBackward1")
    return binary("xlogy", input, other, name)


def logit(input, eps=None):
    """``log(p / (1 - p))``; with ``eps``, p is first clamped to ``[eps, 1 - eps]``."""
    x = as_tensor_arg(input)
    if eps is not None:
        x = clamp(x, eps, 1 - eps)
    return unary("logit", x)


def lerp(input, end, weight):
    """``input + weight * (end - input)``: linear interpolation; ``weight`` a number or a
    tensor."""
    if isinstance(weight, Tensor):
        return elementwise("lerp", input, end, weight)
    return elementwise("lerp_scalar", input, end, params=(float(weight),))


def addcmul(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 * tensor2``, elementwise with broadcasting."""
    return elementwise("addcmul", input, tensor1, tensor2, params=(value,))


def addcdiv(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 / tensor2``, elementwise with broadcasting."""
    if (isinstance(tensor1, Tensor) and isinstance(tensor2, Tensor)
            and tensor1._data.dtype.kind in "iub" and tensor2._data.dtype.kind in "iub"):
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future release "
            "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
            "behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2))"
            ".to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) for "
            "float inputs. The future addcdiv behavior is just the latter implementation: "
            "(input + value * tensor1 / tensor2), for all dtypes.")
    return elementwise("addcdiv", input, tensor1, tensor2, params=(value,))


# ---- the activations of nn.functional that are rows of the table -------------------------
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta x)) / beta``, and x itself where ``beta x > threshold``."""
    return unary("softplus", input, (float(beta), float(threshold)))


def gelu(input, approximate="none"):
    """``x * Phi(x)`` (Phi the normal distribution function); ``approximate='tanh'`` gives
    ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``."""
    if approximate == "tanh":
        return unary("gelu_tanh", input)
    if approximate != "none":
        raise RuntimeError("approximate argument must be either none or tanh.")
    return unary("gelu", input)


def silu(input):
    """``x * sigmoid(x)`` (the swish)."""
    return unary("silu", input)


def mish(input):
    """``x * tanh(softplus(x))``."""
    return unary("mish", input)


def elu(input, alpha=1.0):
    """x where x > 0, ``alpha * (exp(x) - 1)`` elsewhere."""
    return unary("elu", input, (float(alpha), 1.0, 1.0))


def selu(input):
    """``scale * elu(x, alpha)`` with the self-normalising constants of Klambauer et al."""
    return unary("elu", input, (_SELU_ALPHA, _SELU_SCALE, 1.0))


def celu(input, alpha=1.0):
    """x where x > 0, ``alpha * (exp(x / alpha) - 1)`` elsewhere."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return unary("elu", input, (float(alpha), 1.0, 1.0 / alpha), "CeluBackward0")


def hardtanh(input, min_val=-1.0, max_val=1.0):
    """``clamp(x, min_val, max_val)``; the gradient is zero at and beyond the bounds."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return unary("hardtanh", input, (float(min_val), float(max_val)))


def relu6(input):
    """``min(max(0, x), 6)``."""
    return unary("hardtanh", input, (0.0, 6.0))


def hardsigmoid(input):
    """``clamp(x / 6 + 1/2, 0, 1)``."""
    return unary("hardsigmoid", input)


def hardswish(input):
    """``x * relu6(x + 3) / 6``."""
    return unary("hardswish", input)


def logsigmoid(input):
    """``log(sigmoid(x))``, computed without overflow."""
    return unary("logsigmoid", input)
