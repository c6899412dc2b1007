"""Matrix products: matmul, mm, mv, dot, outer, bmm (through numpy's BLAS); torch.linalg's inv,
det, solve, slogdet, matrix_power, cross and kron; einsum, tensordot, trace."""
from __future__ import annotations

import numpy as np

from .. import dtypes, threads
from ..ops import OPS
from ..tape import TLS
from ..tensor import Tensor
from .elementwise import mul, to_dtype
from .record import (_broadcast_error, _operands, _type_name, _wants_grad, as_tensor_arg, emit,
                     return_types)
from .reduce import norm
from .shape import unsqueeze


# ---- matrix products -----------------------------------------------------------------------
def _shape_str(shape) -> str:
    return "x".join(map(str, shape))


def matmul(input, other):
    """Matrix product of two tensors, with numpy's/PyTorch's rules: 1-D by 1-D is a dot
    product, a 1-D operand gains (then loses) a dimension, and batch dimensions broadcast."""
    return _matmul(input, other)


def _matmul(input, other, name=None):
    """``matmul``, recording the node under ``name`` (mm, mv, dot and bmm pass their own)."""
    x, y = as_tensor_arg(input), as_tensor_arg(other)
    if x.ndim == 0 or y.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{x.ndim}D and {y.ndim}D")
    xa, ya, dt = _operands(x, y, False)
    if xa.dtype != ya.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_type_name(x.dtype).lower()} != {_type_name(y.dtype).lower()}")
    k1 = xa.shape[-1]
    k2 = ya.shape[0] if ya.ndim == 1 else ya.shape[-2]
    if k1 != k2:
        if xa.ndim == 1 and ya.ndim == 1:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{k1}] and src [{k2}] "
                               f"to have the same number of elements, but got {k1} and {k2} "
                               "elements respectively")
        if xa.ndim <= 2 and ya.ndim <= 2:
            sx = xa.shape if xa.ndim == 2 else (1,) + xa.shape
            sy = ya.shape if ya.ndim == 2 else ya.shape + (1,)
            if ya.ndim == 1:
                raise RuntimeError(f"size mismatch, got input ({sx[0]}), mat ({_shape_str(sx)}), "
                                   f"vec ({k2})")
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_shape_str(sx)} and "
                               f"{_shape_str(sy)})")
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{xa.shape[0] if xa.ndim > 2 else 1}, {k1}] but got: "
                           f"[{ya.shape[0] if ya.ndim > 2 else 1}, {k2}].")
    try:
        data = threads.matmul(xa, ya)  # BLAS threads sized by m*n*k
    except ValueError:
        raise _broadcast_error(xa.shape[:-2], ya.shape[:-2]) from None
    data = np.asarray(data)
    if _wants_grad(x, y):
        if name is None:
            name = _matmul_node(x, xa.shape, ya.shape)
        return emit(OPS["matmul"], name, data, (x, y), (xa, ya))
    return Tensor._make(data)


def _matmul_node(x: Tensor, sa: tuple, sb: tuple) -> str:
    """PyTorch's grad_fn name for matmul, which follows how it folds the operands: batched
    products end in an unsafe view, except that a matrix (or a batch of one) times a batch
    that must be transposed to fold ends in a copy when the first operand requires grad."""
    nd = (len(sa), len(sb))
    simple = {(1, 1): "DotBackward0", (2, 1): "MvBackward0", (2, 2): "MmBackward0",
              (1, 2): "SqueezeBackward4"}
    if nd in simple:
        return simple[nd]
    if len(sb) >= 3 and len(sa) >= 2 and x._rg and TLS.s.grad_enabled:
        if len(sa) == 2 or (len(sa) == 3 and sa[0] == 1 and int(np.prod(sb[:-2])) > 1):
            return "TransposeBackward0" if sa[-2] == 1 else "CloneBackward0"
    return "UnsafeViewBackward0"


def mm(input, mat2):
    """Matrix product of two 2-D tensors."""
    x, y = as_tensor_arg(input), as_tensor_arg(mat2)
    if x.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if y.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    return _matmul(x, y, "MmBackward0")


