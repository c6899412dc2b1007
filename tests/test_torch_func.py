"""``tapegrad.func`` (torch.func): each transform against finite differences or the reverse-mode
equivalent, nested; ``vmap`` against a Python loop, composed with ``grad``; PyTorch's errors."""
from __future__ import annotations

import numpy as np
import pytest

import tapegrad
import tapegrad.nn as nn
from tapegrad.autograd.functional import hessian as ag_hessian
from tapegrad.autograd.functional import jacobian as ag_jacobian
from tapegrad.func import (
    functional_call,
    grad,
    grad_and_value,
    hessian,
    jacfwd,
    jacrev,
    jvp,
    linearize,
    stack_module_state,
    vjp,
    vmap,
)

F64 = tapegrad.float64


def _t(*shape, seed=0):
    return tapegrad.tensor(np.random.default_rng(seed).standard_normal(shape))


def _fd_grad(f, x, eps=1e-6):
    """Central differences of a scalar function of one tensor."""
    base = x.numpy().copy()
    out = np.zeros_like(base)
    for k in range(base.size):
        for sign in (1, -1):
            b = base.copy()
            b.reshape(-1)[k] += sign * eps
            out.reshape(-1)[k] += sign * float(f(tapegrad.tensor(b))) / (2 * eps)
    return out


def _close(a, b, tol=1e-7):
    a = a.detach().numpy() if isinstance(a, tapegrad.Tensor) else np.asarray(a)
    b = b.detach().numpy() if isinstance(b, tapegrad.Tensor) else np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def f_scalar(x):
    return (x.sin() * x ** 2).sum() + x.softmax(0)[0]


# ---- grad ---------------------------------------------------------------------------------
def test_grad_matches_finite_differences_and_returns_plain_tensors():
    x = _t(4)
    g = grad(f_scalar)(x)
    _close(g, _fd_grad(f_scalar, x), 1e-6)
    assert not g.requires_grad and not x.requires_grad


def test_grad_argnums_pytrees_and_aux():
    x, y = _t(3), _t(3, seed=1)

    def f(a, b):
        return (a * b.exp()).sum(), {"aux": a.detach() * 2}
    (ga, gb), aux = grad(f, argnums=(0, 1), has_aux=True)(x, y)
    _close(ga, y.exp())
    _close(gb, x * y.exp())
    _close(aux["aux"], x * 2)
    g = grad(lambda d: (d["w"] * d["v"][0]).sum())({"w": x, "v": [y]})
    assert set(g) == {"w", "v"} and isinstance(g["v"], list)
    _close(g["w"], y)
    _close(g["v"][0], x)
    gv, value = grad_and_value(lambda a: (a ** 2).sum())(x)
    _close(gv, 2 * x)
    _close(value, (x ** 2).sum())
    (g1,), (v1, a1) = grad_and_value(lambda a: ((a ** 2).sum(), 7), argnums=(0,),
                                     has_aux=True)(x)
    assert a1 == 7


def test_grad_of_grad_and_no_perturbation_confusion():
    x = _t(3)
    _close(grad(lambda a: grad(lambda b: (b ** 3).sum())(a).sum())(x), 6 * x)
    # d/dx [x * d/dy (x * y)] = d/dx x^2 = 2x: the inner grad sees x as a constant
    c = tapegrad.tensor(5.0, dtype=F64)
    s = tapegrad.tensor(1.5, dtype=F64)
    inner = grad(lambda x_: x_ * grad(lambda y: x_ * y)(c))(s)
    _close(inner, 2 * s)


def test_grad_keeps_captured_parameters_differentiable():
    # a gradient penalty: the gradient with respect to the input is differentiated with
    # respect to a captured parameter by ordinary autograd, as in PyTorch
    w = tapegrad.tensor([1.0, -2.0, 0.5], dtype=F64, requires_grad=True)
    x = _t(3)
    g = grad(lambda a: (a * w).tanh().sum())(x)
    assert g.requires_grad
    (g ** 2).sum().backward()
    wn, xn = w.detach().numpy(), x.numpy()

    def pen(wv):
        return float((((1 - np.tanh(xn * wv) ** 2) * wv) ** 2).sum())
    fd = np.array([(pen(wn + e) - pen(wn - e)) / 2e-6 for e in np.eye(3) * 1e-6])
    np.testing.assert_allclose(w.grad.numpy(), fd, rtol=1e-5)


