"""Issue 13, point 4: torch.linalg's decompositions and the rest (kron, cross, matrix_power,
slogdet/logdet, cholesky, qr, eigh/eigvalsh, svd/svdvals, pinv, lstsq, matrix_exp, matrix_norm,
linalg.norm). Values against numpy, gradients against finite differences in float64 on batched
shapes, second derivatives (create_graph) for a few, grad_fn names and errors as PyTorch 2.13's.
Losses of Q, U, V and eigenvectors are sign invariant, as in PyTorch's own tests."""
from __future__ import annotations

import numpy as np
import pytest

import tapegrad
from tapegrad.autograd import gradcheck, gradgradcheck

LA = tapegrad.linalg


def _t(*shape, seed=0, grad=True):
    rng = np.random.default_rng(seed)
    return tapegrad.tensor(rng.standard_normal(shape), requires_grad=grad)


def _spd(a):
    return a @ a.mT + 3 * tapegrad.eye(a.shape[-1], dtype=tapegrad.float64)


def _sym(a):
    return a + a.mT


def _np(t):
    return t.detach().numpy()


# name -> (function, inputs): every op, batched where PyTorch allows it.
GRADCHECKS = {
    "kron": (lambda a, b: tapegrad.kron(a, b), [_t(2, 3), _t(3, 2, seed=1)]),
    "kron_ranks": (lambda a, b: tapegrad.kron(a, b), [_t(2, 1, 2), _t(3, seed=1)]),
    "cross": (lambda a, b: LA.cross(a, b), [_t(2, 4, 3), _t(1, 4, 3, seed=1)]),
    "cross_dim": (lambda a, b: tapegrad.cross(a, b, dim=0), [_t(3, 2), _t(3, 2, seed=1)]),
    "matrix_power": (lambda a: LA.matrix_power(a, 5) + tapegrad.matrix_power(a, 0)
                     + a.matrix_power(1), [_t(2, 3, 3)]),
    "matrix_power_neg": (lambda a: LA.matrix_power(_spd(a), -3), [_t(2, 3, 3)]),
    "slogdet": (lambda a: LA.slogdet(a).logabsdet, [_t(2, 3, 3)]),
    "logdet": (lambda a: tapegrad.logdet(_spd(a)), [_t(2, 3, 3)]),
    "cholesky": (lambda a: LA.cholesky(_spd(a)), [_t(2, 3, 3)]),
    "cholesky_upper": (lambda a: LA.cholesky(_spd(a), upper=True), [_t(3, 3)]),
    "qr_tall": (lambda a: (lambda q, r: (q @ q.mT, r.abs(), q @ r))(*LA.qr(a)), [_t(2, 4, 3)]),
    "qr_wide": (lambda a: (lambda q, r: (q @ q.mT, r.abs()))(*LA.qr(a)), [_t(2, 3, 5)]),
    "qr_complete_wide": (lambda a: (lambda q, r: (q * q, r * r))(*LA.qr(a, mode="complete")),
                         [_t(2, 4)]),
    "eigh": (lambda a: (lambda w, v: (w, v * v))(*LA.eigh(_sym(a))), [_t(2, 3, 3)]),
    "eigh_upper": (lambda a: (lambda w, v: (w, v @ v.mT))(*LA.eigh(_sym(a), UPLO="U")),
                   [_t(3, 3)]),
    "eigvalsh": (lambda a: LA.eigvalsh(_sym(a)), [_t(2, 3, 3)]),
    "svd_tall": (lambda a: (lambda u, s, vh: (s, u @ vh, u * u, vh * vh))(
        *LA.svd(a, full_matrices=False)), [_t(2, 4, 3)]),
    "svd_wide": (lambda a: (lambda u, s, vh: (s, u @ vh, vh * vh))(
        *LA.svd(a, full_matrices=False)), [_t(2, 3, 4)]),
    "svd_full": (lambda a: (lambda u, s, vh: (s, u[..., :3] @ vh))(*LA.svd(a)), [_t(4, 3)]),
    "svd_torch": (lambda a: (lambda u, s, v: (s, u @ v.mT))(*tapegrad.svd(a)), [_t(2, 4, 3)]),
    "svdvals": (lambda a: LA.svdvals(a), [_t(2, 3, 4)]),
    "pinv": (lambda a: LA.pinv(a), [_t(2, 4, 3)]),
    "pinv_wide": (lambda a: tapegrad.pinverse(a), [_t(3, 5)]),
    "pinv_hermitian": (lambda a: LA.pinv(_spd(a), hermitian=True), [_t(2, 3, 3)]),
    "lstsq": (lambda a, b: LA.lstsq(a, b).solution, [_t(2, 4, 3), _t(4, 2, seed=1)]),
    "lstsq_vector": (lambda a, b: LA.lstsq(a, b).solution, [_t(4, 3), _t(4, seed=1)]),
    "lstsq_residuals": (lambda a, b: LA.lstsq(a, b, driver="gelsd").residuals,
                        [_t(2, 4, 2), _t(2, 4, 3, seed=1)]),
    "matrix_exp": (lambda a: LA.matrix_exp(a), [_t(2, 3, 3)]),
    "matrix_exp_scaled": (lambda a: tapegrad.matrix_exp(4 * a), [_t(3, 3)]),
    "matrix_norm": (lambda a: tuple(LA.matrix_norm(a, o) for o in
                                    ("fro", "nuc", np.inf, -np.inf, 1, -1, 2, -2)),
                    [_t(2, 3, 4)]),
    "matrix_norm_dims": (lambda a: (LA.matrix_norm(a, 1, dim=(2, 0)),
                                    LA.matrix_norm(a, "nuc", dim=(0, 1), keepdim=True)),
                         [_t(3, 2, 4)]),
    "norm": (lambda a: (LA.norm(a, 2), LA.norm(a, -2), LA.norm(a, "nuc"), LA.norm(a),
                        LA.norm(a[0], 3)), [_t(3, 4)]),
}


