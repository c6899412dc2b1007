"""The profiler (CLI and API) and the teaching views: explain, to_dot, trace_backward,
anomaly detection."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import tapegrad as torch
from tapegrad.profile import compare

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "tapegrad.profile", *args], capture_output=True,
                          text=True, timeout=600, cwd=cwd)


def test_cli_on_a_training_script_table_json_and_plot(tmp_path):
    out_json, out_png = tmp_path / "p.json", tmp_path / "p.png"
    proc = run_cli("examples/profile_training.py", "--repeat", "3", "--json", str(out_json),
                   "--plot", str(out_png))
    assert proc.returncode == 0, proc.stderr
    assert "final loss" in proc.stdout  # the script's own output still shows
    assert "interp ms" in proc.stdout and "break-even calls" in proc.stdout
    report = json.loads(out_json.read_text())
    assert report["backward_passes"] == 200 and len(report["graphs"]) == 2
    for g in report["graphs"]:
        for field in ("entries", "calls", "interp_backward_s", "jit_backward_s", "compile_s",
                      "speedup", "break_even_calls"):
            assert field in g
        assert g["interp_backward_s"] > 0 and g["jit_backward_s"] > 0 and g["samples"] == 3
    assert sum(g["calls"] for g in report["graphs"]) == 200
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_script_that_raises_still_reports_and_fails(tmp_path):
    script = tmp_path / "boom.py"
    script.write_text("import tapegrad as t\nx = t.ones(3, requires_grad=True)\n"
                      "(x * 2).sum().backward()\nraise ValueError('boom')\n")
    proc = run_cli(str(script))
    assert proc.returncode == 1
    assert "ValueError: boom" in proc.stderr and "1 backward pass," in proc.stdout


def test_cli_script_without_backward_says_so(tmp_path):
    script = tmp_path / "quiet.py"
    script.write_text("import tapegrad as t\nprint((t.ones(3) * 2).sum().item())\n")
    proc = run_cli(str(script), "--", "--repeat")  # script args after -- are the script's
    assert proc.returncode == 0 and "6.0" in proc.stdout
    assert "no backward pass was run" in proc.stdout


def test_compare_api():
    w = torch.randn(8, 4, requires_grad=True)
    x = torch.randn(16, 8)

    def step():
        return ((x @ w).tanh() * 0.5 + 1).pow(2).mean()

    report = compare(step, repeat=4)
    (g,) = report.graphs
    assert g.calls == 4 and len(g.interp_s) == 4 and g.kernels >= 1
    assert g.speedup is not None and "interp ms" in report.table()
    assert json.loads(report.to_json())["graphs"][0]["entries"] == g.entries
    assert "<pre>" in report._repr_html_()
    assert w.grad is not None  # the real backward still ran
    assert len(torch.current_tape()) == 0


def test_explain_lists_the_tape_and_traceable_kernels():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    loss = ((x * w).tanh() * 2 + 1).sum()
    e = torch.explain(loss)
    lines = e.tape.splitlines()
    assert len(lines) == 7 and lines[0].endswith("= input")
    mul = next(line for line in lines if "= mul %" in line and "saves" in line)
    assert "saves a = %" in mul and "f32[3]" in mul
    assert "tanh" in e.tape and "saves out = %" in e.tape
    (k,) = e.kernels
    assert len(k.records) == 4
    for slot in k.records:  # every fused record is named in the kernel, above its lines
        assert f"# %{slot} : f32[3] = " in k.source
    assert "(_f(1.0) - o2[i] * o2[i])" in k.source  # tanh's formula, from the op table
    assert "tape (forward order" in str(e) and "<pre>" in e._repr_html_()
    assert "no history" in str(torch.explain(torch.ones(3)))


def test_to_dot():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    dot = torch.viz.to_dot((x * 3).exp().sum())
    assert dot.startswith("digraph tape {") and dot.count("->") == 3
    assert 'fillcolor="#e8f0fe"' in dot and "ExpBackward0" in dot


def test_trace_backward_finds_an_injected_nan_and_changes_nothing():
    x = torch.tensor([1.0, 4.0, 9.0], requires_grad=True)
    a = (x * 2).tanh()
    with np.errstate(invalid="ignore"):
        b = (x - 4).sqrt()  # x < 4 gives NaN in the forward, and so in the backward
    loss = (a + b * 0).sum()
    trace = torch.trace_backward(loss)
    first = trace.first_nonfinite
    # sqrt's own adjoint is finite (0); its backward, g / (2 * out) with out NaN, is not: the
    # first non-finite adjoint is sub's, and the trace names sqrt as where it was made.
    assert first is not None and first.op == "sub" and first.made_by.endswith("sqrt")
    assert "made by the backward of %" in str(trace)
    assert all(r.finite for r in trace.rows[:trace.rows.index(first)])
    assert x.grad is None
    loss.backward()  # nothing was freed by the trace
    assert x.grad is not None


def test_detect_anomaly_names_the_forward_op_and_where():
    x = torch.tensor([0.0, 1.0], requires_grad=True)
    with torch.autograd.detect_anomaly():
        y = x.sqrt()
        (y * 1.0).sum().backward(retain_graph=True)  # d sqrt at 0 is inf: no NaN, no error
        with np.errstate(all="ignore"):
            z = (y * 0).sum()  # 0 / (2 * sqrt(0)) is NaN
        with pytest.raises(RuntimeError, match="Function 'SqrtBackward0' returned nan values "
                                               "in its 0th output") as info, \
                pytest.warns(UserWarning, match="Error detected in SqrtBackward0"):
            z.backward()
    assert "test_profile.py" in "\n".join(info.value.__notes__)  # where it was recorded
    np.testing.assert_equal(x.grad.numpy(), [np.inf, 0.5])  # from the first backward only
    torch.autograd.set_detect_anomaly(False)
    np.testing.assert_equal(torch.autograd.is_anomaly_enabled(), False)
