"""Tensor: a numpy array, a slot on the tape, and PyTorch's autograd attributes.

Operations are attached as methods by ``tapegrad.forward``; this module holds the state and the
attributes that are not operations.
"""
from __future__ import annotations

import weakref
from typing import Any, Callable, Iterator

import numpy as np

from . import dtypes
from .device import CPU, device
from .printing import tensor_repr
from .registry import upper
from .tape import TLS, Tape


class Tensor:
    """A multi-dimensional array of one dtype, on the CPU, that records the operations applied to
    it on the tape when it requires grad.

    Create tensors with ``tapegrad.tensor``, ``zeros``, ``randn``...; the constructor
    ``Tensor(...)`` is PyTorch's legacy one (see ``__init__``)."""
    # Every op makes a tensor, so only the fields every tensor uses are slots; the rest are
    # class-level defaults, stored per instance (in __dict__) only when set.
    __slots__ = ("_data", "_slot", "_tape", "_rg", "_vc", "__dict__", "__weakref__")
    _grad = None        # .grad
    _leaf_slot = None   # a leaf's record on its tape, while some record reads it
    _base = None        # a view's base tensor
    _view_fn = None     # base array -> this view's array
    _hooks = None       # a leaf's hooks

    # ---- construction ------------------------------------------------------------------
    def __init__(self, *args: Any, requires_grad: bool = False, dtype=None) -> None:
        """The legacy constructor, as PyTorch's: ``Tensor(2, 3)`` is uninitialised of that
        shape, ``Tensor([1, 2])`` copies data into the default float dtype, ``Tensor(t)``
        shares t's data."""
        if len(args) == 1 and isinstance(args[0], Tensor):
            arr = args[0]._data
        elif args and all(isinstance(a, (int, np.integer)) and not isinstance(a, bool)
                          for a in args):
            dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
            arr = np.empty(tuple(int(a) for a in args), dt.np)
        else:
            data = args[0] if args else []
            arr = _to_array(data, dtype if dtype is not None else dtypes.get_default_dtype())
        _init(self, arr, False)
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _make(data: np.ndarray, requires_grad: bool = False) -> "Tensor":
        t = _new(Tensor)
        t._data = data
        t._slot = t._tape = None
        t._rg = requires_grad
        t._vc = [0]
        return t

    def __del__(self) -> None:
        slot = self._slot
        if slot is not None:
            try:
                tape = self._tape
                rec = tape.records[slot]
                if rec.rc > 1:  # the common case, inlined: a later record still reads it
                    rec.rc -= 1
                else:
                    tape.release(slot)
            except Exception:  # interpreter shutdown: the tape may already be gone
                pass

    # ---- autograd attributes -----------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        """Whether operations on this tensor are recorded for backward."""
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Sets ``requires_grad`` in place and returns ``self``; only leaves can be switched off,
        and only floating tensors can require grad."""
        requires_grad = bool(requires_grad)
        if self._slot is not None and not requires_grad:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach().")
        if requires_grad and not self.dtype.is_floating_point:
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        self._rg = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        """True for a tensor not computed by a recorded op (made by the user, or not requiring
        grad)."""
        return self._slot is None

    @property
    def grad(self) -> "Tensor | None":
        """The gradient accumulated by ``backward`` (None until then). Reading it on a non-leaf
        that does not retain grad warns, as in PyTorch."""
        if self._slot is not None and self._grad is None and not self.retains_grad:
            import warnings
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
                ".grad attribute won't be populated during autograd.backward(). If you indeed "
                "want the .grad field to be populated for a non-leaf Tensor, use .retain_grad() "
                "on the non-leaf Tensor.", UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: "Tensor | None") -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of "
                                f"type {type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError("assigned grad has data of a different size")
            if value.dtype is not self.dtype:
                raise RuntimeError("assigned grad has data of a different type")
        self._grad = value

    @property
    def grad_fn(self):
        """The backward node that made this tensor (``MulBackward0``...), or None for a leaf."""
        if self._slot is None:
            return None
        records = self._tape.records
        return upper("node_for")(records[self._slot], records)

    @property
    def retains_grad(self) -> bool:
        """True if ``retain_grad()`` was called on this non-leaf tensor."""
        if self._slot is None:
            return False
        rec = self._tape.records.get(self._slot)
        return rec is not None and rec.retain is not None

    def retain_grad(self) -> None:
        """Makes this non-leaf tensor keep its ``.grad`` after ``backward``."""
        if not self._rg:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._slot is not None:
            rec = self._tape.records[self._slot]
            if rec.hooks is None and rec.retain is None:
                self._tape.special += 1
            rec.retain = weakref.ref(self)

    def register_hook(self, hook: Callable) -> "RemovableHandle":
        """``hook(grad)`` runs when this tensor's gradient is computed; it may return a new one."""
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._slot is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            rec = self._tape.records[self._slot]
            if rec.hooks is None:
                if rec.retain is None:
                    self._tape.special += 1
                rec.hooks = []
            hooks = rec.hooks
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None) -> None:
        """Computes the gradient of this tensor with respect to the graph's leaves and accumulates
        it into their ``.grad``.

        ``gradient`` is required unless the tensor has one element. ``retain_graph`` keeps the tape
        for a second backward (default: ``create_graph``); ``create_graph`` records the backward so
        the gradients can be differentiated again; ``inputs`` limits accumulation to those tensors.
        """
        upper("backward")(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> "Tensor":
        """A tensor sharing this one's data (and version counter) that is not on the tape and does
        not require grad."""
        t = Tensor._make(self._data)
        t._vc = self._vc  # PyTorch: a detached tensor shares the version counter
        return t

    def detach_(self) -> "Tensor":
        """Detaches this tensor from the tape in place (not for views of tensors that require
        grad)."""
        if self._base is not None and self._base._rg:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        if self._slot is not None:
            slot, self._slot = self._slot, None
            self._tape.release(slot)
        self._rg = False
        return self

    @property
    def _version(self) -> int:
        return self._vc[0]

    @property
    def data(self) -> "Tensor":
        """A tensor sharing this one's data but not on the tape; assigning replaces the data
        without recording anything."""
        return Tensor._make(self._data)

    @data.setter
    def data(self, value: "Tensor") -> None:
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)

    # ---- attributes --------------------------------------------------------------------
    @property
    def dtype(self) -> dtypes.dtype:
        """The element type (``tapegrad.float32``...)."""
        return dtypes.from_numpy_dtype(self._data.dtype)

    @property
    def shape(self) -> "Size":
        """The shape, as a ``Size`` (a tuple)."""
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        """The shape as a ``Size``, or the size of dimension ``dim``."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_dim(dim, self._data.ndim)]

    def dim(self) -> int:
        """The number of dimensions."""
        return self._data.ndim

    ndim = property(dim)

    def ndimension(self) -> int:
        """The number of dimensions (an alias of ``dim()``)."""
        return self._data.ndim

    def numel(self) -> int:
        """The number of elements."""
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        """The size of one element in bytes."""
        return self._data.itemsize

    def is_floating_point(self) -> bool:
        """True if the dtype is a floating-point type."""
        return self._data.dtype.kind == "f"

    def is_contiguous(self) -> bool:
        """True if the data is laid out C-contiguously in memory."""
        return self._data.flags.c_contiguous

    def stride(self, dim: int | None = None):
        """The strides in elements (not bytes): all of them, or that of dimension ``dim``."""
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[_dim(dim, self._data.ndim)]

    def data_ptr(self) -> int:
        """The address of the first element of the data."""
        return self._data.__array_interface__["data"][0]

    @property
    def device(self) -> device:
        """``device('cpu')``: the only device."""
        return CPU

    is_cuda = False

    @property
    def itemsize(self) -> int:
        """The size of one element in bytes."""
        return self._data.itemsize

    # ---- interop -------------------------------------------------------------------------
    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The data as a numpy array, shared, not copied. Refused for a tensor that requires grad
        unless ``force=True`` (use ``detach().numpy()``)."""
        if self._rg and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        # A tensor that requires grad becoming a plain array would silently cut the graph
        # (``np.some_function(t)`` not in tapegrad.numpy_api): refuse, as numpy() does.
        if self._rg and TLS.s.grad_enabled:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        if dtype is not None and np.dtype(dtype) != self._data.dtype:
            return self._data.astype(dtype)
        return np.array(self._data, copy=True) if copy else self._data

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               "to Scalar")
        return self._data.reshape(()).item()

    def tolist(self):
        """The data as (nested) Python lists of Python numbers."""
        return self._data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator["Tensor"]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        return tensor_repr(self)

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0 and spec:
            return self.item().__format__(spec)
        return repr(self)

    def __reduce_ex__(self, protocol):
        raise TypeError("tapegrad tensors are not pickled; use tapegrad.save(obj, path)")

    def __deepcopy__(self, memo):
        if self._slot is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment.")
        t = type(self).__new__(type(self))
        _init(t, self._data.copy(), self._rg)
        if self._grad is not None:
            t._grad = Tensor._make(self._grad._data.copy())
        t.__dict__.update({k: v for k, v in self.__dict__.items()
                           if k not in ("_grad", "_leaf_slot", "_base", "_view_fn", "_hooks")})
        memo[id(self)] = t
        return t

    def cpu(self) -> "Tensor":
        """``self``: tensors are always on the CPU."""
        return self

    def cuda(self, *args, **kwargs) -> "Tensor":
        """Raises PyTorch's error for a CPU-only build."""
        raise AssertionError("Torch not compiled with CUDA enabled")


