"""Random programs over symbolic sizes, for differential testing of the JIT and compiled paths.

A program is built once over size *symbols* ("n", "m" or 1) and then run at several size
assignments in one process, so a trace cache sees one structure at many shapes: exactly the
situation in which a plan made for one graph could be reused for another that it does not fit.
Every engine's gradients are compared with the interpreter's (the reference).

Used by tests/test_jit_differential.py (a few hundred instances) and by tests/fuzz_jit.py
(thousands, outside the suite).
"""
from __future__ import annotations

import contextlib
import itertools
import traceback

import numpy as np

import tapegrad
from tapegrad.jit import cost

UNARY = ("tanh", "sin", "cos", "sigmoid", "neg", "square", "abs", "exp_tanh", "relu")
BINARY = ("add", "sub", "mul", "maximum", "minimum")
SIZES = (0, 1, 2, 3, 5)


def _broadcast(sa: tuple, sb: tuple) -> tuple | None:
    """The symbolic broadcast of two shapes, or None when it does not hold at every size."""
    n = max(len(sa), len(sb))
    pa, pb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    out = []
    for x, y in zip(pa, pb):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            return None
    return tuple(out)


def make_program(rng: np.random.Generator, n_inputs: int = 3, n_steps: int = 8) -> dict:
    """A random straight-line program: input shapes over symbols, and steps over a value pool."""
    symbols = ("n", "m", 1)
    inputs = []
    for _ in range(n_inputs):
        ndim = int(rng.integers(0, 3))
        inputs.append(tuple(symbols[int(rng.integers(0, 3))] for _ in range(ndim)))
    shapes = list(inputs)
    steps = []
    for _ in range(n_steps):
        kind = rng.choice(["u", "u", "b", "b", "c", "r", "m", "w", "t"])
        i = int(rng.integers(0, len(shapes)))
        s = shapes[i]
        if kind == "u":
            steps.append(("u", UNARY[int(rng.integers(0, len(UNARY)))], i))
        elif kind == "b":
            j = int(rng.integers(0, len(shapes)))
            out = _broadcast(s, shapes[j])
            if out is None:
                continue
            steps.append(("b", BINARY[int(rng.integers(0, len(BINARY)))], i, j))
            shapes.append(out)
            continue
        elif kind == "c":
            steps.append(("c", float(rng.choice([0.5, 1.0, 1.5, -2.0])), i))
        elif kind == "r":
            if not s:
                continue
            steps.append(("r", i))  # sum over the last dim, keepdim
            shapes.append(s[:-1] + (1,))
            continue
        elif kind == "m":
            j = int(rng.integers(0, len(shapes)))
            t = shapes[j]
            if len(s) != 2 or len(t) != 2 or s[1] != t[0]:
                continue
            steps.append(("m", i, j))
            shapes.append((s[0], t[1]))
            continue
        elif kind == "w":
            j = int(rng.integers(0, len(shapes)))
            out = _broadcast(s, shapes[j])
            if out is None:
                continue
            steps.append(("w", i, j))
            shapes.append(out)
            continue
        else:  # transpose
            if len(s) != 2:
                continue
            steps.append(("t", i))
            shapes.append((s[1], s[0]))
            continue
        shapes.append(s)
    # The loss reads several values, so independent branches meet only at the end.
    k = int(rng.integers(1, min(4, len(shapes)) + 1))
    tail = [int(v) for v in rng.choice(len(shapes), size=k, replace=False)]
    return {"inputs": inputs, "steps": steps, "loss": tail}


def run_program(program: dict, xs: list):
    vals = list(xs)
    for step in program["steps"]:
        kind = step[0]
        if kind == "u":
            name, v = step[1], vals[step[2]]
            if name == "exp_tanh":
                vals.append(v.tanh().exp())
            else:
                vals.append(getattr(v, name)())
        elif kind == "b":
            vals.append(getattr(tapegrad, step[1])(vals[step[2]], vals[step[3]]))
        elif kind == "c":
            vals.append(vals[step[2]] * step[1])
        elif kind == "r":
            vals.append(vals[step[1]].sum(-1, keepdim=True))
        elif kind == "m":
            vals.append(vals[step[1]] @ vals[step[2]])
        elif kind == "w":
            a, b = vals[step[1]], vals[step[2]]
            vals.append(tapegrad.where(a > 0, a, b * 0.5))
        else:
            vals.append(vals[step[1]].t())
    loss = None
    for i, v in enumerate(program["loss"]):
        term = (vals[v] * (i + 1.0)).sum()
        loss = term if loss is None else loss + term
    return loss


