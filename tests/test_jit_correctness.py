"""The JIT never runs a plan on a graph it does not fit, and the defects found by adversarial
testing stay fixed (issue 8). PyTorch 2.13 is the reference for every expected value."""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
import warnings

import numpy as np
import programs
import pytest

import tapegrad
import tapegrad.jit
from tapegrad.jit import runtime


@pytest.fixture
def verify(monkeypatch):
    """Every O(1) hash hit is checked against the full structural key."""
    monkeypatch.setattr(runtime, "VERIFY", True)


# ---- the differential test ------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_programs_at_several_sizes_match_the_interpreter(verify, seed):
    """Random programs, each run at four size assignments (empty sizes included) in one
    process, under jit and under auto past its threshold, against the interpreter. This is the
    test that found the reused-plan bug: 0 mismatches and 0 JIT-only errors allowed."""
    instances, failures = programs.fuzz(n_programs=25, n_sizes=4, seed=1000 + seed)
    assert instances == 100
    assert not failures, "\n".join(f"program {p} at {s} ({dt}): {msg}\n{prog}"
                                   for p, prog, s, dt, msg in failures[:5])


def _two_branches(n, m):
    x = tapegrad.tensor(np.linspace(.1, .5, n), requires_grad=True)
    y = tapegrad.tensor(np.linspace(.2, .3, m), requires_grad=True)
    xs, ys = x * 1.0, y * 1.0
    a, b = xs.exp(), ys.exp()  # neighbours in the backward order, on independent branches
    (a.sum() + b.sum()).backward()
    return x.grad.numpy(), y.grad.numpy()


@pytest.mark.parametrize("backend", ["jit", "auto"])
def test_a_plan_that_fused_equal_shapes_is_not_reused_when_they_differ(verify, backend):
    with tapegrad.backend(backend):
        for n, m in [(3, 3)] * 4 + [(1, 3), (3, 1), (2, 2), (4, 3), (3, 3)]:
            gx, gy = _two_branches(n, m)
            np.testing.assert_allclose(gx, np.exp(np.linspace(.1, .5, n)))
            np.testing.assert_allclose(gy, np.exp(np.linspace(.2, .3, m)))


def test_a_numpy_array_operand_and_a_number_never_share_a_plan(verify):
    x = tapegrad.tensor(np.linspace(.1, .9, 4), requires_grad=True)
    with tapegrad.backend("jit"):
        for c in [np.full(4, 3.0), 3.0, np.full(4, 3.0), 3.0]:
            x.grad = None
            ((x * c).sin() * c).sum().backward()
            np.testing.assert_allclose(x.grad.numpy(), 9.0 * np.cos(3.0 * x.detach().numpy()))


# ---- empty tensors, float16 -----------------------------------------------------------------
@pytest.mark.parametrize("backend", ["interp", "jit"])
def test_empty_tensors_under_every_engine(backend):
    with tapegrad.backend(backend):
        x = tapegrad.zeros(0, requires_grad=True)
        (x * 2).exp().sum().backward()
        assert x.grad.shape == (0,)
        y = tapegrad.ones(3, requires_grad=True)
        picked = y[y > 5]
        (picked * 2).exp().sum().backward()
        np.testing.assert_array_equal(y.grad.numpy(), np.zeros(3))
        z = tapegrad.zeros(0, 3, requires_grad=True)
        (tapegrad.softmax(z, 1) * 2).tanh().sum().backward()
        assert z.grad.shape == (0, 3)
        w = tapegrad.ones(1, requires_grad=True)  # a size-1 input broadcast against an empty one
        ((w * tapegrad.zeros(0)).exp() * w).sum().backward()
        np.testing.assert_array_equal(w.grad.numpy(), np.zeros(1))


def test_float16_under_the_jit_is_the_interpreters():
    results = []
    for backend in ("interp", "jit"):
        x = tapegrad.tensor([0.5, 1.0, 2.0], dtype=tapegrad.float16, requires_grad=True)
        with tapegrad.backend(backend):
            ((x * 2).exp() * x).tanh().sum().backward()
        assert x.grad.dtype == tapegrad.float16
        results.append(x.grad.numpy())
    np.testing.assert_array_equal(results[0], results[1])


