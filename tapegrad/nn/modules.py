"""The base of every layer, as PyTorch's: ``Module`` (parameters, buffers, submodules, hooks,
state dicts, train/eval) and ``Parameter``."""
from __future__ import annotations

from collections import OrderedDict, namedtuple
from typing import Iterator

import numpy as np

from .. import dtypes
from ..grad_mode import no_grad
from ..tensor import Tensor, _init


class Parameter(Tensor):
    """A tensor that a Module registers as a parameter; requires grad by default."""

    def __new__(cls, data=None, requires_grad: bool = True):
        if data is None:
            data = Tensor._make(np.empty(0, dtypes.get_default_dtype().np))
        t = object.__new__(cls)
        _init(t, data._data if isinstance(data, Tensor) else np.asarray(data), False)
        if requires_grad:
            t.requires_grad_(True)
        return t

    def __init__(self, data=None, requires_grad: bool = True) -> None:
        pass

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (f"_IncompatibleKeys(missing_keys={self.missing_keys}, "
                f"unexpected_keys={self.unexpected_keys})")


class Module:
    """Base class of layers and models: parameters, submodules, train/eval, state dicts."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def forward(self, *args, **kwargs):
        """The computation: subclasses define it, and calling the module runs it."""
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  '"forward" function')

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # -- registration ------------------------------------------------------------------------
    def __setattr__(self, name: str, value) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign before Module.__init__() call")
        if name in self._buffers and (value is None or isinstance(value, Tensor)) \
                and not isinstance(value, Parameter):
            self._buffers[name] = value  # assigning to a buffer's name replaces the buffer
            return
        for store in (self._parameters, self._modules, self._buffers):
            store.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        d = self.__dict__
        for store in ("_parameters", "_modules", "_buffers"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for store in (self._parameters, self._modules, self._buffers):
            if name in store:
                del store[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param) -> None:
        """Registers ``param`` (a ``Parameter``, or None) under ``name``."""
        if param is None:
            self._parameters[name] = None
        else:
            setattr(self, name, param)

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        """Registers a tensor that is state but not a parameter (it is in ``state_dict`` and
        ``buffers()``)."""
        self._buffers[name] = tensor

    def add_module(self, name: str, module) -> None:
        """Registers a child module under ``name`` (also ``register_module``)."""
        self._modules[name] = module

    register_module = add_module

    # -- traversal ---------------------------------------------------------------------------
    def named_modules(self, memo=None, prefix: str = ""):
        """Yields ``(name, module)`` for this module and all below it, each once."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator["Module"]:
        """Yields this module and all below it, each once."""
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        """Yields ``(name, module)`` for the direct children."""
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator["Module"]:
        """Yields the direct children."""
        for _, m in self.named_children():
            yield m

    def named_parameters(self, prefix: str = "", recurse: bool = True):
        """Yields ``(qualified name, parameter)`` for every parameter (of the submodules too unless
        ``recurse=False``), each once."""
        seen = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_prefix, m in mods:
            for name, p in m._parameters.items():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{mod_prefix}.{name}" if mod_prefix else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Yields every parameter (of the submodules too unless ``recurse=False``), each once: what
        an optimizer takes."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = ""):
        """Yields ``(qualified name, buffer)`` for every buffer."""
        for mod_prefix, m in self.named_modules(prefix=prefix):
            for name, b in m._buffers.items():
                if b is not None:
                    yield (f"{mod_prefix}.{name}" if mod_prefix else name), b

    def buffers(self):
        """Yields every buffer."""
        for _, b in self.named_buffers():
            yield b

    def apply(self, fn) -> "Module":
        """Calls ``fn`` on every submodule, then on this module; returns ``self``."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # -- modes and grads ----------------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Sets training mode (``mode=True``) or eval mode on this module and all below it; returns
        ``self``."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> "Module":
        """Sets eval mode (``train(False)``): Dropout becomes the identity."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clears the parameters' gradients: to None (the default) or to zeros."""
        for p in self.parameters():
            if p._grad is not None:
                if set_to_none:
                    p._grad = None
                else:
                    p._grad._data[...] = 0

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Sets ``requires_grad`` on every parameter; returns ``self``."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def to(self, *args, **kwargs) -> "Module":
        """Converts the parameters to a dtype, in place; a device other than the CPU raises
        PyTorch's error. Returns ``self``."""
        from ..device import _use_device, device
        dt = kwargs.get("dtype")
        if kwargs.get("device") is not None:
            _use_device(kwargs["device"])
        for a in args:
            if isinstance(a, dtypes.dtype):
                dt = a
            elif isinstance(a, (str, device)) or type(a) is int:
                _use_device(a)
        if dt is not None:
            with no_grad():
                for m in self.modules():
                    for p in list(m._parameters.values()) + list(m._buffers.values()):
                        if p is not None and p.dtype.is_floating_point:
                            p._data = p._data.astype(dt.np)
        return self

    def cuda(self, device=None) -> "Module":
        """Raises PyTorch's error for a CPU-only build."""
        raise AssertionError("Torch not compiled with CUDA enabled")

    def float(self) -> "Module":
        """Converts the parameters to float32 in place; returns ``self``."""
        return self.to(dtypes.float32)

    def double(self) -> "Module":
        """Converts the parameters to float64 in place; returns ``self``."""
        return self.to(dtypes.float64)

    def cpu(self) -> "Module":
        """``self``: modules are always on the CPU."""
        return self

    # -- state dicts ------------------------------------------------------------------------
    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False):
        """An ordered dict of every parameter and buffer by qualified name, detached unless
        ``keep_vars``."""
        out = OrderedDict() if destination is None else destination
        for mod_prefix, m in self.named_modules(prefix=prefix.rstrip(".")):
            for name, p in list(m._parameters.items()) + list(m._buffers.items()):
                if p is not None:
                    key = f"{mod_prefix}.{name}" if mod_prefix else name
                    out[key] = p if keep_vars else p.detach()
        return out

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy values in; with ``strict`` (the default) missing or unexpected keys are an
        error, and then nothing is changed."""
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        if strict:
            if unexpected:
                errors.append("Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ". ")
        for k, v in state_dict.items():
            if k in own:
                value = v if isinstance(v, Tensor) else Tensor._make(np.asarray(v))
                if tuple(value.shape) != tuple(own[k].shape):
                    errors.append(f"size mismatch for {k}: copying a param with shape "
                                  f"{value.shape!r} from checkpoint, the shape in current model "
                                  f"is {own[k].shape!r}.")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        with no_grad():
            for k, v in state_dict.items():
                if k in own:
                    data = v._data if isinstance(v, Tensor) else np.asarray(v)
                    own[k]._data[...] = data
                    own[k]._vc[0] += 1
        return _IncompatibleKeys(missing, unexpected)

    # -- printing ----------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text shown inside this module's parentheses when it prints; subclasses override it.
        """
        return ""

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, m in self._modules.items():
            body = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {body}")
        main = type(self).__name__ + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    def __dir__(self):
        return list(super().__dir__()) + list(self._parameters) + list(self._modules)
