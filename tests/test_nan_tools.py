"""detect_anomaly and trace_backward against PyTorch's anomaly mode.

Each graph below was run under ``torch.autograd.detect_anomaly()`` with torch 2.13.0+cpu; the
error PyTorch raised (or None: it let the pass run) is recorded beside it. PyTorch checks each
backward node's outputs for NaN (an inf passes) in the order its engine runs them, and names
the node and the output's index; tapegrad must stop at the same node, with the same message,
and ``trace_backward`` must mark the same record."""
from __future__ import annotations

import math
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import tapegrad as torch


def g_issue(T):  # issue 16's example: inf * 0 in the product's gradient for w
    x = T.tensor([0.0, 1.0, 2.0], requires_grad=True)
    w = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    return ((x * w).sqrt() + T.log(x)).sum()


def g_sqrt_zero(T):  # d sqrt at 0 is inf: no NaN anywhere
    x = T.tensor([0.0, 1.0], requires_grad=True)
    return (x.sqrt() * 1.0).sum()


def g_sqrt_negative(T):
    x = T.tensor([1.0, 4.0, 9.0], requires_grad=True)
    return ((x * 2).tanh() + (x - 4).sqrt() * 0).sum()


def g_div_zero(T):
    x = T.tensor([0.0, 1.0], requires_grad=True)
    y = T.tensor([0.0, 2.0], requires_grad=True)
    return (x / y).sum()


def g_log_times_zero(T):
    x = T.tensor([0.0, 1.0], requires_grad=True)
    return (x.log() * 0).sum()


def g_pow_half(T):
    x = T.tensor([0.0, 4.0], requires_grad=True)
    return (x.pow(0.5) * 0).sum()


def g_matmul_inf(T):
    a = T.tensor([[math.inf, 1.0], [2.0, 3.0]])
    w = T.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    return ((a @ w) * 0).sum()


def g_exp_overflow(T):  # inf - inf is NaN in the forward, but every gradient is finite or inf
    x = T.tensor([100.0, 1.0], requires_grad=True)
    return (x.exp() - x.exp()).sum()


def g_where_sqrt(T):  # the classic: where() does not stop sqrt's NaN in the backward
    x = T.tensor([-1.0, 4.0], requires_grad=True)
    return T.where(x > 0, x.sqrt(), T.zeros(2)).sum()


def g_broadcast_log(T):
    x = T.tensor([[0.0, 1.0], [2.0, 3.0]], requires_grad=True)
    b = T.tensor([0.0, 1.0], requires_grad=True)
    return (x.log() * b).sum()


def g_mean_inf_minus_inf(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 1e30) * 1e30  # overflows float32 to inf
    return (y - y).mean()


def g_tanh_exp(T):
    x = T.tensor([100.0, -1.0], requires_grad=True)
    return (x.exp().tanh() * x.exp()).sum()


def g_softmax_inf(T):
    x = T.tensor([[math.inf, 1.0, 2.0]], requires_grad=True)
    return T.softmax(x, dim=1)[:, 0].sum()


def g_clean(T):
    x = T.tensor([1.0, 2.0], requires_grad=True)
    return (x.tanh() * x).sum()


def g_x_times_x(T):  # one tensor as both inputs: the index is the input's position
    x = T.tensor([math.inf, 0.0], requires_grad=True)
    return (x * x * 0).sum()


# What torch 2.13.0+cpu's anomaly mode raised for each graph (None: no error).
PYTORCH = {
    g_issue: "Function 'MulBackward0' returned nan values in its 1th output.",
    g_sqrt_zero: None,
    g_sqrt_negative: "Function 'SqrtBackward0' returned nan values in its 0th output.",
    g_div_zero: "Function 'DivBackward0' returned nan values in its 1th output.",
    g_log_times_zero: "Function 'LogBackward0' returned nan values in its 0th output.",
    g_pow_half: "Function 'PowBackward0' returned nan values in its 0th output.",
    g_matmul_inf: "Function 'MmBackward0' returned nan values in its 1th output.",
    g_exp_overflow: None,
    g_where_sqrt: "Function 'SqrtBackward0' returned nan values in its 0th output.",
    g_broadcast_log: "Function 'LogBackward0' returned nan values in its 0th output.",
    g_mean_inf_minus_inf: None,
    g_tanh_exp: "Function 'TanhBackward0' returned nan values in its 0th output.",
    g_softmax_inf: "Function 'SoftmaxBackward0' returned nan values in its 0th output.",
    g_clean: None,
    g_x_times_x: "Function 'MulBackward0' returned nan values in its 0th output.",
}
CASES = list(PYTORCH.items())
IDS = [f.__name__[2:] for f, _ in CASES]


def build(graph):
    """The forward, with numpy's floating-point warnings silenced (some forward ops still let
    them out; that is tested apart, below)."""
    with np.errstate(all="ignore"):
        return graph(torch)


