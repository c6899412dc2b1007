"""Issue 13, point 1: the pointwise math and activations. Values against numpy, Python's math
module or values recorded from PyTorch 2.13; gradients of every row are checked by the
op-table tests (test_op_table, test_higher, test_jit), so here: the public spellings, grad_fn
names, dtypes, edge values, in-place forms and the composite activations' gradients."""
from __future__ import annotations

import math

import numpy as np
import pytest

import tapegrad
import tapegrad.nn.functional as F
from tapegrad.autograd import gradcheck

X = np.array([-2.5, -0.7, 0.0, 0.3, 1.9])
U = np.array([-0.9, -0.3, 0.0, 0.4, 0.95])


def t(a, rg=False):
    return tapegrad.tensor(np.asarray(a, dtype=np.float64), requires_grad=rg)


UNARY = [
    ("sinh", X, np.sinh), ("cosh", X, np.cosh), ("asinh", X, np.arcsinh),
    ("acosh", X + 3.6, np.arccosh), ("atanh", U, np.arctanh), ("asin", U, np.arcsin),
    ("acos", U, np.arccos), ("erf", X, np.vectorize(math.erf)),
    ("erfc", X * 4, np.vectorize(math.erfc)), ("log2", X + 3, np.log2),
    ("log10", X + 3, np.log10), ("exp2", X, np.exp2), ("trunc", X, np.trunc),
    ("frac", X, lambda a: a - np.trunc(a)), ("sinc", X, np.sinc), ("deg2rad", X, np.deg2rad),
    ("rad2deg", X, np.rad2deg), ("logit", (U + 1) / 2.1 + 0.01, lambda p: np.log(p / (1 - p))),
]


