"""Counters of what the JIT did: compiles, cache hits and misses, disk loads."""
from __future__ import annotations

# compiles / compile_seconds: Numba compilations and their time alone; disk_loads /
# disk_load_seconds: machine code loaded from the disk cache instead; kernel_reuses: a plan
# that found its kernel already compiled in this process (no cost); kernels: loaded now.
_ZERO = {"compiles": 0, "compile_seconds": 0.0, "cache_hits": 0, "cache_misses": 0,
         "disk_loads": 0, "disk_load_seconds": 0.0, "kernel_reuses": 0, "kernels": 0,
         "tampered": 0, "jit_backwards": 0, "interpreted_backwards": 0,
         "trace_cache_evictions": 0}

STATS: dict = dict(_ZERO)


def stats() -> dict:
    """A copy of the counters (``compiles``, ``compile_seconds``, ``cache_hits``, ...)."""
    return dict(STATS)


def reset_stats() -> None:
    """Sets the JIT's counters (``stats()``) back to zero; ``kernels``, a count of what is loaded,
    is kept."""
    kernels = STATS["kernels"]
    STATS.clear()
    STATS.update(_ZERO)
    STATS["kernels"] = kernels  # a count of what is loaded, not of events
