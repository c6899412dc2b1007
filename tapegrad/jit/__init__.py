"""tapegrad.jit: backward compiled to fused Numba kernels, with a structural trace cache.

    tapegrad.set_backend("jit")          # or "interp", or "auto" (the default)
    tapegrad.jit.stats()                 # compiles, compile_seconds, cache hits and misses, ...
"""
from __future__ import annotations

from . import compile as _compile
from .compile import KernelCacheWarning
from .debug import set_level as set_debug
from .runtime import CompileNotice, clear_plans, run_jit
from .stats import reset_stats, stats

__all__ = ["run_jit", "stats", "reset_stats", "clear_cache", "set_debug", "CompileNotice",
           "KernelCacheWarning"]


def clear_cache(disk: bool = False) -> None:
    """Forget every plan and kernel in memory; with ``disk=True`` also delete the disk cache."""
    clear_plans()
    _compile.clear(disk)
