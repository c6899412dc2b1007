"""numpy functions on tensors (issue 9): every supported function differentiates through
``tapegrad.grad`` and agrees with finite differences of numpy's own function (float64), alone
and inside a larger expression; everything else raises, naming the function."""
from __future__ import annotations

import numpy as np
import pytest

import tapegrad
from tapegrad.numpy_api import HANDLED, UFUNCS

R = np.random.default_rng(0)
X = R.standard_normal((3, 4))
V4 = R.standard_normal(4)
V3 = R.standard_normal(3)
B42 = R.standard_normal((4, 2))
M = R.standard_normal((3, 3)) + 3 * np.eye(3)
B3 = R.standard_normal((3, 2))


def w(*shape, low=None, seed=1):
    rng = np.random.default_rng(seed)
    if low is not None:
        return rng.uniform(low, low + 0.8, shape)
    return rng.standard_normal(shape)


def _sum(out):
    """A scalar from any result, weighted so a permutation or a lost element shows."""
    if isinstance(out, (list, tuple)):
        return sum(_sum(o) * (k + 1) for k, o in enumerate(out))
    weights = np.cos(np.arange(int(np.size(out))).reshape(np.shape(out)) + 0.5)
    return np.sum(out * weights)


# id -> (function of w written with numpy, w). Each is evaluated on numpy arrays for the
# reference values and finite differences, and on tapegrad tensors for the gradient.
CASES = {
    "dot_mv": (lambda a: np.dot(X, a), w(4)),
    "dot_vm": (lambda a: np.dot(a, X.T), w(4)),
    "dot_nd": (lambda a: np.dot(a, B42), w(2, 3, 4)),
    "dot_scalar": (lambda a: np.dot(a, 2.5), w(3)),
    "vdot": (lambda a: np.vdot(a, X), w(3, 4)),
    "matmul": (lambda a: np.matmul(X, a), w(4, 2)),
    "matmul_operator_array_first": (lambda a: X @ a, w(4)),
    "inner": (lambda a: np.inner(a, X), w(4)),
    "outer": (lambda a: np.outer(a, V3), w(4)),
    "outer_array_first": (lambda a: np.outer(V3, a), w(2, 2)),
    "tensordot_int": (lambda a: np.tensordot(a, B42, axes=1), w(3, 4)),
    "tensordot_lists": (lambda a: np.tensordot(X, a, axes=([0, 1], [1, 0])), w(4, 3)),
    "einsum_mm": (lambda a: np.einsum("ij,jk->ik", X, a), w(4, 2)),
    "einsum_diag": (lambda a: np.einsum("ii->i", a), w(3, 3)),
    "einsum_implicit": (lambda a: np.einsum("ij,ij", a, X), w(3, 4)),
    "einsum_ellipsis": (lambda a: np.einsum("...j,jk->...k", a, B42), w(2, 3, 4)),
    "einsum_three": (lambda a: np.einsum("ij,jk,kl->il", X, a, B42), w(4, 4)),
    "einsum_repeat_with_free": (lambda a: np.einsum("iij,k->ijk", a, V3), w(3, 3, 2)),
    "einsum_sum_out": (lambda a: np.einsum("ij->j", a), w(3, 4)),
    "trace": (lambda a: np.trace(a), w(3, 3)),
    "trace_offset_nd": (lambda a: np.trace(a, offset=1, axis1=1, axis2=2), w(2, 3, 4)),
    "diag_vector": (lambda a: np.diag(a, k=1), w(3)),
    "diag_matrix": (lambda a: np.diag(a, -1), w(3, 4)),
    "diagonal": (lambda a: np.diagonal(a, offset=1, axis1=0, axis2=2), w(3, 2, 4)),
    "sum": (lambda a: np.sum(a, axis=1, keepdims=True), w(3, 4)),
    "sum_all": (lambda a: np.sum(a * X), w(3, 4)),
    "mean": (lambda a: np.mean(a, axis=(0, 1)), w(3, 4, 2)),
    "prod": (lambda a: np.prod(a, axis=0), w(3, 4)),
    "prod_with_zero": (lambda a: np.prod(a * np.array([1.0, 0.0, 1.0])), w(3)),
    "cumsum": (lambda a: np.cumsum(a, axis=1), w(3, 4)),
    "cumsum_flat": (lambda a: np.cumsum(a), w(3, 4)),
    "cumprod": (lambda a: np.cumprod(a, axis=1), w(3, 4)),
    "cumprod_with_zero": (lambda a: np.cumprod(a * np.array([1.0, 0.0, 1.0, 1.0])), w(4)),
    "max": (lambda a: np.max(a, axis=0), w(3, 4)),
    "min": (lambda a: np.min(a), w(3, 4)),
    "amax": (lambda a: np.amax(a, axis=1, keepdims=True), w(3, 4)),
    "amin": (lambda a: np.amin(a, axis=(0, 1)), w(3, 4)),
    "argmax": (lambda a: a[np.argmax(a)] * 2, w(5)),
    "argmin": (lambda a: a[np.argmin(a, axis=0), np.arange(4)], w(3, 4)),
    "std": (lambda a: np.std(a, axis=0), w(3, 4)),
    "std_ddof": (lambda a: np.std(a, ddof=1, dtype=np.float64), w(3, 4)),
    "var": (lambda a: np.var(a, axis=1, keepdims=True), w(3, 4)),
    "var_ddof": (lambda a: np.var(a, ddof=1), w(5)),
    "ptp": (lambda a: np.ptp(a, axis=1), w(3, 4)),
    "reshape": (lambda a: np.reshape(a, (4, 3)) @ X, w(3, 4)),
    "reshape_method": (lambda a: a.reshape(2, 6), w(3, 4)),
    "ravel": (lambda a: np.ravel(a), w(3, 4)),
    "transpose": (lambda a: np.transpose(a, (2, 0, 1)), w(2, 3, 4)),
    "transpose_default": (lambda a: np.transpose(a) @ X, w(3, 4)),
    "swapaxes": (lambda a: np.swapaxes(a, 0, 2), w(2, 3, 4)),
    "moveaxis": (lambda a: np.moveaxis(a, 0, -1), w(2, 3, 4)),
    "squeeze": (lambda a: np.squeeze(a, axis=1), w(3, 1, 4)),
    "expand_dims": (lambda a: np.expand_dims(a, (0, 2)) * X[:, None, None, :], w(3, 4)),
    "broadcast_to": (lambda a: np.broadcast_to(a, (3, 4)) * X, w(4)),
    "stack_mixed": (lambda a: np.stack([a, V4, a * 2], axis=1), w(4)),
    "hstack": (lambda a: np.hstack([V3, a, a]), w(3)),
    "vstack": (lambda a: np.vstack([a, V4, X]), w(4)),
    "concatenate": (lambda a: np.concatenate([X, a], axis=0), w(2, 4)),
    "concatenate_none": (lambda a: np.concatenate((a, X), axis=None), w(2, 2)),
    "split": (lambda a: np.split(a, 2, axis=1), w(3, 4)),
    "array_split": (lambda a: np.array_split(a, 3), w(7)),
    "array_split_indices": (lambda a: np.split(a, [1, 4]), w(6)),
    "where": (lambda a: np.where(a > 0, a * a, X[0] * a), w(4)),
    "where_array_branch": (lambda a: np.where(V4 > 0, V4, a), w(4)),
    "clip": (lambda a: np.clip(a, -0.5, 0.5), w(3, 4)),
    "clip_arrays": (lambda a: np.clip(a, X - 0.3, X + 0.3), w(3, 4)),
    "abs": (lambda a: np.abs(a), w(3, 4)),
    "maximum": (lambda a: np.maximum(a, X), w(3, 4)),
    "maximum_array_first": (lambda a: np.maximum(X, a), w(3, 4)),
    "minimum": (lambda a: np.minimum(V4, a), w(3, 4)),
    "sort": (lambda a: np.sort(a, axis=0), w(3, 4)),
    "sort_flat": (lambda a: np.sort(a, axis=None), w(3, 4)),
    "flip": (lambda a: np.flip(a), w(3, 4)),
    "flip_axis": (lambda a: np.flip(a, axis=1), w(3, 4)),
    "roll": (lambda a: np.roll(a, 2), w(3, 4)),
    "roll_axes": (lambda a: np.roll(a, (1, -1), axis=(0, 1)), w(3, 4)),
    "tile": (lambda a: np.tile(a, (2, 1)), w(3, 4)),
    "repeat": (lambda a: np.repeat(a, 2, axis=0), w(3, 4)),
    "repeat_counts": (lambda a: np.repeat(a, [1, 0, 3]), w(3)),
    "norm": (lambda a: np.linalg.norm(a), w(3, 4)),
    "norm_axis": (lambda a: np.linalg.norm(a, axis=1), w(3, 4)),
    "norm_ord1": (lambda a: np.linalg.norm(a, ord=1), w(4)),
    "norm_ord3": (lambda a: np.linalg.norm(a, ord=3), w(4)),
    "norm_inf": (lambda a: np.linalg.norm(a, ord=np.inf), w(4)),
    "norm_matrix_1": (lambda a: np.linalg.norm(a, ord=1), w(3, 4)),
    "norm_matrix_inf": (lambda a: np.linalg.norm(a, ord=np.inf, axis=(0, 1)), w(3, 4)),
    "inv": (lambda a: np.linalg.inv(a + 3 * np.eye(3)), w(3, 3)),
    "inv_batched": (lambda a: np.linalg.inv(a + 3 * np.eye(2)), w(4, 2, 2)),
    "det": (lambda a: np.linalg.det(a + 2 * np.eye(3)), w(3, 3)),
    "solve_matrix": (lambda a: np.linalg.solve(a + 3 * np.eye(3), B3), w(3, 3)),
    "solve_vector_rhs": (lambda a: np.linalg.solve(M, a), w(3)),
    "solve_both": (lambda a: np.linalg.solve(a[:, :3] + 3 * np.eye(3), a[:, 3]), w(3, 4)),
    "full_like": (lambda a: np.full_like(a, 3.0) * a + np.zeros_like(a) + np.ones_like(a) * a,
                  w(3, 4)),
    "isclose_allclose": (lambda a: np.where(np.isclose(a, a[0]), 2 * a, a)
                         * (1.0 if np.allclose(a, a) else 0.0), w(4)),
    "shape_ndim_size": (lambda a: a * np.size(a) + np.ndim(a) * np.shape(a)[0], w(3, 4)),
    "diff": (lambda a: np.diff(a, n=2, axis=1), w(3, 5)),
    "trapezoid": (lambda a: np.trapezoid(a * a, dx=0.1), w(6)),
    "atleast_2d": (lambda a: np.atleast_2d(a) @ X.T, w(4)),
    "copy": (lambda a: np.copy(a) * 3, w(4)),
    # ufuncs beyond the op table: compositions of its ops, or its atan/atan2 rows
    "arctan2": (lambda a: np.arctan2(a, V4), w(4)),
    "arctan2_array_first": (lambda a: np.arctan2(V4, a), w(4)),
    "arctan": (lambda a: np.arctan(a), w(4)),
    "arcsin": (lambda a: np.arcsin(a), w(4, low=-0.6)),
    "arccos": (lambda a: np.arccos(a), w(4, low=-0.6)),
    "hypot": (lambda a: np.hypot(a, V4), w(4)),
    "logaddexp": (lambda a: np.logaddexp(a, V4), w(4)),
    "logaddexp2": (lambda a: np.logaddexp2(V4, a), w(4)),
    "sinh_cosh": (lambda a: np.sinh(a) + np.cosh(a) * 2, w(4)),
    "arcsinh": (lambda a: np.arcsinh(a * 3), w(4)),
    "arccosh": (lambda a: np.arccosh(a), w(4, low=1.2)),
    "arctanh": (lambda a: np.arctanh(a), w(4, low=-0.5)),
    "log2_log10_exp2": (lambda a: np.log2(a) + np.log10(a) * np.exp2(a), w(4, low=0.5)),
    "cbrt": (lambda a: np.cbrt(a), w(4, low=0.3)),
    "divide_array_first": (lambda a: V4 / a - V4 * a + np.abs(V4) ** a, w(4, low=0.5)),
    "ufunc_reduce": (lambda a: np.add.reduce(a, axis=1) + np.multiply.reduce(a, axis=0).sum(),
                     w(3, 4)),
    "ufunc_accumulate": (lambda a: np.multiply.accumulate(a) + np.add.accumulate(a), w(4)),
    "ufunc_outer": (lambda a: np.multiply.outer(a, V3), w(4)),
}


