"""Matrix decompositions and what is built on them: cholesky, qr, eigh/eigvalsh, svd/svdvals,
pinv, lstsq, matrix_exp, matrix_norm and linalg.norm (through numpy's LAPACK).

A decomposition with several outputs records one op whose output packs them all (see
``tapegrad/linalg_vjps.py``); the tensors returned are slices of it, each showing PyTorch's
grad_fn name.
"""
from __future__ import annotations

import numpy as np

from .. import linalg_vjps  # noqa: F401  (registers the rows used below)
from ..ops import OPS
from ..tensor import Tensor, _dim
from .elementwise import to_dtype
from .linalg import _square
from .record import _return_type, _type_name, _wants_grad, as_tensor_arg, emit, return_types
from .reduce import amax, amin, norm, sum
from .shape import movedim, transpose, unsqueeze


class LinAlgError(RuntimeError):
    """Raised when a factorization or inversion fails (PyTorch's ``torch.linalg.LinAlgError``)."""


for _name, _fields in (("linalg_slogdet", ("sign", "logabsdet")),
                       ("slogdet", ("sign", "logabsdet")),
                       ("linalg_qr", ("Q", "R")), ("qr", ("Q", "R")),
                       ("linalg_eigh", ("eigenvalues", "eigenvectors")),
                       ("linalg_svd", ("U", "S", "Vh")), ("svd", ("U", "S", "V")),
                       ("linalg_cholesky_ex", ("L", "info")),
                       ("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))):
    setattr(return_types, _name, _return_type(_name, _fields))


def _matrix(x: Tensor, what: str) -> None:
    if x.ndim < 2:
        raise RuntimeError(f"{what}: The input tensor A must have at least 2 dimensions.")
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"{what}: Expected a floating point or complex tensor as input. Got "
                           f"{_type_name(x.dtype)}")


def _packed(op: str, name: str, packed: np.ndarray, x: Tensor, params: tuple, indexes):
    """The outputs ``packed[i]`` for each index; under grad, slices of one recorded op."""
    outs = [np.array(packed[i], order="C") for i in indexes]
    if not _wants_grad(x):
        return [Tensor._make(o) for o in outs]
    p = emit(OPS[op], name, packed, (x,), (x._data,), params)
    return [emit(OPS["getitem"], name, o, (p,), (packed,), (i,)) for o, i in zip(outs, indexes)]


def _empty_index(ndim: int) -> tuple:
    """An index giving an empty 1-D slice of any tensor with ``ndim`` >= 1 dimensions."""
    return (0,) * (ndim - 1) + (slice(0, 0),)


# ---- cholesky ---------------------------------------------------------------------------
def _cholesky_lower(a: np.ndarray, what: str) -> np.ndarray:
    try:
        return np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        pass
    n = a.shape[-1]
    for bi, m in enumerate(a.reshape(-1, n, n)):
        for k in range(1, n + 1):
            try:
                np.linalg.cholesky(m[:k, :k])
            except np.linalg.LinAlgError:
                batch = f"(Batch element {bi}): " if a.ndim > 2 else ""
                raise LinAlgError(f"{what}: {batch}The factorization could not be completed "
                                  "because the input is not positive-definite (the leading minor "
                                  f"of order {k} is not positive-definite).") from None
    raise LinAlgError(f"{what}: The factorization could not be completed.")


def _cholesky(A, upper: bool, name: str) -> Tensor:
    x = as_tensor_arg(A)
    _square(x, "cholesky")
    a = x._data
    # upper=True reads the upper triangle, as LAPACK's 'U': the lower factor of A^T, transposed.
    low = _cholesky_lower(np.swapaxes(a, -1, -2) if upper else a, "linalg.cholesky")
    data = np.ascontiguousarray(np.swapaxes(low, -1, -2)) if upper else low
    if _wants_grad(x):
        return emit(OPS["linalg_cholesky"], name, data, (x,), (a,), (bool(upper),))
    return Tensor._make(data)


def cholesky(A, *, upper=False) -> Tensor:
    """The Cholesky factor L (lower, or upper U with ``upper=True``) of a symmetric
    positive-definite matrix, A = L L^T; raises ``LinAlgError`` naming the failing minor."""
    return _cholesky(A, upper, "LinalgCholeskyExBackward0")


def cholesky_ex(A, *, upper=False, check_errors=False):
    """``(L, info)``: cholesky with ``info`` the order of the first minor that is not
    positive-definite (0 on success) instead of an error unless ``check_errors``."""
    x = as_tensor_arg(A)
    try:
        L = cholesky(x, upper=upper)
        info = np.zeros(x.shape[:-2], np.int32)
    except LinAlgError:
        if check_errors:
            raise
        n = x.shape[-1]
        flat = x._data.reshape(-1, n, n)
        info = np.zeros(len(flat), np.int32)
        out = np.zeros_like(flat)
        for bi, m in enumerate(flat):
            try:
                out[bi] = np.linalg.cholesky(m.T if upper else m)
            except np.linalg.LinAlgError:
                info[bi] = next(k for k in range(1, n + 1)
                                if not _is_pd(m[:k, :k].T if upper else m[:k, :k]))
        out = np.swapaxes(out, -1, -2) if upper else out
        L = Tensor._make(np.ascontiguousarray(out.reshape(x.shape)))
        info = info.reshape(x.shape[:-2])
    return return_types.linalg_cholesky_ex(L, Tensor._make(np.asarray(info, np.int32)))


def _is_pd(m) -> bool:
    try:
        np.linalg.cholesky(m)
        return True
    except np.linalg.LinAlgError:
        return False


def cholesky_deprecated(input, upper=False) -> Tensor:
    """``torch.cholesky`` (deprecated in PyTorch for ``torch.linalg.cholesky``)."""
    from .linalg import _warn_once
    _warn_once("cholesky", "torch.cholesky is deprecated in favor of torch.linalg.cholesky and "
               "will be removed in a future PyTorch release.\nL = torch.cholesky(A)\nshould be "
               "replaced with\nL = torch.linalg.cholesky(A)\nand\nU = torch.cholesky(A, "
               "upper=True)\nshould be replaced with\nU = torch.linalg.cholesky(A).mH\nThis "
               "transform will produce equivalent results for all valid (symmetric positive "
               "definite) inputs.")
    return _cholesky(input, upper, "CholeskyBackward0")


# ---- qr ---------------------------------------------------------------------------------
def qr(A, mode="reduced"):
    """The QR decomposition ``(Q, R)``: ``mode`` 'reduced' (Q m-by-k), 'complete' (Q square) or
    'r' (R only; Q is empty)."""
    x = as_tensor_arg(A)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    _matrix(x, "linalg.qr")
    a = x._data
    m, n = a.shape[-2:]
    batch = a.shape[:-2]
    if mode == "r":
        R = np.linalg.qr(a, mode="r") if a.size else np.zeros(batch + (min(m, n), n), a.dtype)
        R = np.asarray(R, a.dtype)
        q_index, r_index = _empty_index(R.ndim), (Ellipsis,)
        Q_, R_ = _packed("linalg_qr", "LinalgQrBackward0", R, x, (mode, m, n),
                         [q_index, r_index])
        return return_types.linalg_qr(Q_, R_)
    Q, R = np.linalg.qr(a, mode=mode)
    kq, kr = Q.shape[-1], R.shape[-2]
    packed = np.zeros(batch + (m + kr, max(kq, n)), a.dtype)
    packed[..., :m, :kq] = Q
    packed[..., m:, :n] = R
    Q_, R_ = _packed("linalg_qr", "LinalgQrBackward0", packed, x, (mode, m, n),
                     [(Ellipsis, slice(0, m), slice(0, kq)), (Ellipsis, slice(m, m + kr),
                                                             slice(0, n))])
    return return_types.linalg_qr(Q_, R_)


def qr_deprecated(input, some=True):
    """``torch.qr``: ``linalg.qr`` with ``some=True`` for 'reduced', False for 'complete'."""
    Q, R = qr(input, "reduced" if some else "complete")
    return return_types.qr(Q, R)


# ---- eigh -------------------------------------------------------------------------------
def _uplo(UPLO) -> str:
    if UPLO not in ("L", "U", "l", "u"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return UPLO.upper()


def _eigh(A, UPLO, what):
    x = as_tensor_arg(A)
    _square(x, what)
    uplo = _uplo(UPLO)
    a = x._data
    w, v = np.linalg.eigh(a, UPLO=uplo)
    n = a.shape[-1]
    packed = np.empty(a.shape[:-2] + (n + 1, n), a.dtype)
    packed[..., :n, :] = v
    packed[..., n, :] = w
    return x, packed, n


def eigh(A, UPLO="L"):
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix, reading its lower
    (``UPLO='L'``) or upper triangle: ``return_types.linalg_eigh(eigenvalues, eigenvectors)``."""
    x, packed, n = _eigh(A, UPLO, "eigh")
    L, Q = _packed("linalg_eigh", "LinalgEighBackward0", packed, x, (),
                   [(Ellipsis, n, slice(None)), (Ellipsis, slice(0, n), slice(None))])
    return return_types.linalg_eigh(L, Q)


def eigvalsh(A, UPLO="L") -> Tensor:
    """The eigenvalues (ascending) of a symmetric matrix."""
    x = as_tensor_arg(A)
    if not _wants_grad(x):
        _square(x, "eigvalsh")
        return Tensor._make(np.linalg.eigvalsh(x._data, UPLO=_uplo(UPLO)))
    x, packed, n = _eigh(x, UPLO, "eigvalsh")
    return _packed("linalg_eigh", "LinalgEighBackward0", packed, x, (),
                   [(Ellipsis, n, slice(None))])[0]


# ---- svd --------------------------------------------------------------------------------
def _svd_packed(x: Tensor, full_matrices: bool):
    a = x._data
    m, n = a.shape[-2:]
    U, S, Vh = np.linalg.svd(a, full_matrices=full_matrices)
    ucols, vrows, k = U.shape[-1], Vh.shape[-2], S.shape[-1]
    packed = np.zeros(a.shape[:-2] + (m + 1 + vrows, max(ucols, n, k)), a.dtype)
    packed[..., :m, :ucols] = U
    packed[..., m, :k] = S
    packed[..., m + 1:, :n] = Vh
    index = [(Ellipsis, slice(0, m), slice(0, ucols)), (Ellipsis, m, slice(0, k)),
             (Ellipsis, slice(m + 1, m + 1 + vrows), slice(0, n))]
    return packed, (m, n, ucols, vrows), index


def svd(A, full_matrices=True):
    """The singular value decomposition A = U diag(S) Vh (S descending):
    ``return_types.linalg_svd(U, S, Vh)``; ``full_matrices=False`` gives the reduced one."""
    x = as_tensor_arg(A)
    _matrix(x, "linalg.svd")
    packed, params, index = _svd_packed(x, bool(full_matrices))
    U, S, Vh = _packed("linalg_svd", "LinalgSvdBackward0", packed, x, params, index)
    return return_types.linalg_svd(U, S, Vh)


def svdvals(A) -> Tensor:
    """The singular values of a matrix (or batch), descending."""
    x = as_tensor_arg(A)
    _matrix(x, "linalg.svd")
    if not _wants_grad(x):
        return Tensor._make(np.linalg.svd(x._data, compute_uv=False))
    packed, params, index = _svd_packed(x, False)
    return _packed("linalg_svd", "LinalgSvdBackward0", packed, x, params, index[1:2])[0]


def svd_deprecated(input, some=True, compute_uv=True):
    """``torch.svd``: ``(U, S, V)`` with V (not its transpose); ``some=False`` gives square U and
    V; with ``compute_uv=False`` U and V are zeros."""
    x = as_tensor_arg(input)
    if not compute_uv:
        m, n = x.shape[-2:]
        zeros = [Tensor._make(np.zeros(x.shape[:-2] + (k, k), x._data.dtype)) for k in (m, n)]
        return return_types.svd(zeros[0], svdvals(x), zeros[1])
    U, S, Vh = svd(x, full_matrices=not some)
    return return_types.svd(U, S, transpose(Vh, -2, -1))


# ---- pinv -------------------------------------------------------------------------------
def _tol(t, default):
    if t is None:
        return default
    v = np.asarray(getattr(t, "_data", t), dtype=np.float64)
    return v[..., None] if v.ndim else v


def _pinv_array(a: np.ndarray, atol, rtol, hermitian: bool) -> np.ndarray:
    m, n = a.shape[-2:]
    if rtol is None:
        zero_atol = atol is None or not np.any(np.asarray(getattr(atol, "_data", atol)))
        rtol = np.finfo(a.dtype).eps * max(m, n) if zero_atol else 0.0
    atol_, rtol_ = _tol(atol, 0.0), _tol(rtol, 0.0)
    if a.shape[-1] == 0 or a.shape[-2] == 0:
        return np.zeros(a.shape[:-2] + (n, m), a.dtype)
    if hermitian:
        w, v = np.linalg.eigh(a)
        s = np.abs(w)
        thr = np.maximum(atol_, rtol_ * np.max(s, -1, keepdims=True))
        inv = np.where(s > thr, 1 / np.where(s > thr, w, 1), 0)
        return np.asarray((v * inv[..., None, :]) @ np.swapaxes(v, -1, -2), a.dtype)
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    thr = np.maximum(atol_, rtol_ * s[..., :1])
    inv = np.where(s > thr, 1 / np.where(s > thr, s, 1), 0)
    return np.asarray((np.swapaxes(vh, -1, -2) * inv[..., None, :]) @ np.swapaxes(u, -1, -2),
                      a.dtype)


def pinv(A, rcond=None, hermitian=False, *, atol=None, rtol=None) -> Tensor:
    """The Moore-Penrose pseudo-inverse: singular values at or below ``max(atol, rtol * s_max)``
    are dropped (``rtol`` defaults to eps * max(m, n) when ``atol`` is not given; ``rcond`` is the
    older name of ``rtol``). ``hermitian=True`` uses an eigendecomposition of the lower triangle."""
    x = as_tensor_arg(A)
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"linalg.pinv({_type_name(x.dtype)}{{{list(x.shape)}}}): expected a "
                           "tensor with 2 or more dimensions of float, double, cfloat or cdouble "
                           "types")
    _matrix(x, "linalg.pinv")
    if rcond is not None:
        rtol = rcond
    data = _pinv_array(x._data, atol, rtol, bool(hermitian))
    if _wants_grad(x):
        return emit(OPS["linalg_pinv"], "LinalgPinvBackward0", data, (x,), (x._data,))
    return Tensor._make(data)


def pinverse(input, rcond=1e-15) -> Tensor:
    """``torch.pinverse``: ``linalg.pinv`` with ``rcond`` (default 1e-15) as the relative
    tolerance."""
    return pinv(input, rtol=rcond)


# ---- lstsq ------------------------------------------------------------------------------
def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution of A X = B, as PyTorch's CPU driver 'gelsy' gives it:
    ``return_types.linalg_lstsq(solution, residuals, rank, singular_values)``, with residuals
    and singular_values empty for 'gelsy' (the default); 'gelsd'/'gelss' fill singular_values,
    and residuals when m > n and every matrix has full rank."""
    x, y = as_tensor_arg(A), as_tensor_arg(B)
    if x.dtype != y.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same "
                           f"dtype, but got input's dtype {_type_name(x.dtype)} and other's "
                           f"dtype {_type_name(y.dtype)}")
    if not x.dtype.is_floating_point:
        raise RuntimeError("This function doesn't handle types other than float and double")
    _matrix(x, "torch.linalg.lstsq")
    driver = driver or "gelsy"
    if driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, "
                           "gelsy, gelsd, gelss)")
    a, b = x._data, y._data
    m, n = a.shape[-2:]
    vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    bm = b[..., None] if vector else b
    if bm.shape[-2] != m:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    eps = np.finfo(a.dtype).eps
    rc = eps * max(m, n) if rcond is None or rcond < 0 else rcond
    s = np.linalg.svd(a, compute_uv=False)
    smax = s[..., :1] if s.shape[-1] else np.zeros(s.shape[:-1] + (1,), s.dtype)
    rank = np.sum(s > rc * smax, axis=-1).astype(np.int64)
    sol = np.asarray(np.matmul(_pinv_array(a, None, rc, False), bm), a.dtype)
    if vector:
        sol = sol[..., 0]
    batch = np.broadcast_shapes(a.shape[:-2], bm.shape[:-2])
    empty = np.zeros((0,), a.dtype)
    resid = empty
    if driver != "gelsy" and m > n and np.all(rank == n):
        r = np.matmul(a, sol[..., None] if vector else sol) - bm
        resid = np.asarray(np.sum(r * r, axis=-2), a.dtype)
    if _wants_grad(x, y):
        X = emit(OPS["linalg_lstsq"], "LinalgLstsqBackward0", sol, (x, y), (a, b))
        if resid.size:  # |A X - B|^2 summed over rows, recorded so that it has a gradient
            from .linalg import matmul
            d = matmul(x, unsqueeze(X, -1) if vector else X) - (unsqueeze(y, -1) if vector else y)
            sq = d * d
            dims = (sq.ndim - 2,)  # a vector B keeps a last dimension of 1, as PyTorch's
            resid_t = emit(OPS["sum"], "LinalgLstsqBackward0", resid, (sq,), (sq._data,),
                           (dims, False))
        else:
            resid_t = emit(OPS["getitem"], "LinalgLstsqBackward0", empty, (X,), (sol,),
                           (_empty_index(sol.ndim),))
    else:
        X, resid_t = Tensor._make(sol), Tensor._make(resid)
    rank_t = (Tensor._make(np.broadcast_to(rank, batch).copy()) if driver != "gels"
              else Tensor._make(np.zeros((0,), np.int64)))
    sv = (Tensor._make(np.broadcast_to(s, batch + s.shape[-1:]).copy())
          if driver in ("gelsd", "gelss") else Tensor._make(empty))
    return return_types.linalg_lstsq(X, resid_t, rank_t, sv)


