"""An MLP classifier on the two-spirals set: nn.Sequential, CrossEntropyLoss, Adam with a
cosine learning-rate schedule. Reaches over 95% training accuracy in a few seconds."""
import math
import time

import numpy as np

import tapegrad as torch
import tapegrad.jit
import tapegrad.nn as nn


def two_spirals(n_per_class: int, noise: float, rng):
    t = np.sqrt(rng.uniform(0, 1, n_per_class)) * 3 * math.pi
    a = np.stack([t * np.cos(t), t * np.sin(t)], 1)
    points = np.concatenate([a, -a]) / (3 * math.pi) + rng.normal(0, noise, (2 * n_per_class, 2))
    labels = np.concatenate([np.zeros(n_per_class), np.ones(n_per_class)]).astype(np.int64)
    return points.astype(np.float32), labels


torch.manual_seed(0)
x_np, y_np = two_spirals(300, 0.02, np.random.default_rng(0))
x, y = torch.tensor(x_np), torch.tensor(y_np)

model = nn.Sequential(nn.Linear(2, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(),
                      nn.Linear(64, 2))
print(model)
epochs = 1500
opt = torch.optim.Adam(model.parameters(), lr=0.01)
schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
loss_fn = nn.CrossEntropyLoss()
start = time.perf_counter()
for epoch in range(epochs):
    logits = model(x)
    loss = loss_fn(logits, y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    schedule.step()
    if epoch % 300 == 0 or epoch == epochs - 1:
        accuracy = (logits.argmax(1) == y).float().mean().item()
        print(f"epoch {epoch:4d}  loss {loss.item():.4f}  accuracy {accuracy:.3f}")

with torch.no_grad():
    accuracy = (model(x).argmax(1) == y).float().mean().item()
stats = tapegrad.jit.stats()
print(f"training accuracy {accuracy:.3f} after {time.perf_counter() - start:.1f} s "
      f"({stats['jit_backwards']} JIT backward passes, {stats['compiles']} kernels compiled)")
assert accuracy > 0.95, accuracy
