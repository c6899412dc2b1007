"""Threads under load: the two-spirals example and the mlp training step, on a quiet machine and
with one or two busy processes beside them, tapegrad against PyTorch (if installed).

    python benchmarks/threads.py               # the figures (about 3 minutes on 2 cores)
    python benchmarks/threads.py --calibrate   # the measurements that chose the thresholds
    python benchmarks/threads.py --mlp-ab      # mlp step: the policy against plain np.matmul

Each figure runs in a fresh process. Variants: ``tapegrad`` (the default policy),
``tapegrad, BLAS_MIN=0`` (every product on all threads: what tapegrad did before the policy),
``OPENBLAS_NUM_THREADS=1`` (the single-thread reference of issue 15), ``torch`` (its defaults).
A busy process is ``python -c 'while ...: pass'``, bounded to 10 minutes, killed at the end.
Noisy: the machine is shared, so read differences under ~15% as noise.
"""
from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
EXAMPLE = ROOT / "examples" / "mlp_two_spirals.py"
BUSY = "import time\nend = time.time() + 600\nwhile time.time() < end: pass"


def spirals_source(lib: str) -> str:
    src = EXAMPLE.read_text()
    if lib == "torch":
        src = (src.replace("import tapegrad as torch", "import torch")
                  .replace("import tapegrad.jit\n", "")
                  .replace("import tapegrad.nn as nn", "import torch.nn as nn")
                  .replace("tapegrad.jit.stats()", "{'jit_backwards': 0, 'compiles': 0}"))
    return src


def child_spirals(lib: str) -> None:
    exec(compile(spirals_source(lib), str(EXAMPLE), "exec"), {"__name__": "__main__"})


def mlp_step(lib):
    """One training step of the mlp program in ``lib``: clear the gradients, backward, a plain
    SGD update (lr 0.01) under no_grad."""
    from run import leaves, make_inputs, mlp_program
    inputs = make_inputs(lib, "mlp")
    params = leaves(inputs)

    def step():
        for p in params:
            p.grad = None
        mlp_program(lib, *inputs).backward()
        with lib.no_grad():
            for p in params:
                p -= 0.01 * p.grad

    return step


def child_mlp(lib_name: str) -> None:
    from common import median_time, settle
    if lib_name == "torch":
        import torch as lib
    else:
        import tapegrad as lib
        settle()
    step = mlp_step(lib)

    for _ in range(5):
        step()
    print(f"mlp {median_time(step, repeat=60) * 1e3:.3f} ms")


VARIANTS = {
    "tapegrad": ("tapegrad", {}),
    "tapegrad, BLAS_MIN=0 (before)": ("tapegrad", {"TAPEGRAD_BLAS_MIN": "0"}),
    "OPENBLAS_NUM_THREADS=1": ("tapegrad", {"OPENBLAS_NUM_THREADS": "1"}),
    "torch": ("torch", {}),
}


def run_child(what: str, lib: str, env_extra: dict) -> float:
    env = dict(os.environ, **env_extra)
    out = subprocess.run([sys.executable, __file__, "--child", what, lib], env=env,
                         capture_output=True, text=True, timeout=300)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    if what == "spirals":
        return float(re.search(r"after ([0-9.]+) s", out.stdout).group(1))
    return float(re.search(r"mlp ([0-9.]+) ms", out.stdout).group(1))


