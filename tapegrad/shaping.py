"""More shape ops: flip, roll, movedim, tile, repeat_interleave, diagonal, diag.

flip and roll are rows of the op table. diagonal is a gather and diag of a vector a scatter, so
they are recorded with the rows ``getitem`` and ``index_grad`` (each the other's derivative)
under PyTorch's node names; tile and repeat_interleave are built from recorded ops.
"""
from __future__ import annotations

import numpy as np

from . import forward as F
from .ops import OPS
from .tensor import Tensor, _dim


def _dims_tuple(dims, ndim: int) -> tuple:
    if isinstance(dims, (int, np.integer)):
        dims = (dims,)
    out = tuple(_dim(int(d), ndim) for d in dims)
    if len(set(out)) != len(out):
        raise RuntimeError(f"dims has duplicates, original flip dims size={len(out)}, but unique "
                           f"flip dims size={len(set(out))}")
    return out


def flip(input, dims) -> Tensor:
    x = F.as_tensor_arg(input)
    d = _dims_tuple(dims, x.ndim) if x.ndim else ()
    data = np.flip(x._data, d).copy() if d else x._data.copy()
    if F._wants_grad(x):
        return F.emit(OPS["flip"], "FlipBackward0", data, (x,), (x._data,), (d,))
    return Tensor._make(data)


def roll(input, shifts, dims=None) -> Tensor:
    x = F.as_tensor_arg(input)
    shifts = (int(shifts),) if isinstance(shifts, (int, np.integer)) else tuple(map(int, shifts))
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        d = None
        data = np.roll(x._data, shifts[0])
    else:
        d = (int(dims),) if isinstance(dims, (int, np.integer)) else tuple(map(int, dims))
        if len(d) != len(shifts):
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                               f"dims:{len(d)}")
        d = tuple(_dim(k, x.ndim) for k in d)
        data = np.roll(x._data, shifts, d)
    if F._wants_grad(x):
        return F.emit(OPS["roll"], "RollBackward0", data, (x,), (x._data,), (shifts, d))
    return Tensor._make(data)


def movedim(input, source, destination) -> Tensor:
    x = F.as_tensor_arg(input)
    src = (source,) if isinstance(source, (int, np.integer)) else tuple(source)
    dst = (destination,) if isinstance(destination, (int, np.integer)) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                           f"dims) should contain the same number of dims as destination "
                           f"({list(dst)} dims)")
    src = [_dim(int(s), x.ndim) for s in src]
    dst = [_dim(int(s), x.ndim) for s in dst]
    order = [n for n in range(x.ndim) if n not in src]
    for s, t in sorted(zip(dst, src)):
        order.insert(s, t)
    if order == list(range(x.ndim)):
        return x
    return F.permute(x, *order)


moveaxis = movedim


def tile(input, dims) -> Tensor:
    from .methods import repeat
    x = F.as_tensor_arg(input)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    dims = (1,) * (x.ndim - len(dims)) + tuple(int(d) for d in dims)
    return repeat(x, dims)


def repeat_interleave(input, repeats, dim=None) -> Tensor:
    x = F.as_tensor_arg(input)
    if dim is None:
        x, d = F.reshape(x, -1), 0
    else:
        d = _dim(dim, x.ndim)
    reps = repeats._data if isinstance(repeats, Tensor) else np.asarray(repeats)
    index = np.repeat(np.arange(x.shape[d]), reps)
    return F.getitem(x, (slice(None),) * d + (index,))


def _diagonal_index(n: int, m: int, offset: int):
    rows0, cols0 = max(-offset, 0), max(offset, 0)
    k = max(0, min(n - rows0, m - cols0))
    return np.arange(k) + rows0, np.arange(k) + cols0


def diagonal(input, offset=0, dim1=0, dim2=1) -> Tensor:
    """The diagonal as the last dimension, as torch.diagonal (a copy, not a view)."""
    x = F.as_tensor_arg(input)
    d1, d2 = _dim(dim1, x.ndim), _dim(dim2, x.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    if (d1, d2) != (x.ndim - 2, x.ndim - 1):
        x = F.permute(x, *([k for k in range(x.ndim) if k not in (d1, d2)] + [d1, d2]))
    rows, cols = _diagonal_index(x.shape[-2], x.shape[-1], int(offset))
    index = (Ellipsis, rows, cols)
    data = x._data[index]
    if F._wants_grad(x):
        return F.emit(OPS["getitem"], "DiagonalBackward0", data, (x,), (x._data,), (index,))
    return Tensor._make(data)


def diag(input, diagonal=0) -> Tensor:
    """A vector onto the ``diagonal``-th diagonal of a square matrix, or a matrix's diagonal."""
    x = F.as_tensor_arg(input)
    if x.ndim == 2:
        return globals()["diagonal"](x, diagonal)
    if x.ndim != 1:
        raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " f"{x.ndim}D")
    n = x.shape[0] + abs(int(diagonal))
    index = _diagonal_index(n, n, int(diagonal))
    shape = (n, n)
    data = np.zeros(shape, x._data.dtype)
    data[index] = x._data
    if F._wants_grad(x):
        return F.emit(OPS["index_grad"], "DiagEmbedBackward0", data, (x,), (x._data,),
                      (index, shape))
    return Tensor._make(data)
