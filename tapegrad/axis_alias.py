"""numpy's ``axis=`` where PyTorch accepts it: PyTorch's argument parser takes ``axis`` for any
``dim`` argument of a ``torch.*`` function or ``Tensor`` method (``x.sum(axis=0)``,
``torch.cat(ts, axis=1)``, ``x.softmax(axis=-1)``). ``install`` wraps, once, every such callable
that does not already take ``axis`` itself; ``nn.functional`` (Python functions in PyTorch too)
is left alone, as PyTorch leaves it."""
from __future__ import annotations

import functools
import inspect


def _takes_dim_not_axis(fn) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return False  # takes **kwargs: handles axis= itself (sum, mean, max...) or passes it on
    return "dim" in params and "axis" not in params


def _with_axis(fn):
    @functools.wraps(fn)
    def call(*args, **kwargs):
        if "axis" in kwargs:
            if "dim" in kwargs:
                raise TypeError(f"{fn.__name__}() got multiple values for argument 'dim'")
            kwargs["dim"] = kwargs.pop("axis")
        return fn(*args, **kwargs)
    call._accepts_axis = True
    return call


# Python-level in PyTorch (torch/_tensor.py, torch/functional.py): no axis= there either.
_PYTHON_LEVEL = {"split", "unflatten", "norm", "unique", "stft", "istft", "lu"}


def install(namespace: dict, names, cls) -> None:
    """Let the functions ``names`` of ``namespace`` and every method of ``cls`` take ``axis=``
    for ``dim=`` (a wrapper costs about half a microsecond a call, so functions that already
    take it are left as they are)."""
    for name in names:
        if name in _PYTHON_LEVEL:
            continue
        fn = namespace.get(name)
        if callable(fn) and not isinstance(fn, type) and not getattr(fn, "_accepts_axis", False) \
                and _takes_dim_not_axis(fn):
            namespace[name] = _with_axis(fn)
    for name, fn in list(vars(cls).items()):
        if name.startswith("__") or name in _PYTHON_LEVEL or not inspect.isfunction(fn) or \
                getattr(fn, "_accepts_axis", False) or not _takes_dim_not_axis(fn):
            continue
        setattr(cls, name, _with_axis(fn))
