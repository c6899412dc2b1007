"""The JIT against the interpreter, for every op in the table, and its caches."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import ELEMENTWISE, call_elementwise, elementwise_inputs, sample

import tapegrad
import tapegrad.jit
from tapegrad.ops import OPS


def grads(fn, inputs, backend):
    for x in inputs:
        x.grad = None
    with tapegrad.backend(backend):
        fn(*inputs).sum().backward()
    return [None if x.grad is None else x.grad.numpy().copy() for x in inputs]


def chain(name):
    """Three applications of op ``name`` with other elementwise ops between: one fused run."""
    op = OPS[name]
    first = op.domain.index("p") if "p" in op.domain else min(
        i for i, d in enumerate(op.domain) if d != "b")
    # Feed the result back in, mapped into the input's domain (roughly: a NaN in both engines
    # still compares equal).
    into = {"p": lambda y: y * 0.5 + 1.5, "g": lambda y: y * 0.5 + 1.5,
            "u": lambda y: y * 0.1 + 0.5, "s": lambda y: y * 0.2}.get(op.domain[first],
                                                                     lambda y: y * 0.5)

    def fn(*xs):
        y = call_elementwise(name, xs) * 1.5
        again = list(xs)
        again[first] = into(y)
        return call_elementwise(name, again) * y + xs[first]
    return fn


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_jit_matches_interpreter_for_every_elementwise_op(name, dtype):
    rng = np.random.default_rng(3)
    op = OPS[name]
    shapes = [(5, 4)] * op.arity
    inputs = elementwise_inputs(op, shapes, rng)
    if dtype == "float32":
        inputs = [x.float().detach().requires_grad_(x.requires_grad) if x.dtype.is_floating_point
                  else x for x in inputs]
    fn = chain(name)
    expected = grads(fn, inputs, "interp")
    got = grads(fn, inputs, "jit")
    for e, g in zip(expected, got):
        if e is None:
            assert g is None
            continue
        assert g.dtype == e.dtype
        rtol = 1e-12 if dtype == "float64" else 1e-5
        np.testing.assert_allclose(g, e, rtol=rtol, atol=1e-12 if dtype == "float64" else 1e-6)


@pytest.mark.parametrize("shapes", [[(3, 4), (4,)], [(3, 1), (1, 4)], [(), (3, 4)]])
def test_jit_broadcasting_matches_interpreter(shapes):
    rng = np.random.default_rng(4)
    a = tapegrad.tensor(sample("r", shapes[0], rng), requires_grad=True)
    b = tapegrad.tensor(sample("r", shapes[1], rng), requires_grad=True)

    def fn(a, b):
        y = (a * b + b).tanh() * a - b.exp()
        return tapegrad.where(y > 0, y, y * 0.1) * b

    for e, g in zip(grads(fn, [a, b], "interp"), grads(fn, [a, b], "jit")):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14)


def test_jit_runs_every_structural_op():
    from test_op_table import STRUCTURAL_SAMPLES
    for name, (fn, inputs) in STRUCTURAL_SAMPLES.items():
        wrapped = lambda *xs, fn=fn: (fn(*xs) * 2).tanh() * 3  # noqa: E731
        for e, g in zip(grads(wrapped, inputs, "interp"), grads(wrapped, inputs, "jit")):
            np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12, err_msg=name)


def mlp_step(batch, scale):
    rng = np.random.default_rng(batch)
    w = tapegrad.tensor(rng.standard_normal((6, 5)), requires_grad=True)
    x = tapegrad.tensor(rng.standard_normal((batch, 6)))
    h = (x @ w).tanh() * scale + 0.25
    loss = (h * h * 0.5 - h.sigmoid()).mean()
    loss.backward()
    return w.grad


def test_one_compile_per_structure_none_for_new_sizes_or_constants():
    tapegrad.jit.clear_cache()
    tapegrad.jit.reset_stats()
    with tapegrad.backend("jit"):
        mlp_step(32, 1.5)
        compiled = tapegrad.jit.stats()["compiles"] + tapegrad.jit.stats()["disk_loads"]
        assert compiled >= 1
        for batch, scale in [(64, 2.0), (17, -0.5), (32, 3.0)]:
            mlp_step(batch, scale)
    s = tapegrad.jit.stats()
    assert s["compiles"] + s["disk_loads"] == compiled
    assert s["cache_misses"] == 1 and s["cache_hits"] == 3


def test_auto_compiles_only_repeated_structures(monkeypatch):
    tapegrad.jit.clear_cache()
    tapegrad.jit.reset_stats()
    threshold = tapegrad.jit.runtime.THRESHOLD
    # Past the threshold the cost model decides (test_jit_economics); here it says yes.
    monkeypatch.setattr(tapegrad.jit.cost, "worth_compiling", lambda *args: True)
    with tapegrad.backend("auto"):
        for _ in range(threshold):
            mlp_step(8, 1.0)
        assert tapegrad.jit.stats()["jit_backwards"] == 0
        mlp_step(8, 1.0)
    s = tapegrad.jit.stats()
    assert s["jit_backwards"] == 1 and s["interpreted_backwards"] == threshold


def test_interp_never_compiles():
    tapegrad.jit.clear_cache()
    tapegrad.jit.reset_stats()
    with tapegrad.backend("interp"):
        for _ in range(5):
            mlp_step(8, 1.0)
    assert tapegrad.jit.stats()["compiles"] == 0 and tapegrad.jit.stats()["kernels"] == 0


SCRIPT = """
import numpy as np, tapegrad, tapegrad.jit
tapegrad.set_backend("jit")
x = tapegrad.tensor(np.linspace(-1, 1, 7), requires_grad=True)
y = (x * 1.25 + 0.5).tanh() * x - x.sin() * 0.5
y.sum().backward()
s = tapegrad.jit.stats()
print(s["compiles"], s["disk_loads"], repr(x.grad.numpy().tolist()))
"""


def run_script(env):
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    compiles, loads, grad = out.stdout.split(" ", 2)
    return int(compiles), int(loads), grad.strip(), out.stderr


def test_second_process_compiles_nothing_and_tampered_files_never_run(tmp_path):
    env = dict(os.environ, TAPEGRAD_CACHE_DIR=str(tmp_path / "cache"))
    compiles, loads, grad, _ = run_script(env)
    assert compiles == 1 and loads == 0
    compiles, loads, grad2, _ = run_script(env)
    assert compiles == 0 and loads == 1 and grad2 == grad
    assert oct(os.stat(tmp_path / "cache").st_mode & 0o777) == "0o700"
    (kernel_file,) = (tmp_path / "cache").glob("tg_*.py")
    # Tamper: make the kernel write garbage. It must never run: detected and regenerated.
    text = kernel_file.read_text().replace("out0[i] = e0", "out0[i] = e0 * 0.0 + 12345.0")
    assert text != kernel_file.read_text()
    kernel_file.write_text(text)
    compiles, loads, grad3, err = run_script(env)
    assert grad3 == grad and "recompiled" in err and compiles == 1
    compiles, loads, grad4, _ = run_script(env)
    assert compiles == 0 and grad4 == grad


def test_unwritable_cache_dir_warns_once_and_works(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    env = dict(os.environ, TAPEGRAD_CACHE_DIR=str(blocker / "sub"))
    compiles, loads, grad, err = run_script(env)
    assert compiles == 1 and err.count("memory only") == 1
    env = dict(os.environ, TAPEGRAD_DISK_CACHE="0")
    compiles, loads, grad_mem, err = run_script(env)
    assert compiles == 1 and grad_mem == grad and "memory only" not in err


def test_jit_keeps_error_semantics_retain_graph_hooks_and_accumulation():
    with tapegrad.backend("jit"):
        x = tapegrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
        a = x * 2
        b = (a * a).tanh()
        a.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            b.sum().backward()
        assert x.grad is None
        y = (x * x).sin() * 2
        z = y.sum()
        z.backward(retain_graph=True)
        z.backward()
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            z.backward()
        expected = 2 * 2 * np.cos(np.array([1.0, 4.0, 9.0])) * 2 * np.array([1.0, 2.0, 3.0])
        np.testing.assert_allclose(x.grad.numpy(), expected)
        x.grad = None
        h = x * 3
        h.retain_grad()
        h.register_hook(lambda g: g * 2)
        (h.exp() * 0.5).sum().backward()
        np.testing.assert_allclose(h.grad.numpy(), np.exp([3.0, 6.0, 9.0]))
        np.testing.assert_allclose(x.grad.numpy(), 3 * np.exp([3.0, 6.0, 9.0]))


def test_a_repeated_structure_is_found_by_its_hash_without_building_the_key(monkeypatch):
    import tapegrad.jit.runtime as runtime
    tapegrad.jit.clear_cache()
    with tapegrad.backend("jit"):
        mlp_step(16, 1.0)  # first sight: full key, plan, and the root's hash registered

        def no_walk(*args):
            raise AssertionError("the key was rebuilt on a cache hit")

        monkeypatch.setattr(runtime, "graph_key", no_walk)
        monkeypatch.setattr(tapegrad.engine, "reachable", no_walk)
        grad = mlp_step(16, 2.0)  # same structure, another constant
    monkeypatch.undo()
    with tapegrad.backend("interp"):
        expected = mlp_step(16, 2.0)
    np.testing.assert_allclose(grad.numpy(), expected.numpy(), rtol=1e-12)


def test_hash_lookup_falls_back_when_the_graph_differs():
    tapegrad.jit.clear_cache()
    tapegrad.jit.reset_stats()
    with tapegrad.backend("jit"):
        x = tapegrad.tensor([1.0, 2.0], requires_grad=True)
        (x * 2).tanh().sum().backward()
        (x * 2).sin().sum().backward()  # another op: another hash, another key
        (x * 2).tanh().sum().backward()
    s = tapegrad.jit.stats()
    assert s["cache_misses"] == 2 and s["cache_hits"] == 1
    np.testing.assert_allclose(x.grad.numpy(), 2 * (2 * (1 - np.tanh([2.0, 4.0]) ** 2))
                               + 2 * np.cos([2.0, 4.0]), rtol=1e-5)  # float32


DEBUG_SCRIPT = """
import tapegrad
tapegrad.set_backend("jit")
x = tapegrad.tensor([1.0, 2.0], requires_grad=True)
(x * 3).tanh().sum().backward()
(x * 3).tanh().sum().backward()
x64 = tapegrad.tensor([1.0, 2.0], dtype=tapegrad.float64, requires_grad=True)
(x64 * 3).tanh().sum().backward()
"""


@pytest.mark.parametrize("level", [1, 2, 3, 4])
def test_debug_levels(tmp_path, level):
    env = dict(os.environ, TAPEGRAD_DEBUG=str(level), TAPEGRAD_CACHE_DIR=str(tmp_path))
    err = subprocess.run([sys.executable, "-c", DEBUG_SCRIPT], env=env, capture_output=True,
                         text=True, timeout=300).stderr
    assert "compiled a kernel in" in err
    assert ("trace cache miss" in err) == (level >= 2)
    if level >= 2:
        assert "dtype changed from" in err  # the float64 graph: which record changed, and how
    assert ("= tanh %" in err) == (level >= 3)
    assert ("def kernel(" in err) == (level >= 4)


def test_processes_sharing_one_cache_directory(tmp_path):
    env = dict(os.environ, TAPEGRAD_CACHE_DIR=str(tmp_path / "shared"))
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    grads = {o[0].split(" ", 2)[2].strip() for o in outs}
    assert len(grads) == 1, outs  # every process computed the same gradient
    leftovers = [n for n in os.listdir(tmp_path / "shared") if n.startswith(".tmp-")]
    assert not leftovers, leftovers
    compiles, loads, grad, err = run_script(env)  # and a later process compiles nothing
    assert (compiles, loads) == (0, 1) and grad in grads, (compiles, loads, err)


def test_a_miss_names_the_field_that_changed():
    from tapegrad.engine import reachable
    from tapegrad.jit.plan import graph_key
    from tapegrad.jit.runtime import explain_miss
    x = tapegrad.ones(3, requires_grad=True)
    a = (x * tapegrad.ones(3)).sum()  # mul saves an array b
    b = (x * 2.0).sum()               # mul saves a scalar b
    order = reachable(b._tape.records, [b._slot])
    why = explain_miss(graph_key(order, None),
                       graph_key(reachable(a._tape.records, [a._slot]), None), order)
    assert why.endswith("(mul): saved b changed from 'arr' to 'scalar'"), why
