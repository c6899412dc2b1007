"""Tensor methods and operators: thin bindings of the functions in ``forward``."""
from __future__ import annotations

import numpy as np

from . import dtypes
from . import forward as F
from .creation import tensor
from .device import device
from .tensor import Tensor


def _all(input, dim=None, keepdim=False):
    """True if every element is nonzero: over all elements, or along ``dim`` (a bool tensor)."""
    x = F.as_tensor_arg(input)
    axis = None if dim is None else F._dims(dim, x.ndim)
    return Tensor._make(np.asarray(np.all(x._data, axis=axis, keepdims=keepdim)))


def _any(input, dim=None, keepdim=False):
    """True if any element is nonzero: over all elements, or along ``dim`` (a bool tensor)."""
    x = F.as_tensor_arg(input)
    axis = None if dim is None else F._dims(dim, x.ndim)
    return Tensor._make(np.asarray(np.any(x._data, axis=axis, keepdims=keepdim)))


def _to(self, *args, **kwargs):
    """This tensor converted to a dtype (given, or another tensor's); devices other than the CPU
    are refused. Returns ``self`` when nothing changes, unless ``copy=True``."""
    from .device import _use_device
    dt = kwargs.get("dtype")
    copy = kwargs.get("copy", False)
    for a in args:
        if isinstance(a, Tensor):
            dt = a.dtype
        elif isinstance(a, (str, device)) or type(a) is int:
            _use_device(a)
        elif a is not None:
            dt = a
    if "device" in kwargs and kwargs["device"] is not None:
        _use_device(kwargs["device"])
    if dt is None:
        return F.clone(self) if copy else self
    return F.to_dtype(self, dt, copy)


def _type(self, dtype=None, non_blocking=False):
    """Without ``dtype``, the type name (``'tapegrad.FloatTensor'``); with a dtype or a type name
    (``'torch.DoubleTensor'``), this tensor converted to it."""
    if dtype is None:
        return f"tapegrad.{F._type_name(self.dtype)}Tensor"
    if isinstance(dtype, str):
        if ".cuda." in dtype:
            raise AssertionError("Torch not compiled with CUDA enabled")
        names = {f"torch.{v}Tensor": k for k, v in F._TYPE_NAMES.items()}
        names.update({f"tapegrad.{v}Tensor": k for k, v in F._TYPE_NAMES.items()})
        dtype = dtypes._by_name(names[dtype])
    elif callable(dtype) and getattr(dtype, "_legacy_dtype", None) is not None:
        dtype = dtype._legacy_dtype  # tapegrad.DoubleTensor and friends
    return F.to_dtype(self, dtype)


def _inplace_method(fn):
    def method(self, *args, **kwargs):
        return F.inplace(self, lambda s: fn(s, *args, **kwargs))
    method.__name__ = fn.__name__ + "_"
    method.__doc__ = f"In-place version of ``{fn.__name__}``: writes the result into ``self``."
    return method


def _rsub(self, other):
    return F.binary("sub", other, self, "RsubBackward1")


def _rdiv(self, other):
    return F.binary("div", other, self)


def _rpow(self, other):
    return F.pow(other, self)


def _floordiv(self, other):
    return F.div(self, other, rounding_mode="floor")


def _rfloordiv(self, other):
    return F.div(other, self, rounding_mode="floor")


def _mod(self, other):
    with F._no_grad():
        return Tensor._make(np.asarray(np.mod(self._data, getattr(other, "_data", other))))


def _getitem(self, index):
    return F.getitem(self, index)


def _setitem(self, index, value):
    F.setitem(self, index, value)


def _new(fn):
    def method(self, *size, dtype=None, device=None, requires_grad=False):
        return fn(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)
    method.__name__ = "new_" + fn.__name__
    method.__doc__ = (f"A new tensor of ``size`` filled as ``{fn.__name__}`` does, with this "
                      f"tensor's dtype unless ``dtype`` is given.")
    return method


def _new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
    """A new tensor of ``size`` filled with ``fill_value``, with this tensor's dtype unless
    ``dtype`` is given."""
    from .creation import full
    return full(size, fill_value, dtype=dtype or self.dtype, requires_grad=requires_grad)


def _new_tensor(self, data, dtype=None, requires_grad=False) -> Tensor:
    """A new tensor from ``data`` with this tensor's dtype unless ``dtype`` is given."""
    return tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)


def _zero_(self):
    """Fills ``self`` with zeros, in place."""
    return F.inplace(self, lambda x: F._fill_like(x, 0, "ZeroBackward0"))


def _fill_(self, value):
    """Fills ``self`` with ``value``, in place."""
    return F.inplace(self, lambda x: F._fill_like(x, value, "FillBackward0"))


def _copy_(self, src, non_blocking=False):
    """Copies the elements of ``src`` (broadcast, converted to this dtype) into ``self``."""
    return F.inplace(self, lambda x: F._fill_like(x, F.as_tensor_arg(src), "CopyBackwards"))