@pytest.mark.parametrize("name", sorted(GRADCHECKS))
def test_gradcheck(name):
    fn, inputs = GRADCHECKS[name]
    assert gradcheck(fn, inputs)


SECOND_ORDER = ["slogdet", "logdet", "matrix_power_neg", "pinv", "cholesky", "eigh",
                "svd_tall", "matrix_exp", "lstsq", "cross"]


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_gradgradcheck(name):
    fn, inputs = GRADCHECKS[name]
    assert gradgradcheck(fn, inputs)


def test_values_match_numpy():
    a, b = _t(2, 3, 3), _t(2, 4, 3, seed=1)
    an, bn = _np(a), _np(b)
    np.testing.assert_allclose(_np(tapegrad.kron(a[0], b[0])), np.kron(an[0], bn[0]))
    np.testing.assert_allclose(_np(LA.cross(a, a.flip(-1))), np.cross(an, an[..., ::-1]))
    for n in (-3, -1, 0, 1, 2, 7):
        np.testing.assert_allclose(_np(LA.matrix_power(a, n)),
                                   np.linalg.matrix_power(an, n), rtol=1e-9, atol=1e-12)
    sign, logabs = LA.slogdet(a)
    ref = np.linalg.slogdet(an)
    np.testing.assert_allclose(_np(sign), ref[0])
    np.testing.assert_allclose(_np(logabs), ref[1])
    s = _spd(a)
    L = LA.cholesky(s)
    np.testing.assert_allclose(_np(L @ L.mT), _np(s))
    np.testing.assert_allclose(_np(LA.cholesky(s, upper=True)), np.swapaxes(_np(L), -1, -2))
    for mode in ("reduced", "complete"):
        q, r = LA.qr(b, mode=mode)
        np.testing.assert_allclose(_np(q @ r), bn, atol=1e-12)
        k = q.shape[-1]
        np.testing.assert_allclose(_np(q.mT @ q), np.broadcast_to(np.eye(k), (2, k, k)),
                                   atol=1e-12)
    assert tuple(LA.qr(b, mode="r").Q.shape) == (0,)
    w, v = LA.eigh(_sym(a))
    np.testing.assert_allclose(_np(w), np.linalg.eigvalsh(_np(_sym(a))))
    np.testing.assert_allclose(_np(v @ tapegrad.diag_embed(w) @ v.mT), _np(_sym(a)), atol=1e-12)
    np.testing.assert_allclose(_np(LA.eigvalsh(a, UPLO="U")), np.linalg.eigvalsh(an, UPLO="U"))
    u, sv, vh = LA.svd(b)
    assert tuple(u.shape) == (2, 4, 4) and tuple(vh.shape) == (2, 3, 3)
    np.testing.assert_allclose(_np(sv), np.linalg.svd(bn, compute_uv=False))
    np.testing.assert_allclose(_np(LA.svdvals(b)), np.linalg.svd(bn, compute_uv=False))
    np.testing.assert_allclose(_np(LA.pinv(b)), np.linalg.pinv(bn), atol=1e-12)
    np.testing.assert_allclose(_np(LA.pinv(_sym(a), hermitian=True)),
                               np.linalg.pinv(_np(_sym(a))), atol=1e-10)
    rhs = np.random.default_rng(2).standard_normal((4, 2))
    res = LA.lstsq(b[0], tapegrad.tensor(rhs))
    np.testing.assert_allclose(_np(res.solution), np.linalg.lstsq(bn[0], rhs, rcond=None)[0])
    assert res.rank.item() == 3 and tuple(res.residuals.shape) == (0,)
    assert tuple(res.singular_values.shape) == (0,)
    full = LA.lstsq(b[0], tapegrad.tensor(rhs), driver="gelsd")
    np.testing.assert_allclose(_np(full.residuals), np.linalg.lstsq(bn[0], rhs, rcond=None)[1])
    np.testing.assert_allclose(_np(full.singular_values), np.linalg.svd(bn[0], compute_uv=False))
    for o, npo in (("fro", "fro"), ("nuc", "nuc"), (np.inf, np.inf), (-np.inf, -np.inf),
                   (1, 1), (-1, -1), (2, 2), (-2, -2)):
        np.testing.assert_allclose(_np(LA.matrix_norm(b, o)),
                                   np.linalg.norm(bn, npo, axis=(-2, -1)))
        np.testing.assert_allclose(_np(LA.norm(b[0], o)), np.linalg.norm(bn[0], npo))
    np.testing.assert_allclose(_np(LA.norm(b)), np.linalg.norm(bn))


