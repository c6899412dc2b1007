"""jacobian, hessian, vjp, jvp, hvp against closed forms; tapegrad.grad on numpy functions."""
from __future__ import annotations

import numpy as np
from conftest import live_records

import tapegrad as torch
from tapegrad.autograd.functional import hessian, hvp, jacobian, jvp, vjp

A = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])


def t64(a):
    return torch.tensor(np.asarray(a, dtype=np.float64))


def f(x):  # R^3 -> R^2: A @ sin(x)
    return t64(A) @ x.sin()


def closed_jacobian(x):
    return A * np.cos(x)


def test_jacobian_matches_closed_form_and_leaves_inputs_alone():
    x = t64([0.3, -1.2, 2.0])
    np.testing.assert_allclose(jacobian(f, x).numpy(), closed_jacobian(x.numpy()))
    assert not x.requires_grad and x.grad is None
    ja, jb = jacobian(lambda a, b: (a * b).sum(), (t64([1.0, 2.0]), t64([3.0, 4.0])))
    np.testing.assert_allclose(ja.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(jb.numpy(), [1.0, 2.0])


def test_hessian_matches_closed_form():
    x = t64([0.3, -1.2])

    def g(v):  # x0^2 x1 + exp(x1)
        return v[0] * v[0] * v[1] + v[1].exp()

    a, b = x.numpy()
    expected = np.array([[2 * b, 2 * a], [2 * a, np.exp(b)]])
    np.testing.assert_allclose(hessian(g, x).numpy(), expected)


def test_vjp_jvp_hvp_match_closed_forms():
    x = t64([0.3, -1.2, 2.0])
    J = closed_jacobian(x.numpy())
    u, v = np.array([1.0, -2.0]), np.array([0.5, 1.0, -1.0])
    out, back = vjp(f, x, t64(u))
    np.testing.assert_allclose(out.numpy(), A @ np.sin(x.numpy()))
    np.testing.assert_allclose(back.numpy(), u @ J)
    out, fwd = jvp(f, x, t64(v))
    np.testing.assert_allclose(fwd.numpy(), J @ v)

    def quartic(w):
        return (w ** 4).sum()

    value, hv = hvp(quartic, x, t64(v))
    np.testing.assert_allclose(value.item(), np.sum(x.numpy() ** 4))
    np.testing.assert_allclose(hv.numpy(), 12 * x.numpy() ** 2 * v)
    assert live_records() == 0


def test_grad_and_value_and_grad_on_numpy_code():
    def loss(w, x, y):
        pred = np.tanh(x @ w)
        return np.sum((pred - y) ** 2)

    rng = np.random.default_rng(0)
    w, x, y = rng.standard_normal(3), rng.standard_normal((5, 3)), rng.standard_normal(5)
    g = torch.grad(loss)(w, x, y)
    assert isinstance(g, np.ndarray)
    p = np.tanh(x @ w)
    np.testing.assert_allclose(g, x.T @ (2 * (p - y) * (1 - p * p)))
    value, (gw, gy) = torch.value_and_grad(loss, argnums=(0, 2))(w, x, y)
    np.testing.assert_allclose(value, np.sum((p - y) ** 2))
    np.testing.assert_allclose(gy, -2 * (p - y))
    gt = torch.grad(lambda t: (t * t).sum())(torch.tensor([1.0, 2.0]))
    assert isinstance(gt, torch.Tensor) and gt.tolist() == [2.0, 4.0]
