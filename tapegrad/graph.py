"""``grad_fn`` objects: PyTorch's view of a graph of nodes, made on request from the tape.

tapegrad records no node objects while it runs; ``tensor.grad_fn`` builds one for the
tensor's record (class named as PyTorch names it, ``MulBackward0``), and ``next_functions``
reads the record's input slots.

A node can also carry what PyTorch keeps on its C++ nodes: hooks (``register_hook``,
``register_prehook``) and saved tensors packed by hooks (``torch.autograd.graph
.saved_tensors_hooks``, ``_raw_saved_self.register_hooks``). Such a record gets a *hooked op*:
an op of the same name whose VJP unpacks the saved values, runs the pre-hooks, calls the
record's own rule and then the post-hooks. The record is marked special (as a tensor hook
marks it), so the JIT treats it as a boundary and the interpreter's step runs that VJP.
"""
from __future__ import annotations

import threading

import numpy as np

from .ops import Op
from .registry import SAVED_HOOKS, provide
from .tape import FREED, LEAF, TLS, Record

_SAVED_NAMES = {"self": 0, "other": 1, "result": 3}


class Node:
    """A handle on one record."""

    __slots__ = ("_rec", "_records", "_pre", "_post", "_packed")

    def __init__(self, rec: Record, records: dict) -> None:
        self._rec = rec
        self._records = records  # the tape's records, to follow input slots
        self._pre = None         # register_prehook's hooks
        self._post = None        # register_hook's hooks
        self._packed = None      # {saved index: (packed, unpack_hook)}

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
        """``fn(grad_inputs, grad_outputs)`` runs after this node computed its input gradients
        and may return new ones (a tuple, one per input)."""
        from .tensor import RemovableHandle
        _hook_record(self)
        if self._post is None:
            self._post = []
        self._post.append(fn)
        return RemovableHandle(self._post, fn)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` runs before this node computes; it may return new
        grad_outputs."""
        from .tensor import RemovableHandle
        _hook_record(self)
        if self._pre is None:
            self._pre = []
        self._pre.append(fn)
        return RemovableHandle(self._pre, fn)

    def __getattr__(self, name: str):
        # _saved_self, _saved_other, _saved_result and their _raw_saved_ handles.
        for prefix in ("_saved_", "_raw_saved_"):
            if name.startswith(prefix) and name[len(prefix):] in _SAVED_NAMES:
                k = _SAVED_NAMES[name[len(prefix):]]
                rec = self._rec
                if rec.saved is not FREED and isinstance(rec.saved[k], np.ndarray):
                    saved = SavedTensor(self, k)
                    return saved if prefix == "_raw_saved_" else saved.value()
                if rec.saved is FREED and _was_saved(rec, k):
                    from .engine import SECOND_BACKWARD
                    raise RuntimeError(SECOND_BACKWARD)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {hex(id(self))}>"


def _was_saved(rec: Record, k: int) -> bool:
    """After backward freed a record: did its op save value ``k``?"""
    op = rec.op
    mask = sum(1 << i for i, s in enumerate(rec.ins) if s is not None)
    return getattr(op, "plans", None) is not None and mask < 8 and op.plans[mask][k]


class FunctionNode(Node):
    """The node of a custom ``autograd.Function``: PyTorch's node is its ``ctx``, so the ctx's
    attributes (``saved_tensors``, ``needs_input_grad``, what forward stored) read through."""

    __slots__ = ()

    def __getattr__(self, name: str):
        if not name.startswith("_"):
            ctx = self._rec.params[1]
            try:
                return getattr(ctx, name)
            except AttributeError:
                pass
        return Node.__getattr__(self, name)


class AccumulateGrad(Node):
    __slots__ = ()

    @property
    def variable(self):
        return self._rec.leaf

    @property
    def next_functions(self) -> tuple:
        return ()

    def register_hook(self, fn):
        raise NotImplementedError("tapegrad: hooks on AccumulateGrad nodes are not supported; "
                                  "register the hook on the leaf tensor (tensor.register_hook)")

    register_prehook = register_hook


_CLASSES: dict[str, type] = {"AccumulateGrad": AccumulateGrad}


def node_for(rec: Record, records: dict) -> Node:
    if rec.op.name == "function_output":
        # One output of a custom Function with several: its node is the Function's node.
        parent = records.get(rec.ins[0])
        if parent is not None:
            return node_for(parent, records)
    node = rec.node
    if node is None:
        key = ("function", rec.name) if rec.op.name == "function" else rec.name
        cls = _CLASSES.get(key)
        if cls is None:
            base = FunctionNode if rec.op.name == "function" else Node
            cls = _CLASSES[key] = type(rec.name, (base,), {"__slots__": ()})
        if rec.op is LEAF:
            cls = AccumulateGrad
        node = rec.node = cls(rec, records)
    return node


# ---- saved tensors ------------------------------------------------------------------------
class SavedTensor:
    """``grad_fn._raw_saved_self``: one saved value of a node."""

    def __init__(self, node: Node, k: int) -> None:
        self._node = node
        self._k = k

    def value(self):
        """The saved value as a tensor: the leaf itself for a saved leaf; otherwise a tensor
        bound to the record it came from (so it has that record's grad_fn)."""
        rec = self._node._rec
        k = self._k
        arr = rec.saved[k]
        packed = self._node._packed
        if packed and k in packed:
            return _unpack(packed[k])
        return _saved_as_tensor(rec, k, arr)

    def register_hooks(self, pack_hook, unpack_hook) -> None:
        node = self._node
        if node._packed and self._k in node._packed:
            raise RuntimeError("Calling register_hooks on a saved tensor whose hooks have "
                               "already been set. Hint: only one pair of hooks is allowed at a "
                               "time.")
        if not callable(pack_hook) or not callable(unpack_hook):
            raise TypeError("expected two callables")
        _hook_record(node)
        if node._packed is None:
            node._packed = {}
        node._packed[self._k] = (call_pack(pack_hook, self.value()), unpack_hook)

    def __repr__(self) -> str:
        return "<torch._C._autograd.SavedTensor object>"


def _saved_as_tensor(rec: Record, k: int, arr: np.ndarray):
    from .tensor import Tensor, recorded
    slot = rec.out if k == 3 else (rec.ins[k] if k < len(rec.ins) else None)
    tape = TLS.s.tape
    parent = tape.records.get(slot) if slot is not None else None
    if parent is None:
        return Tensor._make(arr)
    if parent.op is LEAF and parent.leaf is not None and parent.leaf._data is arr:
        return parent.leaf
    parent.rc += 1
    return recorded(arr, slot, tape)


def _unpack(entry):
    from .tensor import Tensor
    packed, unpack_hook = entry
    t = unpack_hook(packed)
    if not isinstance(t, Tensor):
        raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but got "
                        f"result of type {type(t).__name__}")
    return t


# ---- the hooked op --------------------------------------------------------------------------
class HookedOp(Op):
    """A record's own op wrapped with its node's hooks; same name, so nothing else changes."""

    __slots__ = ("orig",)


def _hook_record(node: Node) -> None:
    """Give ``node``'s record a hooked op (once) and mark it special for the JIT."""
    rec = node._rec
    if rec.op is LEAF:
        raise NotImplementedError("tapegrad: hooks on AccumulateGrad nodes are not supported")
    if isinstance(rec.op, HookedOp):
        return
    orig = rec.op
    tape = TLS.s.tape if node._records is TLS.s.tape.records else None

    def vjp(xp, g, r, *unused):
        return _run_hooked(r, orig, xp, g)

    op = HookedOp(orig.name, orig.node_name, orig.arity, vjp=vjp, params=orig.params,
                  uses=orig.uses, domain=orig.domain)
    op.orig = orig
    rec.op = op
    rec.sig = None
    if rec.hooks is None:
        if rec.retain is None and tape is not None:
            tape.special += 1
        rec.hooks = []


def _run_hooked(rec: Record, orig, xp, g):
    from .ops import NP
    from .tensor import Tensor
    node = rec.node
    numpy_mode = xp is NP
    if node is not None and node._pre:
        for hook in list(node._pre):
            r = hook((Tensor._make(g) if numpy_mode else g,))
            if r is not None:
                r = r[0] if isinstance(r, (tuple, list)) else r
                g = r._data if numpy_mode else r
    hooked = rec.op
    saved = rec.saved
    rec.op = orig
    try:
        if node is not None and node._packed:
            values = list(saved)
            for k, entry in node._packed.items():
                values[k] = _unpack(entry)._data
            rec.saved = tuple(values)
        if numpy_mode:
            from .engine import vjp_numpy
            grads = vjp_numpy(rec, g)
        else:
            from .autograd.higher import vjp_tensor
            grads = vjp_tensor(rec, g, TLS.s.tape)
    finally:
        rec.op = hooked
        if rec.saved is not FREED:
            rec.saved = saved
    if node is not None and node._post:
        grads = tuple(grads)
        for hook in list(node._post):
            wrap = (lambda x: None if x is None else Tensor._make(np.asarray(x))) \
                if numpy_mode else (lambda x: x)
            r = hook(tuple(wrap(x) for x in grads), (wrap(g),))
            if r is not None:
                if len(r) != len(grads):
                    raise RuntimeError(f"hook 'hook' has returned an incorrect number of values "
                                       f"(got {len(r)}, but expected {len(grads)})")
                grads = tuple(None if x is None else (x._data if numpy_mode else x) for x in r)
    return grads


# ---- torch.autograd.graph.saved_tensors_hooks --------------------------------------------
ACTIVE = SAVED_HOOKS  # non-empty while any thread has saved-tensor hooks (the forward checks it)


class _Stacks(threading.local):
    def __init__(self) -> None:
        self.stack: list = []


STACKS = _Stacks()


def call_pack(pack_hook, t):
    """Run a pack hook with grad mode off. The unpacked value is given the saved tensor's own
    history (as PyTorch's SavedVariable does), so what the hook builds needs none; recorded, it
    would tie the record to itself through the tape's reference counts, a cycle the garbage
    collector cannot see (a tape that never empties)."""
    st = TLS.s
    prev = st.grad_enabled
    st.grad_enabled = False
    try:
        return pack_hook(t)
    finally:
        st.grad_enabled = prev


def pack_saved(rec: Record, inputs: tuple, out) -> None:
    """Called by ``forward.emit`` while saved-tensor hooks are active: pack what ``rec``
    saved with this thread's innermost hooks."""
    hooks = innermost_hooks()  # None when only other threads have hooks
    if hooks is None:
        return
    pack_hook, unpack_hook = hooks
    from .tensor import Tensor
    node = node_for(rec, TLS.s.tape.records)
    entries = {}
    for k, v in enumerate(rec.saved):
        if not isinstance(v, np.ndarray):
            continue
        if k < 3 and k < len(inputs) and isinstance(inputs[k], Tensor) \
                and inputs[k]._data is v:
            t = inputs[k]
        else:
            t = Tensor._make(v)  # the output (or a promoted input): its value, no history
        entries[k] = (call_pack(pack_hook, t), unpack_hook)
    if entries:
        _hook_record(node)
        node._packed = entries


def innermost_hooks():
    """This thread's innermost (pack_hook, unpack_hook), or None."""
    for entry in reversed(STACKS.stack):
        if not isinstance(entry, str):
            return entry
    return None


provide("node_for", node_for)
provide("pack_saved", pack_saved)
