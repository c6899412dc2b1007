"""Fit sin(x) on [-pi, pi] with a cubic a + b x + c x^2 + d x^3 by gradient descent, twice:
by hand (tensors, backward, no_grad updates), and with nn and optim, as PyTorch's
"learning PyTorch with examples" does."""
import math

import tapegrad as torch
import tapegrad.nn as nn

x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)

# 1. By hand: four scalar weights, updated under no_grad.
torch.manual_seed(0)
a, b, c, d = (torch.randn((), requires_grad=True) for _ in range(4))
lr = 1e-6
for t in range(2000):
    y_pred = a + b * x + c * x ** 2 + d * x ** 3
    loss = (y_pred - y).pow(2).sum()
    if t % 500 == 99:
        print(f"by hand   step {t:4d}  loss {loss.item():10.2f}")
    loss.backward()
    with torch.no_grad():
        for w in (a, b, c, d):
            w -= lr * w.grad
            w.grad = None
print(f"by hand:  y = {a.item():.4f} + {b.item():.4f} x + {c.item():.4f} x^2 + {d.item():.4f} x^3")
assert loss.item() < 50

# 2. With nn and optim: the powers of x as features, one Linear layer, RMSprop.
torch.manual_seed(0)
features = x.unsqueeze(-1).pow(torch.tensor([1, 2, 3]))
model = nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))
loss_fn = nn.MSELoss(reduction="sum")
opt = torch.optim.RMSprop(model.parameters(), lr=1e-3)
for t in range(2000):
    loss = loss_fn(model(features), y)
    if t % 500 == 99:
        print(f"nn/optim  step {t:4d}  loss {loss.item():10.2f}")
    opt.zero_grad()
    loss.backward()
    opt.step()
linear = model[0]
w = linear.weight.detach().reshape(-1).tolist()
print(f"nn/optim: y = {linear.bias.item():.4f} + {w[0]:.4f} x + {w[1]:.4f} x^2 + {w[2]:.4f} x^3")
assert loss.item() < 50
