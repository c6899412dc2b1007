"""tapegrad: PyTorch-compatible autograd on a Wengert tape, with a Numba JIT for backward.

    import tapegrad as torch
"""
from __future__ import annotations

__version__ = "0.1.0"

import warnings as _warnings

# PyTorch computes inf and nan without a word; numpy warns from inside tapegrad's ops (log of 0,
# 0/0, overflow). Those warnings, and only those (attributed to tapegrad's own modules), are
# ignored: one filter, at no cost per op, where np.errstate around every op would cost ~1 us.
# numpy code of the user's own still warns as numpy does.
_warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"tapegrad(\..*)?$")

from . import backends as _backends
from . import threads as _threads
from . import cuda, dtypes  # noqa: F401
from .backends import backend, get_backend, set_backend
from .creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like,
                       linspace, logspace, manual_seed, normal, ones, ones_like, rand, rand_like,
                       randint, randn, randn_like, randperm, seed, tensor, zeros, zeros_like)
from .dtypes import (bool_ as bool, float16, float32, float64, get_default_dtype, int8, int16,
                     int32, int64, set_default_dtype, uint8)
from .forward import (abs, absolute, add, allclose, amax, amin, argmax, argmin, bmm,
                      broadcast_tensors, broadcast_to, cat, ceil, chunk, clamp, clip, clone,
                      concat, concatenate, cos, cumsum, div, dot, eq, equal, exp, expand, expm1,
                      flatten, floor, gather, ge, ger, gt, index_select, isclose, isfinite,
                      isinf, isnan, le, log, log1p, log_softmax, logical_and, logical_not,
                      logical_or, logical_xor, logsumexp, lt, masked_fill, matmul, max, maximum,
                      mean, min, minimum, mm, mul, mv, ne, neg, negative, norm, outer, permute,
                      pow, prod, reciprocal, relu, reshape, return_types, round, rsqrt, sigmoid,
                      sign, sin, softmax, split, sqrt, square, squeeze, stack, std, sub, sum,
                      swapaxes, swapdims, t, tan, tanh, transpose, unbind, unsqueeze, var, view,
                      where)
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, no_grad,
                        set_grad_enabled)
from .methods import bind as _bind
from .printing import set_printoptions
from .func import grad, value_and_grad, vmap
from .serialization import load, save
from .tape import Tape, current_tape
from .tensor import Size, Tensor, device
from . import linalg  # noqa: F401
from .forward import (arctan, arctan2, argsort, atan, atan2, cumprod, det, diag,  # noqa: F401
                      diagonal, einsum, flip, moveaxis, movedim, repeat_interleave, roll, sort,
                      tensordot, tile, trace)
from .forward import (acos, acosh, addcdiv, addcmul, arccos, arccosh, arcsin,  # noqa: F401
                      arcsinh, arctanh, asin, asinh, atanh, cosh, deg2rad, erf, erfc, erfinv,
                      exp2, fix, fmod, frac, hypot, lerp, log2, log10, logaddexp, logaddexp2,
                      logit, rad2deg, remainder, sinc, sinh, trunc, xlogy)
from .forward import (aminmax, count_nonzero, diff, kthvalue, logcumsumexp,  # noqa: F401
                      median, mode, nanmean, nanmedian, nanquantile, nansum, quantile, std_mean,
                      topk, var_mean)
from .forward import (argwhere, block_diag, cartesian_prod, diag_embed, fliplr,  # noqa: F401
                      flipud, index_add, index_copy, index_fill, masked_scatter, masked_select,
                      meshgrid, narrow, nonzero, rot90, scatter, scatter_add, scatter_reduce,
                      take, take_along_dim, tril, triu, unflatten)
from .numpy_api import bind as _bind_numpy

_bind()
_bind_numpy()
inverse = linalg.inv
from .forward import kron, cross, matrix_power, logdet, matrix_exp, pinverse  # noqa: E402
from .forward import slogdet_torch as slogdet  # noqa: E402
from .forward import cholesky_deprecated as cholesky  # noqa: E402
from .forward import qr_deprecated as qr  # noqa: E402
from .forward import svd_deprecated as svd  # noqa: E402
from .forward import (addbmm, addmm, addmv, addr, baddbmm, chain_matmul,  # noqa: E402
                      cholesky_inverse, cholesky_solve, inner, vdot, lu_unpack)
