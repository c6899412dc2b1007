"""Where a backward's root came from in the user's code: the frame outside tapegrad, the source
line (a notebook cell's number), the op it calls."""
from __future__ import annotations

import ast
import linecache
import os
import re
import sys



_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _user_frame():
    """The innermost frame outside tapegrad (the line that called backward)."""
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame = frame.f_back
    return frame


_CALL_NAMES = {"Add": "add", "Sub": "sub", "Mult": "mul", "Div": "div", "Pow": "pow",
               "MatMult": "matmul"}


def _top_op(source: str) -> str | None:
    """The outermost operation of an assignment's right-hand side: ``a + b`` -> add,
    ``f(x).mean()`` -> mean, ``F.mse_loss(...)`` -> mse_loss."""
    try:
        node = ast.parse(source.strip()).body[0]
    except (SyntaxError, IndexError):
        return None
    value = getattr(node, "value", None)
    if isinstance(value, ast.BinOp):
        return _CALL_NAMES.get(type(value.op).__name__)
    if isinstance(value, ast.Call):
        f = value.func
        return f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
    return None


def _matches(call: str | None, rec) -> bool:
    if call is None:
        return False
    flat = call.replace("_", "").lower()
    return call == rec.op.name or rec.name.lower().startswith(flat)


def source_of_root(root_slot: int, root_rec) -> str:
    """``file.py:23  loss = ...``: the user's line that produced the root of a backward.

    Found from the line that called backward: a name on it bound to the root tensor is looked
    up in the lines above it (in the same function) for its assignment; among several, the
    nearest whose outermost operation is the root's own op (``loss = loss + l1`` for an add,
    ``loss = crit(out, y).mean()`` for a mean), else the nearest. Otherwise the backward line
    itself (``(x * w).sum().backward()`` produces its root there)."""
    frame = _user_frame()
    if frame is None:
        return "?"
    filename, lineno = frame.f_code.co_filename, frame.f_lineno
    here = linecache.getline(filename, lineno).strip()
    short = os.path.basename(filename)
    found = lineno, here
    for name in dict.fromkeys(re.findall(r"[A-Za-z_]\w*", here)):
        value = frame.f_locals.get(name)
        if getattr(value, "_slot", None) != root_slot:
            continue
        pattern = re.compile(rf"^\s*{re.escape(name)}\s*(:[^=]*)?=[^=]")
        first = max(frame.f_code.co_firstlineno, lineno - 200)
        candidates = [(n, linecache.getline(filename, n).strip())
                      for n in range(lineno - 1, first - 1, -1)
                      if pattern.match(linecache.getline(filename, n))]
        if candidates:
            found = next((c for c in candidates if _matches(_top_op(c[1]), root_rec)),
                         candidates[0])
        break
    text = found[1] if len(found[1]) <= 60 else found[1][:57] + "..."
    cell = _notebook_cell(filename)
    if cell is not None:
        return f"In [{cell}], line {found[0]}  {text}"
    return f"{short}:{found[0]}  {text}"


def _notebook_cell(filename: str) -> int | None:
    """The execution count of the notebook cell compiled under ``filename`` (IPython names a
    cell's code ``/tmp/ipykernel_<pid>/<hash>.py``), as Jupyter's own tracebacks show it; None
    outside IPython."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    try:
        shell = ipython.get_ipython()
        return shell.compile._filename_map.get(filename) if shell is not None else None
    except AttributeError:  # an IPython without the map: keep the file name
        return None
