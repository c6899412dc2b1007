"""Logistic regression on two Gaussian blobs: BCEWithLogitsLoss and Adam."""
import tapegrad as torch
import tapegrad.nn as nn

torch.manual_seed(0)
n = 200
x = torch.cat([torch.randn(n, 2) + torch.tensor([2.0, 2.0]),
               torch.randn(n, 2) - torch.tensor([2.0, 2.0])])
y = torch.cat([torch.ones(n, 1), torch.zeros(n, 1)])

model = nn.Linear(2, 1)
loss_fn = nn.BCEWithLogitsLoss()
opt = torch.optim.Adam(model.parameters(), lr=0.1)
for step in range(100):
    logits = model(x)
    loss = loss_fn(logits, y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 20 == 0:
        accuracy = ((logits > 0).float() == y).float().mean().item()
        print(f"step {step:3d}  loss {loss.item():.4f}  accuracy {accuracy:.3f}")

with torch.no_grad():
    accuracy = ((model(x) > 0).float() == y).float().mean().item()
print(f"final training accuracy {accuracy:.3f}")
assert accuracy > 0.97
