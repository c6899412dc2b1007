"""Linear regression with nn.Linear, MSELoss and SGD: recover y = 2x - 1 from noisy data."""
import tapegrad as torch
import tapegrad.nn as nn

torch.manual_seed(0)
x = torch.rand(100, 1) * 4 - 2
y = 2 * x - 1 + 0.05 * torch.randn(100, 1)

model = nn.Linear(1, 1)
loss_fn = nn.MSELoss()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(200):
    loss = loss_fn(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if epoch % 40 == 0:
        print(f"epoch {epoch:3d}  loss {loss.item():.5f}")

w, b = model.weight.item(), model.bias.item()
print(f"learned y = {w:.3f} x + {b:.3f}  (true: y = 2 x - 1)")
assert abs(w - 2) < 0.05 and abs(b + 1) < 0.05
