"""nn layers and losses, optimizers and schedulers, save/load: each against formulas written
out here, and the bad input the training-toolkit issue names."""
from __future__ import annotations

import math
import zipfile

import numpy as np
import pytest
from conftest import live_records

import tapegrad as torch
import tapegrad.nn as nn
import tapegrad.nn.functional as F
from tapegrad.autograd import gradcheck


def t64(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


# ---- layers ---------------------------------------------------------------------------------
def test_linear_forward_and_default_initialisation():
    torch.manual_seed(0)
    layer = nn.Linear(50, 20)
    assert layer.weight.shape == (20, 50) and layer.bias.shape == (20,)
    bound = 1 / math.sqrt(50)  # kaiming_uniform_(a=sqrt(5)) on (20, 50) gives 1/sqrt(fan_in)
    assert np.abs(layer.weight.detach().numpy()).max() <= bound
    assert np.abs(layer.weight.detach().numpy()).max() > 0.9 * bound
    x = torch.randn(4, 50)
    expected = x.numpy() @ layer.weight.detach().numpy().T + layer.bias.detach().numpy()
    np.testing.assert_allclose(layer(x).detach().numpy(), expected, rtol=1e-5)
    assert repr(layer) == "Linear(in_features=50, out_features=20, bias=True)"


def test_module_tree_parameters_modes_and_repr():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Dropout(0.5), nn.Linear(3, 1))
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "3.weight",
                                                        "3.bias"]
    assert len(list(model.children())) == 4 and len(list(model.modules())) == 5
    assert isinstance(model[0], nn.Linear) and len(model[1:]) == 3
    model.eval()
    assert not model[2].training
    x = torch.ones(5, 2)
    assert torch.equal(model(x), model(x))  # dropout off in eval
    model.train()
    assert model[2].training
    assert repr(model).splitlines()[1] == "  (0): Linear(in_features=2, out_features=3, bias=True)"
    model(x).sum().backward()
    assert model[0].weight.grad is not None
    model.zero_grad()
    assert model[0].weight.grad is None


def test_activation_modules_match_functions():
    x = t64([[-1.5, 0.2, 3.0]])
    assert np.allclose(nn.ReLU()(x).numpy(), [[0, 0.2, 3.0]])
    assert np.allclose(nn.LeakyReLU(0.1)(x).numpy(), [[-0.15, 0.2, 3.0]])
    assert np.allclose(nn.Sigmoid()(x).numpy(), 1 / (1 + np.exp(-x.numpy())))
    assert np.allclose(nn.Tanh()(x).numpy(), np.tanh(x.numpy()))
    e = np.exp(x.numpy())
    assert np.allclose(nn.Softmax(dim=1)(x).numpy(), e / e.sum())
    assert np.allclose(nn.LogSoftmax(dim=1)(x).numpy(), np.log(e / e.sum()))
    assert nn.Flatten()(torch.ones(2, 3, 4)).shape == (2, 12)


def test_dropout_scales_kept_values():
    torch.manual_seed(1)
    y = nn.Dropout(0.25)(torch.ones(10000))
    kept = y.numpy()[y.numpy() != 0]
    assert np.allclose(kept, 1 / 0.75) and 0.7 < kept.size / 10000 < 0.8


# ---- losses ---------------------------------------------------------------------------------
def test_regression_losses():
    a, b = np.array([0.5, -2.0, 3.0]), np.array([1.0, 0.0, 2.5])
    x, y = t64(a, True), t64(b)
    assert np.isclose(nn.MSELoss()(x, y).item(), np.mean((a - b) ** 2))
    assert np.isclose(nn.MSELoss(reduction="sum")(x, y).item(), np.sum((a - b) ** 2))
    assert np.isclose(nn.L1Loss()(x, y).item(), np.mean(np.abs(a - b)))
    d = np.abs(a - b)
    assert np.isclose(nn.SmoothL1Loss()(x, y).item(),
                      np.mean(np.where(d < 1, 0.5 * d * d, d - 0.5)))
    assert type(nn.MSELoss()(x, y).grad_fn).__name__ == "MseLossBackward0"
    for loss in (nn.MSELoss(), nn.L1Loss(), nn.SmoothL1Loss()):
        assert gradcheck(lambda t: loss(t, y), [x])


def test_classification_losses():
    logits = np.array([[1.0, 2.0, 0.5], [0.1, -1.0, 2.0]])
    labels = np.array([1, 2])
    x = t64(logits, True)
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    expected = -logp[[0, 1], labels].mean()
    assert np.isclose(nn.CrossEntropyLoss()(x, torch.tensor(labels)).item(), expected)
    assert np.isclose(nn.NLLLoss()(t64(logp), torch.tensor(labels)).item(), expected)
    assert type(nn.CrossEntropyLoss()(x, torch.tensor(labels)).grad_fn).__name__ == \
        "NllLossBackward0"
    assert gradcheck(lambda t: F.cross_entropy(t, torch.tensor(labels)), [x])
    p, q = np.array([0.2, 0.9, 0.5]), np.array([0.0, 1.0, 1.0])
    bce = -np.mean(q * np.log(p) + (1 - q) * np.log(1 - p))
    assert np.isclose(nn.BCELoss()(t64(p), t64(q)).item(), bce)
    z = np.log(p / (1 - p))
    assert np.isclose(nn.BCEWithLogitsLoss()(t64(z), t64(q)).item(), bce)
    big = nn.BCEWithLogitsLoss()(t64([800.0, -800.0]), t64([0.0, 1.0]))
    assert np.isclose(big.item(), 800.0)  # finite where the naive formula overflows


