"""Property-based tests: random small programs over random shapes, checked against finite
differences in float64."""
from __future__ import annotations

import numpy as np
from conftest import call_elementwise, sample
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tapegrad
from tapegrad.autograd import gradcheck
from tapegrad.ops import OPS

UNARY = sorted(n for n, op in OPS.items() if op.elementwise and op.arity == 1 and op.domain == "r"
               and n not in ("sign", "floor", "ceil", "round"))
BINARY = ["add", "sub", "mul", "maximum", "minimum"]
REDUCE = ["sum", "mean", "amax", "logsumexp"]

shapes = st.sampled_from([(3,), (2, 3), (1, 3), (2, 1), ()])
steps = st.lists(st.tuples(st.sampled_from(["u", "b", "r"]), st.integers(0, 100)),
                 min_size=1, max_size=6)


def run_program(program, x, y):
    v = x
    for kind, k in program:
        if kind == "u":
            v = call_elementwise(UNARY[k % len(UNARY)], [v])
        elif kind == "b":
            v = call_elementwise(BINARY[k % len(BINARY)], [v, y])
        else:
            v = getattr(v, REDUCE[k % len(REDUCE)])(-1, keepdim=True) if v.ndim else v * 1
    return v.sum()


def moderate(program, x, y):
    """Skip programs whose values explode (exp of exp of ...): finite differences and float32
    comparisons mean nothing there."""
    with tapegrad.no_grad():
        value = run_program(program, x, y)
    assume(np.all(np.abs(value.numpy()) < 1e4))


@settings(max_examples=40, deadline=None)
@given(program=steps, sx=shapes, sy=shapes, seed=st.integers(0, 2**16))
def test_random_programs_match_finite_differences(program, sx, sy, seed):
    rng = np.random.default_rng(seed)
    try:
        np.broadcast_shapes(sx, sy)
    except ValueError:
        return
    x = tapegrad.tensor(sample("r", sx, rng) * 0.5, requires_grad=True)
    y = tapegrad.tensor(sample("r", sy, rng) * 0.5, requires_grad=True)
    moderate(program, x, y)
    assert gradcheck(lambda a, b: run_program(program, a, b), [x, y], atol=1e-4, rtol=1e-3)


@settings(max_examples=25, deadline=None)
@given(program=steps, sx=shapes, sy=shapes, seed=st.integers(0, 2**16),
       dtype=st.sampled_from(["float64", "float32"]))
def test_random_programs_jit_matches_interpreter(program, sx, sy, seed, dtype):
    rng = np.random.default_rng(seed)
    try:
        np.broadcast_shapes(sx, sy)
    except ValueError:
        return
    x = tapegrad.tensor((sample("r", sx, rng) * 0.5).astype(dtype), requires_grad=True)
    y = tapegrad.tensor((sample("r", sy, rng) * 0.5).astype(dtype), requires_grad=True)
    moderate(program, x, y)
    results = []
    for backend in ("interp", "jit"):
        x.grad = y.grad = None
        with tapegrad.backend(backend):
            run_program(program, x, y).backward()
        results.append([None if t.grad is None else t.grad.numpy().copy() for t in (x, y)])
    rtol = 1e-10 if dtype == "float64" else 1e-4
    for interp, jit in zip(*results):
        assert (interp is None) == (jit is None)  # an unused input gets no gradient in both
        if interp is not None:
            np.testing.assert_allclose(jit, interp, rtol=rtol, atol=rtol)
            assert jit.dtype == interp.dtype == np.dtype(dtype)
