# PyTorch's random numbers and device/dtype odds: after manual_seed the values are PyTorch's.
# Expected output from PyTorch 2.13 (CPU build, AVX2 capability).
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset, random_split

torch.set_printoptions(precision=8)
torch.manual_seed(0)
print(torch.rand(2, 3))
print(torch.rand(3, dtype=torch.float64))
print(torch.randn(5))
print(torch.randn(4, 5))
print(torch.randint(0, 10, (8,)))
print(torch.randperm(12))
print(torch.normal(2.0, 0.5, size=(3,)))
print(torch.empty(4).uniform_(-1, 1))
print(torch.empty(20).normal_(0, 2)[-4:])
print(torch.bernoulli(torch.full((8,), 0.5)))
print(torch.multinomial(torch.tensor([1.0, 2.0, 3.0, 4.0]), 6, replacement=True))
print(torch.multinomial(torch.tensor([1.0, 2.0, 3.0, 4.0]), 3))
print(F.dropout(torch.ones(10), 0.4))
model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4, 2))
for name, p in model.named_parameters():
    print(name, p)
print(model(torch.ones(2, 3)))
state = torch.get_rng_state()
a = torch.randn(3)
torch.set_rng_state(state)
print(torch.equal(a, torch.randn(3)), torch.initial_seed(), state.shape, state.dtype)
g = torch.Generator().manual_seed(7)
print(torch.rand(3, generator=g), g.initial_seed())
data = TensorDataset(torch.arange(10.0))
for (batch,) in DataLoader(data, batch_size=4, shuffle=True):
    print(batch)
print([list(s.indices) for s in random_split(range(6), [2, 4])])
print(torch.device("cuda"), repr(torch.device("cuda", 1)))
try:
    torch.zeros(1, device="cuda")
except AssertionError as e:
    print("AssertionError", e)
print(torch.finfo(torch.float32))
print(torch.iinfo(torch.int16))
print(torch.ones(2, 3).T.contiguous().stride(), torch.ones(2, 3).element_size())
print(torch.zeros(size=(2,)), torch.zeros(2).type(torch.DoubleTensor).dtype)
print(torch.arange(6.0).reshape(2, 3).softmax(axis=1))
