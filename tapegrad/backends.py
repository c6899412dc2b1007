"""Which engine runs backward: ``interp``, ``jit`` or ``auto`` (the default)."""
from __future__ import annotations

import contextlib
import os
import threading

NAMES = ("interp", "jit", "auto")


class _Choice(threading.local):
    def __init__(self) -> None:
        self.name = None  # None: the process-wide default


_choice = _Choice()
_default = os.environ.get("TAPEGRAD_BACKEND", "auto")
if _default not in NAMES:
    raise ValueError(f"TAPEGRAD_BACKEND={_default!r}: expected one of {', '.join(NAMES)}")


def _check(name: str) -> str:
    if name not in NAMES:
        raise ValueError(f"unknown backend {name!r}: expected one of {', '.join(NAMES)}")
    return name


def set_backend(name: str) -> None:
    """Set the backward engine for the whole process."""
    global _default
    _default = _check(name)
    _choice.name = None


def get_backend() -> str:
    return _choice.name or _default


@contextlib.contextmanager
def backend(name: str):
    """Use engine ``name`` for backward passes in this block (this thread only)."""
    prev = _choice.name
    _choice.name = _check(name)
    try:
        yield
    finally:
        _choice.name = prev


def run(bw, tape) -> None:
    name = get_backend()
    if name != "interp":
        try:
            from .jit import run_jit
        except ImportError:  # the JIT is being built: until then every backend interprets
            run_jit = None
        if run_jit is not None:
            run_jit(bw, tape, name)
            return
    bw.interpret(bw.order)
