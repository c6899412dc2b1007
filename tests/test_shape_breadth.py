"""Issue 13, point 3: shape and indexing ops. Values recorded from PyTorch 2.13 or against
numpy; gradients against finite differences in float64."""
from __future__ import annotations

import numpy as np
import pytest

import tapegrad
from tapegrad.autograd import gradcheck

R = np.random.default_rng(11).standard_normal((3, 4))
X = np.arange(12.0).reshape(3, 4)


def t(a, rg=False):
    return tapegrad.tensor(np.asarray(a, dtype=np.float64), requires_grad=rg)


def test_flips_rotations_narrow_unflatten():
    x = t(X)
    rot = [[3.0, 7.0, 11.0], [2.0, 6.0, 10.0], [1.0, 5.0, 9.0], [0.0, 4.0, 8.0]]  # torch
    assert tapegrad.rot90(x).tolist() == rot
    assert x.rot90(-1, (1, 0)).tolist() == rot
    for k in range(-2, 6):
        np.testing.assert_array_equal(tapegrad.rot90(x, k).numpy(), np.rot90(X, k))
    np.testing.assert_array_equal(x.fliplr().numpy(), np.fliplr(X))
    np.testing.assert_array_equal(tapegrad.flipud(x).numpy(), np.flipud(X))
    np.testing.assert_array_equal(x.narrow(1, -3, 2).numpy(), X[:, 1:3])
    assert tapegrad.unflatten(x, 1, (2, -1)).shape == (3, 2, 2)
    with pytest.raises(RuntimeError, match="Input must be >= 2-d."):
        tapegrad.fliplr(t([1.0]))
    with pytest.raises(RuntimeError, match=r"start \(3\) \+ length \(2\) exceeds dimension size"):
        x.narrow(0, 3, 2)
    y = t(R, True)
    assert gradcheck(lambda y: y.rot90() * y.fliplr().T + y.narrow(1, 1, 2).sum()
                     + y.unflatten(1, (2, 2)).sum(), [y])


