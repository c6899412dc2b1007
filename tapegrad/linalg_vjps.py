"""The op table's rows for the matrix decompositions and the rest of torch.linalg: cross,
slogdet, cholesky, qr, eigh, svd, pinv, lstsq and matrix_exp.

The formulas are PyTorch's (derivatives.yaml and FunctionsManual.cpp: the same facts, written
anew), against the array namespace ``xp`` like every structural rule in ``ops.py``, so they have
gradients of every order. What ``xp`` lacks (triangles, diagonals, joins, pinv, matrix_exp) comes
from ``_ext(xp)``: numpy in the interpreter, tapegrad's own recorded ops under create_graph.

A decomposition with several outputs is one record whose output packs them (``forward/decomp.py``
lays them out); each output the user sees is a slice of it. The rule reads the packed gradient
back apart, and an all-zero part counts as PyTorch's undefined gradient (an output that was not
used), which keeps ``eigvalsh``/``svdvals`` finite at repeated eigen-/singular values as PyTorch's
are.
"""
from __future__ import annotations

import numpy as np

from .ops import _A, _A_OUT, _B, _NONE, NP, _st, cofactors

_OUT = frozenset(("out",))
_AB = frozenset(("a", "b"))


# ---- what the rules need beyond xp ------------------------------------------------------------
class _NumpyExt:
    tril = staticmethod(lambda x, k=0: np.tril(x, k))
    cat = staticmethod(lambda xs, axis: np.concatenate(xs, axis=axis))

    @staticmethod
    def diagonal(x):
        return np.diagonal(x, 0, -2, -1)

    @staticmethod
    def diag_embed(v):
        n = v.shape[-1]
        out = np.zeros(v.shape + (n,), v.dtype)
        k = np.arange(n)
        out[..., k, k] = v
        return out

    @staticmethod
    def pinv(x):
        from .forward.decomp import _pinv_array
        return _pinv_array(x, None, None, False)

    @staticmethod
    def matrix_exp(x):
        from .forward.decomp import _expm
        return _expm(x)


class _TensorExt:
    @staticmethod
    def tril(x, k=0):
        from .forward import tril
        return tril(x, k)

    @staticmethod
    def cat(xs, axis):
        from .forward import as_tensor_arg, cat
        return cat([as_tensor_arg(x) for x in xs], axis)

    @staticmethod
    def diagonal(x):
        from .forward import diagonal
        return diagonal(x, 0, -2, -1)

    @staticmethod
    def diag_embed(v):
        from .forward import diag_embed
        return diag_embed(v)

    @staticmethod
    def pinv(x):
        from .forward.decomp import pinv
        return pinv(x)

    @staticmethod
    def matrix_exp(x):
        from .forward.decomp import matrix_exp
        return matrix_exp(x)


def _ext(xp):
    return _NumpyExt if xp is NP else _TensorExt


def _zero(g) -> bool:
    """An all-zero gradient part: PyTorch's undefined gradient of an output nobody used. A
    gradient that is itself differentiated (create_graph, forward mode's transpose) counts as
    defined whatever its value: the rule must stay the full linear map of it."""
    if getattr(g, "_rg", False):
        return False
    return not np.any(getattr(g, "_data", g))


def solve_grads(xp, a, g, out, left: bool) -> tuple:
    """For X = A^-1 B (``left``) or X = B A^-1, with X = ``out``: the gradients of B and of A
    from X's gradient ``g``."""
    if left:
        gb = xp.linalg_solve(_mT(xp, a), g)
        return gb, -xp.matmul(gb, _mT(xp, out))
    gb = _mT(xp, xp.linalg_solve(a, _mT(xp, g)))
    return gb, -xp.matmul(_mT(xp, out), gb)


def _mT(xp, x):
    return xp.swapaxes(x, -1, -2)


def _col(xp, v):
    return xp.expand_dims(v, -1)


def _row(xp, v):
    return xp.expand_dims(v, -2)


def _part(xp, p, rows, cols):
    """p[..., rows, cols] for two slices (a packed record's output or gradient)."""
    return xp.getitem(p, (Ellipsis, rows, cols))


# ---- cross --------------------------------------------------------------------------------
def _cross(xp, u, v, d):
    # (u x v)_i = u_{i+1} v_{i+2} - u_{i+2} v_{i+1}, indices mod 3 along dimension d.
    r = xp.roll
    return r(u, (-1,), (d,)) * r(v, (-2,), (d,)) - r(u, (-2,), (d,)) * r(v, (-1,), (d,))


