"""Shared fixtures. The JIT's disk cache goes to one directory per test session, shared by all
tests (and by the subprocesses they start), so each kernel is compiled once per run."""
from __future__ import annotations

import gc
import os
import tempfile

import numpy as np
import pytest

os.environ.setdefault("TAPEGRAD_CACHE_DIR",
                      os.path.join(tempfile.gettempdir(), f"tapegrad-test-cache-{os.getuid()}"))

import tapegrad  # noqa: E402
from tapegrad.ops import OPS  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_state():
    """Each test starts with grad mode on and the interpreter as the engine."""
    tapegrad.set_grad_enabled(True)
    yield
    tapegrad.set_grad_enabled(True)


def live_records() -> int:
    """Records on this thread's tape once unreachable tensors are gone. A test that caught an
    exception leaves its frames in a reference cycle (traceback <-> frame) until the garbage
    collector runs; the tensors in them are unreachable, but only collection frees them."""
    gc.collect()
    return len(tapegrad.current_tape())


def sample(domain: str, shape, rng) -> np.ndarray:
    """Float64 values where an op's derivative is defined (see Op.domain)."""
    if domain == "p":
        return rng.uniform(0.5, 2.0, shape)
    if domain == "s":
        return rng.uniform(-1.0, 1.0, shape)
    if domain == "g":  # greater than 1 (acosh)
        return rng.uniform(1.2, 3.0, shape)
    if domain == "u":  # inside (0, 1) (logit)
        return rng.uniform(0.1, 0.9, shape)
    if domain == "b":
        return rng.random(shape) > 0.5
    values = rng.standard_normal(shape)
    return np.where(np.abs(values) < 0.05, 0.3, values)  # keep clear of kinks at 0


def elementwise_inputs(op, shapes, rng, requires_grad=True):
    """Tensors for op's inputs: float64, requiring grad where differentiable."""
    out = []
    for d, shape in zip(op.domain, shapes):
        arr = sample(d, shape, rng)
        out.append(tapegrad.tensor(arr, requires_grad=requires_grad and d != "b"))
    return out


def call_elementwise(name: str, inputs):
    """Call an elementwise op from the table through the public API."""
    from tapegrad import forward as F
    from tapegrad.ops import PARAM_SAMPLES
    op = OPS[name]
    if name == "where":
        return F.where(*inputs)
    if name == "copy":
        return F.clone(inputs[0])
    if op.arity == 3 or op.params and op.arity == 2:
        return F.elementwise(name, *inputs, params=PARAM_SAMPLES.get(name, ()))
    if op.arity == 2:
        return F.binary(name, *inputs)
    return F.unary(name, inputs[0], PARAM_SAMPLES.get(name, ()))


ELEMENTWISE = sorted(n for n, op in OPS.items() if op.elementwise)
