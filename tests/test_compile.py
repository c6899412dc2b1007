"""tapegrad.compile traces a function once per signature and replays it: compiled results and
gradients equal eager ones (values to rounding; the fused kernels compute the same formulas),
on random programs at several sizes, on nn models with optimizers, and wherever the trace
must break (value reads, random numbers, in-place writes) the eager answer is given."""
from __future__ import annotations

import numpy as np
import pytest

import tapegrad as torch
from tapegrad.compiler.function import STATS
from tapegrad.jit.stats import STATS as JIT_STATS

from programs import assignments, make_inputs, make_program, run_program


def _grads(fn, xs):
    for x in xs:
        x.grad = None
    out = fn(*xs)
    if out.requires_grad:   # (a random program's result may depend on no input that does)
        out.backward()
    return out.detach().numpy().copy(), [None if x.grad is None else x.grad.numpy().copy()
                                        for x in xs]


def _close(a, b, dtype):
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a, b, equal_nan=True, **tol)


def _compiled_as_eager(fn, xs, dtype="float64", calls=3):
    """Compile ``fn`` and check that each of ``calls`` calls (the trace, then replays) gives
    eager's output and gradients, present where eager's are; returns the replay's steps."""
    want_out, want = _grads(fn, xs)
    compiled = torch.compile(fn)
    for _ in range(calls):
        got_out, got = _grads(compiled, xs)
        _close(got_out, want_out, dtype)
        for g, w in zip(got, want):
            assert (g is None) == (w is None)
            if g is not None:
                _close(g, w, dtype)
    entry = next(iter(compiled._tapegrad_compiled.entries.values()))
    return next(iter(entry.replays.values())).steps


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_random_programs_compiled_equal_eager_at_several_sizes(seed, dtype):
    rng = np.random.default_rng(seed)
    for _ in range(4):
        program = make_program(rng)
        compiled = torch.compile(lambda *xs, p=program: run_program(p, list(xs)))
        for sizes in assignments(rng, 4, allow_empty=True):
            xs = make_inputs(program, sizes, rng, dtype)
            want_out, want = _grads(lambda *v: run_program(program, list(v)), xs)
            for _ in range(2):  # the trace, then a replay
                got_out, got = _grads(compiled, xs)
                _close(got_out, want_out, dtype)
                for g, w in zip(got, want):
                    assert (g is None) == (w is None)
                    if g is not None:
                        assert g.dtype == w.dtype and g.shape == w.shape
                        _close(g, w, dtype)


def test_a_replay_carries_one_compiled_record_and_reuses_the_trace():
    def f(x, w):
        return (torch.tanh(x * w + 1.0) * torch.sigmoid(x)).sum()
    cf = torch.compile(f)
    x = torch.randn(4, 3, dtype=torch.float64)
    w = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    before = dict(STATS)
    cf(x, w)
    out = cf(x, w)
    assert type(out.grad_fn).__name__ == "CompiledFunctionBackward"
    assert STATS["traces"] == before["traces"] + 1
    assert STATS["replays"] == before["replays"] + 1
    out.backward()
    g = w.grad.numpy().copy()
    w.grad = None
    f(x, w).backward()
    np.testing.assert_allclose(g, w.grad.numpy(), rtol=1e-12)


