"""``tapegrad.autograd``: backward, grad, Function, gradcheck, anomaly detection."""
from __future__ import annotations

import numpy as np

from ..engine import _accumulate, run_backward, unused_message
from ..grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from ..registry import provide
from ..tape import TLS
from ..tensor import Tensor
from . import functional, graph, higher  # noqa: F401  (higher registers interpret_graph)
from . import forward_ad  # noqa: F401
from .function import Function, FunctionCtx, once_differentiable  # noqa: F401
from .gradcheck import gradcheck, gradgradcheck

__all__ = ["backward", "grad", "Function", "FunctionCtx", "gradcheck", "gradgradcheck",
           "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
           "set_detect_anomaly", "detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled"]


def _tuple(x) -> tuple:
    if x is None:
        return ()
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _seeds(outputs: tuple, grad_outputs: tuple, create_graph: bool) -> list:
    """The root gradients, as PyTorch's _make_grads makes them (with its messages)."""
    if grad_outputs and len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad requires one gradient per output: got {len(grad_outputs)} "
                           f"gradients for {len(outputs)} outputs")
    seeds = []
    for i, out in enumerate(outputs):
        g = grad_outputs[i] if grad_outputs else None
        if g is None:
            if out._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if out._data.dtype.kind != "f" and not out.dtype.is_floating_point:
                raise RuntimeError("grad can be implicitly created only for real scalar outputs "
                                   f"but got {out.dtype!r}")
            seed = np.ones(out._data.shape, out._data.dtype)
            seeds.append(Tensor._make(seed) if create_graph else seed)
            continue
        if not isinstance(g, Tensor):
            g = Tensor._make(np.asarray(g, dtype=out._data.dtype))
        if g.shape != out.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape!r} "
                               f"and output[{i}] has a shape of {out.shape!r}.")
        if create_graph:
            seeds.append(g)
        else:
            data = g._data
            seeds.append(data if data.dtype == out._data.dtype else data.astype(out._data.dtype))
    return seeds


def _check_differentiable(outputs: tuple) -> None:
    for i, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            raise TypeError(f"expected a Tensor as output {i}, got {type(out).__name__}")
        if not out._rg:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have "
                               "a grad_fn")


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None) -> None:
    """Accumulate d(tensors)/d(leaf) into every leaf's ``.grad``."""
    outputs = _tuple(tensors)
    grad_outputs = _tuple(grad_tensors if grad_tensors is not None else grad_variables)
    _check_differentiable(outputs)
    seeds = _seeds(outputs, grad_outputs, create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        # backward(inputs=...) accumulates only into these: run as grad() and add the results.
        inputs = _tuple(inputs)
        grads = run_backward(list(outputs), seeds, retain_graph, create_graph, list(inputs))
        for t, g in zip(inputs, grads):
            if g is not None:
                _accumulate(t, g)
        return
    if create_graph:
        import warnings
        warnings.warn(
            "Using backward() with create_graph=True will create a reference cycle between the "
            "parameter and its gradient which can cause a memory leak. We recommend using "
            "autograd.grad when creating the graph to avoid this. If you have to use this "
            "function, make sure to reset the .grad fields of your parameters to None after use "
            "to break the cycle and avoid the leak.", UserWarning, stacklevel=3)
    _leaf_roots(outputs, seeds)
    run_backward([o for o in outputs if o._slot is not None],
                 [s for o, s in zip(outputs, seeds) if o._slot is not None],
                 retain_graph, create_graph)


def _leaf_roots(outputs, seeds) -> None:
    """``leaf.backward()`` accumulates the seed straight into the leaf."""
    for o, s in zip(outputs, seeds):
        if o._slot is None:
            _accumulate(o, s)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``; no ``.grad`` changes."""
    outs = _tuple(outputs)
    ins = _tuple(inputs)
    if not ins:
        raise RuntimeError("grad requires non-empty inputs.")
    _check_differentiable(outs)
    for t in ins:
        if not t._rg:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    if allow_unused is None:
        allow_unused = materialize_grads
    seeds = _seeds(outs, _tuple(grad_outputs), create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    grads = run_backward(list(outs), seeds, retain_graph, create_graph, list(ins),
                         allow_unused=allow_unused)
    result = []
    for i, (t, g) in enumerate(zip(ins, grads)):
        if g is None:
            if not allow_unused:  # reached, but no gradient flowed (an integer path, say)
                raise RuntimeError(unused_message(i))
            if materialize_grads:
                g = np.zeros_like(t._data)
        if g is not None and not isinstance(g, Tensor):
            g = Tensor._make(np.array(g, copy=True))
        result.append(g)
    return tuple(result)


class set_detect_anomaly:
    """Make backward raise at the first record whose gradient has a NaN (an inf passes, as in
    PyTorch), naming the forward op and where it was recorded. Also usable as a context
    manager."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        st = TLS.s
        self._prev = st.anomaly, st.check_nan
        st.anomaly, st.check_nan = bool(mode), bool(check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> None:
        TLS.s.anomaly, TLS.s.check_nan = self._prev


class detect_anomaly:
    """A context manager in which backward raises at the first node that returns NaN values, as
    PyTorch's anomaly mode does (an inf passes), warning with the traceback of the forward op
    that made it. With ``check_nan=False`` it records the forward's tracebacks and checks
    nothing, as PyTorch's does."""
    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = bool(check_nan)

    def __enter__(self) -> None:
        st = TLS.s
        self._prev = st.anomaly, st.check_nan
        st.anomaly, st.check_nan = True, self.check_nan

    def __exit__(self, *exc) -> None:
        TLS.s.anomaly, TLS.s.check_nan = self._prev


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly mode, where enabled, checks backward results for NaN (``check_nan``)."""
    return TLS.s.check_nan


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly`` or after ``set_detect_anomaly(True)``, in this thread."""
    return TLS.s.anomaly


Variable = Tensor
provide("backward", backward)
