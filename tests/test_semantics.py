"""Autograd semantics as PyTorch documents them."""
from __future__ import annotations

import numpy as np
import pytest

import tapegrad as torch
from tapegrad.autograd import Function


def test_requires_grad_keyword_attribute_setter_and_propagation():
    a = torch.ones(3)
    assert not a.requires_grad and a.is_leaf
    a.requires_grad = True
    b = torch.zeros(2, requires_grad=True)
    c = a * 2
    assert c.requires_grad and not c.is_leaf and b.is_leaf
    assert not (torch.ones(2) * 3).requires_grad


def test_grad_is_none_until_backward_then_accumulates_and_can_be_reset():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    assert x.grad is None
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2, 4])
    first = x.grad
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5, 7])
    assert x.grad is first  # accumulated in place, as AccumulateGrad does
    x.grad.zero_()
    np.testing.assert_allclose(x.grad.numpy(), [0, 0])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3, 3])


def test_grad_of_shared_inputs_is_not_aliased():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = torch.tensor([1.0, 2.0], requires_grad=True)
    (x + y).sum().backward()
    x.grad.zero_()
    np.testing.assert_allclose(y.grad.numpy(), [1, 1])


def test_retain_grad_and_hooks():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    seen = []
    y.register_hook(lambda g: seen.append(g.clone()))
    handle = x.register_hook(lambda g: g * 0 + 7)
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [6, 12])
    np.testing.assert_allclose(seen[0].numpy(), [6, 12])
    np.testing.assert_allclose(x.grad.numpy(), [7, 7])  # the hook replaced the gradient
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3, 3])


def test_hook_replacing_a_non_leaf_gradient_changes_upstream():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: g * 10)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [20, 20])


@pytest.mark.parametrize("expr, name", [
    (lambda x: x + 1, "AddBackward0"), (lambda x: x * 2, "MulBackward0"),
    (lambda x: x - 1, "SubBackward0"), (lambda x: 1 - x, "RsubBackward1"),
    (lambda x: x / 2, "DivBackward0"), (lambda x: x ** 2, "PowBackward0"),
    (lambda x: x.mean(), "MeanBackward0"), (lambda x: x.sum(), "SumBackward0"),
    (lambda x: x.sum(0), "SumBackward1"), (lambda x: x.mean(1), "MeanBackward1"),
    (lambda x: x @ x, "MmBackward0"), (lambda x: x.view(4), "ViewBackward0"),
    (lambda x: x.t(), "TBackward0"), (lambda x: x.transpose(0, 1), "TransposeBackward0"),
    (lambda x: x.exp(), "ExpBackward0"), (lambda x: x.tanh(), "TanhBackward0"),
    (lambda x: x.relu(), "ReluBackward0"), (lambda x: x[0], "SelectBackward0"),
    (lambda x: x[:1], "SliceBackward0"), (lambda x: x.unsqueeze(0), "UnsqueezeBackward0"),
    (lambda x: -x, "NegBackward0"), (lambda x: x.clone(), "CloneBackward0"),
    (lambda x: x.double(), "ToCopyBackward0"), (lambda x: x.max(), "MaxBackward1"),
    (lambda x: x.max(0)[0], "MaxBackward0"), (lambda x: torch.cat([x, x]), "CatBackward0"),
])
def test_grad_fn_names(expr, name):
    x = torch.ones(2, 2, requires_grad=True)
    assert type(expr(x).grad_fn).__name__ == name


def test_next_functions_and_accumulate_grad():
    a = torch.ones(2, requires_grad=True)
    b = a * 2
    c = b + torch.ones(2)
    (node, _), (none, _) = c.grad_fn.next_functions
    assert type(node).__name__ == "MulBackward0" and none is None
    leaf = node.next_functions[0][0]
    assert type(leaf).__name__ == "AccumulateGrad" and leaf.variable is a
    assert a.grad_fn is None


def test_backward_on_non_scalar_needs_gradient():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    y.backward(torch.tensor([1.0, 0.1, 0.01]))
    np.testing.assert_allclose(x.grad.numpy(), [2, 0.2, 0.02], rtol=1e-6)


def test_retain_graph_allows_a_second_backward():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4, 8])


def test_detach_shares_data_and_stops_gradient():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None
    d[0] = 5.0
    assert x[0].item() == 5.0
    y = x * 2
    y.detach_()
    assert y.grad_fn is None and not y.requires_grad


def test_grad_mode_context_decorator_and_call():
    x = torch.ones(2, requires_grad=True)
    with torch.no_grad():
        assert not (x * 2).requires_grad
        with torch.enable_grad():
            assert (x * 2).requires_grad

    @torch.no_grad()
    def f():
        return (x * 2).requires_grad

    assert f() is False and torch.is_grad_enabled()
    torch.set_grad_enabled(False)
    assert not torch.is_grad_enabled()
    torch.set_grad_enabled(True)
    with torch.set_grad_enabled(False):
        assert not torch.is_grad_enabled()
    assert torch.is_grad_enabled()


