"""The tape: its listing, its length, reclamation without backward, threads."""
from __future__ import annotations

import gc
import threading

import numpy as np
from conftest import live_records

import tapegrad as torch


def test_listing_is_a_numbered_program():
    x = torch.ones(64, 10, requires_grad=True)
    w = torch.ones(64, 10, requires_grad=True)
    y = (x * w).tanh()
    listing = str(torch.current_tape()).splitlines()
    assert listing[-2].endswith("= mul %0, %1    # saves a, b") or "mul %" in listing[-2]
    assert listing[-2].split(" = ")[0].endswith(": f32[64,10]")
    assert listing[-1].startswith(f"%{y._slot} : f32[64,10] = tanh %")
    assert "saves out" in listing[-1]
    del y


def test_len_counts_records_and_drops_to_zero():
    gc.collect()  # earlier tests' tracebacks hold tensors in cycles until the collector runs
    tape = torch.current_tape()
    start = len(tape)
    x = torch.ones(3, requires_grad=True)
    y = (x * 2).sum()
    assert len(tape) == start + 3  # input, mul, sum
    y.backward()
    del y
    assert len(tape) == start
    assert len(tape) == 0


def test_backward_frees_saved_values_unless_retained():
    x = torch.ones(3, requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    assert "freed" not in str(torch.current_tape())
    y.backward()
    assert "freed" in str(torch.current_tape())


def test_forward_passes_without_backward_are_reclaimed():
    w1 = torch.randn(32, 16, requires_grad=True)
    w2 = torch.randn(16, 4, requires_grad=True)
    x = torch.randn(8, 32)
    for _ in range(20_000):
        out = (x @ w1).tanh() @ w2
    assert len(torch.current_tape()) < 1000
    del out
    assert live_records() == 0


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def test_memory_stays_bounded_over_many_forward_passes_and_steps():
    w1 = torch.randn(64, 32, requires_grad=True)
    w2 = torch.randn(32, 10, requires_grad=True)
    x = torch.randn(16, 64)
    opt = torch.optim.SGD([w1, w2], lr=1e-3)
    for _ in range(200):
        ((x @ w1).tanh() @ w2).sum()
    gc.collect()
    start = _rss_mb()
    for _ in range(20_000):
        ((x @ w1).tanh() @ w2).sum()
    for _ in range(3_000):
        loss = ((x @ w1).tanh() @ w2).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    gc.collect()
    assert _rss_mb() - start < 30
    del loss
    assert live_records() == 0


def test_grad_mode_and_tape_are_per_thread():
    seen = {}

    def worker():
        seen["grad"] = torch.is_grad_enabled()
        seen["tape"] = torch.current_tape()

    with torch.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert seen["grad"] is True
    assert seen["tape"] is not torch.current_tape()


def test_four_threads_differentiate_independent_graphs():
    results, errors = {}, []

    def worker(k):
        try:
            rng = np.random.default_rng(k)
            for _ in range(200):
                a = rng.standard_normal(50)
                x = torch.tensor(a, requires_grad=True)
                ((x * x).sin() * k).sum().backward()
                expected = np.cos(a * a) * 2 * a * k
                np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-5, atol=1e-6)
            results[k] = len(torch.current_tape())
        except Exception as e:  # reported below, in the main thread
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert results == {1: 0, 2: 0, 3: 0, 4: 0}
