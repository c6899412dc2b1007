"""Which engine runs backward: ``interp``, ``jit`` or ``auto`` (the default)."""
from __future__ import annotations

import contextlib
import threading

from .envvars import env_choice, env_flag
from .registry import upper

NAMES = ("interp", "jit", "auto")


class _Choice(threading.local):
    def __init__(self) -> None:
        self.name = None  # None: the process-wide default


_choice = _Choice()
_default = env_choice("TAPEGRAD_BACKEND", "auto", NAMES)


def _check(name: str) -> str:
    if name not in NAMES:
        raise ValueError(f"unknown backend {name!r}: expected one of {', '.join(NAMES)}")
    return name


def set_backend(name: str) -> None:
    """Set the backward engine for the whole process."""
    global _default
    _default = _check(name)
    _choice.name = None
    if name == "jit" and not _preload_started:
        preload_numba()  # a script that chooses the JIT pays Numba's start-up off its path


def get_backend() -> str:
    """The name of the backward engine in use in this thread (``interp``, ``jit`` or ``auto``)."""
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


def preload_numba(compiling: bool = False) -> None:
    """Import and initialise Numba on a background thread, so the first JIT backward does not
    also pay for that (1.3 s here: import 0.5 s, initialisation 0.8 s). Only when ``jit`` is the
    default, a function is compiled (``compiling``: ``tapegrad.compile``, whose first call then
    traces while Numba starts), or TAPEGRAD_PRELOAD=1: that work holds the GIL, so under
    ``auto`` (which may never compile) it would slow a short script several times over;
    ``auto``'s cost model counts it into the first compile instead. TAPEGRAD_PRELOAD=0 turns it
    off for ``jit`` and ``compile`` too."""
    global _preload_started
    wanted = env_flag("TAPEGRAD_PRELOAD", _default == "jit" or compiling)
    if not wanted or _preload_started:
        return
    _preload_started = True

    def load():
        try:
            from numba.core.registry import cpu_target
            # Loading a cached kernel first imports Numba's lazily registered implementations
            # (0.5 s here, measured with cProfile); do it now, off the main thread.
            cpu_target.target_context.refresh()
        except Exception:  # a missing or broken Numba shows up where the JIT is used
            pass

    thread = threading.Thread(target=load, name="tapegrad-preload", daemon=True)
    _preload.append(thread)
    thread.start()


_preload: list = []
_preload_started = False


def wait_for_preload() -> None:
    """Numba's initialisation is not made for two threads at once: the JIT waits for the
    background one before it compiles or loads anything."""
    while _preload:
        _preload.pop().join()


def run(bw, tape) -> None:
    name = get_backend()
    if name == "interp":
        bw.interpret(bw.order)
        return
    upper("run_jit")(bw, tape, name)