def _where(self, condition, other):
    """``self`` where ``condition`` is True, ``other`` elsewhere: ``where(condition, self,
    other)``."""
    return F.where(condition, self, other)


def _view_as(self, other):
    """``self.view(other.shape)``."""
    return F.view(self, other.shape)


def _reshape_as(self, other):
    """``self.reshape(other.shape)``."""
    return F.reshape(self, other.shape)


def _converter(dt, name: str):
    def method(self):
        return F.to_dtype(self, dt)
    method.__name__ = name
    method.__doc__ = f"``self.to({dt})``: this tensor as {dt} (itself if it already is)."
    return method


def _contiguous(self, memory_format=None):
    """``self`` if its data is C-contiguous, else a copy with C strides (``CloneBackward0``)."""
    if self._data.flags.c_contiguous:
        return self
    from .forward.record import emit
    from .grad_mode import is_grad_enabled
    from .ops import OPS
    data = np.ascontiguousarray(self._data)
    if self._rg and is_grad_enabled():
        return emit(OPS["copy"], "CloneBackward0", data, (self,), (self._data,))
    return Tensor._make(data)


def _T(self):
    """The tensor with its dimensions reversed (``permute(n-1, ..., 0)``)."""
    return F._permute(self, tuple(range(self.ndim))[::-1], "PermuteBackward0") \
        if self.ndim >= 2 else self


def _mT(self):
    """The tensor with its last two dimensions swapped (a batch of transposed matrices)."""
    return F.transpose(self, -2, -1)


def bind() -> None:
    from . import creation
    T = Tensor
    # operators
    B = F._BINARY
    T.__add__ = B["add"]
    T.__radd__ = lambda s, o: B["add"](o, s)
    T.__sub__ = B["sub"]
    T.__rsub__ = _rsub
    T.__mul__ = B["mul"]
    T.__rmul__ = lambda s, o: B["mul"](o, s)
    T.__truediv__ = B["div"]
    T.__rtruediv__ = _rdiv
    T.__floordiv__ = _floordiv
    T.__rfloordiv__ = _rfloordiv
    T.__mod__ = _mod
    T.__pow__ = lambda s, o: F.pow(s, o)
    T.__rpow__ = _rpow
    T.__matmul__ = lambda s, o: F.matmul(s, o)
    T.__rmatmul__ = lambda s, o: F.matmul(o, s)
    T.__neg__ = F.neg
    T.__pos__ = lambda s: s
    T.__abs__ = F.abs
    T.__eq__ = F.eq
    T.__ne__ = F.ne
    T.__lt__ = F.lt
    T.__le__ = F.le
    T.__gt__ = F.gt
    T.__ge__ = F.ge
    T.__and__ = F.bitwise_and
    T.__or__ = F.bitwise_or
    T.__xor__ = F.bitwise_xor
    T.__invert__ = F.logical_not
    T.__getitem__ = _getitem
    T.__setitem__ = _setitem
    T.__iadd__ = T.add_ = _inplace_method(F.add)
    T.__isub__ = T.sub_ = _inplace_method(F.sub)
    T.__imul__ = T.mul_ = _inplace_method(F.mul)
    T.__itruediv__ = T.div_ = _inplace_method(F.div)
    T.__ipow__ = T.pow_ = _inplace_method(F.pow)
    T.clamp_ = T.clip_ = _inplace_method(F.clamp)
    T.masked_fill_ = _inplace_method(F.masked_fill)
    T.zero_ = _zero_
    T.fill_ = _fill_
    T.copy_ = _copy_
    # functions that are also methods
    for name in ("add", "sub", "mul", "div", "pow", "maximum", "minimum", "clamp", "clip",
                 "abs", "exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "sin", "cos", "tan",
                 "tanh", "sigmoid", "relu", "square", "reciprocal", "sign", "neg", "clone",
                 "sum", "mean", "var", "std", "max", "min", "amax", "amin", "argmax", "argmin",
                 "prod", "norm", "cumsum", "logsumexp", "softmax", "log_softmax", "matmul",
                 "mm", "mv", "dot", "outer", "bmm", "reshape", "view", "flatten", "squeeze",
                 "unsqueeze", "permute", "transpose", "swapaxes", "t", "expand", "expand_as",
                 "broadcast_to", "split", "chunk", "unbind", "eq", "ne", "lt", "le", "gt",
                 "ge", "masked_fill", "index_select", "gather", "where", "isfinite", "isnan",
                 "isinf", "logical_not", "logical_and", "logical_or", "equal", "allclose",
                 "isclose", "leaky_relu", "floor", "ceil", "round", "absolute", "negative",
                 "greater", "less", "greater_equal", "less_equal", "not_equal", "ger",
                 "swapdims"):
        setattr(T, name, getattr(F, name))
    for name, fn in F._UNARY.items():  # the recording closures themselves: no extra call
        if name not in ("copy", "clamp", "leaky_relu"):  # those take arguments of their own
            setattr(T, name, fn)
    for name in ("exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "abs", "neg",
                 "reciprocal", "square", "sign", "log1p", "expm1", "rsqrt", "tan", "floor",
                 "ceil", "round"):
        setattr(T, name + "_", _inplace_method(getattr(F, name)))
    T.where = _where
    T.all = _all
    T.any = _any
    T.repeat = F.repeat
    T.new_tensor = _new_tensor
    T.view_as = _view_as
    T.reshape_as = _reshape_as
    T.to = _to
    T.type = _type
    T.float = _converter(dtypes.float32, "float")
    T.double = _converter(dtypes.float64, "double")
    T.half = _converter(dtypes.float16, "half")
    T.long = _converter(dtypes.int64, "long")
    T.int = _converter(dtypes.int32, "int")
    T.bool = _converter(dtypes.bool_, "bool")
    T.contiguous = _contiguous
    T.T = property(_T)
    T.mT = property(_mT)
    T.new_zeros = _new(creation.zeros)
    T.new_ones = _new(creation.ones)
    T.new_empty = _new(creation.empty)
    T.new_full = _new_full
    # numpy-interop families (F, linalg, scan, shaping, sorting, elementwise_more)
    for mod, names in ((F, ("flip", "roll", "movedim", "moveaxis", "tile",
                                  "repeat_interleave", "diagonal", "diag")),
                       (F, ("trace",)), (F, ("cumprod",)),
                       (F, ("sort", "argsort")),
                       (F, ("atan", "atan2", "arctan", "arctan2"))):
        for name in names:
            setattr(T, name, getattr(mod, name))
    T.inverse = F.inv
    _bind_special(T)
    T.det = F.det
    # torch.linalg's Tensor methods (forward/linalg.py, forward/decomp.py)
    for name, fn in (("kron", F.kron), ("cross", F.cross), ("matrix_power", F.matrix_power),
                     ("slogdet", F.slogdet_torch), ("logdet", F.logdet),
                     ("matrix_exp", F.matrix_exp), ("pinverse", F.pinverse),
                     ("cholesky", F.cholesky_deprecated), ("qr", F.qr_deprecated),
                     ("svd", F.svd_deprecated), ("inner", F.inner), ("vdot", F.vdot),
                     ("cholesky_solve", F.cholesky_solve),
                     ("cholesky_inverse", F.cholesky_inverse), ("lu", F.lu_deprecated),
                     ("lu_solve", F.lu_solve_deprecated)):
        setattr(T, name, fn)
    for name in ("addmm", "addmv", "addr", "baddbmm", "addbmm"):
        setattr(T, name, getattr(F, name))
        setattr(T, name + "_", _inplace_method(getattr(F, name)))