def test_matrix_exp_matches_eigen_and_series():
    a = _sym(_t(2, 3, 3, grad=False))
    w, v = np.linalg.eigh(_np(a))
    ref = (v * np.exp(w)[..., None, :]) @ np.swapaxes(v, -1, -2)
    np.testing.assert_allclose(_np(LA.matrix_exp(a)), ref, rtol=1e-12)
    big = 6 * _np(_t(3, 3, grad=False))  # scaling and squaring: against a long Taylor series
    term, total = np.eye(3), np.eye(3)
    for k in range(1, 200):
        term = term @ (big / 64) / k
        total = total + term
    for _ in range(6):
        total = total @ total
    np.testing.assert_allclose(_np(LA.matrix_exp(tapegrad.tensor(big))), total, rtol=1e-10)
    f32 = LA.matrix_exp(tapegrad.zeros(2, 2))
    assert f32.dtype == tapegrad.float32 and np.allclose(_np(f32), np.eye(2))


@pytest.mark.filterwarnings("ignore:torch.cholesky is deprecated")
def test_grad_fn_names_and_return_types():
    a, b = _t(3, 3), _t(4, 3, seed=1)
    s = _spd(a).detach().requires_grad_()

    def name(t):
        return type(t.grad_fn).__name__

    assert name(tapegrad.kron(a, b)) == "UnsafeViewBackward0"
    assert name(LA.cross(a, b[:3])) == "LinalgCrossBackward0"
    assert [name(LA.matrix_power(a, n)) for n in (-2, -1, 0, 1, 2)] == [
        "MmBackward0", "LinalgInvExBackward0", "CopyBackwards", "CloneBackward0", "MmBackward0"]
    sd = LA.slogdet(a)
    assert type(sd).__name__ == "linalg_slogdet" and sd._fields == ("sign", "logabsdet")
    assert {name(sd.sign), name(sd.logabsdet)} == {"LinalgSlogdetBackward0"}
    assert type(tapegrad.slogdet(a)).__name__ == "slogdet"
    assert name(tapegrad.logdet(s)) == "WhereBackward0"
    assert name(LA.cholesky(s)) == "LinalgCholeskyExBackward0"
    assert name(tapegrad.cholesky(s)) == "CholeskyBackward0"
    qr = LA.qr(b)
    assert qr._fields == ("Q", "R") and {name(qr.Q), name(qr.R)} == {"LinalgQrBackward0"}
    eh = LA.eigh(s)
    assert eh._fields == ("eigenvalues", "eigenvectors")
    assert {name(eh.eigenvalues), name(eh.eigenvectors), name(LA.eigvalsh(s))} == {
        "LinalgEighBackward0"}
    sv = LA.svd(b)
    assert sv._fields == ("U", "S", "Vh") and {name(t) for t in sv} == {"LinalgSvdBackward0"}
    ts = tapegrad.svd(b)
    assert ts._fields == ("U", "S", "V") and name(ts.V) == "TransposeBackward0"
    assert name(LA.svdvals(b)) == "LinalgSvdBackward0"
    assert name(LA.pinv(b)) == name(tapegrad.pinverse(b)) == "LinalgPinvBackward0"
    ls = LA.lstsq(b, _t(4, 2, seed=2))
    assert ls._fields == ("solution", "residuals", "rank", "singular_values")
    assert name(ls.solution) == name(ls.residuals) == "LinalgLstsqBackward0"
    assert ls.rank.dtype == tapegrad.int64
    assert name(LA.matrix_exp(a)) == "LinalgMatrixExpBackward0"
    assert [name(LA.matrix_norm(b, o)) for o in ("fro", "nuc", np.inf, -np.inf, 2, -2)] == [
        "LinalgVectorNormBackward0", "SumBackward1", "AmaxBackward0", "AminBackward0",
        "AmaxBackward0", "AminBackward0"]
    assert LA.cholesky_ex(tapegrad.tensor([[1.0, 2.0], [2.0, 1.0]])).info.item() == 2


