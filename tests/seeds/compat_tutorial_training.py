# Custom Functions, hooks, higher order, optimizers and schedulers; expected from PyTorch 2.13.
import math
import torch
import torch.nn as nn


class Exp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, i):
        result = i.exp()
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        result, = ctx.saved_tensors
        return grad_output * result


x = torch.tensor([0.0, 1.0], requires_grad=True)
y = Exp.apply(x)
print(y)
y.sum().backward()
print(x.grad)

a = torch.tensor([2.0, 3.0], requires_grad=True)
b = a * a
b.retain_grad()
b.register_hook(lambda g: g * 2)
c = (b * 3).sum()
c.backward()
print(a.grad, b.grad, b.is_leaf, a.is_leaf)

x = torch.tensor(2.0, requires_grad=True)
y = x ** 3
g, = torch.autograd.grad(y, x, create_graph=True)
g2, = torch.autograd.grad(g, x)
print(g, g2)

print(torch.arange(2000).float())
print(torch.arange(24).reshape(2, 3, 4))
print(torch.ones(2, 2, dtype=torch.float64, requires_grad=True))
print(torch.tensor([[0.001, 1000.0]]))
print(torch.tensor([1, 2, 3]) / 2)
print(torch.tensor([7, -7]) // 2)
print(torch.tensor([-0.5, 0.0, 0.5]).sign())
print(torch.zeros(3, dtype=torch.long))

model = nn.Sequential(nn.Linear(3, 2), nn.Tanh())
with torch.no_grad():
    for p in model.parameters():
        p.fill_(0.1)
opt = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
print(opt)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
xs = torch.tensor([[1.0, 2.0, 3.0], [-1.0, 0.0, 1.0]])
ys = torch.tensor([[0.5, -0.5], [0.0, 0.25]])
for epoch in range(4):
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(xs), ys)
    loss.backward()
    opt.step()
    sched.step()
    print(epoch, round(loss.item(), 6), sched.get_last_lr())
print(list(model.state_dict().keys()))
print(model.state_dict()["0.bias"])
print(model[0].weight.requires_grad, model[0].weight.grad is not None)
opt2 = torch.optim.Adam(model.parameters(), lr=0.01)
for _ in range(3):
    opt2.zero_grad()
    loss = nn.functional.l1_loss(model(xs), ys)
    loss.backward()
    opt2.step()
print(loss)
print(model(xs))
h = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
print(torch.autograd.functional.jacobian(lambda v: v ** 2, h))
print(torch.autograd.functional.hessian(lambda v: (v ** 3).sum(), h))
print(torch.exp(torch.tensor([1.0])), math.isclose(torch.tensor(math.e).log().item(), 1.0))
