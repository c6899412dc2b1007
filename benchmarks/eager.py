"""Per-op cost of the eager forward (recording) and of the interpreted backward.

    python benchmarks/eager.py

The program: 25 repetitions of y = y * 1.01 + 0.5; y = tanh(y); y = y - x * 0.1 on a
10-element float64 tensor, then .sum(): 126 recorded ops. Targets (issue 2): at most 3 us per
recorded op, at most 5 us per record of interpreted backward.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from common import machine, paired_medians, settle, table, try_torch  # noqa: E402

import tapegrad  # noqa: E402
from run import small_program as program  # noqa: E402

N_OPS = 126


def main() -> None:
    settle()
    libs = {"tapegrad (interp)": tapegrad}
    torch = try_torch()
    if torch is not None:
        libs[f"PyTorch {torch.__version__} eager"] = torch
    xs = {name: lib.randn(10, dtype=lib.float64, requires_grad=True) for name, lib in libs.items()}
    losses: dict = {}

    def forward(name):
        return lambda: program(libs[name], xs[name])

    def setup(name):
        def make():
            xs[name].grad = None
            losses[name] = program(libs[name], xs[name])
        return make

    with tapegrad.backend("interp"):
        fwd = paired_medians({n: forward(n) for n in libs})
        bwd = paired_medians({n: (lambda n=n: losses[n].backward()) for n in libs},
                             setups={n: setup(n) for n in libs})
    rows = [(n, f"{fwd[n] / N_OPS * 1e6:.2f}", f"{bwd[n] / N_OPS * 1e6:.2f}") for n in libs]
    print(f"machine: {machine()}")
    print(table(rows, ("engine", "forward us/op", "backward us/record")))
    names = list(libs)
    f, b = fwd[names[0]] / N_OPS, bwd[names[0]] / N_OPS
    if torch is not None:
        print(f"tapegrad / PyTorch: forward {fwd[names[0]] / fwd[names[1]]:.2f}x, backward "
              f"{bwd[names[0]] / bwd[names[1]]:.2f}x (samples taken in alternation)")
    print(f"targets: forward <= 3 us/op ({'met' if f <= 3e-6 else 'MISSED'}), "
          f"backward <= 5 us/record ({'met' if b <= 5e-6 else 'MISSED'})")


if __name__ == "__main__":
    main()
