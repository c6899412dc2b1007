"""LU factorization with partial pivoting, as LAPACK's getrf chooses its pivots:
linalg.lu, lu_factor, lu_factor_ex, lu_solve, and torch.lu, lu_unpack, lu_solve.

The factorization runs in numpy, one column at a time over the whole batch. Its gradients are
rows of the op table (``tapegrad/linalg_vjps.py``); the permutation is a constant of the record.
"""
from __future__ import annotations

import numpy as np

from .. import lu_vjps  # noqa: F401  (registers the rows used below)
from ..ops import OPS
from ..tensor import Tensor
from .decomp import LinAlgError, _matrix, _packed
from .linalg import _warn_once
from .record import _operands, _return_type, _wants_grad, as_tensor_arg, emit, return_types

for _name, _fields in (("linalg_lu", ("P", "L", "U")), ("linalg_lu_factor", ("LU", "pivots")),
                       ("linalg_lu_factor_ex", ("LU", "pivots", "info")),
                       ("lu_unpack", ("P", "L", "U")), ("linalg_inv_ex", ("inverse", "info")),
                       ("linalg_solve_ex", ("result", "info"))):
    setattr(return_types, _name, _return_type(_name, _fields))


def _getrf(a: np.ndarray):
    """(LU, pivots (1-based, int32), perm, info) of a batch: P^T A = L U with A[perm] = P^T A."""
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    lu = np.array(a.reshape((-1, m, n)), dtype=a.dtype, copy=True)
    count = lu.shape[0]
    idx = np.arange(count)
    perm = np.tile(np.arange(m), (count, 1))
    piv = np.zeros((count, k), np.int32)
    info = np.zeros(count, np.int32)
    with np.errstate(all="ignore"):
        for j in range(k):
            p = j + np.argmax(np.abs(lu[:, j:, j]), axis=1)
            piv[:, j] = p + 1
            row = lu[idx, j].copy()
            lu[idx, j] = lu[idx, p]
            lu[idx, p] = row
            pj = perm[idx, j].copy()
            perm[idx, j] = perm[idx, p]
            perm[idx, p] = pj
            pivot = lu[:, j, j]
            zero = pivot == 0
            info = np.where(zero & (info == 0), j + 1, info)
            scale = np.where(zero, 1, pivot)
            lu[:, j + 1:, j] = np.where(zero[:, None], lu[:, j + 1:, j],
                                        lu[:, j + 1:, j] / scale[:, None])
            lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j:j + 1] * lu[:, j:j + 1, j + 1:]
    return (lu.reshape(a.shape), piv.reshape(batch + (k,)), perm.reshape(batch + (m,)),
            info.reshape(batch))


def _perm_from_pivots(piv: np.ndarray, m: int) -> np.ndarray:
    """The row order LAPACK's pivots (1-based swaps) make: A[perm] = P^T A."""
    flat = piv.reshape((-1, piv.shape[-1])).astype(np.int64) - 1
    perm = np.tile(np.arange(m), (flat.shape[0], 1))
    idx = np.arange(flat.shape[0])
    for j in range(flat.shape[1]):
        p = flat[:, j]
        pj = perm[idx, j].copy()
        perm[idx, j] = perm[idx, p]
        perm[idx, p] = pj
    return perm.reshape(piv.shape[:-1] + (m,))


def _p_matrix(perm: np.ndarray, dtype) -> np.ndarray:
    m = perm.shape[-1]
    P = np.zeros(perm.shape + (m,), dtype)
    np.put_along_axis(P, perm[..., :, None], 1, axis=-1)  # P^T[i, perm[i]] = 1
    return np.swapaxes(P, -1, -2)


def _unpack(lu: np.ndarray):
    m, n = lu.shape[-2:]
    k = min(m, n)
    L = np.tril(lu, -1)[..., :, :k] + np.eye(m, k, dtype=lu.dtype)
    U = np.triu(lu)[..., :k, :]
    return L, U


def _no_pivot(pivot, what):
    if not pivot:
        raise RuntimeError(f"{what}: LU without pivoting is not implemented on the CPU")


