"""Losses and activations added for issue 14: each against its formula written in numpy here
(values, and gradients by central differences of that formula), the reductions, and the
messages and warnings PyTorch 2.13 gives."""
from __future__ import annotations

import math

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F

rng = np.random.default_rng(0)


def check(ref, fn, arrays, eps=1e-6):
    ts = [tg.tensor(a, requires_grad=True) for a in arrays]
    y = fn(*ts)
    np.testing.assert_allclose(y.detach().numpy(), ref(*arrays), rtol=1e-7, atol=1e-10)
    y.sum().backward()
    for k, (t, a) in enumerate(zip(ts, arrays)):
        num = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            hi, lo = [x.copy() for x in arrays], [x.copy() for x in arrays]
            hi[k][idx] += eps
            lo[k][idx] -= eps
            num[idx] = (ref(*hi).sum() - ref(*lo).sum()) / (2 * eps)
        np.testing.assert_allclose(t.grad.numpy(), num, rtol=1e-5, atol=1e-6)


x1, x2 = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
sign = np.array([1.0, -1.0, 1.0, -1.0, -1.0])


def logsoftmax(z):
    return z - np.log(np.exp(z).sum(1, keepdims=True))


def test_kl_div_reductions_and_warning():
    t = np.exp(logsoftmax(x2))
    t[0, 0] = 0.0  # a zero target contributes 0 (xlogy), with no NaN in the gradient
    check(lambda a: (np.where(t > 0, t * np.log(np.where(t > 0, t, 1)), 0) - t * a).sum() / 5,
          lambda a: nn.KLDivLoss(reduction="batchmean")(a, tg.tensor(t)), [logsoftmax(x1)])
    check(lambda a: (np.exp(x2) * (x2 - a)).sum(),
          lambda a: F.kl_div(a, tg.tensor(x2), reduction="sum", log_target=True), [x1])
    with pytest.warns(UserWarning, match="reduction: 'mean' divides the total loss by both the "
                      "batch size and the support size"):
        F.kl_div(tg.tensor(x1), tg.tensor(t))


@pytest.mark.parametrize("delta", [0.5, 1.0, 2.0])
def test_huber(delta):
    def ref(a, b):
        d = np.abs(a - b)
        return np.mean(np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta)))
    check(ref, lambda a, b: nn.HuberLoss(delta=delta)(a, b), [x1, x2])


def test_cosine_embedding_and_margin_ranking():
    def cos_ref(a, b, margin=0.2):
        c = (a * b).sum(1) / np.sqrt(((a * a).sum(1) + 1e-12) * ((b * b).sum(1) + 1e-12))
        return np.mean(np.where(sign == 1, 1 - c, np.maximum(c - margin, 0)))
    check(cos_ref, lambda a, b: nn.CosineEmbeddingLoss(0.2)(a, b, tg.tensor(sign)), [x1, x2])
    check(lambda a, b: np.maximum(-sign * (a - b) + 0.1, 0).sum(),
          lambda a, b: nn.MarginRankingLoss(0.1, reduction="sum")(a, b, tg.tensor(sign)),
          [x1[:, 0].copy(), x2[:, 0].copy()])


