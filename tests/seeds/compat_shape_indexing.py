"""Issue 13, point 3: shape and indexing ops, printed as PyTorch prints them."""
import torch

x = torch.arange(12.0).reshape(3, 4).requires_grad_()
print(torch.fliplr(x), torch.flipud(x), torch.rot90(x), torch.rot90(x, 2, (1, 0)))
print(x.narrow(1, 1, 2), x.unflatten(1, (2, 2)).shape)
print(torch.tril(x), torch.triu(x, 1), torch.diag_embed(torch.tensor([[1.0, 2], [3, 4]]), 1))
idx = torch.tensor([[0, 1, 2, 0], [2, 0, 0, 1]])
src = torch.arange(8.0).reshape(2, 4).requires_grad_()
print(torch.scatter(x, 0, idx, src))
print(torch.scatter_add(x, 0, idx, src))
for red in ["sum", "prod", "mean", "amax", "amin"]:
    print(red, torch.scatter_reduce(x, 0, idx, src, red, include_self=False))
print(torch.index_add(x, 1, torch.tensor([2, 0, 2]), torch.ones(3, 3), alpha=2))
print(torch.index_copy(x, 1, torch.tensor([3, 0]), torch.zeros(3, 2)))
print(torch.index_fill(x, 0, torch.tensor([1]), -1.0))
print(torch.take(x, torch.tensor([[0, 5], [11, -1]])))
print(torch.take_along_dim(x, torch.tensor([[3], [0], [1]]), 1))
m = x > 6
print(torch.masked_select(x, m), torch.masked_scatter(x, m, -torch.arange(6.0)))
print(torch.nonzero(m), torch.argwhere(m), torch.nonzero(m, as_tuple=True))
a, b = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([4.0, 5.0])
print(torch.meshgrid(a, b, indexing="ij"), torch.meshgrid(a, b, indexing="xy"))
print(torch.cartesian_prod(a, b), torch.block_diag(torch.tensor([[1, 2]]), torch.tensor(3)))
y = (torch.scatter(x, 0, idx, src) * torch.scatter_add(x, 0, idx, src)).sum()
y = y + torch.scatter_reduce(x, 0, idx, src, "amax").sum() + torch.rot90(x).sum()
y = y + torch.masked_select(x, m).pow(2).sum() + torch.index_add(x, 1, torch.tensor([2, 0, 2]), x[:, :3]).pow(2).sum()
y.backward()
print(x.grad, src.grad)