def test_grad_errors_as_pytorch():
    x = _t(2)
    with pytest.raises(RuntimeError, match="Expected f\\(\\*args\\) to return a scalar Tensor, "
                                           "got tensor with 1 dims"):
        grad(lambda a: a.sin())(x)
    with pytest.raises(RuntimeError, match="Got argnum=2, but only 1 positional inputs"):
        grad(lambda a: a.sum(), argnums=2)(x)
    with pytest.raises(RuntimeError, match="argnums must be non-empty"):
        grad(lambda a: a.sum(), argnums=())(x)
    with pytest.raises(RuntimeError, match="should be a tuple: \\(output, aux\\)"):
        grad(lambda a: a.sum(), has_aux=True)(x)
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype"):
        grad(lambda a: a.sum())(tapegrad.tensor([1, 2]))


def test_grad_on_numpy_keeps_the_hips_style():
    g = tapegrad.func.grad(lambda a: np.sum(np.sin(a)))(np.array([0.0, 1.0]))
    assert isinstance(g, np.ndarray)
    np.testing.assert_allclose(g, np.cos([0.0, 1.0]))
    assert tapegrad.grad is tapegrad.func.grad


# ---- vjp, jvp -----------------------------------------------------------------------------
def g_vec(x, y):
    return (x.sin() * y).cumsum(0), {"e": (x @ y.reshape(3, 1)).exp()}


def test_vjp_against_the_jacobian():
    x, y, u = _t(2, 3), _t(3, seed=1), _t(2, 3, seed=2)
    out, fn = vjp(lambda a, b: g_vec(a, b)[0], x, y)
    gx, gy = fn(u)
    jx, jy = ag_jacobian(lambda a, b: g_vec(a, b)[0], (x, y))
    _close(gx, np.einsum("ij,ijkl->kl", u.numpy(), jx.numpy()))
    _close(gy, np.einsum("ij,ijk->k", u.numpy(), jy.numpy()))
    gx2, _ = fn(u)  # callable again
    _close(gx2, gx)
    out, fn, aux = vjp(lambda a: (a.exp(), "aux"), x, has_aux=True)
    assert aux == "aux"
    _close(fn(tapegrad.ones_like(x))[0], x.exp())
    with pytest.raises(RuntimeError, match="Expected pytree structure of cotangents"):
        fn((tapegrad.ones_like(x),))


def test_jvp_against_finite_differences_and_nested():
    x, y, vx, vy = _t(2, 3), _t(3, seed=1), _t(2, 3, seed=2), _t(3, seed=3)
    out, tan = jvp(g_vec, (x, y), (vx, vy))
    eps = 1e-6
    hi, lo = g_vec(x + eps * vx, y + eps * vy), g_vec(x - eps * vx, y - eps * vy)
    _close(tan[0], (hi[0] - lo[0]) / (2 * eps), 1e-6)
    _close(tan[1]["e"], (hi[1]["e"] - lo[1]["e"]) / (2 * eps), 1e-6)
    _close(out[0], g_vec(x, y)[0])
    # jvp of jvp: the second directional derivative of sum(x^3) along v is 6 x v^2
    v = _t(2, 3, seed=4)

    def d1(a):
        return jvp(lambda b: (b ** 3).sum(), (a,), (v,))[1]
    _close(jvp(d1, (x,), (v,))[1], (6 * x * v * v).sum())
    with pytest.raises(RuntimeError, match="Expected primals to be a tuple"):
        jvp(lambda a: a, x, (vx,))
    with pytest.raises(RuntimeError, match="same python structure"):
        jvp(lambda a: a, (x,), vx)


# ---- jacobians, hessian -------------------------------------------------------------------
def h_vec(x):
    return x.sin() * x.sum() + (x.reshape(2, 2) @ x.reshape(2, 2)).reshape(-1)


def test_jacrev_jacfwd_and_autograd_jacobian_agree():
    x = _t(4)
    ref = ag_jacobian(h_vec, x)
    _close(jacrev(h_vec)(x), ref)
    _close(jacfwd(h_vec)(x), ref)
    y = _t(3, seed=5)
    for jac in (jacrev, jacfwd):
        res = jac(g_vec, argnums=(0, 1))(_t(2, 3), y)
        assert isinstance(res, tuple) and isinstance(res[1], dict)
        assert res[0][0].shape == (2, 3, 2, 3) and res[0][1].shape == (2, 3, 3)
        assert res[1]["e"][1].shape == (2, 1, 3)
    a, b = jacrev(g_vec, argnums=(0, 1))(_t(2, 3), _t(3, seed=1))
    c, d = jacfwd(g_vec, argnums=(0, 1))(_t(2, 3), _t(3, seed=1))
    for p, q in ((a, c), (b["e"], d["e"])):
        _close(p[0], q[0])
        _close(p[1], q[1])
    jd = jacrev(lambda d: d["p"] * d["q"])({"p": x, "q": x[:1]})
    assert jd["p"].shape == (4, 4) and jd["q"].shape == (4, 1)


