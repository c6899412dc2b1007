"""Recurrent layers: RNN, LSTM, GRU and their cells, with PyTorch's weight layout, parameter
names (``weight_ih_l0``, ``bias_hh_l1_reverse``, ...), gate order, initialisation
(uniform(-1/sqrt(hidden), 1/sqrt(hidden))) and printed form, so state dicts carry over.

Each layer computes the input projection of all time steps in one matmul, then steps through
time with the recurrent matmul; everything is composed from public ops, so gradients (through
time) come from the tape."""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import cat, matmul, relu, sigmoid, stack, tanh
from ..tensor import Tensor
from . import functional as Fn
from . import init
from ._common import empty_param
from .modules import Module

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _linear(x, w, b):
    y = matmul(x, w.t())
    return y if b is None else y + b


def _rnn_step(nonlinearity):
    act = tanh if nonlinearity == "tanh" else relu

    def step(xw, state, w_hh, b_hh, w_hr):
        (h,) = state
        return (act(xw + _linear(h, w_hh, b_hh)),)
    return step


def _lstm_step(xw, state, w_hh, b_hh, w_hr):
    h, c = state
    gates = xw + _linear(h, w_hh, b_hh)
    i, f, g, o = gates.chunk(4, -1)
    c = sigmoid(f) * c + sigmoid(i) * tanh(g)
    h = sigmoid(o) * tanh(c)
    if w_hr is not None:
        h = matmul(h, w_hr.t())
    return h, c


def _gru_step(xw, state, w_hh, b_hh, w_hr):
    (h,) = state
    hw = _linear(h, w_hh, b_hh)
    x_r, x_z, x_n = xw.chunk(3, -1)
    h_r, h_z, h_n = hw.chunk(3, -1)
    r = sigmoid(x_r + h_r)
    z = sigmoid(x_z + h_z)
    n = tanh(x_n + r * h_n)
    return ((1 - z) * n + z * h,)


def _reset_uniform(module: Module) -> None:
    """PyTorch's initialisation of recurrent layers and cells: every parameter from
    U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
    stdv = 1.0 / math.sqrt(module.hidden_size) if module.hidden_size > 0 else 0
    for weight in module.parameters():
        init.uniform_(weight, -stdv, stdv)


class RNNBase(Module):
    """What RNN, LSTM and GRU share: parameters per layer and direction, argument checks, the
    layer loop."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.mode = mode
        self.input_size, self.hidden_size = input_size, hidden_size
        self.num_layers, self.bias = num_layers, bias
        self.batch_first, self.dropout = batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        num_directions = 2 if bidirectional else 1
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or \
                isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: "
                            f"{type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input = input_size if layer == 0 else real_hidden * num_directions
                suffix = "_reverse" if direction == 1 else ""
                shapes = [("weight_ih", (gate_size, layer_input)),
                          ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes += [("weight_hr", (proj_size, hidden_size))]
                for name, shape in shapes:
                    full = f"{name}_l{layer}{suffix}"
                    setattr(self, full, empty_param(shape, dtype))
                    self._flat_weights_names.append(full)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_uniform(self)

    def flatten_parameters(self) -> None:
        """Accepted for compatibility: there is no cuDNN weight buffer to compact."""

    @property
    def all_weights(self):
        return [[getattr(self, n) for n in self._flat_weights_names
                 if n.endswith(f"_l{layer}{sfx}")]
                for layer in range(self.num_layers)
                for sfx in (("", "_reverse") if self.bidirectional else ("",))]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # -- forward -------------------------------------------------------------------------------
    def _layer_params(self, layer: int, direction: int):
        sfx = f"_l{layer}" + ("_reverse" if direction else "")
        get = (lambda n: getattr(self, n + sfx) if self.bias or "bias" not in n else None)
        w_hr = getattr(self, "weight_hr" + sfx) if self.proj_size else None
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh"), w_hr

    def _check_input(self, input) -> bool:
        if input.ndim not in (2, 3):
            raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got "
                             f"{input.ndim}D tensor instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")
        return input.ndim == 3

    def _check_hidden(self, hx, expected, msg="Expected hidden size {}, got {}") -> None:
        if tuple(hx.shape) != tuple(expected):
            raise RuntimeError(msg.format(tuple(expected), list(hx.shape)))

    def _run(self, x, states, step):
        """x: (L, N, H_in); states: one tuple of per-(layer, direction) initial states per
        state kind. Returns output (L, N, D*H_out) and the final states, stacked."""
        num_directions = 2 if self.bidirectional else 1
        length = x.shape[0]
        finals = []
        layer_input = x
        for layer in range(self.num_layers):
            outs = []
            for direction in range(num_directions):
                k = layer * num_directions + direction
                w_ih, w_hh, b_ih, b_hh, w_hr = self._layer_params(layer, direction)
                xw = _linear(layer_input, w_ih, b_ih)          # every step's input at once
                state = tuple(s[k] for s in states)
                seq = [None] * length
                order = range(length - 1, -1, -1) if direction else range(length)
                for t in order:
                    state = step(xw[t], state, w_hh, b_hh, w_hr)
                    seq[t] = state[0]
                outs.append(stack(seq, 0))
                finals.append(state)
            layer_output = outs[0] if num_directions == 1 else cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_output = Fn.dropout(layer_output, self.dropout, True)
            layer_input = layer_output
        final = tuple(stack([f[i] for f in finals], 0) for i in range(len(finals[0])))
        return layer_input, final

    def _zeros(self, n_batch, size, like):
        num_directions = 2 if self.bidirectional else 1
        return Tensor._make(np.zeros((self.num_layers * num_directions, n_batch, size),
                                     like._data.dtype))

    def _prepare(self, input):
        batched = self._check_input(input)
        if not batched:
            input = input.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        return input, batched

    def _finish(self, output, batched):
        if not batched:
            return output.squeeze(1)
        return output.transpose(0, 1) if self.batch_first else output


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu), over
    (L, N, H_in) ((N, L, H_in) with ``batch_first``; unbatched (L, H_in)). Returns
    (output, h_n)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None,
                 dtype=None) -> None:
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, dtype=dtype)
        self.nonlinearity = nonlinearity

    def _step(self):
        return _rnn_step(self.nonlinearity)

    def forward(self, input, hx=None):
        x, batched = self._prepare(input)
        n = x.shape[1]
        d = 2 if self.bidirectional else 1
        if hx is None:
            hx = self._zeros(n, self.hidden_size, x)
        else:
            if batched and hx.ndim != 3:
                raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got "
                                   f"{hx.ndim}-D tensor")
            if not batched:
                if hx.ndim != 2:
                    raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but "
                                       f"got {hx.ndim}-D tensor")
                hx = hx.unsqueeze(1)
            self._check_hidden(hx, (self.num_layers * d, n, self.hidden_size))
        output, (h_n,) = self._run(x, (hx,), self._step())
        return self._finish(output, batched), (h_n if batched else h_n.squeeze(1))