@pytest.mark.parametrize("graph,expected", CASES, ids=IDS)
def test_detect_anomaly_stops_where_pytorch_does(graph, expected):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with torch.autograd.detect_anomaly():
            loss = build(graph)
            if expected is None:
                loss.backward()
                return
            with pytest.raises(RuntimeError) as info:
                loss.backward()
    assert str(info.value) == expected
    # As PyTorch: a UserWarning carries the forward's traceback, pointing at this file.
    (w,) = [w for w in caught if "Error detected in" in str(w.message)]
    node = expected.split("'")[1]
    assert str(w.message).startswith(f"Error detected in {node}. Traceback of forward call that "
                                     "caused the error:")
    assert "test_nan_tools.py" in str(w.message) and "tapegrad/" not in str(w.message)
    assert w.filename == __file__  # the warning points at the user's backward() call
    # The error's note repeats it (shown under the traceback, not part of str(error)).
    note = "\n".join(getattr(info.value, "__notes__", []))
    assert "test_nan_tools.py" in note and "tapegrad/" not in note


@pytest.mark.parametrize("graph,expected", CASES, ids=IDS)
def test_trace_backward_marks_the_same_record(graph, expected):
    loss = build(graph)
    trace = torch.trace_backward(loss)
    assert trace.message == expected
    if expected is not None:
        assert trace.anomaly.grad_fn == expected.split("'")[1]
        assert f"detect_anomaly stops here: nan in its {trace.anomaly.nan_output}th output" \
            in str(trace)
    loss.backward()  # the trace changed nothing: the real pass still runs


def test_trace_backward_says_where_the_first_inf_appeared():
    trace = torch.trace_backward(build(g_issue))
    # log's backward (1 / x at x = 0) is the first to return an inf; mul's is the first NaN.
    assert trace.first_inf.grad_fn == "LogBackward0" and trace.first_inf.inf_output == 0
    assert trace.anomaly.grad_fn == "MulBackward0" and trace.anomaly.returned == ("inf", "nan")
    assert "first inf: in its 0th output" in str(trace)


@pytest.mark.parametrize("graph,expected", CASES, ids=IDS)
def test_the_nan_tools_themselves_warn_nothing(graph, expected):
    """Backward (under anomaly mode too) and trace_backward let no numpy warning out."""
    loss = build(graph)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        torch.trace_backward(loss)
        with torch.autograd.detect_anomaly():
            warnings.simplefilter("ignore", UserWarning)  # anomaly mode's own warning
            try:
                loss.backward(retain_graph=True)
            except RuntimeError:
                pass
        loss.backward()


def test_anomaly_mode_also_checks_double_backward():
    x = torch.tensor([0.0, 1.0], requires_grad=True)
    with torch.autograd.detect_anomaly():
        with np.errstate(all="ignore"):
            y = (x.log() * 0).sum()
        with pytest.raises(RuntimeError,
                           match=r"^Function 'LogBackward0' returned nan values in its 0th "
                                 r"output\."), \
                pytest.warns(UserWarning, match="Error detected in LogBackward0"):
            torch.autograd.grad(y, x, create_graph=True)


FORWARD_SCRIPT = """
import sys, warnings
sys.path.insert(0, {here!r})
import tapegrad
import test_nan_tools as cases
for graph, _ in cases.CASES:
    graph(tapegrad)
import numpy as np
np.log(np.zeros(1))  # the user's own numpy: must still warn
"""


def test_the_forward_warns_nothing():
    """In a plain process with every RuntimeWarning shown (-W always), the graphs' forwards and
    backwards print none; the user's own numpy call still does. (A subprocess: pytest restores
    the warning filters that importing tapegrad set, so they are tested where users have them.)"""
    here = os.path.dirname(os.path.abspath(__file__))
    out = subprocess.run([sys.executable, "-W", "always::RuntimeWarning", "-c",
                          FORWARD_SCRIPT.format(here=here)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    warned = [line for line in out.stderr.splitlines() if "RuntimeWarning" in line]
    assert len(warned) == 1 and "divide by zero encountered in log" in warned[0], out.stderr


def test_numpy_code_of_the_users_own_still_warns():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        np.log(np.zeros(1))
    assert [w for w in caught if issubclass(w.category, RuntimeWarning)]


def test_check_nan_false_records_but_does_not_raise():
    x = torch.tensor([0.0, 1.0], requires_grad=True)
    with torch.autograd.detect_anomaly(check_nan=False):
        assert torch.autograd.is_anomaly_enabled()
        assert not torch.autograd.is_anomaly_check_nan_enabled()
        (x.log() * 0).sum().backward()  # NaN in the gradient: no error
    assert np.isnan(x.grad.numpy()[0])
    assert torch.autograd.is_anomaly_check_nan_enabled() and not torch.autograd.is_anomaly_enabled()
    torch.autograd.set_detect_anomaly(True, check_nan=False)
    try:
        x.grad = None
        (x.log() * 0).sum().backward()
    finally:
        torch.autograd.set_detect_anomaly(False)
    assert np.isnan(x.grad.numpy()[0])