def lu(A, *, pivot=True):
    """The LU decomposition with partial pivoting, A = P L U:
    ``return_types.linalg_lu(P, L, U)`` (L unit lower m-by-k, U upper k-by-n)."""
    x = as_tensor_arg(A)
    _matrix(x, "linalg.lu")
    _no_pivot(pivot, "linalg.lu_factor")
    a = x._data
    lu_, _, perm, _ = _getrf(a)
    L, U = _unpack(lu_)
    m, n = a.shape[-2:]
    k = min(m, n)
    packed = np.zeros(a.shape[:-2] + (m + k, max(k, n)), a.dtype)
    packed[..., :m, :k] = L
    packed[..., m:, :n] = U
    L_, U_ = _packed("linalg_lu", "LinalgLuBackward0", packed, x, (perm, m, n),
                     [(Ellipsis, slice(0, m), slice(0, k)), (Ellipsis, slice(m, m + k),
                                                             slice(0, n))])
    return return_types.linalg_lu(Tensor._make(_p_matrix(perm, a.dtype)), L_, U_)


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    """The compact LU factorization ``(LU, pivots, info)``: L below the diagonal (its unit
    diagonal implied), U on and above, LAPACK's 1-based row swaps, and ``info`` the first zero
    pivot's 1-based index (0 if none)."""
    x = as_tensor_arg(A)
    _matrix(x, "torch.linalg.lu_factor_ex")
    _no_pivot(pivot, "linalg.lu_factor")
    a = x._data
    lu_, piv, perm, info = _getrf(a)
    if check_errors and np.any(info):
        _raise_singular(info, "torch.linalg.lu_factor_ex")
    m, n = a.shape[-2:]
    if _wants_grad(x):
        out = emit(OPS["linalg_lu_factor"], "LinalgLuFactorExBackward0", lu_, (x,), (a,),
                   (perm, m, n))
    else:
        out = Tensor._make(lu_)
    return return_types.linalg_lu_factor_ex(out, Tensor._make(piv), Tensor._make(info))


def _raise_singular(info, what):
    flat = info.reshape(-1)
    b = int(np.flatnonzero(flat)[0])
    batch = f"(Batch element {b}): " if info.ndim else ""
    i = int(flat[b])
    raise LinAlgError(f"{what}: {batch}U[{i},{i}] is zero and using it on lu_solve would result "
                      "in a division by zero. If you still want to perform the factorization, "
                      "consider calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")


def lu_factor(A, *, pivot=True):
    """``(LU, pivots)`` of ``lu_factor_ex``; raises ``LinAlgError`` for a singular matrix."""
    x = as_tensor_arg(A)
    _matrix(x, "torch.linalg.lu_factor")
    LU, piv, info = lu_factor_ex(x, pivot=pivot)
    if np.any(info._data):
        _raise_singular(info._data, "torch.linalg.lu_factor")
    return return_types.linalg_lu_factor(LU, piv)


def lu_solve(LU, pivots, B, *, left=True, adjoint=False) -> Tensor:
    """X with A X = B from A's compact LU factorization (``left=False``: X A = B;
    ``adjoint=True``: with A^T)."""
    f, y = as_tensor_arg(LU), as_tensor_arg(B)
    fa, ya, _ = _operands(f, y, True)
    n = fa.shape[-1]
    if fa.ndim < 2 or fa.shape[-2] != n:
        raise RuntimeError(f"linalg.lu_solve: A must be batches of square matrices, but they are "
                           f"{fa.shape[-2]} by {n} matrices")
    perm = _perm_from_pivots(as_tensor_arg(pivots)._data, n)
    L, U = _unpack(fa)
    A = np.empty_like(L @ U)
    np.put_along_axis(A, perm[..., :, None], L @ U, axis=-2)  # A[perm] = L U
    op = np.swapaxes(A, -1, -2) if adjoint else A
    with np.errstate(all="ignore"):
        if left:
            data = np.linalg.solve(op, ya)
        else:
            data = np.swapaxes(np.linalg.solve(np.swapaxes(op, -1, -2), np.swapaxes(ya, -1, -2)),
                               -1, -2)
    data = np.ascontiguousarray(data, dtype=fa.dtype)
    if _wants_grad(f, y):
        return emit(OPS["linalg_lu_solve"], "LinalgLuSolveBackward0", data, (f, y), (fa, ya),
                    (perm, bool(left), bool(adjoint)))
    return Tensor._make(data)


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """``torch.lu_unpack``: ``(P, L, U)`` from the compact LU and its pivots."""
    f = as_tensor_arg(LU_data)
    a = f._data
    m, n = a.shape[-2:]
    k = min(m, n)
    perm = _perm_from_pivots(as_tensor_arg(LU_pivots)._data, m)
    P = Tensor._make(_p_matrix(perm, a.dtype)) if unpack_pivots else \
        Tensor._make(np.zeros((0,), a.dtype))
    if not unpack_data:
        empty = Tensor._make(np.zeros((0,), a.dtype))
        return return_types.lu_unpack(P, empty, empty)
    L, U = _unpack(a)
    packed = np.zeros(a.shape[:-2] + (m + k, max(k, n)), a.dtype)
    packed[..., :m, :k] = L
    packed[..., m:, :n] = U
    L_, U_ = _packed("lu_unpack", "LuUnpackBackward0", packed, f, (m, n),
                     [(Ellipsis, slice(0, m), slice(0, k)), (Ellipsis, slice(m, m + k),
                                                             slice(0, n))])
    return return_types.lu_unpack(P, L_, U_)


