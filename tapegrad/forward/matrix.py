"""The rest of torch.linalg's everyday names: solve_triangular (a recorded op), and vecdot,
multi_dot, matrix_rank, cond, matmul and diagonal, built on the other families; the torch.
products addmm, addmv, addr, baddbmm, addbmm, inner, vdot, chain_matmul; cholesky_solve and
cholesky_inverse (recorded ops with PyTorch's formulas)."""
from __future__ import annotations

import numpy as np

from ..ops import OPS
from ..tensor import Tensor
from .decomp import _matrix, matrix_norm, svdvals
from .elementwise import binary, div, mul, where
from .linalg import _matmul, _square, bmm, inv, matmul, mm, mv, outer
from .record import _operands, _wants_grad, as_tensor_arg, emit
from .reduce import sum
from .shape import diagonal as _diagonal
from .shape import reshape, squeeze, unsqueeze


def _triangle(a: np.ndarray, upper: bool, unitriangular: bool) -> np.ndarray:
    t = np.triu(a) if upper else np.tril(a)
    if unitriangular:
        t = t.copy()
        k = np.arange(a.shape[-1])
        t[..., k, k] = 1
    return t


def solve_triangular(A, B, *, upper, left=True, unitriangular=False) -> Tensor:
    """X with A X = B (``left=False``: X A = B) for a triangular A: only its ``upper`` (or lower)
    triangle is read, and its diagonal taken as ones when ``unitriangular``."""
    x, y = as_tensor_arg(A), as_tensor_arg(B)
    _square(x, "solve_triangular")
    if y.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 "
                           "dimensions.")
    xa, ya, _ = _operands(x, y, True)
    t = _triangle(xa, upper, unitriangular)
    n = t.shape[-1]
    if (ya.shape[-2] if left else ya.shape[-1]) != n:
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the "
                           f"equation {'AX = B' if left else 'XA = B'} ({n}x{n} and "
                           f"{ya.shape[-2]}x{ya.shape[-1]})")
    with np.errstate(all="ignore"):
        try:
            if left:
                data = np.linalg.solve(t, ya)
            else:
                data = np.swapaxes(np.linalg.solve(np.swapaxes(t, -1, -2),
                                                   np.swapaxes(ya, -1, -2)), -1, -2)
        except np.linalg.LinAlgError:  # a zero on the diagonal: LAPACK's trtrs divides by it
            data = _substitute(t, ya, left)
    data = np.ascontiguousarray(data, dtype=t.dtype)
    if _wants_grad(x, y):
        return emit(OPS["linalg_solve_triangular"], "LinalgSolveTriangularBackward0", data,
                    (x, y), (xa, ya), (bool(upper), bool(left), bool(unitriangular)))
    return Tensor._make(data)


def _substitute(t, b, left):
    """Forward/back substitution with no singularity check (inf/nan as LAPACK gives)."""
    if not left:
        return np.swapaxes(_substitute(np.swapaxes(t, -1, -2), np.swapaxes(b, -1, -2), True),
                           -1, -2)
    shape = np.broadcast_shapes(t.shape[:-2], b.shape[:-2])
    t = np.broadcast_to(t, shape + t.shape[-2:])
    x = np.array(np.broadcast_to(b, shape + b.shape[-2:]), dtype=np.result_type(t, b))
    n = t.shape[-1]
    lower = not np.any(np.triu(t, 1))
    order = range(n) if lower else range(n - 1, -1, -1)
    for i in order:
        rest = slice(0, i) if lower else slice(i + 1, n)
        s = x[..., i, :] - np.einsum("...j,...jk->...k", t[..., i, rest], x[..., rest, :])
        x[..., i, :] = s / t[..., i, i][..., None]
    return x


def vecdot(x, y, *, dim=-1) -> Tensor:
    """The dot product of ``x`` and ``y`` along ``dim`` (broadcasting the other dimensions)."""
    return sum(mul(x, y), dim)


