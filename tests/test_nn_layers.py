"""Layers of issue 14, part 2: each against a slow reference written out here (naive loops over
output positions, numpy formulas), gradients against central differences of that reference
and gradcheck in float64; PyTorch's printed forms, state-dict keys, defaults and messages
(recorded from PyTorch 2.13)."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F
from tapegrad.autograd import gradcheck

rng = np.random.default_rng(0)


def T(a, grad=True):
    return tg.tensor(np.asarray(a, np.float64), requires_grad=grad)


def fd_grads(ref, arrays, g, eps=1e-6):
    """d(sum(ref(*arrays) * g))/d(array) by central differences of the numpy reference."""
    out = []
    for k, a in enumerate(arrays):
        grad = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            plus = [x.copy() for x in arrays]
            minus = [x.copy() for x in arrays]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            grad[idx] = ((ref(*plus) * g).sum() - (ref(*minus) * g).sum()) / (2 * eps)
        out.append(grad)
    return out


def check_against(ref, fn, arrays, rtol=1e-6, atol=1e-8):
    """fn (tapegrad) against ref (numpy): the output, then the gradients of a random weighting."""
    ts = [T(a) for a in arrays]
    y = fn(*ts)
    expected = ref(*arrays)
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=rtol, atol=atol)
    g = rng.standard_normal(expected.shape)
    (y * T(g, False)).sum().backward()
    for t, ref_grad in zip(ts, fd_grads(ref, arrays, g)):
        np.testing.assert_allclose(t.grad.numpy(), ref_grad, rtol=1e-5, atol=1e-6)


# ---- slow references ------------------------------------------------------------------------
def naive_conv2d(x, w, b, stride, padding, dilation, groups):
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding[0], padding[0]), (padding[1], padding[1])))
    oh = (h + 2 * padding[0] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (wd + 2 * padding[1] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, o, oh, ow))
    og = o // groups
    for b_, oc, i, j in itertools.product(range(n), range(o), range(oh), range(ow)):
        grp = oc // og
        acc = 0.0
        for ci, ki, kj in itertools.product(range(cg), range(kh), range(kw)):
            acc += (xp[b_, grp * cg + ci, i * stride[0] + ki * dilation[0],
                       j * stride[1] + kj * dilation[1]] * w[oc, ci, ki, kj])
        out[b_, oc, i, j] = acc + (b[oc] if b is not None else 0.0)
    return out


def naive_conv_transpose2d(x, w, b, stride, padding, output_padding, dilation):
    n, c, h, wd = x.shape
    _, o, kh, kw = w.shape
    oh = (h - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kh - 1) + output_padding[0] + 1
    ow = (wd - 1) * stride[1] - 2 * padding[1] + dilation[1] * (kw - 1) + output_padding[1] + 1
    full = np.zeros((n, o, oh + 2 * padding[0], ow + 2 * padding[1]))
    for b_, ci, i, j, ki, kj in itertools.product(range(n), range(c), range(h), range(wd),
                                                  range(kh), range(kw)):
        full[b_, :, i * stride[0] + ki * dilation[0], j * stride[1] + kj * dilation[1]] += \
            x[b_, ci, i, j] * w[ci, :, ki, kj]
    out = full[:, :, padding[0]:padding[0] + oh, padding[1]:padding[1] + ow]
    return out + (b.reshape(1, -1, 1, 1) if b is not None else 0.0)


def naive_pool2d(x, k, s, p, reduce, ceil_mode=False, count_include_pad=True):
    n, c, h, w = x.shape

    def size(length, kk, ss, pp):
        span = length + 2 * pp - kk
        o = (-(-span // ss) if ceil_mode else span // ss) + 1
        if ceil_mode and (o - 1) * ss >= length + pp:
            o -= 1
        return o
    oh, ow = size(h, k[0], s[0], p[0]), size(w, k[1], s[1], p[1])
    out = np.zeros((n, c, oh, ow))
    for i, j in itertools.product(range(oh), range(ow)):
        h0, w0 = i * s[0] - p[0], j * s[1] - p[1]
        h1, w1 = min(h0 + k[0], h + p[0]), min(w0 + k[1], w + p[1])
        pad_count = (h1 - h0) * (w1 - w0)
        hs, ws = max(h0, 0), max(w0, 0)
        he, we = min(h1, h), min(w1, w)
        win = x[:, :, hs:he, ws:we]
        if reduce == "max":
            out[:, :, i, j] = win.max(axis=(2, 3))
        else:
            div = pad_count if count_include_pad else (he - hs) * (we - ws)
            out[:, :, i, j] = win.sum(axis=(2, 3)) / div
    return out


# ---- convolution ------------------------------------------------------------------------------
CONV_CASES = [
    dict(stride=1, padding=0, dilation=1, groups=1, bias=True),
    dict(stride=2, padding=1, dilation=1, groups=1, bias=False),
    dict(stride=(1, 2), padding=(2, 0), dilation=(2, 1), groups=2, bias=True),
    dict(stride=1, padding="same", dilation=2, groups=4, bias=True),
]


@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv2d_against_naive_loops(case):
    x = rng.standard_normal((2, 4, 6, 5))
    groups = case["groups"]
    w = rng.standard_normal((4, 4 // groups, 3, 2))
    b = rng.standard_normal(4)
    st = case["stride"] if isinstance(case["stride"], tuple) else (case["stride"],) * 2
    dil = case["dilation"] if isinstance(case["dilation"], tuple) else (case["dilation"],) * 2
    if case["padding"] == "same":
        # "same": d*(k-1) in all, the odd one on the right: (2, 2) for kh=3 and (1, 1) for kw=2
        def ref(x, w, b):
            xp = np.pad(x, ((0, 0), (0, 0), (2, 2), (1, 1)))
            return naive_conv2d(xp, w, b, st, (0, 0), dil, groups)
    else:
        pad = case["padding"] if isinstance(case["padding"], tuple) else (case["padding"],) * 2

        def ref(x, w, b):
            return naive_conv2d(x, w, b, st, pad, dil, groups)
    args = [x, w, b] if case["bias"] else [x, w]
    if not case["bias"]:
        check_against(lambda x, w: ref(x, w, None),
                      lambda x, w: F.conv2d(x, w, None, case["stride"], case["padding"],
                                            case["dilation"], groups), args)
    else:
        check_against(ref, lambda x, w, b: F.conv2d(x, w, b, case["stride"], case["padding"],
                                                    case["dilation"], groups), args)


def test_conv1d_is_conv2d_of_height_one():
    x = rng.standard_normal((2, 3, 9))
    w = rng.standard_normal((5, 3, 3))
    b = rng.standard_normal(5)
    check_against(lambda x, w, b: naive_conv2d(x[:, :, None], w[:, :, None], b, (1, 2), (0, 1),
                                               (1, 2), 1)[:, :, 0],
                  lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2),
                  [x, w, b])


@pytest.mark.parametrize("stride,padding,output_padding,dilation",
                         [((1, 1), (0, 0), (0, 0), (1, 1)), ((2, 3), (1, 0), (1, 2), (1, 1)),
                          ((2, 2), (1, 1), (0, 0), (2, 1))])
def test_conv_transpose2d_against_naive_scatter(stride, padding, output_padding, dilation):
    x = rng.standard_normal((2, 3, 3, 4))
    w = rng.standard_normal((3, 2, 3, 2))
    b = rng.standard_normal(2)
    check_against(lambda x, w, b: naive_conv_transpose2d(x, w, b, stride, padding,
                                                         output_padding, dilation),
                  lambda x, w, b: F.conv_transpose2d(x, w, b, stride, padding, output_padding,
                                                     1, dilation), [x, w, b])


def test_conv_gradcheck_float64():
    x = T(rng.standard_normal((1, 2, 5, 4)))
    w = T(rng.standard_normal((4, 1, 2, 3)))
    b = T(rng.standard_normal(4))
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1, groups=2),
                     (x, w, b))
    wt = T(rng.standard_normal((2, 3, 3, 2)))
    assert gradcheck(lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1,
                                                     output_padding=1), (x, wt))


def test_conv_module_init_repr_and_shapes():
    tg.manual_seed(0)
    m = nn.Conv2d(3, 8, 3, stride=2, padding=1)
    assert tuple(m.weight.shape) == (8, 3, 3, 3) and tuple(m.bias.shape) == (8,)
    bound = 1 / math.sqrt(3 * 9)  # kaiming_uniform(a=sqrt(5)) and the bias: 1/sqrt(fan_in)
    assert np.abs(m.weight.detach().numpy()).max() <= bound
    assert np.abs(m.bias.detach().numpy()).max() <= bound
    assert tuple(m(tg.randn(2, 3, 9, 9)).shape) == (2, 8, 5, 5)
    assert tuple(m(tg.randn(3, 9, 9)).shape) == (8, 5, 5)  # unbatched
    assert list(m.state_dict()) == ["weight", "bias"]
    assert tuple(nn.ConvTranspose2d(4, 6, 3, groups=2).weight.shape) == (4, 3, 3, 3)
    ct = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1)
    assert tuple(ct(tg.randn(1, 4, 5, 5), output_size=(10, 10)).shape) == (1, 6, 10, 10)


REPRS = [
    (lambda: nn.Conv2d(3, 16, 3), "Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1))"),
    (lambda: nn.Conv2d(3, 16, (3, 5), stride=2, padding=1, dilation=2, bias=False,
                       padding_mode="reflect"),
     "Conv2d(3, 16, kernel_size=(3, 5), stride=(2, 2), padding=(1, 1), dilation=(2, 2), "
     "bias=False, padding_mode=reflect)"),
    (lambda: nn.Conv2d(4, 8, 3, padding="same", groups=2),
     "Conv2d(4, 8, kernel_size=(3, 3), stride=(1, 1), padding=same, groups=2)"),
    (lambda: nn.Conv1d(3, 16, 3), "Conv1d(3, 16, kernel_size=(3,), stride=(1,))"),
    (lambda: nn.ConvTranspose2d(4, 8, 3, stride=2, output_padding=1),
     "ConvTranspose2d(4, 8, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1))"),
    (lambda: nn.MaxPool2d(2), "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, "
                              "ceil_mode=False)"),
    (lambda: nn.MaxPool1d(3, 2), "MaxPool1d(kernel_size=3, stride=2, padding=0, dilation=1, "
                                 "ceil_mode=False)"),
    (lambda: nn.AvgPool2d(2), "AvgPool2d(kernel_size=2, stride=2, padding=0)"),
    (lambda: nn.AvgPool1d(3), "AvgPool1d(kernel_size=(3,), stride=(3,), padding=(0,))"),
    (lambda: nn.AdaptiveAvgPool2d((5, None)), "AdaptiveAvgPool2d(output_size=(5, None))"),
    (lambda: nn.AdaptiveAvgPool1d(4), "AdaptiveAvgPool1d(output_size=4)"),
    (lambda: nn.BatchNorm1d(4), "BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, "
                                "track_running_stats=True)"),
    (lambda: nn.BatchNorm2d(4, momentum=None, affine=False),
     "BatchNorm2d(4, eps=1e-05, momentum=None, affine=False, bias=False, "
     "track_running_stats=True)"),
    (lambda: nn.LayerNorm(5), "LayerNorm((5,), eps=1e-05, elementwise_affine=True, bias=True)"),
    (lambda: nn.LayerNorm([2, 3], elementwise_affine=False),
     "LayerNorm((2, 3), eps=1e-05, elementwise_affine=False, bias=False)"),
    (lambda: nn.GroupNorm(2, 4), "GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)"),
    (lambda: nn.InstanceNorm2d(3), "InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, "
                                   "bias=False, track_running_stats=False)"),
    (lambda: nn.Embedding(10, 3), "Embedding(10, 3)"),
    (lambda: nn.Embedding(10, 3, padding_idx=-1, max_norm=1.0),
     "Embedding(10, 3, padding_idx=9, max_norm=1.0)"),
    (lambda: nn.Dropout2d(), "Dropout2d(p=0.5, inplace=False)"),
    (lambda: nn.Dropout1d(0.2), "Dropout1d(p=0.2, inplace=False)"),
    (lambda: nn.Unflatten(1, (2, 3)), "Unflatten(dim=1, unflattened_size=(2, 3))"),
    (lambda: nn.ModuleDict({"a": nn.Linear(2, 3), "b": nn.ReLU()}),
     "ModuleDict(\n  (a): Linear(in_features=2, out_features=3, bias=True)\n  (b): ReLU()\n)"),
    (lambda: nn.ParameterList([nn.Parameter(tg.randn(3, 4)), nn.Parameter(tg.randn(2))]),
     "ParameterList(\n    (0): Parameter containing: [tapegrad.float32 of size 3x4]\n"
     "    (1): Parameter containing: [tapegrad.float32 of size 2]\n)"),
    (lambda: nn.ParameterDict({"x": nn.Parameter(tg.randn(3, 4)),
                               "y": nn.Parameter(tg.randn(2).double())}),
     "ParameterDict(\n    (x): Parameter containing: [tapegrad.FloatTensor of size 3x4]\n"
     "    (y): Parameter containing: [tapegrad.DoubleTensor of size 2]\n)"),
    (lambda: nn.ParameterList(), "ParameterList()"),
    (lambda: nn.MultiheadAttention(8, 2),
     "MultiheadAttention(\n  (out_proj): NonDynamicallyQuantizableLinear(in_features=8, "
     "out_features=8, bias=True)\n)"),
    (lambda: nn.KLDivLoss(), "KLDivLoss()"),
    (lambda: nn.GELU(), "GELU(approximate='none')"),
    (lambda: nn.ELU(), "ELU(alpha=1.0)"),
    (lambda: nn.Softplus(), "Softplus(beta=1.0, threshold=20.0)"),
    (lambda: nn.Hardtanh(), "Hardtanh(min_val=-1.0, max_val=1.0)"),
    (lambda: nn.PReLU(), "PReLU(num_parameters=1)"),
    (lambda: nn.SiLU(), "SiLU()"),
    (lambda: nn.Softshrink(), "Softshrink(0.5)"),
    (lambda: nn.Threshold(0.1, 2.0), "Threshold(threshold=0.1, value=2.0)"),
    (lambda: nn.RReLU(), "RReLU(lower=0.125, upper=0.3333333333333333)"),
]


@pytest.mark.parametrize("make,expected", REPRS, ids=[r[1].split("(")[0] + str(i)
                                                       for i, r in enumerate(REPRS)])
def test_printed_form_is_pytorchs(make, expected):
    assert repr(make()) == expected


def test_conv_messages():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="Invalid padding string 'full'"):
        nn.Conv2d(3, 4, 3, padding="full")
    with pytest.raises(RuntimeError, match=r"Given groups=1, weight of size \[4, 3, 3, 3\], "
                       r"expected input\[1, 2, 5, 5\] to have 3 channels, but got 2 channels "
                       "instead"):
        nn.Conv2d(3, 4, 3)(tg.randn(1, 2, 5, 5))
    with pytest.raises(RuntimeError, match="Expected 3D \\(unbatched\\) or 4D \\(batched\\) "
                       "input to conv2d, but got input of size: \\[5, 5\\]"):
        nn.Conv2d(3, 4, 3)(tg.randn(5, 5))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater than actual input"):
        nn.Conv2d(3, 4, 5)(tg.randn(1, 3, 3, 3))


# ---- pooling ----------------------------------------------------------------------------------
@pytest.mark.parametrize("k,s,p,ceil", [((2, 2), (2, 2), (0, 0), False),
                                        ((3, 2), (2, 1), (1, 1), False),
                                        ((3, 3), (2, 2), (1, 0), True)])
def test_max_pool2d_against_naive(k, s, p, ceil):
    x = rng.standard_normal((2, 3, 7, 6))
    check_against(lambda x: naive_pool2d(x, k, s, p, "max", ceil),
                  lambda x: F.max_pool2d(x, k, s, p, ceil_mode=ceil), [x])


@pytest.mark.parametrize("k,s,p,ceil,cip", [((2, 2), (2, 2), (0, 0), False, True),
                                            ((3, 3), (2, 2), (1, 1), False, True),
                                            ((3, 3), (2, 2), (1, 1), False, False),
                                            ((3, 2), (2, 2), (1, 1), True, True),
                                            ((3, 2), (2, 2), (1, 0), True, False)])
def test_avg_pool2d_against_naive(k, s, p, ceil, cip):
    x = rng.standard_normal((2, 3, 7, 6))
    check_against(lambda x: naive_pool2d(x, k, s, p, "avg", ceil, cip),
                  lambda x: F.avg_pool2d(x, k, s, p, ceil, cip), [x])


def test_pool1d_and_indices():
    x = rng.standard_normal((2, 3, 9))
    check_against(lambda x: naive_pool2d(x[:, :, None], (1, 3), (1, 2), (0, 1), "max")[:, :, 0],
                  lambda x: F.max_pool1d(x, 3, 2, 1), [x])
    check_against(lambda x: naive_pool2d(x[:, :, None], (1, 4), (1, 3), (0, 0), "avg")[:, :, 0],
                  lambda x: F.avg_pool1d(x, 4, 3), [x])
    x2 = tg.tensor([[[[1.0, 5.0, 2.0], [7.0, 0.0, 3.0], [4.0, 8.0, 6.0]]]])
    values, idx = nn.MaxPool2d(2, stride=1, return_indices=True)(x2)
    assert values.tolist() == [[[[7.0, 5.0], [8.0, 8.0]]]]
    assert idx.tolist() == [[[[3, 1], [7, 7]]]]  # flat positions in each 3x3 plane


def test_adaptive_avg_pool_windows():
    x = rng.standard_normal((2, 3, 7, 5))

    def ref(x, oh=3, ow=2):
        out = np.zeros((2, 3, oh, ow))
        for i, j in itertools.product(range(oh), range(ow)):
            h0, h1 = (i * 7) // oh, -(-((i + 1) * 7) // oh)
            w0, w1 = (j * 5) // ow, -(-((j + 1) * 5) // ow)
            out[:, :, i, j] = x[:, :, h0:h1, w0:w1].mean(axis=(2, 3))
        return out
    check_against(ref, lambda x: F.adaptive_avg_pool2d(x, (3, 2)), [x])
    assert tuple(nn.AdaptiveAvgPool2d((None, 1))(T(x)).shape) == (2, 3, 7, 1)
    assert tuple(nn.AdaptiveAvgPool1d(4)(T(x[:, :, 0])).shape) == (2, 3, 4)


def test_pool_gradcheck_float64():
    x = T(rng.standard_normal((1, 2, 5, 5)))
    assert gradcheck(lambda x: F.max_pool2d(x, 3, 2, 1), (x,))
    assert gradcheck(lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True,
                                            count_include_pad=False), (x,))
    assert gradcheck(lambda x: F.adaptive_avg_pool2d(x, 3), (x,))


def test_pad_modes():
    x = rng.standard_normal((1, 2, 4, 5))
    for mode, np_mode in [("constant", "constant"), ("reflect", "reflect"),
                          ("replicate", "edge"), ("circular", "wrap")]:
        check_against(lambda x: np.pad(x, ((0, 0), (0, 0), (2, 1), (1, 3)), mode=np_mode),
                      lambda x: F.pad(x, (1, 3, 2, 1), mode=mode), [x])


# ---- normalisation ------------------------------------------------------------------------------
def test_batch_norm_training_eval_running_stats():
    x1 = rng.standard_normal((4, 3, 2, 2)) * 2 + 1
    x2 = rng.standard_normal((4, 3, 2, 2))
    bn = nn.BatchNorm2d(3, momentum=0.3).double()
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]
    check_against(lambda x: (x - x.mean((0, 2, 3), keepdims=True))
                  / np.sqrt(x.var((0, 2, 3), keepdims=True) + 1e-5), bn, [x1])
    bn(T(x2))
    rm, rv = np.zeros(3), np.ones(3)
    for x in (x1, x2):  # the running variance is the unbiased one
        rm = 0.7 * rm + 0.3 * x.mean((0, 2, 3))
        rv = 0.7 * rv + 0.3 * x.var((0, 2, 3), ddof=1)
    np.testing.assert_allclose(bn.running_mean.numpy(), rm)
    np.testing.assert_allclose(bn.running_var.numpy(), rv)
    assert bn.num_batches_tracked.item() == 2 and bn.num_batches_tracked.dtype == tg.int64
    bn.eval()
    with tg.no_grad():
        bn.weight.fill_(2.0)
        bn.bias.fill_(-1.0)
    y = bn(T(x2))
    np.testing.assert_allclose(y.detach().numpy(), (x2 - rm.reshape(1, 3, 1, 1))
                               / np.sqrt(rv.reshape(1, 3, 1, 1) + 1e-5) * 2 - 1)
    np.testing.assert_allclose(bn.running_mean.numpy(), rm)  # eval leaves them alone


def test_batch_norm_cumulative_average_and_no_tracking():
    bn = nn.BatchNorm1d(2, momentum=None).double()
    xs = [rng.standard_normal((5, 2)) for _ in range(3)]
    for x in xs:
        bn(T(x))
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([x.mean(0) for x in xs], 0))
    bn = nn.BatchNorm1d(2, track_running_stats=False).double().eval()
    assert list(bn.state_dict()) == ["weight", "bias"]
    x = rng.standard_normal((5, 2, 3))
    y = bn(T(x)).detach().numpy()  # no statistics kept: the batch's own, even in eval
    np.testing.assert_allclose(y, (x - x.mean((0, 2), keepdims=True))
                               / np.sqrt(x.var((0, 2), keepdims=True) + 1e-5), atol=1e-12)
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.BatchNorm1d(2)(tg.randn(2, 2, 2, 2))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        nn.BatchNorm1d(2)(tg.randn(1, 2))


def test_layer_group_instance_norm_against_formulas():
    x = rng.standard_normal((2, 4, 3, 2))
    w, b = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))

    def ln(x, w, b):
        m, v = x.mean((2, 3), keepdims=True), x.var((2, 3), keepdims=True)
        return (x - m) / np.sqrt(v + 1e-5) * w + b
    check_against(ln, lambda x, w, b: F.layer_norm(x, (3, 2), w, b), [x, w, b])
    gw, gb = rng.standard_normal(4), rng.standard_normal(4)

    def gn(x, w, b):
        g = x.reshape(2, 2, -1)
        y = ((g - g.mean(2, keepdims=True)) / np.sqrt(g.var(2, keepdims=True) + 1e-5))
        return y.reshape(x.shape) * w.reshape(1, 4, 1, 1) + b.reshape(1, 4, 1, 1)
    check_against(gn, lambda x, w, b: F.group_norm(x, 2, w, b), [x, gw, gb])
    check_against(lambda x: (x - x.mean((2, 3), keepdims=True))
                  / np.sqrt(x.var((2, 3), keepdims=True) + 1e-5),
                  nn.InstanceNorm2d(4).double(), [x])
    assert gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), (T(x), T(gw), T(gb)))
    assert gradcheck(lambda x: F.batch_norm(x, None, None, training=True), (T(x),))
    m = nn.LayerNorm([3, 2])
    assert list(m.state_dict()) == ["weight", "bias"]
    assert (m.weight.detach().numpy() == 1).all() and (m.bias.detach().numpy() == 0).all()
    with pytest.raises(ValueError, match=r"num_channels \(5\) must be divisible by num_groups"):
        nn.GroupNorm(2, 5)


# ---- embedding, dropout, containers -------------------------------------------------------
def test_embedding_padding_idx_and_pretrained():
    tg.manual_seed(0)
    emb = nn.Embedding(6, 3, padding_idx=2)
    assert (emb.weight.detach().numpy()[2] == 0).all()
    idx = tg.tensor([[0, 2, 5], [2, 2, 1]])
    out = emb(idx)
    np.testing.assert_array_equal(out.detach().numpy(), emb.weight.detach().numpy()[idx.numpy()])
    g = rng.standard_normal((2, 3, 3))
    (out * T(g, False).float()).sum().backward()
    expected = np.zeros((6, 3))
    np.add.at(expected, idx.numpy(), g)
    expected[2] = 0  # the padding row gets no gradient
    np.testing.assert_allclose(emb.weight.grad.numpy(), expected, rtol=1e-6)
    pre = nn.Embedding.from_pretrained(tg.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert not pre.weight.requires_grad and pre(tg.tensor([1])).tolist() == [[3.0, 4.0]]
    with pytest.raises(IndexError, match="index out of range in self"):
        emb(tg.tensor([6]))
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(3, 2, padding_idx=3)


def test_dropout2d_zeroes_whole_channels():
    tg.manual_seed(1)
    m = nn.Dropout2d(0.5)
    x = tg.ones(8, 16, 3, 3)
    y = m(x).numpy()
    per_channel = y.reshape(8, 16, 9)
    assert set(np.unique(per_channel)) <= {0.0, 2.0}
    assert (per_channel.min(2) == per_channel.max(2)).all()  # a channel is all kept or all 0
    assert 0.25 < (per_channel[:, :, 0] == 0).mean() < 0.75
    assert (m.eval()(x).numpy() == 1).all()
    y1 = nn.Dropout1d(0.5)(tg.ones(4, 10, 7)).numpy()
    assert (y1.min(2) == y1.max(2)).all()


def test_containers_register_and_index():
    d = nn.ModuleDict({"a": nn.Linear(2, 3)})
    d["b"] = nn.Linear(3, 1)
    assert list(d.keys()) == ["a", "b"] and "a" in d and len(d) == 2
    assert list(d.state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias"]
    pl = nn.ParameterList([nn.Parameter(tg.randn(2)), tg.randn(3)])
    pl.append(nn.Parameter(tg.randn(1)))
    assert len(pl) == 3 and isinstance(pl[1], nn.Parameter) and pl[1].requires_grad
    assert list(pl.state_dict()) == ["0", "1", "2"] and len(list(pl.parameters())) == 3
    pd = nn.ParameterDict({"w": nn.Parameter(tg.randn(2))})
    pd["b"] = tg.zeros(1)
    assert list(pd.keys()) == ["w", "b"] and list(pd.state_dict()) == ["w", "b"]

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.heads = nn.ModuleDict({"x": nn.Linear(2, 2)})
            self.extra = nn.ParameterList([tg.ones(2)])

    assert sorted(n for n, _ in Net().named_parameters()) == ["extra.0", "heads.x.bias",
                                                               "heads.x.weight"]
    u = nn.Unflatten(1, (2, 3))(tg.randn(4, 6, 5))
    assert tuple(u.shape) == (4, 2, 3, 5)
    assert nn.Identity(54, unused="x")(tg.ones(2)).tolist() == [1.0, 1.0]


def test_buffers_follow_dtype_and_assignment():
    bn = nn.BatchNorm1d(3).double()
    assert bn.running_mean.dtype == tg.float64 and bn.num_batches_tracked.dtype == tg.int64
    bn.running_mean = tg.ones(3, dtype=tg.float64)
    assert "running_mean" in dict(bn.named_buffers())


# ---- attention ----------------------------------------------------------------------------------
def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_scaled_dot_product_attention():
    q, k, v = (rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((2, 3, 6, 5)),
               rng.standard_normal((2, 3, 6, 2)))
    mask = rng.standard_normal((4, 6))
    check_against(lambda q, k, v: _softmax(q @ k.swapaxes(-1, -2) / np.sqrt(5) + mask) @ v,
                  lambda q, k, v: F.scaled_dot_product_attention(q, k, v, T(mask, False)),
                  [q, k, v])
    causal = np.tril(np.ones((4, 6), bool))
    check_against(lambda q, k, v: _softmax(np.where(causal, q @ k.swapaxes(-1, -2) * 0.5,
                                                    -np.inf)) @ v,
                  lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                                                 scale=0.5), [q, k, v])
    bool_mask = tg.tensor(causal)  # True: takes part
    a = F.scaled_dot_product_attention(T(q), T(k), T(v), bool_mask)
    b = F.scaled_dot_product_attention(T(q), T(k), T(v), is_causal=True)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy())


def test_multihead_attention_against_numpy():
    tg.manual_seed(0)
    mha = nn.MultiheadAttention(6, 2).double()
    assert list(mha.state_dict()) == ["in_proj_weight", "in_proj_bias", "out_proj.weight",
                                      "out_proj.bias"]
    assert (mha.in_proj_bias.detach().numpy() == 0).all()
    assert (mha.out_proj.bias.detach().numpy() == 0).all()
    L, S, N = 3, 4, 2
    q, k, v = (rng.standard_normal((L, N, 6)), rng.standard_normal((S, N, 6)),
               rng.standard_normal((S, N, 6)))
    W, Wo = mha.in_proj_weight.detach().numpy(), mha.out_proj.weight.detach().numpy()
    kpm = np.array([[False, False, False, True], [False, False, False, False]])

    def ref(q, k, v):
        qp, kp, vp = q @ W[:6].T, k @ W[6:12].T, v @ W[12:].T
        out = np.zeros((L, N, 6))
        weights = np.zeros((N, L, S))
        for n, h in itertools.product(range(N), range(2)):
            sl = slice(3 * h, 3 * h + 3)
            s = qp[:, n, sl] @ kp[:, n, sl].T / np.sqrt(3)
            s = np.where(kpm[n][None, :], -np.inf, s)
            a = _softmax(s)
            weights[n] += a / 2
            out[:, n, sl] = a @ vp[:, n, sl]
        return out @ Wo.T, weights

    out, weights = mha(T(q), T(k), T(v), key_padding_mask=tg.tensor(kpm))
    ref_out, ref_w = ref(q, k, v)
    np.testing.assert_allclose(out.detach().numpy(), ref_out, atol=1e-12)
    np.testing.assert_allclose(weights.detach().numpy(), ref_w, atol=1e-12)
    check_against(lambda q, k, v: ref(q, k, v)[0],
                  lambda q, k, v: mha(q, k, v, key_padding_mask=tg.tensor(kpm),
                                      need_weights=False)[0], [q, k, v])
    bf = nn.MultiheadAttention(6, 3, batch_first=True, kdim=4, vdim=5)
    assert list(bf.state_dict())[:3] == ["q_proj_weight", "k_proj_weight", "v_proj_weight"]
    o, w = bf(tg.randn(2, 3, 6), tg.randn(2, 4, 4), tg.randn(2, 4, 5),
              average_attn_weights=False)
    assert tuple(o.shape) == (2, 3, 6) and tuple(w.shape) == (2, 3, 3, 4)
