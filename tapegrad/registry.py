"""The one registration point through which a lower layer calls an upper one.

Imports run downward (see tests/test_layers.py). Where a lower layer needs something an upper
layer implements, the upper layer registers it here when it is imported, and the lower layer
looks it up by name when it runs:

    backward          autograd.backward          for Tensor.backward
    node_for          graph.node_for             for Tensor.grad_fn
    pack_saved        graph.pack_saved           forward, while saved-tensor hooks are active
    function_vjp      autograd.function          the op table's row for user Functions
    interpret_graph   autograd.higher            engine, under create_graph=True
    find_by_hash      jit.runtime.find_by_hash   engine: the trace cache's O(1) lookup
    run_jit           jit.runtime.run_jit        backends: the JIT engine
    html_table        printing.html_table        Tape._repr_html_ (Jupyter)
"""
from __future__ import annotations

from typing import Callable

_UPPER: dict[str, Callable] = {}

# Non-empty while any thread has saved-tensor hooks: the forward checks it on every recorded op,
# so it is a plain list here rather than a lookup.
SAVED_HOOKS: list = []
# Callables f(record, inputs, out), called as each record is appended while a profiler records
# the forward or tapegrad.compile traces a function (inputs: the operands as the op was given them).
# Comparisons, which record nothing, call f(None, inputs, out, ufunc).
FORWARD_WATCHERS: list = []
# Callables f(tensor), called before each in-place write to a tensor while a trace runs.
WRITE_WATCHERS: list = []


def provide(name: str, fn: Callable) -> Callable:
    """Register ``fn`` under ``name`` (called by the upper layer at import)."""
    _UPPER[name] = fn
    return fn


def upper(name: str) -> Callable:
    """What an upper layer registered under ``name``."""
    try:
        return _UPPER[name]
    except KeyError:
        raise RuntimeError(f"tapegrad internal error: '{name}' is not registered; import "
                           "tapegrad (not only one of its modules)") from None
