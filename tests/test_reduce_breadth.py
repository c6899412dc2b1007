"""Issue 13, point 2: reductions, scans and order statistics. Values against numpy or values
recorded from PyTorch 2.13; gradients against finite differences in float64."""
from __future__ import annotations

import math

import numpy as np
import pytest

import tapegrad
from tapegrad.autograd import gradcheck, gradgradcheck

R = np.random.default_rng(7).standard_normal((3, 5))
X2 = [[3.0, 1, 2], [0.5, 7, -1]]


def t(a, rg=False):
    return tapegrad.tensor(np.asarray(a, dtype=np.float64), requires_grad=rg)


def test_topk_kthvalue_values_indices_and_gradients():
    x = t(R, True)
    top = tapegrad.topk(x, 2)
    assert type(top).__name__ == "topk" and top.values.grad_fn.name() == "TopkBackward0"
    np.testing.assert_array_equal(top.values.detach().numpy(), -np.sort(-R, 1)[:, :2])
    np.testing.assert_array_equal(top.indices.numpy(), np.argsort(-R, 1)[:, :2])
    low = x.topk(3, dim=0, largest=False)
    np.testing.assert_array_equal(low.values.detach().numpy(), np.sort(R, 0))
    kth = tapegrad.kthvalue(x, 2, 0, keepdim=True)
    np.testing.assert_array_equal(kth.values.detach().numpy(), np.sort(R, 0)[1:2])
    assert kth.values.grad_fn.name() == "KthvalueBackward0"
    assert gradcheck(lambda x: x.topk(2).values * x.kthvalue(3).values.unsqueeze(1), [x])
    assert gradgradcheck(lambda x: x.topk(2, 0).values ** 2, [x])
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        x.topk(6)
    with pytest.raises(RuntimeError, match=r"kthvalue\(\): selected number k out of range "
                                           "for dimension 1"):
        x.kthvalue(6)


def test_median_mode_as_torch():
    x = t([[1.0, 3, 3, 2, 1, 5], [4, 4, 0, 0, 7, 7]], True)
    m = x.median(1)
    assert m.values.tolist() == [2.0, 4.0] and m.indices.tolist() == [3, 0]  # torch 2.13
    assert m.values.grad_fn.name() == "MedianBackward1"
    whole = tapegrad.median(x)
    assert whole.item() == 3.0 and whole.grad_fn.name() == "MedianBackward0"
    mo = tapegrad.mode(x, 1)
    assert mo.values.tolist() == [1.0, 0.0] and mo.indices.tolist() == [4, 3]  # torch 2.13
    assert mo.values.grad_fn.name() == "ModeBackward0"
    assert math.isnan(tapegrad.median(t([1.0, np.nan, 2.0])).item())
    assert tapegrad.nanmedian(t([1.0, np.nan, 3.0, 4.0])).item() == 3.0
    y = t(R, True)
    assert gradcheck(lambda y: y.median(0).values + tapegrad.median(y), [y])


def test_quantile_matches_torch_and_numpy():
    x = t(X2, True)
    q = tapegrad.quantile(x, t([0.1, 0.5, 0.95]), dim=1, keepdim=True)
    np.testing.assert_allclose(q.detach().numpy(),
                               [[[1.2], [-0.7]], [[2.0], [0.5]], [[2.9], [6.35]]])  # torch
    assert tapegrad.quantile(x, 0.4).item() == pytest.approx(1.0)
    for method in ("linear", "lower", "higher", "midpoint", "nearest"):
        for qq in (0.3, 0.77):
            np.testing.assert_allclose(
                tapegrad.quantile(t(R), qq, dim=0, interpolation=method).numpy(),
                np.quantile(R, qq, axis=0, method=method), err_msg=method)
    assert tapegrad.nanquantile(t([1.0, np.nan, 3, 4]), 0.5).item() == 3.0
    assert math.isnan(tapegrad.quantile(t([1.0, np.nan, 3]), 0.5).item())
    y = t(R, True)
    assert gradcheck(lambda y: tapegrad.quantile(y, 0.3, dim=1) + y.quantile(0.6), [y])
    with pytest.raises(RuntimeError, match=r"quantile\(\) q must be in the range \[0, 1\] but "
                                           "got 1.5"):
        tapegrad.quantile(x, 1.5)


def test_nan_reductions_count_aminmax_and_pairs():
    a = np.array([[1.0, np.nan, 2.0], [np.nan, np.nan, 4.0]])
    x = t(a, True)
    s = tapegrad.nansum(x, 1)
    assert s.tolist() == [3.0, 4.0] and s.grad_fn.name() == "NansumBackward0"
    np.testing.assert_allclose(x.nanmean(1).detach().numpy(), [1.5, 4.0])
    assert tapegrad.nansum(x).item() == 7.0
    (s.sum() + x.nanmean()).backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1 + 1 / 3, 0, 1 + 1 / 3], [0, 0, 1 + 1 / 3]])
    assert tapegrad.count_nonzero(tapegrad.tensor([[0, 1, 2], [0, 0, 3]]), 0).tolist() == \
        [0, 1, 2]
    assert tapegrad.count_nonzero(tapegrad.tensor([[0, 1, 2], [0, 0, 3]])).item() == 3
    mm = tapegrad.aminmax(t(R), dim=1)
    assert type(mm).__name__ == "aminmax"
    np.testing.assert_array_equal(mm.min.numpy(), R.min(1))
    np.testing.assert_array_equal(mm.max.numpy(), R.max(1))
    sd, mu = tapegrad.std_mean(t(R), 1)
    np.testing.assert_allclose(sd.numpy(), R.std(1, ddof=1))
    np.testing.assert_allclose(mu.numpy(), R.mean(1))
    v, mu = tapegrad.var_mean(t(R), correction=0)
    np.testing.assert_allclose(v.item(), R.var())


def test_logcumsumexp_and_diff():
    x = t(X2, True)
    np.testing.assert_allclose(tapegrad.logcumsumexp(x, 1).detach().numpy(),
                               [[3.0, 3.1269280110429727, 3.4076059644443806],
                                [0.5, 7.001502310159754, 7.001837213110858]], rtol=1e-15)
    big = tapegrad.logcumsumexp(t([1000.0, 1000.0, -1000.0]), 0)
    np.testing.assert_allclose(big.numpy(), [1000.0, 1000 + math.log(2), 1000 + math.log(2)])
    assert x.logcumsumexp(0).grad_fn.name() == "LogcumsumexpBackward0"
    np.testing.assert_array_equal(tapegrad.diff(x, n=2, dim=1, append=x[:, :1]).detach().numpy(),
                                  [[3.0, 0.0], [-14.5, 9.5]])  # torch 2.13
    np.testing.assert_array_equal(x.diff(dim=0).detach().numpy(), np.diff(X2, axis=0))
    assert tapegrad.diff(tapegrad.tensor([True, False, False])).tolist() == [True, False]
    y = t(R, True)
    assert gradcheck(lambda y: y.diff(2, 1, prepend=y[:, :2]), [y])
