"""tapegrad.compile has torch.compile's API (arguments, checks, the OptimizedModule wrapper), so
scripts that use it run unchanged (what it compiles is tested in test_compile.py)."""
from __future__ import annotations

import numpy as np
import pytest

import tapegrad as torch


def test_a_compiled_module_shares_the_original_parameters():
    m = torch.nn.Linear(3, 2)
    cm = torch.compile(m)
    assert type(cm).__name__ == "OptimizedModule" and cm._orig_mod is m
    assert cm.weight is m.weight and cm.in_features == 3
    assert list(cm.state_dict()) == ["_orig_mod.weight", "_orig_mod.bias"]  # PyTorch's keys
    assert repr(cm).startswith("OptimizedModule(\n  (_orig_mod): Linear(in_features=3")
    x = torch.ones(4, 3)
    np.testing.assert_array_equal(cm(x).detach().numpy(), m(x).detach().numpy())
    opt = torch.optim.SGD(cm.parameters(), lr=0.1)  # the optimizer updates the original's
    before = m.weight.detach().numpy().copy()
    cm(x).sum().backward()
    opt.step()
    assert not np.array_equal(m.weight.detach().numpy(), before)


def test_decorator_forms_and_gradients():
    @torch.compile
    def f(a):
        return (a * a).sum()

    @torch.compile(mode="max-autotune", fullgraph=True, dynamic=True)
    def g(a):
        return a.sin()

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    f(x).backward()
    assert x.grad.tolist() == [2.0, 4.0] and f.__name__ == "f"
    assert g(torch.zeros(1)).tolist() == [0.0]
    m = torch.nn.Linear(2, 2)
    assert torch.compile(m, disable=True) is m


def test_bad_arguments_get_pytorchs_errors():
    with pytest.raises(RuntimeError, match="Unrecognized mode=fast, should be one of: default"):
        torch.compile(lambda a: a, mode="fast")
    with pytest.raises(RuntimeError, match="Either mode or options can be specified"):
        torch.compile(lambda a: a, mode="default", options={})
