"""Higher-order gradients: for every op in the table, the second derivative (create_graph=True)
against finite differences of the first."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import ELEMENTWISE, call_elementwise, elementwise_inputs, live_records

import tapegrad
from tapegrad.autograd import gradgradcheck
from tapegrad.ops import OPS

# Ops whose second derivative is zero almost everywhere still run through gradgradcheck: the
# check is then that create_graph works through them and yields zeros.


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_second_derivative(name):
    rng = np.random.default_rng(5)
    op = OPS[name]
    for shapes in ([(3, 2)] * op.arity, [(3, 1), (2,), ()][:op.arity]):
        inputs = elementwise_inputs(op, shapes, rng)
        assert gradgradcheck(lambda *xs: call_elementwise(name, xs), inputs, atol=1e-4)


@pytest.mark.parametrize("name", sorted(
    ["sum", "mean", "var", "std", "amax", "amin", "max_dim", "prod", "norm", "logsumexp",
     "cumsum", "softmax", "log_softmax", "matmul", "reshape", "permute", "expand", "getitem",
     "index_put", "cat", "stack", "cumprod", "logcumsumexp", "flip", "roll", "trace", "einsum",
     "linalg_inv", "linalg_det", "linalg_solve"]))
def test_structural_second_derivative(name):
    from test_op_table import STRUCTURAL_SAMPLES
    fn, inputs = STRUCTURAL_SAMPLES[name]
    # Square the output so that ops linear in their input still have a second derivative.
    assert gradgradcheck(lambda *xs: fn(*xs) * fn(*xs), inputs, atol=1e-4)


def test_third_derivative_and_backward_create_graph():
    x = tapegrad.tensor([0.3, -0.7], dtype=tapegrad.float64, requires_grad=True)
    y = (x ** 4).sum()
    with pytest.warns(UserWarning, match="reference cycle"):
        y.backward(create_graph=True)
    g = x.grad
    assert g.requires_grad and g.grad_fn is not None
    np.testing.assert_allclose(g.detach().numpy(), 4 * np.array([0.3, -0.7]) ** 3)
    (g2,) = tapegrad.autograd.grad(g.sum(), x, create_graph=True)
    (g3,) = tapegrad.autograd.grad(g2.sum(), x)
    np.testing.assert_allclose(g2.detach().numpy(), 12 * np.array([0.3, -0.7]) ** 2)
    np.testing.assert_allclose(g3.numpy(), 24 * np.array([0.3, -0.7]))
    x.grad = None  # breaks the parameter <-> gradient cycle, as PyTorch's warning says
    del g, g2, y
    assert live_records() == 0


def test_create_graph_works_with_the_jit_backend():
    x = tapegrad.tensor([0.3, -0.7], dtype=tapegrad.float64, requires_grad=True)
    with tapegrad.backend("jit"):
        (g,) = tapegrad.autograd.grad((x.sin() * x).sum(), x, create_graph=True)
        (h,) = tapegrad.autograd.grad(g.sum(), x)
    a = np.array([0.3, -0.7])
    np.testing.assert_allclose(h.numpy(), 2 * np.cos(a) - a * np.sin(a))
