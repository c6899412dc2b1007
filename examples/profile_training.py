"""A small training script to run under the profiler:

    python -m tapegrad.profile examples/profile_training.py --plot profile.png

It trains a 2-layer MLP on a synthetic regression task with two batch sizes; sizes are not part
of a graph's structure, so both share one structure and one compiled kernel. An extra L1 term
every tenth step makes a second structure.
"""
import numpy as np

import tapegrad as torch
import tapegrad.nn as nn

torch.manual_seed(0)
rng = np.random.default_rng(0)
w_true = rng.standard_normal((16, 1)).astype(np.float32)
model = nn.Sequential(nn.Linear(16, 64), nn.Tanh(), nn.Linear(64, 1))
opt = torch.optim.Adam(model.parameters(), lr=0.01)
for step in range(200):
    batch = 256 if step % 2 else 128
    x = torch.tensor(rng.standard_normal((batch, 16)).astype(np.float32))
    y = torch.tensor(np.tanh(x.numpy() @ w_true))
    pred = model(x)
    loss = ((pred - y) ** 2).mean()
    if step % 10 == 0:
        loss = loss + 0.01 * (pred - y).abs().mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 50 == 0:
        print(f"step {step:3d}  loss {loss.item():.4f}")
print(f"final loss {loss.item():.4f}")
