"""Issue 13, point 4, continued: torch.linalg's everyday rest (solve_triangular, vecdot,
multi_dot, matrix_rank, cond, vander, tensorinv, tensorsolve), the scaled products (addmm and
kin, inner, vdot), cholesky_solve/inverse, the LU family, and matmul's node names. Gradients
against finite differences in float64, values against numpy, names and errors as PyTorch
2.13's."""
from __future__ import annotations

import numpy as np
import pytest

import tapegrad
from tapegrad.autograd import gradcheck, gradgradcheck

LA = tapegrad.linalg


def _t(*shape, seed=0, grad=True):
    rng = np.random.default_rng(seed)
    return tapegrad.tensor(rng.standard_normal(shape), requires_grad=grad)


def _np(t):
    return t.detach().numpy()


EXTRA_GRADCHECKS = {
    "solve_triangular": (lambda a, b: (LA.solve_triangular(a, b, upper=True),
                                       LA.solve_triangular(a, b, upper=False,
                                                           unitriangular=True)),
                         [_t(2, 3, 3, grad=False) + 3 * tapegrad.eye(3, dtype=tapegrad.float64),
                          _t(3, 2)]),
    "solve_triangular_right": (lambda a, b: LA.solve_triangular(a, b, upper=False, left=False),
                               [_t(3, 3, grad=False) + 3 * tapegrad.eye(3, dtype=tapegrad.float64),
                                _t(2, 2, 3)]),
    "vecdot": (lambda a, b: LA.vecdot(a, b, dim=0), [_t(3, 2), _t(3, 1, seed=1)]),
    "multi_dot": (lambda a, b, c: LA.multi_dot([a, b, c]), [_t(3), _t(3, 4), _t(4, 2)]),
    "cond": (lambda a: (LA.cond(a), LA.cond(a, -2), LA.cond(a, "fro"), LA.cond(a, 1)),
             [_t(2, 3, 3)]),
}


@pytest.mark.parametrize("name", sorted(EXTRA_GRADCHECKS))
def test_gradcheck_more(name):
    fn, inputs = EXTRA_GRADCHECKS[name]
    inputs = [x.detach().requires_grad_() for x in inputs]
    assert gradcheck(fn, inputs)


def test_more_linalg_values():
    a = _t(2, 3, 3, grad=False) + 3 * tapegrad.eye(3, dtype=tapegrad.float64)
    b = _t(3, 2, seed=1, grad=False)
    up = np.triu(_np(a))
    np.testing.assert_allclose(_np(LA.solve_triangular(a, b, upper=True)),
                               np.linalg.solve(up, _np(b)))
    low1 = np.tril(_np(a), -1) + np.eye(3)
    np.testing.assert_allclose(_np(LA.solve_triangular(a, b.mT, upper=False, left=False,
                                                       unitriangular=True)),
                               _np(b.mT) @ np.linalg.inv(low1))
    assert type(LA.solve_triangular(a.requires_grad_(), b, upper=True).grad_fn).__name__ == \
        "LinalgSolveTriangularBackward0"
    m = tapegrad.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 0.0, 1e-9]],
                        dtype=tapegrad.float64)
    assert LA.matrix_rank(m).item() == 2 and LA.matrix_rank(m, atol=0.5).item() == 1
    assert LA.matrix_rank(m, hermitian=True).item() == 2
    assert LA.matrix_rank(a).tolist() == [3, 3]
    s = np.linalg.svd(_np(a), compute_uv=False)
    np.testing.assert_allclose(_np(LA.cond(a)), s[..., 0] / s[..., -1])
    np.testing.assert_allclose(_np(LA.cond(a, "fro")), np.linalg.cond(_np(a), "fro"))
    assert LA.cond(tapegrad.tensor([[1.0, 2.0], [2.0, 4.0]]), 1).item() == np.inf
    np.testing.assert_allclose(_np(LA.multi_dot([a[0], a[1], b])), _np(a[0]) @ _np(a[1]) @ _np(b))
    np.testing.assert_allclose(_np(LA.vecdot(a, a)), np.sum(_np(a) ** 2, -1))
    np.testing.assert_allclose(_np(LA.diagonal(a, offset=1)), np.diagonal(_np(a), 1, -2, -1))
    with pytest.raises(RuntimeError, match="multi_dot\\(\\): tensors 0 and 1 with shapes"):
        LA.multi_dot([_t(2, 3), _t(2, 2)])
    with pytest.raises(RuntimeError, match="equation AX = B \\(3x3 and 2x2\\)"):
        LA.solve_triangular(a, _t(2, 2), upper=True)


