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
from common import machine, median_time, settle, table, try_torch  # noqa: E402

import tapegrad  # noqa: E402

N_OPS = 126


def program(lib, x):
    y = x
    for _ in range(25):
        y = y * 1.01 + 0.5
        y = lib.tanh(y)
        y = y - x * 0.1
    return y.sum()


def measure(lib, x):
    fwd = median_time(lambda: program(lib, x), repeat=300)
    holder = {}

    def setup():
        x.grad = None
        holder["loss"] = program(lib, x)

    bwd = median_time(lambda: holder["loss"].backward(), repeat=300, setup=setup)
    return fwd / N_OPS, bwd / N_OPS


def main() -> None:
    settle()
    rows = []
    with tapegrad.backend("interp"):
        x = tapegrad.randn(10, dtype=tapegrad.float64, requires_grad=True)
        f, b = measure(tapegrad, x)
    rows.append(("tapegrad (interp)", f"{f * 1e6:.2f}", f"{b * 1e6:.2f}"))
    torch = try_torch()
    if torch is not None:
        xt = torch.randn(10, dtype=torch.float64, requires_grad=True)
        ft, bt = measure(torch, xt)
        rows.append((f"PyTorch {torch.__version__} eager", f"{ft * 1e6:.2f}", f"{bt * 1e6:.2f}"))
    print(f"machine: {machine()}")
    print(table(rows, ("engine", "forward us/op", "backward us/record")))
    if torch is not None:
        print(f"tapegrad / PyTorch: forward {f / ft:.2f}x, backward {b / bt:.2f}x (the ratio is "
              "steadier than the absolute figures on a shared machine)")
    print(f"targets: forward <= 3 us/op ({'met' if f <= 3e-6 else 'MISSED'}), "
          f"backward <= 5 us/record ({'met' if b <= 5e-6 else 'MISSED'})")


if __name__ == "__main__":
    main()
