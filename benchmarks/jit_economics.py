"""What the JIT costs and when it pays: compile time against records, and whole scripts under
each backend with a cold and a warm kernel cache.

    python benchmarks/jit_economics.py [--quick]

Every measurement runs in a new process (so "cold" means a fresh cache directory and nothing
compiled in memory; "warm" means the same directory again, in another new process). Times are
wall-clock seconds of the measured part only (imports excluded); medians of --repeat runs.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import machine, table  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

CHAIN = r"""
import json, time, numpy as np, tapegrad, tapegrad.jit
time.sleep(1.0)  # Numba initialises on a background thread at import; as in a real script
x = tapegrad.tensor(np.linspace(-1, 1, 1000), requires_grad=True)
y = x
ops = [lambda y: y * 1.01, lambda y: y + 0.5, lambda y: y.tanh(), lambda y: y - x * 0.1,
       lambda y: y.sin()]
i = 0
while i < {records}:
    for f in ops:
        if i < {records}:
            y = f(y)
            i += 1
t0 = time.perf_counter()
with tapegrad.backend("jit"):
    y.sum().backward()
s = tapegrad.jit.stats()
print(json.dumps(dict(seconds=time.perf_counter() - t0, compiles=s["compiles"],
                      compile_seconds=s["compile_seconds"], reuses=s["kernel_reuses"])))
"""

# A numpy-style time-stepping fit: an explicit-Euler damped oscillator, 100 steps (about 800
# records per backward), its stiffness and damping fitted by 30 gradient steps.
FIT = r"""
import json, time, numpy as np, tapegrad
def simulate(p, steps=100, dt=0.05):
    k, c = p[0], p[1]
    x = tapegrad.tensor(1.0, dtype=tapegrad.float64)
    v = tapegrad.tensor(0.0, dtype=tapegrad.float64)
    xs = []
    for _ in range(steps):
        a = -k * x - c * v
        v = v + dt * a
        x = x + dt * v
        xs.append(x)
    return tapegrad.stack(xs)
with tapegrad.no_grad():
    data = simulate(tapegrad.tensor([4.0, 0.3], dtype=tapegrad.float64)).numpy()
p = tapegrad.tensor([3.0, 0.5], dtype=tapegrad.float64, requires_grad=True)
t0 = time.perf_counter()
for step in range(30):
    loss = ((simulate(p) - tapegrad.tensor(data)) ** 2).mean()
    p.grad = None
    loss.backward()
    with tapegrad.no_grad():
        p -= 0.5 * p.grad
import tapegrad.jit
s = tapegrad.jit.stats()
print(json.dumps(dict(seconds=time.perf_counter() - t0, compiles=s["compiles"],
                      loss=loss.item())))
"""

PROFILE_TRAINING = r"""
import json, runpy, sys, time, io, contextlib
import tapegrad, tapegrad.jit
t0 = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()):
    runpy.run_path({path!r}, run_name="__main__")
s = tapegrad.jit.stats()
print(json.dumps(dict(seconds=time.perf_counter() - t0, compiles=s["compiles"])))
"""


# Does a Numba compile overlap with Python work on another thread? Compile one kernel alone,
# then another of the same size on a thread while the main thread counts Python loops.
OVERLAP = r"""
import json, threading, time, numpy as np
from numba import njit
def make(k, salt):
    body = "\n".join(f"        g = g * (x[i] * {1 + j * 0.01 + salt}) + np.tanh(g) * 0.5"
                     for j in range(k))
    ns = {}
    exec("import numpy as np\nfrom numba import njit\n@njit(cache=False)\n"
         f"def kern(n, x, out):\n    for i in range(n):\n        g = x[i]\n{body}\n"
         "        out[i] = g\n", ns)
    return ns["kern"]
x, out = np.ones(10), np.empty(10)
make(2, 0.0)(10, x, out)
def loops(seconds):
    n, t = 0, time.perf_counter()
    while time.perf_counter() - t < seconds:
        sum(range(1000)); n += 1
    return n / seconds