@_st("linalg_cross", "LinalgCrossBackward0", 2, (_B, _A), params=("dim",))
def _linalg_cross_vjp(xp, g, rec, a, b, out):
    d = rec.params[0]
    sa, sb = rec.in_shapes
    ga = xp.unbroadcast(_cross(xp, b, g, d), sa) if rec.ins[0] is not None else None
    gb = xp.unbroadcast(_cross(xp, g, a, d), sb) if rec.ins[1] is not None else None
    return ga, gb


# ---- slogdet: out packs (sign, logabsdet) along a last axis of 2 ----------------------------
@_st("linalg_slogdet", "LinalgSlogdetBackward0", 1, (_A,))
def _linalg_slogdet_vjp(xp, g, rec, a, b, out):
    # g * A^-T, as the solve A^T X = g I.
    gl = xp.getitem(g, (Ellipsis, 1))
    eye = np.eye(rec.in_shapes[0][-1], dtype=rec.dtype)
    if xp is NP:
        try:
            return (np.linalg.solve(np.swapaxes(a, -1, -2), gl[..., None, None] * eye),)
        except np.linalg.LinAlgError:  # singular: the same formula, cofactors over det = 0
            return (gl[..., None, None] * cofactors(a) / np.linalg.det(a)[..., None, None],)
    return (xp.linalg_solve(_mT(xp, a), _col(xp, _col(xp, gl)) * eye),)


@_st("linalg_vector_norm0", "LinalgVectorNormBackward0", 1, (_NONE,))
def _linalg_vector_norm0_vjp(xp, g, rec, a, b, out):
    return (None,)  # the count of nonzeros: PyTorch's gradient is undefined


# ---- cholesky -----------------------------------------------------------------------------
@_st("linalg_cholesky", "LinalgCholeskyExBackward0", 1, (_OUT,), params=("upper",))
def _linalg_cholesky_vjp(xp, g, rec, a, b, out):
    # A = L L^T: gA = sym(L^-T phi(L^T gL) L^-1), phi the lower triangle with half its diagonal.
    ext = _ext(xp)
    L, gL = (_mT(xp, out), _mT(xp, g)) if rec.params[0] else (out, g)
    p = xp.matmul(_mT(xp, L), gL)
    phi = ext.tril(p) - 0.5 * ext.diag_embed(ext.diagonal(p))
    linv = xp.linalg_inv(L)
    ga = xp.matmul(_mT(xp, linv), xp.matmul(phi, linv))
    return (0.5 * (ga + _mT(xp, ga)),)


# ---- qr: out packs Q over R, (m + kr) rows by max(kq, n) columns -----------------------------
def _qr_square_backward(xp, ext, gQ, gR, Q, R):
    # m >= n: gA = (gQ + Q copyltu(M)) R^-T with M = R gR^T - gQ^T Q.
    M = xp.matmul(R, _mT(xp, gR)) - xp.matmul(_mT(xp, gQ), Q)
    low = ext.tril(M, -1)
    sym = low + _mT(xp, low) + ext.diag_embed(ext.diagonal(M))
    rhs = gQ + xp.matmul(Q, sym)
    return _mT(xp, xp.linalg_solve(R, _mT(xp, rhs)))


@_st("linalg_qr", "LinalgQrBackward0", 1, (_A_OUT,), params=("mode", "m", "n"))
def _linalg_qr_vjp(xp, g, rec, a, b, out):
    mode, m, n = rec.params
    if mode == "r":
        raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when "
                           "mode='r'. Please use linalg.qr(A, mode='reduced') if you are going "
                           "to differentiate through linalg.qr.")
    if mode == "complete" and m > n:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and "
                           "nrows > ncols.")
    ext = _ext(xp)
    k = min(m, n)
    Q, R = _part(xp, out, slice(0, m), slice(0, k)), _part(xp, out, slice(m, m + k), slice(0, n))
    gQ, gR = _part(xp, g, slice(0, m), slice(0, k)), _part(xp, g, slice(m, m + k), slice(0, n))
    if m >= n:
        return (_qr_square_backward(xp, ext, gQ, gR, Q, R),)
    # m < n: A = [X | Y] with X = Q U square; R = [U | V], V = Q^T Y.
    Y = xp.getitem(a, (Ellipsis, slice(None), slice(m, n)))
    U, gU = (xp.getitem(x, (Ellipsis, slice(None), slice(0, m))) for x in (R, gR))
    gV = xp.getitem(gR, (Ellipsis, slice(None), slice(m, n)))
    gY = xp.matmul(Q, gV)
    gX = _qr_square_backward(xp, ext, gQ + xp.matmul(Y, _mT(xp, gV)), gU, Q, U)
    return (ext.cat([gX, gY], -1),)


