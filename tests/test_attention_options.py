"""MultiheadAttention's add_bias_kv and add_zero_attn, against PyTorch 2.13's values for the same
weights (set from linspace), masks and inputs, and its initialisation after manual_seed."""
from __future__ import annotations

import pytest

import tapegrad as torch

ALL = ["in_proj_weight", "in_proj_bias", "bias_k", "bias_v", "out_proj.weight", "out_proj.bias"]
NO_KV = ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
# options -> (parameter names, weights' shape, sum(out), sum(w*w), sum|q.grad|,
#             sum|in_proj_weight.grad|, sum|bias_k.grad|), as PyTorch 2.13 printed them
PYTORCH = {
    "bias_kv": (ALL, [2, 3, 5], 63.68754078, 1.58451291, 175.78599964, 4129.69624122,
                193.69675663),
    "zero_attn": (NO_KV, [2, 3, 5], 33.49289371, 1.58301975, 179.19888495, 2884.00108433,
                  None),
    "both": (ALL, [2, 3, 6], 57.11604071, 1.30833513, 232.76709396, 4159.58811287,
             156.87771285),
}
OPTIONS = {"bias_kv": dict(add_bias_kv=True), "zero_attn": dict(add_zero_attn=True),
           "both": dict(add_bias_kv=True, add_zero_attn=True)}


@pytest.mark.parametrize("name", list(PYTORCH))
def test_appended_keys_values_as_pytorch(name):
    names, w_shape, out_sum, w_sq, q_grad, w_grad, bk_grad = PYTORCH[name]
    m = torch.nn.MultiheadAttention(6, 2, dtype=torch.float64, **OPTIONS[name])
    assert [n for n, _ in m.named_parameters()] == names
    with torch.no_grad():
        for i, p in enumerate(m.parameters()):
            p.copy_(torch.linspace(-0.5, 0.5 + 0.1 * i, p.numel(),
                                   dtype=torch.float64).reshape(p.shape))
    q = torch.linspace(-1, 1, 36, dtype=torch.float64).reshape(3, 2, 6).requires_grad_()
    k = torch.linspace(-1, 2, 48, dtype=torch.float64).reshape(4, 2, 6)
    mask = torch.tensor([[False, False, True, False], [False, False, False, False]])
    am = torch.zeros(3, 4, dtype=torch.float64)
    am[0, 1] = -1.0
    out, w = m(q, k, k, key_padding_mask=mask, attn_mask=am)
    assert list(out.shape) == [3, 2, 6] and list(w.shape) == w_shape
    assert out.sum().item() == pytest.approx(out_sum, abs=1e-7)
    assert (w * w).sum().item() == pytest.approx(w_sq, abs=1e-7)
    out.pow(2).sum().backward()
    assert q.grad.abs().sum().item() == pytest.approx(q_grad, abs=1e-6)
    assert m.in_proj_weight.grad.abs().sum().item() == pytest.approx(w_grad, abs=1e-5)
    if bk_grad is not None:
        assert m.bias_k.grad.abs().sum().item() == pytest.approx(bk_grad, abs=1e-6)


def test_bias_kv_initialisation_is_pytorchs():
    torch.manual_seed(3)
    m = torch.nn.MultiheadAttention(6, 2, add_bias_kv=True)
    got = [round(v, 6) for v in m.bias_k.flatten().tolist()]
    assert got == [0.318416, 0.458415, -0.061574, -0.001122, 0.722818, 0.06236]
    assert round(float(m.in_proj_weight.detach().sum()), 6) == -2.201065
