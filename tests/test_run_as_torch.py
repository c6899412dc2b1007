"""``python -m tapegrad.run SCRIPT.py [args]``: a PyTorch script runs unchanged, every
``import torch[.X]`` giving the tapegrad module itself."""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import textwrap

ROOT = pathlib.Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent("""
    import sys
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from torch.utils.data import DataLoader, TensorDataset
    import tapegrad
    import tapegrad.nn.functional
    assert torch is tapegrad and nn is tapegrad.nn and F is tapegrad.nn.functional
    assert DataLoader is tapegrad.utils.data.DataLoader
    assert not hasattr(F, "__path__") and F.__spec__.name == "tapegrad.nn.functional"
    torch.manual_seed(0)
    print(torch.rand(3).tolist())
    print(sys.argv[1:], __name__, sys.path[0] == %r)
    try:
        import torch.no_such_module
    except ModuleNotFoundError as e:
        print(e)
    """)


def _run(tmp_path, body, *args):
    script = tmp_path / "script.py"
    script.write_text(body)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "tapegrad.run", str(script), *args],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)


def test_script_sees_tapegrad_as_torch(tmp_path):
    r = _run(tmp_path, SCRIPT % str(tmp_path), "a", "--flag", "3")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "[0.49625658988952637, 0.7682217955589294, 0.08847743272781372]"
    assert lines[1] == "['a', '--flag', '3'] __main__ True"
    assert lines[2] == "No module named 'torch.no_such_module'"


def test_missing_submodule_fails_as_it_would(tmp_path):
    r = _run(tmp_path, "import torch.no_such_module\n")
    assert r.returncode == 1
    assert "ModuleNotFoundError: No module named 'torch.no_such_module'" in r.stderr


def test_no_script_prints_usage(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-m", "tapegrad.run"], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 2 and "python -m tapegrad.run SCRIPT.py" in r.stdout
