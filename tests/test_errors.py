"""Bad input: PyTorch's error type and message, and nothing changed afterwards."""
from __future__ import annotations

import numpy as np
import pytest

import tapegrad as torch


def snapshot(*tensors):
    tape = torch.current_tape()
    return ([t.numpy(force=True).copy() for t in tensors],
            [None if t.grad is None else t.grad.numpy().copy() for t in tensors if t.is_leaf],
            len(tape), str(tape))


def assert_unchanged(before, *tensors):
    after = snapshot(*tensors)
    for a, b in zip(before[0], after[0]):
        np.testing.assert_array_equal(a, b)
    assert len(before[1]) == len(after[1])
    for a, b in zip(before[1], after[1]):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a, b)
    assert before[2:] == after[2:]


def test_backward_of_non_scalar_without_gradient():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    before = snapshot(x, y)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        y.backward()
    assert_unchanged(before, x, y)


def test_backward_of_tensor_without_grad():
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad and does "
                                           "not have a grad_fn"):
        torch.tensor([1.0, 2.0]).sum().backward()


def test_second_backward_through_freed_records():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    before = snapshot(x)
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()
    assert_unchanged(before, x)


def test_saved_tensor_modified_in_place():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    a = x * 1
    b = a * a
    a.add_(1)
    before = snapshot(x, a, b)
    with pytest.raises(RuntimeError, match="one of the variables needed for gradient computation "
                                           "has been modified by an inplace operation"):
        b.sum().backward()
    assert_unchanged(before, x, a, b)


def test_failure_midway_leaves_leaf_grads_alone():
    # The version check fails on a record reached after others: no grad may have been written.
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    w = torch.tensor([3.0, 4.0], requires_grad=True)
    a = w * 1
    loss = (x * 2).sum() + (a * a).sum()
    a.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
    assert x.grad is None and w.grad is None


def test_inplace_on_leaf_requiring_grad():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    before = snapshot(x)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an "
                                           "in-place operation"):
        x.add_(1)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        x[0].mul_(2)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        x[0] = 3.0
    assert_unchanged(before, x)
    with torch.no_grad():
        x.add_(1)
    assert x.tolist() == [2.0, 3.0] and x._version == 1


def test_requires_grad_on_integer_tensor():
    with pytest.raises(RuntimeError, match="Only Tensors of floating point and complex dtype can "
                                           "require gradients"):
        torch.tensor([1, 2], requires_grad=True)
    t = torch.tensor([1, 2])
    with pytest.raises(RuntimeError, match="Only Tensors of floating point"):
        t.requires_grad_()
    assert not t.requires_grad


def test_shapes_that_do_not_broadcast():
    x = torch.ones(3, requires_grad=True)
    before = snapshot(x)
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size of "
                                           r"tensor b \(4\) at non-singleton dimension 0"):
        x + torch.ones(4)
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size of "
                                           r"tensor b \(4\) at non-singleton dimension 1"):
        torch.ones(2, 3) * torch.ones(4)
    assert_unchanged(before, x)


def test_matmul_shapes_that_do_not_fit():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and "
                                           r"4x5\)"):
        torch.ones(2, 3, requires_grad=True) @ torch.ones(4, 5)
    with pytest.raises(RuntimeError, match="inconsistent tensor size"):
        torch.ones(3).dot(torch.ones(4))
    with pytest.raises(RuntimeError, match="size mismatch"):
        torch.ones(2, 3) @ torch.ones(4)


def test_invalid_view():
    x = torch.ones(2, 3)
    with pytest.raises(RuntimeError, match=r"shape '\[4, 2\]' is invalid for input of size 6"):
        x.view(4, 2)
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        x.t().view(6)
    with pytest.raises(RuntimeError, match="only one dimension can be inferred"):
        x.view(-1, -1)


def test_index_out_of_range():
    x = torch.ones(3, requires_grad=True)
    before = snapshot(x)
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 3"):
        x[5]
    with pytest.raises(IndexError):
        x[torch.tensor([0, 7])]
    with pytest.raises(IndexError):
        x.sum(dim=3)
    assert_unchanged(before, x)


def test_gradient_of_wrong_shape():
    x = torch.ones(3, requires_grad=True)
    y = x * 2
    before = snapshot(x, y)
    with pytest.raises(RuntimeError, match=r"Mismatch in shape: grad_output\[0\] has a shape of "):
        y.backward(torch.ones(2))
    assert_unchanged(before, x, y)


def test_item_on_many_elements():
    with pytest.raises(RuntimeError, match="a Tensor with 3 elements cannot be converted"):
        torch.ones(3).item()


def test_non_leaf_requires_grad_false():
    y = torch.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf "
                                           "variables"):
        y.requires_grad = False
    assert y.requires_grad


def test_inplace_result_type_cannot_be_cast():
    t = torch.tensor([1, 2])
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output "
                                           "type Long"):
        t.add_(1.5)
    assert t.tolist() == [1, 2] and t._version == 0
