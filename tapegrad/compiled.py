"""``tapegrad.compile``: PyTorch's ``torch.compile`` API, so scripts that use it run unchanged.

Today it behaves as ``torch.compile(..., backend="eager")`` does in PyTorch: the function or
module runs eagerly, with its backward under the default backend (``auto``: fused JIT kernels
where its cost model says they pay). Whole-function tracing with fused forward kernels is the
next step (issue 12); the API, its arguments, its checks and the wrapper's behaviour (an
``OptimizedModule`` whose parameters are the original module's own) are PyTorch's already.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

from .backends import preload_numba
from .compiler.function import Compiled
from .nn.modules import Module

MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")


class OptimizedModule(Module):
    """What ``compile(module)`` returns, as PyTorch's: calling it calls the original module,
    whose parameters, buffers and submodules it shares (an optimizer built on either sees the
    same tensors); ``_orig_mod`` is the original, and attributes not found here are looked up
    there. Its ``state_dict`` keys carry PyTorch's ``_orig_mod.`` prefix."""

    def __init__(self, mod: Module, fullgraph: bool = False) -> None:
        super().__init__()
        self._orig_mod = mod
        object.__setattr__(self, "_compiled", Compiled(mod, fullgraph, module=mod))

    def forward(self, *args, **kwargs):
        """Call the original module, traced and replayed (see :func:`compile`)."""
        return self._compiled(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._modules["_orig_mod"], name)


def _check(fullgraph, dynamic, backend, mode, options) -> None:
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified "
                           "at the same time.")
    if mode is not None and mode not in MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(MODES)}")
    if not (isinstance(backend, str) or callable(backend)):
        raise TypeError(f"backend must be a string or a callable, got {type(backend).__name__}")
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"options must be a dict, got {type(options).__name__}")


def compile(model: Callable | None = None, *, fullgraph: bool = False, dynamic: bool | None = None,
            backend: str | Callable = "inductor", mode: str | None = None,
            options: dict | None = None, disable: bool = False):
    """PyTorch's ``torch.compile``: usable as ``compile(fn)``, ``@compile`` and
    ``@compile(mode=...)``; on an ``nn.Module`` it returns an :class:`OptimizedModule`.

    The first call with a new signature traces the function (one eager run); later calls
    replay it through fused kernels (``tapegrad.compiler``). The arguments are checked as
    PyTorch checks them; ``fullgraph=True`` raises at a graph break; ``dynamic``, ``mode`` and
    ``options`` have no effect; ``backend="eager"`` compiles nothing, as PyTorch's does, and
    ``disable=True`` returns ``model`` itself."""
    _check(fullgraph, dynamic, backend, mode, options)
    if model is None:
        return functools.partial(compile, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                                 mode=mode, options=options, disable=disable)
    if not callable(model):
        raise RuntimeError("compile() expects a callable or an nn.Module, got "
                           f"{type(model).__name__}")
    if disable:
        return model
    if backend == "eager":  # PyTorch's backend that compiles nothing
        return model
    preload_numba(compiling=True)   # Numba starts while the first call traces
    if isinstance(model, Module):
        return OptimizedModule(model, fullgraph)
    traced = Compiled(model, fullgraph)

    @functools.wraps(model)
    def compiled(*args, **kwargs):
        return traced(*args, **kwargs)

    compiled._torchdynamo_orig_callable = model
    compiled._tapegrad_compiled = traced
    return compiled
