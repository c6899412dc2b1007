"""Stage 3, compile + cache: generated source to a Numba kernel, in memory and on disk.

``njit(cache=True)`` cannot cache a function made by ``exec`` (numba issue #3501), so each kernel
is written to ``<cache dir>/tg_<hash>.py`` (atomically: temporary file, then ``os.replace``) and
imported as a real module, registered in ``sys.modules`` before it runs; Numba then keeps the
machine code beside it and a second process loads it instead of compiling.

A cache directory holds code that gets executed: the directory must be private to the user, and
every file a kernel loads from (the source, Numba's index and machine code) is checked against a
manifest of SHA-256 digests before Numba reads any of it (see ``_from_disk``).
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

from ..envvars import env_flag
from . import debug
from .stats import STATS

class KernelCacheWarning(UserWarning):
    """The kernel cache directory cannot be used, or a file in it failed its check. (Not a
    RuntimeWarning: tapegrad filters numpy's RuntimeWarnings from its own modules.)"""


_memory: dict[str, object] = {}   # source hash -> kernel
STATE = {"numba_ready": False}    # has a kernel been loaded in this process (Numba initialised)
_warned = False


def cache_dir() -> str | None:
    """The disk cache directory, or None when the disk cache is off or unusable."""
    if not env_flag("TAPEGRAD_DISK_CACHE", True):
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
        warnings.warn(msg, KernelCacheWarning, stacklevel=4)


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
    STATE["numba_ready"] = True  # (set before the work: a failure here is reported anyway)
    directory = cache_dir()
    kernel = _from_disk(directory, h, source) if directory else None
    if kernel is None:
        namespace: dict = {}
        exec(compile(source.replace("cache=True", "cache=False"), f"<tapegrad kernel {h}>",
                     "exec"), namespace)
        kernel = namespace["kernel"]
    _memory[h] = kernel
    kernel.tapegrad_source = source
    STATS["kernels"] = len(_memory)
    if debug.LEVEL >= 4:
        print(f"[tapegrad] kernel {h}:\n{source}", file=sys.stderr)
    return kernel


def _from_disk(directory: str, h: str, source: str):
    """Import kernel ``h`` from the disk cache, after checking every file it would load from.

    The generated source must be exactly ``source``, and the source and Numba's index (.nbi)
    and machine code (.nbc) must match the SHA-256 digests in the kernel's manifest, written
    when they were compiled. Anything else (changed, truncated, foreign, unreadable, or
    compiled code with no manifest) is deleted and recompiled; a file that differs from its
    manifest is also reported."""
    path = os.path.join(directory, f"tg_{h}.py")
    try:
        with open(path, "rb") as f:
            existing = f.read()
    except OSError:
        existing = None
    try:
        wanted = source.encode()
        problem = None
        if existing is not None and existing != wanted:
            problem = f"{path} did not hold the source it is named for"
        elif existing is not None:
            problem = _check_manifest(directory, h)
        if problem or existing is None:
            if problem and problem is not _NO_MANIFEST:
                STATS["tampered"] += 1
                warnings.warn(f"tapegrad: kernel cache file {problem}; it was deleted and the "
                              "kernel recompiled", KernelCacheWarning, stacklevel=4)
            _drop_numba_cache(directory, h)
            _write_atomic(path, wanted)
        name = f"tapegrad_kernels.tg_{h}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # before exec: Numba's cache looks the module up by name
        spec.loader.exec_module(module)
        _origin[id(module.kernel)] = (directory, h)
        return module.kernel
    except OSError as e:
        _warn_once(f"tapegrad: kernel cache directory {directory!r} cannot be used ({e}); "
                   "compiled kernels will be kept in memory only")
        return None


_origin: dict[int, tuple] = {}  # id(kernel) -> (cache directory, hash), for its manifest
_NO_MANIFEST = "no manifest"    # compiled code from before manifests: dropped without a word


def _manifest_path(directory: str, h: str) -> str:
    return os.path.join(directory, f"tg_{h}.sha256")


def _kernel_files(directory: str, h: str) -> list[str]:
    """The files kernel ``h`` loads from, relative to the cache directory."""
    try:
        names = os.listdir(os.path.join(directory, "__pycache__"))
    except OSError:
        names = []
    numba = sorted(f"__pycache__/{n}" for n in names
                   if n.startswith(f"tg_{h}.") and n.endswith((".nbi", ".nbc")))
    return [f"tg_{h}.py", *numba]


def _digest(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def write_manifest(directory: str, h: str) -> None:
    """Record the SHA-256 of every file kernel ``h`` loads from (atomically)."""
    lines = [f"{_digest(os.path.join(directory, rel))}  {rel}\n"
             for rel in _kernel_files(directory, h)]
    _write_atomic(_manifest_path(directory, h), "".join(lines).encode())


def _check_manifest(directory: str, h: str) -> str | None:
    """None if every file kernel ``h`` would load from is in its manifest with its digest;
    otherwise what is wrong."""
    files = _kernel_files(directory, h)
    try:
        with open(_manifest_path(directory, h), "rb") as f:
            text = f.read().decode("ascii")
        listed = dict(reversed(line.split("  ", 1)) for line in text.splitlines())
    except FileNotFoundError:
        return _NO_MANIFEST if len(files) > 1 else None
    except (OSError, ValueError, UnicodeDecodeError):
        return f"{_manifest_path(directory, h)} is unreadable"
    for rel in files:
        if rel not in listed:
            return f"{os.path.join(directory, rel)} is not in the kernel's manifest"
        try:
            if _digest(os.path.join(directory, rel)) != listed[rel]:
                return f"{os.path.join(directory, rel)} does not match its manifest"
        except OSError:
            return f"{os.path.join(directory, rel)} is unreadable"
    return None


def _write_atomic(path: str, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _drop_numba_cache(directory: str, h: str) -> None:
    """Numba's compiled code for a kernel whose files are not trusted goes, with the manifest."""
    pycache = os.path.join(directory, "__pycache__")
    try:
        names = [os.path.join(pycache, n) for n in os.listdir(pycache) if n.startswith(f"tg_{h}.")]
    except OSError:
        names = []
    for path in [*names, _manifest_path(directory, h)]:
        try:
            os.unlink(path)
        except OSError:
            pass


def first_call(kernel, args: tuple) -> None:
    """Call a kernel that a plan has not run yet, and count what it cost: a compile, a load of
    machine code from Numba's disk cache, or nothing (another plan already compiled this kernel
    for these types: it is reused, and counted as ``kernel_reuses``)."""
    before = _numba_hits(kernel)
    n_signatures = len(getattr(kernel, "signatures", ()))
    t0 = time.perf_counter()
    kernel(*args)
    seconds = time.perf_counter() - t0
    if len(getattr(kernel, "signatures", ())) == n_signatures and n_signatures:
        STATS["kernel_reuses"] += 1
    elif _numba_hits(kernel) > before:
        STATS["disk_loads"] += 1
        STATS["disk_load_seconds"] += seconds
        if debug.LEVEL >= 1:
            print(f"[tapegrad] loaded a kernel from the disk cache in {seconds * 1e3:.1f} ms",
                  file=sys.stderr)
    else:
        STATS["compiles"] += 1
        STATS["compile_seconds"] += seconds
        origin = _origin.get(id(kernel))
        if origin is not None:  # Numba wrote new machine code beside the source
            try:
                write_manifest(*origin)
            except OSError:
                pass  # without a manifest the files are dropped, not trusted, next time
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
