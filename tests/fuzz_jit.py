"""The long differential run of the JIT against the interpreter (the suite runs a short one).

    python tests/fuzz_jit.py --programs 1000 --sizes 4 --seed 0

Random programs, each at several size assignments in one process, under ``jit`` and under
``auto`` past its threshold, with every O(1) trace-cache hit checked against the full key.
Prints the instances run and every failure; exits 1 if there was one.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TAPEGRAD_JIT_VERIFY", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import programs  # noqa: E402

import tapegrad.jit  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=1000)
    parser.add_argument("--sizes", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    t0 = time.perf_counter()
    instances, failures = programs.fuzz(args.programs, args.sizes, args.seed, verbose=True)
    s = tapegrad.jit.stats()
    print(f"{instances} instances ({args.programs} programs x {args.sizes} sizes), "
          f"{len(failures)} failures, {time.perf_counter() - t0:.0f} s; "
          f"{s['compiles']} compiles, {s['kernel_reuses']} kernel reuses, "
          f"{s['cache_hits']} trace-cache hits")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