def test_autograd_grad_and_allow_unused():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = torch.tensor([3.0], requires_grad=True)
    (gx,) = torch.autograd.grad((x * x).sum(), x)
    np.testing.assert_allclose(gx.numpy(), [2, 4])
    assert x.grad is None  # grad() leaves .grad alone
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        torch.autograd.grad((x * x).sum(), [x, y])
    gx, gy = torch.autograd.grad((x * x).sum(), [x, y], allow_unused=True)
    assert gy is None
    (gz,) = torch.autograd.grad(x * 2, x, grad_outputs=torch.ones(2))
    np.testing.assert_allclose(gz.numpy(), [2, 2])


def test_autograd_backward_function():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    torch.autograd.backward([(x * x).sum()])
    np.testing.assert_allclose(x.grad.numpy(), [2, 4])


class Cube(Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x * x * x * scale

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        assert ctx.needs_input_grad == (True, False)
        return g * 3 * x * x * ctx.scale, None


def test_custom_function():
    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    y = Cube.apply(x, 2.0)
    assert type(y.grad_fn).__name__ == "CubeBackward"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6, 24])
    assert torch.autograd.gradcheck(lambda t: Cube.apply(t, 2.0), [x])


def test_custom_function_wrong_gradient_count():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g

    x = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        Bad.apply(x, x).sum().backward()


def test_inplace_ops_bump_versions_and_record():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    v0 = y._version
    y.add_(1)
    y.mul_(x)
    y -= 1
    y /= 2
    y.clamp_(0, 100)
    assert y._version == v0 + 5
    y.sum().backward()
    # y = ((x + 1) * x - 1) / 2, so dy/dx = (2x + 1) / 2
    np.testing.assert_allclose(x.grad.numpy(), [1.5, 2.5])


def test_inplace_zero_fill_copy():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    s = torch.tensor([5.0, 6.0], requires_grad=True)
    y = x * 2
    y.zero_()
    z = x * 2
    z.copy_(s)
    (y + z).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 0])
    np.testing.assert_allclose(s.grad.numpy(), [1, 1])
    w = torch.empty(3)
    w.fill_(2.5)
    assert w.tolist() == [2.5, 2.5, 2.5]


def test_setitem_and_inplace_through_views_reach_the_base():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    v = torch.tensor([10.0, 20.0], requires_grad=True)
    y = x * 1
    y[0] = v
    y[:, 1] += 1
    row = y[1]
    row.mul_(3)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0], [3, 3]])
    np.testing.assert_allclose(v.grad.numpy(), [1, 1])


def test_views_share_memory_and_versions():
    x = torch.arange(6.0)
    v = x.view(2, 3)
    v[0, 0] = 100.0
    assert x[0].item() == 100.0 and x._version == v._version == 1
    t = torch.from_numpy(np.zeros(3))
    t.numpy()[1] = 7
    assert t[1].item() == 7.0


def test_dtypes_and_promotion():
    assert torch.tensor([1.0]).dtype is torch.float32
    assert torch.tensor([1]).dtype is torch.int64
    assert torch.tensor([True]).dtype is torch.bool
    assert torch.float is torch.float32 and torch.double is torch.float64
    assert torch.long is torch.int64
    assert (torch.tensor([1, 2]) / 2).dtype is torch.float32
    assert (torch.tensor([1, 2]) * 2.5).dtype is torch.float32
    assert (torch.tensor([1.0]) + torch.tensor(1.0, dtype=torch.float64)).dtype is torch.float32
    assert (torch.tensor([1.0]) + torch.tensor([1.0], dtype=torch.float64)).dtype is torch.float64
    assert (torch.tensor([1, 2]) + torch.tensor(1.5, dtype=torch.float64)).dtype is torch.float64
    assert (torch.tensor([1.0]) > 0).dtype is torch.bool
    x = torch.tensor([1.0], requires_grad=True)
    y = x.double() * torch.ones(1, dtype=torch.float64)
    y.sum().backward()
    assert x.grad.dtype is torch.float32