@pytest.mark.parametrize("name,x,ref", UNARY, ids=[u[0] for u in UNARY])
def test_unary_values_spellings_and_grad_fn(name, x, ref):
    got = getattr(tapegrad, name)(t(x))
    np.testing.assert_allclose(got.numpy(), ref(x), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(getattr(t(x), name)().numpy(), ref(x), rtol=1e-14, atol=1e-15)
    y = getattr(t(x, True), name)()
    node = {"deg2rad": "Deg2Rad", "rad2deg": "Rad2Deg"}.get(name, name.capitalize())
    assert y.grad_fn.name() == f"{node}Backward0"
    z = t(x)
    assert getattr(z, name + "_")() is z
    np.testing.assert_allclose(z.numpy(), ref(x), rtol=1e-14, atol=1e-15)


def test_erfinv_inverts_erf_to_full_precision_and_edges():
    y = np.linspace(-0.999999, 0.999999, 2001)
    x = tapegrad.erfinv(t(y))
    np.testing.assert_allclose(tapegrad.erf(x).numpy(), y, rtol=0, atol=4e-16)
    assert tapegrad.erfinv(t([1.0, -1.0, 2.0])).tolist()[:2] == [math.inf, -math.inf]
    assert math.isnan(tapegrad.erfinv(t([2.0]))[0].item())
    # the far tails, past float32's range: torch 2.13's values
    np.testing.assert_allclose(tapegrad.erfinv(t([1 - 1e-15, -(1 - 2 ** -53)])).numpy(),
                               [5.675915739744713, -5.863584748755168], rtol=4e-16)
    assert tapegrad.erf(t([0.5]).float()).dtype == tapegrad.float32
    assert tapegrad.erf(tapegrad.tensor([1, 2])).dtype == tapegrad.float32  # int -> float


def test_binary_values_and_broadcasting():
    a, b = X.reshape(5, 1), np.array([0.5, -1.5, 2.0])
    cases = {"hypot": np.hypot, "logaddexp": np.logaddexp, "logaddexp2": np.logaddexp2,
             "fmod": np.fmod, "remainder": np.remainder}
    for name, ref in cases.items():
        got = getattr(tapegrad, name)(t(a), t(b))
        np.testing.assert_allclose(got.numpy(), ref(a, b), rtol=1e-14, err_msg=name)
        assert getattr(t(a, True), name)(t(b)).grad_fn.name() == \
            {"logaddexp2": "Logaddexp2Backward0", "fmod": "FmodBackward1",
             "remainder": "RemainderBackward1"}.get(name, f"{name.capitalize()}Backward0")
    assert tapegrad.fmod(t(a, True), 2.0).grad_fn.name() == "FmodBackward0"
    assert tapegrad.xlogy(2.0, t(a, True)).grad_fn.name() == "XlogyBackward1"
    # integer remainders keep their dtype and Python's sign rule; fmod has C's
    assert tapegrad.remainder(tapegrad.tensor([-3, 3]), 2).tolist() == [1, 1]
    assert tapegrad.fmod(tapegrad.tensor([-3, 3]), 2).tolist() == [-1, 1]
    assert tapegrad.remainder(tapegrad.tensor([-3, 3]), 2).dtype == tapegrad.int64
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        tapegrad.fmod(tapegrad.tensor([1, 2]), tapegrad.tensor([1, 0]))
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        tapegrad.remainder(tapegrad.tensor([1, 2]), 0)
    with np.errstate(invalid="ignore"):
        assert math.isnan(tapegrad.fmod(t([1.0]), 0.0).item())


def test_xlogy_zero_times_log_zero():
    got = tapegrad.xlogy(t([0.0, 0.0, 2.0, 0.0]), t([0.0, -1.0, 3.0, np.nan]))
    assert got.tolist()[:3] == [0.0, 0.0, 2 * math.log(3)]
    assert math.isnan(got[3].item())
    x = t([0.0, 1.5], True)
    tapegrad.xlogy(x, t([0.0, 2.0])).sum().backward()
    assert x.grad.tolist() == [0.0, math.log(2.0)]


def test_lerp_addcmul_addcdiv():
    a, b, w = t(X, True), t(X[::-1].copy(), True), t(U, True)
    np.testing.assert_allclose(tapegrad.lerp(a, b, 0.3).detach().numpy(),
                               X + 0.3 * (X[::-1] - X))
    np.testing.assert_allclose(a.lerp(b, w).detach().numpy(), X + U * (X[::-1] - X))
    assert tapegrad.lerp(a, b, 0.3).grad_fn.name() == "LerpBackward0"
    assert tapegrad.lerp(a, b, w).grad_fn.name() == "LerpBackward1"
    assert tapegrad.lerp(t([1.0]), t([5.0]), 1.0).item() == 5.0  # exact at the end
    np.testing.assert_allclose(tapegrad.addcmul(a, b, w, value=2).detach().numpy(),
                               X + 2 * X[::-1] * U)
    np.testing.assert_allclose(tapegrad.addcdiv(a, b, w + 2, value=-1).detach().numpy(),
                               X - X[::-1] / (U + 2))
    assert tapegrad.addcmul(a, b, w).grad_fn.name() == "AddcmulBackward0"
    assert a.addcdiv(b, w + 2).grad_fn.name() == "AddcdivBackward0"
    assert gradcheck(lambda a, b, w: tapegrad.lerp(a, b, w) + tapegrad.lerp(a, b, 0.7)
                     + tapegrad.addcmul(a, b.reshape(5, 1), w, value=0.5)
                     + tapegrad.addcdiv(a, b, w + 2, value=3), [a, b, w])
    with pytest.raises(RuntimeError, match="Integer division with addcdiv"):
        tapegrad.addcdiv(tapegrad.tensor([1]), tapegrad.tensor([1]), tapegrad.tensor([2]))
    z = t(X)
    z.addcmul_(t(X), t(X))
    np.testing.assert_allclose(z.numpy(), X + X * X)


def test_logit_eps_clamps():
    p = t([0.0, 0.05, 0.5, 1.0], True)
    y = tapegrad.logit(p, eps=0.1)
    np.testing.assert_allclose(y.detach().numpy(), np.log([1 / 9, 1 / 9, 1, 9]))
    y.sum().backward()
    assert p.grad.tolist()[0] == 0.0 and p.grad.tolist()[2] == 4.0


# Recorded from PyTorch 2.13 on X (float64).
TORCH_ACT = {
    "softplus": [0.003357674244559034, 0.11020870495922547, 0.34657359027997264,
                 0.5187439752429428, 1.9],
    "gelu": [-0.015524163314440398, -0.1693745565561511, 0.0, 0.1853734266566858,
             1.8454385363495966],
    "gelu_tanh": [-0.015084266089998577, -0.16942986529488321, 0.0, 0.18537092354275922,
                  1.8454512344553327],
    "silu": [-0.18964545005310887, -0.2322685594822837, 0.0, 0.1723327550434977,
             1.652793898710304],
    "mish": [-0.19681620390653337, -0.2678702347955009, 0.0, 0.20800137234811503,
             1.8367436005523152],
    "elu": [-0.6425405009632709, -0.3523902873460133, 0.0, 0.3, 1.9],
    "selu": [-1.6137857588732425, -0.8850530455772052, 0.0, 0.31521029620664415,
             1.9963318759754127],
    "celu": [-1.1099964758069947, -0.5412608784133536, 0.0, 0.3, 1.9],
    "hardtanh": [-1.0, -0.7, 0.0, 0.3, 1.0],
    "hardsigmoid": [0.08333333333333333, 0.3833333333333333, 0.5, 0.5499999999999999,
                    0.8166666666666668],
    "hardswish": [-0.20833333333333334, -0.2683333333333333, 0.0, 0.16499999999999998,
                  1.5516666666666667],
    "softsign": [-0.7142857142857143, -0.4117647058823529, 0.0, 0.23076923076923075,
                 0.6551724137931034],
    "logsigmoid": [-2.5788897342925496, -1.103186048885458, -0.6931471805599453,
                   -0.5543552444685271, -0.1393867582829606],
    "relu6": [0.0, 0.0, 0.0, 1.2, 6.0],
}
ACT = {
    "softplus": (lambda x: F.softplus(x, beta=2.0, threshold=3.0), "SoftplusBackward0"),
    "gelu": (F.gelu, "GeluBackward0"),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), "GeluBackward0"),
    "silu": (F.silu, "SiluBackward0"), "mish": (F.mish, "MishBackward0"),
    "elu": (lambda x: F.elu(x, 0.7), "EluBackward0"), "selu": (F.selu, "EluBackward0"),
    "celu": (lambda x: F.celu(x, 1.3), "CeluBackward0"),
    "hardtanh": (F.hardtanh, "HardtanhBackward0"),
    "hardsigmoid": (F.hardsigmoid, "HardsigmoidBackward0"),
    "hardswish": (F.hardswish, "HardswishBackward0"), "softsign": (F.softsign, "DivBackward0"),
    "logsigmoid": (F.logsigmoid, "LogSigmoidBackward0"),
    "relu6": (lambda x: F.relu6(x * 4), "HardtanhBackward0"),
}


