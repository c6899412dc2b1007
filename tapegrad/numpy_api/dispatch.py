"""Tensor's ``__array_function__`` and ``__array_ufunc__``: the tables' implementations, or numpy
on plain arrays when no gradient is wanted, or a TypeError naming the user's line when one is."""
from __future__ import annotations

import os
import sys

import numpy as np

from ..tape import TLS
from ..tensor import Tensor

from ._common import Unsupported
from .functions import HANDLED
from .ufuncs import UFUNCS, _call_ufunc


# ---- dispatch -----------------------------------------------------------------------------
def _needs_grad(obj) -> bool:
    if isinstance(obj, Tensor):
        return obj._rg
    if isinstance(obj, (list, tuple)):
        return any(_needs_grad(o) for o in obj)
    if isinstance(obj, dict):
        return any(_needs_grad(o) for o in obj.values())
    return False


def _to_arrays(obj):
    if isinstance(obj, Tensor):
        return obj._data
    if isinstance(obj, list):
        return [_to_arrays(o) for o in obj]
    if isinstance(obj, tuple):
        return tuple(_to_arrays(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _to_arrays(v) for k, v in obj.items()}
    return obj


_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # tapegrad/
_NUMPY = os.path.dirname(os.path.abspath(np.__file__))


def _user_line() -> str:
    """' (at file:line)' for the innermost frame outside tapegrad and numpy."""
    f = sys._getframe(1)
    while f is not None:
        path = os.path.abspath(f.f_code.co_filename)
        if not path.startswith((_HERE, _NUMPY)):
            return f" (at {f.f_code.co_filename}:{f.f_lineno})"
        f = f.f_back
    return ""


def _public_name(func) -> str:
    module = getattr(func, "__module__", None) or "numpy"
    if module.startswith("numpy._core") or module.startswith("numpy.core"):
        module = "numpy"
    return f"{module}.{getattr(func, '__name__', func)}"


def unsupported_error(what: str, reason) -> TypeError:
    detail = f" with {reason}" if reason else ""
    return TypeError(
        f"tapegrad: {what}(){detail} is not supported on a tensor that requires grad: turning "
        f"the tensor into a numpy array would drop its gradient{_user_line()}. Use a tapegrad "
        f"function instead (tapegrad.numpy_api.supported() lists the numpy functions that "
        f"record on the tape), or detach() the tensor if no gradient should flow through it.")


def array_function(self, func, types, args, kwargs):
    """NEP 18: ``np.<func>(..., tensor, ...)``."""
    for t in types:
        if not issubclass(t, (Tensor, np.ndarray)):
            return NotImplemented
    handler = HANDLED.get(func)
    reason = None
    if handler is not None:
        try:
            return handler(*args, **kwargs)
        except Unsupported as e:
            reason = e.args[0] if e.args else None
    if TLS.s.grad_enabled and (_needs_grad(args) or _needs_grad(kwargs)):
        raise unsupported_error(_public_name(func), reason)
    # No gradient is wanted: numpy computes on the plain arrays.
    return func(*_to_arrays(args), **_to_arrays(kwargs))


def array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """NEP 13: ``np.sin(tensor)``, ``array * tensor``, ``np.add.reduce(tensor)``."""
    try:
        return _call_ufunc(ufunc, method, inputs, dict(kwargs))
    except Unsupported as e:
        reason = e.args[0] if e.args else None
    if TLS.s.grad_enabled and (_needs_grad(inputs) or _needs_grad(kwargs)):
        what = f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
        raise unsupported_error(what, reason)
    return getattr(ufunc, method)(*_to_arrays(inputs), **_to_arrays(kwargs))


def supported() -> list:
    """The numpy functions and ufuncs that run as tapegrad ops, by name."""
    names = {_public_name(f) for f in HANDLED}
    names |= {f"numpy.{u.__name__}" for u in UFUNCS}
    return sorted(names)


def bind() -> None:
    """The one registration point: Tensor speaks NEP 13 and NEP 18 through this module."""
    Tensor.__array_function__ = array_function
    Tensor.__array_ufunc__ = array_ufunc
