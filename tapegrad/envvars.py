"""The TAPEGRAD_* environment variables, read once at import and checked: a bad value is an
error that names the variable, not a silent default or a ValueError from deep inside."""
from __future__ import annotations

import os


def env_int(name: str, default: int, minimum: int = 0) -> int:
    """Integer variable ``name``: ``default`` when unset or empty."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r}: expected an integer") from None
    if value < minimum:
        raise ValueError(f"{name}={raw!r}: expected an integer >= {minimum}")
    return value


def env_flag(name: str, default: bool) -> bool:
    """Variable ``name`` as 0 or 1."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if raw not in ("0", "1"):
        raise ValueError(f"{name}={raw!r}: expected 0 or 1")
    return raw == "1"


def env_choice(name: str, default: str, choices: tuple) -> str:
    raw = os.environ.get(name, "").strip() or default
    if raw not in choices:
        raise ValueError(f"{name}={raw!r}: expected one of {', '.join(choices)}")
    return raw
