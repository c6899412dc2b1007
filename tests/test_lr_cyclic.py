"""OneCycleLR and CyclicLR against learning rates and momenta recorded from PyTorch 2.13 (each
list: the group's value before each of the steps)."""
from __future__ import annotations

import pytest

import tapegrad as tg
from tapegrad.optim import SGD, Adam
from tapegrad.optim.lr_scheduler import CyclicLR, OneCycleLR

RECORDED = {
    "onecycle_sgd": (
        [0.04, 0.52, 1.0, 0.950484632013, 0.81174565395, 0.611262021936, 0.388741978064,
         0.18825834605, 0.049519367987, 4e-06],
        [0.95, 0.9, 0.85, 0.854951556605, 0.868825509907, 0.888873953302, 0.911126046698,
         0.931174490093, 0.945048443395, 0.95]),
    "onecycle_adam3": (
        [0.02, 0.5, 0.02, 0.0160004, 0.0120008, 0.0080012, 0.0040016, 2e-06],
        [0.95, 0.85, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95]),
    "cyclic_tri": (
        [0.01, 0.04, 0.07, 0.1, 0.055, 0.01, 0.04, 0.07, 0.1, 0.055, 0.01, 0.04],
        [0.9, 0.866666666667, 0.833333333333, 0.8, 0.85, 0.9, 0.866666666667, 0.833333333333,
         0.8, 0.85, 0.9, 0.866666666667]),
    "cyclic_tri2": (
        [0.01, 0.055, 0.1, 0.055, 0.01, 0.0325, 0.055, 0.0325, 0.01, 0.02125, 0.0325, 0.02125],
        [0.9, 0.85, 0.8, 0.85, 0.9, 0.875, 0.85, 0.875, 0.9, 0.8875, 0.875, 0.8875]),
    "cyclic_exp": (
        [0.01, 0.0505, 0.0829, 0.042805, 0.01, 0.03657205, 0.05782969, 0.0315233605, 0.01,
         0.027433922005],
        [0.9, 0.855, 0.819, 0.86355, 0.9, 0.8704755, 0.8468559, 0.876085155, 0.9,
         0.88062897555]),
    "cyclic_fn": (
        [0.01, 0.0325, 0.0325, 0.015625, 0.01, 0.01140625, 0.01140625, 0.0103515625],
        [0.9] * 8),
}

CASES = {
    "onecycle_sgd": (lambda ps: SGD(ps, lr=0.1, momentum=0.9),
                     lambda o: OneCycleLR(o, max_lr=1.0, total_steps=10)),
    "onecycle_adam3": (lambda ps: Adam(ps, lr=0.1),
                       lambda o: OneCycleLR(o, max_lr=0.5, epochs=2, steps_per_epoch=4,
                                            anneal_strategy="linear", three_phase=True,
                                            pct_start=0.25)),
    "cyclic_tri": (lambda ps: SGD(ps, lr=0.1, momentum=0.9),
                   lambda o: CyclicLR(o, 0.01, 0.1, step_size_up=3, step_size_down=2)),
    "cyclic_tri2": (lambda ps: SGD(ps, lr=0.1, momentum=0.9),
                    lambda o: CyclicLR(o, 0.01, 0.1, step_size_up=2, mode="triangular2")),
    "cyclic_exp": (lambda ps: Adam(ps, lr=0.1),
                   lambda o: CyclicLR(o, 0.01, 0.1, step_size_up=2, mode="exp_range",
                                      gamma=0.9)),
    "cyclic_fn": (lambda ps: SGD(ps, lr=0.1, momentum=0.9),
                  lambda o: CyclicLR(o, 0.01, 0.1, step_size_up=2, scale_fn=lambda x: 0.5 ** x,
                                     scale_mode="iterations", cycle_momentum=False)),
}


@pytest.mark.parametrize("key", list(CASES))
def test_schedule_matches_pytorch(key):
    make_opt, make_sched = CASES[key]
    p = tg.nn.Parameter(tg.zeros(2))
    opt = make_opt([p])
    sched = make_sched(opt)
    lrs, momenta = [], []
    for _ in range(len(RECORDED[key][0])):
        g = opt.param_groups[0]
        lrs.append(g["lr"])
        momenta.append(g["betas"][0] if "betas" in g else g["momentum"])
        opt.step()
        sched.step()
    assert lrs == pytest.approx(RECORDED[key][0], abs=1e-11)
    assert momenta == pytest.approx(RECORDED[key][1], abs=1e-11)
    assert sched.get_last_lr() == [opt.param_groups[0]["lr"]]


def test_messages():
    opt = SGD([tg.nn.Parameter(tg.zeros(1))], lr=0.1)
    with pytest.raises(ValueError, match=r"You must define either total_steps OR \(epochs AND "
                       r"steps_per_epoch\)"):
        OneCycleLR(opt, 1.0)
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        OneCycleLR(tg.optim.Adagrad([tg.nn.Parameter(tg.zeros(1))]), 1.0, total_steps=3)
    sched = OneCycleLR(opt, 1.0, total_steps=2)
    sched.step()
    sched.step()
    with pytest.raises(ValueError, match="Tried to step 3 times. The specified number of total "
                       "steps is 2"):
        sched.step()
    with pytest.raises(ValueError, match="mode is invalid and scale_fn is None"):
        CyclicLR(opt, 0.01, 0.1, mode="sawtooth")
