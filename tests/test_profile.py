"""The profiler (CLI and API) and the teaching views: explain, to_dot, trace_backward,
anomaly detection."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import live_records

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
    # rows people can place: the line that made each root, and which ops the graph has
    sources = sorted(g["source"] for g in report["graphs"])
    assert sources == ["profile_training.py:24  loss = ((pred - y) ** 2).mean()",
                       "profile_training.py:26  loss = loss + 0.01 * (pred - y).abs().mean()"]
    assert "recommendation: use" in proc.stdout and report["recommendation"].startswith("use ")
    for g in report["graphs"]:
        for field in ("entries", "calls", "interp_backward_s", "jit_backward_s", "compile_s",
                      "disk_load_s", "speedup", "break_even_calls", "verdict", "auto",
                      "interp_spread_s", "jit_spread_s", "ops", "root"):
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
    assert "<table" in report._repr_html_()
    assert w.grad is not None  # the real backward still ran
    assert live_records() == 0


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
    assert "tape (forward order" in str(e) and "<table" in e._repr_html_()
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


# ---- the command line ------------------------------------------------------------------
def test_cli_help_and_errors_name_the_flag(tmp_path):
    proc = run_cli("--help")
    assert proc.returncode == 0 and "usage: python -m tapegrad.profile" in proc.stdout
    for flag in ("--repeat", "--plot", "--json", "--trace", "--sort", "--"):
        assert flag in proc.stdout
    script = tmp_path / "s.py"
    script.write_text("print('ran')\n")
    for args, message in ((("--repaet", "3", str(script)), "unrecognized arguments: --repaet"),
                          (("--repeat", "x", str(script)), "argument --repeat: expected a "
                                                           "positive integer, got 'x'"),
                          (("--repeat", "0", str(script)), "argument --repeat"),
                          (("--sort", "size", str(script)), "argument --sort: invalid choice"),
                          (("missing.py",), "argument SCRIPT: no such file: missing.py"),
                          ((), "the following arguments are required: SCRIPT")):
        proc = run_cli(*args)
        assert proc.returncode == 2 and message in proc.stderr, (args, proc.stderr)
        assert "ran" not in proc.stdout


def test_cli_separates_the_scripts_own_arguments(tmp_path):
    script = tmp_path / "args.py"
    script.write_text("import sys\nprint('argv', sys.argv[1:])\n")
    proc = run_cli("--repeat", "2", str(script), "--epochs", "3", "--", "--repeat", "4")
    assert proc.returncode == 0, proc.stderr
    assert "argv ['--epochs', '3', '--repeat', '4']" in proc.stdout
    proc = run_cli(str(script), "a", "--repeat", "2", "b")  # ours are taken from anywhere
    assert "argv ['a', 'b']" in proc.stdout


def test_cli_trace_is_chrome_trace_json_matching_the_tape(tmp_path):
    script = tmp_path / "t.py"
    script.write_text(
        "import tapegrad as t\n"
        "x = t.ones(4, requires_grad=True)\n"
        "for _ in range(3):\n"
        "    loss = (x * 2).tanh().sum()\n"
        "    loss.backward()\n")
    out = tmp_path / "trace.json"
    proc = run_cli("--trace", str(out), "--repeat", "2", str(script))
    assert proc.returncode == 0, proc.stderr
    trace = json.loads(out.read_text())
    events = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    for e in events:
        assert {"name", "ts", "dur", "pid", "tid"} <= set(e) and e["dur"] >= 0
    # each interpreted dry run: one parent event and, nested inside it, one event per record
    # in backward order, named as PyTorch names the nodes
    parents = [e for e in events if e["tid"] == 1 and e["name"].startswith("interpreted")]
    assert len(parents) == 2
    for p in parents:
        kids = [e for e in events if e["tid"] == 1 and e is not p
                and p["ts"] <= e["ts"] and e["ts"] + e["dur"] <= p["ts"] + p["dur"] + 1]
        assert [k["name"] for k in kids] == ["SumBackward0", "TanhBackward0", "MulBackward0",
                                             "AccumulateGrad"]
    assert any(e["tid"] == 2 and e["cat"] == "kernel" for e in events)  # fused tanh and mul
    # the script's own thread: 3 steps before each backward, the 3 real backward passes, the rest
    script_events = [e["name"] for e in events if e["tid"] == 0]
    assert len(script_events) == 7
    assert [n for n in script_events if n.startswith("backward")] == [
        "backward 1 (auto)", "backward 2 (auto)", "backward 3 (auto)"]
    # the forward records, in order, each step: x * 2, tanh, sum
    forward = [e["name"] for e in events if e["tid"] == 4]
    assert forward == ["mul", "tanh", "sum"] * 3
    times = [e["ts"] for e in events if e["tid"] == 4]
    assert times == sorted(times)


# ---- verdicts --------------------------------------------------------------------------
def graph_report(interp, jit, **kw):
    from tapegrad.profile import GraphReport
    return GraphReport("#1", 10, kernels=1, calls=100, interp_s=interp, jit_s=jit,
                       fusible=True, **kw)


def test_a_verdict_only_beyond_the_spread():
    overlap = graph_report([1.0e-3, 1.1e-3, 0.9e-3, 1.3e-3, 1.0e-3],
                           [0.95e-3, 1.2e-3, 1.0e-3, 0.9e-3, 1.05e-3])
    assert overlap.verdict == "no difference" and overlap.break_even_calls is None
    faster = graph_report([2.0e-3, 2.1e-3, 1.9e-3, 2.0e-3], [1.0e-3, 1.1e-3, 0.9e-3, 1.0e-3],
                          compile_s=0.5, load_s=0.1)
    assert faster.verdict == "jit" and faster.speedup == pytest.approx(2.0)
    assert faster.break_even_calls == pytest.approx(0.6 / 1.0e-3)  # compile and load paid
    slower = graph_report([1.0e-3] * 3, [2.0e-3] * 3)
    assert slower.verdict == "interp"
    from tapegrad.profile.report import spread
    assert spread([1, 2, 3]) == (1, 3)  # min-max under four samples
    assert spread([1, 2, 3, 4, 5]) == (2, 4)  # the interquartile range from four on


def test_auto_column_is_autos_own_cost_model_decision():
    """The call at which the profiler says auto compiles is the first call at which
    tapegrad.jit.cost.worth_compiling (what auto asks) says yes."""
    from tapegrad.jit import cost, runtime
    from tapegrad.jit.plan import graph_key, make_plan
    from tapegrad.engine import reachable
    x = torch.randn(1000, requires_grad=True)
    loss = ((x * 2).tanh() * x).exp().sum()
    order = reachable(torch.current_tape().records, [loss._slot])
    plan = make_plan(order, {r.out: r for r in order}, graph_key(order, None))
    kernel = cost.kernel_seconds(plan, order)
    for fused_s in (kernel * 0.5, kernel + 1e-4, kernel + 1e-3, kernel + 1e-2):
        g = graph_report([1e-3] * 3, [1e-3] * 3, fused_s=fused_s, predicted_kernel_s=kernel,
                         predicted_compile_s=cost.compile_seconds(plan))
        g.calls = 5000
        expected = next((k for k in range(runtime.THRESHOLD + 1, g.calls + 1)
                         if cost.worth_compiling(plan, order, fused_s, k)), None)
        assert g.auto_compiles_at == expected
        assert g.auto.startswith("compiles at call" if expected else "interprets")


def test_per_op_table_sums_to_the_total_and_sorts():
    w = torch.randn(8, 4, requires_grad=True)
    x = torch.randn(16, 8)
    report = compare(lambda: ((x @ w).tanh() * 0.5).sum(), repeat=3, progress=False)
    ops = report.key_averages()
    assert sum(o.self_s for o in ops.ops) == pytest.approx(ops.total_s)
    assert {o.name for o in ops.ops} == {"SumBackward0", "MulBackward0", "TanhBackward0",
                                         "MmBackward0", "AccumulateGrad"}
    assert all(o.calls == 3 for o in ops.ops)  # one per timed pass
    names = [o.name for o in ops.sorted("name")]
    assert names == sorted(names)
    selfs = [o.self_s for o in ops.sorted("self")]
    assert selfs == sorted(selfs, reverse=True)
    text = ops.table(sort_by="calls", row_limit=2)
    assert text.splitlines()[-1].startswith("total") and "(3 more)" in text
    with pytest.raises(ValueError, match="sort_by='size'"):
        ops.table(sort_by="size")
    assert report.recommendation().startswith("use ")


# ---- HTML reprs and drawing ------------------------------------------------------------
def parse_html(text):
    """The HTML as XML (our reprs are well-formed): fails on a broken table."""
    import xml.etree.ElementTree as ET
    return ET.fromstring(f"<root>{text}</root>")


def test_html_reprs_are_monospace_tables_with_the_marked_row():
    with np.errstate(all="ignore"):
        x = torch.tensor([0.0, 1.0, 2.0], requires_grad=True)
        w = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        loss = ((x * w).sqrt() + torch.log(x)).sum()
    trace = torch.trace_backward(loss)
    views = {"trace": trace, "explain": torch.explain(loss), "tape": torch.current_tape(),
             "report": compare(lambda: (w * 2).tanh().sum(), repeat=2, progress=False)}
    for name, view in views.items():
        tree = parse_html(view._repr_html_())
        tables = tree.findall(".//table")
        assert tables, name
        for table in tables:
            assert "monospace" in table.get("style")
            for cell in table.iter("td"):
                assert "white-space: pre" in cell.get("style")  # long rows do not wrap
        assert "overflow-x: auto" in tree.find("div").get("style")
    marked = parse_html(trace._repr_html_()).findall(".//tr[@class='tg-marked']")
    cells = [[td.text for td in tr.findall("td")] for tr in marked]
    assert any(c[2] == "MulBackward0" and "detect_anomaly stops here" in c[-1] for c in cells)
    rows = parse_html(torch.current_tape()._repr_html_()).findall(".//tbody/tr")
    assert len(rows) == len(torch.current_tape())
    assert repr(torch.current_tape()).startswith(f"Tape: {len(torch.current_tape())} live")


def test_draw_is_svg_with_one_node_per_record_and_the_marks():
    import xml.etree.ElementTree as ET
    with np.errstate(all="ignore"):
        x = torch.tensor([0.0, 1.0, 2.0], requires_grad=True)
        w = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        loss = ((x * w).sqrt() + torch.log(x)).sum()
    drawing = torch.viz.draw(loss)
    root = ET.fromstring(drawing._repr_svg_())
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg"
    nodes = root.findall(f"{ns}g[@class='tg-record']")
    assert [n.get("data-op") for n in nodes] == ["leaf", "leaf", "mul", "sqrt", "log", "add",
                                                 "sum"]
    edges = root.findall("*[@class='tg-edge']")
    assert len(edges) == 7  # mul 2, sqrt 1, log 1, add 2, sum 1
    mul = next(n for n in nodes if n.get("data-op") == "mul")
    assert mul.find(f"{ns}rect").get("stroke-width") == "3"  # where detect_anomaly stops
    assert "detect_anomaly stops here" in drawing.svg and "kernel 1" in drawing.svg
    assert loss.grad_fn is not None
    loss.backward()  # drawing changed nothing
    assert "no history" in torch.viz.draw(torch.ones(2)).svg


def test_a_notebook_cell_is_named_as_jupyter_names_it(monkeypatch):
    """Rows in a notebook say 'In [7], line 3', not IPython's temporary file name."""
    import types

    from tapegrad.profile import source
    fake = types.ModuleType("IPython")

    class Shell:
        class compile:
            _filename_map = {"/tmp/ipykernel_1/4134659517.py": 7}

    fake.get_ipython = lambda: Shell()
    monkeypatch.setitem(sys.modules, "IPython", fake)
    assert source._notebook_cell("/tmp/ipykernel_1/4134659517.py") == 7
    assert source._notebook_cell("train.py") is None