def test_poisson_and_gaussian_nll():
    target = np.abs(x2) * 3
    check(lambda a: np.mean(np.exp(a) - target * a),
          lambda a: nn.PoissonNLLLoss()(a, tg.tensor(target)), [x1])
    rate = np.abs(x1) + 0.1
    k = np.round(target)

    def stirling(t):
        return np.where(t > 1, t * np.log(np.where(t > 1, t, 1)) - t
                        + 0.5 * np.log(2 * math.pi * np.where(t > 1, t, 1)), 0)
    check(lambda a: np.sum(a - k * np.log(a + 1e-8) + stirling(k)),
          lambda a: F.poisson_nll_loss(a, tg.tensor(k), log_input=False, full=True,
                                       reduction="sum"), [rate])
    var = np.abs(x1) + 0.5
    check(lambda a, v: np.mean(0.5 * (np.log(v) + (a - x2) ** 2 / v)),
          lambda a, v: nn.GaussianNLLLoss()(a, tg.tensor(x2), v), [x1, var])
    check(lambda a, v: np.sum(0.5 * (np.log(v[:, None]) + (a - x2) ** 2 / v[:, None])
                             + 0.5 * math.log(2 * math.pi)),
          lambda a, v: nn.GaussianNLLLoss(full=True, reduction="sum")(a, tg.tensor(x2), v),
          [x1, var[:, 0].copy()])  # one variance per sample: broadcast over the last dim
    small = tg.tensor(np.full((5, 4), 1e-9), requires_grad=True)
    loss = F.gaussian_nll_loss(tg.tensor(x1), tg.tensor(x2), small, reduction="sum")
    np.testing.assert_allclose(loss.item(), np.sum(0.5 * (np.log(1e-6) + (x1 - x2) ** 2 / 1e-6)))
    with pytest.raises(ValueError, match="var has negative entry/entries"):
        F.gaussian_nll_loss(tg.tensor(x1), tg.tensor(x2), tg.tensor(-var))


def _erf(x):
    return np.vectorize(math.erf)(x)


ACTIVATIONS = [
    (nn.ELU(0.7), lambda x: np.where(x > 0, x, 0.7 * np.expm1(x))),
    (nn.CELU(2.0), lambda x: np.where(x > 0, x, 2.0 * np.expm1(x / 2.0))),
    (nn.SELU(), lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772
                                                        * np.expm1(x))),
    (nn.GELU("tanh"), lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi)
                                                       * (x + 0.044715 * x ** 3)))),
    (nn.SiLU(), lambda x: x / (1 + np.exp(-x))),
    (nn.Mish(), lambda x: x * np.tanh(np.log1p(np.exp(x)))),
    (nn.Softplus(2.0, 3.0), lambda x: np.where(2 * x > 3, x, np.log1p(np.exp(2 * x)) / 2)),
    (nn.Hardtanh(-0.5, 0.8), lambda x: np.clip(x, -0.5, 0.8)),
    (nn.ReLU6(), lambda x: np.clip(x, 0, 6)),
    (nn.Hardsigmoid(), lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    (nn.Hardswish(), lambda x: x * np.clip(x + 3, 0, 6) / 6),
    (nn.LogSigmoid(), lambda x: -np.log1p(np.exp(-x))),
    (nn.Softsign(), lambda x: x / (1 + np.abs(x))),
    (nn.Tanhshrink(), lambda x: x - np.tanh(x)),
    (nn.Softshrink(0.3), lambda x: np.where(x > 0.3, x - 0.3, np.where(x < -0.3, x + 0.3, 0))),
    (nn.Hardshrink(0.3), lambda x: np.where(np.abs(x) > 0.3, x, 0)),
    (nn.Threshold(0.1, 2.0), lambda x: np.where(x > 0.1, x, 2.0)),
    (nn.GLU(1), lambda x: x[:, :2] / (1 + np.exp(-x[:, 2:]))),
    (nn.Softmin(1), lambda x: np.exp(-x) / np.exp(-x).sum(1, keepdims=True)),
]


@pytest.mark.parametrize("module,ref", ACTIVATIONS, ids=[type(m).__name__ for m, _ in ACTIVATIONS])
def test_activation_against_formula(module, ref):
    x = rng.standard_normal((3, 4)) * 3
    x[np.abs(np.abs(x) - 0.3) < 1e-3] = 1.0  # keep away from the kinks the differences straddle
    check(ref, module, [x])


def test_gelu_exact_and_prelu():
    x = rng.standard_normal((3, 4)) * 3
    y = nn.GELU()(tg.tensor(x)).numpy()
    np.testing.assert_allclose(y, 0.5 * x * (1 + _erf(x / math.sqrt(2))), atol=1e-6)
    m = nn.PReLU(4).double()
    assert m.weight.detach().numpy().tolist() == [0.25] * 4
    xx = rng.standard_normal((2, 4, 3))
    w = np.array([0.1, 0.2, 0.3, 0.4])
    check(lambda a, b: np.where(a > 0, a, b.reshape(1, 4, 1) * a), F.prelu, [xx, w])
