"""A record's structural signature: what of it a JIT plan depends on (op, dtype, ndim, operand
kinds, which inputs have the output's shape), never sizes or values. The forward hashes it into
every record as it is appended (``forward.record.structural_hash``), so the JIT's trace cache
finds a graph in O(1); ``jit.plan`` builds its keys from it.
"""
from __future__ import annotations

import numpy as np

from .tape import LEAF, Record

ARR, SCALAR = "arr", "scalar"


def operand_kind(value) -> str | None:
    """A saved operand as a kernel sees it: an array, a scalar argument, or nothing."""
    if value is None:
        return None
    return ARR if type(value) is np.ndarray and value.ndim else SCALAR


# The fields of local_sig, in order: explain_miss names a changed field with these.
SIG_FIELDS = ("op", "dtype", "ndim", "saved a", "saved b", "saved c", "saves out",
              "inputs with the output's shape", "params")


def _sig_kind(value, dtype) -> str | None:
    """operand_kind, and whether an array's dtype is one a kernel of ``dtype`` cannot read."""
    kind = operand_kind(value)
    if kind is ARR and value.dtype != dtype and value.dtype != np.bool_:
        return FOREIGN
    return kind


FOREIGN = "foreign"  # an array of another dtype: the record is left to the interpreter


def local_sig(rec: Record) -> tuple:
    """What of one record the plan depends on: op, dtype, ndim, operand kinds, which inputs
    have the output's shape, how many params. Sizes and values are not in it."""
    op = rec.op
    shape = rec.shape
    dtype = rec.dtype
    if op is LEAF:
        return ("leaf", dtype, len(shape))
    a, b, c, o = rec.saved
    same = tuple([s == shape for s in rec.in_shapes])
    return (op.name, dtype, len(shape), _sig_kind(a, dtype), _sig_kind(b, dtype),
            _sig_kind(c, dtype), o is not None, same, len(rec.params))