from .forward import lu_deprecated as lu  # noqa: E402
from .forward import lu_solve_deprecated as lu_solve  # noqa: E402
_backends.preload_numba()

float = float32
double = float64
long = int64
half = float16
int = int32
short = int16
uint = uint8

def _legacy(dt):
    def make(*args, **kwargs) -> Tensor:
        return Tensor(*args, dtype=dt, **kwargs)
    make.__doc__ = (f"PyTorch's legacy constructor for {dt} tensors: ``Tensor(*args)`` with "
                    f"``dtype={dt}``.")
    make._legacy_dtype = dt  # Tensor.type(tapegrad.DoubleTensor)
    return make


FloatTensor = _legacy(float32)
DoubleTensor = _legacy(float64)
LongTensor = _legacy(int64)
BoolTensor = _legacy(bool)


def is_tensor(obj) -> bool:
    """True if ``obj`` is a tapegrad ``Tensor``."""
    return isinstance(obj, Tensor)


def numel(input) -> int:
    """The number of elements of ``input``."""
    return input.numel()


def is_floating_point(input) -> bool:
    """True if ``input`` has a floating-point dtype."""
    return input.is_floating_point()


def all(input, dim=None, keepdim=False):
    """True where every element is nonzero: over all elements, or along ``dim``."""
    return input.all(dim, keepdim) if dim is not None else input.all()


def any(input, dim=None, keepdim=False):
    """True where any element is nonzero: over all elements, or along ``dim``."""
    return input.any(dim, keepdim) if dim is not None else input.any()


def set_num_threads(n) -> None:
    """Use at most ``n`` threads for one operation, as ``torch.set_num_threads``: it governs
    tapegrad's own pool (large fused kernels and ufuncs) and numpy's BLAS (large matrix
    products). Small operations run on one thread whatever ``n`` is (see README, Threads)."""
    if n is True or n is False or not hasattr(n, "__index__"):  # bool is a dtype here
        raise RuntimeError(f"set_num_threads expects an int, but got {type(n).__name__}")
    n = n.__index__()
    if n < 1:
        raise RuntimeError("set_num_threads expects a positive integer")
    _threads.set_width(n)


def get_num_threads() -> int:
    """The number of threads one large operation uses (``TAPEGRAD_THREADS``, else the CPUs
    this process may run on, until ``set_num_threads`` changes it)."""
    return _threads.THREADS


from . import autograd, jit, nn, optim, profile, special, viz  # noqa: E402,F401
from .explain import explain, trace_backward  # noqa: E402
from .compiled import compile  # noqa: E402  (torch.compile's API)
from . import utils  # noqa: E402,F401  (torch.utils.data)
from .random import (Generator, bernoulli, default_generator,  # noqa: E402,F401
                     get_rng_state, initial_seed, multinomial, set_rng_state)
from .creation import get_default_device, set_default_device  # noqa: E402
from .dtypes import finfo, iinfo  # noqa: E402

