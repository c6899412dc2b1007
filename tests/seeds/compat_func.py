"""Issue 13, points 5 and 6: forward mode (torch.autograd.forward_ad) and torch.func, printed as
PyTorch prints them."""
import torch
import torch.autograd.forward_ad as fwAD
import torch.nn as nn
from torch.func import (functional_call, grad, grad_and_value, hessian, jacfwd, jacrev, jvp,
                        vjp, vmap)

torch.set_printoptions(precision=6)
x = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
v = torch.tensor([1.0, 0.5, -0.25], dtype=torch.float64)

# forward mode
with fwAD.dual_level():
    d = fwAD.make_dual(x, v)
    y = (d.sin() * d.exp()).cumsum(0) / (1 + d * d)
    out = fwAD.unpack_dual(y)
    print(type(out).__name__, out._fields)
    print(out.primal, out.tangent)
    m = fwAD.make_dual(torch.arange(6.0).reshape(2, 3), torch.ones(2, 3))
    p = fwAD.unpack_dual((m @ m.T).softmax(-1).sum(0))
    print(p.primal, p.tangent)
    print(fwAD.unpack_dual(x))
    try:
        fwAD.make_dual(x, torch.ones(4))
    except RuntimeError as e:
        print("RuntimeError:", e)
    try:
        with fwAD.dual_level():
            pass
    except RuntimeError as e:
        print("RuntimeError:", e)
print(fwAD.unpack_dual(y).tangent)
xr = x.clone().requires_grad_()
with fwAD.dual_level():
    t = fwAD.unpack_dual((fwAD.make_dual(xr, v) ** 3).sum()).tangent
print(torch.autograd.grad(t, xr)[0])  # reverse over forward: 6 x v

f = lambda a: torch.tanh(a) * a.sum()  # noqa: E731
print(torch.autograd.functional.jvp(f, x, v))
print(torch.autograd.functional.jacobian(f, x, strategy="forward-mode", vectorize=True))
try:
    torch.autograd.functional.jacobian(f, x, strategy="forward-mode")
except NotImplementedError as e:
    print("NotImplementedError:", e)

# torch.func
s = lambda a: (a.sin() * a ** 2).sum()  # noqa: E731
print(grad(s)(x))
print(grad_and_value(s)(x))
print(grad(lambda a, b: (a * b).sum(), argnums=(0, 1))(x, v))
print(grad(lambda a: ((a ** 2).sum(), a.mean()), has_aux=True)(x))
print(grad(lambda dct: (dct["w"] * dct["b"][0]).sum())({"w": x, "b": [v]}))
print(grad(lambda a: grad(lambda b: (b ** 3).sum())(a).sum())(x))
o, fn = vjp(f, x)
print(o, fn(torch.ones(3, dtype=torch.float64)))
print(jvp(f, (x,), (v,)))
print(jacrev(f)(x))
print(jacfwd(f)(x))
print(hessian(s)(x))
print(jacrev(jacfwd(s))(x))
print(jacrev(lambda a, b: {"p": a * b, "q": (a + b).sum()}, argnums=(0, 1))(x, v))
try:
    grad(f)(x)
except RuntimeError as e:
    print("RuntimeError:", e)

torch.manual_seed(0)
model = nn.Linear(3, 2).double()
params = {k: p.detach() for k, p in model.named_parameters()}
print(functional_call(model, params, (x,)))
g = grad(lambda ps, inp: functional_call(model, ps, (inp,)).pow(2).sum())(params, x)
print(g["weight"], g["bias"])

xs = torch.stack([x, v, x * v])
print(vmap(f)(xs))
print(vmap(grad(s))(xs))
print(vmap(lambda a, b: a @ b, in_dims=(0, None))(xs, v))
print(vmap(lambda a: (a.sum(), a * 2), out_dims=(0, 1))(xs))
print(vmap(vmap(lambda a, b: a * b), in_dims=(None, 0))(x, xs))
print(vmap(jacrev(f))(xs).shape)
print(vmap(lambda a: torch.ones(2) * a.sum(), randomness="same")(xs))
for bad in (lambda: vmap(lambda a: torch.rand(2) * a.sum())(xs),
            lambda: vmap(lambda a, b: a + b)(xs, torch.ones(4, 3)),
            lambda: vmap(lambda a: a, in_dims=2)(xs)):
    try:
        bad()
    except (RuntimeError, ValueError) as e:
        print(type(e).__name__ + ":", e)

# the per-sample-gradient and model-ensembling tutorials
torch.manual_seed(1)
net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
data, targets = torch.randn(5, 4), torch.randint(0, 3, (5,))
ps = {k: p.detach() for k, p in net.named_parameters()}


def sample_loss(prm, sample, target):
    pred = functional_call(net, prm, (sample.unsqueeze(0),))
    return torch.nn.functional.cross_entropy(pred, target.unsqueeze(0))


per = vmap(grad(sample_loss), in_dims=(None, 0, 0))(ps, data, targets)
print({k: tuple(g.shape) for k, g in per.items()}, per["2.bias"])
nets = [nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)) for _ in range(3)]
sp, sb = torch.func.stack_module_state(nets)
print(sp["0.weight"].shape, sp["0.weight"].requires_grad)
ens = vmap(lambda p_, b_, x_: functional_call(net, (p_, b_), (x_,)), in_dims=(0, 0, None))
print(ens(sp, sb, data)[1].detach())
o, jfn = torch.func.linearize(torch.sin, x)
print(o, jfn(v))