def test_loss_bad_input():
    x = torch.randn(3, 2, requires_grad=True)
    with pytest.warns(UserWarning, match="Using a target size"):
        with pytest.raises(RuntimeError, match="must match the size of tensor b"):
            nn.MSELoss()(torch.ones(3), torch.ones(4))
    with pytest.raises(IndexError, match="Target 5 is out of bounds"):
        nn.CrossEntropyLoss()(x, torch.tensor([0, 5, 1]))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target "
                                         r"batch_size \(2\)"):
        nn.CrossEntropyLoss()(x, torch.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        nn.BCELoss()(torch.tensor([1.5]), torch.tensor([1.0]))
    with pytest.raises(ValueError, match="Using a target size"):
        nn.BCELoss()(torch.tensor([0.5, 0.5]), torch.tensor([1.0]))
    assert x.grad is None and live_records() == 0


# ---- optimizers ------------------------------------------------------------------------------
def _param(values):
    p = nn.Parameter(t64(values))
    return p


def test_sgd_momentum_nesterov_weight_decay_by_hand():
    p = _param([1.0, -2.0])
    opt = torch.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True)
    w, buf = np.array([1.0, -2.0]), None
    for g in ([0.5, 0.5], [1.0, -1.0], [0.2, 0.0]):
        p.grad = t64(g)
        opt.step()
        d = np.array(g) + 0.01 * w
        buf = d.copy() if buf is None else 0.9 * buf + d
        w = w - 0.1 * (d + 0.9 * buf)
        np.testing.assert_allclose(p.detach().numpy(), w, rtol=1e-12)


@pytest.mark.parametrize("cls, decoupled", [(torch.optim.Adam, False), (torch.optim.AdamW, True)])
def test_adam_and_adamw_by_hand(cls, decoupled):
    p = _param([1.0, -2.0, 0.5])
    opt = cls([p], lr=0.01, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.1)
    w, m, v = np.array([1.0, -2.0, 0.5]), 0.0, 0.0
    for step, g in enumerate(([0.5, 0.5, -1.0], [1.0, -1.0, 0.0], [0.2, 0.3, 0.4]), 1):
        p.grad = t64(g)
        opt.step()
        g = np.array(g)
        if decoupled:
            w = w * (1 - 0.01 * 0.1)
        else:
            g = g + 0.1 * w
        m = 0.9 * m + 0.1 * g
        v = 0.99 * v + 0.01 * g * g
        mhat, vhat = m / (1 - 0.9 ** step), v / (1 - 0.99 ** step)
        w = w - 0.01 * mhat / (np.sqrt(vhat) + 1e-8)
        np.testing.assert_allclose(p.detach().numpy(), w, rtol=1e-10)


def test_rmsprop_by_hand():
    p = _param([1.0, -2.0])
    opt = torch.optim.RMSprop([p], lr=0.01, alpha=0.9, momentum=0.5)
    w, sq, buf = np.array([1.0, -2.0]), 0.0, 0.0
    for g in ([0.5, 0.5], [1.0, -1.0]):
        p.grad = t64(g)
        opt.step()
        g = np.array(g)
        sq = 0.9 * sq + 0.1 * g * g
        buf = 0.5 * buf + g / (np.sqrt(sq) + 1e-8)
        w = w - 0.01 * buf
        np.testing.assert_allclose(p.detach().numpy(), w, rtol=1e-10)


def test_optimizer_groups_zero_grad_state_dict():
    a, b = _param([1.0]), _param([2.0])
    opt = torch.optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    a.grad, b.grad = t64([1.0]), t64([1.0])
    opt.step()
    sd = opt.state_dict()
    opt2 = torch.optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    opt2.load_state_dict(sd)
    assert float(opt2.state[a]["step"]._data) == 1
    opt.zero_grad()
    assert a.grad is None
    b.grad = t64([3.0])
    opt.zero_grad(set_to_none=False)
    assert b.grad.tolist() == [0.0]


def test_optimizer_rejects_non_leaves_and_tensors_without_grad():
    w = torch.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        torch.optim.SGD([w * 2], lr=0.1)
    with pytest.raises(ValueError, match="does not require grad"):
        torch.optim.Adam([torch.ones(2)], lr=0.1)


def test_schedulers():
    p = _param([1.0])
    opt = torch.optim.SGD([p], lr=1.0)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    lrs = []
    for _ in range(5):
        lrs.append(opt.param_groups[0]["lr"])
        sched.step()
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.25]
    opt = torch.optim.SGD([p], lr=1.0)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=0.0)
    lrs = []
    for _ in range(5):
        lrs.append(opt.param_groups[0]["lr"])
        sched.step()
    np.testing.assert_allclose(lrs, [(1 + math.cos(math.pi * k / 4)) / 2 for k in range(5)])


