"""tapegrad interpreted vs JIT backward, PyTorch eager, and a hand-fused Numba kernel.

    python benchmarks/run.py [--quick]

Prints one table of medians and ratios, all taken in this one process, then each workload's
compile time and a new process's first JIT backward with a warm disk cache. Targets from the JIT
issue are checked at the end; a missed target is said, not hidden.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

# Compile times are only honest from a cold cache: unless told otherwise, use a fresh one (the
# warm-start measurement below then reuses it from a new process).
if __name__ == "__main__" and "--keep-cache" not in sys.argv:
    os.environ["TAPEGRAD_CACHE_DIR"] = os.path.join(tempfile.mkdtemp(prefix="tg-bench-"), "k")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (machine, median_time, paired_medians, settle, table,  # noqa: E402
                    try_torch)

import tapegrad  # noqa: E402
import tapegrad.jit  # noqa: E402


# ---- workloads: the same code runs on tapegrad and on torch ------------------------------------
def small_program(lib, x):
    y = x
    for _ in range(25):
        y = y * 1.01 + 0.5
        y = lib.tanh(y)
        y = y - x * 0.1
    return y.sum()


def elementwise_program(lib, x, w):
    y = x
    for _ in range(8):
        y = y * w + x * 0.5 - y * y * 0.01
    return (y * y).sum()


def transcendental_program(lib, x, w, b):
    y = lib.tanh(x * w + b) * lib.sigmoid(x) + lib.exp(-x * x) * 0.5
    return (y * y + lib.sin(w) * b).sum()


def mlp_program(lib, x, labels, w1, b1, w2, b2):
    h = lib.relu(x @ w1 + b1)
    logits = h @ w2 + b2
    logp = lib.log_softmax(logits, 1)
    return -logp[lib.arange(x.shape[0]), labels].mean()


def make_inputs(lib, name, seed=0):
    rng = np.random.default_rng(seed)

    def t(a, grad=True):
        return lib.tensor(a, requires_grad=grad)

    if name == "small":
        return (t(rng.standard_normal(10)),)
    if name == "elementwise":
        n = 4 * 1024 * 1024
        return (t(rng.uniform(-1, 1, n).astype(np.float32)),
                t(rng.uniform(0.5, 1.0, n).astype(np.float32)))
    if name == "transcendental":
        n = 1024 * 1024
        return tuple(t(rng.standard_normal(n)) for _ in range(3))
    if name == "mlp":
        f32 = np.float32
        return (t(rng.standard_normal((256, 784)).astype(f32), False),
                lib.tensor(rng.integers(0, 10, 256)),
                t((rng.standard_normal((784, 256)) * 0.05).astype(f32)), t(np.zeros(256, f32)),
                t((rng.standard_normal((256, 10)) * 0.05).astype(f32)), t(np.zeros(10, f32)))
    raise ValueError(name)


PROGRAMS = {"small": small_program, "elementwise": elementwise_program,
            "transcendental": transcendental_program, "mlp": mlp_program}
REPEAT = {"small": 200, "elementwise": 15, "transcendental": 15, "mlp": 40}


def leaves(inputs):
    return [x for x in inputs if getattr(x, "requires_grad", False)]


def timings(lib, name, inputs, repeat):
    """Median fwd+bwd and median backward alone (the forward redone outside the timer)."""
    prog = PROGRAMS[name]
    params = leaves(inputs)

    def step():
        for p in params:
            p.grad = None
        prog(lib, *inputs).backward()
        if name == "mlp":  # one training step: the SGD update too
            with lib.no_grad():
                for p in params:
                    p -= 0.01 * p.grad

    holder = {}

    def setup():
        for p in params:
            p.grad = None
        holder["loss"] = prog(lib, *inputs)

    step()
    fwd_bwd = median_time(step, repeat=repeat)
    bwd = median_time(lambda: holder["loss"].backward(), repeat=repeat, setup=setup)
    holder.clear()
    return fwd_bwd, bwd


def auto_against_interp(name, inputs, repeat):
    """The default backend against the interpreter, sampled in alternation (so both see the
    same background noise) from a cold start: nothing compiled in memory or on disk, so its
    cost model decides, and pays for any compile, inside these samples. Returns
    ((interp, auto) fwd+bwd medians, (interp, auto) backward medians)."""
    prog = PROGRAMS[name]
    params = leaves(inputs)
    holder = {}

    def step(backend):
        def run():
            for p in params:
                p.grad = None
            with tapegrad.backend(backend):
                prog(tapegrad, *inputs).backward()
            if name == "mlp":
                with tapegrad.no_grad():
                    for p in params:
                        p -= 0.01 * p.grad
        return run

    def setup():
        for p in params:
            p.grad = None
        holder["loss"] = prog(tapegrad, *inputs)

    def backward(backend):
        def run():
            with tapegrad.backend(backend):
                holder["loss"].backward()
        return run

    fb = paired_medians({"interp": step("interp"), "auto": step("auto")}, rounds=repeat, number=1)
    b = paired_medians({"interp": backward("interp"), "auto": backward("auto")}, rounds=repeat,
                       number=1, setups={"interp": setup, "auto": setup})
    holder.clear()
    return (fb["interp"], fb["auto"]), (b["interp"], b["auto"])


def first_jit_cost(name, inputs):
    """Compile seconds of the first JIT backward of this workload's structure."""
    before = tapegrad.jit.stats()
    with tapegrad.backend("jit"):
        for p in leaves(inputs):
            p.grad = None
        PROGRAMS[name](tapegrad, *inputs).backward()
    after = tapegrad.jit.stats()
    return (after["compile_seconds"] - before["compile_seconds"],
            after["compiles"] - before["compiles"])


