"""Devices, as ``torch.device``: every device can be named, compared and printed; only the CPU
can hold tensors, and using another raises PyTorch's error."""
from __future__ import annotations


_DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "mtia", "ipu", "hpu",
                 "privateuseone")


class device:
    """A device, as ``torch.device``: ``device("cuda:1")`` or ``device("cuda", 1)`` can be built,
    compared and printed; only the CPU can hold tensors (using another device raises PyTorch's
    error for a CPU-only build)."""

    __slots__ = ("type", "index")

    def __init__(self, type: str = "cpu", index: int | None = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type
        name, _, idx = str(type).partition(":")
        if name not in _DEVICE_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start "
                               f"of device string: {type}")
        if idx:
            if index is not None or not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(idx)
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative, got {index}")
        self.type, self.index = name, index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except RuntimeError:
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))


def _use_device(d) -> device:
    """The device ``d`` names, if tensors can live there (the CPU); PyTorch's error otherwise."""
    d = d if isinstance(d, device) else device(d)
    if d.type == "cpu":
        return d
    if d.type == "cuda":
        raise AssertionError("Torch not compiled with CUDA enabled")
    raise RuntimeError(f"tapegrad runs on the CPU only; device '{d}' is not available")


CPU = device("cpu")