# The public API, listed by hand: a new public name is added here on purpose
# (tests/test_public_api.py checks that each has a docstring and none is internal).
__all__ = [
    # tensors, sizes, devices, dtypes
    "Tensor", "Size", "device", "is_tensor", "is_floating_point", "numel",
    "FloatTensor", "DoubleTensor", "LongTensor", "BoolTensor",
    "bool", "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
    "float", "double", "half", "long", "int", "short", "uint",
    "get_default_dtype", "set_default_dtype", "get_default_device", "set_default_device", "finfo",
    "iinfo",
    # creation and random numbers
    "tensor", "as_tensor", "from_numpy", "arange", "linspace", "logspace", "eye", "empty",
    "empty_like", "full", "full_like", "ones", "ones_like", "zeros", "zeros_like", "rand",
    "rand_like", "randn", "randn_like", "randint", "randperm", "normal", "manual_seed", "seed",
    "Generator", "default_generator", "get_rng_state", "set_rng_state", "initial_seed",
    "bernoulli", "multinomial",
    # elementwise
    "abs", "absolute", "add", "sub", "mul", "div", "pow", "neg", "negative", "reciprocal",
    "square", "sqrt", "rsqrt", "exp", "expm1", "log", "log1p", "sin", "cos", "tan", "tanh",
    "atan", "arctan", "atan2", "arctan2", "sigmoid", "relu", "sign", "floor", "ceil", "round",
    "clamp", "clip", "maximum", "minimum", "where", "masked_fill", "clone",
    "sinh", "cosh", "asinh", "acosh", "atanh", "asin", "acos", "arcsinh", "arccosh", "arctanh",
    "arcsin", "arccos", "erf", "erfc", "erfinv", "log2", "log10", "exp2", "hypot", "logaddexp",
    "logaddexp2", "fmod", "remainder", "trunc", "fix", "frac", "logit", "xlogy", "sinc",
    "deg2rad", "rad2deg", "lerp", "addcmul", "addcdiv",
    # comparisons and logic
    "eq", "ne", "lt", "le", "gt", "ge", "equal", "allclose", "isclose", "isfinite", "isinf",
    "isnan", "logical_and", "logical_not", "logical_or", "logical_xor", "all", "any",
    # reductions, scans, sorting
    "sum", "mean", "prod", "var", "std", "norm", "max", "min", "amax", "amin", "argmax",
    "argmin", "logsumexp", "softmax", "log_softmax", "cumsum", "cumprod", "sort", "argsort",
    "logcumsumexp", "diff", "topk", "kthvalue", "median", "nanmedian", "mode", "nansum",
    "nanmean", "count_nonzero", "aminmax", "std_mean", "var_mean", "quantile", "nanquantile",
    "return_types",
    # matrix products and linear algebra
    "matmul", "mm", "mv", "bmm", "dot", "outer", "ger", "einsum", "tensordot", "trace", "det",
    "inverse", "diag", "diagonal", "kron", "cross", "matrix_power", "slogdet", "logdet",
    "matrix_exp", "pinverse", "cholesky", "qr", "svd", "addmm", "addmv", "addr", "baddbmm",
    "addbmm", "inner", "vdot", "chain_matmul", "cholesky_solve", "cholesky_inverse", "lu",
    "lu_unpack", "lu_solve",
    # shapes, indexing, joining
    "reshape", "view", "flatten", "squeeze", "unsqueeze", "permute", "transpose", "swapaxes",
    "swapdims", "t", "movedim", "moveaxis", "expand", "broadcast_to", "broadcast_tensors",
    "flip", "roll", "tile", "repeat_interleave", "gather", "index_select", "cat", "concat",
    "concatenate", "stack", "split", "chunk", "unbind",
    "fliplr", "flipud", "rot90", "narrow", "unflatten", "tril", "triu", "diag_embed", "scatter",
    "scatter_add", "scatter_reduce", "index_add", "index_copy", "index_fill", "take",
    "take_along_dim", "masked_select", "masked_scatter", "nonzero", "argwhere", "meshgrid",
    "cartesian_prod", "block_diag",
    # autograd: grad mode, transforms, the tape
    "no_grad", "enable_grad", "inference_mode", "is_grad_enabled", "set_grad_enabled", "grad",
    "value_and_grad", "vmap", "Tape", "current_tape", "explain", "trace_backward", "compile",
    # backends, threads, printing, serialization
    "backend", "get_backend", "set_backend", "get_num_threads", "set_num_threads",
    "set_printoptions", "save", "load",
    # public submodules
    "autograd", "cuda", "func", "jit", "linalg", "nn", "optim", "profile", "special", "utils",
    "viz",
]

from . import axis_alias as _axis_alias  # noqa: E402

_axis_alias.install(globals(), __all__, Tensor)  # numpy's axis= for dim=, as PyTorch accepts
