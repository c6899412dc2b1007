"""Issue 13, point 2: reductions, scans and order statistics, printed as PyTorch prints them."""
import torch

torch.set_printoptions(precision=6)
x = torch.tensor([[3.0, -1.0, 2.5, 0.5], [1.5, 4.0, -2.0, 0.25], [0.0, 2.0, 1.0, -0.5]],
                 dtype=torch.float64, requires_grad=True)
t = torch.topk(x, 2)
print(t)
print(torch.topk(x, 2, dim=0, largest=False).values)
k = torch.kthvalue(x, 2, dim=1)
print(k)
print(torch.median(x), torch.median(x, dim=0))
print(torch.mode(torch.tensor([[1, 3, 3, 2], [4, 0, 0, 7]]), 1).values)
q = torch.tensor([0.25, 0.75], dtype=torch.float64)
print(torch.quantile(x, 0.3).item(), torch.quantile(x, q, dim=1).detach())
for it in ["linear", "lower", "higher", "midpoint", "nearest"]:
    print(it, torch.quantile(x, 0.4, dim=0, interpolation=it).detach())
n = torch.tensor([[1.0, float("nan"), 2.0], [float("nan"), 3.0, 4.0]])
print(torch.nansum(n), torch.nansum(n, 1), torch.nanmean(n, 0), torch.nanmedian(n))
print(torch.count_nonzero(x), torch.count_nonzero(x > 1, dim=0))
print(torch.aminmax(x, dim=1))
print(torch.std_mean(x, 1), torch.var_mean(x, correction=0))
print(torch.logcumsumexp(x, 1), torch.diff(x, dim=0), torch.diff(x, n=2, append=x[:, :1]))
print(torch.all(x > -3), torch.any(x > 3, dim=1))
loss = (t.values.sum() + k.values.sum() + torch.median(x) + torch.quantile(x, 0.3)
        + torch.logcumsumexp(x, 0).sum() + torch.diff(x).pow(2).sum())
loss.backward()
print(x.grad.float())