# ---- var and std ----------------------------------------------------------------------------
def test_std_of_a_constant_has_zero_gradient():
    x = tapegrad.ones(3, dtype=tapegrad.float64, requires_grad=True)
    x.std().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(3))
    y = tapegrad.tensor([[1.0, 1.0], [1.0, 3.0]], requires_grad=True)
    y.std(1).sum().backward()  # one constant row, one not
    np.testing.assert_allclose(y.grad.numpy(), [[0, 0], [-0.70710678, 0.70710678]])


@pytest.mark.parametrize("fn", ["var", "std"])
def test_no_degrees_of_freedom_gives_nan_and_pytorchs_warning(fn):
    x = tapegrad.ones(1, requires_grad=True)
    with pytest.warns(UserWarning, match=rf"{fn}\(\): degrees of freedom is <= 0"):
        out = getattr(x, fn)()
    assert np.isnan(out.item())
    out.backward()
    assert np.isnan(x.grad.numpy()).all()
    x.grad = None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one correction less: no warning at all
        getattr(x, fn)(correction=0).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0])


# ---- gather ---------------------------------------------------------------------------------
def test_gather_forward_backward_and_errors():
    x = tapegrad.arange(6.0).reshape(2, 3).requires_grad_()
    index = tapegrad.tensor([[0, 0], [1, 2]])
    y = x.gather(1, index)
    np.testing.assert_array_equal(y.detach().numpy(), [[0.0, 0.0], [4.0, 5.0]])
    assert type(y.grad_fn).__name__ == "GatherBackward0"
    (y * tapegrad.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[3.0, 0.0, 0.0], [0.0, 3.0, 4.0]])
    picked = tapegrad.gather(x, 0, tapegrad.tensor([[1, 0, 1]]))
    np.testing.assert_array_equal(picked.detach().numpy(), [[3.0, 1.0, 5.0]])
    with pytest.raises(RuntimeError, match="Expected dtype int64 for index"):
        x.gather(1, tapegrad.tensor([[0.0]]))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        x.gather(1, tapegrad.tensor([0]))
    with pytest.raises(RuntimeError, match="index 7 is out of bounds for dimension 1 with size 3"):
        x.gather(1, tapegrad.tensor([[7]]))


# ---- failed calls change nothing ------------------------------------------------------------
@pytest.mark.parametrize("backend", ["interp", "jit"])
def test_a_failed_grad_call_leaves_the_graph_usable(backend):
    with tapegrad.backend(backend):
        x = tapegrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
        unused = tapegrad.ones(3, requires_grad=True)
        y = (x * x).sum()  # saves x: a freed graph would refuse the next backward
        with pytest.raises(RuntimeError, match="index 1 appears to not have been used"):
            tapegrad.autograd.grad(y, [x, unused])
        y.backward()
        np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0, 6.0])
        assert unused.grad is None


def test_backward_on_another_thread_names_the_thread_problem():
    x = tapegrad.ones(3, requires_grad=True)
    y = x * x
    errors = []

    def run():
        for call in (lambda: y.backward(tapegrad.ones(3)), lambda: y.sum().backward(),
                     lambda: tapegrad.autograd.grad(y, x, tapegrad.ones(3))):
            try:
                call()
            except RuntimeError as e:
                errors.append(str(e))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert len(errors) == 3 and all("another thread's tape" in e for e in errors), errors
    y.sum().backward()  # nothing was consumed: this thread's backward still works
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])


# ---- counters and the bounded trace cache ---------------------------------------------------
def test_stats_count_compiles_apart_from_kernel_reuse():
    tapegrad.jit.clear_cache()
    tapegrad.jit.reset_stats()
    x = tapegrad.tensor(np.linspace(-1, 1, 5), requires_grad=True)
    with tapegrad.backend("jit"):
        for k in range(3):  # three structures (another root op each), one identical fused run
            y = (x * 1.5).tanh() * x
            [y.sum, y.mean, lambda y=y: y.sum() * 2.0][k]().backward()
    s = tapegrad.jit.stats()
    assert s["cache_misses"] == 3 and s["kernels"] == 1
    assert s["compiles"] + s["disk_loads"] == 1 and s["kernel_reuses"] == 2


