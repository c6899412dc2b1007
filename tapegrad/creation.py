"""Creating tensors: from data, filled, random, ranges."""
from __future__ import annotations

import math

import numpy as np

from . import dtypes
from .device import CPU, _use_device
from .device import device as Device
from .random import manual_seed, seed  # noqa: F401
from .random.generator import _gen
from .random.sampling import _check_float
from .random.transforms import _fma64
from .tensor import Tensor, _infer_dtype, _to_array  # noqa: F401


def _finish(arr: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, dtype=None, device=None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data``."""
    _check_device(device)
    return _finish(_to_array(data, dtype), requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Share memory with ``data`` when it is a tensor or array of the right dtype."""
    _check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or dtypes.to_dtype(dtype).np == data.dtype):
        dtypes.from_numpy_dtype(data.dtype)
        return Tensor._make(data)
    return Tensor._make(_to_array(data, dtype))


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``ndarray``: writes to one show in the other."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    dtypes.from_numpy_dtype(ndarray.dtype)
    return Tensor._make(ndarray)


def _size(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)):
            raise TypeError(f"expected a sequence of integers, got {type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{list(size)}")
    return tuple(int(s) for s in size)


def _dt(dtype, default=None) -> np.dtype:
    if dtype is None:
        return (default or dtypes.get_default_dtype()).np
    return dtypes.to_dtype(dtype).np


_DEFAULT_DEVICE = [None]


def set_default_device(device) -> None:
    """Set the device factories use when given none (``torch.set_default_device``): ``"cpu"`` or
    ``None``; another device is accepted, and the next factory raises PyTorch's error for it."""
    _DEFAULT_DEVICE[0] = None if device is None else Device(device)


def get_default_device():
    """The device factories use when given none: ``device(type='cpu')`` unless set otherwise."""
    return _DEFAULT_DEVICE[0] or CPU


def _check_device(device) -> None:
    if device is None:
        device = _DEFAULT_DEVICE[0]
    if device is not None:
        _use_device(device)


def zeros(*size, dtype=None, device=None, requires_grad=False, **kw) -> Tensor:
    """A tensor of zeros of shape ``size`` (sizes as arguments or one sequence), in the default
    dtype unless ``dtype`` is given."""
    _check_device(device)
    return _finish(np.zeros(_shape_of(size, kw), _dt(dtype)), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, **kw) -> Tensor:
    """A tensor of ones of shape ``size``, in the default dtype unless ``dtype`` is given."""
    _check_device(device)
    return _finish(np.ones(_shape_of(size, kw), _dt(dtype)), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, **kw) -> Tensor:
    """An uninitialised tensor of shape ``size``, in the default dtype unless ``dtype`` is given.
    """
    _check_device(device)
    return _finish(np.empty(_shape_of(size, kw), _dt(dtype)), requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value``; the dtype is inferred from the value
    (bool, int64 or the default float) unless given."""
    _check_device(device)
    if dtype is None:
        dtype = dtypes.scalar_dtype(fill_value)
    return _finish(np.full(_size((size,)), fill_value, _dt(dtype)), requires_grad)


def _like(fn):
    def like(input, dtype=None, device=None, requires_grad=False, **kwargs):
        x = input if isinstance(input, Tensor) else tensor(input)
        return fn(x.shape, dtype=dtype or x.dtype, requires_grad=requires_grad, **kwargs)
    like.__name__ = fn.__name__ + "_like"
    like.__doc__ = (f"``{fn.__name__}`` with the shape of ``input``, and its dtype unless "
                    f"``dtype`` is given.")
    return like


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``full`` with the shape of ``input``, and its dtype unless ``dtype`` is given."""
    x = input if isinstance(input, Tensor) else tensor(input)
    return full(x.shape, fill_value, dtype=dtype or x.dtype, requires_grad=requires_grad)


def _shape_of(size, kw) -> tuple:
    if "size" in kw:
        if size:
            raise TypeError("size given both as arguments and as the size= keyword")
        size = (kw.pop("size"),)
    for ignored in ("layout", "pin_memory", "memory_format"):
        kw.pop(ignored, None)
    if kw:
        raise TypeError(f"got an unexpected keyword argument '{next(iter(kw))}'")
    return _size(size)


def _float_dt(dtype) -> np.dtype:
    return _check_float(_dt(dtype), "check_uniform_bounds")


def rand(*size, dtype=None, device=None, requires_grad=False, generator=None, **kw) -> Tensor:
    """Uniform random numbers in [0, 1) of shape ``size`` (or ``size=``), PyTorch's values for
    the same seed (float32: 24 random bits, float64: 53)."""
    _check_device(device)
    shape = _shape_of(size, kw)
    dt = _float_dt(dtype)
    n = int(np.prod(shape, dtype=np.int64))
    return _finish(_gen(generator).uniform(n, dt).reshape(shape), requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False, generator=None, **kw) -> Tensor:
    """Standard normal random numbers of shape ``size`` (or ``size=``), PyTorch's values for the
    same seed (a vectorised Box-Muller from 16 elements up, a scalar one below)."""
    _check_device(device)
    shape = _shape_of(size, kw)
    n = int(np.prod(shape, dtype=np.int64))
    return _finish(_gen(generator).normal(n, _dt(dtype)).reshape(shape), requires_grad)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False) -> Tensor:
    """Random integers in [low, high) of shape ``size`` (``randint(high, size)`` starts at 0);
    int64 unless ``dtype`` is given. PyTorch's values for the same seed."""
    _check_device(device)
    if high is None:
        low, high = 0, low
    elif size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    if size is None:
        raise TypeError("randint() missing 1 required positional argument: 'size'")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    shape = _size((size,))
    n = int(np.prod(shape, dtype=np.int64))
    arr = _gen(generator).integers(n, int(low), int(high)).reshape(shape)
    return _finish(arr.astype(_dt(dtype, dtypes.int64)), requires_grad)