def test_a_new_batch_size_traces_again_and_compiles_no_new_kernel():
    def f(x, w):
        return (torch.sin(x @ w) * 2.0 + torch.tanh(x @ w)).sum()
    cf = torch.compile(f)
    w = torch.randn(3, 2, requires_grad=True)
    for n in (5, 5):
        cf(torch.randn(n, 3), w).backward()
    compiles = JIT_STATS["compiles"]
    traces = STATS["traces"]
    for n in (7, 7, 9):
        w.grad = None
        x = torch.randn(n, 3)
        cf(x, w).backward()
        g = w.grad.numpy().copy()
        w.grad = None
        f(x, w).backward()
        np.testing.assert_allclose(g, w.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert STATS["traces"] == traces + 2      # 7 and 9: one eager run each
    assert JIT_STATS["compiles"] == compiles  # kernels are keyed by structure, not sizes


def test_a_branch_on_a_tensor_value_follows_the_value_on_every_call():
    @torch.compile
    def f(x):
        if x.sum() > 0:
            return x * 2
        return x * -3
    before = STATS["graph_breaks"]
    assert f(torch.ones(3)).tolist() == [2.0, 2.0, 2.0]
    assert f(-torch.ones(3)).tolist() == [3.0, 3.0, 3.0]
    assert f(torch.ones(3) * 0.5).tolist() == [1.0, 1.0, 1.0]
    assert STATS["graph_breaks"] > before


def test_dropout_differs_from_call_to_call():
    drop = torch.compile(lambda x: torch.nn.functional.dropout(x, 0.5, training=True))
    x = torch.ones(1000)
    a, b = drop(x), drop(x)
    assert not np.array_equal(a.numpy(), b.numpy())


def test_fullgraph_raises_at_the_graph_break_naming_the_line():
    @torch.compile(fullgraph=True)
    def f(x):
        return x * x.sum().item()
    with pytest.raises(torch.compiler_graph_break_error if hasattr(
            torch, "compiler_graph_break_error") else Exception, match="test_compile.py:"):
        f(torch.ones(2))


def test_a_module_parameter_update_is_seen_by_the_next_call():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    twin = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    twin.load_state_dict(model.state_dict())
    cm = torch.compile(model)
    opt = torch.optim.Adam(cm.parameters(), lr=0.05)
    opt2 = torch.optim.Adam(twin.parameters(), lr=0.05)
    x = torch.randn(16, 4)
    y = torch.randint(0, 2, (16,))
    for _ in range(5):
        for o, m in ((opt, cm), (opt2, twin)):
            o.zero_grad()
            loss = torch.nn.functional.cross_entropy(m(x), y)
            loss.backward()
            o.step()
        np.testing.assert_allclose(cm(x).detach().numpy(), twin(x).detach().numpy(),
                                   rtol=1e-5, atol=1e-6)


def test_no_grad_and_inputs_without_grad_give_what_eager_gives():
    def f(x, w):
        return torch.relu(x @ w).sum()
    cf = torch.compile(f)
    x, w = torch.randn(3, 3), torch.randn(3, 3)
    for _ in range(2):
        out = cf(x, w)
        assert not out.requires_grad and out.grad_fn is None
        np.testing.assert_allclose(out.numpy(), f(x, w).numpy(), rtol=1e-6)
    w.requires_grad_(True)
    with torch.no_grad():
        for _ in range(2):
            assert not cf(x, w).requires_grad
    assert cf(x, w).requires_grad


def test_a_changed_global_is_seen():
    global SCALE
    SCALE = 2.0

    @torch.compile
    def f(x):
        return x * SCALE
    x = torch.ones(2)
    assert f(x).tolist() == [2.0, 2.0] and f(x).tolist() == [2.0, 2.0]
    SCALE = 5.0
    assert f(x).tolist() == [5.0, 5.0]


def test_an_in_place_write_to_an_argument_happens_on_every_call():
    @torch.compile
    def f(x):
        x.add_(1)
        return x * 2
    x = torch.zeros(2)
    for k in range(1, 4):
        assert f(x).tolist() == [2.0 * k] * 2
    assert x.tolist() == [3.0, 3.0]


def test_second_order_gradients_through_a_compiled_call_fall_back_to_eager():
    cf = torch.compile(lambda x: (x ** 3).sum())
    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    cf(x)
    (g,) = torch.autograd.grad(cf(x), x, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), x)
    assert g.tolist() == [3.0, 12.0] and h.tolist() == [6.0, 12.0]


def test_a_second_backward_and_an_input_written_in_place_raise_as_eager():
    cf = torch.compile(lambda x, w: (torch.tanh(x * w) * 2.0).sum())
    x = torch.randn(3)
    w = torch.randn(3, requires_grad=True)
    cf(x, w)
    out = cf(x, w)
    out.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        out.backward()
    out = cf(x, w)
    with torch.no_grad():
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()
    out = cf(x, w)
    w.grad = None
    out.backward(retain_graph=True)
    out.backward()
    once = 2 * (1 - np.tanh(x.numpy() * w.detach().numpy()) ** 2) * x.numpy()
    np.testing.assert_allclose(w.grad.numpy(), 2 * once, rtol=1e-5)


