"""Joining and splitting: cat, stack, split, chunk, unbind."""
from __future__ import annotations

import builtins

import numpy as np

from .. import dtypes
from ..ops import OPS
from ..tensor import Tensor, _dim
from .index import getitem
from .record import _wants_grad, as_tensor_arg, emit


# ---- joining and splitting ------------------------------------------------------------------
def _join_operands(tensors, what):
    tensors = [as_tensor_arg(t) for t in tensors]
    if not tensors:
        raise RuntimeError(f"{what}(): expected a non-empty list of Tensors")
    dt = tensors[0].dtype
    for t_ in tensors[1:]:
        dt = dtypes.promote(dt, t_.dtype)
    arrays = [t_._data if t_._data.dtype == dt.np else t_._data.astype(dt.np) for t_ in tensors]
    return tensors, arrays


def cat(tensors, dim=0, **kwargs):
    """Concatenates tensors along an existing dimension ``dim`` (``axis=`` is accepted too); dtypes
    promote, and 1-D empty tensors are skipped as in PyTorch."""
    if "axis" in kwargs:
        dim = kwargs.pop("axis")
    tensors, arrays = _join_operands(tensors, "cat")
    ref = next((a for a in arrays if a.ndim), arrays[0])
    if ref.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = _dim(dim, ref.ndim)
    keep = [(t_, a) for t_, a in zip(tensors, arrays) if not (a.ndim == 1 and a.shape[0] == 0)]
    for i, (_, a) in enumerate(keep):
        if a.ndim != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} and "
                               f"{a.ndim}")
        for k in range(ref.ndim):
            if k != d and a.shape[k] != ref.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {ref.shape[k]} but got size {a.shape[k]} for "
                                   f"tensor number {i} in the list.")
    tensors = [t_ for t_, _ in keep]
    arrays = [a for _, a in keep]
    data = np.concatenate(arrays, axis=d)
    if _wants_grad(*tensors):
        return emit(OPS["cat"], "CatBackward0", data, tuple(tensors), tuple(arrays), (d,))
    return Tensor._make(data)


concatenate = concat = cat


def stack(tensors, dim=0):
    """Joins tensors of equal shape along a new dimension ``dim``."""
    tensors, arrays = _join_operands(tensors, "stack")
    for i, a in enumerate(arrays[1:], 1):
        if a.shape != arrays[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(arrays[0].shape)} at entry 0 and {list(a.shape)} at entry "
                               f"{i}")
    d = _dim(dim, arrays[0].ndim + 1)
    data = np.stack(arrays, axis=d)
    if _wants_grad(*tensors):
        return emit(OPS["stack"], "StackBackward0", data, tuple(tensors), tuple(arrays), (d,))
    return Tensor._make(data)


def _split_at(x: Tensor, sizes, d: int, name: str):
    out, start = [], 0
    for s in sizes:
        piece = getitem(x, (slice(None),) * d + (slice(start, start + s),))
        if piece._slot is not None:
            piece._tape.records[piece._slot].name = name
        out.append(piece)
        start += s
    return tuple(out)


def split(tensor, split_size_or_sections, dim=0):
    """Splits a tensor into views along ``dim``: pieces of ``split_size_or_sections`` elements (the
    last may be smaller), or of the sizes in a list. Returns a tuple."""
    x = as_tensor_arg(tensor)
    d = _dim(dim, x.ndim)
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        sizes = [builtins.min(step, n - i) for i in range(0, n, step)] or [0]
        return _split_at(x, sizes, d, "SplitBackward0")
    sizes = list(split_size_or_sections)
    if builtins.sum(sizes) != n:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input "
                           f"tensor's size at dimension {d}), but got split_sizes={sizes}")
    return _split_at(x, sizes, d, "SplitWithSizesBackward0")


def chunk(input, chunks, dim=0):
    """Splits a tensor into at most ``chunks`` pieces of equal size (the last may be smaller) along
    ``dim``. Returns a tuple."""
    x = as_tensor_arg(input)
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = x.shape[_dim(dim, x.ndim)]
    step = -(-n // chunks) if n else 1
    return split(x, step, dim)


def unbind(input, dim=0):
    """Removes dimension ``dim``: a tuple of the slices along it."""
    x = as_tensor_arg(input)
    d = _dim(dim, x.ndim)
    return tuple(getitem(x, (slice(None),) * d + (i,)) for i in range(x.shape[d]))