def assignments(rng: np.random.Generator, k: int, allow_empty: bool) -> list[dict]:
    """``k`` size assignments for n and m, always including an equal and an unequal pair."""
    sizes = [s for s in SIZES if allow_empty or s]
    pairs = list(itertools.product(sizes, sizes))
    rng.shuffle(pairs)
    chosen = [(3, 3), (1, 3)] + pairs[: max(0, k - 2)]
    return [{"n": n, "m": m, 1: 1} for n, m in chosen[:k]]


def make_inputs(program: dict, sizes: dict, rng: np.random.Generator, dtype: str) -> list:
    xs = []
    for shape in program["inputs"]:
        concrete = tuple(sizes[s] for s in shape)
        xs.append(tapegrad.tensor(rng.uniform(-1, 1, concrete).astype(dtype),
                                  requires_grad=True))
    return xs


@contextlib.contextmanager
def compiling_always_pays():
    """Make ``auto``'s cost model say yes, so ``auto`` past its threshold runs the JIT on
    these small programs (which would otherwise, rightly, never be compiled)."""
    saved = cost.worth_compiling
    cost.worth_compiling = lambda *args: True
    try:
        yield
    finally:
        cost.worth_compiling = saved


def gradients(program: dict, xs: list, backend: str, repeat: int = 1):
    """The inputs' gradients under ``backend``, after ``repeat`` backward passes (the last
    one's); ("error", text) if it raised."""
    try:
        with compiling_always_pays():
            for _ in range(repeat):
                for x in xs:
                    x.grad = None
                with tapegrad.backend(backend):
                    run_program(program, xs).backward()
        return [None if x.grad is None else x.grad.numpy().copy() for x in xs]
    except Exception as e:  # compared with what the interpreter does
        return ("error", f"{type(e).__name__}: {e}\n{traceback.format_exc()}")


def compare(program: dict, xs: list, backends=(("jit", 1), ("auto", 4))) -> list[str]:
    """Every engine against the interpreter on one instance; the differences, described."""
    reference = gradients(program, xs, "interp")
    problems = []
    for backend, repeat in backends:
        got = gradients(program, xs, backend, repeat)
        if isinstance(reference, tuple) or isinstance(got, tuple):
            if isinstance(reference, tuple) != isinstance(got, tuple):
                problems.append(f"{backend}: interp gave {_short(reference)}, "
                                f"{backend} gave {_short(got)}")
            continue
        for k, (e, g) in enumerate(zip(reference, got)):
            if (e is None) != (g is None):
                problems.append(f"{backend}: input {k} grad presence differs")
            elif e is not None and (e.shape != g.shape or e.dtype != g.dtype
                                    or not np.allclose(g, e, rtol=1e-5, atol=1e-6,
                                                       equal_nan=True)):
                problems.append(f"{backend}: input {k} gradient differs: {e!r} vs {g!r}")
    return problems


def _short(result) -> str:
    if isinstance(result, tuple):
        return result[1].splitlines()[0]
    return "gradients"


def fuzz(n_programs: int, n_sizes: int, seed: int, dtypes=("float64", "float32"),
         allow_empty: bool = True, verbose: bool = False) -> tuple[int, list]:
    """Run ``n_programs`` random programs at ``n_sizes`` sizes each; (instances, failures)."""
    rng = np.random.default_rng(seed)
    failures = []
    instances = 0
    for p in range(n_programs):
        program = make_program(rng)
        dtype = dtypes[p % len(dtypes)]
        for sizes in assignments(rng, n_sizes, allow_empty):
            xs = make_inputs(program, sizes, rng, dtype)
            instances += 1
            for problem in compare(program, xs):
                failures.append((p, program, {k: v for k, v in sizes.items() if k != 1}, dtype,
                                 problem))
                if verbose:
                    print(f"program {p} at {sizes} ({dtype}): {problem}")
    return instances, failures


# ---- loops: programs whose middle repeats, as a Python loop makes it ------------------------
LOOP_UNARY = ("tanh", "sin", "cos", "sigmoid", "neg", "square", "abs", "exp_small", "relu")
LOOP_BINARY = ("add", "sub", "mul", "div_safe")


