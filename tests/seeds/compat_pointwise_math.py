"""Issue 13, point 1: pointwise math and activations, printed as PyTorch prints them."""
import torch
import torch.nn.functional as F

torch.set_printoptions(precision=6)
x = torch.tensor([-2.5, -0.7, 0.3, 1.9], dtype=torch.float64, requires_grad=True)
u = torch.tensor([-0.9, -0.3, 0.4, 0.95], dtype=torch.float64, requires_grad=True)
p = torch.tensor([0.5, 1.5, 2.0, 3.5], dtype=torch.float64, requires_grad=True)
for name in ["sinh", "cosh", "asinh", "erf", "erfc", "exp2", "trunc", "frac", "sinc",
             "deg2rad", "rad2deg"]:
    y = getattr(torch, name)(x)
    (g,) = torch.autograd.grad(y.sum(), x)
    print(name, y, g)
for name in ["atanh", "asin", "acos", "erfinv"]:
    y = getattr(torch, name)(u)
    (g,) = torch.autograd.grad(y.sum(), u)
    print(name, y, g)
for name in ["acosh", "log2", "log10"]:
    y = getattr(torch, name)(p + 1)
    (g,) = torch.autograd.grad(y.sum(), p)
    print(name, y, g)
print(torch.logit(u.abs(), eps=0.1))
for name in ["hypot", "logaddexp", "logaddexp2", "fmod", "remainder", "xlogy", "atan2"]:
    y = getattr(torch, name)(x, p)
    gx, gp = torch.autograd.grad(y.sum(), (x, p))
    print(name, y, gx, gp)
print(torch.lerp(x, p, 0.3), torch.lerp(x, p, u))
print(torch.addcmul(x, p, u, value=0.5), torch.addcdiv(x, u, p, value=-2))
print(x.detach().clone().sinh_(), torch.remainder(torch.tensor([-3, 3]), 2), torch.erf(torch.tensor([1, 2])))
acts = [F.softplus, F.gelu, lambda t: F.gelu(t, approximate="tanh"), F.silu, F.mish, F.elu,
        F.selu, lambda t: F.celu(t, 1.3), F.hardtanh, F.hardsigmoid, F.hardswish, F.softsign,
        F.logsigmoid, lambda t: F.relu6(3 * t)]
for act in acts:
    y = act(x)
    (g,) = torch.autograd.grad(y.sum(), x)
    print(y, g)
print(F.glu(torch.arange(8.0).reshape(2, 4) / 4, dim=1))
(gg,) = torch.autograd.grad(torch.autograd.grad(F.gelu(x).sum(), x, create_graph=True)[0].sum(), x)
print("gelu second derivative", gg)
