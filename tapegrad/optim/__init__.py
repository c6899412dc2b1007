"""``tapegrad.optim``: optimizers. Updates run under no_grad, so they record nothing."""
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD"]
