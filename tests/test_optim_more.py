"""Issue 14, part 4: more optimizers, schedulers, gradient clipping. Each optimizer is checked
against its update written out here by hand; LBFGS and the schedulers against values recorded
with PyTorch 2.14 (CPU)."""
import math

import numpy as np
import pytest

import tapegrad as torch
from tapegrad.optim import lr_scheduler as L

P0 = np.array([0.5, -1.5, 2.0])


def _grad(p):
    return 2 * p + np.sin(p)  # the gradient of sum(p^2 - cos p)


def _run(make, steps=3):
    p = torch.tensor(P0.copy(), requires_grad=True)
    opt = make([p])
    out = []
    for _ in range(steps):
        opt.zero_grad()
        (p * p - p.cos()).sum().backward()
        opt.step()
        out.append(p.detach().numpy().copy())
    return out


def _check(make, reference, steps=3):
    got = _run(make, steps)
    p = P0.copy()
    ref = reference()
    for k in range(steps):
        p = ref(p, _grad(p), k + 1)
        np.testing.assert_allclose(got[k], p, rtol=1e-12, atol=1e-14)


def test_adagrad():
    lr, decay, eps, init = 0.1, 0.01, 1e-10, 0.2

    def reference():
        s = np.full(3, init)

        def step(p, g, t):
            s[:] = s + g * g
            return p - lr / (1 + (t - 1) * decay) * g / (np.sqrt(s) + eps)
        return step
    _check(lambda ps: torch.optim.Adagrad(ps, lr=lr, lr_decay=decay,
                                          initial_accumulator_value=init), reference)


def test_adadelta_with_weight_decay():
    lr, rho, eps, wd = 0.5, 0.8, 1e-6, 0.1

    def reference():
        v, u = np.zeros(3), np.zeros(3)

        def step(p, g, t):
            g = g + wd * p
            v[:] = rho * v + (1 - rho) * g * g
            d = np.sqrt(u + eps) / np.sqrt(v + eps) * g
            u[:] = rho * u + (1 - rho) * d * d
            return p - lr * d
        return step
    _check(lambda ps: torch.optim.Adadelta(ps, lr=lr, rho=rho, weight_decay=wd), reference)


def test_adamax():
    lr, b1, b2, eps = 0.01, 0.9, 0.99, 1e-8

    def reference():
        m, u = np.zeros(3), np.zeros(3)

        def step(p, g, t):
            m[:] = b1 * m + (1 - b1) * g
            u[:] = np.maximum(b2 * u, np.abs(g) + eps)
            return p - lr / (1 - b1 ** t) * m / u
        return step
    _check(lambda ps: torch.optim.Adamax(ps, lr=lr, betas=(b1, b2)), reference)


def test_nadam():
    lr, b1, b2, eps, psi = 0.01, 0.9, 0.999, 1e-8, 4e-3

    def reference():
        m, v = np.zeros(3), np.zeros(3)
        prod = [np.float32(1.0)]  # PyTorch keeps mu_product as a float32 tensor

        def step(p, g, t):
            mu = b1 * (1 - 0.5 * 0.96 ** (t * psi))
            mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
            prod[0] = np.float32(prod[0] * mu)
            m[:] = b1 * m + (1 - b1) * g
            v[:] = b2 * v + (1 - b2) * g * g
            denom = np.sqrt(v / (1 - b2 ** t)) + eps
            p = p - lr * (1 - mu) / (1 - float(prod[0])) * g / denom
            return p - lr * mu_next / (1 - float(prod[0]) * mu_next) * m / denom
        return step
    _check(lambda ps: torch.optim.NAdam(ps, lr=lr), reference)


@pytest.mark.parametrize("b2", [0.999, 0.5])  # 0.5: rho_t > 5 never holds; 0.999 after 6 steps
def test_radam(b2):
    lr, b1, eps = 0.01, 0.9, 1e-8

    def reference():
        m, v = np.zeros(3), np.zeros(3)

        def step(p, g, t):
            m[:] = b1 * m + (1 - b1) * g
            v[:] = b2 * v + (1 - b2) * g * g
            mhat = m / (1 - b1 ** t)
            rho_inf = 2 / (1 - b2) - 1
            rho_t = rho_inf - 2 * t * b2 ** t / (1 - b2 ** t)
            if rho_t > 5:
                r = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                              / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                return p - lr * mhat * r * math.sqrt(1 - b2 ** t) / (np.sqrt(v) + eps)
            return p - lr * mhat
        return step
    _check(lambda ps: torch.optim.RAdam(ps, lr=lr, betas=(b1, b2)), reference, steps=8)