# ---- matrix_exp -------------------------------------------------------------------------
_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
           129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
           40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152


def _expm(a: np.ndarray) -> np.ndarray:
    """exp of a (batch of) square matrices: Pade 13 with scaling and squaring (Higham 2005),
    in float64."""
    dt = a.dtype
    A = np.asarray(a, np.float64)
    n = A.shape[-1]
    if A.size == 0:
        return np.asarray(A, dt).copy()
    norm1 = np.abs(A).sum(-2).max(-1)
    s = np.maximum(0, np.ceil(np.log2(np.maximum(norm1, 1e-300) / _THETA13))).astype(np.int64)
    s = np.where(np.isfinite(norm1), s, 0)
    A = A / (2.0 ** s)[..., None, None]
    b = _PADE13
    eye = np.eye(n)
    A2 = A @ A
    A4 = A2 @ A2
    A6 = A4 @ A2
    U = A @ (A6 @ (b[13] * A6 + b[11] * A4 + b[9] * A2) + b[7] * A6 + b[5] * A4 + b[3] * A2
             + b[1] * eye)
    V = A6 @ (b[12] * A6 + b[10] * A4 + b[8] * A2) + b[6] * A6 + b[4] * A4 + b[2] * A2 \
        + b[0] * eye
    R = np.linalg.solve(V - U, V + U)
    smax = int(s.max()) if s.size else 0
    for i in range(smax):
        if R.ndim == 2:
            R = R @ R
        else:
            sel = s > i
            R[sel] = R[sel] @ R[sel]
    return np.asarray(R, dt)


