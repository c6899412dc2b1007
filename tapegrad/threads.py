"""One thread pool for work split over the CPU's cores: large JIT kernels (which release the GIL)
and large transcendental ufuncs in the forward (numpy releases it too)."""
from __future__ import annotations

import os

import numpy as np

from .envvars import env_int

THREADS = env_int("TAPEGRAD_THREADS", os.cpu_count() or 1, minimum=1)
# Arrays this large are split across threads; smaller ones do not pay for the hand-off.
PARALLEL_MIN = env_int("TAPEGRAD_PARALLEL_MIN", 1 << 17, minimum=1)
_pool: list = []


def pool():
    if not _pool:
        from concurrent.futures import ThreadPoolExecutor
        _pool.append(ThreadPoolExecutor(THREADS, thread_name_prefix="tapegrad"))
    return _pool[0]


def chunks(n: int):
    """(lo, hi) ranges, one per thread."""
    step = -(-n // THREADS)
    return [(lo, min(n, lo + step)) for lo in range(0, n, step)]


def split_ufunc(ufunc, a: np.ndarray) -> np.ndarray:
    """``ufunc(a)`` computed by all threads, each on a slice (a must be C-contiguous)."""
    out = np.empty_like(a)
    src, dst = a.reshape(-1), out.reshape(-1)
    parts = chunks(src.size)
    futures = [pool().submit(ufunc, src[lo:hi], out=dst[lo:hi]) for lo, hi in parts[1:]]
    lo, hi = parts[0]
    ufunc(src[lo:hi], out=dst[lo:hi])
    for f in futures:
        f.result()
    return out
