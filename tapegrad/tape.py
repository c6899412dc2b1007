"""The Wengert tape: a flat, append-only list of records, one per differentiable operation.

A tensor knows only its slot on the tape. A record names its inputs by slot, so the tape is a
program (see ``Tape.__str__``) and backward is that program read in reverse.

Lifetime is by reference count, kept on the record: one count per live tensor bound to the slot
and one per later record that reads it. When a count reaches zero the record is reclaimed at once
and its inputs are released in turn, so an evaluation loop that never calls backward leaves
nothing behind, and memory is returned as deterministically as PyTorch returns it.
Leaf records (inputs that require grad) are counted only by the records that read them: a
parameter alone keeps no record alive.
"""
from __future__ import annotations

import threading
from typing import Any

import numpy as np

FREED = "freed"  # Record.saved after backward released it (retain_graph=False)
NOTHING = (None, None, None, None)
OTHER_THREAD = ("tapegrad: this tensor's history is on another thread's tape; detach() it, or "
                "compute it on this thread")


class Record:
    """One operation on the tape: ``out = op(ins...)``, with what its derivative needs saved."""

    __slots__ = ("op", "name", "ins", "out", "saved", "params", "in_shapes", "shape", "dtype",
                 "vers", "rc", "node", "hooks", "retain", "leaf", "where", "sig", "h")

    def __init__(self, op, name, ins, saved, params, in_shapes, shape, dtype, vers):
        self.op = op
        self.name = name          # PyTorch's grad_fn class name (an op may have several)
        self.ins = ins            # input slots; None where that input needs no gradient
        self.out = -1
        self.saved = saved        # (a, b, c, out), each an array, a Python scalar or None
        self.params = params
        self.in_shapes = in_shapes
        self.shape = shape
        self.dtype = dtype        # numpy dtype of the output
        self.vers = vers          # ((saved index, version counter, version at save), ...)
        self.rc = 1               # the output tensor
        self.node = None          # the grad_fn object, made on first request
        self.hooks = None         # tensor hooks registered on the output
        self.retain = None        # weakref to the output tensor, set by retain_grad()
        self.leaf = None          # the leaf tensor, for a leaf record
        self.where = None         # the forward's traceback, under anomaly detection
        self.sig = None           # the JIT's structural signature, computed once
        self.h = 0                # structural hash of this record and all it depends on


class Tape:
    """This thread's records, by slot. Slots are never reused, so a freed slot stays freed."""

    def __init__(self) -> None:
        self.records: dict[int, Record] = {}
        self.next_slot = 0
        self.epoch = 0     # backward passes run on this tape: leaf records are per epoch
        self.special = 0   # live records with hooks or retain_grad (they change the JIT plan)
        self.rebound: dict[int, int] = {}  # old slot -> new, when an in-place op rebinds a tensor

    def append(self, rec: Record) -> int:
        slot = self.next_slot
        self.next_slot = slot + 1
        rec.out = slot
        records = self.records
        for s in rec.ins:
            if s is not None:
                records[s].rc += 1
        records[slot] = rec
        return slot

    def leaf_slot(self, t) -> int:
        """The slot of leaf tensor ``t``'s record, made when a recorded op first reads it."""
        slot = t._leaf_slot
        if slot is not None and t._tape is self:
            rec = self.records.get(slot)
            # A leaf record is reused only within one epoch (between two backward passes), so
            # each training step's graph reads fresh leaf records at the same relative offsets
            # and hashes the same (see forward.structural_hash).
            if rec is not None and rec.params[0] == self.epoch:
                return slot
        data = t._data
        rec = Record(LEAF, "AccumulateGrad", (), NOTHING, (self.epoch,), (), data.shape,
                     data.dtype, ())
        rec.rc = 0
        rec.leaf = t
        rec.h = hash(("leaf", data.dtype, data.ndim))
        slot = self.append(rec)
        t._leaf_slot = slot
        t._tape = self
        return slot

    def release(self, slot: int) -> None:
        """Drop one reference to ``slot``; reclaim every record that becomes unreachable."""
        records = self.records
        rec = records.get(slot)
        if rec is not None and rec.rc > 1:  # the common case: something still reads it
            rec.rc -= 1
            return
        stack = [slot]
        pop, push = stack.pop, stack.append
        while stack:
            rec = records.get(pop())
            if rec is None:
                continue
            rc = rec.rc - 1
            rec.rc = rc
            if rc > 0:
                continue
            del records[rec.out]
            if self.rebound:
                self.rebound.pop(rec.out, None)
            if rec.hooks is not None or rec.retain is not None:
                self.special -= 1
            if rec.node is not None:
                rec.node = None  # breaks the record <-> grad_fn cycle
            leaf = rec.leaf
            if leaf is not None and leaf._tape is self and leaf._leaf_slot == rec.out:
                leaf._leaf_slot = None
            for s in rec.ins:
                if s is not None:
                    push(s)

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self):
        return iter(list(self.records.values()))

    def __str__(self) -> str:
        return format_listing(self.records.values())

    def __repr__(self) -> str:
        """The live records as a listing (at most ``REPR_ROWS`` of them, the latest last)."""
        head, records = self._shown()
        return "\n".join([head] + [format_record(r) for r in records])

    def _shown(self) -> tuple:
        """The heading and the records a listing of the live records shows: at most
        ``REPR_ROWS`` of them, the latest last."""
        records = list(self.records.values())
        head = f"Tape: {len(records)} live record{'s' if len(records) != 1 else ''}"
        if len(records) > REPR_ROWS:
            head += f" (the last {REPR_ROWS} shown)"
            records = records[-REPR_ROWS:]
        return head, records

    def _repr_html_(self) -> str:
        """The live records as an HTML table (Jupyter), one row per record."""
        from .registry import upper  # printing's, registered at import (a layer up)
        caption, records = self._shown()
        return upper("html_table")(RECORD_HEADER, [record_cells(r) for r in records],
                                   caption=caption)


