"""The long differential run of tapegrad.compile against eager execution (the suite runs a
short one, tests/test_compile.py).

    python tests/fuzz_compile.py --programs 100 --seed 0 [--loops]

Random programs (tests/programs.py), float64 and float32, each compiled once and called at
several size assignments in one process, twice per size (the trace, then a replay): the
result and every input's gradient must equal eager execution's. With ``--loops``, random
loops instead (rolled into one kernel on small arrays, cut into pieces on large ones). Prints
the instances run and the first failures; exits 1 if there was one.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from programs import (assignments, float32_answers, make_inputs,  # noqa: E402
                      make_loop_inputs, make_loop_program, make_program, results,
                      run_loop_program, run_program)

import tapegrad  # noqa: E402


def _same(got: list, want: list, tol: float) -> None:
    for g, w in zip(got, want):
        assert (g is None) == (w is None), "gradient presence differs"
        if g is not None:
            assert g.shape == w.shape and g.dtype == w.dtype
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol, equal_nan=True)


def check(program, dtype, rng) -> tuple[int, list]:
    compiled = tapegrad.compile(lambda *xs: run_program(program, list(xs)))
    tol = 1e-4 if dtype == "float32" else 1e-9
    runs, failures = 0, []
    for sizes in assignments(rng, 4, allow_empty=True):
        xs = make_inputs(program, sizes, rng, dtype)
        try:
            want = results(lambda *v: run_program(program, list(v)), xs)
            for _ in range(2):
                runs += 1
                _same(results(compiled, xs), want, tol)
        except Exception:  # noqa: BLE001 (reported with the program that caused it)
            failures.append(f"{dtype} {sizes} {program}\n{traceback.format_exc(limit=4)}")
    return runs, failures


def check_loop(program, dtype, rng) -> tuple[int, list]:
    compiled = tapegrad.compile(lambda *xs: run_loop_program(program, list(xs)))
    tol = 1e-4 if dtype == "float32" else 1e-9
    runs, failures = 0, []
    for n in (int(rng.integers(1, 12)), 0, 1, 5000):
        xs = make_loop_inputs(program, n, rng, dtype)
        try:
            with np.errstate(all="ignore"):
                want = results(lambda *v: run_loop_program(program, list(v)), xs)
                if dtype == "float32" and not float32_answers(program, xs, want):
                    continue
                for _ in range(2):
                    runs += 1
                    _same(results(compiled, xs), want, tol)
        except Exception:  # noqa: BLE001 (reported with the program that caused it)
            failures.append(f"{dtype} n={n} {program}\n{traceback.format_exc(limit=4)}")
    return runs, failures


def main() -> int:
    warnings.simplefilter("ignore", RuntimeWarning)   # (eager numpy: a mean of nothing)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--loops", action="store_true", help="random loops instead")
    args = parser.parse_args()
    t0 = time.perf_counter()
    total, failures = 0, []
    for k in range(args.programs):
        rng = np.random.default_rng(args.seed * 100003 + k)
        for dtype in ("float64", "float32"):
            if args.loops:
                runs, failed = check_loop(make_loop_program(rng), dtype, rng)
            else:
                program = make_program(rng, n_steps=int(rng.integers(4, 14)))
                runs, failed = check(program, dtype, rng)
            total += runs
            failures += failed
    for f in failures[:5]:
        print("FAILED", f)
    print(f"{total} instances, {len(failures)} failures, {time.perf_counter() - t0:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
