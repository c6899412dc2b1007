"""Grad mode, per thread: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``."""
from __future__ import annotations

import functools

from .tape import TLS


class _GradMode:
    """A context manager that is also a decorator, like PyTorch's."""

    enabled: bool = False

    def __enter__(self) -> None:
        self._prev = TLS.s.grad_enabled
        TLS.s.grad_enabled = self.enabled

    def __exit__(self, *exc) -> None:
        TLS.s.grad_enabled = self._prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """Operations inside record nothing on the tape."""

    enabled = False


class enable_grad(_GradMode):
    """Turns recording back on inside a ``no_grad`` block; a context manager and a decorator."""
    enabled = True


class inference_mode(_GradMode):
    """``inference_mode()`` (or ``mode=True``) records nothing, like ``no_grad``;
    ``inference_mode(False)`` records. Tensors made inside are ordinary tensors (PyTorch's
    inference tensors are not modelled)."""
    def __init__(self, mode: bool = True) -> None:
        self.enabled = not mode


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(False)`` switches grad mode at once, and restores it when used in a
    ``with`` block."""

    def __init__(self, mode: bool) -> None:
        self._prev = TLS.s.grad_enabled
        self.enabled = bool(mode)
        TLS.s.grad_enabled = self.enabled

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc) -> None:
        TLS.s.grad_enabled = self._prev

    def __call__(self, fn):
        TLS.s.grad_enabled = self._prev  # used as a decorator: only the call switches the mode
        mode = self.enabled

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper


def is_grad_enabled() -> bool:
    """True if operations are being recorded in this thread."""
    return TLS.s.grad_enabled
