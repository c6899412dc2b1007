"""``tapegrad.optim``: optimizers. Updates run under no_grad, so they record nothing."""
from . import lr_scheduler
from .adam import Adam, AdamW, RMSprop
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "lr_scheduler"]
