"""How many threads each operation gets: tapegrad's own pool (large JIT kernels and large
transcendental ufuncs, which release the GIL, split over threads) and numpy's BLAS (matrix
products).

The policy, per operation, like PyTorch's grain size:
- a matrix product whose m*n*k is below ``BLAS_MIN`` runs BLAS on one thread; a larger one runs
  it on ``THREADS`` threads (``tapegrad.set_num_threads``); after a large product BLAS goes back
  to one thread once ``NARROW_AFTER`` small products have run in a row (see ``matmul``);
- an elementwise kernel or ufunc over fewer than ``PARALLEL_MIN`` elements runs on the calling
  thread; a larger one is split over ``THREADS`` threads of tapegrad's pool;
- a wide BLAS call and a split kernel never run at the same moment: both hold ``_big``, and a
  split kernel first sets BLAS to one thread.

BLAS's width is changed through threadpoolctl's controller for each BLAS library numpy loaded,
found once and cached (its ``threadpool_limits`` context manager enumerates the loaded libraries
on every entry: about 0.5 ms, more than a small matmul), and only when the wanted width differs
from the one last set, so a run of small products costs one comparison each. Without
threadpoolctl, BLAS keeps its own width (``blas_libraries()`` is then empty).

The thresholds were measured on a 2-core machine by ``python benchmarks/threads.py
--calibrate``; ``TAPEGRAD_BLAS_MIN`` and ``TAPEGRAD_PARALLEL_MIN`` override them.
"""
from __future__ import annotations

import os
import threading

import numpy as np

from .envvars import env_int


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


# The width: threads for a large operation (set_num_threads changes it).
THREADS = env_int("TAPEGRAD_THREADS", _cpus(), minimum=1)
# Arrays this large are split across threads; smaller ones do not pay for the hand-off.
PARALLEL_MIN = env_int("TAPEGRAD_PARALLEL_MIN", 1 << 17, minimum=1)
# Matrix products with m*n*k below this run BLAS on one thread.
BLAS_MIN = env_int("TAPEGRAD_BLAS_MIN", 1 << 24, minimum=0)

_pool: list = []
_big = threading.Lock()     # held by a wide BLAS call or a split kernel: never both at once
_blas_now = 0               # the width BLAS was last set to by us (0: not yet)
_blas_libs: list | None = None


def pool():
    if not _pool:
        from concurrent.futures import ThreadPoolExecutor
        _pool.append(ThreadPoolExecutor(THREADS, thread_name_prefix="tapegrad"))
    return _pool[0]


def set_width(n: int) -> None:
    """Use ``n`` threads for large operations from now on (the pool grows if it must)."""
    global THREADS
    with _big:
        THREADS = n
        if _pool and _pool[0]._max_workers < n:
            old = _pool.pop()
            old.shutdown(wait=False)
        if _blas_now > 1:   # a wide BLAS follows the new width at its next wide call
            _set_blas(n)


def blas_libraries() -> list:
    """threadpoolctl's controllers of the BLAS libraries loaded in this process ([] without
    threadpoolctl). Found once: numpy loads its BLAS at import."""
    global _blas_libs
    if _blas_libs is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _blas_libs = []
        else:
            _blas_libs = [lib for lib in ThreadpoolController().lib_controllers
                          if lib.user_api == "blas"]
    return _blas_libs


def _set_blas(n: int) -> None:
    global _blas_now
    for lib in blas_libraries():
        lib.set_num_threads(n)
    _blas_now = n


def blas_threads() -> int | None:
    """The width BLAS runs at now, as its library reports it (None without threadpoolctl)."""
    libs = blas_libraries()
    return libs[0].get_num_threads() if libs else None


def blas_width(mnk: int) -> int:
    """The policy: BLAS threads for a product of size m*n*k."""
    return 1 if mnk < BLAS_MIN or THREADS == 1 else THREADS


def _mnk(a: np.ndarray, b: np.ndarray) -> int:
    """m*n*k of one product in ``a @ b`` (batch dimensions excluded: BLAS is called per matrix)."""
    k = a.shape[-1]
    m = a.shape[-2] if a.ndim > 1 else 1
    n = b.shape[-1] if b.ndim > 1 else 1
    return m * n * k


# Small products in a row after which a wide BLAS goes back to one thread.
NARROW_AFTER = env_int("TAPEGRAD_BLAS_NARROW_AFTER", 8, minimum=1)
_small_run = 0

# A test hook: called with (mnk, BLAS's reported width) inside every matmul when set.
_probe = None


def matmul(a: np.ndarray, b: np.ndarray):
    """``np.matmul(a, b)`` with BLAS on one thread for a small product, on ``THREADS`` for a
    large one. After a large product BLAS stays wide for up to ``NARROW_AFTER`` - 1 small ones:
    narrowing and widening again costs a wake-up of BLAS's threads (about 3 ms each on a
    loaded 2-core machine), so a training step that alternates large and small products keeps
    its width, and a run of small products goes to one thread."""
    global _small_run
    mnk = a.size * b.shape[1] if a.ndim == 2 and b.ndim == 2 else _mnk(a, b)
    if mnk < BLAS_MIN or THREADS == 1:
        if _blas_now != 1:
            _small_run += 1
            if _small_run >= NARROW_AFTER or THREADS == 1:
                _set_blas(1)
        if _probe is not None:
            _probe(mnk, blas_threads())
        return np.matmul(a, b)
    with _big:
        _small_run = 0
        if _blas_now != THREADS:
            _set_blas(THREADS)
        if _probe is not None:
            _probe(mnk, blas_threads())
        return np.matmul(a, b)


def chunks(n: int):
    """(lo, hi) ranges, one per thread."""
    step = -(-n // THREADS)
    return [(lo, min(n, lo + step)) for lo in range(0, n, step)]


def run_split(fn, n: int, sliced) -> list:
    """``fn(count, *sliced(lo, hi))`` for each thread's range of n elements, the calling thread
    taking the first; under ``_big``, so no wide BLAS call runs meanwhile. Returns their
    results."""
    with _big:
        if _blas_now > 1:   # BLAS's idle threads sleep rather than spin beside the pool's
            _set_blas(1)
        parts = chunks(n)
        futures = [pool().submit(fn, hi - lo, *sliced(lo, hi)) for lo, hi in parts[1:]]
        lo, hi = parts[0]
        first = fn(hi - lo, *sliced(lo, hi))
        return [first] + [f.result() for f in futures]


def split_ufunc(ufunc, a: np.ndarray) -> np.ndarray:
    """``ufunc(a)`` computed by all threads, each on a slice (a must be C-contiguous)."""
    if THREADS == 1:
        return ufunc(a)
    out = np.empty_like(a)
    src, dst = a.reshape(-1), out.reshape(-1)
    run_split(lambda count, s, d: ufunc(s, out=d), src.size,
              lambda lo, hi: (src[lo:hi], dst[lo:hi]))
    return out