def mv(input, vec):
    """Product of a matrix (2-D) and a vector (1-D)."""
    x, y = as_tensor_arg(input), as_tensor_arg(vec)
    if x.ndim != 2 or y.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {y.ndim}, {x.ndim}, {y.ndim}")
    return _matmul(x, y, "MvBackward0")


def dot(input, other):
    """Inner product of two 1-D tensors."""
    x, y = as_tensor_arg(input), as_tensor_arg(other)
    if x.ndim != 1 or y.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {x.ndim}D and {y.ndim}D tensors")
    return _matmul(x, y, "DotBackward0")


def outer(input, vec2):
    """Outer product of two 1-D tensors: ``out[i, j] = input[i] * vec2[j]``."""
    x, y = as_tensor_arg(input), as_tensor_arg(vec2)
    if x.ndim != 1 or y.ndim != 1:
        raise RuntimeError(f"outer: expected 1D tensors, but got {x.ndim}D and {y.ndim}D")
    return mul(unsqueeze(x, 1), y)


ger = outer


def bmm(input, mat2):
    """Batched matrix product of two 3-D tensors with the same batch size (no broadcasting)."""
    x, y = as_tensor_arg(input), as_tensor_arg(mat2)
    if x.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if y.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if x.shape[0] != y.shape[0]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{x.shape[0]}, {x.shape[2]}] but got: [{y.shape[0]}, {y.shape[1]}].")
    return _matmul(x, y, "BmmBackward0")


# ---- linear algebra: torch.linalg ----------------------------------------------------------
def _square(x: Tensor, what: str) -> None:
    if x.ndim < 2:
        raise RuntimeError(f"linalg.{what}: The input tensor A must have at least 2 dimensions.")
    if x.shape[-1] != x.shape[-2]:
        raise RuntimeError(f"linalg.{what}: A must be batches of square matrices, but they are "
                           f"{x.shape[-2]} by {x.shape[-1]} matrices")
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"linalg.{what}: Expected a floating point or complex tensor as "
                           f"input. Got {_type_name(x.dtype)}")


def _singular(what: str, a: np.ndarray) -> RuntimeError:
    """PyTorch's LinAlgError for a singular matrix: the first zero pivot of the first singular
    matrix in the batch."""
    from .decomp import LinAlgError
    from .lu import _getrf
    info = _getrf(a)[3]
    flat = info.reshape(-1)
    bad = np.flatnonzero(flat)
    b = int(bad[0]) if bad.size else 0
    batch = f"(Batch element {b}): " if info.ndim else ""
    return LinAlgError(f"{what}: {batch}The diagonal element {int(flat[b]) if bad.size else 1} "
                       "is zero, the inversion could not be completed because the input matrix "
                       "is singular.")


def inv(A) -> Tensor:
    """The inverse of a square matrix (or batch of them); raises for a singular matrix."""
    x = as_tensor_arg(A)
    _square(x, "inv")
    try:
        data = np.linalg.inv(x._data)
    except np.linalg.LinAlgError:
        raise _singular("linalg.inv", x._data) from None
    if _wants_grad(x):
        return emit(OPS["linalg_inv"], "LinalgInvExBackward0", data, (x,), (x._data,))
    return Tensor._make(data)


def det(A) -> Tensor:
    """The determinant of a square matrix (or batch of them)."""
    x = as_tensor_arg(A)
    _square(x, "det")
    data = np.asarray(np.linalg.det(x._data), dtype=x._data.dtype)
    if _wants_grad(x):
        return emit(OPS["linalg_det"], "LinalgDetBackward0", data, (x,), (x._data,))
    return Tensor._make(data)