class _LeafOp:
    name = "leaf"
    node_name = "AccumulateGrad"
    elementwise = False
    uses = ()
    params = ("epoch",)


LEAF = _LeafOp()


# ---- per-thread state: grad mode and the current tape ------------------------------------
class State:
    """One thread's autograd state. Hot paths fetch it once per op (``TLS.s``): one
    thread-local lookup instead of one per attribute."""

    __slots__ = ("grad_enabled", "tape", "anomaly", "check_nan")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.tape = Tape()
        self.anomaly = False
        self.check_nan = True  # anomaly mode's check_nan: False records tracebacks only


class _Local(threading.local):
    def __init__(self) -> None:
        self.s = State()


TLS = _Local()


def current_tape() -> Tape:
    """This thread's tape."""
    return TLS.s.tape


# ---- the listing ------------------------------------------------------------------------
_SHORT = {"float32": "f32", "float64": "f64", "float16": "f16", "int64": "i64", "int32": "i32",
          "int16": "i16", "int8": "i8", "uint8": "u8", "bool": "bool"}


def type_str(dtype, shape) -> str:
    return f"{_SHORT.get(np.dtype(dtype).name, np.dtype(dtype).name)}[{','.join(map(str, shape))}]"


def _operand(rec: Record, i: int) -> str:
    slot = rec.ins[i] if i < len(rec.ins) else None
    if slot is not None:
        return f"%{slot}"
    value: Any = rec.saved[i] if rec.saved not in (None, FREED) and i < 3 else None
    if value is None or isinstance(value, np.ndarray):
        return f"const {type_str(rec.dtype if value is None else value.dtype, rec.in_shapes[i])}"
    return repr(value)


def _param_str(name: str, value) -> str:
    if callable(value):
        return f"{name}=<fn>"
    if isinstance(value, np.ndarray):
        return f"{name}=<{type_str(value.dtype, value.shape)}>"
    return f"{name}={value!r}"


def format_record(rec: Record, comment: bool = True) -> str:
    """``%3 : f32[64,10] = mul %1, %2``, with a comment saying what the record saved."""
    lhs = f"%{rec.out} : {type_str(rec.dtype, rec.shape)}"
    if rec.op is LEAF:
        return f"{lhs} = input"
    args = [_operand(rec, i) for i in range(len(rec.in_shapes))]
    names = rec.op.params
    if names and names[0] == "cls":  # a user Function: show which
        args.append(rec.params[0].__name__)
    else:
        args += [_param_str(n, v) for n, v in zip(names, rec.params) if n not in ("index",)]
        if "index" in names:
            args.append(f"index={_index_str(rec.params[names.index('index')])}")
    line = f"{lhs} = {rec.op.name} {', '.join(args)}"
    if not comment:
        return line
    if rec.saved is FREED:
        return line + "    # freed"
    saved = [n for n, v in zip(("a", "b", "c", "out"), rec.saved) if isinstance(v, np.ndarray)]
    return line + (f"    # saves {', '.join(saved)}" if saved else "")


def _index_str(index) -> str:
    items = index if isinstance(index, tuple) else (index,)
    parts = []
    for i in items:
        if isinstance(i, slice):
            parts.append(":".join("" if v is None else str(v) for v in (i.start, i.stop))
                         + ("" if i.step is None else f":{i.step}"))
        elif i is Ellipsis:
            parts.append("...")
        elif isinstance(i, np.ndarray):
            parts.append(f"<{type_str(i.dtype, i.shape)}>")
        else:
            parts.append(repr(i))
    return "[" + ", ".join(parts) + "]"


REPR_ROWS = 200
RECORD_HEADER = ("record", "type", "op and operands", "grad_fn", "saves")


def record_cells(rec: Record) -> tuple:
    """One record as table cells: slot, type, op with operands, grad_fn name, what it saved."""
    line = format_record(rec, comment=False)
    rhs = line.split(" = ", 1)[1]
    if rec.op is LEAF:
        saves = ""
    elif rec.saved is FREED:
        saves = "freed"
    else:
        saves = ", ".join(n for n, v in zip(("a", "b", "c", "out"), rec.saved)
                          if isinstance(v, np.ndarray))
    return (f"%{rec.out}", type_str(rec.dtype, rec.shape), rhs, rec.name, saves)


def format_listing(records) -> str:
    return "\n".join(format_record(r) for r in records)