def test_tensor_methods():
    a = _t(3, 3)
    s = _spd(a)
    for m in ("kron", "cross", "matrix_power", "slogdet", "logdet", "matrix_exp", "pinverse",
              "cholesky", "qr", "svd"):
        assert hasattr(tapegrad.Tensor, m), m
    np.testing.assert_allclose(_np(a.matrix_power(2)), _np(a @ a))
    np.testing.assert_allclose(_np(a.kron(a)), np.kron(_np(a), _np(a)))
    np.testing.assert_allclose(_np(s.logdet()), np.log(np.linalg.det(_np(s))))
    assert a.slogdet().sign.shape == ()


def test_values_and_vectors_keep_pytorch_degenerate_behaviour():
    # Repeated eigen-/singular values: the values alone have a finite gradient (an unused
    # output's gradient is undefined in PyTorch, so no division by the zero gap happens).
    eye = tapegrad.eye(3, dtype=tapegrad.float64).requires_grad_()
    LA.eigvalsh(eye).pow(2).sum().backward()
    np.testing.assert_allclose(_np(eye.grad), 2 * np.eye(3))
    eye2 = tapegrad.eye(3, dtype=tapegrad.float64).requires_grad_()
    LA.svdvals(eye2).sum().backward()
    np.testing.assert_allclose(_np(eye2.grad), np.eye(3))
    # ... while the eigenvectors' gradient divides by it, as PyTorch's formula does.
    eye3 = tapegrad.eye(3, dtype=tapegrad.float64).requires_grad_()
    w, v = LA.eigh(eye3)
    (v[:, 0] * tapegrad.arange(3.0, dtype=tapegrad.float64)).sum().backward()
    assert not np.all(np.isfinite(_np(eye3.grad)))