def solve(A, B, *, left=True) -> Tensor:
    """X with A X = B (``left=False``: X A = B). B is a vector when it is 1-D or has A's shape
    without its last dimension (a batch of vectors), a (batch of) matrix otherwise."""
    from .shape import _permute, _shape_op, transpose
    x, y = as_tensor_arg(A), as_tensor_arg(B)
    _square(x, "solve")
    n = x.shape[-1]
    vector = y.ndim == 1 or (y.ndim == x.ndim - 1 and tuple(y.shape) == tuple(x.shape[:-1]))
    if not left:  # X A = B is A^T X^T = B^T; the last transpose shows PyTorch's node
        if vector or y.shape[-1] != n:
            b = "x".join(map(str, y.shape[-2:])) if y.ndim >= 2 else f"{y.shape[0]}x1"
            raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                               f"XA = B ({n}x{n} and {b})")
        xt = solve(transpose(x, -2, -1), transpose(y, -2, -1))
        axes = list(range(xt.ndim))
        axes[-2], axes[-1] = axes[-1], axes[-2]
        return _permute(xt, tuple(axes), "LinalgSolveExBackward0")
    if vector and y.ndim > 1:  # a batch of vectors: solved as columns, shown as one node
        col = solve(x, unsqueeze(y, -1))
        return _shape_op(col, np.ascontiguousarray(col._data[..., 0]), "reshape",
                         "LinalgSolveExBackward0", (), None)
    if (y.shape[0] if vector else y.shape[-2]) != n:
        b = f"{y.shape[0]}x1" if vector else "x".join(map(str, y.shape[-2:]))
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"AX = B ({n}x{n} and {b})")
    xa, ya, _ = _operands(x, y, True)
    try:
        data = np.linalg.solve(xa, ya[..., None] if vector else ya)
    except np.linalg.LinAlgError:
        from .decomp import LinAlgError
        info = _getrf_info(xa)
        batch = f"(Batch element {int(np.flatnonzero(info.reshape(-1))[0])}): " \
            if info.ndim else ""
        raise LinAlgError(f"torch.linalg.solve: {batch}The solver failed because the input "
                          "matrix is singular.") from None
    except ValueError as e:
        raise RuntimeError(f"linalg.solve: {e}") from None
    if vector:
        data = data[..., 0]
    if _wants_grad(x, y):
        return emit(OPS["linalg_solve"], "LinalgSolveExBackward0", data, (x, y), (xa, ya))
    return Tensor._make(data)


def _getrf_info(a: np.ndarray) -> np.ndarray:
    from .lu import _getrf
    return _getrf(a)[3]


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    """The vector ``ord``-norm over ``dim`` (all elements by default), as torch.linalg.vector_norm.
    """
    if isinstance(ord, str):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' (position 2) must be Number, not "
                        f"{type(ord).__name__}")
    if ord == 0:  # the number of nonzero elements; PyTorch's gradient is undefined (None)
        t = as_tensor_arg(x)
        if dtype is not None:
            t = to_dtype(t, dtype)
        from .record import _dims
        dims = _dims(dim, t.ndim)
        data = np.asarray(np.sum(t._data != 0, axis=dims, keepdims=keepdim), t._data.dtype)
        if _wants_grad(t):
            return emit(OPS["linalg_vector_norm0"], "LinalgVectorNormBackward0", data, (t,),
                        (t._data,))
        return Tensor._make(data)
    return norm(x, p=ord, dim=dim, keepdim=keepdim, dtype=dtype)