def have_torch() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def figures(busy_counts=(0, 1, 2)) -> None:
    from common import machine
    variants = {k: v for k, v in VARIANTS.items() if v[0] != "torch" or have_torch()}
    print(f"machine: {machine()}")
    rows = []
    for busy in busy_counts:
        procs = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(busy)]
        try:
            time.sleep(0.5 if busy else 0)
            for name, (lib, env) in variants.items():
                s = run_child("spirals", lib, env)
                m = run_child("mlp", lib, env)
                rows.append((busy, name, s, m))
                print(f"busy={busy}  {name:32s} spirals {s:6.1f} s   mlp step {m:7.2f} ms",
                      flush=True)
        finally:
            for p in procs:
                p.kill()
                p.wait()
    print("\nspirals against its OPENBLAS_NUM_THREADS=1 time (target <= 1.3x); mlp step against "
          "BLAS_MIN=0 (before)")
    for busy in busy_counts:
        got = {name: (s, m) for b, name, s, m in rows if b == busy}
        ref_s = got["OPENBLAS_NUM_THREADS=1"][0]
        ref_m = got["tapegrad, BLAS_MIN=0 (before)"][1]
        print(f"busy={busy}: spirals {got['tapegrad'][0] / ref_s:.2f}x   "
              f"mlp {got['tapegrad'][1] / ref_m:.2f}x")


def mlp_ab() -> None:
    """The mlp step with the policy against plain ``np.matmul`` (every product at BLAS's own
    width: tapegrad before the policy), alternating sample by sample in one process so both
    see the same load."""
    import numpy as np
    from common import paired_medians, settle

    import tapegrad as lib
    from tapegrad import ops, threads
    settle()
    step = mlp_step(lib)
    policy = threads.matmul

    def using(matmul):
        def f():
            threads.matmul = matmul
            ops._Numpy.matmul = staticmethod(matmul)
            step()
        return f

    fns = {"policy": using(policy), "plain np.matmul": using(np.matmul)}
    for f in fns.values():
        for _ in range(5):
            f()
    for _ in range(3):
        t = paired_medians(fns, rounds=20, number=3)
        print("mlp step ms: " + "  ".join(f"{k} {v * 1e3:.2f}" for k, v in t.items()))
    using(policy)


def calibrate() -> None:
    """Width 1 against all threads for matrix products and split ufuncs, sampled in
    alternation: the products below the crossover belong on one thread."""
    import numpy as np
    from common import machine, paired_medians

    from tapegrad import threads
    width = threads.THREADS
    libs = threads.blas_libraries()
    print(f"machine: {machine()}; BLAS: "
          f"{[(lib.internal_api, lib.version, lib.architecture) for lib in libs]}")
    if not libs:
        print("threadpoolctl is not installed: BLAS width cannot be set")
        return
    rng = np.random.default_rng(0)
    shapes = [(64, 64, 64), (128, 128, 128), (600, 64, 64), (192, 192, 192), (256, 256, 256),
              (256, 256, 784), (384, 384, 384), (256, 784, 256), (512, 512, 512)]
    print(f"\nmatmul (m, k, n) float32: median us at 1 and {width} BLAS threads")
    for m, k, n in shapes:
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)

        def at(w):
            def f():
                threads._set_blas(w)
                np.matmul(a, b)
            return f
        t = paired_medians({1: at(1), width: at(width)}, rounds=30, number=5)
        print(f"  {str((m, k, n)):18s} mnk {m * n * k:>10,d}  1: {t[1] * 1e6:8.1f}  "
              f"{width}: {t[width] * 1e6:8.1f}  ratio {t[width] / t[1]:.2f}")
    print(f"\ntanh float32: median us on the calling thread and split over {width}")
    for n in (1 << 14, 1 << 15, 1 << 16, 1 << 17, 1 << 18, 1 << 20):
        x = rng.standard_normal(n).astype(np.float32)
        t = paired_medians({"one": lambda: np.tanh(x),
                            "split": lambda: threads.split_ufunc(np.tanh, x)},
                           rounds=30, number=5)
        print(f"  n {n:>9,d}  one: {t['one'] * 1e6:8.1f}  split: {t['split'] * 1e6:8.1f}  "
              f"ratio {t['split'] / t['one']:.2f}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        (child_spirals if sys.argv[2] == "spirals" else child_mlp)(sys.argv[3])
    elif sys.argv[1:2] == ["--calibrate"]:
        calibrate()
    elif sys.argv[1:2] == ["--mlp-ab"]:
        mlp_ab()
    else:
        figures()