# ---- state dicts and save/load ------------------------------------------------------------------
def test_load_state_dict_strict_and_nothing_changed_on_error():
    model = nn.Linear(3, 2)
    before = model.weight.detach().numpy().copy()
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "bias"'):
        model.load_state_dict({"weight": torch.zeros(2, 3)})
    with pytest.raises(RuntimeError, match='Unexpected key\\(s\\) in state_dict: "extra"'):
        model.load_state_dict({"weight": torch.zeros(2, 3), "bias": torch.zeros(2),
                               "extra": torch.zeros(1)})
    with pytest.raises(RuntimeError, match="size mismatch for weight"):
        model.load_state_dict({"weight": torch.zeros(3, 3), "bias": torch.zeros(2)})
    np.testing.assert_array_equal(model.weight.detach().numpy(), before)
    result = model.load_state_dict({"weight": torch.zeros(2, 3)}, strict=False)
    assert result.missing_keys == ["bias"] and model.weight.abs().sum().item() == 0


def test_save_load_round_trip(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    obj = {"model": model.state_dict(), "epoch": 7, "history": [0.5, 0.25],
           "extra": (torch.arange(5), None, "text")}
    path = tmp_path / "ckpt.tg"
    torch.save(obj, path)
    loaded = torch.load(path)
    assert loaded["epoch"] == 7 and loaded["history"] == [0.5, 0.25]
    assert loaded["extra"][2] == "text" and loaded["extra"][1] is None
    assert torch.equal(loaded["extra"][0], torch.arange(5))
    clone = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    clone.load_state_dict(loaded["model"])
    x = torch.randn(2, 3)
    assert torch.equal(clone(x), model(x))


def test_load_rejects_tampered_foreign_and_corrupt_files(tmp_path):
    path = tmp_path / "ckpt.tg"
    torch.save({"w": torch.ones(4)}, path)
    raw = bytearray(path.read_bytes())
    i = raw.find(np.ones(4, np.float32).tobytes())
    raw[i:i + 4] = np.float32(9).tobytes()
    tampered = tmp_path / "tampered.tg"
    tampered.write_bytes(bytes(raw))
    with pytest.raises(RuntimeError, match="corrupt or was modified"):
        torch.load(tampered)  # caught by the zip's CRC
    rebuilt = tmp_path / "rebuilt.tg"  # a valid zip with an edited member: caught by SHA-256
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(rebuilt, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "0.npy":
                data = data.replace(np.ones(4, np.float32).tobytes(),
                                    np.full(4, 9, np.float32).tobytes())
            dst.writestr(info.filename, data)
    with pytest.raises(RuntimeError, match="corrupt or was modified"):
        torch.load(rebuilt)
    foreign = tmp_path / "foreign.pt"
    with zipfile.ZipFile(foreign, "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x04K\x01.")
    with pytest.raises(RuntimeError, match="not a tapegrad file"):
        torch.load(foreign)
    junk = tmp_path / "junk.tg"
    junk.write_bytes(b"not a zip at all")
    with pytest.raises(RuntimeError, match="not a valid tapegrad file"):
        torch.load(junk)
    with pytest.raises(TypeError, match="cannot store"):
        torch.save({"f": lambda: 1}, tmp_path / "bad.tg")


# ---- training converges ---------------------------------------------------------------------
def test_a_small_classifier_trains():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)  # XOR-like quadrants
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
    for _ in range(300):
        loss = F.cross_entropy(model(xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
    accuracy = (model(xt).argmax(1) == yt).float().mean().item()
    assert accuracy > 0.95


def test_init_functions():
    torch.manual_seed(0)
    w = torch.empty(200, 100)
    nn.init.xavier_uniform_(w)
    bound = math.sqrt(6 / 300)
    assert np.abs(w.numpy()).max() <= bound and np.abs(w.numpy()).max() > 0.95 * bound
    nn.init.kaiming_uniform_(w, nonlinearity="relu")
    assert np.abs(w.numpy()).max() <= math.sqrt(6 / 100)
    nn.init.normal_(w, 1.0, 0.1)
    assert abs(w.numpy().mean() - 1) < 0.01 and abs(w.numpy().std() - 0.1) < 0.01
    nn.init.zeros_(w)
    assert w.abs().sum().item() == 0
    nn.init.uniform_(w, 2, 3)
    assert w.min().item() >= 2 and w.max().item() <= 3


def test_optimizer_steps_record_nothing():
    model = nn.Linear(4, 2)
    for cls in (torch.optim.SGD, torch.optim.Adam, torch.optim.AdamW, torch.optim.RMSprop):
        opt = cls(model.parameters(), lr=0.01)
        model(torch.ones(3, 4)).sum().backward()
        before = live_records()
        opt.step()
        assert live_records() == before == 0
        assert all(p.is_leaf and p.grad_fn is None for p in model.parameters())
