"""Device and dtype odds (issue 13, point 8), with PyTorch 2.13's behaviour (CPU-only build)."""
from __future__ import annotations

import numpy as np
import pytest

import tapegrad as torch


def test_cuda_device_builds_and_prints_but_cannot_be_used():
    d = torch.device("cuda")
    assert repr(d) == "device(type='cuda')" and str(d) == "cuda" and d.type == "cuda"
    d1 = torch.device("cuda:1")
    assert str(d1) == "cuda:1" and d1.index == 1 and repr(d1) == "device(type='cuda', index=1)"
    assert torch.device("cuda", 0) == torch.device("cuda:0") != torch.device("cpu")
    assert torch.device("cpu") == "cpu" and torch.ones(1).device == torch.device("cpu")
    assert len({torch.device("cuda:0"), torch.device("cuda", 0)}) == 1
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda"):
        torch.device("gpu")
    for use in (lambda: torch.zeros(2, device="cuda"), lambda: torch.zeros(2).to("cuda"),
                lambda: torch.zeros(2).to(device=d), lambda: torch.zeros(2).cuda(),
                lambda: torch.randn(2, device=d1), lambda: torch.nn.Linear(2, 2).to("cuda"),
                lambda: torch.nn.Linear(2, 2).cuda(),
                lambda: torch.zeros(2).type("torch.cuda.FloatTensor")):
        with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
            use()
    assert torch.zeros(2, device="cpu").device == "cpu"
    m = torch.nn.Linear(2, 2)
    assert m.to("cpu") is m and m.to(torch.device("cpu"), torch.float64).weight.dtype == \
        torch.float64


def test_default_device():
    assert torch.get_default_device() == torch.device("cpu")
    try:
        torch.set_default_device("cuda")
        assert torch.get_default_device() == torch.device("cuda")
        with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
            torch.zeros(2)
        torch.set_default_device("cpu")
        assert torch.zeros(2).shape == (2,)
    finally:
        torch.set_default_device(None)


def test_default_dtype_reaches_factories_and_layers():
    try:
        torch.set_default_dtype(torch.float64)
        assert torch.get_default_dtype() == torch.float64
        for t in (torch.zeros(1), torch.ones(1), torch.empty(1), torch.rand(2), torch.randn(2),
                  torch.tensor([1.0]), torch.tensor(1.5), torch.arange(0.0, 2),
                  torch.full((1,), 1.5), torch.linspace(0, 1, 3), torch.normal(0.0, 1.0, (2,)),
                  torch.nn.Linear(2, 2).weight):
            assert t.dtype == torch.float64
        # PyTorch's float64 draws (recorded from torch 2.13)
        torch.manual_seed(0)
        assert torch.rand(2).tolist() == [0.9700530018065531, 0.707819864399788]
        assert torch.nn.Linear(2, 1).weight.tolist() == [[-0.05744119269283829, 0.595027081222347]]
    finally:
        torch.set_default_dtype(torch.float32)
    assert torch.zeros(1).dtype == torch.float32


def test_type_conversions():
    x = torch.zeros(2)
    assert x.type() == "tapegrad.FloatTensor"
    assert x.type(torch.DoubleTensor).dtype == torch.float64
    assert x.type(torch.LongTensor).dtype == torch.int64
    assert x.type("torch.DoubleTensor").dtype == torch.float64
    assert x.type(torch.float64).dtype == torch.float64


def test_finfo_iinfo():
    f = torch.finfo(torch.float32)
    assert repr(f) == ("finfo(resolution=1e-06, min=-3.40282e+38, max=3.40282e+38, "
                       "eps=1.19209e-07, smallest_normal=1.17549e-38, tiny=1.17549e-38, "
                       "dtype=float32)")
    assert torch.finfo().eps == f.eps == float(np.finfo(np.float32).eps) and f.bits == 32
    assert torch.finfo(torch.float64).tiny == 2.2250738585072014e-308
    assert repr(torch.finfo(torch.float16)) == (
        "finfo(resolution=0.001, min=-65504, max=65504, eps=0.000976562, "
        "smallest_normal=6.10352e-05, tiny=6.10352e-05, dtype=float16)")
    i = torch.iinfo(torch.int32)
    assert repr(i) == "iinfo(min=-2.14748e+09, max=2.14748e+09, dtype=int32)"
    assert torch.iinfo(torch.int64).bits == 64 and torch.iinfo(torch.uint8).max == 255
    assert torch.iinfo(torch.int8).dtype == "int8" and f.dtype == "float32"
    with pytest.raises(TypeError, match="requires a floating point input type"):
        torch.finfo(torch.int32)
    with pytest.raises(TypeError, match="requires an integer input type"):
        torch.iinfo(torch.float32)


