"""``tapegrad.nn.init``: in-place initialisers, with PyTorch's formulas (fan-in, gain)."""
from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor


def _fill(tensor: Tensor, values) -> Tensor:
    """Write without recording: initialisation is not part of any graph."""
    tensor._data[...] = values
    tensor._vc[0] += 1
    return tensor


def _draw(tensor: Tensor, kind: str, a: float, b: float, generator=None) -> np.ndarray:
    """PyTorch's ``uniform_``/``normal_`` values for ``tensor`` from the (default) generator."""
    from ..random.generator import _gen
    gen = _gen(generator)
    arr = tensor._data
    if kind == "uniform":
        vals = gen.uniform(arr.size, arr.dtype, a, b)
    else:
        vals = gen.normal(arr.size, arr.dtype, a, b, contiguous=arr.flags.c_contiguous)
    return vals.reshape(arr.shape)


def calculate_gain(nonlinearity: str, param=None) -> float:
    """PyTorch's recommended gain for a nonlinearity ('relu', 'tanh', 'leaky_relu' with slope
    ``param``, 'selu', 'linear', 'sigmoid', ...)."""
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "sigmoid", "identity"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _fans(tensor: Tensor) -> tuple[int, int]:
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         "dimensions")
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fills ``tensor`` in place from U(a, b) (PyTorch's values for the same seed), without
    recording; returns it."""
    return _fill(tensor, _draw(tensor, "uniform", a, b, generator))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fills ``tensor`` in place from N(mean, std**2) (PyTorch's values for the same seed),
    without recording; returns it."""
    return _fill(tensor, _draw(tensor, "normal", mean, std, generator))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fills ``tensor`` in place with ``val``; returns it."""
    return _fill(tensor, val)


def zeros_(tensor: Tensor) -> Tensor:
    """Fills ``tensor`` in place with zeros; returns it."""
    return _fill(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    """Fills ``tensor`` in place with ones; returns it."""
    return _fill(tensor, 1)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He initialisation: U(-bound, bound) with ``bound = gain * sqrt(3 / fan)``, ``fan`` the
    fan-in or fan-out (``mode``), the gain that of ``nonlinearity`` (slope ``a``)."""
    fan_in, fan_out = _fans(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He initialisation: N(0, std**2) with ``std = gain / sqrt(fan)``, ``fan`` the fan-in or
    fan-out (``mode``)."""
    fan_in, fan_out = _fans(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan), generator)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot initialisation: U(-bound, bound) with ``bound = gain * sqrt(6 / (fan_in +
    fan_out))``."""
    fan_in, fan_out = _fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot initialisation: N(0, std**2) with ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = _fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)