def test_several_outputs_and_python_values_in_the_result():
    def f(x, w):
        h = torch.tanh(x @ w)
        return {"loss": (h * h).sum(), "h": h, "n": x.shape[0]}
    cf = torch.compile(f)
    x, w = torch.randn(4, 3), torch.randn(3, 2, requires_grad=True)
    for _ in range(2):
        r = cf(x, w)
        assert r["n"] == 4 and tuple(r["h"].shape) == (4, 2)
        w.grad = None
        (r["loss"] + r["h"].sum()).backward()
        g = w.grad.numpy().copy()
    w.grad = None
    e = f(x, w)
    (e["loss"] + e["h"].sum()).backward()
    np.testing.assert_allclose(g, w.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_large_runs_read_stored_transcendental_values_and_match_eager():
    from tapegrad.compiler import fuse

    def f(x, w, b):
        y = torch.tanh(x * w + b) * torch.sigmoid(x) + torch.exp(-x * x) * 0.5
        return (y * y + torch.sin(w) * b).sum()
    rng = np.random.default_rng(0)
    n = fuse.STORE_MIN + 3
    xs = [torch.tensor(rng.standard_normal(n), requires_grad=True) for _ in range(3)]
    steps = _compiled_as_eager(f, xs, calls=2)
    assert any(type(s) is not int and s.loaded for s in steps)


def test_explain_reports_graphs_breaks_and_kernels():
    def f(x):
        return (torch.tanh(x * 2.0) + torch.sin(x)).sum()
    report = torch.compiler.explain(f)(torch.randn(3, requires_grad=True))
    text = str(report)
    assert report.graph_count == 1 and report.graph_break_count == 0 and report.op_count == 5
    assert "%1 : f32[3] = tanh %0" in text and "fused forward kernel" in text
    assert "@njit" in text

    def g(x):
        return x * float(x.sum())
    report = torch.compiler.explain(g)(torch.randn(3))
    assert report.graph_count == 0 and report.graph_break_count == 1
    assert "Tensor.__float__() reads a tensor's value" in report.break_reasons[0]
    assert "test_compile.py" in report.break_reasons[0]


def _same(f, cf, *xs):
    """Compiled equals eager on these inputs: values and every leaf's gradient."""
    outs = []
    for fn in (f, cf, cf):
        for x in xs:
            if isinstance(x, torch.Tensor) and x.requires_grad:
                x.grad = None
        out = fn(*xs)
        out.backward()
        outs.append((out.detach().numpy().copy(),
                     [x.grad.numpy().copy() if isinstance(x, torch.Tensor) and x.grad is not None
                      else None for x in xs]))
    for got in outs[1:]:
        np.testing.assert_allclose(got[0], outs[0][0], rtol=1e-6)
        for g, w in zip(got[1], outs[0][1]):
            assert (g is None) == (w is None)
            if g is not None:
                np.testing.assert_allclose(g, w, rtol=1e-6)


def test_constant_tensors_inside_the_function():
    _same(lambda x: (x @ torch.ones(2, 2) * torch.tensor([1.0, 2.0])).sum(),
          torch.compile(lambda x: (x @ torch.ones(2, 2) * torch.tensor([1.0, 2.0])).sum()),
          torch.randn(3, 2, requires_grad=True))


def test_the_same_tensor_passed_twice_is_part_of_the_signature():
    f = lambda x, y: (x * 2 + y).sum()  # noqa: E731
    cf = torch.compile(f)
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    cf(x, x)
    cf(x, x)
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = torch.tensor([10.0, 20.0], requires_grad=True)
    out = cf(a, b)
    out.backward()
    assert out.item() == 36.0 and a.grad.tolist() == [2.0, 2.0] and b.grad.tolist() == [1.0, 1.0]


def test_module_changes_are_seen():
    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(2, 2)
            self.act = torch.tanh

        def forward(self, x):
            y = self.act(self.lin(x))
            return y * 2 if self.training else y * 3
    m = M()
    cm = torch.compile(m)
    x = torch.randn(4, 2)
    for change in (lambda: None, m.eval, lambda: setattr(m, "act", torch.sigmoid),
                   lambda: setattr(m, "lin", torch.nn.Linear(2, 2))):
        change()
        for _ in range(2):
            np.testing.assert_allclose(cm(x).detach().numpy(), m(x).detach().numpy(),
                                       rtol=1e-6)


def test_writes_hooks_and_backward_inside_break_the_trace():
    buf = torch.zeros(2)

    def write(x):
        buf.add_(1.0)
        return (x * buf).sum()
    cw = torch.compile(write)
    x = torch.ones(2, requires_grad=True)
    assert [cw(x).item() for _ in range(3)] == [2.0, 4.0, 6.0]

    def hooked(x):
        h = x * 2
        h.register_hook(lambda g: g * 10)
        return h.sum()
    ch = torch.compile(hooked)
    for _ in range(2):
        x.grad = None
        ch(x).backward()
        assert x.grad.tolist() == [20.0, 20.0]


def test_a_value_dependent_shape_runs_eagerly():
    f = lambda x: ((x[x > 0] * 2 + 1) * 3).sum()  # noqa: E731
    cf = torch.compile(f)
    cf(torch.tensor([1.0, 2.0, 3.0, -1.0]))
    cf(torch.tensor([1.0, 2.0, 3.0, -1.0]))
    y = torch.tensor([1.0, -2.0, -3.0, -1.0], requires_grad=True)
    out = cf(y)
    out.backward()
    assert out.item() == 9.0 and y.grad.tolist() == [6.0, 0.0, 0.0, 0.0]


def test_an_argument_returned_is_the_callers_tensor():
    cf = torch.compile(lambda x: (x, x * 2))
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    for _ in range(2):
        x.grad = None
        a, b = cf(x)
        assert a is x
        (a.sum() + b.sum()).backward()
        assert x.grad.tolist() == [3.0, 3.0]


def test_relu_of_minus_infinity_is_zero_in_a_fused_run():
    cf = torch.compile(lambda a: torch.relu(a * 1) + 0)
    a = torch.tensor([-float("inf"), 1.0, -1.0])
    for _ in range(2):
        assert cf(a).tolist() == [0.0, 1.0, 0.0]


def test_an_output_written_in_place_raises_at_backward():
    cf = torch.compile(lambda x: x.exp())
    x = torch.tensor([0.0, 1.0], requires_grad=True)
    cf(x)
    y = cf(x)
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_tapegrad_explain_shows_a_compiled_calls_program_and_kernels():
    f = torch.compile(lambda x, w: (torch.tanh(x * w) * 2.0).sum())
    x, w = torch.randn(3), torch.randn(3, requires_grad=True)
    f(x, w)
    text = str(torch.explain(f(x, w)))
    assert "= compiled %" in text and "is a tapegrad.compile call" in text
    assert "%1 : f32[3] = tanh %0" in text and "fused backward kernel (recomputes the run)" in text


_WARM_SCRIPT = """
import tapegrad, tapegrad.jit
f = tapegrad.compile(lambda x, w: (tapegrad.tanh(x * w + 1.0) * w).sum())
x, w = tapegrad.ones(5), tapegrad.ones(5, requires_grad=True)
for _ in range(2):
    w.grad = None
    f(x, w).backward()
print(tapegrad.jit.stats()["compiles"], w.grad.tolist())
"""


def test_a_second_process_with_a_warm_cache_compiles_nothing(tmp_path):
    import os
    import subprocess
    import sys
    env = dict(os.environ, TAPEGRAD_CACHE_DIR=str(tmp_path / "kernels"))
    runs = [subprocess.run([sys.executable, "-c", _WARM_SCRIPT], env=env, capture_output=True,
                           text=True, timeout=300) for _ in range(2)]
    for r in runs:
        assert r.returncode == 0, r.stderr
    (first, grad1), (second, grad2) = (r.stdout.split(" ", 1) for r in runs)
    assert int(first) >= 2 and int(second) == 0 and grad1 == grad2


def _absorbing(x, w):
    """Sums and means over whole runs: the kernels compute them (small arrays); a later node
    of the run's shape reads one, another sum has keepdim, one is over every dim by name."""
    y = torch.tanh(x * w) + x
    centred = y - y.mean()                       # reads the mean: a new run after it
    s1 = (centred * centred).sum()
    s2 = (y * 0.5).sum(dim=tuple(range(y.dim())))
    s3 = (y * w).sum(0, keepdim=True).sum()      # not absorbed: keepdim over one dim
    m = torch.sin(w).mean() + (w * w).sum()
    return s1 + s2 * 0.25 + s3 * 0.5 + m


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", [(7,), (3, 5), (0,), (1, 0), (5000,)])
def test_sums_and_means_computed_by_the_kernels_equal_eager(dtype, shape):
    from tapegrad.compiler import plan
    rng = np.random.default_rng(3)
    x = torch.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
    w = torch.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
    with np.errstate(all="ignore"):
        steps = _compiled_as_eager(_absorbing, [x, w], dtype, calls=2)
    absorbed = [j for s in steps if type(s) is not int for j in s.sums]
    n = int(np.prod(shape))
    if 0 < n <= plan.ABSORB_MAX and dtype == "float64":
        assert len(absorbed) == 5   # all but the keepdim sum and the sum of its result
    elif n > plan.ABSORB_MAX or dtype == "float32":   # (float32 sums: numpy's, as eagerly)
        assert absorbed == []


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_random_loops_compiled_equal_eager(seed, dtype):
    """Loops (a body repeated 2 to 30 times, state carried between iterations, the inputs and
    head values read by every iteration): on small arrays their runs are rolled into one
    kernel with a loop, on large ones cut into pieces; compiled equals eager either way."""
    from programs import float32_answers, make_loop_inputs, make_loop_program, run_loop_program
    from tapegrad.compiler.roll import RolledRun
    rng = np.random.default_rng(100 + seed)
    rolled = 0
    for _ in range(5):
        program = make_loop_program(rng)
        compiled = torch.compile(lambda *xs, p=program: run_loop_program(p, list(xs)))
        for n in (3, 1, 0, 5000):
            xs = make_loop_inputs(program, n, rng, dtype)
            with np.errstate(all="ignore"):
                want_out, want = _grads(lambda *v: run_loop_program(program, list(v)), xs)
                if dtype == "float32" and not float32_answers(program, xs, [want_out, *want]):
                    continue   # (float32 itself cannot answer it: no engine is to blame)
                for _ in range(2):
                    got_out, got = _grads(compiled, xs)
                    _close(got_out, want_out, dtype)
                    for g, w in zip(got, want):
                        assert (g is None) == (w is None)
                        if g is not None:
                            _close(g, w, dtype)
        for entry in compiled._tapegrad_compiled.entries.values():
            for replay in entry.replays.values():
                rolled += sum(isinstance(s, RolledRun) for s in replay.steps)
    assert rolled   # (the runs these loops make are long enough to roll)


def _dead_last(x, w):
    """A state (s3) that the next iteration reads but the loss does not: its last iteration's
    value is exp(720) = inf, whose derivative the eager backward never visits."""
    s1, s2, s3 = x, w, w * 0.0
    for _ in range(10):
        s1, s3, s2 = torch.tanh(s1 + s3 * 1e-300), torch.exp(s2), s2 + 80.0
    return s1.sum()


def test_a_rolled_loop_runs_only_the_derivatives_a_gradient_reaches():
    from tapegrad.compiler.roll import RolledRun
    x = torch.tensor(np.linspace(-1, 1, 5), requires_grad=True)
    w = torch.tensor(np.zeros(5), requires_grad=True)
    with np.errstate(all="ignore"):
        assert np.isfinite(_grads(_dead_last, [x, w])[1][1]).all()
        steps = _compiled_as_eager(_dead_last, [x, w], calls=2)
    assert any(isinstance(s, RolledRun) for s in steps)


THROUGH_AN_ADD = [
    lambda x: (lambda a: a + torch.relu(a))(x * 2.0),
    lambda x: (lambda a: a - torch.relu(a))(x * 2.0),
    lambda x: (lambda a: a + torch.nn.functional.leaky_relu(a, 0.1))(x * 2.0),
    lambda x: (lambda a: a + torch.clamp(a, -0.5, 0.5))(x * 2.0),
    lambda x: (lambda a: a + torch.maximum(a, x * x))(x * 2.0),
]


@pytest.mark.parametrize("k", range(len(THROUGH_AN_ADD)))
def test_an_add_beside_a_conditional_derivative_keeps_both(k):
    """A value read by an add and by relu, leaky_relu, clamp or maximum: its adjoint register
    is the add's, then the conditional derivative is added to it (in parentheses)."""
    f = THROUGH_AN_ADD[k]
    x = torch.tensor(np.array([0.5, -1.0, 2.0, -0.3, 0.25, -0.6]), requires_grad=True)
    _compiled_as_eager(lambda x: f(x).sum(), [x])


def test_float32_sums_overflow_as_eager_ones():
    f = lambda x: (x * 1.0 + 0.0).sum()   # noqa: E731
    x = torch.tensor(np.array([3e38, 3e38, -3e38, -3e38], np.float32), requires_grad=True)
    compiled = torch.compile(f)
    with np.errstate(all="ignore"):
        want = f(x).item()
        got = [compiled(x).item() for _ in range(3)]
    assert want == np.inf and got == [np.inf] * 3


def _swapping(x, w):
    """Two states that swap roles: with only x requiring grad, a state carries gradients in
    every other iteration."""
    a, b = x, w
    for _ in range(20):
        a, b = torch.tanh(b) * 1.1, torch.sin(a) * 0.5 + 1.0
    return (a + b * 0.25).sum()


def _read_by_each(x, w):
    """A value computed before the loop and read by every iteration."""
    hw = torch.cos(w)
    s = x
    for _ in range(30):
        s = torch.tanh(s * hw + 0.1)
    return s.sum()


@pytest.mark.parametrize("fn", [_swapping, _read_by_each])
@pytest.mark.parametrize("grads", [(True, False), (False, True), (True, True)])
def test_rolled_loops_with_swapping_states_and_values_from_before(fn, grads):
    from tapegrad.compiler.roll import RolledRun
    rng = np.random.default_rng(9)
    x = torch.tensor(rng.standard_normal(7), requires_grad=grads[0])
    w = torch.tensor(rng.standard_normal(7), requires_grad=grads[1])
    assert any(isinstance(s, RolledRun) for s in _compiled_as_eager(fn, [x, w]))


def test_a_loop_longer_than_one_kernels_buffer_rolls_in_several(monkeypatch):
    """Iterations past what keeps the backward's values within BUF_MAX roll in another
    kernel; the gradients flow from one to the next."""
    from tapegrad.compiler import roll
    monkeypatch.setattr(roll, "BUF_MAX", 300)
    x = torch.tensor(np.linspace(-1, 1, 5), requires_grad=True)
    w = torch.tensor(np.linspace(0.5, 1, 5), requires_grad=True)
    steps = _compiled_as_eager(_read_by_each, [x, w])
    assert sum(isinstance(s, roll.RolledRun) for s in steps) >= 2


def _from_a_number(x, w):
    s = 0.0
    for k in range(20):
        s = s + torch.tanh(x * w + 0.1 * k) * 0.5
    return s.sum()


def test_a_loop_whose_state_starts_as_a_number_rolls():
    from tapegrad.compiler.roll import RolledRun
    x = torch.tensor(np.linspace(-1, 1, 6), requires_grad=True)
    w = torch.tensor(np.linspace(0.5, 1.5, 6), requires_grad=True)
    assert any(isinstance(s, RolledRun) for s in _compiled_as_eager(_from_a_number, [x, w]))