def _scalar(f, expression):
    if not expression:
        return lambda a: _sum(f(a))
    # Inside a larger expression: a dropped term changes the gradient.
    def tanh(out):
        return [np.tanh(o) for o in out] if isinstance(out, (list, tuple)) else np.tanh(out)
    return lambda a: _sum(tanh(f(a))) + np.sum(np.sin(a) * a) + 0.5 * np.sum(a ** 2)


def _finite_differences(fn, a, eps=1e-6):
    g = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        hi, lo = a.copy(), a.copy()
        hi[i] += eps
        lo[i] -= eps
        g[i] = (fn(hi) - fn(lo)) / (2 * eps)
    return g


@pytest.mark.parametrize("expression", [False, True], ids=["alone", "in_expression"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_gradient_matches_finite_differences(case, expression):
    f, a = CASES[case]
    fn = _scalar(f, expression)
    value, grad = tapegrad.value_and_grad(fn)(a)
    assert isinstance(grad, np.ndarray) and grad.shape == a.shape and grad.dtype == np.float64
    np.testing.assert_allclose(value, fn(a), rtol=1e-10, atol=1e-12)  # numpy's own value
    np.testing.assert_allclose(grad, _finite_differences(fn, a), rtol=1e-5, atol=1e-6)


LISTED = """dot vdot matmul inner outer tensordot einsum trace diag diagonal sum mean prod
cumsum cumprod max min amax amin argmax argmin std var ptp reshape ravel transpose swapaxes
moveaxis squeeze expand_dims broadcast_to stack hstack vstack concatenate split array_split where
clip abs maximum minimum sort flip roll tile repeat norm inv det solve full_like zeros_like
ones_like isclose allclose shape ndim size""".split()  # issue 9's list


def test_every_listed_function_is_handled_and_has_a_case():
    handled = {f.__name__ for f in HANDLED} | {u.__name__ for u in UFUNCS} | {"abs"}
    used = {n for f, _ in CASES.values() for n in f.__code__.co_names}
    for name in LISTED:
        assert name in handled, name
        assert name in used, name


def test_results_follow_numpy_conventions():
    t = tapegrad.tensor(X, requires_grad=True)
    m = np.max(t, axis=0)
    assert isinstance(m, tapegrad.Tensor) and m.shape == (4,)  # values, not (values, indices)
    assert isinstance(np.sort(t), tapegrad.Tensor)
    parts = np.split(t, 2, axis=1)
    assert isinstance(parts, list) and len(parts) == 2
    assert np.shape(t) == (3, 4) and np.ndim(t) == 2 and np.size(t) == 12
    assert np.std(t).item() == pytest.approx(np.std(X))  # ddof=0, numpy's default
    assert np.var(t, ddof=1).item() == pytest.approx(np.var(X, ddof=1))
    assert np.allclose(t, t) is True
    assert int(np.argmax(t)) == int(np.argmax(X))
    assert np.zeros_like(t).requires_grad is False


def test_tensor_and_array_in_either_order_keep_the_graph():
    t = tapegrad.tensor(V4, requires_grad=True)
    for out in (V4 * t, np.multiply(V4, t), np.add(V4, t), V4 - t, X @ t, np.dot(X, t),
                np.maximum(V4, t), np.stack([V4, t]), np.where(V4 > 0, V4, t)):
        assert isinstance(out, tapegrad.Tensor) and out.requires_grad


def test_float32_tensor_with_float64_arrays_promotes():
    t = tapegrad.tensor(V4.astype(np.float32), requires_grad=True)
    out = np.dot(X, t)
    assert out.requires_grad and out.dtype == tapegrad.float64


def test_asarray_on_a_tensor_that_requires_grad_raises():
    t = tapegrad.tensor(V4, requires_grad=True)
    msg = "Can't call numpy\\(\\) on Tensor that requires grad. Use tensor.detach\\(\\).numpy"
    with pytest.raises(RuntimeError, match=msg):
        np.asarray(t)
    with pytest.raises(RuntimeError, match=msg):
        np.array([t[0], t[1]])
    # What needs no gradient converts freely.
    np.testing.assert_array_equal(np.asarray(t.detach()), V4)
    np.testing.assert_array_equal(np.asarray(tapegrad.tensor(V4)), V4)
    with tapegrad.no_grad():
        np.testing.assert_array_equal(np.asarray(t), V4)


UNSUPPORTED = {
    "numpy.linalg.svd": lambda a: np.linalg.svd(a),
    "numpy.linalg.eigh": lambda a: np.linalg.eigh(a @ a.T),
    "numpy.fft.fft": lambda a: np.fft.fft(a),
    "numpy.cross": lambda a: np.cross(a[0, :3], V3),
    "numpy.median": lambda a: np.median(a),
    "numpy.percentile": lambda a: np.percentile(a, 50),
    "numpy.round": lambda a: np.round(a, 2),
    "numpy.interp": lambda a: np.interp(0.5, V3, a[0, :3]),
    "numpy.linalg.norm": lambda a: np.linalg.norm(a, ord=2),
    "numpy.sum": lambda a: np.sum(a, out=np.zeros(())),
    "numpy.einsum": lambda a: np.einsum(a, [0, 1], [1]),
    "numpy.reshape": lambda a: np.reshape(a, (4, 3), order="F"),
    "numpy.heaviside": lambda a: np.heaviside(a, 0.5),
    "numpy.sin": lambda a: np.sin(a, out=np.zeros((3, 4))),
    "numpy.frexp": lambda a: np.frexp(a),
    "numpy.add.at": lambda a: np.add.at(a, [0], 1.0),
}


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_unsupported_calls_raise_naming_the_function(name):
    t = tapegrad.tensor(X, requires_grad=True)
    with pytest.raises(TypeError) as info:
        UNSUPPORTED[name](t)
    msg = str(info.value)
    assert name + "()" in msg and "detach()" in msg and "tapegrad function" in msg
    assert "test_numpy_api.py:" in msg  # names the user's line


@pytest.mark.parametrize("name", ["numpy.linalg.svd", "numpy.median", "numpy.round",
                                  "numpy.heaviside", "numpy.sum"])
def test_unsupported_calls_run_on_plain_arrays_when_no_gradient_is_wanted(name):
    expected = UNSUPPORTED[name](X.copy())
    got = UNSUPPORTED[name](tapegrad.tensor(X))
    for e, g in zip(np.atleast_1d(expected) if not isinstance(expected, tuple) else expected,
                    np.atleast_1d(got) if not isinstance(got, tuple) else got):
        np.testing.assert_allclose(np.asarray(g), e)


def test_issue_example_gives_the_whole_gradient():
    Xs = np.arange(6.).reshape(3, 2) / 3
    y = np.array([1., 2., 3.])
    dl = tapegrad.grad(lambda v: np.mean((np.dot(Xs, v) - y) ** 2) + 0.1 * np.sum(v ** 2))
    np.testing.assert_allclose(dl(np.array([.5, -.5])), [-3.677778, -5.322222], rtol=1e-6)


def test_value_and_grad_take_and_return_numpy():
    value, g = tapegrad.value_and_grad(lambda a, b: np.sum(np.outer(a, b) ** 2), argnums=(0, 1))(
        V3, V4)
    assert isinstance(value, float)
    assert all(isinstance(x, np.ndarray) for x in g)
    np.testing.assert_allclose(g[0], 2 * V3 * np.sum(V4 ** 2))
    np.testing.assert_allclose(g[1], 2 * V4 * np.sum(V3 ** 2))


def test_torch_names_of_the_new_ops():
    t = tapegrad.tensor(M, requires_grad=True)
    names = {
        "LinalgInvExBackward0": tapegrad.linalg.inv(t),
        "LinalgDetBackward0": tapegrad.linalg.det(t),
        "LinalgSolveExBackward0": tapegrad.linalg.solve(t, tapegrad.tensor(V3)),
        "TraceBackward0": tapegrad.trace(t),
        "FlipBackward0": tapegrad.flip(t, (0,)),
        "RollBackward0": tapegrad.roll(t, 1, 0),
        "CumprodBackward0": tapegrad.cumprod(t, 1),
        "SortBackward0": tapegrad.sort(t, 1).values,
        "DiagonalBackward0": tapegrad.diagonal(t),
        "DiagEmbedBackward0": tapegrad.diag(tapegrad.tensor(V3, requires_grad=True)),
        "AtanBackward0": tapegrad.atan(t),
        "Atan2Backward0": tapegrad.atan2(t, t),
    }
    for name, out in names.items():
        assert type(out.grad_fn).__name__ == name or out.grad_fn.name() == name, name
    values, indices = tapegrad.sort(t, dim=0, descending=True)
    np.testing.assert_array_equal(values.detach().numpy(), -np.sort(-M, axis=0))
    np.testing.assert_array_equal(indices.numpy(), np.argsort(-M, axis=0, kind="stable"))