def test_stats_work_before_any_backward():
    code = "import tapegrad; s = tapegrad.jit.stats(); print(s['compiles'], s['kernels'])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0", "0"]


def test_the_trace_cache_stays_bounded_over_10000_structures():
    tapegrad.jit.clear_cache()
    tapegrad.jit.reset_stats()
    x = tapegrad.tensor([0.3, 0.7], requires_grad=True)
    with tapegrad.backend("auto"):  # first sightings are interpreted: nothing compiles
        for i in range(10_000):
            y = x
            for bit in range(14):  # the bits of i, as sin or cos: 10,000 structures
                y = y.sin() if i >> bit & 1 else y.cos()
            y.sum().backward()
            assert len(runtime._graphs) <= runtime.MAX_GRAPHS
    s = tapegrad.jit.stats()
    assert s["cache_misses"] == 10_000 and s["compiles"] == 0
    assert s["trace_cache_evictions"] >= 10_000 - runtime.MAX_GRAPHS
    assert len(runtime._by_hash) <= runtime.MAX_GRAPHS


def test_a_recently_used_structure_survives_eviction(monkeypatch):
    tapegrad.jit.clear_cache()
    monkeypatch.setattr(runtime, "MAX_GRAPHS", 8)
    x = tapegrad.tensor([0.3, 0.7], requires_grad=True)
    with tapegrad.backend("auto"):
        x.tanh().sum().backward()
        hot = next(iter(runtime._graphs.values()))
        for i in range(40):
            y = x
            for _ in range(i + 1):
                y = y.sin()
            y.sum().backward()
            x.tanh().sum().backward()  # the hot structure, used after every new one
    assert hot in runtime._graphs.values() and hot.seen == 41
    assert len(runtime._graphs) <= 8


# ---- the disk cache: every file a kernel loads from is checked ------------------------------
KERNEL_SCRIPT = """
import numpy as np, tapegrad, tapegrad.jit
tapegrad.set_backend("jit")
x = tapegrad.tensor(np.linspace(-1, 1, 7), requires_grad=True)
y = (x * 1.25 + 0.5).tanh() * x - x.cos() * 0.5
y.sum().backward()
s = tapegrad.jit.stats()
print(s["compiles"], s["disk_loads"], s["tampered"], repr(x.grad.numpy().tolist()))
"""