def multi_dot(tensors) -> Tensor:
    """The product of a chain of matrices; the first may be a 1-D row and the last a 1-D
    column (multiplied left to right, where PyTorch picks the cheapest order)."""
    ts = [as_tensor_arg(t) for t in tensors]
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    last = len(ts) - 1
    for i, t in enumerate(ts):
        if i in (0, last) and t.ndim not in (1, 2):
            raise RuntimeError(f"multi_dot(): the {'first' if i == 0 else 'last'} tensor must "
                               f"be 1D or 2D but got {t.ndim}D")
        if i not in (0, last) and t.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    for i in range(last):
        if ts[i].shape[-1] != ts[i + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes "
                               f"{list(ts[i].shape)} and {list(ts[i + 1].shape)} cannot be "
                               "multiplied")
    # As PyTorch: vectors become a row and a column, the chain is multiplied, and the result
    # viewed back to the vectors' shape (its node is a ViewBackward0).
    shape = tuple(ts[0].shape[:-1]) + tuple(ts[-1].shape[1:])
    if ts[0].ndim == 1:
        ts[0] = unsqueeze(ts[0], 0)
    if ts[-1].ndim == 1:
        ts[-1] = unsqueeze(ts[-1], 1)
    out = ts[0]
    for t in ts[1:]:
        out = matmul(out, t)
    return reshape(out, shape)


def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None) -> Tensor:
    """The number of singular values (eigenvalues' absolute values with ``hermitian``) above
    ``max(atol, rtol * largest)``; the tolerances default as in ``pinv`` (``tol`` is an older
    name of ``atol``)."""
    x = as_tensor_arg(A)
    _matrix(x, "linalg.matrix_rank")
    if tol is not None:
        atol = tol
    a = x._data
    m, n = a.shape[-2:]
    s = np.abs(np.linalg.eigvalsh(a)) if hermitian else np.linalg.svd(a, compute_uv=False)
    if rtol is None:
        zero_atol = atol is None or not np.any(np.asarray(getattr(atol, "_data", atol)))
        rtol = np.finfo(a.dtype).eps * max(m, n) if zero_atol else 0.0
    at = np.asarray(getattr(atol, "_data", 0.0 if atol is None else atol), np.float64)
    rt = np.asarray(getattr(rtol, "_data", rtol), np.float64)
    smax = np.max(s, axis=-1, keepdims=True) if s.shape[-1] else np.zeros(s.shape[:-1] + (1,))
    thr = np.maximum(at[..., None] if at.ndim else at, (rt[..., None] if rt.ndim else rt) * smax)
    return Tensor._make(np.asarray(np.sum(s > thr, axis=-1), np.int64))


def cond(A, p=None) -> Tensor:
    """The condition number in the norm ``p``: for None/2/-2 the ratio of the extreme singular
    values; for 'fro', 'nuc', inf, -inf, 1, -1 the norm of A times the norm of its inverse."""
    x = as_tensor_arg(A)
    _matrix(x, "linalg.cond")
    if p in (None, 2, -2):
        s = svdvals(x)
        hi, lo = s[..., :1], s[..., -1:]
        return squeeze(div(hi, lo) if p != -2 else div(lo, hi), -1)
    if p not in ("fro", "nuc", np.inf, -np.inf, 1, -1):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    if x.shape[-1] != x.shape[-2]:
        raise RuntimeError(f"linalg.cond(ord={p}): A must be batches of square matrices, but "
                           f"they are {x.shape[-2]} by {x.shape[-1]} matrices")
    try:
        return mul(matrix_norm(x, p), matrix_norm(inv(x), p))
    except RuntimeError:  # a singular matrix has condition number inf
        a = x._data
        n = a.shape[-1]
        out = np.full(a.shape[:-2], np.inf, a.dtype)
        flat = out.reshape(-1)
        for i, m in enumerate(a.reshape(-1, n, n)):
            try:
                flat[i] = np.linalg.norm(m, p) * np.linalg.norm(np.linalg.inv(m), p)
            except np.linalg.LinAlgError:
                pass
        return Tensor._make(out)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1) -> Tensor:
    """The diagonal (``offset`` above it, or below when negative) of the last two dimensions,
    as a view."""
    return _diagonal(A, offset, dim1, dim2)