def make_loop_program(rng: np.random.Generator) -> dict:
    """A random loop: inputs, a few head values, carried state, a body of elementwise ops
    reading the state, the inputs, the head values and Python numbers (some changing with the
    iteration), repeated 2 to 30 times; then a loss over the last state (and the head)."""
    n_in = int(rng.integers(1, 4))
    head = []
    for _ in range(int(rng.integers(0, 3))):
        head.append((str(rng.choice(LOOP_UNARY)), ("in", int(rng.integers(n_in)))))
    n_car = int(rng.integers(1, 3))
    init = [("in", int(rng.integers(n_in))) if not head or rng.random() < 0.5
            else ("h", int(rng.integers(len(head)))) for _ in range(n_car)]
    body: list = []
    for _ in range(int(rng.integers(1, 7))):
        def source():
            roll = rng.random()
            if body and roll < 0.35:
                return ("b", int(rng.integers(len(body))))
            if roll < 0.7:
                return ("c", int(rng.integers(n_car)))
            if head and roll < 0.8:
                return ("h", int(rng.integers(len(head))))
            if roll < 0.9:
                return ("in", int(rng.integers(n_in)))
            return ("s", float(rng.uniform(0.5, 1.5)), bool(rng.random() < 0.5))
        if rng.random() < 0.5:
            body.append((str(rng.choice(LOOP_UNARY)), source()))
        else:
            body.append((str(rng.choice(LOOP_BINARY)), source(), source()))
    # Each new state is a body value (the last one at least once, so the body is used).
    carry_out = [len(body) - 1] + [int(rng.integers(len(body))) for _ in range(n_car - 1)]
    return {"n_in": n_in, "head": head, "init": init, "body": body, "carry_out": carry_out,
            "count": int(rng.integers(2, 31)), "loss": str(rng.choice(["sum", "mean", "mixed"])),
            "grads": [bool(rng.random() < 0.8) for _ in range(n_in)]}


def _loop_op(op: str, args: list):
    a = args[0]
    if op in ("tanh", "sin", "cos", "sigmoid", "abs", "relu"):
        return getattr(tapegrad, op)(a)
    if op == "neg":
        return -a
    if op == "square":
        return a * a
    if op == "exp_small":
        return tapegrad.exp(-(a * a))
    b = args[1]
    if op == "add":
        return a + b
    if op == "sub":
        return a - b
    if op == "mul":
        return a * b
    return a / (b * b + 1.0)   # div_safe


def run_loop_program(program: dict, xs: list):
    heads = [_loop_op(op, [xs[src[1]]]) for op, src in program["head"]]

    def value(src, r, body, state):
        kind = src[0]
        if kind == "in":
            return xs[src[1]]
        if kind == "h":
            return heads[src[1]]
        if kind == "c":
            return state[src[1]]
        if kind == "b":
            return body[src[1]]
        return src[1] * (1.0 + 0.01 * r) if src[2] else src[1]   # a number

    state = [value(s, 0, [], []) for s in program["init"]]
    for r in range(program["count"]):
        body: list = []
        for op, *srcs in program["body"]:
            args = [value(s, r, body, state) for s in srcs]
            if all(not isinstance(a, tapegrad.Tensor) for a in args):
                args[0] = xs[0] * 0.0 + args[0]   # (an op of two numbers: make it a tensor)
            body.append(_loop_op(op, args))
        state = [body[k] for k in program["carry_out"]]
    loss = state[0].sum() if program["loss"] == "sum" else state[0].mean()
    if program["loss"] == "mixed":
        for s in state[1:]:
            loss = loss + (s * xs[0]).sum()
        for h in heads:
            loss = loss + h.mean() * 0.5
    return loss


def make_loop_inputs(program: dict, n: int, rng: np.random.Generator, dtype: str) -> list:
    return [tapegrad.tensor(rng.uniform(-1, 1, n).astype(dtype), requires_grad=g)
            for g in program["grads"]]


def results(fn, xs: list) -> list:
    """``fn(*xs)``'s output, then each input's gradient (None where none flows)."""
    for x in xs:
        x.grad = None
    out = fn(*xs)
    if out.requires_grad:   # (a random program's result may depend on no input that does)
        out.backward()
    return [out.detach().numpy()] + [None if x.grad is None else x.grad.numpy().copy()
                                     for x in xs]


def float32_answers(program: dict, xs: list, got: list) -> bool:
    """Whether float32 can answer this loop at all: results ``got`` (eager, float32: the output,
    then each input's gradient) agree with float64's on the same values. (A state that doubles
    every iteration has adjoints of 2^k that cancel to a gradient of 1/3: float32 rounding
    alone changes it, in any summation order.)"""
    x64 = [tapegrad.tensor(x.detach().numpy().astype("float64"), requires_grad=x.requires_grad)
           for x in xs]
    with np.errstate(all="ignore"):
        ref = results(lambda *v: run_loop_program(program, list(v)), x64)
    return all(g is None or w is None or np.allclose(g, w, rtol=1e-4, atol=1e-4, equal_nan=True)
               for g, w in zip(got, ref))
