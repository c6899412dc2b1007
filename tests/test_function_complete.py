"""autograd.Function complete (issue 14, part 5): several outputs, mark_dirty,
mark_non_differentiable, set_materialize_grads, once_differentiable, setup_context, double
backward through saved outputs; saved-tensor hooks; grad_fn's saved tensors and hooks.

Expected values were recorded with PyTorch 2.14 (CPU) where a formula is not obvious."""
import math

import numpy as np
import pytest

import tapegrad as torch
from tapegrad.autograd import Function, grad, gradcheck, gradgradcheck, once_differentiable


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


def test_double_backward_through_a_saved_output_is_not_a_constant():
    # The example: PyTorch gives 17.4964 = e + 2 e^2.
    x = torch.tensor(1.0, requires_grad=True)
    y = Exp.apply(x)
    (g,) = grad(y, x, create_graph=True)
    (y + g ** 2).backward()
    assert x.grad.item() == pytest.approx(math.e + 2 * math.e ** 2, rel=1e-6)
    assert x.grad.grad_fn is None


def test_saved_output_gradgradcheck():
    x = torch.tensor(np.linspace(-1, 1, 5), requires_grad=True)
    assert gradcheck(Exp.apply, (x,))
    assert gradgradcheck(Exp.apply, (x,))


class SinAndTriple(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin(), x * 3

    @staticmethod
    def backward(ctx, ga, gb):
        (x,) = ctx.saved_tensors
        return ga * x.cos() + gb * 3


def test_several_outputs():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    a, b = SinAndTriple.apply(x)
    assert a.grad_fn is b.grad_fn and type(a.grad_fn).__name__ == "SinAndTripleBackward"
    (a.sum() + 2 * b.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), np.cos([1.0, 2.0]) + 6, rtol=1e-6)
    # Only one output used: the other's gradient is materialized as zeros.
    x.grad = None
    a, b = SinAndTriple.apply(x)
    a.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.cos([1.0, 2.0]), rtol=1e-6)


def test_several_outputs_gradcheck_in_float64():
    x = torch.tensor([0.3, -1.2, 2.0], dtype=torch.float64, requires_grad=True)
    assert gradcheck(lambda t: SinAndTriple.apply(t), (x,))
    assert gradgradcheck(lambda t: SinAndTriple.apply(t), (x,))


class TwoSaved(Function):
    """Saves both of its outputs: the second derivative must flow through each."""

    @staticmethod
    def forward(ctx, x):
        e, s = x.exp(), x.sin()
        ctx.save_for_backward(e, s, x)
        return e, s

    @staticmethod
    def backward(ctx, ge, gs):
        e, s, x = ctx.saved_tensors
        return ge * e + gs * x.cos()


def test_double_backward_through_several_saved_outputs():
    x = torch.tensor([0.5, -0.7], dtype=torch.float64, requires_grad=True)
    assert gradgradcheck(lambda t: TwoSaved.apply(t), (x,))
    e, s = TwoSaved.apply(x)
    (g,) = grad(e.sum(), x, create_graph=True)
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.5, -0.7]), rtol=1e-12)


class AddOne(Function):
    @staticmethod
    def forward(ctx, x):
        x.add_(1)
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, g):
        return g * 2


def test_mark_dirty():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1
    c = AddOne.apply(b)
    assert c is b
    assert b.tolist() == [2.0, 3.0] and b._version == 1
    assert type(b.grad_fn).__name__ == "AddOneBackward"
    c.sum().backward()
    assert a.grad.tolist() == [2.0, 2.0]


def test_mark_dirty_errors():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad has been used in "
                                           "an in-place operation."):
        AddOne.apply(a)

    class Dirty(Function):
        @staticmethod
        def forward(ctx, x, y):
            x.mul_(2)
            ctx.mark_dirty(x)
            return y.clone()

        @staticmethod
        def backward(ctx, g):
            return None, g

    with pytest.raises(RuntimeError, match="Some elements marked as dirty during the forward "
                                           "method were not returned as output"):
        Dirty.apply(torch.ones(2, requires_grad=True) * 1, torch.ones(2, requires_grad=True))


