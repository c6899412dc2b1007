"""PyTorch scripts run unchanged with tapegrad standing in for torch must print what PyTorch
2.13 printed: the seeds' own scripts (copied from shared/compat) and compat_tutorial_*.py,
whose .expected files were produced by PyTorch 2.13.0+cpu on this machine."""
from __future__ import annotations

import glob
import os
import re
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = sorted(glob.glob(os.path.join(HERE, "seeds", "*.py")))
NUM = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|nan|inf")
RUNNER = """
import importlib, runpy, sys
for alias, real in {"torch": "tapegrad", "torch.optim": "tapegrad.optim",
                    "torch.autograd": "tapegrad.autograd", "torch.nn": "tapegrad.nn",
                    "torch.nn.functional": "tapegrad.nn.functional",
                    "torch.autograd.functional": "tapegrad.autograd.functional",
                    "torch.utils": "tapegrad.utils", "torch.utils.data": "tapegrad.utils.data",
                    "torch.optim.lr_scheduler": "tapegrad.optim.lr_scheduler",
                    "torch.func": "tapegrad.func",
                    "torch.autograd.forward_ad": "tapegrad.autograd.forward_ad"}.items():
    sys.modules[alias] = importlib.import_module(real)
runpy.run_path(sys.argv[1], run_name="__main__")
"""


def _lines(text: str) -> list[str]:
    out = []
    for line in text.replace("tapegrad.", "torch.").splitlines():
        line = re.sub(r"\s+", " ", re.sub(r"0x[0-9a-fA-F]+", "0xADDR", line)).strip()
        if line:
            out.append(line)
    return out


def _same(a: str, b: str) -> bool:
    if NUM.sub("#", a) != NUM.sub("#", b):
        return False
    return all(x == y or abs(float(x) - float(y)) <= 1e-5 + 1e-4 * abs(float(y))
               for x, y in zip(NUM.findall(a), NUM.findall(b)))


def test_there_are_seed_scripts():
    assert len(SCRIPTS) >= 6


@pytest.mark.parametrize("script", SCRIPTS, ids=os.path.basename)
def test_seed_prints_what_pytorch_printed(script):
    proc = subprocess.run([sys.executable, "-c", RUNNER, script], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    with open(script[:-3] + ".expected") as f:
        expected = _lines(f.read())
    got = _lines(proc.stdout)
    assert len(got) == len(expected), (got, expected)
    for g, e in zip(got, expected):
        assert _same(g, e), f"got {g!r}, PyTorch printed {e!r}"