# issue 13's pointwise math (forward/special.py): the functions, and in-place forms where
# PyTorch has them.
_SPECIAL = ("sinh", "cosh", "asinh", "acosh", "atanh", "asin", "acos", "arcsinh", "arccosh",
            "arctanh", "arcsin", "arccos", "erf", "erfc", "erfinv", "log2", "log10", "exp2",
            "hypot", "logaddexp", "logaddexp2", "fmod", "remainder", "trunc", "fix", "frac",
            "logit", "xlogy", "sinc", "deg2rad", "rad2deg", "lerp", "addcmul", "addcdiv",
            # reductions, scans and order statistics (forward/select.py)
            "logcumsumexp", "diff", "topk", "kthvalue", "median", "nanmedian", "mode",
            "nansum", "nanmean", "count_nonzero", "aminmax", "quantile", "nanquantile",
            # shape and indexing (forward/arrange.py, forward/scatter.py)
            "fliplr", "flipud", "rot90", "narrow", "unflatten", "tril", "triu", "diag_embed",
            "scatter", "scatter_add", "scatter_reduce", "index_add", "index_copy", "index_fill",
            "take", "take_along_dim", "masked_select", "masked_scatter", "nonzero", "argwhere")
_SPECIAL_INPLACE = ("sinh", "cosh", "asinh", "acosh", "atanh", "asin", "acos", "arcsinh",
                    "arccosh", "arctanh", "arcsin", "arccos", "erf", "erfc", "erfinv", "log2",
                    "log10", "exp2", "hypot", "fmod", "remainder", "trunc", "fix", "frac",
                    "logit", "xlogy", "sinc", "deg2rad", "rad2deg", "lerp", "addcmul",
                    "addcdiv", "tril", "triu", "scatter", "scatter_add", "scatter_reduce",
                    "index_add", "index_copy", "index_fill", "masked_scatter")


def _bind_special(T) -> None:
    for name in _SPECIAL:
        setattr(T, name, getattr(F, name))
    for name in _SPECIAL_INPLACE:
        setattr(T, name + "_", _inplace_method(getattr(F, name)))