class Sort(Function):
    seen = []

    @staticmethod
    def forward(ctx, x):
        order = np.argsort(x.detach().numpy(), kind="stable")
        v = torch.tensor(x.detach().numpy()[order])
        i = torch.tensor(order)
        ctx.mark_non_differentiable(i)
        ctx.save_for_backward(i)
        return v, i

    @staticmethod
    def backward(ctx, gv, gi):
        Sort.seen.append(gi)
        (i,) = ctx.saved_tensors
        r = torch.zeros_like(gv)
        r[i] = gv
        return r


def test_mark_non_differentiable():
    x = torch.tensor([3.0, 1.0, 2.0], requires_grad=True)
    v, i = Sort.apply(x)
    assert v.requires_grad and not i.requires_grad
    assert i.tolist() == [1, 2, 0]
    (v * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [3.0, 1.0, 2.0]
    # The non-differentiable output's gradient is materialized as zeros of its dtype.
    assert Sort.seen[-1].tolist() == [0, 0, 0] and Sort.seen[-1].dtype == torch.int64


def test_set_materialize_grads_false_passes_none():
    seen = []

    class M(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            seen.append((g1, g2))
            return g1 * 2 if g1 is not None else g2 * 3

    x = torch.tensor([1.0], requires_grad=True)
    p, q = M.apply(x)
    q.sum().backward()
    assert seen[0][0] is None and seen[0][1].tolist() == [1.0]
    assert x.grad.tolist() == [3.0]


def test_non_tensor_output_gets_none():
    seen = []

    class N(Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone(), 3

        @staticmethod
        def backward(ctx, g, g2):
            seen.append(g2)
            return g

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    o, k = N.apply(x)
    assert k == 3
    o.sum().backward()
    assert seen == [None] and x.grad.tolist() == [1.0, 1.0]


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 2

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x * g


def test_once_differentiable():
    x = torch.tensor([1.5], requires_grad=True)
    (g,) = grad(Square.apply(x).sum(), x, create_graph=True)
    # The seed does not require grad: PyTorch returns the plain result, no history.
    assert g.tolist() == [3.0] and not g.requires_grad
    gout = torch.ones(1, requires_grad=True)
    (g,) = grad(Square.apply(x), x, grad_outputs=gout, create_graph=True)
    assert g.requires_grad and type(g.grad_fn).__name__ == "DelayedError"
    with pytest.raises(RuntimeError, match="trying to differentiate twice a function that was "
                                           "marked with @once_differentiable"):
        g.sum().backward()


class Scale(Function):
    @staticmethod
    def forward(x, k):
        return x * k

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, k = inputs
        ctx.k = k
        ctx.save_for_backward(x)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.k, None


def test_setup_context_style():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = Scale.apply(x, 3.0)
    assert y.grad_fn.k == 3.0  # a Function's node reads through to its ctx
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_wrong_number_of_gradients():
    class W(Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            return g, g

    with pytest.raises(RuntimeError, match=r"function WBackward returned an incorrect number of "
                                           r"gradients \(expected 1, got 2\)"):
        W.apply(torch.ones(2, requires_grad=True)).sum().backward()


def test_several_outputs_under_the_jit():
    with torch.backend("jit"):
        for _ in range(3):
            x = torch.tensor([1.0, 2.0], requires_grad=True)
            a, b = SinAndTriple.apply(x * 2)
            ((a * a).sum() + b.sum()).backward()
            expect = 2 * (2 * np.sin([2.0, 4.0]) * np.cos([2.0, 4.0]) + 3)
            np.testing.assert_allclose(x.grad.numpy(), expect, rtol=1e-5)


# ---- saved-tensor hooks --------------------------------------------------------------------
def test_saved_tensors_hooks_see_every_saved_tensor():
    packs, unpacks = [], []

    def pack(t):
        packs.append(t)
        return t * 1

    def unpack(t):
        unpacks.append(t)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sin()
    # mul saves both operands, sin its input: three, as PyTorch; a saved leaf is the leaf.
    assert len(packs) == 3 and packs[0] is x
    y.sum().backward()
    assert len(unpacks) == 3
    np.testing.assert_allclose(x.grad.numpy(), np.cos([1.0, 4.0]) * 2 * np.array([1.0, 2.0]),
                               rtol=1e-6)


def test_unpack_result_is_what_backward_uses():
    # An unpack that returns something else changes the gradient: proof that it is used.
    with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t * 0 + 1):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x * torch.tensor([5.0, 7.0])
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_saved_tensors_hooks_on_a_custom_function():
    log = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: (log.append("pack"), t)[1],
                                                  lambda t: (log.append("unpack"), t)[1]):
        x = torch.tensor([0.5], requires_grad=True)
        y = Exp.apply(x)
    assert log == ["pack"]
    y.backward()
    assert log == ["pack", "unpack"]
    assert x.grad.item() == pytest.approx(math.exp(0.5))


def test_save_on_cpu_and_disable():
    with torch.autograd.graph.save_on_cpu():
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
    y.backward()
    assert x.grad.tolist() == [2.0, 4.0]
    with torch.autograd.graph.disable_saved_tensors_hooks("no hooks here"):
        with pytest.raises(RuntimeError, match="no hooks here"):
            with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
    # Leaving the contexts leaves nothing active: a plain op packs nothing.
    from tapegrad.graph import ACTIVE
    assert ACTIVE == []


# ---- grad_fn: saved tensors and hooks ------------------------------------------------------
def test_saved_self_other_result():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    w = torch.tensor([3.0, 4.0], requires_grad=True)
    y = x * w
    assert y.grad_fn._saved_self is x and y.grad_fn._saved_other is w
    z = y.exp()
    r = z.grad_fn._saved_result
    assert r.tolist() == z.tolist() and r is not z
    assert type(r.grad_fn).__name__ == "ExpBackward0"
    with pytest.raises(AttributeError, match="'ExpBackward0' object has no attribute "
                                             "'_saved_self'"):
        z.grad_fn._saved_self  # noqa: B018
    assert repr(y.grad_fn._raw_saved_self) == "<torch._C._autograd.SavedTensor object>"
    z.sum().backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second"):
        y.grad_fn._saved_self  # noqa: B018


def test_raw_saved_register_hooks():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    y.grad_fn._raw_saved_self.register_hooks(lambda t: t, lambda t: t * 0 + 1)
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 3.0]  # PyTorch 2.14's value


def test_grad_fn_prehook_and_hook():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    w = torch.tensor([3.0, 4.0], requires_grad=True)
    y = x * w
    z = y.exp()
    seen = {}

    def pre(grad_outputs):
        seen["pre"] = grad_outputs[0].tolist()
        return (grad_outputs[0] * 10,)

    def post(grad_inputs, grad_outputs):
        seen["post_in"] = [g.tolist() for g in grad_inputs]
        seen["post_out"] = grad_outputs[0].tolist()

    h1 = y.grad_fn.register_prehook(pre)
    y.grad_fn.register_hook(post)
    with torch.backend("jit"):  # a hooked record is a boundary: the JIT runs the hooks too
        z.sum().backward(retain_graph=True)
    ez = np.exp([3.0, 8.0])
    np.testing.assert_allclose(seen["pre"], ez, rtol=1e-6)
    np.testing.assert_allclose(seen["post_out"], 10 * ez, rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), 10 * ez * [3.0, 4.0], rtol=1e-6)
    np.testing.assert_allclose(w.grad.numpy(), 10 * ez * [1.0, 2.0], rtol=1e-6)
    h1.remove()
    x.grad = w.grad = None
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), ez * [3.0, 4.0], rtol=1e-6)


def test_grad_fn_hook_replaces_grad_inputs():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x.sin()
    y.grad_fn.register_hook(lambda gi, go: (torch.ones(2) * 7,))
    y.sum().backward()
    assert x.grad.tolist() == [7.0, 7.0]
