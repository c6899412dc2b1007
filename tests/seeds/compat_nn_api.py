# nn: module printing and traversal, state dicts, losses, init; expected from PyTorch 2.13.
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.2), nn.Dropout(0.1))
        self.head = nn.Linear(4, 2, bias=False)
        self.act = nn.Softmax(dim=1)

    def forward(self, x):
        return self.act(self.head(self.body(x)))


net = Net()
print(net)
print([n for n, _ in net.named_parameters()])
print([type(m).__name__ for m in net.modules()])
print(len(list(net.children())), net.training)
net.eval()
print(net.body[2].training)
with torch.no_grad():
    for p in net.parameters():
        p.fill_(0.1)
x = torch.tensor([[1.0, 2.0, 3.0], [-1.0, 0.0, 1.0]])
print(net(x))
try:
    net.load_state_dict({"head.weight": torch.zeros(2, 4)})
except RuntimeError as e:
    print(" ".join(str(e).split()[:16]))
r = net.load_state_dict({"head.weight": torch.zeros(2, 4)}, strict=False)
print(sorted(r.missing_keys), r.unexpected_keys)
logits = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]], requires_grad=True)
target = torch.tensor([0, 1])
print(F.cross_entropy(logits, target, reduction="none"))
print(F.cross_entropy(logits, target, reduction="sum"))
print(F.nll_loss(F.log_softmax(logits, dim=1), target))
print(nn.BCEWithLogitsLoss()(torch.tensor([0.5, -1.0]), torch.tensor([1.0, 0.0])))
print(nn.SmoothL1Loss()(torch.tensor([0.5, 3.0]), torch.tensor([0.0, 0.0])))
print(F.softmax(torch.tensor([1.0, 2.0, 3.0]), dim=0))
print(F.relu(torch.tensor([-1.0, 2.0])), F.leaky_relu(torch.tensor([-1.0, 2.0]), 0.1))
print(torch.sigmoid(torch.tensor([0.0, 2.0])), torch.tanh(torch.tensor([0.5])))
lin = nn.Linear(2, 2)
nn.init.constant_(lin.weight, 0.5)
nn.init.zeros_(lin.bias)
print(lin.weight, lin.bias)
print(lin(torch.ones(1, 2)))
p = nn.Parameter(torch.ones(2))
print(p, p.requires_grad, isinstance(p, torch.Tensor))
print(nn.Flatten()(torch.ones(2, 3, 4)).shape, nn.Identity()(torch.ones(1)).shape if hasattr(nn, "Identity") else "")