class LSTM(RNNBase):
    """LSTM with PyTorch's gate order (input, forget, cell, output) and optional projection
    (``proj_size``). Returns (output, (h_n, c_n))."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, dtype=dtype)

    def forward(self, input, hx=None):
        x, batched = self._prepare(input)
        n = x.shape[1]
        d = 2 if self.bidirectional else 1
        real_hidden = self.proj_size or self.hidden_size
        if hx is None:
            h0 = self._zeros(n, real_hidden, x)
            c0 = self._zeros(n, self.hidden_size, x)
        else:
            h0, c0 = hx
            if batched and (h0.ndim != 3 or c0.ndim != 3):
                raise RuntimeError(f"For batched 3-D input, hx and cx should also be 3-D but "
                                   f"got ({h0.ndim}-D, {c0.ndim}-D) tensors")
            if not batched:
                if h0.ndim != 2 or c0.ndim != 2:
                    raise RuntimeError(f"For unbatched 2-D input, hx and cx should also be 2-D"
                                       f" but got ({h0.ndim}-D, {c0.ndim}-D) tensors")
                h0, c0 = h0.unsqueeze(1), c0.unsqueeze(1)
            self._check_hidden(h0, (self.num_layers * d, n, real_hidden))
            self._check_hidden(c0, (self.num_layers * d, n, self.hidden_size),
                               "Expected hidden[1] size {}, got {}")
        output, (h_n, c_n) = self._run(x, (h0, c0), _lstm_step)
        if not batched:
            h_n, c_n = h_n.squeeze(1), c_n.squeeze(1)
        return self._finish(output, batched), (h_n, c_n)


class GRU(RNNBase):
    """GRU with PyTorch's gate order (reset, update, new) and n = tanh(W_in x + b_in +
    r * (W_hn h + b_hn)). Returns (output, h_n)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device=None, dtype=None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, dtype=dtype)

    forward = RNN.forward

    def _step(self):
        return _gru_step


# ---- cells ----------------------------------------------------------------------------------
class RNNCellBase(Module):
    """What the cells share: weight_ih, weight_hh, bias_ih, bias_hh and their init."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 dtype=None) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = empty_param((num_chunks * hidden_size, input_size), dtype)
        self.weight_hh = empty_param((num_chunks * hidden_size, hidden_size), dtype)
        if bias:
            self.bias_ih = empty_param((num_chunks * hidden_size,), dtype)
            self.bias_hh = empty_param((num_chunks * hidden_size,), dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_uniform(self)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nl = getattr(self, "nonlinearity", "tanh")
        if nl != "tanh":
            s += f", nonlinearity={nl}"
        return s

    def _prepare(self, input, hx, n_states):
        if input.ndim not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected input to be 1D or 2D, got "
                             f"{input.ndim}D instead")
        if hx is not None:
            for h in (hx if isinstance(hx, tuple) else (hx,)):
                if h.ndim not in (1, 2):
                    raise ValueError(f"{type(self).__name__}: Expected hidden to be 1D or 2D, "
                                     f"got {h.ndim}D instead")
        batched = input.ndim == 2
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[-1]} "
                               f"expected {self.input_size}")
        x = input if batched else input.unsqueeze(0)
        if hx is None:
            z = Tensor._make(np.zeros((x.shape[0], self.hidden_size), x._data.dtype))
            states = (z,) * n_states
        else:
            states = hx if isinstance(hx, tuple) else (hx,)
            states = tuple(s if batched else s.unsqueeze(0) for s in states)
        return x, states, batched


class RNNCell(RNNCellBase):
    """One Elman step: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 1, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        x, (h,), batched = self._prepare(input, hx, 1)
        (h,) = _rnn_step(self.nonlinearity)(_linear(x, self.weight_ih, self.bias_ih), (h,),
                                            self.weight_hh, self.bias_hh, None)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step; returns (h', c')."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, dtype)

    def forward(self, input, hx=None):
        x, (h, c), batched = self._prepare(input, hx, 2)
        h, c = _lstm_step(_linear(x, self.weight_ih, self.bias_ih), (h, c), self.weight_hh,
                          self.bias_hh, None)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: h' = (1 - z) * n + z * h."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, dtype)

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, hx, 1)
        (h,) = _gru_step(_linear(x, self.weight_ih, self.bias_ih), (h,), self.weight_hh,
                         self.bias_hh, None)
        return h if batched else h.squeeze(0)