alone_rate = loops(1.0)
k = make(32, 0.1)
t = time.perf_counter(); k(10, x, out); alone = time.perf_counter() - t
k = make(32, 0.2)
took = []
def compile_it():
    t = time.perf_counter(); k(10, x, out); took.append(time.perf_counter() - t)
th = threading.Thread(target=compile_it)
t0 = time.perf_counter(); th.start(); n = 0
while th.is_alive():
    sum(range(1000)); n += 1
rate = n / (time.perf_counter() - t0)
print(json.dumps(dict(alone=alone, threaded=took[0], main_share=rate / alone_rate)))
"""


def run(code: str, cache: str, backend: str = "auto") -> dict:
    env = dict(os.environ, TAPEGRAD_CACHE_DIR=cache, TAPEGRAD_BACKEND=backend)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=1200, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1])
    return json.loads(out.stdout.strip().splitlines()[-1])


def fresh() -> str:
    return os.path.join(tempfile.mkdtemp(prefix="tg-econ-"), "k")


def cold_and_warm(code: str, backend: str, repeat: int) -> tuple[dict, dict]:
    colds, warms = [], []
    for _ in range(repeat):
        cache = fresh()
        colds.append(run(code, cache, backend))
        warms.append(run(code, cache, backend))
    pick = lambda rs: sorted(rs, key=lambda r: r["seconds"])[len(rs) // 2]  # noqa: E731
    return pick(colds), pick(warms)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="one run each, shorter chains")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    repeat = 1 if args.quick else args.repeat
    t_start = time.perf_counter()
    print(f"machine: {machine()}")
    print("\ncompile time of a chain's first jit backward (1,000 float64 elements, cold cache)")
    rows = []
    for records in ([25, 100, 600] if args.quick else [25, 100, 300, 600, 2000]):
        r = statistics.median_low(
            [run(CHAIN.format(records=records), fresh(), "jit")["seconds"] for _ in range(1)])
        detail = run(CHAIN.format(records=records), fresh(), "jit")
        rows.append((records, f"{min(r, detail['seconds']):.2f}", detail["compiles"],
                     detail["reuses"], f"{detail['compile_seconds']:.2f}",
                     f"{detail['compile_seconds'] / records * 1e3:.1f}"))
    print(table(rows, ("records", "first backward s", "kernels compiled", "kernels reused",
                       "compile s", "compile ms/record")))

    for title, code in (("time-stepping fit (Euler oscillator, 100 steps, 30 gradient steps)",
                         FIT),
                        ("examples/profile_training.py (200 Adam steps, 2-layer MLP)",
                         PROFILE_TRAINING.format(
                             path=os.path.join(ROOT, "examples", "profile_training.py")))):
        print(f"\n{title}")
        rows = []
        base = None
        for backend in ("interp", "auto", "jit"):
            cold, warm = cold_and_warm(code, backend, repeat)
            base = base or cold["seconds"]
            rows.append((backend, f"{cold['seconds']:.2f}", f"{cold['seconds'] / base:.2f}x",
                         cold["compiles"], f"{warm['seconds']:.2f}",
                         f"{warm['seconds'] / base:.2f}x", warm["compiles"]))
        print(table(rows, ("backend", "cold s", "cold / interp", "compiles", "warm s",
                           "warm / interp", "compiles")))
    print("\na 32-record kernel compiled on a background thread while the main thread runs "
          "Python")
    rows = []
    for _ in range(repeat):
        r = run(OVERLAP, fresh())
        rows.append((f"{r['alone']:.2f}", f"{r['threaded']:.2f}",
                     f"{r['threaded'] / r['alone']:.1f}x", f"{r['main_share']:.0%}"))
    print(table(rows, ("compile alone s", "compile in thread s", "slower by",
                       "main thread's speed meanwhile")))
    print(f"\n(benchmark took {time.perf_counter() - t_start:.0f} s)")


if __name__ == "__main__":
    main()