def linalg_matmul(input, other) -> Tensor:
    """``torch.linalg.matmul``: the same as ``torch.matmul``."""
    return matmul(input, other)


# ---- torch.addmm and the other scaled products --------------------------------------------
def _scaled_add(name: str, input, prod: Tensor, beta, alpha) -> Tensor:
    """beta * input + alpha * prod, the sum recorded under PyTorch's node ``name``; with
    beta = 0 the input is not read (its nan and inf do not propagate)."""
    p = prod if alpha == 1 else mul(prod, alpha)
    x = as_tensor_arg(input)
    try:
        fits = tuple(np.broadcast_shapes(tuple(x.shape), tuple(p.shape))) == tuple(p.shape)
    except ValueError:
        fits = False
    if not fits:
        k = next((k for k in range(1, x.ndim + 1) if k > p.ndim or
                  (x.shape[-k] != 1 and x.shape[-k] != p.shape[-k])), 1)
        if k > p.ndim:
            raise RuntimeError(f"The expanded size of the tensor ({-1}) isn't allowed in a "
                               f"leading, non-existing dimension {0}")
        raise RuntimeError(f"The expanded size of the tensor ({p.shape[-k]}) must match the "
                           f"existing size ({x.shape[-k]}) at non-singleton dimension "
                           f"{p.ndim - k}.  Target sizes: {list(p.shape)}.  Tensor sizes: "
                           f"{list(x.shape)}")
    if beta == 0:  # input's values are not read, its gradient is zero
        return binary("add", where(Tensor._make(np.zeros(x.shape, bool)), x, 0.0), p, name)
    return binary("add", x if beta == 1 else mul(x, beta), p, name)