@pytest.mark.parametrize("fn, message", [
    (lambda: LA.cholesky(_t(2, 3)), "linalg.cholesky: A must be batches of square matrices, "
     "but they are 2 by 3 matrices"),
    (lambda: LA.cholesky(tapegrad.tensor([[1.0, 2.0], [2.0, 1.0]])),
     "linalg.cholesky: The factorization could not be completed because the input is not "
     "positive-definite (the leading minor of order 2 is not positive-definite)."),
    (lambda: LA.cholesky(tapegrad.stack([tapegrad.eye(2), -tapegrad.eye(2)])),
     "linalg.cholesky: (Batch element 1): The factorization could not be completed because the "
     "input is not positive-definite (the leading minor of order 1 is not positive-definite)."),
    (lambda: LA.cholesky(tapegrad.tensor([1.0, 2.0])),
     "linalg.cholesky: The input tensor A must have at least 2 dimensions."),
    (lambda: LA.cholesky(tapegrad.eye(2, dtype=tapegrad.int64)),
     "linalg.cholesky: Expected a floating point or complex tensor as input. Got Long"),
    (lambda: LA.matrix_power(_t(2, 3), 2),
     "linalg.matrix_power: A must be batches of square matrices, but they are 2 by 3 matrices"),
    (lambda: LA.cross(_t(2, 2), _t(2, 2)),
     "linalg.cross: inputs dimension -1 must have length 3. Got 2 and 2"),
    (lambda: LA.cross(_t(2, 3), _t(3)),
     "linalg.cross: inputs must have the same number of dimensions."),
    (lambda: LA.qr(_t(2, 3), mode="x"), "qr received unrecognized mode 'x' but expected one of "
     "'reduced' (default), 'r', or 'complete'"),
    (lambda: LA.matrix_norm(_t(3)),
     "linalg.matrix_norm: The input tensor A must have at least 2 dimensions."),
    (lambda: LA.matrix_norm(_t(2, 3), 3), "linalg.matrix_norm: Order 3 not supported."),
    (lambda: LA.norm(_t(2, 2, 2), 2), "linalg.norm: If dim is not specified but ord is, the "
     "input must be 1D or 2D. Got 3D."),
    (lambda: LA.lstsq(_t(3, 2), tapegrad.ones(3, 1)), "torch.linalg.lstsq: Expected input and "
     "other to have the same dtype, but got input's dtype Double and other's dtype Float"),
    (lambda: LA.qr(_t(3, 2), mode="r").R.sum().backward(), "The derivative of linalg.qr depends "
     "on Q, which is not computed when mode='r'."),
    (lambda: LA.qr(_t(3, 2), mode="complete").Q.sum().backward(), "The QR decomposition is not "
     "differentiable when mode='complete' and nrows > ncols."),
])
def test_errors(fn, message):
    with pytest.raises(RuntimeError) as info:
        fn()
    assert str(info.value).startswith(message)


def test_cholesky_error_is_a_linalg_error():
    with pytest.raises(LA.LinAlgError):
        LA.cholesky(tapegrad.tensor([[1.0, 2.0], [2.0, 1.0]]))


FORWARD_MODE = ["eigh", "svd_tall", "qr_tall", "cholesky", "slogdet", "pinv", "lstsq",
                "matrix_exp", "cross", "kron", "matrix_norm"]


@pytest.mark.parametrize("name", FORWARD_MODE)
def test_forward_mode_matches_finite_differences(name):
    # The rules are tensor-form, so forward mode transposes them; a zero cotangent there must
    # still take the full formula (not the "unused output" shortcut).
    from tapegrad.autograd import forward_ad as fwAD
    fn, inputs = GRADCHECKS[name]
    rng = np.random.default_rng(3)
    xs = [_np(x) for x in inputs]
    ts = [rng.standard_normal(x.shape) for x in xs]

    def scalar(*args):
        outs = fn(*args)
        outs = (outs,) if isinstance(outs, tapegrad.Tensor) else outs
        total = None
        for k, o in enumerate(outs):
            term = (o.sin() * (k + 1)).sum()
            total = term if total is None else total + term
        return total

    with fwAD.dual_level():
        duals = [fwAD.make_dual(tapegrad.tensor(x), tapegrad.tensor(t)) for x, t in zip(xs, ts)]
        jvp = fwAD.unpack_dual(scalar(*duals)).tangent.item()
    eps = 1e-6
    plus = scalar(*[tapegrad.tensor(x + eps * t) for x, t in zip(xs, ts)]).item()
    minus = scalar(*[tapegrad.tensor(x - eps * t) for x, t in zip(xs, ts)]).item()
    assert abs(jvp - (plus - minus) / (2 * eps)) < 1e-5 * max(1.0, abs(jvp))