def matrix_exp(A) -> Tensor:
    """The matrix exponential of a square matrix (or batch of them)."""
    x = as_tensor_arg(A)
    _square(x, "matrix_exp")
    data = _expm(x._data)
    if _wants_grad(x):
        return emit(OPS["linalg_matrix_exp"], "LinalgMatrixExpBackward0", data, (x,), (x._data,))
    return Tensor._make(data)


# ---- matrix_norm and linalg.norm --------------------------------------------------------
def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None) -> Tensor:
    """A matrix norm over the two dimensions ``dim``: ``ord`` 'fro', 'nuc', inf, -inf, 1, -1
    (max/min absolute row or column sum), 2, -2 (largest/smallest singular value)."""
    x = as_tensor_arg(A)
    if dtype is not None:
        x = to_dtype(x, dtype)
    _matrix(x, "linalg.matrix_norm")
    if len(dim) != 2:
        raise RuntimeError("linalg.matrix_norm: dim must be a 2-tuple. Got "
                           + " ".join(map(str, dim)))
    d0, d1 = _dim(dim[0], x.ndim), _dim(dim[1], x.ndim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    if ord in ("fro",):
        return norm(x, 2, (d0, d1), keepdim)
    if ord == "nuc" or ord in (2, -2):
        y = movedim(x, (d0, d1), (-2, -1))
        s = svdvals(y)
        r = sum(s, -1) if ord == "nuc" else (amax(s, -1) if ord == 2 else amin(s, -1))
        if keepdim:
            for d in sorted((d0, d1)):
                r = unsqueeze(r, d)
        return r
    if isinstance(ord, str) or ord not in (1, -1, np.inf, -np.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if abs(ord) == np.inf:
        d0, d1 = d1, d0
    r = norm(x, 1, d0, keepdim)
    if not keepdim and d0 < d1:
        d1 -= 1
    return (amax if ord > 0 else amin)(r, d1, keepdim)


def linalg_norm(A, ord=None, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    """torch.linalg.norm: a vector norm (``dim`` an int, or a 1-D input) or a matrix norm
    (``dim`` a pair, a string ``ord``, or a 2-D input with ``ord`` given); no ``ord`` and no
    ``dim`` is the 2-norm of all elements."""
    from .linalg import vector_norm
    x = as_tensor_arg(A)
    if dim is not None:
        dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        if len(dims) == 2 or isinstance(ord, str):
            return matrix_norm(x, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        return vector_norm(x, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(x, 2, None, keepdim, dtype=dtype)
    if x.ndim > 2:
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must "
                           f"be 1D or 2D. Got {x.ndim}D.")
    if x.ndim == 2 or isinstance(ord, str):
        return matrix_norm(x, ord, (-2, -1), keepdim, dtype=dtype)
    return vector_norm(x, ord, None, keepdim, dtype=dtype)