@pytest.mark.parametrize("sa, sb, grads, node", [
    ((3,), (3, 2), (True, True), "SqueezeBackward4"),
    ((4, 2, 3), (4, 3, 2), (True, True), "UnsafeViewBackward0"),
    ((2, 3), (4, 3, 2), (True, True), "CloneBackward0"),
    ((2, 3), (4, 3, 2), (False, True), "UnsafeViewBackward0"),
    ((1, 3), (4, 3, 2), (True, False), "TransposeBackward0"),
    ((1, 2, 3), (4, 3, 2), (True, True), "CloneBackward0"),
    ((1, 1, 2, 3), (4, 3, 2), (True, True), "UnsafeViewBackward0"),
])
def test_matmul_node_names_follow_pytorch_folding(sa, sb, grads, node):
    a = tapegrad.randn(*sa, requires_grad=grads[0])
    b = tapegrad.randn(*sb, requires_grad=grads[1])
    assert type((a @ b).grad_fn).__name__ == node


def _tri(x):
    return tapegrad.tril(x) + 3 * tapegrad.eye(x.shape[-1], dtype=tapegrad.float64)


PRODUCT_GRADCHECKS = {
    "addmm": (lambda i, a, b: tapegrad.addmm(i, a, b, beta=0.5, alpha=2), [_t(3), _t(2, 4),
                                                                           _t(4, 3)]),
    "addmm_beta0": (lambda i, a, b: tapegrad.addmm(i, a, b, beta=0), [_t(2, 3), _t(2, 4),
                                                                      _t(4, 3)]),
    "addmv": (lambda i, a, b: tapegrad.addmv(i, a, b, alpha=3), [_t(2), _t(2, 3), _t(3)]),
    "addr": (lambda i, a, b: i.addr(a, b, beta=2), [_t(2, 3), _t(2), _t(3)]),
    "baddbmm": (lambda i, a, b: tapegrad.baddbmm(i, a, b), [_t(2, 3), _t(2, 2, 4), _t(2, 4, 3)]),
    "addbmm": (lambda i, a, b: tapegrad.addbmm(i, a, b), [_t(2, 3), _t(2, 2, 4), _t(2, 4, 3)]),
    "inner": (lambda a, b: tapegrad.inner(a, b), [_t(2, 3), _t(4, 3)]),
    "vdot": (lambda a, b: tapegrad.vdot(a, b), [_t(3), _t(3)]),
    "cholesky_solve": (lambda b, x: tapegrad.cholesky_solve(b, _tri(x)), [_t(2, 3, 2),
                                                                            _t(3, 3)]),
    "cholesky_solve_upper": (lambda b, x: tapegrad.cholesky_solve(b, _tri(x).mT, upper=True),
                             [_t(3, 2), _t(3, 3)]),
    "cholesky_inverse": (lambda x: tapegrad.cholesky_inverse(_tri(x)), [_t(2, 3, 3)]),
    "cholesky_inverse_upper": (lambda x: tapegrad.cholesky_inverse(_tri(x).mT, upper=True),
                               [_t(3, 3)]),
}


@pytest.mark.parametrize("name", sorted(PRODUCT_GRADCHECKS))
def test_gradcheck_products(name):
    fn, inputs = PRODUCT_GRADCHECKS[name]
    inputs = [x.detach().requires_grad_() for x in inputs]
    assert gradcheck(fn, inputs)


