"""Recurrent layers (issue 14, part 3) against cells unrolled by hand in numpy, with the module's
own weights: every layer, direction, batch_first, initial states; gradients against central
differences of the unrolled reference and gradcheck in float64; PyTorch's parameter names,
initialisation, printed form and messages (recorded from PyTorch 2.13)."""
from __future__ import annotations

import math

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn as nn
from tapegrad.autograd import gradcheck

rng = np.random.default_rng(0)


def sig(z):
    return 1 / (1 + np.exp(-z))


# ---- cells by hand -------------------------------------------------------------------------------
def rnn_cell(x, h, w_ih, w_hh, b_ih, b_hh, act=np.tanh):
    return act(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh)


def lstm_cell(x, h, c, w_ih, w_hh, b_ih, b_hh):
    gates = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    i, f, g, o = np.split(gates, 4, axis=-1)
    c = sig(f) * c + sig(i) * np.tanh(g)
    return sig(o) * np.tanh(c), c


def gru_cell(x, h, w_ih, w_hh, b_ih, b_hh):
    xr, xz, xn = np.split(x @ w_ih.T + b_ih, 3, axis=-1)
    hr, hz, hn = np.split(h @ w_hh.T + b_hh, 3, axis=-1)
    r, z = sig(xr + hr), sig(xz + hz)
    n = np.tanh(xn + r * hn)
    return (1 - z) * n + z * h