def test_deprecated_spellings_warn_as_pytorch():
    import tapegrad.forward.linalg as fl
    fl._WARNED.discard("cross")
    fl._WARNED.discard("cholesky")
    with pytest.warns(UserWarning, match="Using torch.cross without specifying the dim arg"):
        c = tapegrad.cross(_t(3, 2), _t(3, 2, seed=1))
    assert tuple(c.shape) == (3, 2)
    with pytest.warns(UserWarning, match="torch.cholesky is deprecated"):
        tapegrad.cholesky(_spd(_t(2, 2)))


def test_norm_corner_cases():
    x = tapegrad.tensor([1.0, 0.0, 2.0], requires_grad=True)
    n0 = LA.vector_norm(x, 0)
    assert n0.item() == 2.0 and type(n0.grad_fn).__name__ == "LinalgVectorNormBackward0"
    n0.backward()
    assert x.grad is None  # PyTorch's gradient of ord 0 is undefined
    assert LA.norm(x, 0).item() == 2.0
    with pytest.raises(RuntimeError, match="linalg.matrix_norm: The input tensor A must have"):
        LA.norm(x, "fro")
    with pytest.raises(RuntimeError, match="dim must be a 2-tuple"):
        LA.norm(_t(3, 3), "fro", dim=1)
    with pytest.raises(TypeError, match="argument 'ord' .* must be Number, not str"):
        LA.vector_norm(x, "fro")
    with pytest.raises(TypeError, match="argument 'n' .* must be int, not float"):
        LA.matrix_power(_t(2, 2), 2.0)
    with pytest.raises(RuntimeError, match="expected scalar type Long but found Float"):
        LA.cross(tapegrad.tensor([1, 0, 0]), tapegrad.tensor([0.0, 1.0, 0.0]))


def test_singular_slogdet_gradient_is_infinite_as_pytorch():
    a = tapegrad.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=tapegrad.float64, requires_grad=True)
    sign, logabs = LA.slogdet(a)
    assert sign.item() == 0 and logabs.item() == -np.inf
    logabs.backward()
    assert np.all(np.isinf(_np(a.grad)))


def test_det_of_a_singular_matrix_has_the_cofactor_gradient():
    # d det(A) / dA is the cofactor matrix, singular A included (PyTorch 2.13 gives zeros
    # for this rank-1 matrix; README says where tapegrad differs).
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    A = tapegrad.tensor(a, requires_grad=True)
    tapegrad.linalg.det(A).backward()
    np.testing.assert_allclose(A.grad.numpy(), [[4.0, -2.0], [-2.0, 1.0]], atol=1e-12)
    eps, fd = 1e-6, np.zeros((2, 2))
    for i in range(2):
        for j in range(2):
            d = np.zeros((2, 2))
            d[i, j] = eps
            fd[i, j] = (np.linalg.det(a + d) - np.linalg.det(a - d)) / (2 * eps)
    np.testing.assert_allclose(A.grad.numpy(), fd, atol=1e-6)


def test_torch_norm_nuc_is_the_nuclear_norm():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    A = tapegrad.tensor(a, requires_grad=True)
    n = tapegrad.norm(A, p="nuc")
    n.backward()
    u, s, vh = np.linalg.svd(a)
    np.testing.assert_allclose(n.item(), s.sum(), rtol=1e-12)
    np.testing.assert_allclose(A.grad.numpy(), u @ vh, rtol=1e-10)  # d||A||_* = U V^T
    assert A.norm(p="nuc", dim=(0, 1), keepdim=True).shape == (1, 1)
