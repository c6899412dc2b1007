# The training toolkit of issue 14, run unchanged under PyTorch and tapegrad: layers, recurrent
# nets, data loading, optimizers, schedulers, clip_grad and a two-output Function. Weights are
# set from linspace (not the random generator), so the printed values compare exactly.
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def fill(module):
    with torch.no_grad():
        for i, p in enumerate(module.parameters()):
            p.copy_(torch.linspace(-0.5, 0.5 + 0.1 * i, p.numel()).reshape(p.shape))
    return module


def show(name, t):
    print(name, list(t.shape), round(float(t.sum()), 5), round(float((t * t).sum()), 5))


torch.set_default_dtype(torch.float64)
x = torch.linspace(-1, 1, 2 * 3 * 6 * 6).reshape(2, 3, 6, 6).requires_grad_()
net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                    nn.MaxPool2d(2), nn.Conv2d(4, 2, 2, stride=2, groups=2), nn.Flatten(),
                    nn.LayerNorm(2))
print(net)
fill(net)
out = net(x)
show("cnn out", out)
(out * torch.linspace(0, 1, 4).reshape(2, 2)).sum().backward()
show("cnn x.grad", x.grad)
show("conv weight grad", net[0].weight.grad)
print("running_mean", [round(v, 5) for v in net[1].running_mean.tolist()])
print(sorted(net.state_dict().keys()))

emb = fill(nn.Embedding(5, 3, padding_idx=0))
e = emb(torch.tensor([[0, 2, 4], [1, 1, 3]]))
e.pow(2).sum().backward()
show("embedding grad", emb.weight.grad)

seq = torch.linspace(-1, 1, 2 * 4 * 3).reshape(2, 4, 3)
for cls in (nn.RNN, nn.LSTM, nn.GRU):
    rnn = fill(cls(3, 5, num_layers=2, batch_first=True, bidirectional=True))
    y, state = rnn(seq)
    show(f"{cls.__name__} out", y)
    y.sum().backward()
    show(f"{cls.__name__} weight_hh_l1_reverse grad", rnn.weight_hh_l1_reverse.grad)
print(rnn)
print(list(rnn.state_dict().keys())[:4])

data = TensorDataset(torch.arange(10.0).reshape(5, 2), torch.arange(5))
for xb, yb in DataLoader(data, batch_size=2, drop_last=False):
    print("batch", xb.tolist(), yb.tolist())

model = fill(nn.Linear(3, 1))
inputs = torch.linspace(-1, 2, 12).reshape(4, 3)  # not symmetric: no gradient is a rounding error
for opt_cls, kwargs in ((torch.optim.Adagrad, {"lr": 0.1}), (torch.optim.Adadelta, {}),
                        (torch.optim.Adamax, {"lr": 0.05}), (torch.optim.NAdam, {"lr": 0.05}),
                        (torch.optim.RAdam, {"lr": 0.05})):
    fill(model)
    opt = opt_cls(model.parameters(), **kwargs)
    for _ in range(3):
        opt.zero_grad()
        model(inputs).pow(2).mean().backward()
        opt.step()
    print(opt_cls.__name__, [round(v, 6) for v in model.weight.flatten().tolist()])

opt = torch.optim.SGD(model.parameters(), lr=1.0)
sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=10)
lrs = []
for _ in range(9):
    opt.step()
    sched.step()
    lrs.append(round(sched.get_last_lr()[0], 6))
print("OneCycleLR", lrs)

fill(model)
model(inputs).pow(2).sum().backward()
print("clip_grad_norm_", round(float(torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)), 6))
print("clipped", [round(v, 6) for v in model.weight.grad.flatten().tolist()])


class SinCos(torch.autograd.Function):
    @staticmethod
    def forward(ctx, t):
        ctx.save_for_backward(t)
        return t.sin(), t.cos()

    @staticmethod
    def backward(ctx, gs, gc):
        (t,) = ctx.saved_tensors
        return gs * t.cos() - gc * t.sin()


t = torch.tensor([0.5, 1.0], requires_grad=True)
s, c = SinCos.apply(t)
(s * 2 + c * 3).sum().backward()
print("Function grad", [round(v, 6) for v in t.grad.tolist()], type(s.grad_fn).__name__)
print(F.gelu(torch.tensor([-1.0, 0.5]), approximate="tanh").tolist())
