"""dtypes: thin named wrappers over numpy dtypes, and PyTorch's type-promotion rules."""
from __future__ import annotations

import numpy as np


class dtype:
    """A tensor element type, printed as PyTorch prints it (``tapegrad.float32``)."""

    __slots__ = ("name", "np", "is_floating_point", "itemsize", "_category")

    def __init__(self, name: str, np_dtype: type, category: int) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = category == 2
        self.itemsize = self.np.itemsize
        self._category = category  # 0 bool, 1 integer, 2 floating: PyTorch promotes by category

    def __repr__(self) -> str:
        return f"tapegrad.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


bool_ = dtype("bool", np.bool_, 0)
uint8 = dtype("uint8", np.uint8, 1)
int8 = dtype("int8", np.int8, 1)
int16 = dtype("int16", np.int16, 1)
int32 = dtype("int32", np.int32, 1)
int64 = dtype("int64", np.int64, 1)
float16 = dtype("float16", np.float16, 2)
float32 = dtype("float32", np.float32, 2)
float64 = dtype("float64", np.float64, 2)

ALL = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64)
_FROM_NP = {d.np: d for d in ALL}
_NAMES = {d.name: d for d in ALL}


def _by_name(name: str) -> dtype:
    return _NAMES[name]


def from_numpy_dtype(np_dtype) -> dtype:
    try:
        return _FROM_NP[np.dtype(np_dtype)]
    except KeyError:
        raise TypeError(
            f"can't convert np.ndarray of type {np.dtype(np_dtype)}. The only supported types are: "
            "float64, float32, float16, int64, int32, int16, int8, uint8, and bool."
        ) from None


_default_float = float32


def get_default_dtype() -> dtype:
    """The default floating dtype (float32 unless ``set_default_dtype`` changed it): the dtype of
    Python floats in new tensors."""
    return _default_float


def set_default_dtype(d: dtype) -> None:
    """Sets the default floating dtype (a floating tapegrad dtype)."""
    global _default_float
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_float = d


def to_dtype(d) -> dtype:
    """Accept a tapegrad dtype, a numpy dtype or the Python types float/int/bool."""
    if isinstance(d, dtype):
        return d
    if d is float:
        return _default_float
    if d is int:
        return int64
    if d is bool:
        return bool_
    return from_numpy_dtype(d)


def promote(a: dtype, b: dtype) -> dtype:
    """Promotion of two tensors of the same priority (both dimensioned, or both zero-dim).

    PyTorch's rule, not numpy's: across categories (bool < integer < floating) the higher
    category's dtype wins whatever the widths (``float32 * int64`` is float32, where numpy
    says float64); within a category the wider type wins (uint8 and int8 meet at int16)."""
    if a is b:
        return a
    if a._category != b._category:
        return a if a._category > b._category else b
    return _FROM_NP[np.promote_types(a.np, b.np)]


def result_type(a_dt: dtype, a_zero_dim: bool, b_dt: dtype, b_zero_dim: bool) -> dtype:
    """PyTorch's rule: a zero-dim tensor only raises the result's *category*, never its width,
    unless every operand is zero-dim."""
    if a_dt is b_dt:
        return a_dt
    if a_zero_dim == b_zero_dim:
        return promote(a_dt, b_dt)
    dim_dt, zero_dt = (b_dt, a_dt) if a_zero_dim else (a_dt, b_dt)
    if zero_dt._category > dim_dt._category:
        return zero_dt
    return dim_dt


def scalar_result_type(t: dtype, value) -> dtype:
    """dtype of ``tensor op python_scalar``: a Python scalar only raises the category."""
    if isinstance(value, bool):
        cat = 0
    elif isinstance(value, int):
        cat = 1
    else:
        cat = 2
    if cat <= t._category:
        return t
    return _default_float if cat == 2 else int64


def scalar_dtype(value) -> dtype:
    if isinstance(value, bool):
        return bool_
    if isinstance(value, int):
        return int64
    return _default_float


def _g(v) -> str:
    return f"{v:g}"


class finfo:
    """Limits of a floating-point dtype (``torch.finfo``; the default dtype when none is given):
    ``bits eps max min tiny smallest_normal resolution dtype``."""

    def __init__(self, type=None) -> None:
        d = get_default_dtype() if type is None else to_dtype(type)
        if not d.is_floating_point:
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo "
                            "to handle 'torch.finfo'")
        info = np.finfo(d.np)
        self.bits = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.tiny)
        self.resolution = 10.0 ** -int(info.precision)
        self.dtype = d.name

    def __repr__(self) -> str:
        return (f"finfo(resolution={_g(self.resolution)}, min={_g(self.min)}, max={_g(self.max)}, "
                f"eps={_g(self.eps)}, smallest_normal={_g(self.smallest_normal)}, "
                f"tiny={_g(self.tiny)}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype (``torch.iinfo``): ``bits max min dtype``."""

    def __init__(self, type) -> None:
        d = to_dtype(type)
        if d.is_floating_point or d.np == np.bool_:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to "
                            "handle 'torch.iinfo'")
        info = np.iinfo(d.np)
        self.bits = int(info.bits)
        self.max = int(info.max)
        self.min = int(info.min)
        self.dtype = d.name

    def __repr__(self) -> str:
        return f"iinfo(min={_g(self.min)}, max={_g(self.max)}, dtype={self.dtype})"