def test_optimizer_messages_and_printed_form():
    p = torch.zeros(1, requires_grad=True)
    with pytest.raises(ValueError, match="Invalid lr_decay value: -1"):
        torch.optim.Adagrad([p], lr_decay=-1)
    with pytest.raises(ValueError, match="Invalid rho value: 2"):
        torch.optim.Adadelta([p], rho=2)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 1.0"):
        torch.optim.Adamax([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Invalid momentum_decay value: -0.1"):
        torch.optim.NAdam([p], momentum_decay=-0.1)
    # PyTorch 2.14's printed form.
    assert repr(torch.optim.Adagrad([p])) == "\n".join([
        "Adagrad (", "Parameter Group 0", "    differentiable: False", "    eps: 1e-10",
        "    foreach: None", "    fused: None", "    initial_accumulator_value: 0",
        "    lr: 0.01", "    lr_decay: 0", "    maximize: False", "    weight_decay: 0", ")"])
    assert repr(torch.optim.NAdam([p])) == "\n".join([
        "NAdam (", "Parameter Group 0", "    betas: (0.9, 0.999)", "    capturable: False",
        "    decoupled_weight_decay: False", "    differentiable: False", "    eps: 1e-08",
        "    foreach: None", "    lr: 0.002", "    maximize: False", "    momentum_decay: 0.004",
        "    weight_decay: 0", ")"])


def _rosenbrock_lbfgs(line_search_fn):
    p = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([p], lr=1, max_iter=20, line_search_fn=line_search_fn)

    def closure():
        opt.zero_grad()
        x, y = p[0], p[1]
        loss = (1 - x) ** 2 + 100 * (y - x * x) ** 2
        loss.backward()
        return loss

    for _ in range(3):
        opt.step(closure)
    return p.detach().numpy(), opt.state[p]


def test_lbfgs_matches_pytorch():
    # Fixed steps on Rosenbrock amplify rounding: equal to 1e-15 after 5 iterations, 1e-13
    # after 20 (PyTorch's dot products round differently), 7e-7 after 60.
    for iters, expected, rtol in ((5, [-1.4105621061808535, 2.004367900333712], 1e-14),
                                  (20, [-0.781122729831648, 0.6131352916809746], 1e-11)):
        p = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([p], lr=1, max_iter=iters)

        def closure():
            opt.zero_grad()
            loss = (1 - p[0]) ** 2 + 100 * (p[1] - p[0] * p[0]) ** 2
            loss.backward()
            return loss

        opt.step(closure)
        np.testing.assert_allclose(p.detach().numpy(), expected, rtol=rtol)
    p, st = _rosenbrock_lbfgs(None)
    np.testing.assert_allclose(p, [1.054969018030194, 0.8137053551938505], rtol=1e-5)
    assert (st["func_evals"], st["n_iter"]) == (60, 60)


def test_lbfgs_strong_wolfe_matches_pytorch():
    p, st = _rosenbrock_lbfgs("strong_wolfe")
    np.testing.assert_allclose(p, [0.9999979943196398, 0.9999973438921637], rtol=1e-9)
    assert (st["func_evals"], st["n_iter"]) == (53, 41)
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        q = torch.zeros(1, requires_grad=True)
        opt = torch.optim.LBFGS([q], line_search_fn="armijo")
        opt.step(lambda: ((q - 1) ** 2).sum().backward() or ((q - 1) ** 2).sum())


# ---- schedulers ---------------------------------------------------------------------------
def _lrs(make, n):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=1.0)
    s = make(opt)
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        s.step()
    return out


# Recorded with PyTorch 2.14.
SCHEDULES = {
    "exp": (lambda o: L.ExponentialLR(o, 0.5), [1.0, 0.5, 0.25, 0.125, 0.0625]),
    "multistep": (lambda o: L.MultiStepLR(o, [2, 5, 5], 0.1),
                  [1.0, 1.0, 0.1, 0.1, 0.1, 0.001, 0.001, 0.001]),
    "lambda": (lambda o: L.LambdaLR(o, lambda e: 1 / (e + 1)), [1.0, 0.5, 1 / 3, 0.25, 0.2]),
    "mult": (lambda o: L.MultiplicativeLR(o, lambda e: 0.9), [1.0, 0.9, 0.81, 0.729, 0.6561]),
    "linear": (lambda o: L.LinearLR(o, 0.25, 1.0, 4),
               [0.25, 0.4375, 0.625, 0.8125, 1.0, 1.0, 1.0]),
    "constant": (lambda o: L.ConstantLR(o, 0.5, 3), [0.5, 0.5, 0.5, 1.0, 1.0, 1.0]),
    "seq": (lambda o: L.SequentialLR(o, [L.ConstantLR(o, 0.1, 2), L.ExponentialLR(o, 0.9)],
                                     [3]),
            [0.1, 0.1, 1.0, 1.0, 0.9, 0.81, 0.729, 0.6561]),
    "chain": (lambda o: L.ChainedScheduler([L.ConstantLR(o, 0.1, 2), L.ExponentialLR(o, 0.9)]),
              [0.1, 0.09, 0.81, 0.729, 0.6561, 0.59049]),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_scheduler_matches_pytorch(name):
    make, expected = SCHEDULES[name]
    np.testing.assert_allclose(_lrs(make, len(expected)), expected, rtol=1e-12)


def test_reduce_lr_on_plateau():
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=1.0)
    s = L.ReduceLROnPlateau(opt, patience=2, factor=0.5, cooldown=1)
    out = []
    for m in [5, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3]:
        s.step(m)
        out.append(opt.param_groups[0]["lr"])
    assert out == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25]
    with pytest.raises(ValueError, match="Factor should be < 1.0."):
        L.ReduceLROnPlateau(opt, factor=1.0)