# ---- the practical limit: forward and backward of the elementwise chain in one pass --------
HAND_FUSED = '''
import numpy as np
from numba import njit, prange


@njit(parallel=True, fastmath=False, cache=False)
def fused(x, w, gx, gw):
    n = x.shape[0]
    total = 0.0
    h = np.float32(0.5)
    c = np.float32(0.01)
    two = np.float32(2.0)
    for i in prange(n):
        xi = x[i]
        wi = w[i]
{forward}
        g = two * y8
        gxi = np.float32(0.0)
        gwi = np.float32(0.0)
{backward}
        gx[i] = gxi + g
        gw[i] = gwi
        total += y8 * y8
    return total
'''


def hand_fused_kernel():
    fwd = ["        y0 = xi"] + [f"        y{k} = y{k - 1} * wi + xi * h - y{k - 1} * y{k - 1} * c"
                                   for k in range(1, 9)]
    bwd = []
    for k in range(8, 0, -1):
        bwd += [f"        gwi += g * y{k - 1}", "        gxi += g * h",
                f"        g = g * (wi - two * c * y{k - 1})"]
    ns: dict = {}
    exec(HAND_FUSED.replace("{forward}", "\n".join(fwd)).replace("{backward}", "\n".join(bwd)), ns)
    return ns["fused"]


# ---- a new process with a warm disk cache ---------------------------------------------------
WARM = r"""
import json, sys, time
sys.path.insert(0, {here!r})
import tapegrad, tapegrad.jit
tapegrad.set_backend("jit")  # as a JIT user's script starts (Numba initialises meanwhile)
from run import make_inputs, PROGRAMS, leaves
inputs = make_inputs(tapegrad, "elementwise")
def once(backend):
    for p in leaves(inputs):
        p.grad = None
    loss = PROGRAMS["elementwise"](tapegrad, *inputs)
    t0 = time.perf_counter()
    with tapegrad.backend(backend):
        loss.backward()
    return time.perf_counter() - t0
interp = min(once("interp") for _ in range(3))
jit_first = once("jit")
s = tapegrad.jit.stats()
print(json.dumps({{"interp": interp, "jit_first": jit_first, "compiles": s["compiles"],
                  "disk_loads": s["disk_loads"]}}))
"""