# ---- eigh: out packs Q (n rows) over the eigenvalues (one row) -------------------------------
@_st("linalg_eigh", "LinalgEighBackward0", 1, (_OUT,))
def _linalg_eigh_vjp(xp, g, rec, a, b, out):
    ext = _ext(xp)
    n = rec.in_shapes[0][-1]
    Q, lam = _part(xp, out, slice(0, n), slice(None)), xp.getitem(out, (Ellipsis, n, slice(None)))
    gQ, gl = _part(xp, g, slice(0, n), slice(None)), xp.getitem(g, (Ellipsis, n, slice(None)))
    if _zero(gQ):
        inner = ext.diag_embed(gl)
    else:
        # gA = Q (skew(Q^T gQ) / E + diag(gL)) Q^T, E_ij = lam_j - lam_i (its diagonal 1).
        w = xp.matmul(_mT(xp, Q), gQ)
        w = 0.5 * (w - _mT(xp, w))
        E = _row(xp, lam) - _col(xp, lam) + np.eye(n, dtype=rec.dtype)
        inner = w / E + ext.diag_embed(gl)
    return (xp.matmul(Q, xp.matmul(inner, _mT(xp, Q))),)


# ---- svd: out packs U (m rows), S (one row), Vh (its rows) ----------------------------------
@_st("linalg_svd", "LinalgSvdBackward0", 1, (_OUT,), params=("m", "n", "ucols", "vrows"))
def _linalg_svd_vjp(xp, g, rec, a, b, out):
    ext = _ext(xp)
    m, n = rec.params[:2]
    k = min(m, n)
    # With full_matrices the extra columns of U and rows of Vh take no part (as PyTorch).
    U, gU = (_part(xp, x, slice(0, m), slice(0, k)) for x in (out, g))
    S, gS = (xp.getitem(x, (Ellipsis, m, slice(0, k))) for x in (out, g))
    Vh, gVh = (_part(xp, x, slice(m + 1, m + 1 + k), slice(0, n)) for x in (out, g))
    has_u, has_v = not _zero(gU), not _zero(gVh)
    if not has_u and not has_v:
        return (xp.matmul(U * _row(xp, gS), Vh),)
    # skew(X) = X - X^T; E_ij = S_j^2 - S_i^2 (its diagonal 1).
    S2 = S * S
    E = _row(xp, S2) - _col(xp, S2) + np.eye(k, dtype=rec.dtype)
    gA = 0 * E
    if has_u:
        w = xp.matmul(_mT(xp, U), gU)
        gA = gA + (w - _mT(xp, w)) * _row(xp, S)
    if has_v:
        w = xp.matmul(Vh, _mT(xp, gVh))
        gA = gA + _col(xp, S) * (w - _mT(xp, w))
    gA = gA / E + ext.diag_embed(gS)
    if m > n and has_u:
        # gA = [U gA + (I - U U^T) gU S^-1] Vh
        gUS = gU / _row(xp, S)
        gA = xp.matmul(U, gA) + gUS - xp.matmul(U, xp.matmul(_mT(xp, U), gUS))
        return (xp.matmul(gA, Vh),)
    if m < n and has_v:
        # gA = U [gA Vh + S^-1 gVh (I - V Vh)]
        sgv = gVh / _col(xp, S)
        gA = xp.matmul(gA, Vh) + sgv - xp.matmul(xp.matmul(sgv, _mT(xp, Vh)), Vh)
        return (xp.matmul(U, gA),)
    return (xp.matmul(U, xp.matmul(gA, Vh)),)


# ---- pinv and lstsq -----------------------------------------------------------------------
def _pinv_backward(xp, g, P, A):
    """The gradient of pinv(A) = P, for an upstream g (PyTorch's pinv_backward)."""
    m, n = A.shape[-2], A.shape[-1]
    Ph, gh = _mT(xp, P), _mT(xp, g)
    mm = xp.matmul
    if m <= n:
        K = mm(gh, P)
        KPh = mm(K, Ph)
        return -_mT(xp, mm(P, K)) + KPh - mm(mm(A, P), KPh) + mm(mm(Ph, P), gh - mm(K, A))
    K = mm(P, gh)
    PhK = mm(Ph, K)
    return -_mT(xp, mm(K, P)) + mm(mm(gh - mm(A, K), P), Ph) + PhK - mm(mm(PhK, P), A)


@_st("linalg_pinv", "LinalgPinvBackward0", 1, (_A_OUT,))
def _linalg_pinv_vjp(xp, g, rec, a, b, out):
    return (_pinv_backward(xp, g, out, a),)