def _run_kernel_script(cache):
    env = dict(os.environ, TAPEGRAD_CACHE_DIR=str(cache))
    out = subprocess.run([sys.executable, "-c", KERNEL_SCRIPT], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    compiles, loads, tampered, grad = out.stdout.split(" ", 3)
    return int(compiles), int(loads), int(tampered), grad.strip(), out.stderr


def _index_file(cache):
    (nbi,) = (cache / "__pycache__").glob("tg_*.nbi")
    return nbi


@pytest.mark.parametrize("damage", ["non-utf8 source", "corrupt index", "rewritten index",
                                    "corrupt object code", "foreign object code",
                                    "deleted manifest"])
def test_a_changed_cache_file_is_reported_deleted_and_recompiled(tmp_path, damage):
    cache = tmp_path / "cache"
    compiles, loads, _, grad, _ = _run_kernel_script(cache)
    assert (compiles, loads) == (1, 0)
    assert len(list(cache.glob("tg_*.sha256"))) == 1
    (source,) = cache.glob("tg_*.py")
    nbi = _index_file(cache)
    if damage == "non-utf8 source":
        source.write_bytes(b"\xff\xfe not a kernel \x80")
    elif damage == "corrupt index":
        nbi.write_bytes(nbi.read_bytes()[:20])
    elif damage == "rewritten index":
        # A well-formed pickle of other content: Numba would unpickle (run) it if unchecked.
        nbi.write_bytes(pickle.dumps(("not", "numba's", "index")))
    elif damage == "corrupt object code":
        (nbc,) = (cache / "__pycache__").glob("tg_*.nbc")
        nbc.write_bytes(nbc.read_bytes()[:-7] + b"garbage")
    elif damage == "foreign object code":
        (nbc,) = (cache / "__pycache__").glob("tg_*.nbc")
        (nbc.parent / nbc.name.replace(".1.nbc", ".2.nbc")).write_bytes(b"planted")
    else:
        next(cache.glob("tg_*.sha256")).unlink()
    compiles, loads, tampered, grad2, err = _run_kernel_script(cache)
    assert grad2 == grad and compiles == 1 and loads == 0
    if damage == "deleted manifest":  # compiled code of unknown origin: dropped quietly
        assert tampered == 0
    else:
        assert tampered == 1 and "recompiled" in err
    compiles, loads, tampered, grad3, err = _run_kernel_script(cache)  # trusted again
    assert (compiles, loads, tampered, grad3) == (0, 1, 0, grad) and "recompiled" not in err


# ---- type promotion -------------------------------------------------------------------------
F16, F32, F64 = tapegrad.float16, tapegrad.float32, tapegrad.float64
I32, I64, U8, I8, B = tapegrad.int32, tapegrad.int64, tapegrad.uint8, tapegrad.int8, tapegrad.bool

# (left dtype, left 0-d?, right dtype, right 0-d?, result): what PyTorch 2.13 gives.
PROMOTIONS = [
    (F32, False, I64, False, F32), (I64, False, F32, False, F32), (F16, False, I64, False, F16),
    (F32, False, I64, True, F32), (I64, True, F32, False, F32), (I64, False, F64, True, F64),
    (F32, False, F64, True, F32), (F32, True, I64, True, F32), (I32, False, I64, True, I32),
    (I32, False, I64, False, I64), (U8, False, I8, False, tapegrad.int16), (B, False, B, False, B),
    (B, False, F16, False, F16), (B, False, I32, True, I32), (U8, False, I64, True, U8),
    (F16, False, F32, False, F32), (F32, True, F64, True, F64),
]


def _tensor(dtype, zero_dim):
    return tapegrad.ones((), dtype=dtype) if zero_dim else tapegrad.ones(2, dtype=dtype)


@pytest.mark.parametrize("left,lz,right,rz,expected", PROMOTIONS)
def test_binary_ops_promote_as_pytorch_does(left, lz, right, rz, expected):
    a, b = _tensor(left, lz), _tensor(right, rz)
    for op in ("add", "sub", "mul", "maximum"):
        if op == "sub" and expected is B:
            continue  # PyTorch refuses bool subtraction
        assert getattr(tapegrad, op)(a, b).dtype == expected, op
    assert tapegrad.where(tapegrad.tensor(True), a, b).dtype == expected
    floating = expected if expected.is_floating_point else tapegrad.float32
    assert (a / b).dtype == floating


def test_python_numbers_raise_only_the_category():
    i, h = tapegrad.ones(2, dtype=I64), tapegrad.ones(2, dtype=F16)
    assert (i * 2.5).dtype == F32 and (2.5 * i).dtype == F32 and (i * 2).dtype == I64
    assert (h * 2.5).dtype == F16 and (h ** 2).dtype == F16 and (2 ** h).dtype == F16
    assert (tapegrad.ones(2, dtype=F32) ** tapegrad.ones(2, dtype=I64)).dtype == F32
    assert (tapegrad.ones(2, dtype=I64) ** tapegrad.ones(2, dtype=F32)).dtype == F32


def test_mixed_dtype_gradients_arrive_in_each_inputs_dtype():
    a = tapegrad.tensor([1.0, 2.0], dtype=F32, requires_grad=True)
    k = tapegrad.tensor([3, 4])
    with tapegrad.backend("jit"):
        y = (a * k).tanh() + k / a
        assert y.dtype == F32
        y.sum().backward()
    assert a.grad.dtype == F32
    k_, a_ = np.array([3.0, 4.0]), np.array([1.0, 2.0])
    expected = k_ * (1 - np.tanh(a_ * k_) ** 2) - k_ / a_ ** 2
    np.testing.assert_allclose(a.grad.numpy(), expected, rtol=1e-5)