# ---- contractions: einsum, tensordot, trace ------------------------------------------------
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _normalise(equation: str, ndims: list) -> tuple:
    """(subscripts per operand, output subscripts): explicit letters, no ellipsis."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    subs = lhs.split(",")
    if len(subs) != len(ndims):
        raise RuntimeError(f"einsum(): {len(subs)} operands were specified in the equation but "
                           f"{len(ndims)} were given")
    used = set(eq)
    spare = [c for c in _LETTERS if c not in used]
    n_ell = max([nd - (len(s) - 3) for s, nd in zip(subs, ndims) if "..." in s] or [0])
    ell = "".join(spare[:n_ell])
    out_subs = []
    for s, nd in zip(subs, ndims):
        if "..." in s:
            k = nd - (len(s) - 3)
            s = s.replace("...", ell[n_ell - k:] if k else "")
        if len(s) != nd:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(s)}) "
                               f"does not match the number of dimensions ({nd}) for operand")
        out_subs.append(s)
    if arrow:
        out = rhs.replace("...", ell)
    else:
        letters = "".join(out_subs)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1
                                   and c not in ell))
    return out_subs, out


def _record(spec: str, xs: list) -> Tensor:
    arrays = [x._data for x in xs]
    data = np.asarray(np.einsum(spec, *arrays))
    if _wants_grad(*xs):
        return emit(OPS["einsum"], "EinsumBackward0", data, tuple(xs), tuple(arrays), (spec,))
    return Tensor._make(data)


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation, as torch.einsum: ``einsum('ij,jk->ik', a, b)``; ``...`` and the implicit
    output are supported. More than two operands are contracted left to right, pairwise."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    xs = [as_tensor_arg(x) for x in operands]
    dt = xs[0].dtype
    for x in xs[1:]:
        dt = dtypes.promote(dt, x.dtype)
    xs = [x if x.dtype == dt else to_dtype(x, dt) for x in xs]
    subs, out = _normalise(equation, [x.ndim for x in xs])
    if len(xs) <= 2:
        return _record(",".join(subs) + "->" + out, xs)
    cur, cur_s = xs[0], subs[0]
    for k in range(1, len(xs)):
        if k == len(xs) - 1:
            keep = out
        else:
            later = set("".join(subs[k + 1:]) + out)
            keep = "".join(c for c in dict.fromkeys(cur_s + subs[k]) if c in later)
        cur = _record(f"{cur_s},{subs[k]}->{keep}", [cur, xs[k]])
        cur_s = keep
    return cur


def tensordot(a, b, dims=2) -> Tensor:
    """numpy's tensordot: ``dims`` an int (the last n of a with the first n of b) or two
    lists of dimensions."""
    x, y = as_tensor_arg(a), as_tensor_arg(b)
    if isinstance(dims, (int, np.integer)):
        n = int(dims)
        da, db = list(range(x.ndim - n, x.ndim)), list(range(n))
    else:
        da, db = dims
        da = [da] if isinstance(da, (int, np.integer)) else list(da)
        db = [db] if isinstance(db, (int, np.integer)) else list(db)
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    da = [d % x.ndim for d in da]
    db = [d % y.ndim for d in db]
    sa = list(_LETTERS[:x.ndim])
    sb = list(_LETTERS[x.ndim:x.ndim + y.ndim])
    for i, j in zip(da, db):
        if x.shape[i] != y.shape[j]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{x.shape[i]} in dim {i} and second has size {y.shape[j]} in "
                               f"dim {j}")
        sb[j] = sa[i]
    out = "".join(c for k, c in enumerate(sa) if k not in da) + \
        "".join(c for k, c in enumerate(sb) if k not in db)
    return einsum(f"{''.join(sa)},{''.join(sb)}->{out}", x, y)


def trace(input) -> Tensor:
    """The sum of the diagonal of a 2-D tensor."""
    x = as_tensor_arg(input)
    if x.ndim != 2:
        raise RuntimeError("trace: expected a matrix, but got tensor with dim " f"{x.ndim}")
    data = np.asarray(np.trace(x._data))
    if _wants_grad(x):
        return emit(OPS["trace"], "TraceBackward0", data, (x,), (x._data,))
    return Tensor._make(data)


# ---- kron, cross, matrix_power, slogdet, logdet ------------------------------------------
def kron(input, other) -> Tensor:
    """The Kronecker product: every element of ``input`` times all of ``other``, in blocks
    (operands of different ranks gain leading dimensions of size 1)."""
    from .shape import reshape
    x, y = as_tensor_arg(input), as_tensor_arg(other)
    nd = max(x.ndim, y.ndim)
    sx, sy = (1,) * (nd - x.ndim) + tuple(x.shape), (1,) * (nd - y.ndim) + tuple(y.shape)
    xs = reshape(x, tuple(v for s in sx for v in (s, 1)))
    ys = reshape(y, tuple(v for s in sy for v in (1, s)))
    prod = mul(xs, ys)
    shape = tuple(p * q for p, q in zip(sx, sy))
    data = prod._data.reshape(shape)
    if _wants_grad(prod):
        return emit(OPS["reshape"], "UnsafeViewBackward0", data, (prod,), (prod._data,))
    return Tensor._make(data)


def linalg_cross(input, other, *, dim=-1) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (broadcasting the other dimensions)."""
    x, y = as_tensor_arg(input), as_tensor_arg(other)
    if x.ndim != y.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    nd = max(x.ndim, 1)
    d = dim + nd if dim < 0 else dim
    if not 0 <= d < nd:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}],"
                         f" but got {dim})")
    if x.shape[d] != 3 or y.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{x.shape[d]} and {y.shape[d]}")
    if x.dtype != y.dtype:
        raise RuntimeError(f"expected scalar type {_type_name(x.dtype)} but found "
                           f"{_type_name(y.dtype)}")
    xa, ya, _ = _operands(x, y, False)
    try:
        data = np.cross(xa, ya, axis=d)
    except ValueError:
        raise _broadcast_error(xa.shape, ya.shape) from None
    data = np.asarray(data, xa.dtype)
    if _wants_grad(x, y):
        return emit(OPS["linalg_cross"], "LinalgCrossBackward0", data, (x, y), (xa, ya), (d,))
    return Tensor._make(data)


