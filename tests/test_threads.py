"""Threads per operation (issue 15): set_num_threads/get_num_threads as PyTorch's, BLAS width by
the product's size, tapegrad's pool and a wide BLAS never at once, results equal at any width.
No timings here: those are in benchmarks/threads.py."""
from __future__ import annotations

import os
import threading

import numpy as np
import pytest

import tapegrad
from tapegrad import threads


@pytest.fixture(autouse=True)
def _restore_width():
    width, blas_min, parallel_min = threads.THREADS, threads.BLAS_MIN, threads.PARALLEL_MIN
    yield
    tapegrad.set_num_threads(width)
    threads.BLAS_MIN, threads.PARALLEL_MIN = blas_min, parallel_min
    threads._probe = None


def test_set_and_get_num_threads():
    tapegrad.set_num_threads(1)
    assert tapegrad.get_num_threads() == 1
    tapegrad.set_num_threads(np.int64(3))
    assert tapegrad.get_num_threads() == 3
    assert threads.THREADS == 3
    assert len(threads.chunks(10)) == 3


@pytest.mark.parametrize("bad, message", [
    (0, "set_num_threads expects a positive integer"),
    (-2, "set_num_threads expects a positive integer"),
    (2.0, "set_num_threads expects an int, but got float"),
    ("2", "set_num_threads expects an int, but got str"),
    (True, "set_num_threads expects an int, but got bool"),
])
def test_set_num_threads_refuses_as_pytorch(bad, message):
    before = tapegrad.get_num_threads()
    with pytest.raises(RuntimeError, match=f"^{message}$"):
        tapegrad.set_num_threads(bad)
    assert tapegrad.get_num_threads() == before


def test_policy_decisions():
    tapegrad.set_num_threads(2)
    small, large = threads.BLAS_MIN - 1, threads.BLAS_MIN
    assert threads.blas_width(small) == 1
    assert threads.blas_width(large) == 2
    tapegrad.set_num_threads(1)
    assert threads.blas_width(large) == 1


def test_mnk_of_each_product():
    a, b = np.ones((5, 3, 4)), np.ones((4, 7))
    assert threads._mnk(a, b) == 3 * 4 * 7          # per matrix: BLAS is called per batch
    assert threads._mnk(np.ones(4), np.ones((4, 7))) == 4 * 7
    assert threads._mnk(np.ones((3, 4)), np.ones(4)) == 3 * 4


needs_blas_control = pytest.mark.skipif(
    not threads.blas_libraries() or (os.cpu_count() or 1) < 2,
    reason="needs threadpoolctl and 2 CPUs to see BLAS's width change")


@needs_blas_control
def test_blas_width_follows_the_policy_forward_and_backward():
    tapegrad.set_num_threads(2)
    threads.BLAS_MIN = 64 * 64 * 64         # small and large, cheaply
    seen = []
    threads._probe = lambda mnk, width: seen.append((mnk, width))
    threads._set_blas(1)
    x = tapegrad.randn(8, 8, requires_grad=True)
    w = tapegrad.randn(8, 8, requires_grad=True)
    (x @ w).sum().backward()                  # 512 each: small
    assert seen and all(width == 1 for _, width in seen), seen
    seen.clear()
    x = tapegrad.randn(64, 64, requires_grad=True)
    w = tapegrad.randn(64, 64, requires_grad=True)
    (x @ w).sum().backward()                  # forward and both backward products: large
    assert len(seen) == 3 and all(width == 2 for _, width in seen), seen
    seen.clear()
    for _ in range(threads.NARROW_AFTER):   # after a large product BLAS stays wide a while
        tapegrad.bmm(tapegrad.randn(2, 4, 4), tapegrad.randn(2, 4, 4))
    assert seen == [(64, 2)] * (threads.NARROW_AFTER - 1) + [(64, 1)]
    seen.clear()
    tapegrad.bmm(tapegrad.randn(2, 4, 4), tapegrad.randn(2, 4, 4))
    assert seen == [(64, 1)]


@needs_blas_control
def test_split_kernel_narrows_blas():
    tapegrad.set_num_threads(2)
    threads.BLAS_MIN = 0
    threads.matmul(np.ones((4, 4)), np.ones((4, 4)))
    assert threads.blas_threads() == 2
    threads.split_ufunc(np.tanh, np.ones(100))
    assert threads.blas_threads() == 1


@needs_blas_control
def test_set_num_threads_governs_blas():
    threads.BLAS_MIN = 0
    seen = []
    threads._probe = lambda mnk, width: seen.append(width)
    tapegrad.set_num_threads(1)
    tapegrad.ones(4, 4) @ tapegrad.ones(4, 4)
    tapegrad.set_num_threads(2)
    tapegrad.ones(4, 4) @ tapegrad.ones(4, 4)
    assert seen == [1, 2]


def test_split_work_and_wide_blas_hold_one_lock():
    tapegrad.set_num_threads(2)
    held = []

    def kernel(count, src, dst):
        held.append(threads._big.locked())
        np.negative(src, out=dst)

    src = np.arange(10.0)
    dst = np.empty_like(src)
    threads.run_split(kernel, 10, lambda lo, hi: (src[lo:hi], dst[lo:hi]))
    assert held == [True, True] and (dst == -src).all()
    threads.BLAS_MIN = 0
    threads._probe = lambda mnk, width: held.append(threads._big.locked())
    threads.matmul(np.ones((2, 2)), np.ones((2, 2)))
    assert held[-1] is True
    threads.BLAS_MIN = 1 << 30
    threads.matmul(np.ones((2, 2)), np.ones((2, 2)))
    assert held[-1] is False                  # a small product takes no lock


def test_one_thread_means_no_split():
    tapegrad.set_num_threads(1)
    names = []
    ufunc = np.tanh

    def spy(x, out=None):
        names.append(threading.current_thread().name)
        return ufunc(x, out=out)

    x = np.linspace(-1, 1, 1000)
    assert np.array_equal(threads.split_ufunc(spy, x), np.tanh(x))
    assert names == [threading.current_thread().name]


def _training_run(width: int):
    tapegrad.set_num_threads(width)
    tapegrad.manual_seed(0)
    x = tapegrad.randn(64, 48)
    w1 = (tapegrad.randn(48, 96) * 0.1).requires_grad_()
    w2 = (tapegrad.randn(96, 4) * 0.1).requires_grad_()
    for _ in range(3):
        loss = ((x @ w1).tanh() @ w2).exp().mean()
        w1.grad = w2.grad = None
        loss.backward()
        with tapegrad.no_grad():
            w1 -= 0.1 * w1.grad
            w2 -= 0.1 * w2.grad
    return loss.item(), w1.detach().numpy().copy(), w2.detach().numpy().copy()


def test_results_identical_across_widths():
    threads.BLAS_MIN = 0                      # every product wide at width 2
    threads.PARALLEL_MIN = 256                # and the tanh/exp split
    one = _training_run(1)
    two = _training_run(2)
    assert np.isfinite(one[0]) and one[0] == two[0]
    assert np.array_equal(one[1], two[1]) and np.array_equal(one[2], two[2])
