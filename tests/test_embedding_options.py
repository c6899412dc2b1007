"""Embedding's scale_grad_by_freq (and sparse=True, whose gradient tapegrad keeps dense),
against PyTorch 2.13's gradients for the same weights and indices."""
from __future__ import annotations

import pytest

import tapegrad as torch

# options -> weight.grad flattened, as PyTorch 2.13 computed it (sparse densified)
PYTORCH = {
    "scale": (dict(scale_grad_by_freq=True),
              [0.45652174, 0.5, 0.54347826, 0.52173913, 0.56521739, 0.60869565, 0.34782609,
               0.39130435, 0.43478261, 0.0, 0.0, 0.0, 0.58695652, 0.63043478, 0.67391304]),
    "sparse": (dict(sparse=True),
               [0.91304348, 1.0, 1.08695652, 0.52173913, 0.56521739, 0.60869565, 1.04347826,
                1.17391304, 1.30434783, 0.0, 0.0, 0.0, 1.17391304, 1.26086957, 1.34782609]),
    "scale_padding": (dict(scale_grad_by_freq=True, padding_idx=0),
                      [0.0, 0.0, 0.0, 0.52173913, 0.56521739, 0.60869565, 0.34782609,
                       0.39130435, 0.43478261, 0.0, 0.0, 0.0, 0.58695652, 0.63043478,
                       0.67391304]),
}


@pytest.mark.parametrize("name", list(PYTORCH))
def test_embedding_gradients_as_pytorch(name):
    options, expected = PYTORCH[name]
    e = torch.nn.Embedding(5, 3, dtype=torch.float64, **options)
    with torch.no_grad():
        e.weight.copy_(torch.linspace(-1, 1, 15, dtype=torch.float64).reshape(5, 3))
    idx = torch.tensor([[0, 2, 2, 4], [1, 2, 4, 0]])
    out = e(idx)
    assert out.detach().sum().item() == pytest.approx(-1.28571429, abs=1e-8)
    (out * torch.linspace(0, 1, 24, dtype=torch.float64).reshape(2, 4, 3)).sum().backward()
    assert e.weight.grad.flatten().tolist() == pytest.approx(expected, abs=1e-8)
