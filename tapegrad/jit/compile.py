"""Stage 3, compile + cache: generated source to a Numba kernel, in memory and on disk.

``njit(cache=True)`` cannot cache a function made by ``exec`` (numba issue #3501), so each kernel
is written to ``<cache dir>/tg_<hash>.py`` (atomically: temporary file, then ``os.replace``) and
imported as a real module, registered in ``sys.modules`` before it runs; Numba then keeps the
machine code beside it and a second process loads it instead of compiling.

A cache directory holds code that gets executed: the directory must be private to the user, and a
file whose content is not exactly the source we generated is never imported: it is regenerated.
If the directory cannot be used, one warning is given and kernels are compiled in memory.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import stat
import sys
import tempfile
import time
import warnings

from . import debug
from .stats import STATS

_memory: dict[str, object] = {}   # source hash -> kernel
_warned = False


def cache_dir() -> str | None:
    """The disk cache directory, or None when the disk cache is off or unusable."""
    if os.environ.get("TAPEGRAD_DISK_CACHE", "1") == "0":
        return None
    path = os.environ.get("TAPEGRAD_CACHE_DIR")
    if not path:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        path = os.path.join(base, "tapegrad")
    problem = _check_dir(path)
    if problem:
        _warn_once(f"tapegrad: kernel cache directory {path!r} {problem}; compiled kernels will "
                   "be kept in memory only")
        return None
    return path


def _check_dir(path: str) -> str | None:
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.stat(path)
    except OSError as e:
        return f"cannot be created ({e.strerror})"
    if not os.access(path, os.W_OK | os.X_OK):
        return "is not writable"
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return "belongs to another user"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return "is writable by other users"
    return None


def _warn_once(msg: str) -> None:
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(msg, RuntimeWarning, stacklevel=4)


def source_hash(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()[:24]


def load(source: str):
    """The kernel for ``source``: from memory, else imported from the disk cache (writing the
    file if needed), else compiled in memory."""
    h = source_hash(source)
    kernel = _memory.get(h)
    if kernel is not None:
        return kernel
    from ..backends import wait_for_preload
    wait_for_preload()
    directory = cache_dir()
    kernel = _from_disk(directory, h, source) if directory else None
    if kernel is None:
        namespace: dict = {}
        exec(compile(source.replace("cache=True", "cache=False"), f"<tapegrad kernel {h}>",
                     "exec"), namespace)
        kernel = namespace["kernel"]
    _memory[h] = kernel
    STATS["kernels"] = len(_memory)
    if debug.LEVEL >= 4:
        print(f"[tapegrad] kernel {h}:\n{source}", file=sys.stderr)
    return kernel


def _from_disk(directory: str, h: str, source: str):
    path = os.path.join(directory, f"tg_{h}.py")
    try:
        with open(path) as f:
            existing = f.read()
    except OSError:
        existing = None
    try:
        if existing != source:
            if existing is not None:
                STATS["tampered"] += 1
                warnings.warn(f"tapegrad: kernel cache file {path} did not hold the source it is "
                              "named for; it was regenerated", RuntimeWarning, stacklevel=4)
                _drop_numba_cache(directory, h)
            _write_atomic(path, source)
        name = f"tapegrad_kernels.tg_{h}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # before exec: Numba's cache looks the module up by name
        spec.loader.exec_module(module)
        return module.kernel
    except OSError as e:
        _warn_once(f"tapegrad: kernel cache directory {directory!r} cannot be used ({e}); "
                   "compiled kernels will be kept in memory only")
        return None


def _write_atomic(path: str, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-", suffix=".py")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _drop_numba_cache(directory: str, h: str) -> None:
    """Numba's compiled code for a file that was tampered with is not trusted either."""
    pycache = os.path.join(directory, "__pycache__")
    try:
        names = os.listdir(pycache)
    except OSError:
        return
    for n in names:
        if n.startswith(f"tg_{h}."):
            try:
                os.unlink(os.path.join(pycache, n))
            except OSError:
                pass


def first_call(kernel, args: tuple) -> None:
    """Call a kernel that has not run with these types yet, and count what it cost: a compile,
    or a load of machine code from Numba's disk cache."""
    before = _numba_hits(kernel)
    t0 = time.perf_counter()
    kernel(*args)
    seconds = time.perf_counter() - t0
    if _numba_hits(kernel) > before:
        STATS["disk_loads"] += 1
        STATS["disk_load_seconds"] += seconds
        if debug.LEVEL >= 1:
            print(f"[tapegrad] loaded a kernel from the disk cache in {seconds * 1e3:.1f} ms",
                  file=sys.stderr)
    else:
        STATS["compiles"] += 1
        STATS["compile_seconds"] += seconds
        if debug.LEVEL >= 1:
            print(f"[tapegrad] compiled a kernel in {seconds:.2f} s", file=sys.stderr)


def _numba_hits(kernel) -> int:
    stats = getattr(kernel, "stats", None)
    hits = getattr(stats, "cache_hits", None)
    return sum(hits.values()) if hits else 0


def clear(disk: bool = False) -> None:
    _memory.clear()
    STATS["kernels"] = 0
    if disk:
        directory = cache_dir()
        if directory:
            for root, _dirs, files in os.walk(directory):
                for n in files:
                    if n.startswith("tg_") or n.startswith(".tmp-"):
                        try:
                            os.unlink(os.path.join(root, n))
                        except OSError:
                            pass
