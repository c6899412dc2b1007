"""In-place ops: recorded on the tensor's base, with PyTorch's checks and version counters."""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..ops import OPS
from ..registry import WRITE_WATCHERS
from ..tape import TLS
from ..tensor import Tensor
from .index import _index, _index_error, index_put
from .record import _type_name, _wants_grad, emit

# ---- in-place ---------------------------------------------------------------------------


def _check_inplace_allowed(x: Tensor) -> None:
    if WRITE_WATCHERS:  # a tapegrad.compile trace: an in-place write is a graph break
        for watch in WRITE_WATCHERS:
            watch(x)
    if not TLS.s.grad_enabled:
        return
    if x._slot is None and x._rg:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    base = x._base
    if base is not None and base._slot is None and base._rg:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")


def _adopt(x: Tensor, r: Tensor) -> None:
    """Make ``x`` the output of ``r``'s record: the last step of every recorded in-place op."""
    old, old_tape = x._slot, x._tape
    x._slot, x._tape, x._rg = r._slot, r._tape, True
    r._slot = None
    if old is not None:
        if old_tape is x._tape and old in old_tape.records:
            old_tape.rebound[old] = x._slot  # names the in-place op in a version error
        old_tape.release(old)


def inplace(x: Tensor, compute) -> Tensor:
    """Run ``compute(x)`` out of place, write the result into ``x``'s memory, bump its version.

    A recorded result's record is rebound to ``x``; through a view the base is rebound too
    (PyTorch's CopySlices), so the base's gradient sees the write.
    """
    _check_inplace_allowed(x)
    r = compute(x)
    rd = r._data
    if rd.dtype != x._data.dtype and (
            dtypes.from_numpy_dtype(rd.dtype)._category > x.dtype._category):
        raise RuntimeError(f"result type {_type_name(dtypes.from_numpy_dtype(rd.dtype))} can't be "
                           f"cast to the desired output type {_type_name(x.dtype)}")
    if rd.shape != x._data.shape:
        try:
            np.broadcast_to(rd, x._data.shape)
        except ValueError:
            raise RuntimeError(f"output with shape {list(x.shape)} doesn't match the broadcast "
                               f"shape {list(rd.shape)}") from None
        raise RuntimeError(f"output with shape {list(x.shape)} doesn't match the broadcast shape "
                           f"{list(rd.shape)}")
    if r._slot is not None:
        _private_saved_copies(r, x._data)
    try:
        np.copyto(x._data, rd, casting="unsafe")
    except ValueError:
        raise RuntimeError("unsupported operation: more than one element of the written-to tensor "
                           "refers to a single memory location. Please clone() the tensor before "
                           "performing the operation.") from None
    x._vc[0] += 1
    if r._slot is None:
        return x
    if x._base is None:
        _adopt(x, r)
        return x
    base = x._base
    w = emit(OPS["view_write"], "CopySlices", base._data, (base, r), (base._data, rd),
             (x._view_fn,))
    _adopt(base, w)
    v = emit(OPS["view_of"], "AsStridedBackward0", x._data, (base,), (base._data,),
             (x._view_fn,))
    _adopt(x, v)
    return x


def _private_saved_copies(r: Tensor, target: np.ndarray) -> None:
    """The record of an in-place op may have saved the very array about to be overwritten
    (``x.mul_(y)`` saves x for y's gradient): give it a private copy, as PyTorch saves
    ``original_self``. A private copy can no longer be modified, so its version check goes."""
    rec = r._tape.records[r._slot]
    saved = list(rec.saved)
    hit = [k for k in range(3) if saved[k] is target]
    if not hit:
        return
    copy = target.copy()
    for k in hit:
        saved[k] = copy
    rec.saved = tuple(saved)
    rec.vers = tuple(v for v in rec.vers if v[0] not in hit)


def _fill_like(x: Tensor, value, name: str) -> Tensor:
    """A tensor of ``value`` shaped like x, recorded as where(False, x, value): the gradient to
    x is zero, and a value that requires grad receives the sum."""
    cond = np.zeros((), np.bool_)
    if isinstance(value, Tensor):
        va = value._data
    else:
        va = value
    data = np.empty_like(x._data)
    data[...] = va
    if _wants_grad(x, value):
        return emit(OPS["where"], name, data, (None, x, value), (cond, x._data, va))
    return Tensor._make(data)


def setitem(x: Tensor, index, value) -> None:
    if isinstance(value, Tensor) and not _wants_grad(x, value) or not isinstance(value, Tensor) \
            and not _wants_grad(x):
        _check_inplace_allowed(x)
        index = _index(index)
        va = value._data if isinstance(value, Tensor) else value
        try:
            x._data[index] = va
        except IndexError as e:
            raise _index_error(e, x.shape) from None
        except ValueError:
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(np.shape(va))} cannot "
                               f"be broadcast to indexing result of shape "
                               f"{list(np.shape(x._data[index]))}") from None
        x._vc[0] += 1
        return
    inplace(x, lambda s: index_put(s, index, value))