_new = object.__new__


def recorded(data: np.ndarray, slot: int, tape) -> Tensor:
    """A tensor that requires grad, bound to ``slot``: the output of a recorded op."""
    t = _new(Tensor)
    t._data = data
    t._slot = slot
    t._tape = tape
    t._rg = True
    t._vc = [0]
    return t


def _init(t: Tensor, data: np.ndarray, requires_grad: bool) -> None:
    t._data = data
    t._slot = t._tape = None
    t._rg = requires_grad
    t._vc = [0]


def _dim(dim: int, ndim: int) -> int:
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim + n if dim < 0 else dim


class Size(tuple):
    """``torch.Size``: a tuple that prints as PyTorch's does."""

    def __repr__(self) -> str:
        return f"tapegrad.Size([{', '.join(map(str, self))}])"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n


class RemovableHandle:
    def __init__(self, hooks: list, hook: Callable) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def current_tape() -> Tape:
    return TLS.s.tape


# ---- Python data to arrays (the constructors in creation.py use these too) -----------------
def _infer_dtype(data) -> np.dtype:
    """PyTorch's inference: Python floats give the default float, ints int64, bools bool."""
    if isinstance(data, Tensor):
        return data._data.dtype
    if isinstance(data, (np.ndarray, np.generic)):
        return data.dtype  # numpy arrays and numpy scalars keep their dtype, as in PyTorch
    kinds = set()
    stack = [data]
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            stack.extend(v)
        elif isinstance(v, Tensor):
            kinds.add(v._data.dtype.kind)
        elif isinstance(v, (bool, np.bool_)):
            kinds.add("b")
        elif isinstance(v, (int, np.integer)):
            kinds.add("i")
        elif isinstance(v, (float, np.floating)):
            kinds.add("f")
        else:
            raise TypeError(f"Could not infer dtype of {type(v).__name__}")
    if "f" in kinds or not kinds:
        return dtypes.get_default_dtype().np
    if "i" in kinds:
        return np.dtype(np.int64)
    return np.dtype(np.bool_)


def _to_array(data, dtype=None) -> np.ndarray:
    if isinstance(data, Tensor):
        data = data._data
    elif isinstance(data, (list, tuple)) and any(isinstance(v, Tensor) for v in _flat(data)):
        data = _nested_tensors_to_list(data)
    np_dt = dtypes.to_dtype(dtype).np if dtype is not None else _infer_dtype(data)
    if isinstance(data, np.ndarray) and data.dtype not in dtypes._FROM_NP and dtype is None:
        dtypes.from_numpy_dtype(data.dtype)  # raises the PyTorch-style message
    try:
        return np.array(data, dtype=np_dt)
    except ValueError as e:
        raise ValueError(f"expected sequence of equal length lists: {e}") from None


def _flat(data):
    for v in data:
        if isinstance(v, (list, tuple)):
            yield from _flat(v)
        else:
            yield v


def _nested_tensors_to_list(data):
    if isinstance(data, Tensor):
        if data._data.ndim:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return data._data.item()
    if isinstance(data, (list, tuple)):
        return [_nested_tensors_to_list(v) for v in data]
    return data
