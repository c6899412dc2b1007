"""tapegrad.compile against eager tapegrad and PyTorch eager: fwd+bwd medians, and what the first
calls cost (the trace, then the first replay, which compiles its kernels), cold and warm cache.

    python benchmarks/compile.py [--quick]

tapegrad's eager and compiled figures of a workload are sampled in alternation in one process
(this machine is shared); PyTorch's right after, apart (its threads spin after each op).
A new process then repeats the first calls with the disk cache the first process left: with a
warm cache nothing should compile. jax.jit and torch.compile are not run here (torch.compile
takes minutes on these graphs): issue 12 holds their figures from this machine.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

if __name__ == "__main__" and "--child" not in sys.argv:
    os.environ["TAPEGRAD_CACHE_DIR"] = os.path.join(tempfile.mkdtemp(prefix="tg-compile-"), "k")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import machine, paired_medians, settle, table, try_torch  # noqa: E402
from run import PROGRAMS, leaves, make_inputs  # noqa: E402

import tapegrad  # noqa: E402
from tapegrad.jit.stats import STATS  # noqa: E402

TARGETS = {"small": 10.0, "elementwise": 8.0, "transcendental": 1.5, "mlp": 1.1}


def step_fn(lib, name, inputs, fn):
    params = leaves(inputs)

    def step():
        for p in params:
            p.grad = None
        fn(lib, *inputs).backward()
    return step


def first_calls(name: str) -> dict:
    """The first call (trace), the second (first replay: its kernels compile or load), and
    the Numba compiles they caused."""
    inputs = make_inputs(tapegrad, name)
    compiled = tapegrad.compile(PROGRAMS[name])
    step = step_fn(tapegrad, name, inputs, compiled)
    before = STATS["compiles"]
    t0 = time.perf_counter()
    step()
    t1 = time.perf_counter()
    step()
    t2 = time.perf_counter()
    return {"trace": t1 - t0, "first_replay": t2 - t1, "compiles": STATS["compiles"] - before}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--child", help="first calls of one workload, as JSON (warm-cache run)")
    args = ap.parse_args()
    if args.child:
        settle()
        print(json.dumps(first_calls(args.child)))
        return
    torch = try_torch()
    settle()
    print(f"machine: {machine()}; numpy {__import__('numpy').__version__}"
          + (f"; torch {torch.__version__}" if torch else ""))
    rows = []
    rounds = 8 if args.quick else 30
    for name in PROGRAMS:
        cold = first_calls(name)
        inputs = make_inputs(tapegrad, name)
        compiled = tapegrad.compile(PROGRAMS[name])
        fns = {"eager": step_fn(tapegrad, name, inputs, PROGRAMS[name]),
               "compiled": step_fn(tapegrad, name, inputs, compiled)}
        fns["compiled"]()
        fns["compiled"]()
        number = 20 if name == "small" else 1
        med = paired_medians(fns, rounds=rounds, number=number)
        if torch is not None:
            # Apart: PyTorch's OpenMP threads spin for a while after each op, and a tapegrad
            # sample taken right after one runs beside them (the mlp's BLAS products slowed
            # by 1.5x that way here).
            step = step_fn(torch, name, make_inputs(torch, name), PROGRAMS[name])
            med["torch"] = paired_medians({"torch": step}, rounds=rounds, number=number)["torch"]
        warm = json.loads(subprocess.run(
            [sys.executable, __file__, "--child", name], capture_output=True, text=True,
            check=True).stdout)
        ref = med.get("torch")
        rows.append((name, f"{med['eager'] * 1e3:.3f}", f"{med['compiled'] * 1e3:.3f}",
                     "-" if ref is None else f"{ref * 1e3:.3f}",
                     "-" if ref is None else f"{ref / med['compiled']:.2f}x",
                     f"{TARGETS[name]}x",
                     f"{cold['trace'] + cold['first_replay']:.2f} s ({cold['compiles']})",
                     f"{warm['trace'] + warm['first_replay']:.2f} s ({warm['compiles']})"))
    print(table(rows, ("workload", "eager ms", "compiled ms", "torch eager ms",
                       "vs torch", "target", "first 2 calls cold (compiles)",
                       "warm (compiles)")))


if __name__ == "__main__":
    main()
