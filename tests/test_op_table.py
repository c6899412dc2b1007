"""Driven by the op table: every op has a rule, and every rule agrees with finite differences
in float64, on broadcast shapes too. A new elementwise op is picked up with no new test code."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import ELEMENTWISE, call_elementwise, elementwise_inputs

import tapegrad
from tapegrad.autograd import gradcheck
from tapegrad.jit.codegen import RENDER_FUNCTIONS
from tapegrad.ops import FORWARD, OPS, STRUCTURAL

SHAPES = {
    1: [[(3, 4)], [()]],
    2: [[(3, 4), (3, 4)], [(3, 1), (4,)], [(), (2, 3)]],
    3: [[(3, 4), (3, 4), (3, 4)], [(3, 1), (4,), ()]],
}


def test_every_op_has_a_rule():
    for name, op in OPS.items():
        assert op.elementwise or callable(op.vjp), name
        if op.elementwise:
            assert len(op.grads) == op.arity and any(op.grads), name
            assert len(op.domain) == op.arity, name


def test_every_elementwise_op_has_a_forward():
    assert set(ELEMENTWISE) <= set(FORWARD)


def test_every_formula_function_can_be_rendered_by_the_jit():
    import ast
    for name in ELEMENTWISE:
        for formula in OPS[name].grads:
            if formula:
                calls = {n.func.id for n in ast.walk(ast.parse(formula))
                         if isinstance(n, ast.Call)}
                assert calls <= set(RENDER_FUNCTIONS), (name, calls - set(RENDER_FUNCTIONS))


def test_every_structural_op_has_a_sample():
    assert set(STRUCTURAL) <= set(STRUCTURAL_SAMPLES) | {"function", "index_grad", "view_of",
                                                         "view_write"}


def test_every_row_registered_later_is_recorded_by_a_gradchecked_sample():
    # The linear algebra rows register after ops.STRUCTURAL is made (their modules import the
    # table); their samples live in the linalg test files. Run every sample with a forward
    # watcher and check that each row of the table, as registered now, was recorded.
    from tapegrad.registry import FORWARD_WATCHERS
    from test_linalg_breadth import GRADCHECKS
    from test_linalg_more import EXTRA_GRADCHECKS, LU_GRADCHECKS, PRODUCT_GRADCHECKS
    seen = set()

    def watch(rec, inputs, out, ufunc=None):
        if rec is not None:
            seen.add(rec.op.name)
    FORWARD_WATCHERS.append(watch)
    try:
        for table in (GRADCHECKS, EXTRA_GRADCHECKS, PRODUCT_GRADCHECKS, LU_GRADCHECKS):
            for fn, inputs in table.values():
                fn(*inputs)
    finally:
        FORWARD_WATCHERS.remove(watch)
    late = {name for name, op in OPS.items() if not op.elementwise} - set(STRUCTURAL)
    assert late and late - {"linalg_vector_norm0"} <= seen, sorted(late - seen)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_gradcheck(name):
    rng = np.random.default_rng(0)
    op = OPS[name]
    for shapes in SHAPES[op.arity]:
        inputs = elementwise_inputs(op, shapes, rng)
        assert gradcheck(lambda *xs: call_elementwise(name, xs), inputs), shapes


def _x(*shape, low=None):
    rng = np.random.default_rng(1)
    arr = rng.standard_normal(shape) if low is None else rng.uniform(low, low + 1.5, shape)
    return tapegrad.tensor(arr, requires_grad=True)


# op name -> (function, inputs): each structural op exercised through the public API.
STRUCTURAL_SAMPLES = {
    "sum": (lambda x: x.sum(1) + x.sum(dim=(0, 1), keepdim=True), [_x(3, 4)]),
    "mean": (lambda x: x.mean(0, keepdim=True) * x.mean(), [_x(3, 4)]),
    "var": (lambda x: x.var(1) + x.var(), [_x(3, 4)]),
    "std": (lambda x: x.std(0, correction=0), [_x(3, 4)]),
    "amax": (lambda x: x.amax(1) + x.max(), [_x(3, 4)]),
    "amin": (lambda x: x.amin(0) + x.min(), [_x(3, 4)]),
    "max_dim": (lambda x: x.max(1).values + x.min(dim=0, keepdim=True)[0].sum(), [_x(3, 4)]),
    "prod": (lambda x: x.prod(1) + x.prod(), [_x(3, 4)]),
    "norm": (lambda x: x.norm(dim=1) + x.norm(p=1) + x.norm(p=3, dim=0).sum(), [_x(3, 4)]),
    "logsumexp": (lambda x: x.logsumexp(1), [_x(3, 4)]),
    "cumsum": (lambda x: x.cumsum(1), [_x(3, 4)]),
    "softmax": (lambda x: x.softmax(-1), [_x(3, 4)]),
    "log_softmax": (lambda x: x.log_softmax(0), [_x(3, 4)]),
    "matmul": (lambda a, b: (a @ b).sum() + (a[0] @ b) .sum() + (a @ b[:, 0]).sum()
               + a[0].dot(a[1]) + (a.reshape(3, 2, 2) @ a.reshape(3, 2, 2)).sum()
               + (a[0] @ b.reshape(2, 4, 1)).sum(), [_x(3, 4), _x(4, 2)]),
    "reshape": (lambda x: x.reshape(2, 6).view(12).unsqueeze(0).squeeze(0).flatten() * 2,
                [_x(3, 4)]),
    "permute": (lambda x: (x.permute(1, 0) @ x).sum() + x.T.transpose(0, 1) * 2, [_x(3, 4)]),
    "expand": (lambda x: x.expand(2, 3, 4) * x.unsqueeze(0), [_x(3, 4)]),
    "getitem": (lambda x: x[1:, [0, 2, 2]].sum() + x[x > 0].sum() + x[..., None, 1].sum(),
                [_x(3, 4)]),
    "index_put": (lambda x, v: _setitem(x, v), [_x(3, 4), _x(4)]),
    "cat": (lambda a, b: tapegrad.cat([a, b, a], 1), [_x(3, 4), _x(3, 2)]),
    "stack": (lambda a, b: tapegrad.stack([a, b], 1), [_x(3, 4), _x(3, 4)]),
    "cumprod": (lambda x: x.cumprod(1) + tapegrad.cumprod(x, 0), [_x(3, 4)]),
    "logcumsumexp": (lambda x: x.logcumsumexp(1) + tapegrad.logcumsumexp(x, 0), [_x(3, 4)]),
    "flip": (lambda x: x.flip((0, 1)) * x + tapegrad.flip(x, 1), [_x(3, 4)]),
    "roll": (lambda x: x.roll(1, 0) * x + tapegrad.roll(x, 2), [_x(3, 4)]),
    "trace": (lambda x: x.trace() * x, [_x(3, 4)]),
    "einsum": (lambda a, b: tapegrad.einsum("ij,jk->ik", a, b) * 2
               + tapegrad.einsum("ii,jk->k", a[:, :3], b).sum(), [_x(3, 4), _x(4, 2)]),
    "linalg_inv": (lambda a: tapegrad.linalg.inv(a[:, :3] + 3 * tapegrad.eye(3)), [_x(3, 4)]),
    "linalg_det": (lambda a: tapegrad.linalg.det(a.reshape(3, 2, 2)), [_x(3, 4)]),
    "linalg_solve": (lambda a, b: tapegrad.linalg.solve(a[:, :3] + 3 * tapegrad.eye(3), b)
                     + tapegrad.linalg.solve(a[:, 1:] + 3 * tapegrad.eye(3), b[:, 0])
                     .unsqueeze(1), [_x(3, 4), _x(3, 2)]),
}


def _setitem(x, v):
    z = x * 1
    z[0] = v
    z[1:, 2] = v[1:3] * 2
    return z


@pytest.mark.parametrize("name", sorted(STRUCTURAL_SAMPLES))
def test_structural_gradcheck(name):
    fn, inputs = STRUCTURAL_SAMPLES[name]
    assert gradcheck(fn, inputs)


def test_gradcheck_catches_a_wrong_rule(monkeypatch):
    # gradcheck itself must be able to fail: corrupt tanh's rule and see it caught.
    op = OPS["tanh"]
    monkeypatch.setattr(op, "grads", ("g * (1 + out * out)",))
    monkeypatch.setattr(op, "_fns", {})
    x = _x(3)
    assert not gradcheck(lambda t: t.tanh(), [x], raise_exception=False)