def test_size_keyword_on_factories():
    assert torch.zeros(size=(2, 3)).shape == (2, 3)
    assert torch.ones(size=(2,)).shape == (2,)
    assert torch.empty(size=[4]).shape == (4,)
    assert torch.rand(size=(2, 2)).shape == (2, 2)
    assert torch.randn(size=(3,)).shape == (3,)
    assert torch.full(size=(2,), fill_value=3.0).tolist() == [3.0, 3.0]
    assert torch.zeros(2, pin_memory=False).shape == (2,)
    with pytest.raises(TypeError):
        torch.zeros(2, size=(3,))


def test_strides_contiguous_element_size():
    x = torch.ones(2, 3)
    assert x.stride() == (3, 1) and x.T.stride() == (1, 3) and x.stride(0) == 3
    c = x.T.contiguous()
    assert c.stride() == (2, 1) and c.is_contiguous() and not x.T.is_contiguous()
    assert x.contiguous() is x
    w = torch.ones(2, 3, requires_grad=True)
    y = w.T.contiguous()
    assert y.grad_fn.name() == "CloneBackward0"
    (y * torch.arange(6.0).reshape(3, 2)).sum().backward()
    assert w.grad.tolist() == [[0.0, 2.0, 4.0], [1.0, 3.0, 5.0]]
    assert x.element_size() == 4 and torch.ones(1, dtype=torch.float64).element_size() == 8
    assert torch.ones(1, dtype=torch.int16).element_size() == 2


def test_new_factories_and_inference_mode():
    x = torch.ones(2, 3)
    assert x.new_zeros(2).dtype == torch.float32 and x.new_ones((3,)).tolist() == [1.0] * 3
    assert x.new_full((2,), 3).tolist() == [3.0, 3.0] and x.new_empty(4).shape == (4,)
    assert x.new_tensor([1, 2]).dtype == torch.float32
    assert x.new_ones(2, dtype=torch.int64).dtype == torch.int64
    with torch.inference_mode():
        y = torch.ones(2, requires_grad=True) * 2
    assert not y.requires_grad


def test_axis_for_dim_where_pytorch_takes_it():
    x = torch.arange(6.0).reshape(2, 3)
    assert x.softmax(axis=1).shape == (2, 3)
    assert torch.cumsum(x, axis=0).tolist() == [[0.0, 1.0, 2.0], [3.0, 5.0, 7.0]]
    assert x.unsqueeze(axis=0).shape == (1, 2, 3)
    assert torch.squeeze(torch.ones(1, 2), axis=0).shape == (2,)
    assert torch.stack([x, x], axis=0).shape == (2, 2, 3)
    assert x.logsumexp(axis=0).shape == (3,) and x.any(axis=0).tolist() == [True] * 3
    assert x.sort(axis=0, descending=True).values.tolist() == [[3.0, 4.0, 5.0], [0.0, 1.0, 2.0]]
    assert x.gather(axis=1, index=torch.tensor([[0], [2]])).tolist() == [[0.0], [5.0]]
    assert x.sum(axis=0).tolist() == [3.0, 5.0, 7.0] and torch.cat([x, x], axis=1).shape == (2, 6)
    assert x.size(axis=1) == 3
    with pytest.raises(TypeError, match="multiple values for argument 'dim'"):
        x.softmax(axis=1, dim=1)
    with pytest.raises(TypeError):
        x.split(1, axis=0)  # Python-level in PyTorch: no axis= there either
    w = torch.ones(2, 3, requires_grad=True)
    (w.softmax(axis=1) * torch.arange(3.0)).sum().backward()
    assert w.grad.shape == (2, 3)
