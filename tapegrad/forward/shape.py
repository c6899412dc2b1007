"""Shape ops: each returns a view that shares memory (and the version counter)."""
from __future__ import annotations

import numpy as np

from ..ops import OPS
from ..tape import TLS
from ..tensor import Tensor, _dim
from .elementwise import to_dtype
from .index import getitem
from .record import _as_view, _dims, _wants_grad, as_tensor_arg, emit

# ---- shape ops: each returns a view that shares memory (and the version counter) ----------


def _shape_op(x: Tensor, data: np.ndarray, opname: str, name: str, params: tuple, fn):
    """A view op: record it if needed, and remember how to re-derive the view from its base."""
    if x._rg and TLS.s.grad_enabled:
        out = emit(OPS[opname], name, data, (x,), (x._data,), params)
    else:
        out = Tensor._make(data)
    if fn is not None and np.shares_memory(data, x._data):
        _as_view(out, x, fn)
    return out


def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _infer_shape(shape: tuple, numel: int) -> tuple:
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def view(input, *shape):
    """A tensor with the same data and a new shape (one size may be -1); the data is shared, so it
    fails, as in PyTorch, where the strides cannot express the new shape. ``view(dtype)``
    converts instead of reinterpreting the bits."""
    x = as_tensor_arg(input)
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int)):
        return to_dtype(x, shape[0])  # x.view(dtype): reinterpretation is not supported
    shape = _infer_shape(_shape_arg(shape), x._data.size)
    data = x._data.view()
    try:
        data.shape = shape
    except AttributeError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.") from None
    return _shape_op(x, data, "reshape", "ViewBackward0", (), lambda a, s=shape: a.reshape(s))


def reshape(input, *shape):
    """The same elements in a new shape (one size may be -1): a view when the strides allow it, a
    copy otherwise."""
    x = as_tensor_arg(input)
    shape = _infer_shape(_shape_arg(shape), x._data.size)
    data = x._data.reshape(shape)
    name = "ViewBackward0" if np.shares_memory(data, x._data) or not data.size else \
        "UnsafeViewBackward0"
    return _shape_op(x, data, "reshape", name, (), lambda a, s=shape: a.reshape(s))


def flatten(input, start_dim=0, end_dim=-1):
    """Merges dimensions ``start_dim`` to ``end_dim`` into one; a 0-d tensor becomes 1-D."""
    x = as_tensor_arg(input)
    if x.ndim == 0:
        return reshape(x, 1)
    s, e = _dim(start_dim, x.ndim), _dim(end_dim, x.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return x
    shape = x.shape[:s] + (-1,) + x.shape[e + 1:]
    return reshape(x, shape)


def squeeze(input, dim=None):
    """Removes dimensions of size 1: all of them, or those among ``dim`` (an int or a tuple)."""
    x = as_tensor_arg(input)
    if dim is None:
        shape = tuple(s for s in x.shape if s != 1)
        name = "SqueezeBackward0"
    else:
        dims = _dims(dim, x.ndim) or ()
        shape = tuple(s for i, s in enumerate(x.shape) if not (i in dims and s == 1))
        name = "SqueezeBackward1" if isinstance(dim, int) else "SqueezeBackward2"
    data = x._data.reshape(shape)
    return _shape_op(x, data, "reshape", name, (), lambda a, s=shape: a.reshape(s))


def unsqueeze(input, dim):
    """Inserts a dimension of size 1 at position ``dim``."""
    x = as_tensor_arg(input)
    d = _dim(dim, x.ndim + 1)
    shape = x.shape[:d] + (1,) + x.shape[d:]
    data = x._data.reshape(shape)
    return _shape_op(x, data, "reshape", "UnsqueezeBackward0", (),
                     lambda a, s=shape: a.reshape(s))


def permute(input, *dims):
    """A view with the dimensions in the order ``dims``."""
    x = as_tensor_arg(input)
    axes = tuple(_dim(d, x.ndim) for d in _shape_arg(dims)) if x.ndim else ()
    if len(axes) != x.ndim or len(set(axes)) != len(axes):
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {x.ndim} is not equal to len(dims) = {len(axes)}"
                           if len(axes) != x.ndim else "permute(): duplicate dims are not allowed.")
    return _permute(x, axes, "PermuteBackward0")


