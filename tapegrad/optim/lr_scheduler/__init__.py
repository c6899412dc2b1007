"""Learning-rate schedules, as torch.optim.lr_scheduler computes them: the base (``base``),
schedules by epoch (``decay``), schedulers of schedulers (``chain``), ``ReduceLROnPlateau``
(``plateau``) and the per-batch cycles (``cyclic``)."""
from .base import LRScheduler
from .chain import ChainedScheduler, SequentialLR
from .cyclic import CyclicLR, OneCycleLR
from .decay import (ConstantLR, CosineAnnealingLR, ExponentialLR, LambdaLR, LinearLR,
                    MultiplicativeLR, MultiStepLR, StepLR)
from .plateau import ReduceLROnPlateau

__all__ = ["LRScheduler", "StepLR", "CosineAnnealingLR", "LambdaLR", "MultiplicativeLR",
           "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR", "SequentialLR",
           "ChainedScheduler", "ReduceLROnPlateau", "CyclicLR", "OneCycleLR"]
