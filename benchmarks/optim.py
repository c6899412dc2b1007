"""One Adam step over 1M float32 parameters: tapegrad against PyTorch (target: within 1.5x).

    python benchmarks/optim.py
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import machine, paired_medians, settle, table, try_torch  # noqa: E402

import tapegrad  # noqa: E402


def setup(lib, w0, g0):
    w = lib.tensor(w0.copy(), requires_grad=True)
    w.grad = lib.tensor(g0.copy())
    opt = lib.optim.Adam([w], lr=1e-3, weight_decay=0.01)
    opt.step()
    return w, opt


def main() -> None:
    settle()
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal(1 << 20).astype(np.float32)
    g0 = rng.standard_normal(1 << 20).astype(np.float32)
    libs = {"tapegrad": tapegrad}
    torch = try_torch()
    if torch is not None:
        libs[f"PyTorch {torch.__version__}"] = torch
    states = {name: setup(lib, w0, g0) for name, lib in libs.items()}
    times = paired_medians({name: states[name][1].step for name in libs}, rounds=40, number=3)
    print(f"machine: {machine()}")
    print(table([(n, f"{t * 1e3:.2f}") for n, t in times.items()],
                ("Adam step, 1M float32", "median ms")))
    if torch is not None:
        names = list(libs)
        ratio = times[names[0]] / times[names[1]]
        w_ours, w_torch = states[names[0]][0], states[names[1]][0]
        agree = np.allclose(w_ours.detach().numpy(), w_torch.detach().numpy(), rtol=1e-5,
                            atol=1e-6)
        print(f"tapegrad / PyTorch: {ratio:.2f}x (target <= 1.5x: "
              f"{'met' if ratio <= 1.5 else 'MISSED'}); same parameters after "
              f"{40 * 3 + 1} steps: {agree}")


if __name__ == "__main__":
    main()