def unrolled(kind, params, x, states, num_layers, bidirectional):
    """The whole stack by hand: x (L, N, H_in); states a list of (D*layers, N, H) arrays."""
    d = 2 if bidirectional else 1
    finals = [[] for _ in states]
    inp = x
    for layer in range(num_layers):
        outs = []
        for direction in range(d):
            sfx = f"_l{layer}" + ("_reverse" if direction else "")
            w = [params[n + sfx] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            st = [s[layer * d + direction] for s in states]
            seq = [None] * len(inp)
            for t in (range(len(inp) - 1, -1, -1) if direction else range(len(inp))):
                if kind == "LSTM":
                    st = list(lstm_cell(inp[t], st[0], st[1], *w))
                elif kind == "GRU":
                    st = [gru_cell(inp[t], st[0], *w)]
                else:
                    act = np.tanh if kind == "tanh" else (lambda z: np.maximum(z, 0))
                    st = [rnn_cell(inp[t], st[0], *w, act=act)]
                seq[t] = st[0]
            outs.append(np.stack(seq))
            for k, s in enumerate(st):
                finals[k].append(s)
        inp = np.concatenate(outs, -1)
    return inp, [np.stack(f) for f in finals]


def _np_params(m):
    return {k: v.detach().numpy().astype(np.float64) for k, v in m.state_dict().items()}


CASES = [("tanh", 1, False, False), ("relu", 2, True, True), ("LSTM", 2, True, False),
         ("LSTM", 1, False, True), ("GRU", 3, True, False), ("GRU", 1, False, True)]


def _make(kind, layers, bidi, batch_first):
    if kind == "LSTM":
        return nn.LSTM(3, 4, layers, bidirectional=bidi, batch_first=batch_first)
    if kind == "GRU":
        return nn.GRU(3, 4, layers, bidirectional=bidi, batch_first=batch_first)
    return nn.RNN(3, 4, layers, nonlinearity=kind, bidirectional=bidi, batch_first=batch_first)


@pytest.mark.parametrize("kind,layers,bidi,batch_first", CASES)
def test_stack_against_hand_unrolled_cells(kind, layers, bidi, batch_first):
    tg.manual_seed(0)
    m = _make(kind, layers, bidi, batch_first).double()
    d = 2 if bidi else 1
    L, N = 5, 2
    x = rng.standard_normal((L, N, 3))
    h0 = rng.standard_normal((layers * d, N, 4))
    c0 = rng.standard_normal((layers * d, N, 4))
    states = [h0, c0] if kind == "LSTM" else [h0]
    ref_out, ref_states = unrolled(kind, _np_params(m), x, states, layers, bidi)
    xin = np.swapaxes(x, 0, 1) if batch_first else x
    hx = (tg.tensor(h0), tg.tensor(c0)) if kind == "LSTM" else tg.tensor(h0)
    out, hn = m(tg.tensor(xin), hx)
    got = out.detach().numpy()
    np.testing.assert_allclose(np.swapaxes(got, 0, 1) if batch_first else got, ref_out,
                               atol=1e-12)
    for a, b in zip(hn if kind == "LSTM" else (hn,), ref_states):
        np.testing.assert_allclose(a.detach().numpy(), b, atol=1e-12)
    # zero initial states when none are given
    out0, _ = m(tg.tensor(xin))
    ref0, _ = unrolled(kind, _np_params(m), x, [np.zeros_like(s) for s in states], layers, bidi)
    got0 = out0.detach().numpy()
    np.testing.assert_allclose(np.swapaxes(got0, 0, 1) if batch_first else got0, ref0,
                               atol=1e-12)


@pytest.mark.parametrize("kind", ["tanh", "LSTM", "GRU"])
def test_gradients_through_time_against_differences_of_the_unrolled_reference(kind):
    tg.manual_seed(1)
    m = _make(kind, 2, True, False).double()
    L, N = 3, 2
    x = rng.standard_normal((L, N, 3))
    g = rng.standard_normal((L, N, 8))
    params = _np_params(m)
    n_states = 2 if kind == "LSTM" else 1

    def loss(params, x):
        zeros = [np.zeros((4, N, 4))] * n_states
        return (unrolled(kind, params, x, zeros, 2, True)[0] * g).sum()

    xt = tg.tensor(x, requires_grad=True)
    out, _ = m(xt)
    (out * tg.tensor(g)).sum().backward()
    eps = 1e-6
    for name in ("weight_ih_l0", "weight_hh_l1_reverse", "bias_hh_l0_reverse", "bias_ih_l1"):
        p = params[name]
        num = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            hi, lo = dict(params), dict(params)
            hi[name], lo[name] = p.copy(), p.copy()
            hi[name][idx] += eps
            lo[name][idx] -= eps
            num[idx] = (loss(hi, x) - loss(lo, x)) / (2 * eps)
        np.testing.assert_allclose(getattr(m, name).grad.numpy(), num, rtol=1e-5, atol=1e-7)
    num_x = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        hi, lo = x.copy(), x.copy()
        hi[idx] += eps
        lo[idx] -= eps
        num_x[idx] = (loss(params, hi) - loss(params, lo)) / (2 * eps)
    np.testing.assert_allclose(xt.grad.numpy(), num_x, rtol=1e-5, atol=1e-7)


def test_gradcheck_float64_through_states():
    tg.manual_seed(2)
    lstm = nn.LSTM(2, 3).double()
    x = tg.tensor(rng.standard_normal((3, 1, 2)), requires_grad=True)
    h0 = tg.tensor(rng.standard_normal((1, 1, 3)), requires_grad=True)
    c0 = tg.tensor(rng.standard_normal((1, 1, 3)), requires_grad=True)
    assert gradcheck(lambda x, h, c: lstm(x, (h, c))[1][1], (x, h0, c0))
    gru = nn.GRU(2, 3, batch_first=True).double()
    xb = tg.tensor(rng.standard_normal((1, 3, 2)), requires_grad=True)  # (N, L, H_in)
    assert gradcheck(lambda x, h: gru(x, h)[0], (xb, h0))


def test_cells_against_formulas_and_unbatched():
    tg.manual_seed(3)
    x, h, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    for cell, ref in [(nn.RNNCell(3, 4).double(), rnn_cell), (nn.GRUCell(3, 4).double(), gru_cell)]:
        p = _np_params(cell)
        w = [p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"]]
        np.testing.assert_allclose(cell(tg.tensor(x), tg.tensor(h)).detach().numpy(),
                                   ref(x, h, *w), atol=1e-12)
        np.testing.assert_allclose(cell(tg.tensor(x[0]), tg.tensor(h[0])).detach().numpy(),
                                   ref(x[0], h[0], *w), atol=1e-12)
        np.testing.assert_allclose(cell(tg.tensor(x)).detach().numpy(),
                                   ref(x, np.zeros((2, 4)), *w), atol=1e-12)
    cell = nn.LSTMCell(3, 4).double()
    p = _np_params(cell)
    w = [p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"]]
    h1, c1 = cell(tg.tensor(x), (tg.tensor(h), tg.tensor(c)))
    rh, rc = lstm_cell(x, h, c, *w)
    np.testing.assert_allclose(h1.detach().numpy(), rh, atol=1e-12)
    np.testing.assert_allclose(c1.detach().numpy(), rc, atol=1e-12)
    relu_cell = nn.RNNCell(3, 4, nonlinearity="relu", bias=False).double()
    p = _np_params(relu_cell)
    np.testing.assert_allclose(
        relu_cell(tg.tensor(x), tg.tensor(h)).detach().numpy(),
        np.maximum(x @ p["weight_ih"].T + h @ p["weight_hh"].T, 0), atol=1e-12)


def test_unbatched_sequence_and_lstm_projection_shapes():
    lstm = nn.LSTM(3, 5, 2, proj_size=2)
    out, (h, c) = lstm(tg.randn(7, 3))
    assert tuple(out.shape) == (7, 2) and tuple(h.shape) == (2, 2) and tuple(c.shape) == (2, 5)
    assert tuple(lstm.weight_hr_l0.shape) == (2, 5) and tuple(lstm.weight_hh_l1.shape) == (20, 2)
    gru = nn.GRU(3, 4, bidirectional=True, batch_first=True)
    out, h = gru(tg.randn(2, 6, 3))
    assert tuple(out.shape) == (2, 6, 8) and tuple(h.shape) == (2, 2, 4)


def test_parameter_names_shapes_and_init_are_pytorchs():
    # recorded from torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True).state_dict()
    expected = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse",
                "bias_hh_l0_reverse", "weight_ih_l1", "weight_hh_l1", "bias_ih_l1",
                "bias_hh_l1", "weight_ih_l1_reverse", "weight_hh_l1_reverse",
                "bias_ih_l1_reverse", "bias_hh_l1_reverse"]
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    assert list(lstm.state_dict()) == expected
    assert tuple(lstm.weight_ih_l0.shape) == (16, 3)
    assert tuple(lstm.weight_ih_l1.shape) == (16, 8)
    assert tuple(nn.GRU(3, 4).weight_hh_l0.shape) == (12, 4)
    assert list(nn.GRU(3, 4, bias=False).state_dict()) == ["weight_ih_l0", "weight_hh_l0"]
    assert list(nn.LSTMCell(3, 4).state_dict()) == ["weight_ih", "weight_hh", "bias_ih",
                                                     "bias_hh"]
    tg.manual_seed(0)
    big = nn.RNN(10, 25)
    bound = 1 / math.sqrt(25)
    values = np.concatenate([p.detach().numpy().ravel() for p in big.parameters()])
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.9 * bound
    # a state dict moves between modules of the same shape
    other = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    other.load_state_dict(lstm.state_dict())
    x = tg.randn(2, 1, 3)
    np.testing.assert_array_equal(other(x)[0].detach().numpy(), lstm(x)[0].detach().numpy())


@pytest.mark.parametrize("make,expected", [
    (lambda: nn.RNN(3, 4), "RNN(3, 4)"),
    (lambda: nn.RNN(3, 4, nonlinearity="relu"), "RNN(3, 4)"),
    (lambda: nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True, dropout=0.1),
     "LSTM(3, 4, num_layers=2, batch_first=True, dropout=0.1, bidirectional=True)"),
    (lambda: nn.GRU(3, 4, bias=False), "GRU(3, 4, bias=False)"),
    (lambda: nn.RNNCell(3, 4), "RNNCell(3, 4)"),
    (lambda: nn.RNNCell(3, 4, nonlinearity="relu"), "RNNCell(3, 4, nonlinearity=relu)"),
    (lambda: nn.LSTMCell(3, 4), "LSTMCell(3, 4)"),
    (lambda: nn.GRUCell(3, 4, bias=False), "GRUCell(3, 4, bias=False)"),
])
def test_printed_form(make, expected):
    assert repr(make()) == expected


def test_dropout_between_layers_only_in_training():
    tg.manual_seed(0)
    m = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = tg.randn(5, 2, 3)
    m.eval()
    a, b = m(x)[0].detach().numpy(), m(x)[0].detach().numpy()
    np.testing.assert_array_equal(a, b)
    m.train()
    assert not np.allclose(m(x)[0].detach().numpy(), a)
    with pytest.warns(UserWarning, match="dropout option adds dropout after all but last"):
        nn.GRU(3, 4, dropout=0.2)


def test_messages():
    m = nn.RNN(3, 4)
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. "
                       "Expected 3, got 5"):
        m(tg.randn(2, 1, 5))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 2, 4\), got \[1, 3, 4\]"):
        m(tg.randn(5, 2, 3), tg.zeros(1, 3, 4))
    with pytest.raises(ValueError, match="RNN: Expected input to be 2D or 3D, got 4D tensor"):
        m(tg.randn(1, 2, 3, 3))
    with pytest.raises(ValueError, match="Unknown nonlinearity 'gelu'"):
        nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        nn.LSTM(3, 0)