_WARNED: set = set()


def _warn_once(key: str, message: str) -> None:
    """A UserWarning once per process, as PyTorch's TORCH_WARN_ONCE."""
    if key not in _WARNED:
        _WARNED.add(key)
        import warnings
        warnings.warn(message, UserWarning, stacklevel=3)


def cross(input, other, dim=None) -> Tensor:
    """``torch.cross``: linalg.cross along ``dim``; without ``dim``, along the first dimension of
    size 3 (PyTorch warns that this default will change)."""
    if dim is None:
        _warn_once("cross", "Using torch.cross without specifying the dim arg is deprecated.\n"
                   "Please either pass the dim explicitly or simply use torch.linalg.cross.\n"
                   "The default value of dim will change to agree with that of linalg.cross in "
                   "a future release.")
        x, y = as_tensor_arg(input), as_tensor_arg(other)
        shape = np.broadcast_shapes(tuple(x.shape), tuple(y.shape))
        dim = next((i for i, s in enumerate(shape) if s == 3), -1)
    return linalg_cross(input, other, dim=dim)


def matrix_power(A, n) -> Tensor:
    """A square matrix (or batch) to the integer power ``n``: repeated squaring; n = 0 is the
    identity, a negative ``n`` is a power of the inverse."""
    x = as_tensor_arg(A)
    if x.ndim < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 "
                           "dimensions.")
    if x.shape[-1] != x.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they "
                           f"are {x.shape[-2]} by {x.shape[-1]} matrices")
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"linalg_matrix_power(): argument 'n' (position 2) must be int, not "
                        f"{type(n).__name__}")
    n = int(n)
    if n == 0:
        data = np.broadcast_to(np.eye(x.shape[-1], dtype=x._data.dtype), x.shape).copy()
        if _wants_grad(x):  # PyTorch copies the identity in: a zero gradient, CopyBackwards
            return emit(OPS["where"], "CopyBackwards", data,
                        (Tensor._make(np.zeros(x.shape, bool)), x, 0.0),
                        (np.zeros(x.shape, bool), x._data, 0.0))
        return Tensor._make(data)
    if n == 1:
        from .elementwise import clone
        return clone(x)
    if n < 0:
        x = inv(x)
        n = -n
    if n == 1:
        return x
    if n == 2:
        return matmul(x, x)
    if n == 3:
        return matmul(matmul(x, x), x)
    z = result = None
    while n > 0:
        z = x if z is None else matmul(z, z)
        if n & 1:
            result = z if result is None else matmul(result, z)
        n >>= 1
    return result


def slogdet(A):
    """The sign and the log of the absolute value of the determinant:
    ``return_types.linalg_slogdet(sign, logabsdet)`` (sign 0 and logabsdet -inf if singular)."""
    from .decomp import _packed
    x = as_tensor_arg(A)
    _square(x, "slogdet")
    sign, logabs = np.linalg.slogdet(x._data)
    packed = np.stack([np.asarray(sign, x._data.dtype), np.asarray(logabs, x._data.dtype)], -1)
    s, la = _packed("linalg_slogdet", "LinalgSlogdetBackward0", packed, x, (),
                    [(Ellipsis, 0), (Ellipsis, 1)])
    return return_types.linalg_slogdet(s, la)


def slogdet_torch(input):
    """``torch.slogdet``: as ``linalg.slogdet``, returned as ``return_types.slogdet``."""
    s, la = slogdet(input)
    return return_types.slogdet(s, la)


def logdet(input) -> Tensor:
    """The log of the determinant: nan for a negative determinant, -inf for a singular matrix."""
    from .elementwise import where
    s, la = slogdet(input)
    return where(Tensor._make(s._data < 0), Tensor._make(np.array(np.nan, la._data.dtype)), la)
