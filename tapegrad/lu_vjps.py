"""The op table's rows for the LU family (linalg.lu, lu_factor, lu_solve, torch.lu_unpack):
PyTorch's formulas, written against ``xp`` like those of ``linalg_vjps.py``, whose helpers they
share. The permutation is a constant of each record (``params``)."""
from __future__ import annotations

import numpy as np

from .linalg_vjps import _OUT, NP, _ext, _mT, _part, solve_grads
from .ops import _A, _B, _NONE, _st


# ---- LU: A = P L U (L unit lower, U upper) -------------------------------------------------
def _triu(xp, x):
    return _mT(xp, _ext(xp).tril(_mT(xp, x)))


def _tsolve(xp, T, Y):
    """T^-1 Y for a triangular T; a zero on T's diagonal gives inf/nan as LAPACK's trtrs."""
    if xp is NP:
        try:
            return np.linalg.solve(T, Y)
        except np.linalg.LinAlgError:
            from .forward.matrix import _substitute
            with np.errstate(all="ignore"):
                return _substitute(T, Y, True)
    return xp.linalg_solve(T, Y)


def _lu_square_backward(xp, gL, gU, L, U):
    # dA = P (dL U + L dU) with dL strictly lower, dU upper: P^T gA = L^-T M U^-T with
    # M = tril(L^T gL, -1) + triu(gU U^T). Returns P^T gA.
    ext = _ext(xp)
    M = ext.tril(xp.matmul(_mT(xp, L), gL), -1) + _triu(xp, xp.matmul(gU, _mT(xp, U)))
    Y = _tsolve(xp, _mT(xp, L), M)
    return _mT(xp, _tsolve(xp, U, _mT(xp, Y)))


def _lu_backward(xp, gL, gU, L, U, perm, m, n):
    """gA for A = P L U from the gradients of L (m x k) and U (k x n), k = min(m, n)."""
    k = min(m, n)
    ext = _ext(xp)
    if m == n:
        ga = _lu_square_backward(xp, gL, gU, L, U)
    elif m > n:
        # L = [L1; L2]: L2 = A2 U^-1, so gA2 = gL2 U^-T and U's gradient gains -L2^T gA2.
        L1, L2 = (xp.getitem(L, (Ellipsis, s, slice(None))) for s in (slice(0, k), slice(k, m)))
        gL1, gL2 = (xp.getitem(gL, (Ellipsis, s, slice(None))) for s in (slice(0, k),
                                                                          slice(k, m)))
        gA2 = _mT(xp, _tsolve(xp, U, _mT(xp, gL2)))
        gA1 = _lu_square_backward(xp, gL1, gU - xp.matmul(_mT(xp, L2), gA2), L1, U)
        ga = ext.cat([gA1, gA2], -2)
    else:
        # U = [U1 U2]: U2 = L^-1 A2, so gA2 = L^-T gU2 and L's gradient gains -gA2 U2^T.
        U1, U2 = (xp.getitem(U, (Ellipsis, slice(None), s)) for s in (slice(0, k), slice(k, n)))
        gU1, gU2 = (xp.getitem(gU, (Ellipsis, slice(None), s)) for s in (slice(0, k),
                                                                          slice(k, n)))
        gA2 = _tsolve(xp, _mT(xp, L), gU2)
        gA1 = _lu_square_backward(xp, gL - xp.matmul(gA2, _mT(xp, U2)), gU1, L, U1)
        ga = ext.cat([gA1, gA2], -1)
    return _unpermute(xp, ga, perm)


def _unpermute(xp, x, perm):
    """P x, for the row permutation perm (P^T A = A[perm])."""
    inv = np.argsort(perm, axis=-1)
    if inv.ndim == 1:
        return xp.getitem(x, (Ellipsis, inv, slice(None)))
    rows = inv.reshape(inv.shape + (1,))
    batch = np.indices(inv.shape[:-1]).reshape(inv.ndim - 1, *inv.shape[:-1], 1, 1)
    cols = np.arange(x.shape[-1])
    return xp.getitem(x, tuple(batch) + (rows, cols))