def addmm(input, mat1, mat2, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)`` for matrices (input broadcast)."""
    m1 = as_tensor_arg(mat1)
    if m1.ndim != 2:
        raise RuntimeError(f"mat1 must be a matrix, got {m1.ndim}-D tensor")
    m2 = as_tensor_arg(mat2)
    if m2.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix, got {m2.ndim}-D tensor")
    return _scaled_add("AddmmBackward0", input, mm(m1, m2), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat @ vec)``."""
    return _scaled_add("AddmvBackward0", input, mv(mat, vec), beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * outer(vec1, vec2)``."""
    for k, v in (("vec1", vec1), ("vec2", vec2)):
        if as_tensor_arg(v).ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {k}, but got "
                               f"{as_tensor_arg(v).ndim}-D")
    return _scaled_add("AddrBackward0", input, outer(vec1, vec2), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * bmm(batch1, batch2)``."""
    return _scaled_add("BaddbmmBackward0", input, bmm(batch1, batch2), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * sum over the batch of bmm(batch1, batch2)``."""
    return _scaled_add("AddbmmBackward0", input, sum(bmm(batch1, batch2), 0), beta, alpha)


def inner(input, other) -> Tensor:
    """The inner product over the last dimension (a scalar times a tensor for a 0-d operand)."""
    x, y = as_tensor_arg(input), as_tensor_arg(other)
    if x.ndim == 0 or y.ndim == 0:
        return mul(x, y)
    if x.shape[-1] != y.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but "
                           f"got shapes {list(x.shape)} and {list(y.shape)}")
    shape = tuple(x.shape[:-1]) + tuple(y.shape[:-1])
    flat = matmul(reshape(x, (-1, x.shape[-1])), reshape(y, (-1, y.shape[-1])).mT)
    return reshape(flat, shape)


def vdot(input, other) -> Tensor:
    """The dot product of two 1-D tensors (the first conjugated: the same for real ones)."""
    x, y = as_tensor_arg(input), as_tensor_arg(other)
    if x.ndim != 1 or y.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {x.ndim}D and {y.ndim}D tensors")
    return _matmul(x, y, "VdotBackward0")


def chain_matmul(*matrices) -> Tensor:
    """``torch.chain_matmul`` (deprecated in PyTorch): ``linalg.multi_dot`` of 2-D tensors."""
    if len(matrices) == 1:
        return as_tensor_arg(matrices[0]).clone()
    return multi_dot(list(matrices))


# ---- cholesky_solve, cholesky_inverse ---------------------------------------------------
def cholesky_solve(B, L, upper=False) -> Tensor:
    """X with (L L^T) X = B (U^T U with ``upper``), given the Cholesky factor: only its
    triangle is read."""
    y, x = as_tensor_arg(B), as_tensor_arg(L)
    _square(x, "cholesky_solve")
    ya, xa, _ = _operands(y, x, True)
    t = np.triu(xa) if upper else np.tril(xa)
    gram = np.swapaxes(t, -1, -2) @ t if upper else t @ np.swapaxes(t, -1, -2)
    data = np.ascontiguousarray(np.linalg.solve(gram, ya), dtype=t.dtype)
    if _wants_grad(y, x):
        # The rule multiplies by the factor as given (its other triangle too), as PyTorch's.
        return emit(OPS["cholesky_solve"], "CholeskySolveBackward0", data, (y, x), (ya, xa),
                    (bool(upper),))
    return Tensor._make(data)


def cholesky_inverse(L, upper=False) -> Tensor:
    """The inverse of L L^T (U^T U with ``upper``) from its Cholesky factor."""
    x = as_tensor_arg(L)
    _square(x, "cholesky_inverse")
    t = np.triu(x._data) if upper else np.tril(x._data)
    gram = np.swapaxes(t, -1, -2) @ t if upper else t @ np.swapaxes(t, -1, -2)
    data = np.ascontiguousarray(np.linalg.inv(gram), dtype=t.dtype)
    if _wants_grad(x):
        return emit(OPS["cholesky_inverse"], "CholeskyInverseBackward0", data, (x,), (x._data,),
                    (bool(upper),))
    return Tensor._make(data)


# ---- vander, tensorinv, tensorsolve ---------------------------------------------------
def vander(x, *, N=None) -> Tensor:
    """The Vandermonde matrix of the last dimension of ``x``: columns x**0, x**1, ...,
    x**(N-1) (N defaults to the length of x)."""
    from .join import cat
    from .reduce import cumprod
    from .shape import expand
    t = as_tensor_arg(x)
    n = t.shape[-1] if t.ndim and N is None else N
    if n is None or n <= 1:
        raise RuntimeError("N must be greater than 1.")
    col = unsqueeze(t, -1)
    ones = Tensor._make(np.ones(tuple(t.shape) + (1,), t._data.dtype))
    powers = cumprod(expand(col, tuple(t.shape) + (n - 1,)), -1)
    return cat([ones, powers], -1)


def tensorinv(A, ind=2) -> Tensor:
    """The inverse of A seen as a matrix from its first ``ind`` dimensions to the rest: the
    result has shape A.shape[ind:] + A.shape[:ind]."""
    x = as_tensor_arg(A)
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, cols = int(np.prod(x.shape[:ind])), int(np.prod(x.shape[ind:]))
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {cols} != {rows}")
    return reshape(inv(reshape(x, (rows, cols))), tuple(x.shape[ind:]) + tuple(x.shape[:ind]))


def tensorsolve(A, B, dims=None) -> Tensor:
    """X with ``tensordot(A, X, X.ndim) = B``; ``dims`` are A's dimensions moved to the end
    first. X has shape A.shape[B.ndim:]."""
    from .linalg import solve
    from .shape import movedim
    x, y = as_tensor_arg(A), as_tensor_arg(B)
    if dims is not None:
        dims = [d % x.ndim for d in dims]
        x = movedim(x, dims, list(range(x.ndim - len(dims), x.ndim)))
    rows, cols = int(np.prod(x.shape[:y.ndim])), int(np.prod(x.shape[y.ndim:]))
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:])"
                           f" == prod(self.shape[:other.ndim]), but got {cols} != {rows}")
    out = solve(reshape(x, (rows, cols)), reshape(y, (rows,)))
    return reshape(out, tuple(x.shape[y.ndim:]))