def test_hessian_and_nested_jacobians():
    x = _t(3)
    ref = ag_hessian(f_scalar, x)
    _close(hessian(f_scalar)(x), ref)
    _close(jacrev(jacrev(f_scalar))(x), ref)
    _close(jacfwd(jacfwd(f_scalar))(x), ref)
    _close(jacrev(jacfwd(f_scalar))(x), ref)
    _close(jacfwd(jacrev(f_scalar))(x), ref)
    # a third derivative: d^3/dx^3 sum(x^4) = diag3(24 x)
    t3 = jacfwd(jacrev(jacrev(lambda a: (a ** 4).sum())))(x)
    expect = np.zeros((3, 3, 3))
    for i in range(3):
        expect[i, i, i] = 24 * x.numpy()[i]
    _close(t3, expect)


# ---- functional_call ----------------------------------------------------------------------
def test_functional_call_and_grad_over_parameters():
    tapegrad.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    x = tapegrad.randn(5, 3)
    params = {k: v.detach() for k, v in m.named_parameters()}
    _close(functional_call(m, params, (x,)), m(x))
    zeros = {k: tapegrad.zeros_like(v) for k, v in params.items()}
    _close(functional_call(m, zeros, x), tapegrad.zeros(5, 1))
    assert m[0].weight is dict(m.named_parameters())["0.weight"]  # restored
    g = grad(lambda p: functional_call(m, p, (x,)).pow(2).mean())(params)
    m(x).pow(2).mean().backward()
    for k, p in m.named_parameters():
        _close(g[k], p.grad)
    with pytest.raises(RuntimeError, match="Missing key"):
        functional_call(m, {"0.weight": params["0.weight"]}, (x,), strict=True)


def test_functional_call_ties_shared_parameters():
    a, b = nn.Linear(3, 3), nn.Linear(3, 3)
    b.weight = a.weight
    m = nn.Sequential(a, b)
    x = tapegrad.ones(2, 3)
    eye, z = tapegrad.eye(3), tapegrad.zeros(3)
    _close(functional_call(m, {"0.weight": eye, "0.bias": z}, (x,)), b.bias + x)
    untied = functional_call(m, {"0.weight": eye, "0.bias": z}, (x,), tie_weights=False)
    _close(untied, b(x))


def test_stack_module_state_ensembles_by_vmap():
    tapegrad.manual_seed(1)
    nets = [nn.Linear(3, 2) for _ in range(3)]
    params, buffers = stack_module_state(nets)
    assert params["weight"].shape == (3, 2, 3) and params["weight"].requires_grad
    x = _t(4, 3).float()
    out = vmap(lambda p, b, a: functional_call(nets[0], (p, b), (a,)), in_dims=(0, 0, None))(
        params, buffers, x)
    for k, n in enumerate(nets):
        _close(out[k], n(x))
    with pytest.raises(RuntimeError, match="Expected at least one model"):
        stack_module_state([])


def test_linearize():
    x, v = _t(3), _t(3, seed=1)
    out, fn = linearize(lambda a: a.sin() * a.sum(), x)
    _close(out, x.sin() * x.sum())
    _close(fn(v), jvp(lambda a: a.sin() * a.sum(), (x,), (v,))[1])


# ---- vmap -----------------------------------------------------------------------------------
def _loop(f, xs, dim=0):
    return tapegrad.stack([f(x) for x in xs.unbind(dim)])


def test_vmap_equals_a_python_loop():
    xs, w = _t(5, 3), _t(3, 2, seed=1)
    f = lambda x: (x @ w).tanh().sum() * x  # noqa: E731
    _close(vmap(f)(xs), _loop(f, xs))
    _close(vmap(f, in_dims=1)(xs.T), _loop(f, xs))
    _close(vmap(f, out_dims=1)(xs), _loop(f, xs).T)
    r = vmap(lambda a, b, c=2.0: a * b + c, in_dims=(0, None))(xs, w[:, 0], c=3.0)
    _close(r, xs * w[:, 0] + 3.0)
    out = vmap(lambda d: {"s": d["x"].sum(), "p": (d["x"], d["x"] * 2)},
               in_dims=({"x": 0},))({"x": xs})
    _close(out["s"], xs.sum(1))
    _close(out["p"][1], xs * 2)
    a, b = vmap(lambda x: (x.sum(), tapegrad.ones(2)), out_dims=(0, None))(xs)
    _close(b, tapegrad.ones(2))
    # nested: an outer product
    _close(vmap(vmap(lambda p, q: p * q, in_dims=(None, 0)), in_dims=(0, None))(xs[0], xs[1]),
           xs[0].reshape(3, 1) * xs[1])