def test_step_lr_and_cosine_still_work():
    assert _lrs(lambda o: L.StepLR(o, 2, 0.5), 5) == [1.0, 1.0, 0.5, 0.5, 0.25]
    got = _lrs(lambda o: L.CosineAnnealingLR(o, 4), 5)
    np.testing.assert_allclose(got, [(1 + math.cos(math.pi * e / 4)) / 2 for e in range(5)],
                               atol=1e-12)


# ---- nn.utils --------------------------------------------------------------------------
def test_clip_grad_norm_and_value():
    a = torch.tensor([3.0, 4.0], requires_grad=True)
    b = torch.tensor([12.0], requires_grad=True)
    a.grad = torch.tensor([3.0, 4.0])
    b.grad = torch.tensor([12.0])
    n = torch.nn.utils.clip_grad_norm_([a, b], 1.0)
    assert n.item() == 13.0
    coef = 1.0 / (13.0 + 1e-6)
    np.testing.assert_allclose(a.grad.numpy(), np.float32([3 * coef, 4 * coef]), rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), [0.9230768681], rtol=1e-6)  # PyTorch's value
    a.grad = torch.tensor([3.0, -4.0])
    n = torch.nn.utils.clip_grad_norm_(a, 2.0, norm_type=math.inf)
    assert n.item() == 4.0
    np.testing.assert_allclose(a.grad.numpy(), [1.4999996424, -1.9999995232], rtol=1e-6)
    a.grad = torch.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from "
                                           "`parameters` is non-finite"):
        torch.nn.utils.clip_grad_norm_([a], 1.0, error_if_nonfinite=True)
    a.grad = torch.tensor([3.0, -4.0])
    torch.nn.utils.clip_grad_value_([a], 3.5)
    assert a.grad.tolist() == [3.0, -3.5]


def test_parameters_to_vector_and_back():
    model = torch.nn.Linear(3, 2)
    vec = torch.nn.utils.parameters_to_vector(model.parameters())
    assert vec.shape == (8,)
    np.testing.assert_array_equal(vec.detach().numpy()[:6],
                                  model.weight.detach().numpy().ravel())
    torch.nn.utils.vector_to_parameters(torch.arange(8.0), model.parameters())
    assert model.weight.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert model.bias.tolist() == [6.0, 7.0]
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        torch.nn.utils.vector_to_parameters([1.0], model.parameters())
