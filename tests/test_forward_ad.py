"""Forward mode (``autograd.forward_ad``) against reverse mode, driven by the op table: every
elementwise row on broadcast shapes in float64, every structural row through its sample, with
tangents computed both with numpy (nothing requires grad) and with recorded ops (the primals
require grad, so the tangents can be differentiated again). Then ``autograd.functional``'s jvp,
forward-mode jacobian and forward-over-reverse hessian."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import ELEMENTWISE, call_elementwise, elementwise_inputs
from test_op_table import SHAPES, STRUCTURAL_SAMPLES

import tapegrad
import tapegrad.autograd.forward_ad as fwAD
from tapegrad.autograd.functional import hessian, jacobian, jvp
from tapegrad.ops import OPS
from tapegrad.registry import FORWARD_WATCHERS


def _reverse_jv(fn, inputs, tangents):
    """J v by reverse mode: the full Jacobian of each output, contracted with the tangents."""
    xs = tuple(x.detach().requires_grad_(x.dtype.is_floating_point) for x in inputs)
    diff = [i for i, x in enumerate(xs) if x.requires_grad and tangents[i] is not None]
    out = fn(*xs)
    total = np.zeros(out.shape)
    for k in range(out.numel()):
        gs = tapegrad.autograd.grad(out.reshape(-1)[k], [xs[i] for i in diff],
                                    retain_graph=True, allow_unused=True)
        total.reshape(-1)[k] = sum(float((g * tangents[i]).sum()) for g, i in zip(gs, diff)
                                   if g is not None)
    return total


def _forward_jv(fn, inputs, tangents, real: bool):
    with fwAD.dual_level():
        xs = []
        for x, t in zip(inputs, tangents):
            x = x.detach()
            if real and x.dtype.is_floating_point:
                x = x.requires_grad_(True)
            xs.append(x if t is None else fwAD.make_dual(x, t))
        primal, tangent = fwAD.unpack_dual(fn(*xs))
        assert tangent is not None
        return primal, tangent


def _tangents(inputs, rng, domain=None):
    out = []
    for k, x in enumerate(inputs):
        if domain is not None and domain[k] == "b" or not x.dtype.is_floating_point:
            out.append(None)
        else:
            out.append(tapegrad.tensor(rng.standard_normal(tuple(x.shape))))
    return out


@pytest.mark.parametrize("real", [False, True], ids=["numpy", "recorded"])
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_tangent_matches_reverse_mode(name, real):
    rng = np.random.default_rng(0)
    op = OPS[name]
    for shapes in SHAPES[op.arity]:
        inputs = elementwise_inputs(op, shapes, rng, requires_grad=False)
        tangents = _tangents(inputs, rng, op.domain)

        def fn(*xs):
            return call_elementwise(name, xs)
        primal, tangent = _forward_jv(fn, inputs, tangents, real)
        np.testing.assert_allclose(primal.detach().numpy(), fn(*inputs).numpy())
        assert tangent.shape == primal.shape and tangent.dtype == primal.dtype
        np.testing.assert_allclose(tangent.detach().numpy(), _reverse_jv(fn, inputs, tangents),
                                   rtol=1e-9, atol=1e-12, err_msg=f"{name} {shapes}")
        assert real or not tangent.requires_grad


@pytest.mark.parametrize("real", [False, True], ids=["numpy", "recorded"])
@pytest.mark.parametrize("name", sorted(STRUCTURAL_SAMPLES))
def test_structural_tangent_matches_reverse_mode(name, real):
    fn, inputs = STRUCTURAL_SAMPLES[name]
    rng = np.random.default_rng(1)
    tangents = _tangents(inputs, rng)
    primal, tangent = _forward_jv(fn, inputs, tangents, real)
    np.testing.assert_allclose(tangent.detach().numpy(), _reverse_jv(fn, inputs, tangents),
                               rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", sorted(set(STRUCTURAL_SAMPLES) & set(fwAD._LINEAR)))
def test_direct_structural_rules_match_the_double_vjp(name, monkeypatch):
    fn, inputs = STRUCTURAL_SAMPLES[name]
    tangents = _tangents(inputs, np.random.default_rng(3))
    for real in (False, True):
        direct = _forward_jv(fn, inputs, tangents, real)[1]
        with monkeypatch.context() as m:
            m.setattr(fwAD, "_LINEAR", {})
            transposed = _forward_jv(fn, inputs, tangents, real)[1]
        np.testing.assert_allclose(direct.detach().numpy(), transposed.detach().numpy(),
                                   rtol=1e-12, atol=1e-14)


def test_in_place_ops_and_views_carry_tangents():
    x = tapegrad.tensor([1.0, 2.0, 3.0], dtype=tapegrad.float64)
    v = tapegrad.tensor([1.0, -1.0, 0.5], dtype=tapegrad.float64)

    with fwAD.dual_level():
        d = fwAD.make_dual(x, v)
        d.mul_(2)  # in place on a dual tensor whose primal does not require grad
        np.testing.assert_allclose(fwAD.unpack_dual(d).tangent.numpy(), 2 * v.numpy())

    def f(a):
        z = a * 1
        z.mul_(a)
        z[0] = a[1] * 3
        return z.unsqueeze(0).expand(2, 3).t()
    _, t = _forward_jv(f, [x], [v], False)
    np.testing.assert_allclose(t.numpy(), _reverse_jv(f, [x], [v]))


def test_prod_and_cumprod_with_zeros_are_exact():
    x = tapegrad.tensor([[2.0, 0.0, 3.0], [1.0, 4.0, 0.5]], dtype=tapegrad.float64)
    v = tapegrad.tensor([[1.0, 2.0, -1.0], [0.5, 0.0, 1.0]], dtype=tapegrad.float64)
    for fn in (lambda a: a.prod(1), lambda a: a.prod(0, keepdim=True), lambda a: a.prod(),
               lambda a: a.cumprod(1), lambda a: a.cumprod(0)):
        _, t = _forward_jv(fn, [x], [v], False)
        np.testing.assert_allclose(t.numpy(), _reverse_jv(fn, [x], [v]))


@pytest.mark.parametrize("real", [False, True], ids=["numpy", "recorded"])
def test_in_place_writes_through_views(real):
    x = tapegrad.tensor([[1.0, 2.0, 0.5], [3.0, 4.0, -1.0]], dtype=tapegrad.float64)
    v = tapegrad.tensor([[1.0, 0.5, 2.0], [-1.0, 2.0, 0.25]], dtype=tapegrad.float64)

    def f(a):
        z = a * 1
        z[0].mul_(3)          # a write through a getitem view
        w = z.t()
        w.add_(a.t() ** 2)    # through a transpose
        z.view(-1)[1:4].sub_(a[0])  # through a reshape and a slice
        return z.exp() + w.t() * z
    _, t = _forward_jv(f, [x], [v], real)
    np.testing.assert_allclose(t.detach().numpy(), _reverse_jv(f, [x], [v]), rtol=1e-10)


def test_make_dual_refuses_no_grad():
    with fwAD.dual_level(), tapegrad.no_grad():
        with pytest.raises(RuntimeError, match="no_grad"):
            fwAD.make_dual(tapegrad.ones(2), tapegrad.ones(2))


def test_tangent_is_differentiable_reverse_over_forward():
    # d/dx <f'(x), v> = H v for f(x) = sum(sin(x) * x^3)
    x = tapegrad.tensor([0.3, -1.2, 2.0], dtype=tapegrad.float64, requires_grad=True)
    v = tapegrad.tensor([1.0, 0.5, -2.0], dtype=tapegrad.float64)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, v)
        y = (d.sin() * d ** 3).sum()
        _, t = fwAD.unpack_dual(y)
    (hv,) = tapegrad.autograd.grad(t, x)
    xn, vn = x.detach().numpy(), v.numpy()
    h = -np.sin(xn) * xn ** 3 + 6 * np.cos(xn) * xn ** 2 + 6 * np.sin(xn) * xn
    np.testing.assert_allclose(hv.numpy(), h * vn, rtol=1e-10)
    # the primal's reverse gradient flows through the dual view
    x.grad = None
    with fwAD.dual_level():
        y = (fwAD.make_dual(x, v) ** 2).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * xn)


def test_dual_api_as_pytorch():
    x = tapegrad.tensor([1.0, 2.0])
    with fwAD.dual_level() as level:
        assert level == 0
        d = fwAD.make_dual(x, tapegrad.ones(2))
        u = fwAD.unpack_dual(d * 3)
        assert type(u).__name__ == "UnpackedDualTensor" and u._fields == ("primal", "tangent")
        assert u.tangent.tolist() == [3.0, 3.0] and u.primal.tolist() == [3.0, 6.0]
        assert fwAD.unpack_dual(x).tangent is None
        assert fwAD.unpack_dual(u.primal).tangent is None
        assert fwAD.unpack_dual(d + x).tangent.tolist() == [1.0, 1.0]
        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported"):
            fwAD.enter_dual_level()
        with pytest.raises(RuntimeError, match="different size than that of the original"):
            fwAD.make_dual(x, tapegrad.ones(3))
        with pytest.raises(ValueError, match="Expected primal to be floating point"):
            fwAD.make_dual(tapegrad.tensor([1, 2]), tapegrad.ones(2))
        with pytest.raises(RuntimeError, match="already has a forward gradient at the same"):
            fwAD.make_dual(d, tapegrad.ones(2))
    assert fwAD.unpack_dual(d).tangent is None
    assert not FORWARD_WATCHERS  # nothing watched once the level is closed
    with pytest.raises(RuntimeError, match="no level exists"):
        fwAD.make_dual(x, tapegrad.ones(2))
    fwAD.enter_dual_level()
    fwAD.exit_dual_level()
    with pytest.raises(RuntimeError, match="Dual level must be a positive number"):
        fwAD.exit_dual_level()
    assert fwAD.unpack_dual(3.0) == (3.0, None)
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match="Invalid level given to _make_dual"):
            fwAD.make_dual(x, tapegrad.ones(2), level=5)
        d = fwAD.make_dual(x, tapegrad.ones(2))
        assert fwAD.unpack_dual(d, level=5).tangent is None
        assert fwAD.unpack_dual(d, level=0).tangent is not None


def test_op_without_a_tangent_rule_raises_naming_it():
    class Twice(tapegrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    with fwAD.dual_level():
        d = fwAD.make_dual(tapegrad.ones(2), tapegrad.ones(2))
        with pytest.raises(NotImplementedError, match="You must implement the jvp function .*"
                                                      "'Twice' has no tangent rule"):
            Twice.apply(d)


def _f(x, y):
    return (x.sin() * y).cumsum(0), (x @ y.reshape(3, 1)).exp()


def test_functional_jvp_and_forward_jacobian_match_reverse_mode():
    rng = np.random.default_rng(2)
    x = tapegrad.tensor(rng.standard_normal((2, 3)))
    y = tapegrad.tensor(rng.standard_normal(3))
    v = (tapegrad.tensor(rng.standard_normal((2, 3))), tapegrad.tensor(rng.standard_normal(3)))
    outs, jv = jvp(_f, (x, y), v)
    for o, e in zip(outs, _f(x, y)):
        np.testing.assert_allclose(o.numpy(), e.numpy())
    assert not any(t.requires_grad for t in jv)
    ref = [_reverse_jv(lambda a, b, k=k: _f(a, b)[k], (x, y), v) for k in range(2)]
    for t, r in zip(jv, ref):
        np.testing.assert_allclose(t.numpy(), r, rtol=1e-9)
    fwd = jacobian(_f, (x, y), strategy="forward-mode", vectorize=True)
    rev = jacobian(_f, (x, y))
    for rf, rr in zip(fwd, rev):
        for a, b in zip(rf, rr):
            assert a.shape == b.shape
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-12)
    # create_graph: the tangent can be differentiated again
    _, t = jvp(lambda a: (a ** 3).sum(), x.requires_grad_(), tapegrad.ones(2, 3),
               create_graph=True)
    (g,) = tapegrad.autograd.grad(t, x)
    np.testing.assert_allclose(g.numpy(), 6 * x.detach().numpy(), rtol=1e-12)


def test_forward_over_reverse_hessian():
    x = tapegrad.tensor([0.5, -1.0, 2.0], dtype=tapegrad.float64)

    def f(a):
        return (a.sin() * a.prod() + a.softmax(0)).sum()
    h_fwd = hessian(f, x, vectorize=True, outer_jacobian_strategy="forward-mode")
    np.testing.assert_allclose(h_fwd.numpy(), hessian(f, x).numpy(), rtol=1e-9, atol=1e-12)


def test_forward_jacobian_errors_as_pytorch():
    x = tapegrad.ones(2)
    with pytest.raises(NotImplementedError, match="isonly implemented for `vectorize=True`"):
        jacobian(lambda a: a.sin(), x, strategy="forward-mode")
    with pytest.raises(NotImplementedError, match="`create_graph=True` and `strategy="):
        jacobian(lambda a: a.sin(), x, strategy="forward-mode", vectorize=True,
                 create_graph=True)
    with pytest.raises(AssertionError, match="Expected strategy to be either"):
        jacobian(lambda a: a.sin(), x, strategy="sideways")


def test_tangents_are_kept_per_thread_tape():
    import threading
    results = {}

    def work(k):
        x = tapegrad.tensor([1.0, 2.0], dtype=tapegrad.float64) * (k + 1)
        for _ in range(20):
            d = fwAD.make_dual(x, tapegrad.ones(2, dtype=tapegrad.float64))
            y = (d * d).sum()
        results[k] = fwAD.unpack_dual(y).tangent.item()

    with fwAD.dual_level():
        threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
        for th in threads:
            th.start()
        work(3)
        for th in threads:
            th.join()
    assert results == {k: 6.0 * (k + 1) for k in range(4)}


def test_a_long_loop_in_one_level_keeps_only_live_tangents():
    x = tapegrad.tensor([1.0, 2.0], dtype=tapegrad.float64)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, tapegrad.ones(2, dtype=tapegrad.float64))
        for _ in range(3000):
            y = (d * 2).sin()
        assert fwAD.unpack_dual(y).tangent is not None
        st = fwAD._LEVEL.state()
        assert len(st[1]) < 3000
        np.testing.assert_allclose(fwAD.unpack_dual(y).tangent.numpy(),
                                   2 * np.cos(2 * x.numpy()))


def test_every_structural_row_has_a_forward_mode_check():
    # sampled above; the decompositions' rows (linalg_*) in test_linalg_breadth.py; index_grad
    # (getitem's backward) by forward over reverse below; view_write/view_of (in-place through
    # a view) in test_in_place_writes_through_views; the rest refuse with an error
    from tapegrad.ops import STRUCTURAL
    covered = set(STRUCTURAL_SAMPLES) | set(fwAD._NO_TANGENT) | {"index_grad", "view_write",
                                                                  "view_of"}
    assert {n for n in STRUCTURAL if not n.startswith("linalg_")} <= covered


def test_forward_over_reverse_through_indexing():
    x = tapegrad.tensor([0.5, -1.0, 2.0, 0.3], dtype=tapegrad.float64)

    def f(a):
        return (a[[0, 2, 2]] ** 3).sum() + (a[1:] * a[:-1]).sum()
    np.testing.assert_allclose(
        hessian(f, x, vectorize=True, outer_jacobian_strategy="forward-mode").numpy(),
        hessian(f, x).numpy(), rtol=1e-12)