def test_vmap_of_an_empty_batch():
    e = vmap(lambda x: (x * 2, x.sum()), out_dims=(1, 0))(tapegrad.ones(0, 3))
    assert e[0].shape == (3, 0) and e[1].shape == (0,)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        vmap(lambda x: tapegrad.rand(2) * x)(tapegrad.ones(0, 3))


def test_vmap_composes_with_grad():
    xs = _t(4, 3)
    _close(vmap(grad(f_scalar))(xs), _loop(grad(f_scalar), xs))
    # grad of a vmapped function, and per-example gradients of a loss in a parameter
    _close(grad(lambda x: vmap(f_scalar)(x).sum())(xs), _loop(grad(f_scalar), xs))
    w = _t(3, seed=2)
    per = vmap(grad(lambda w_, x: (x @ w_).tanh()), in_dims=(None, 0))(w, xs)
    _close(per, _loop(lambda x: grad(lambda w_: (x @ w_).tanh())(w), xs))
    # jacobian rows by vmap of vjp
    x = _t(3)
    _, fn = vjp(lambda a: a.sin() * a.sum(), x)
    rows = vmap(fn)(tapegrad.eye(3, dtype=F64))[0]
    _close(rows, jacrev(lambda a: a.sin() * a.sum())(x))


def test_vmap_randomness():
    x = tapegrad.ones(3)
    with pytest.raises(RuntimeError, match="called random operation while in randomness error "
                                           "mode"):
        vmap(lambda a: tapegrad.rand(2) * a)(x)
    tapegrad.rand(1)  # the generator works again afterwards
    same = vmap(lambda a: tapegrad.rand(2) * a, randomness="same")(x)
    assert (same == same[0]).all()
    tapegrad.manual_seed(3)
    diff = vmap(lambda a: tapegrad.rand(2) * a, randomness="different")(x)
    tapegrad.manual_seed(3)
    _close(diff, tapegrad.stack([tapegrad.rand(2) for _ in range(3)]))
    with pytest.raises(RuntimeError, match="Only allowed values for randomness"):
        vmap(lambda a: a, randomness="bogus")


def test_vmap_errors_as_pytorch():
    x = tapegrad.ones(2)
    with pytest.raises(ValueError, match="Got in_dim=1 for some input, but that input is a "
                                         "Tensor of dimensionality 1"):
        vmap(lambda a: a.sum(), in_dims=1)(x)
    with pytest.raises(ValueError, match="same size in the mapped dimension, got sizes "
                                         "\\[2, 3\\]"):
        vmap(lambda a, b: a + b)(x, tapegrad.ones(3))
    with pytest.raises(ValueError, match="in_dims is not compatible with the structure"):
        vmap(lambda a: a, in_dims=(0, 0))(x)
    with pytest.raises(ValueError, match="expected `in_dims` to be int or a"):
        vmap(lambda a: a, in_dims=None)(x)
    with pytest.raises(ValueError, match="Expected at least one Tensor to vmap over"):
        vmap(lambda a: a, in_dims=(None,))(x)
    with pytest.raises(ValueError, match="We cannot vmap over non-Tensor arguments"):
        vmap(lambda a: a, in_dims=(0,))(3.0)
    with pytest.raises(ValueError, match="must only return Tensors, got type <class 'int'>"):
        vmap(lambda a: 3)(x)
    with pytest.raises(ValueError, match="can not return a BatchedTensor when out_dim is None"):
        vmap(lambda a: a, out_dims=None)(tapegrad.tensor([1.0, 2.0]))


def test_results_carry_no_graph_of_finished_transforms():
    # as PyTorch's: only arguments or captured tensors that require grad keep a graph
    y, x = _t(2, 3), _t(3, seed=1)
    r = grad(lambda w: vmap(jacrev(lambda a: (a * w).tanh().sum()))(y).sum())(x)
    assert not r.requires_grad
    _, _, aux = jvp(lambda a: (a.exp(), {"k": a * 2}), (x,), (x,), has_aux=True)
    assert not aux["k"].requires_grad
    _close(aux["k"], 2 * x)
    j, aux = jacfwd(lambda a: (a.exp(), a.sum()), has_aux=True)(x)
    assert not aux.requires_grad and not j.requires_grad
    assert grad(lambda a: (a ** 3).sum())(x.clone().requires_grad_()).requires_grad
