"""Shared timing helpers: medians of many short repeats, because this machine is noisy."""
from __future__ import annotations

import platform
import statistics
import time
from typing import Callable


def settle() -> None:
    """Wait for tapegrad's background Numba initialisation, which competes for the GIL."""
    import threading
    for t in threading.enumerate():
        if t.name == "tapegrad-preload":
            t.join()


def median_time(fn: Callable[[], object], repeat: int = 50, number: int = 1,
                setup: Callable[[], object] | None = None) -> float:
    """Median seconds per call of ``fn`` over ``repeat`` samples of ``number`` calls each."""
    samples = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - t0) / number)
    return statistics.median(samples)


def paired_medians(fns: dict, rounds: int = 60, number: int = 5, setups: dict | None = None):
    """Median seconds per call of each function, sampled in alternation so that all of them
    see the same background noise (this machine is a shared VM)."""
    samples: dict = {k: [] for k in fns}
    for _ in range(rounds):
        for k, fn in fns.items():
            total = 0.0
            for _ in range(number):
                if setups and k in setups:
                    setups[k]()
                t0 = time.perf_counter()
                fn()
                total += time.perf_counter() - t0
            samples[k].append(total / number)
    return {k: statistics.median(v) for k, v in samples.items()}


def machine() -> str:
    import os
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def try_torch():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(2)
    return torch


def fmt_us(seconds: float) -> str:
    return f"{seconds * 1e6:10.2f} us"


def table(rows: list[tuple], header: tuple) -> str:
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    line = "  ".join(str(h).ljust(w) for h, w in zip(header, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    for r in rows:
        out.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    return "\n".join(out)