def _lu_parts(xp, lu, m, n, dtype):
    """L (m x k, unit diagonal) and U (k x n) from the compact LU."""
    k = min(m, n)
    ext = _ext(xp)
    L = xp.getitem(ext.tril(lu, -1), (Ellipsis, slice(None), slice(0, k)))
    L = L + np.eye(m, k, dtype=dtype)
    U = _triu(xp, xp.getitem(lu, (Ellipsis, slice(0, k), slice(None))))
    return L, U


@_st("linalg_lu", "LinalgLuBackward0", 1, (_OUT,), params=("perm", "m", "n"))
def _linalg_lu_vjp(xp, g, rec, a, b, out):
    perm, m, n = rec.params
    k = min(m, n)
    L, gL = (_part(xp, x, slice(0, m), slice(0, k)) for x in (out, g))
    U, gU = (_part(xp, x, slice(m, m + k), slice(0, n)) for x in (out, g))
    return (_lu_backward(xp, gL, gU, L, U, perm, m, n),)


@_st("linalg_lu_factor", "LinalgLuFactorExBackward0", 1, (_OUT,), params=("perm", "m", "n"))
def _linalg_lu_factor_vjp(xp, g, rec, a, b, out):
    perm, m, n = rec.params
    k = min(m, n)
    ext = _ext(xp)
    L, U = _lu_parts(xp, out, m, n, rec.dtype)
    gL = xp.getitem(ext.tril(g, -1), (Ellipsis, slice(None), slice(0, k)))
    gU = _triu(xp, xp.getitem(g, (Ellipsis, slice(0, k), slice(None))))
    return (_lu_backward(xp, gL, gU, L, U, perm, m, n),)


@_st("lu_unpack", "LuUnpackBackward0", 1, (_NONE,), params=("m", "n"))
def _lu_unpack_vjp(xp, g, rec, a, b, out):
    # L = tril(LU, -1)[:, :k] + I and U = triu(LU)[:k]: their gradients go back in place.
    m, n = rec.params
    k = min(m, n)
    ext = _ext(xp)
    gL = ext.tril(_part(xp, g, slice(0, m), slice(0, k)), -1)
    gU = _triu(xp, _part(xp, g, slice(m, m + k), slice(0, n)))
    if n > k:
        gL = ext.cat([gL, 0 * xp.getitem(gU, (Ellipsis, slice(None), slice(k, n)))], -1)
    if m > k:
        gU = ext.cat([gU, 0 * xp.getitem(gL, (Ellipsis, slice(k, m), slice(0, n)))], -2)
    return (gL + gU,)


@_st("linalg_lu_solve", "LinalgLuSolveBackward0", 2, (_OUT | _B, _A),
     params=("perm", "left", "adjoint"))
def _linalg_lu_solve_vjp(xp, g, rec, a, b, out):
    # A = P L U from the compact LU (a); X solves op(A) X = B (left) or X op(A) = B.
    perm, left, adjoint = rec.params
    sl, sb = rec.in_shapes
    n = sl[-1]
    L, U = _lu_parts(xp, a, n, n, rec.dtype)
    A = _unpermute(xp, xp.matmul(L, U), perm)
    Aop = _mT(xp, A) if adjoint else A
    gb, gaop = solve_grads(xp, Aop, g, out, left)
    glu = None
    if rec.ins[0] is not None:
        # dA = P (dL U + L dU): gL = tril(P^T gA U^T, -1), gU = triu(L^T P^T gA).
        gA = xp.unbroadcast(_mT(xp, gaop) if adjoint else gaop, sl)
        pt_ga = _unpermute(xp, gA, np.argsort(perm, axis=-1))
        glu = _ext(xp).tril(xp.matmul(pt_ga, _mT(xp, U)), -1) + \
            _triu(xp, xp.matmul(_mT(xp, L), pt_ga))
    gb = xp.unbroadcast(gb, sb) if rec.ins[1] is not None else None
    return glu, gb
