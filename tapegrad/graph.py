"""``grad_fn`` objects: PyTorch's view of a graph of nodes, made on request from the tape.

tapegrad records no node objects while it runs; ``tensor.grad_fn`` builds one for the
tensor's record (class named as PyTorch names it, ``MulBackward0``), and ``next_functions``
reads the record's input slots.
"""
from __future__ import annotations

from .tape import LEAF, Record


class Node:
    """A read-only handle on one record."""

    __slots__ = ("_rec", "_records")

    def __init__(self, rec: Record, records: dict) -> None:
        self._rec = rec
        self._records = records  # the tape's records, to follow input slots

    def name(self) -> str:
        cls = type(self).__name__
        # PyTorch's C++ nodes name themselves with their namespace.
        return f"torch::autograd::{cls}" if cls in ("CopySlices", "AccumulateGrad") else cls

    @property
    def next_functions(self) -> tuple:
        records = self._records
        out = []
        for slot in self._rec.ins:
            parent = records.get(slot) if slot is not None else None
            out.append((node_for(parent, records) if parent is not None else None, 0))
        return tuple(out)

    @property
    def metadata(self) -> dict:
        return {}

    def register_hook(self, fn):
        raise NotImplementedError("tapegrad: hooks on grad_fn are not supported; register the "
                                  "hook on the tensor (tensor.register_hook)")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {hex(id(self))}>"


class AccumulateGrad(Node):
    __slots__ = ()

    @property
    def variable(self):
        return self._rec.leaf

    @property
    def next_functions(self) -> tuple:
        return ()


_CLASSES: dict[str, type] = {"AccumulateGrad": AccumulateGrad}


def node_for(rec: Record, records: dict) -> Node:
    node = rec.node
    if node is None:
        cls = _CLASSES.get(rec.name)
        if cls is None:
            cls = _CLASSES[rec.name] = type(rec.name, (Node,), {"__slots__": ()})
        if rec.op is LEAF:
            cls = AccumulateGrad
        node = rec.node = cls(rec, records)
    return node