def rand_like(input, dtype=None, **kwargs) -> Tensor:
    """``rand`` with the shape of ``input``, and its dtype unless ``dtype`` is given."""
    return rand(input.shape, dtype=dtype or input.dtype, **kwargs)


def randn_like(input, dtype=None, **kwargs) -> Tensor:
    """``randn`` with the shape of ``input``, and its dtype unless ``dtype`` is given."""
    return randn(input.shape, dtype=dtype or input.dtype, **kwargs)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A random permutation of ``0 .. n-1``; int64 unless ``dtype`` is given. PyTorch's values
    for the same seed."""
    _check_device(device)
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    perm = _gen(generator).permutation(int(n))
    return _finish(perm.astype(_dt(dtype, dtypes.int64)), requires_grad)


def normal(mean=0.0, std=1.0, size=None, generator=None, dtype=None, requires_grad=False,
           **kwargs) -> Tensor:
    """Normal random numbers with ``mean`` and ``std`` (numbers or tensors, broadcast; ``size``
    when both are numbers). With numbers, PyTorch's values for the same seed; with a tensor,
    standard normals drawn in its shape then scaled and shifted (as PyTorch does). Not
    differentiable."""
    gen = _gen(generator)
    m = getattr(mean, "_data", mean)
    s = getattr(std, "_data", std)
    tensors = [a for a in (mean, std) if isinstance(a, Tensor)]
    if not tensors:
        shape = _size((size,)) if size is not None else ()
        n = int(np.prod(shape, dtype=np.int64))
        dt = _dt(dtype)
        return _finish(gen.normal(n, dt, float(m), float(s)).reshape(shape), requires_grad)
    shape = np.broadcast_shapes(np.shape(m), np.shape(s))
    dt = tensors[0]._data.dtype
    n = int(np.prod(shape, dtype=np.int64))
    z = gen.normal(n, dt).reshape(shape)
    return _finish((z * np.asarray(s, dt) + np.asarray(m, dt)).astype(dt), requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    """The values ``start, start + step, ...`` below ``end`` (``arange(end)`` starts at 0); int64
    when every argument is an int, the default float otherwise."""
    _check_device(device)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        dtype = dtypes.get_default_dtype() if is_float else dtypes.int64
    n = max(0, math.ceil((end - start) / step))
    arr = (start + np.arange(n) * step) if n else np.arange(0)
    return _finish(np.asarray(arr).astype(_dt(dtype)), requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included."""
    _check_device(device)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    return _finish(_linspace(start, end, int(steps), np.dtype(_dt(dtype))), requires_grad)


def _linspace(start, end, steps: int, dt: np.dtype) -> np.ndarray:
    """PyTorch's CPU linspace, to the bit: the first half ``start + step * i``, the second half
    ``end - step * (steps - 1 - i)`` (so the values are symmetric, where numpy's are not), each
    a fused multiply-add as PyTorch's build compiles it, in the output's precision (double for
    integers, then truncated). float16 is computed in float32 and rounded once, where PyTorch
    rounds each step to half: its last digit can differ."""
    if steps <= 1:
        return np.full(steps, start, dt)
    work = np.float32 if dt == np.float32 or dt == np.float16 else np.float64
    if dt.kind in "iu":  # start and end become integers first (truncated), as PyTorch casts them
        start, end = int(start), int(end)
    s, e = work(start), work(end)
    step = (e - s) / work(steps - 1)
    i = np.arange(steps, dtype=np.float64)
    if work is np.float32:  # a float32 product is exact in float64: one rounding, as an FMA
        lo = (np.float64(s) + np.float64(step) * i).astype(np.float32)
        hi = (np.float64(e) - np.float64(step) * (steps - 1 - i)).astype(np.float32)
    else:
        lo = _fma64(np.float64(step), i, np.float64(s))
        hi = _fma64(-np.float64(step), steps - 1 - i, np.float64(e))
    out = np.where(np.arange(steps) < steps // 2, lo, hi)
    return out.astype(dt)


def logspace(start, end, steps, base=10.0, dtype=None, requires_grad=False) -> Tensor:
    """``steps`` values ``base ** x`` for x evenly spaced from ``start`` to ``end``."""
    return _finish(np.logspace(start, end, steps, base=base).astype(_dt(dtype)), requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A 2-D tensor with ones on the diagonal and zeros elsewhere, ``n`` by ``m`` (``m`` defaults
    to ``n``)."""
    _check_device(device)
    return _finish(np.eye(n, m, dtype=_dt(dtype)), requires_grad)