def _permute(x, axes, name):
    data = x._data.transpose(axes)
    return _shape_op(x, data, "permute", name, (axes,), lambda a, p=axes: a.transpose(p))


def transpose(input, dim0, dim1):
    """A view with dimensions ``dim0`` and ``dim1`` swapped."""
    x = as_tensor_arg(input)
    if x.ndim == 0:
        return x
    axes = list(range(x.ndim))
    d0, d1 = _dim(dim0, x.ndim), _dim(dim1, x.ndim)
    axes[d0], axes[d1] = axes[d1], axes[d0]
    return _permute(x, tuple(axes), "TransposeBackward0")


swapaxes = swapdims = transpose


def t(input):
    """Transposes a tensor of at most 2 dimensions (0-D and 1-D tensors are returned as is)."""
    x = as_tensor_arg(input)
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    if x.ndim < 2:
        return x
    return _permute(x, (1, 0), "TBackward0")


def expand(input, *sizes):
    """A broadcast view with the given ``sizes`` (-1 keeps a size); only dimensions of size 1 grow,
    and new dimensions are added in front. No data is copied."""
    x = as_tensor_arg(input)
    sizes = _shape_arg(sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(x.shape)}}}, size={list(sizes)}): "
                           f"the number of sizes provided ({len(sizes)}) must be greater or equal "
                           f"to the number of dimensions in the tensor ({x.ndim})")
    lead = len(sizes) - x.ndim
    target = []
    for i, s in enumerate(sizes):
        have = x.shape[i - lead] if i >= lead else 1
        if s == -1:
            if i < lead:
                raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a "
                                   f"leading, non-existing dimension {i}")
            s = have
        elif have != 1 and have != s:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing "
                               f"size ({have}) at non-singleton dimension {i}.  Target sizes: "
                               f"{list(sizes)}.  Tensor sizes: {list(x.shape)}")
        target.append(s)
    target = tuple(target)
    data = np.broadcast_to(x._data, target)
    return _shape_op(x, data, "expand", "ExpandBackward0", (),
                     lambda a, s=target: np.broadcast_to(a, s))


def expand_as(input, other):
    """``input.expand(other.shape)``."""
    return expand(input, as_tensor_arg(other).shape)


def broadcast_to(input, size):
    """``input`` broadcast to ``size`` (``expand``)."""
    return expand(input, tuple(size))


