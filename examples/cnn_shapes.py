"""A small CNN on generated 16x16 images (horizontal bars, vertical bars, crosses, each noisy and
shifted): Conv2d, BatchNorm2d, ReLU, MaxPool2d, AdaptiveAvgPool2d, Dropout2d, a DataLoader, Adam
with OneCycleLR. Reaches over 95% accuracy on held-out images in a few seconds."""
import time

import numpy as np

import tapegrad as torch
import tapegrad.nn as nn
from tapegrad.utils.data import DataLoader, TensorDataset


def make_images(n: int, rng):
    """Class 0: a horizontal bar, 1: a vertical bar, 2: a cross; random place, noise."""
    images = rng.normal(0, 0.3, (n, 1, 16, 16)).astype(np.float32)
    labels = rng.integers(0, 3, n)
    for img, label in zip(images, labels):
        r, c = rng.integers(3, 13, 2)
        if label in (0, 2):
            img[0, r - 1:r + 1, 2:14] += 1.0
        if label in (1, 2):
            img[0, 2:14, c - 1:c + 1] += 1.0
    return images, labels.astype(np.int64)


torch.manual_seed(0)
rng = np.random.default_rng(0)
train = TensorDataset(*map(torch.tensor, make_images(512, rng)))
test_x, test_y = map(torch.tensor, make_images(256, rng))

model = nn.Sequential(
    nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(8, 16, 3, padding="same"), nn.ReLU(), nn.Dropout2d(0.1),
    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 3))
print(model)
epochs = 6
loader = DataLoader(train, batch_size=32, shuffle=True)
opt = torch.optim.Adam(model.parameters(), lr=0.01)
schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.03, epochs=epochs,
                                               steps_per_epoch=len(loader))
loss_fn = nn.CrossEntropyLoss()
start = time.perf_counter()
for epoch in range(epochs):
    model.train()
    total = 0.0
    for xb, yb in loader:
        loss = loss_fn(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
        total += loss.item() * len(yb)
    model.eval()
    with torch.no_grad():
        accuracy = (model(test_x).argmax(1) == test_y).float().mean().item()
    print(f"epoch {epoch}  train loss {total / len(train):.4f}  test accuracy {accuracy:.3f}")
print(f"{time.perf_counter() - start:.1f} s")
assert accuracy > 0.95, accuracy