def test_products_values_and_nodes():
    i, a, b = _t(2, 3), _t(2, 4), _t(4, 3)
    out = tapegrad.addmm(i, a, b, beta=0.5, alpha=2)
    np.testing.assert_allclose(_np(out), 0.5 * _np(i) + 2 * _np(a) @ _np(b))
    nan = tapegrad.full((2, 3), float("nan"), dtype=tapegrad.float64)
    assert np.all(np.isfinite(_np(tapegrad.addmm(nan, a, b, beta=0))))
    names = [type(f.grad_fn).__name__ for f in (
        out, tapegrad.addmv(i[:, 0], a[:, :3], b[0]), tapegrad.addr(i, a[:, 0], b[0]),
        tapegrad.baddbmm(i, a.expand(2, 2, 4), b.expand(2, 4, 3)),
        tapegrad.addbmm(i, a.expand(2, 2, 4), b.expand(2, 4, 3)), tapegrad.inner(a, a),
        tapegrad.vdot(b[0], b[1]), tapegrad.cholesky_solve(i.mT, _tri(a[:, :3].mT @ a[:, :3])),
        tapegrad.cholesky_inverse(_tri(a[:, :3].mT @ a[:, :3])))]
    assert names == ["AddmmBackward0", "AddmvBackward0", "AddrBackward0", "BaddbmmBackward0",
                     "AddbmmBackward0", "ViewBackward0", "VdotBackward0",
                     "CholeskySolveBackward0", "CholeskyInverseBackward0"]
    L = _np(_tri(a[:, :3].mT @ a[:, :3]))
    np.testing.assert_allclose(_np(tapegrad.cholesky_inverse(tapegrad.tensor(L))),
                               np.linalg.inv(L @ L.T))
    np.testing.assert_allclose(_np(tapegrad.cholesky_solve(i.mT, tapegrad.tensor(L))),
                               np.linalg.solve(L @ L.T, _np(i.mT)))
    z = i * 1
    z.addmm_(a, b, alpha=2)
    np.testing.assert_allclose(_np(z), _np(i) + 2 * _np(a) @ _np(b))
    assert type(z.grad_fn).__name__ == "AddmmBackward0"
    ints = tapegrad.addmm(tapegrad.ones(2, 2, dtype=tapegrad.int64),
                          tapegrad.ones(2, 2, dtype=tapegrad.int64),
                          tapegrad.ones(2, 2, dtype=tapegrad.int64), alpha=2, beta=3)
    assert ints.dtype == tapegrad.int64 and ints.tolist() == [[7, 7], [7, 7]]
    with pytest.raises(RuntimeError, match="mat1 must be a matrix, got 1-D tensor"):
        tapegrad.addmm(i, a[0], b)


@pytest.mark.parametrize("name", ["cholesky_solve", "cholesky_inverse", "addmm",
                                  "solve_triangular"])
def test_gradgradcheck_more(name):
    fn, inputs = {**PRODUCT_GRADCHECKS, **EXTRA_GRADCHECKS}[name]
    inputs = [x.detach().requires_grad_() for x in inputs]
    assert gradgradcheck(fn, inputs)


def test_vander_tensorinv_tensorsolve():
    x = _t(3)
    v = LA.vander(x, N=4)
    np.testing.assert_allclose(_np(v), np.vander(_np(x), 4, increasing=True))
    assert type(v.grad_fn).__name__ == "CatBackward0"
    assert gradcheck(lambda t: LA.vander(t), [x])
    assert LA.vander(tapegrad.tensor([1, 2, 3])).tolist() == [[1, 1, 1], [1, 2, 4], [1, 3, 9]]
    a = _t(4, 2, 2)
    np.testing.assert_allclose(_np(LA.tensorinv(a, ind=1)), np.linalg.tensorinv(_np(a), ind=1))
    assert gradcheck(lambda t: LA.tensorinv(t, ind=1), [a])
    a6, b = _t(2, 3, 6), _t(2, 3, seed=1)
    np.testing.assert_allclose(_np(LA.tensorsolve(a6, b)), np.linalg.tensorsolve(_np(a6), _np(b)))
    assert gradcheck(lambda p, q: LA.tensorsolve(p, q, dims=(0,)), [_t(6, 2, 3), b])
    with pytest.raises(RuntimeError, match="N must be greater than 1."):
        LA.vander(x, N=1)
    with pytest.raises(RuntimeError, match="prod\\(self.shape\\[ind:\\]\\) == "):
        LA.tensorinv(_t(4, 2, 3), ind=1)


LU_GRADCHECKS = {
    "lu_square": (lambda a: (lambda p, l, u: (l, u))(*LA.lu(a)), [_t(2, 3, 3)]),
    "lu_tall": (lambda a: (lambda p, l, u: (l, u))(*LA.lu(a)), [_t(4, 2)]),
    "lu_wide": (lambda a: (lambda p, l, u: (l, u))(*LA.lu(a)), [_t(2, 2, 4)]),
    "lu_factor": (lambda a: LA.lu_factor(a).LU, [_t(2, 3, 3)]),
    "lu_factor_wide": (lambda a: LA.lu_factor(a).LU, [_t(3, 4)]),
    "lu_solve": (lambda a, b: (lambda f: (LA.lu_solve(f.LU, f.pivots, b),
                                          LA.lu_solve(f.LU, f.pivots, b.mT, left=False,
                                                      adjoint=True)))(LA.lu_factor(a)),
                 [_t(2, 3, 3), _t(3, 2, seed=1)]),
    "lu_unpack": (lambda a: tapegrad.lu_unpack(a, tapegrad.tensor([2, 3, 3], dtype=tapegrad.int32))
                  [1:], [_t(3, 3)]),
}


@pytest.mark.parametrize("name", sorted(LU_GRADCHECKS))
def test_gradcheck_lu(name):
    fn, inputs = LU_GRADCHECKS[name]
    inputs = [x.detach().requires_grad_() for x in inputs]
    assert gradcheck(fn, inputs)


