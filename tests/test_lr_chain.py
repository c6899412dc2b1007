"""StepLR and CosineAnnealingLR in PyTorch's chainable form, so they compose in ChainedScheduler
and SequentialLR. Expected learning rates recorded from PyTorch 2.13 (25 steps each)."""
from __future__ import annotations

import pytest

import tapegrad as torch

S = torch.optim.lr_scheduler

MAKERS = {
    "step": lambda o: S.StepLR(o, 3, 0.5),
    "cosine": lambda o: S.CosineAnnealingLR(o, 7, 0.01),
    "chained_step_exp": lambda o: S.ChainedScheduler([S.StepLR(o, 4, 0.5),
                                                        S.ExponentialLR(o, 0.9)]),
    "chained_cosine_exp": lambda o: S.ChainedScheduler([S.CosineAnnealingLR(o, 5),
                                                          S.ExponentialLR(o, 0.95)]),
    "sequential_linear_step": lambda o: S.SequentialLR(
        o, [S.LinearLR(o, 0.1, total_iters=3), S.StepLR(o, 2, 0.7)], milestones=[4]),
    "sequential_constant_cosine": lambda o: S.SequentialLR(
        o, [S.ConstantLR(o, 0.5, total_iters=2), S.CosineAnnealingLR(o, 6)], milestones=[3]),
}

PYTORCH = {
    "step": [
        1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125, 0.125, 0.125, 0.0625, 0.0625, 0.0625,
        0.03125, 0.03125, 0.03125, 0.015625, 0.015625, 0.015625, 0.0078125, 0.0078125, 0.0078125,
        0.00390625, 0.00390625
    ],
    "cosine": [
        0.9509795896, 0.8136274519, 0.6151478623, 0.3948521377, 0.1963725481, 0.0590204104, 0.01,
        0.0590204104, 0.1963725481, 0.3948521377, 0.6151478623, 0.8136274519, 0.9509795896, 1.0,
        0.9509795896, 0.8136274519, 0.6151478623, 0.3948521377, 0.1963725481, 0.0590204104, 0.01,
        0.0590204104, 0.1963725481, 0.3948521377, 0.6151478623
    ],
    "chained_step_exp": [
        0.9, 0.81, 0.729, 0.32805, 0.295245, 0.2657205, 0.23914845, 0.1076168025, 0.0968551223,
        0.08716961, 0.078452649, 0.0353036921, 0.0317733229, 0.0285959906, 0.0257363915,
        0.0115813762, 0.0104232386, 0.0093809147, 0.0084428232, 0.0037992705, 0.0034193434,
        0.0030774091, 0.0027696682, 0.0012463507, 0.0011217156
    ],
    "chained_cosine_exp": [
        0.8592830723, 0.5906939187, 0.2962157772, 0.0777784259, 0.0, 0.0907169277, 0.3118060813,
        0.5611592228, 0.7367278241, 0.7737809375, 0.6648968613, 0.4570676942, 0.2292061218,
        0.0601834633, 0.0, 0.0907169277, 0.3118060813, 0.5611592228, 0.7367278241, 0.7737809375,
        0.6648968613, 0.4570676942, 0.2292061218, 0.0601834633, 0.0
    ],
    "sequential_linear_step": [
        0.4, 0.7, 1.0, 1.0, 1.0, 0.7, 0.7, 0.49, 0.49, 0.343, 0.343, 0.2401, 0.2401, 0.16807,
        0.16807, 0.117649, 0.117649, 0.0823543, 0.0823543, 0.05764801, 0.05764801, 0.040353607,
        0.040353607, 0.0282475249, 0.0282475249
    ],
    "sequential_constant_cosine": [
        0.5, 1.0, 1.0, 0.9330127019, 0.75, 0.5, 0.25, 0.0669872981, 0.0, 0.0669872981, 0.25, 0.5,
        0.75, 0.9330127019, 1.0, 0.9330127019, 0.75, 0.5, 0.25, 0.0669872981, 0.0, 0.0669872981,
        0.25, 0.5, 0.75
    ],
}


@pytest.mark.parametrize("name", list(MAKERS))
def test_schedulers_compose_as_in_pytorch(name):
    p = torch.ones(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=1.0)
    sched = MAKERS[name](opt)
    got = []
    for _ in range(25):
        opt.step()
        sched.step()
        got.append(opt.param_groups[0]["lr"])
    assert got == pytest.approx(PYTORCH[name], abs=1e-9)
