"""Arrangements of elements (issue 13, point 3): fliplr, flipud, rot90, narrow, unflatten,
tril, triu, diag_embed, meshgrid, cartesian_prod, block_diag; written with the table's shape,
indexing and joining rows, so their gradients come from those."""
from __future__ import annotations

import warnings

import numpy as np

from .. import dtypes
from ..ops import OPS
from ..tensor import Tensor, _dim
from .join import cat, stack
from .record import _wants_grad, as_tensor_arg, emit
from .shape import expand, flip, movedim, reshape


def fliplr(input):
    """Reverses the columns (dimension 1); the tensor must be at least 2-D."""
    x = as_tensor_arg(input)
    if x.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(x, (1,))


def flipud(input):
    """Reverses the rows (dimension 0); the tensor must be at least 1-D."""
    x = as_tensor_arg(input)
    if x.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(x, (0,))


def rot90(input, k=1, dims=(0, 1)):
    """Rotates by 90 degrees ``k`` times in the plane of ``dims`` (from the first towards the
    second)."""
    x = as_tensor_arg(input)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if x.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {x.ndim}")
    d0, d1 = _dim(dims[0], x.ndim), _dim(dims[1], x.ndim)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and "
                           f"dim1 = {d1}")
    # Recorded as one gather (Rot90Backward0): out = x[index], index the rotated positions.
    flat = np.arange(x._data.size).reshape(x._data.shape)
    index = np.unravel_index(np.rot90(flat, k % 4, axes=(d0, d1)), x._data.shape)
    data = x._data[index]
    if _wants_grad(x):
        return emit(OPS["getitem"], "Rot90Backward0", data, (x,), (x._data,), (index,))
    return Tensor._make(data)


def narrow(input, dim, start, length):
    """The view of ``length`` entries of ``input`` from ``start`` along ``dim``."""
    x = as_tensor_arg(input)
    d = _dim(dim, x.ndim)
    n = x.shape[d]
    start = int(start)
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got "
                         f"{start})")
    if start < 0:
        start += n
    if start + length > n or length < 0:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return x[(slice(None),) * d + (slice(start, start + length),)]


def unflatten(input, dim, sizes):
    """Splits dimension ``dim`` into ``sizes`` (one may be -1)."""
    x = as_tensor_arg(input)
    d = _dim(dim, x.ndim)
    sizes = tuple(int(s) for s in sizes)
    if -1 in sizes:
        known = int(np.prod([s for s in sizes if s != -1]))
        sizes = tuple(x.shape[d] // known if s == -1 else s for s in sizes)
    if int(np.prod(sizes)) != x.shape[d]:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({x.shape[d]}) in the input tensor")
    return reshape(x, tuple(x.shape[:d]) + sizes + tuple(x.shape[d + 1:]))


def _triangle(input, diagonal, lower: bool, name: str):
    x = as_tensor_arg(input)
    if x.ndim < 2:
        raise RuntimeError(f"{name[:4].lower()}: input tensor must have at least 2 dimensions")
    n, m = x.shape[-2:]
    keep = (np.tri(n, m, diagonal, dtype=bool) if lower
            else ~np.tri(n, m, diagonal - 1, dtype=bool))
    zero = np.zeros((), x._data.dtype)
    data = np.where(keep, x._data, zero)
    if _wants_grad(x):
        return emit(OPS["where"], name, data, (Tensor._make(keep), x, zero.item()),
                    (keep, x._data, zero))
    return Tensor._make(data)


def tril(input, diagonal=0):
    """The lower triangle of the last two dimensions (on and below ``diagonal``); zeros
    elsewhere."""
    return _triangle(input, diagonal, True, "TrilBackward0")


def triu(input, diagonal=0):
    """The upper triangle of the last two dimensions (on and above ``diagonal``); zeros
    elsewhere."""
    return _triangle(input, diagonal, False, "TriuBackward0")


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """A tensor whose diagonals (``offset``, in the plane ``dim1``, ``dim2`` of a result with
    one more dimension) hold the last dimension of ``input``; zeros elsewhere."""
    x = as_tensor_arg(input)
    n = x.shape[-1] if x.ndim else 1
    size = n + abs(offset)
    shape = tuple(x.shape[:-1]) + (size, size)
    rows = np.arange(n) + max(-offset, 0)
    cols = np.arange(n) + max(offset, 0)
    index = (Ellipsis, rows, cols)
    data = np.zeros(shape, x._data.dtype)
    data[index] = x._data
    if _wants_grad(x):
        out = emit(OPS["index_grad"], "DiagEmbedBackward0", data, (x,), (x._data,),
                   (index, shape))
    else:
        out = Tensor._make(data)
    nd = len(shape)
    d1, d2 = _dim(dim1, nd), _dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    if (d1, d2) != (nd - 2, nd - 1):
        out = movedim(out, (nd - 2, nd - 1), (d1, d2))
    return out


def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D tensors: ``indexing='ij'`` (matrix, PyTorch's default, with
    its warning when not given) or ``'xy'`` (Cartesian)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    ts = [reshape(as_tensor_arg(t), (-1,)) for t in tensors]
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t.shape[0] for t in ts)
    out = []
    for i, t in enumerate(ts):
        view = [1] * len(ts)
        view[i] = shape[i]
        out.append(expand(reshape(t, tuple(view)), shape))
    if swap:
        out[0], out[1] = out[1], out[0]
    return tuple(out)


def cartesian_prod(*tensors):
    """Every combination of the elements of the 1-D tensors, one per row (``itertools.product``
    order)."""
    if len(tensors) == 1:
        return as_tensor_arg(tensors[0])
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(g, (-1,)) for g in grids], 1)


def block_diag(*tensors):
    """A block-diagonal matrix of the given (0-, 1- or 2-D) tensors; zeros elsewhere."""
    mats = []
    for i, t in enumerate(tensors):
        t = as_tensor_arg(t)
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {t.ndim} dimensions")
        mats.append(reshape(t, (1, -1)) if t.ndim < 2 else t)
    if not mats:
        return Tensor._make(np.zeros((1, 0), dtypes.get_default_dtype().np))
    dt = mats[0]._data.dtype
    for m in mats[1:]:
        dt = np.promote_types(dt, m._data.dtype)
    width = sum(m.shape[1] for m in mats)
    rows, left = [], 0
    for m in mats:
        r, c = m.shape
        if m._data.dtype != dt:
            m = m.to(dtypes.from_numpy_dtype(dt))
        parts = [Tensor._make(np.zeros((r, left), dt)), m,
                 Tensor._make(np.zeros((r, width - left - c), dt))]
        rows.append(cat(parts, 1))
        left += c
    return cat(rows, 0)