def test_creation_and_interop():
    torch.manual_seed(0)
    a = torch.rand(2, 3)
    torch.manual_seed(0)
    assert torch.equal(a, torch.rand(2, 3))
    assert torch.zeros(2, 3).shape == (2, 3) and torch.ones(4).sum().item() == 4
    assert torch.full((2,), 7).dtype is torch.int64
    assert torch.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert torch.linspace(0, 1, 5).tolist()[2] == 0.5
    assert torch.eye(3).sum().item() == 3
    assert torch.randint(0, 3, (10,)).max().item() < 3
    assert torch.zeros_like(a).shape == a.shape and torch.ones_like(a).dtype is a.dtype
    assert torch.empty(2, 2).shape == (2, 2) and torch.randn(3, 4).dtype is torch.float32
    arr = np.arange(3.0)
    t = torch.from_numpy(arr)
    assert t.numpy() is arr and np.asarray(t) is arr
    assert torch.as_tensor(arr).numpy() is arr
    x = torch.tensor([[1.5, 2.0]])
    assert x.item if False else x[0, 0].item() == 1.5
    assert float(x[0, 0]) == 1.5 and int(x[0, 1]) == 2 and bool(x[0, 0])
    assert len(x) == 1 and [r.shape for r in x] == [(2,)]
    assert x.size() == (1, 2) and x.size(1) == 2 and x.dim() == 2 and x.numel() == 2
    assert x.T.shape == (2, 1) and x.long().dtype is torch.int64
    assert x.to(torch.float64).dtype is torch.float64 and x.to("cpu") is x
    assert str(x.device) == "cpu" and not torch.cuda.is_available()
    assert x.clone().data_ptr() != x.data_ptr() and x.contiguous() is x
    assert x.tolist() == [[1.5, 2.0]]


def test_ops_accept_numpy_spellings_and_scalars_on_either_side():
    x = torch.arange(6.0).reshape(2, 3)
    assert torch.equal(x.sum(axis=1, keepdims=True), x.sum(dim=1, keepdim=True))
    assert torch.equal(2 - x, -(x - 2)) and torch.equal(2 / (x + 1), (x + 1).reciprocal() * 2)
    assert torch.equal(2 ** x, torch.pow(2, x))
    values, indices = x.max(dim=1)
    assert values.tolist() == [2, 5] and indices.tolist() == [2, 2]
    assert x.argmax().item() == 5 and x.argmin(1).tolist() == [0, 0]
    assert [t.shape for t in x.split(2, 1)] == [(2, 2), (2, 1)]
    assert [t.shape for t in x.chunk(3, 1)] == [(2, 1)] * 3
    assert torch.stack([x, x]).shape == (2, 2, 3) and torch.cat([x, x], 1).shape == (2, 6)
    assert (x == x).all() and (x != x + 1).all() and torch.eq(x, x).all()


def test_grad_of_a_graph_recorded_before_another_backward():
    # After a backward, a leaf gets a fresh leaf record on its next use; grad() of a graph
    # that still reads the older record must find it.
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    (x * 3).sum().backward()
    z = (x * 5).sum()  # a new record for x
    (gy,) = torch.autograd.grad(y, x, retain_graph=True)
    (gz,) = torch.autograd.grad(z, x)
    np.testing.assert_allclose(gy.numpy(), [2, 4])
    np.testing.assert_allclose(gz.numpy(), [5, 5])
    both = (x * x).sum() + y  # one graph reading two leaf records of x
    (g,) = torch.autograd.grad(both, x)
    np.testing.assert_allclose(g.numpy(), [4, 8])


def test_legacy_constructors_as_pytorch():
    assert torch.Tensor([1, 2]).dtype is torch.float32 and torch.Tensor([1, 2]).tolist() == [1, 2]
    assert torch.Tensor(2, 3).shape == (2, 3) and torch.Tensor().shape == (0,)
    assert torch.LongTensor([1, 2]).dtype is torch.int64
    assert torch.DoubleTensor([1]).dtype is torch.float64 and torch.FloatTensor(2).shape == (2,)
    src = torch.tensor([1, 2])
    assert torch.Tensor(src).numpy() is src.numpy()


# PyTorch 2.13's linspace, recorded: symmetric halves, each value one fused multiply-add.
LINSPACE_TORCH = {
    ("float64", -1, 1, 12): [-1.0, -0.8181818181818181, -0.6363636363636364, -0.45454545454545453,
                             -0.2727272727272727, -0.09090909090909088, 0.09090909090909088,
                             0.2727272727272727, 0.45454545454545453, 0.6363636363636364,
                             0.8181818181818181, 1.0],
    ("float32", 0.1, 0.5, 7): [0.10000000149011612, 0.1666666716337204, 0.23333334922790527,
                               0.29999998211860657, 0.36666667461395264, 0.4333333373069763,
                               0.5],
    ("int64", -3.5, 2.25, 6): [-3, -2, -1, 0, 1, 2],
}


@pytest.mark.parametrize("key", list(LINSPACE_TORCH), ids=str)
def test_linspace_is_pytorchs_to_the_bit(key):
    dtype, start, end, steps = key
    got = torch.linspace(start, end, steps, dtype=getattr(torch, dtype)).tolist()
    assert got == LINSPACE_TORCH[key]


def test_linspace_halves_are_symmetric():
    x = torch.linspace(-1, 1, 1000, dtype=torch.float64).numpy()
    np.testing.assert_array_equal(x, -x[::-1])