@pytest.mark.parametrize("name", ["lu_square", "lu_solve"])
def test_gradgradcheck_lu(name):
    fn, inputs = LU_GRADCHECKS[name]
    inputs = [x.detach().requires_grad_() for x in inputs]
    assert gradgradcheck(fn, inputs)


def test_lu_values_pivots_and_errors():
    a = tapegrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 10.0]],
                        dtype=tapegrad.float64, requires_grad=True)
    P, L, U = LA.lu(a)
    np.testing.assert_allclose(_np(P @ L @ U), _np(a))
    assert P.tolist() == [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    assert type(L.grad_fn).__name__ == type(U.grad_fn).__name__ == "LinalgLuBackward0"
    LU, piv = LA.lu_factor(a)
    assert piv.tolist() == [3, 3, 3] and piv.dtype == tapegrad.int32
    assert type(LU.grad_fn).__name__ == "LinalgLuFactorExBackward0"
    b = _t(3, 2)
    x = LA.lu_solve(LU, piv, b)
    np.testing.assert_allclose(_np(x), np.linalg.solve(_np(a), _np(b)))
    assert type(x.grad_fn).__name__ == "LinalgLuSolveBackward0"
    np.testing.assert_allclose(_np(tapegrad.lu_solve(b, LU, piv)), _np(x))
    p2, l2, u2 = tapegrad.lu_unpack(LU, piv)
    np.testing.assert_allclose(_np(p2), _np(P))
    np.testing.assert_allclose(_np(l2), _np(L))
    assert type(u2.grad_fn).__name__ == "LuUnpackBackward0"
    ex = LA.lu_factor_ex(tapegrad.zeros(2, 2))
    assert ex.info.item() == 1 and ex.pivots.tolist() == [1, 2]
    with pytest.raises(LA.LinAlgError, match="U\\[1,1\\] is zero"):
        LA.lu_factor(tapegrad.zeros(2, 2, 2))
    with pytest.raises(RuntimeError, match="LU without pivoting is not implemented on the CPU"):
        LA.lu(a, pivot=False)
    tall = LA.lu(_t(5, 3))
    assert tuple(tall.L.shape) == (5, 3) and tuple(tall.U.shape) == (3, 3)


def test_solve_right_batched_vectors_and_ex_variants():
    a = _t(2, 3, 3) + 3 * tapegrad.eye(3, dtype=tapegrad.float64)
    b = _t(2, 3, seed=1)
    x = LA.solve(a, b)  # a batch of vectors: B has A's shape less its last dimension
    np.testing.assert_allclose(_np(x), np.linalg.solve(_np(a), _np(b)[..., None])[..., 0])
    assert type(x.grad_fn).__name__ == "LinalgSolveExBackward0"
    y = LA.solve(a, _t(4, 3, seed=2), left=False)
    np.testing.assert_allclose(_np(y @ a), _np(_t(4, 3, seed=2)).reshape(1, 4, 3).repeat(2, 0))
    assert type(y.grad_fn).__name__ == "LinalgSolveExBackward0"
    assert gradcheck(lambda p, q: (LA.solve(p, q), LA.solve(p, q.unsqueeze(1),
                                                             left=False)),
                     [a.detach().requires_grad_(), b])
    ok = LA.inv_ex(a)
    assert ok.info.tolist() == [0, 0] and ok.info.dtype == tapegrad.int32
    assert type(ok.inverse.grad_fn).__name__ == "LinalgInvExBackward0"
    sing = tapegrad.stack([tapegrad.eye(2), tapegrad.zeros(2, 2)])
    assert LA.inv_ex(sing).info.tolist() == [0, 1]
    bad = LA.inv_ex(tapegrad.tensor([[1.0, 2.0], [2.0, 4.0]]))
    assert bad.info.item() == 2 and not np.all(np.isfinite(_np(bad.inverse)))
    assert LA.solve_ex(a, b).info.tolist() == [0, 0]
    assert LA.solve_ex(tapegrad.tensor([[1.0, 2.0], [2.0, 4.0]]), tapegrad.ones(2, 1)).info == 2
    with pytest.raises(LA.LinAlgError, match="linalg.inv: \\(Batch element 1\\): The diagonal "
                                             "element 1 is zero"):
        LA.inv(sing)
    with pytest.raises(LA.LinAlgError, match="torch.linalg.solve: \\(Batch element 1\\): The "
                                             "solver failed"):
        LA.solve(sing, tapegrad.ones(2, 2, 1))
    with pytest.raises(RuntimeError, match="equation XA = B \\(2x2 and 2x1\\)"):
        LA.solve(tapegrad.eye(2), tapegrad.ones(2), left=False)