def test_triangles_and_diag_embed():
    x = t(R, True)
    for k in (-1, 0, 2):
        np.testing.assert_array_equal(tapegrad.tril(x, k).detach().numpy(), np.tril(R, k))
        np.testing.assert_array_equal(x.triu(k).detach().numpy(), np.triu(R, k))
    assert x.tril().grad_fn.name() == "TrilBackward0"
    assert x.triu().grad_fn.name() == "TriuBackward0"
    d = tapegrad.diag_embed(t([[1.0, 2], [3, 4]]), 1, 0, 2)
    assert d.tolist() == [[[0.0, 1.0, 0.0], [0.0, 3.0, 0.0]], [[0.0, 0.0, 2.0], [0.0, 0.0, 4.0]],
                          [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]  # torch
    assert x.diag_embed().grad_fn.name() == "DiagEmbedBackward0"
    assert gradcheck(lambda x: x.tril(1) * x.triu(-1) + x.diag_embed(-1).sum(0)[:3, :4], [x])
    z = t(X)
    assert z.tril_() is z and z.tolist()[0] == [0.0, 0, 0, 0]


def test_meshgrid_cartesian_prod_block_diag():
    a, b = t([1.0, 2, 3], True), t([4.0, 5], True)
    gi = tapegrad.meshgrid(a, b, indexing="ij")
    gx = tapegrad.meshgrid(a, b, indexing="xy")
    for got, want in zip(gi + gx, np.meshgrid([1.0, 2, 3], [4.0, 5], indexing="ij")
                         + np.meshgrid([1.0, 2, 3], [4.0, 5], indexing="xy")):
        np.testing.assert_array_equal(got.detach().numpy(), want)
    with pytest.warns(UserWarning, match="it will be required to pass the indexing argument"):
        tapegrad.meshgrid(a, b)
    cp = tapegrad.cartesian_prod(a, b)
    assert cp.tolist() == [[1, 4], [1, 5], [2, 4], [2, 5], [3, 4], [3, 5]]
    bd = tapegrad.block_diag(tapegrad.tensor([[1, 2]]), tapegrad.tensor(3), t([4.0, 5]))
    assert bd.tolist() == [[1.0, 2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 3.0, 0.0, 0.0],
                           [0.0, 0.0, 0.0, 4.0, 5.0]]  # torch
    assert tapegrad.block_diag(tapegrad.tensor([[1, 2]]), tapegrad.tensor(3)).dtype == \
        tapegrad.int64
    assert gradcheck(lambda a, b: tapegrad.block_diag(a, b.reshape(2, 1), a[0])
                     + tapegrad.cartesian_prod(a, b).sum() + tapegrad.meshgrid(
                         a, b, indexing="xy")[0].sum(), [a, b])


# torch 2.13: scatter_reduce on [[1, 2, 3], [4, 5, 6]] along 0, index [[1, 0, 1], [1, 1, 1]],
# src [[2, 3, 4], [5, 6, 7]].
SCATTER_REDUCE = {
    ("sum", True): [[1.0, 5.0, 3.0], [11.0, 11.0, 17.0]],
    ("sum", False): [[1.0, 3.0, 3.0], [7.0, 6.0, 11.0]],
    ("prod", True): [[1.0, 6.0, 3.0], [40.0, 30.0, 168.0]],
    ("prod", False): [[1.0, 3.0, 3.0], [10.0, 6.0, 28.0]],
    ("mean", True): [[1.0, 2.5, 3.0], [3.6666666666666665, 5.5, 5.666666666666667]],
    ("mean", False): [[1.0, 3.0, 3.0], [3.5, 6.0, 5.5]],
    ("amax", True): [[1.0, 3.0, 3.0], [5.0, 6.0, 7.0]],
    ("amax", False): [[1.0, 3.0, 3.0], [5.0, 6.0, 7.0]],
    ("amin", True): [[1.0, 2.0, 3.0], [2.0, 5.0, 4.0]],
    ("amin", False): [[1.0, 3.0, 3.0], [2.0, 6.0, 4.0]],
}


@pytest.mark.parametrize("reduce,include_self", sorted(SCATTER_REDUCE))
def test_scatter_reduce_as_torch(reduce, include_self):
    x = t(np.arange(6.0).reshape(2, 3) + 1)
    idx = tapegrad.tensor([[1, 0, 1], [1, 1, 1]])
    src = t([[2.0, 3, 4], [5, 6, 7]])
    got = x.scatter_reduce(0, idx, src, reduce, include_self=include_self)
    np.testing.assert_allclose(got.numpy(), SCATTER_REDUCE[reduce, include_self], rtol=1e-15)


def test_scatter_index_family_values_names_gradients():
    x, src = t(X, True), t(np.arange(8.0).reshape(2, 4) + 10, True)
    idx = tapegrad.tensor([[0, 1, 2, 0], [2, 0, 0, 1]])
    s = tapegrad.scatter(x, 0, idx, src)
    assert s.tolist() == [[10.0, 15.0, 16.0, 13.0], [4.0, 11.0, 6.0, 17.0],
                          [14.0, 9.0, 12.0, 11.0]]  # torch
    assert s.grad_fn.name() == "ScatterBackward0"
    assert x.scatter(1, idx, 1.5).grad_fn.name() == "ScatterBackward1"
    sa = x.scatter_add(0, idx, src)
    assert sa.tolist() == [[10.0, 16.0, 18.0, 16.0], [4.0, 16.0, 6.0, 24.0],
                           [22.0, 9.0, 22.0, 11.0]]  # torch
    assert sa.grad_fn.name() == "ScatterAddBackward0"
    ia = tapegrad.index_add(x, 1, tapegrad.tensor([2, 0, 2]), t(np.ones((3, 3))), alpha=2)
    assert ia.tolist() == [[2.0, 1.0, 6.0, 3.0], [6.0, 5.0, 10.0, 7.0], [10.0, 9.0, 14.0, 11.0]]
    assert ia.grad_fn.name() == "IndexAddBackward0"
    ic = x.index_copy(1, tapegrad.tensor([3, 0]), t(np.zeros((3, 2))))
    np.testing.assert_array_equal(ic.detach().numpy()[:, [0, 3]], 0)
    assert ic.grad_fn.name() == "IndexCopyBackward0"
    assert x.index_fill(0, tapegrad.tensor([1]), -1.0).tolist()[1] == [-1.0] * 4
    assert tapegrad.take(x, tapegrad.tensor([[0, 5], [11, -1]])).tolist() == [[0, 5], [11, 11]]
    assert tapegrad.take_along_dim(x, tapegrad.tensor([[3], [0], [1]]), 1).tolist() == \
        [[3.0], [4.0], [9.0]]
    m = x > 8
    assert tapegrad.masked_select(x, m).tolist() == [9.0, 10.0, 11.0]
    assert x.masked_scatter(m, t([-1.0, -2, -3, -4])).tolist()[2] == [8.0, -1.0, -2.0, -3.0]
    assert tapegrad.nonzero(m).tolist() == [[2, 1], [2, 2], [2, 3]]
    assert [i.tolist() for i in m.nonzero(as_tuple=True)] == [[2, 2, 2], [1, 2, 3]]
    assert tapegrad.argwhere(m).tolist() == [[2, 1], [2, 2], [2, 3]]
    with pytest.raises(RuntimeError, match="index 5 is out of bounds for dimension 0 with size 3"):
        x.scatter(0, tapegrad.tensor([[5]]), 1.0)
    y, s2 = t(R, True), t(np.random.default_rng(2).standard_normal((2, 4)), True)
    mask = tapegrad.tensor(R > 0)
    assert gradcheck(lambda y, s2: y.scatter(0, idx[:1, :3], s2) + y.scatter_add(0, idx, s2 * s2)
                     + y.scatter_reduce(0, idx, s2, "mean", include_self=False)
                     + y.index_add(1, tapegrad.tensor([2, 0, 2]), y[:, :3] * y[:, 1:])
                     + y.index_copy(1, tapegrad.tensor([3, 0]), y[:, :2] * 2)
                     + y.index_fill(0, tapegrad.tensor([1]), -1.0)
                     + y.masked_scatter(mask, s2 * 3) * y.masked_select(mask).sum()
                     + y.take_along_dim(tapegrad.tensor([[3], [0], [1]]), 1)
                     + y.take(tapegrad.tensor([0, 5, 11, -1])).sum(), [y, s2])
    z = t(X)
    z.scatter_(1, idx[:, :1], 0.0)
    assert z.tolist()[1][2] == 0.0


def test_out_of_range_indices_as_torch():
    x = t(np.zeros((3, 4)))
    with pytest.raises(RuntimeError, match="index -1 is out of bounds for dimension 0 with size 3"):
        tapegrad.gather(x, 0, tapegrad.tensor([[-1]]))
    with pytest.raises(RuntimeError, match="index -1 is out of bounds for dimension 0 with size 3"):
        x.scatter(0, tapegrad.tensor([[-1]]), 1.0)
    with pytest.raises(RuntimeError, match="index -1 is out of bounds for dimension 0 with size 3"):
        x.index_add(0, tapegrad.tensor([-1]), t(np.ones((1, 4))))
    with pytest.raises(IndexError, match=r"index_copy_\(\): index -1 is out of bounds"):
        x.index_copy(0, tapegrad.tensor([-1]), t(np.ones((1, 4))))
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        x.index_fill(0, tapegrad.tensor([3]), 1.0)
    assert x.index_fill(0, tapegrad.tensor([-1]), 1.0).sum().item() == 4.0  # wraps, as torch


def test_scatter_reduce_amax_amin_gradients_as_torch():
    x, s = t([[1.0, 2, 3], [4, 5, 6]], True), t([[2.0, 3, 4], [5, 6, 6]], True)
    idx = tapegrad.tensor([[1, 0, 1], [1, 1, 1]])
    out = tapegrad.scatter_reduce(x, 0, idx, s, "amax", include_self=False)
    assert out.grad_fn.name() == "ScatterReduceBackward0"
    (out * t([[1.0, 2, 3], [4, 5, 6]])).sum().backward()
    # torch 2.13: the tie at [1, 2] with input's own 6 is shared even though include_self=False
    assert x.grad.tolist() == [[1.0, 0.0, 3.0], [0.0, 0.0, 0.0]]
    assert s.grad.tolist() == [[0.0, 2.0, 0.0], [4.0, 5.0, 3.0]]
    y, s2 = t(R, True), t(np.random.default_rng(3).standard_normal((2, 4)), True)
    i2 = tapegrad.tensor([[0, 1, 2, 0], [2, 0, 0, 1]])
    assert gradcheck(lambda y, s2: y.scatter_reduce(0, i2, s2, "amax")
                     + y.scatter_reduce(0, i2, s2 * 2, "amin", include_self=False), [y, s2])
    assert gradcheck(lambda y, s2: y.scatter_reduce(0, i2, s2, "prod")
                     + y.scatter_reduce(0, i2, s2, "prod", include_self=False), [y, s2])
    # with zeros: only a target's single zero gets the product of the others (torch 2.13)
    z, s3 = t([[0.0, 2.0], [3.0, 0.0]], True), t([[5.0, 0.0]], True)
    z.scatter_reduce(0, tapegrad.tensor([[0, 1]]), s3, "prod").sum().backward()
    assert z.grad.tolist() == [[5.0, 1.0], [1.0, 0.0]] and s3.grad.tolist() == [[0.0, 0.0]]