def lu_deprecated(A, pivot=True, get_infos=False):
    """``torch.lu`` (deprecated in PyTorch): ``(LU, pivots)``, with ``info`` when
    ``get_infos``."""
    _warn_once("lu", "torch.lu is deprecated in favor of torch.linalg.lu_factor / "
               "torch.linalg.lu_factor_ex and will be removed in a future PyTorch release.\n"
               "LU, pivots = torch.lu(A, compute_pivots)\nshould be replaced with\n"
               "LU, pivots = torch.linalg.lu_factor(A, compute_pivots)\nand\n"
               "LU, pivots, info = torch.lu(A, compute_pivots, get_infos=True)\nshould be "
               "replaced with\nLU, pivots, info = torch.linalg.lu_factor_ex(A, compute_pivots)")
    LU, piv, info = lu_factor_ex(A, pivot=pivot, check_errors=not get_infos)
    return (LU, piv, info) if get_infos else (LU, piv)


def lu_solve_deprecated(b, LU_data, LU_pivots) -> Tensor:
    """``torch.lu_solve(b, LU_data, LU_pivots)`` (deprecated in PyTorch): ``linalg.lu_solve``
    with the arguments in the older order."""
    return lu_solve(LU_data, LU_pivots, b)



# ---- inv_ex, solve_ex: the inverse and the solve with LAPACK's info instead of an error --------
def _lu_inverse_solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A^-1 B through A's LU factors with no singularity check: a zero pivot gives inf/nan, as
    LAPACK's getrs does (the pattern of infs and nans may differ from MKL's)."""
    from .matrix import _substitute
    lu_, _, perm, _ = _getrf(a)
    L, U = _unpack(lu_)
    pb = np.take_along_axis(np.broadcast_to(b, np.broadcast_shapes(b.shape[:-2], a.shape[:-2])
                                            + b.shape[-2:]), perm[..., :, None], -2)
    with np.errstate(all="ignore"):
        return _substitute(U, _substitute(L, pb, True), True)


def inv_ex(A, *, check_errors=False):
    """``(inverse, info)``: the inverse, and for each matrix the 1-based index of its first zero
    pivot (0 if invertible); a singular matrix raises only with ``check_errors``."""
    from .linalg import _singular, inv
    x = as_tensor_arg(A)
    info = _getrf(x._data)[3] if x._data.size else np.zeros(x.shape[:-2], np.int32)
    if not np.any(info):
        return return_types.linalg_inv_ex(inv(x), Tensor._make(info))
    if check_errors:
        raise _singular("linalg.inv_ex", x._data)
    n = x.shape[-1]
    data = _lu_inverse_solve(x._data, np.eye(n, dtype=x._data.dtype))
    return return_types.linalg_inv_ex(Tensor._make(np.asarray(data, x._data.dtype)),
                                      Tensor._make(info))


def solve_ex(A, B, *, left=True, check_errors=False):
    """``(result, info)``: ``linalg.solve``, with the first zero pivot's 1-based index per
    matrix (0 if none) instead of an error unless ``check_errors``."""
    from .linalg import solve
    x, y = as_tensor_arg(A), as_tensor_arg(B)
    info = _getrf(x._data)[3] if x._data.size else np.zeros(x.shape[:-2], np.int32)
    if not np.any(info):
        return return_types.linalg_solve_ex(solve(x, y, left=left), Tensor._make(info))
    if check_errors:
        raise LinAlgError("torch.linalg.solve_ex: The solver failed because the input matrix is "
                          "singular.")
    xa, ya, _ = _operands(x, y, True)
    vector = ya.ndim == 1 or (ya.ndim == xa.ndim - 1 and ya.shape == xa.shape[:-1])
    if not left:
        xa, ya = np.swapaxes(xa, -1, -2), np.swapaxes(ya, -1, -2)
    data = _lu_inverse_solve(xa, ya[..., None] if vector else ya)
    data = data[..., 0] if vector else data
    if not left:
        data = np.swapaxes(data, -1, -2)
    return return_types.linalg_solve_ex(Tensor._make(np.ascontiguousarray(data, xa.dtype)),
                                        Tensor._make(info))
