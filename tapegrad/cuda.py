"""There is no GPU in tapegrad: these answer as PyTorch's CPU build answers."""

__all__ = ["is_available", "device_count", "manual_seed", "manual_seed_all"]


def is_available() -> bool:
    """False: tapegrad has no GPU support."""
    return False


def device_count() -> int:
    """0: tapegrad has no GPU support."""
    return 0


def manual_seed(seed: int) -> None:
    """Does nothing (there is no GPU generator); also ``manual_seed_all``."""
    pass


manual_seed_all = manual_seed