def warm_start() -> dict:
    here = os.path.dirname(os.path.abspath(__file__))
    out = subprocess.run([sys.executable, "-c", WARM.format(here=here)], capture_output=True,
                         text=True, timeout=600)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "-"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--keep-cache", action="store_true",
                        help="use TAPEGRAD_CACHE_DIR as set (compile times then read 0 when warm)")
    args = parser.parse_args()
    settle()
    torch = try_torch()
    rows, checks, compile_rows = [], [], []
    results = {}
    for name in PROGRAMS:
        repeat = max(5, REPEAT[name] // (4 if args.quick else 1))
        inputs = make_inputs(tapegrad, name)
        with tapegrad.backend("interp"):
            i_fb, i_b = timings(tapegrad, name, inputs, repeat)
        compile_s, n_kernels = first_jit_cost(name, inputs)
        with tapegrad.backend("jit"):
            j_fb, j_b = timings(tapegrad, name, inputs, repeat)
        # The default backend from a cold start: nothing compiled in memory or on disk, so its
        # cost model decides (and pays for any compile) inside these timings.
        shared_cache = os.environ.get("TAPEGRAD_CACHE_DIR")
        os.environ["TAPEGRAD_CACHE_DIR"] = os.path.join(tempfile.mkdtemp(prefix="tg-auto-"), "k")
        tapegrad.jit.clear_cache()
        (pi_fb, a_fb), (pi_b, a_b) = auto_against_interp(name, inputs, repeat)
        if shared_cache is None:  # the warm-start measurement below reads the jit's cache
            del os.environ["TAPEGRAD_CACHE_DIR"]
        else:
            os.environ["TAPEGRAD_CACHE_DIR"] = shared_cache
        t_fb = t_b = None
        if torch is not None:
            t_fb, t_b = timings(torch, name, make_inputs(torch, name), repeat)
        results[name] = dict(interp=(i_fb, i_b), jit=(j_fb, j_b), torch=(t_fb, t_b),
                             auto=(a_fb, a_b), paired_interp=(pi_fb, pi_b))
        ms = lambda s: f"{s * 1e3:.3f}" if s else "-"  # noqa: E731
        what = "step" if name == "mlp" else "fwd+bwd"
        rows.append((name, what, ms(i_fb), ms(j_fb), ms(a_fb), ms(t_fb), ratio(t_fb, j_fb),
                     ratio(i_fb, j_fb), ratio(pi_fb, a_fb)))
        rows.append((name, "bwd", ms(i_b), ms(j_b), ms(a_b), ms(t_b), ratio(t_b, j_b),
                     ratio(i_b, j_b), ratio(pi_b, a_b)))
        compile_rows.append((name, n_kernels, f"{compile_s:.2f}"))
    fused_ms = None
    x, w = (a.detach().numpy() for a in make_inputs(tapegrad, "elementwise"))
    kernel = hand_fused_kernel()
    gx, gw = np.empty_like(x), np.empty_like(w)
    kernel(x, w, gx, gw)
    fused_ms = median_time(lambda: kernel(x, w, gx, gw), repeat=15)
    rows.append(("elementwise", "hand-fused fwd+bwd", "-", f"{fused_ms * 1e3:.3f}", "-", "-", "-",
                 "-", "-"))
    print(f"machine: {machine()}; numba {__import__('numba').__version__}, "
          f"numpy {np.__version__}" + (f", torch {torch.__version__}" if torch else ""))
    print("median milliseconds; 'torch/jit' > 1 means tapegrad's JIT is faster; 'interp/auto' "
          "compares the default backend (from a cold start) with the interpreter sampled in "
          "alternation")
    print(table(rows, ("workload", "measure", "interp ms", "jit ms", "auto ms", "torch ms",
                       "torch/jit", "interp/jit", "interp/auto")))
    print()
    print(table(compile_rows, ("workload", "kernels compiled", "compile s")))
    warm = warm_start()
    print()
    if "error" in warm:
        print(f"warm-disk-cache start: failed: {warm['error']}")
    else:
        extra = warm["jit_first"] - warm["interp"]
        print(f"warm-disk-cache start (new process, elementwise): first JIT backward "
              f"{warm['jit_first'] * 1e3:.1f} ms vs interpreted {warm['interp'] * 1e3:.1f} ms "
              f"(+{extra * 1e3:.1f} ms; compiles {warm['compiles']}, disk loads "
              f"{warm['disk_loads']})")
    print()
    r = results
    jit, tch = (lambda n, k: r[n]["jit"][k]), (lambda n, k: r[n]["torch"][k])
    if torch is not None:
        checks += [
            ("small fwd+bwd >= 2x faster than torch", tch("small", 0) / jit("small", 0) >= 2),
            ("small bwd >= 10x faster than torch", tch("small", 1) / jit("small", 1) >= 10),
            ("elementwise bwd >= 4x faster than torch",
             tch("elementwise", 1) / jit("elementwise", 1) >= 4),
            ("elementwise fwd+bwd no slower than torch",
             jit("elementwise", 0) <= tch("elementwise", 0)),
            ("transcendental fwd+bwd no slower than torch",
             jit("transcendental", 0) <= tch("transcendental", 0)),
            ("mlp step within 1.25x of torch", jit("mlp", 0) <= 1.25 * tch("mlp", 0)),
        ]
    checks += [(f"{n} {m}: auto no slower than interp by more than 10%",
                r[n]["auto"][k] <= 1.1 * r[n]["paired_interp"][k])
               for n in PROGRAMS for k, m in ((0, "fwd+bwd"), (1, "bwd"))]
    checks += [
        ("elementwise bwd >= 5x faster than interp",
         r["elementwise"]["interp"][1] / jit("elementwise", 1) >= 5),
        ("elementwise jit bwd within 1.5x of hand-fused fwd+bwd",
         jit("elementwise", 1) <= 1.5 * fused_ms),
        ("elementwise compiles in under 1 s", float(compile_rows[1][2]) < 1.0),
    ]
    if "error" not in warm:
        checks.append(("warm start costs < 0.2 s more than interpreted",
                       warm["jit_first"] - warm["interp"] < 0.2))
    print("targets:")
    for what, ok in checks:
        print(f"  {'met   ' if ok else 'MISSED'}  {what}")


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"\n(benchmark took {time.perf_counter() - t0:.0f} s)")