def broadcast_tensors(*tensors):
    """The tensors broadcast to their common shape, as a tuple."""
    shape = np.broadcast_shapes(*(as_tensor_arg(t).shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


# ---- flip, roll, movedim, tile, repeat_interleave, diagonal, diag --------------------------
def _dims_tuple(dims, ndim: int) -> tuple:
    if isinstance(dims, (int, np.integer)):
        dims = (dims,)
    out = tuple(_dim(int(d), ndim) for d in dims)
    if len(set(out)) != len(out):
        raise RuntimeError(f"dims has duplicates, original flip dims size={len(out)}, but unique "
                           f"flip dims size={len(set(out))}")
    return out


def flip(input, dims) -> Tensor:
    """Reverses the order of the elements along the dimensions ``dims`` (a copy)."""
    x = as_tensor_arg(input)
    d = _dims_tuple(dims, x.ndim) if x.ndim else ()
    data = np.flip(x._data, d).copy() if d else x._data.copy()
    if _wants_grad(x):
        return emit(OPS["flip"], "FlipBackward0", data, (x,), (x._data,), (d,))
    return Tensor._make(data)


def roll(input, shifts, dims=None) -> Tensor:
    """Rolls the elements along ``dims`` by ``shifts``; elements shifted past the end reappear at
    the start. Without ``dims`` the flattened tensor is rolled."""
    x = as_tensor_arg(input)
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
    if _wants_grad(x):
        return emit(OPS["roll"], "RollBackward0", data, (x,), (x._data,), (shifts, d))
    return Tensor._make(data)


def movedim(input, source, destination) -> Tensor:
    """Moves dimension(s) ``source`` to position(s) ``destination``; the others keep their order.
    """
    x = as_tensor_arg(input)
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
    return permute(x, *order)


moveaxis = movedim


def tile(input, dims) -> Tensor:
    """Repeats the tensor ``dims[i]`` times along dimension i; a short ``dims`` is padded with 1s
    in front."""
    x = as_tensor_arg(input)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    dims = (1,) * (x.ndim - len(dims)) + tuple(int(d) for d in dims)
    return repeat(x, dims)


def repeat_interleave(input, repeats, dim=None) -> Tensor:
    """Repeats each element ``repeats`` times (an int or one count per element) along ``dim``;
    without ``dim`` the flattened tensor."""
    x = as_tensor_arg(input)
    if dim is None:
        x, d = reshape(x, -1), 0
    else:
        d = _dim(dim, x.ndim)
    reps = repeats._data if isinstance(repeats, Tensor) else np.asarray(repeats)
    index = np.repeat(np.arange(x.shape[d]), reps)
    return getitem(x, (slice(None),) * d + (index,))


def _diagonal_index(n: int, m: int, offset: int):
    rows0, cols0 = max(-offset, 0), max(offset, 0)
    k = max(0, min(n - rows0, m - cols0))
    return np.arange(k) + rows0, np.arange(k) + cols0


def diagonal(input, offset=0, dim1=0, dim2=1) -> Tensor:
    """The diagonal as the last dimension, as torch.diagonal (a copy, not a view)."""
    x = as_tensor_arg(input)
    d1, d2 = _dim(dim1, x.ndim), _dim(dim2, x.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    if (d1, d2) != (x.ndim - 2, x.ndim - 1):
        x = permute(x, *([k for k in range(x.ndim) if k not in (d1, d2)] + [d1, d2]))
    rows, cols = _diagonal_index(x.shape[-2], x.shape[-1], int(offset))
    index = (Ellipsis, rows, cols)
    data = x._data[index]
    if _wants_grad(x):
        return emit(OPS["getitem"], "DiagonalBackward0", data, (x,), (x._data,), (index,))
    return Tensor._make(data)


def diag(input, diagonal=0) -> Tensor:
    """A vector onto the ``diagonal``-th diagonal of a square matrix, or a matrix's diagonal."""
    x = as_tensor_arg(input)
    if x.ndim == 2:
        return globals()["diagonal"](x, diagonal)
    if x.ndim != 1:
        raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " f"{x.ndim}D")
    n = x.shape[0] + abs(int(diagonal))
    index = _diagonal_index(n, n, int(diagonal))
    shape = (n, n)
    data = np.zeros(shape, x._data.dtype)
    data[index] = x._data
    if _wants_grad(x):
        return emit(OPS["index_grad"], "DiagEmbedBackward0", data, (x,), (x._data,),
                      (index, shape))
    return Tensor._make(data)


def repeat(input, *sizes):
    """Tile by reshape + expand + reshape, so the gradient comes from ops already in the table."""
    x = as_tensor_arg(input)
    sizes = _shape_arg(sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of "
                           "dimensions of tensor")
    shape = (1,) * (len(sizes) - x.ndim) + tuple(x.shape)
    inter, expanded = [], []
    for r, s in zip(sizes, shape):
        inter += [1, s]
        expanded += [r, s]
    y = expand(reshape(x, tuple(inter)), tuple(expanded))
    return reshape(y, tuple(r * s for r, s in zip(sizes, shape)))