@_st("linalg_lstsq", "LinalgLstsqBackward0", 2, (_AB, _A))
def _linalg_lstsq_vjp(xp, g, rec, a, b, out):
    # X = pinv(A) B: gA = pinv_backward(gX B^T), gB = pinv(A)^T gX.
    sa, sb = rec.in_shapes
    vector = len(sb) == 1 or (len(sb) == len(sa) - 1 and tuple(sb) == tuple(sa[:-1]))
    gX, B = (_col(xp, g), _col(xp, b)) if vector else (g, b)
    P = _ext(xp).pinv(a)
    ga = gb = None
    if rec.ins[0] is not None:
        ga = xp.unbroadcast(_pinv_backward(xp, xp.matmul(gX, _mT(xp, B)), P, a), sa)
    if rec.ins[1] is not None:
        gb = xp.matmul(_mT(xp, P), gX)
        gb = xp.unbroadcast(xp.getitem(gb, (Ellipsis, 0)) if vector else gb, sb)
    return ga, gb


# ---- matrix_exp ---------------------------------------------------------------------------
@_st("linalg_matrix_exp", "LinalgMatrixExpBackward0", 1, (_A,))
def _linalg_matrix_exp_vjp(xp, g, rec, a, b, out):
    # The upper right block of exp([[A^T, g], [0, A^T]]) (the Frechet derivative's adjoint).
    ext = _ext(xp)
    n = rec.in_shapes[0][-1]
    at = _mT(xp, a)
    zero = 0 * at
    big = ext.cat([ext.cat([at, g], -1), ext.cat([zero, at], -1)], -2)
    return (_part(xp, ext.matrix_exp(big), slice(0, n), slice(n, 2 * n)),)


# ---- solve_triangular ---------------------------------------------------------------------
@_st("linalg_solve_triangular", "LinalgSolveTriangularBackward0", 2, (_A_OUT, _A),
     params=("upper", "left", "unitriangular"))
def _linalg_solve_triangular_vjp(xp, g, rec, a, b, out):
    # left: X = A^-1 B, gB = A^-T g, gA = -gB X^T; right: X = B A^-1, gB = g A^-T,
    # gA = -X^T gB; gA keeps A's triangle (without the diagonal when unitriangular).
    upper, left, unit = rec.params
    sa, sb = rec.in_shapes
    n = sa[-1]
    mask = np.triu(np.ones((n, n)), 1 if unit else 0) if upper else \
        np.tril(np.ones((n, n)), -1 if unit else 0)
    tri = a * mask.astype(rec.dtype)
    if unit:
        tri = tri + np.eye(n, dtype=rec.dtype)
    gb, ga = solve_grads(xp, tri, g, out, left)
    ga = xp.unbroadcast(ga * mask.astype(rec.dtype), sa) if rec.ins[0] is not None else None
    gb = xp.unbroadcast(gb, sb) if rec.ins[1] is not None else None
    return ga, gb


# ---- cholesky_solve and cholesky_inverse: A = L L^T (U^T U when upper) -------------------
def _gram(xp, L, upper):
    return xp.matmul(_mT(xp, L), L) if upper else xp.matmul(L, _mT(xp, L))


@_st("cholesky_solve", "CholeskySolveBackward0", 2, (_AB, _A_OUT), params=("upper",))
def _cholesky_solve_vjp(xp, g, rec, a, b, out):
    # X = A^-1 B (a is B, b is L): gB = A^-1 g; gL = -(gB X^T + X gB^T) L (L (...) if upper),
    # on all of L, as PyTorch's formula.
    upper = rec.params[0]
    sb, sl = rec.in_shapes
    ext = _ext(xp)
    tri = _mT(xp, ext.tril(_mT(xp, b))) if upper else ext.tril(b)  # the triangle solved with
    gB = xp.linalg_solve(_gram(xp, tri, upper), g)
    ga = xp.unbroadcast(gB, sb) if rec.ins[0] is not None else None
    gl = None
    if rec.ins[1] is not None:
        common = xp.matmul(gB, _mT(xp, out))
        common = common + _mT(xp, common)
        gl = -(xp.matmul(b, common) if upper else xp.matmul(common, b))
        gl = xp.unbroadcast(gl, sl)
    return ga, gl


@_st("cholesky_inverse", "CholeskyInverseBackward0", 1, (_A_OUT,), params=("upper",))
def _cholesky_inverse_vjp(xp, g, rec, a, b, out):
    # out = (L L^T)^-1: gL = -(out (g + g^T) out) L (L (...) if upper).
    common = xp.matmul(out, xp.matmul(g + _mT(xp, g), out))
    return (-(xp.matmul(a, common) if rec.params[0] else xp.matmul(common, a)),)