@pytest.mark.parametrize("name", sorted(ACT))
def test_activations_match_torch_and_gradcheck(name):
    fn, node = ACT[name]
    np.testing.assert_allclose(fn(t(X)).numpy(), TORCH_ACT[name], rtol=1e-14, atol=1e-16)
    x = t(X + 0.013, True)  # off the kinks
    assert fn(x).grad_fn.name() == node
    assert gradcheck(fn, [x])


def test_activation_errors_and_glu():
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        F.gelu(t(X), approximate="foo")
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(t(X), 1.0, -1.0)
    x = t(np.arange(8.0).reshape(2, 4) / 4, True)
    xa = x.detach().numpy()
    np.testing.assert_allclose(F.glu(x).detach().numpy(), xa[:, :2] / (1 + np.exp(-xa[:, 2:])))
    assert gradcheck(F.glu, [x])
    assert F.glu(x).grad_fn.name() == "GluBackward0"
    # softplus above its threshold is the identity, and gets gradient 1
    y = t([30.0, -30.0], True)
    F.softplus(y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [1.0, 1 / (1 + math.exp(30))])


def test_torch_special_namespace():
    import tapegrad.special as S
    x = t([-1.0, 0.0, 0.5])
    np.testing.assert_allclose(S.ndtr(x).numpy(), [0.15865525393145707, 0.5, 0.6914624612740131])
    np.testing.assert_allclose(S.expit(x).numpy(), 1 / (1 + np.exp([1.0, 0.0, -0.5])))
    assert S.erfinv is tapegrad.erfinv and S.xlogy is tapegrad.xlogy
