"""``tapegrad.save`` / ``tapegrad.load``: tensors, state dicts and nested containers of them.

The file is a zip archive: ``tapegrad.json`` describes the structure (dicts, lists, tuples,
numbers, strings, None, tensors by index) and each tensor is a ``.npy`` member read with
``allow_pickle=False``. Nothing in a file is ever executed on load, unlike a pickle. A SHA-256
of every member is stored in the structure, so a corrupted or edited file is refused.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from collections import OrderedDict

import numpy as np

from .tensor import Tensor

FORMAT = "tapegrad-save"
VERSION = 1


class LoadError(RuntimeError):
    pass


def _encode(obj, arrays: list):
    if isinstance(obj, Tensor):
        arrays.append(np.ascontiguousarray(obj._data))
        return {"tensor": len(arrays) - 1, "requires_grad": bool(obj.requires_grad),
                "parameter": type(obj).__name__ == "Parameter"}
    if isinstance(obj, np.ndarray):
        arrays.append(np.ascontiguousarray(obj))
        return {"ndarray": len(arrays) - 1}
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if not isinstance(k, (str, int)):
                raise TypeError(f"tapegrad.save: dict keys must be str or int, not "
                                f"{type(k).__name__}")
            items.append([k, _encode(v, arrays)])
        return {"dict": items, "ordered": isinstance(obj, OrderedDict)}
    if isinstance(obj, (list, tuple)):
        return {"list" if isinstance(obj, list) else "tuple": [_encode(v, arrays) for v in obj]}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"value": obj}
    if isinstance(obj, np.generic):
        return {"value": obj.item()}
    raise TypeError(f"tapegrad.save cannot store a {type(obj).__name__}: only tensors, numpy "
                    "arrays, numbers, strings, None and dicts/lists/tuples of them")


def _decode(node, arrays: list):
    if "tensor" in node:
        t = Tensor._make(arrays[node["tensor"]])
        if node.get("parameter"):
            from .nn import Parameter
            return Parameter(t, requires_grad=node["requires_grad"])
        if node["requires_grad"]:
            t.requires_grad_(True)
        return t
    if "ndarray" in node:
        return arrays[node["ndarray"]]
    if "dict" in node:
        d = OrderedDict() if node.get("ordered") else {}
        for k, v in node["dict"]:
            d[k] = _decode(v, arrays)
        return d
    if "list" in node:
        return [_decode(v, arrays) for v in node["list"]]
    if "tuple" in node:
        return tuple(_decode(v, arrays) for v in node["tuple"])
    return node["value"]


def save(obj, f) -> None:
    """Write ``obj`` to the path or binary file ``f``."""
    arrays: list = []
    structure = _encode(obj, arrays)
    members = {}
    for i, a in enumerate(arrays):
        buf = io.BytesIO()
        np.save(buf, a, allow_pickle=False)
        members[f"{i}.npy"] = buf.getvalue()
    header = {"format": FORMAT, "version": VERSION, "object": structure,
              "sha256": {n: hashlib.sha256(b).hexdigest() for n, b in members.items()}}
    target = f
    if isinstance(f, (str, os.PathLike)):
        target = open(f, "wb")
    try:
        with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as z:
            z.writestr("tapegrad.json", json.dumps(header))
            for n, b in members.items():
                z.writestr(n, b)
    finally:
        if target is not f:
            target.close()


def load(f, map_location=None, weights_only: bool = True):
    """Read what ``save`` wrote; a file that is not one, or was changed, raises LoadError."""
    name = f if isinstance(f, (str, os.PathLike)) else getattr(f, "name", "<file>")
    try:
        with zipfile.ZipFile(f) as z:
            try:
                header = json.loads(z.read("tapegrad.json"))
            except KeyError:
                raise LoadError(f"tapegrad.load: {name} is not a tapegrad file (no tapegrad.json; "
                                "PyTorch's own files cannot be read)") from None
            if header.get("format") != FORMAT:
                raise LoadError(f"tapegrad.load: {name} is not a tapegrad file")
            if header.get("version", 0) > VERSION:
                raise LoadError(f"tapegrad.load: {name} was written by a newer tapegrad "
                                f"(format version {header['version']})")
            arrays = []
            for i in range(len(header["sha256"])):
                try:
                    data = z.read(f"{i}.npy")
                except zipfile.BadZipFile as e:
                    raise LoadError(f"tapegrad.load: {name} is corrupt or was modified "
                                    f"({e})") from None
                if hashlib.sha256(data).hexdigest() != header["sha256"][f"{i}.npy"]:
                    raise LoadError(f"tapegrad.load: {name} is corrupt or was modified (tensor "
                                    f"{i} does not match its checksum)")
                arrays.append(np.load(io.BytesIO(data), allow_pickle=False))
    except (zipfile.BadZipFile, KeyError, ValueError, json.JSONDecodeError) as e:
        raise LoadError(f"tapegrad.load: {name} is not a valid tapegrad file ({e})") from None
    return _decode(header["object"], arrays)
