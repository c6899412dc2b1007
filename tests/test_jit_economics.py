"""Compile time is bounded and paid only where it pays (issue 11). No test here asserts a
timing: they check what was compiled, cut and decided, and that gradients equal the
interpreter's."""
from __future__ import annotations

import numpy as np
import pytest

import tapegrad
import tapegrad.jit
from tapegrad.jit import plan as plan_mod
from tapegrad.jit import runtime


def _loop(x, steps):
    """A time-stepping loop: the same six records per step."""
    y = x
    for _ in range(steps):
        y = ((y * 1.01 + 0.5).tanh() - x * 0.1).sin()
    return y.sum()


def _grads(fn, x, backend):
    x.grad = None
    with tapegrad.backend(backend):
        fn(x).backward()
    return x.grad.numpy().copy()


def test_a_long_loop_is_cut_into_pieces_that_share_one_kernel():
    tapegrad.jit.clear_cache()
    tapegrad.jit.reset_stats()
    x = tapegrad.tensor(np.linspace(-1, 1, 50), requires_grad=True)
    fn = lambda x: _loop(x, 60)  # noqa: E731  360 elementwise records in one chain
    expected = _grads(fn, x, "interp")
    got = _grads(fn, x, "jit")
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    entry = next(iter(runtime._graphs.values()))
    runs = entry.plan.runs
    assert all(len(r.records) <= plan_mod.MAX_RUN for r in runs)
    assert sum(len(r.records) for r in runs) == 360
    s = tapegrad.jit.stats()
    # The first and last pieces differ (the seed arrives there; the loop's input is read
    # there): at most three kernels for twelve pieces, the others reused.
    assert s["kernels"] <= 3 and s["kernel_reuses"] >= len(runs) - 3


def test_a_long_run_without_a_period_is_cut_and_correct():
    rng = np.random.default_rng(5)
    unary = ["tanh", "sin", "cos", "sigmoid"]
    choices = rng.integers(0, 6, 90)

    def fn(x):
        y = x
        for c in choices:
            y = getattr(y, unary[c])() if c < 4 else (y * 0.9 if c == 4 else y + x)
        return y.sum()

    x = tapegrad.tensor(np.linspace(-1, 1, 9), requires_grad=True)
    np.testing.assert_allclose(_grads(fn, x, "jit"), _grads(fn, x, "interp"), rtol=1e-12,
                               atol=1e-14)
    entry = max(runtime._graphs.values(), key=lambda e: len(e.key))
    assert max(len(r.records) for r in entry.plan.runs) <= plan_mod.MAX_RUN


@pytest.mark.parametrize("max_run", [1, 2, 5, 7])
def test_cutting_anywhere_gives_the_same_gradients(monkeypatch, max_run):
    monkeypatch.setattr(plan_mod, "MAX_RUN", max_run)
    tapegrad.jit.clear_cache()
    x = tapegrad.tensor(np.linspace(-1, 1, 6), requires_grad=True)
    fn = lambda x: _loop(x, 4) + (x * x).exp().sum()  # noqa: E731
    np.testing.assert_allclose(_grads(fn, x, "jit"), _grads(fn, x, "interp"), rtol=1e-12,
                               atol=1e-14)
    tapegrad.jit.clear_cache()
