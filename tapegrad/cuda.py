"""There is no GPU in tapegrad: these answer as PyTorch's CPU build answers."""


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def manual_seed(seed: int) -> None:
    pass


manual_seed_all = manual_seed
