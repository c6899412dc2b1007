"""Loss modules: MSE, L1, SmoothL1, CrossEntropy, NLL, BCE, BCEWithLogits, KLDiv, Huber,
CosineEmbedding, MarginRanking, PoissonNLL, GaussianNLL, and a few neighbours."""
from __future__ import annotations

from . import functional as Fn
from . import functional_loss as FLo
from ._common import legacy_reduction
from .modules import Module


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = legacy_reduction(size_average, reduce, reduction)


class KLDivLoss(_Loss):
    """Pointwise KL divergence, ``input`` log-probabilities; ``reduction='batchmean'`` gives the
    mathematical KL divergence per sample."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 log_target: bool = False) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return FLo.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class HuberLoss(_Loss):
    """Quadratic below ``delta``, linear above."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        return FLo.huber_loss(input, target, self.reduction, self.delta)


class _MarginLoss(_Loss):
    """A loss of two inputs and a target with a ``margin`` (CosineEmbedding, MarginRanking)."""

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin


class CosineEmbeddingLoss(_MarginLoss):
    """1 - cos for target 1, max(0, cos - margin) for target -1."""

    def forward(self, input1, input2, target):
        return FLo.cosine_embedding_loss(input1, input2, target, self.margin, self.reduction)


class MarginRankingLoss(_MarginLoss):
    """max(0, -target * (x1 - x2) + margin)."""

    def forward(self, input1, input2, target):
        return FLo.margin_ranking_loss(input1, input2, target, self.margin, self.reduction)


class PoissonNLLLoss(_Loss):
    """Negative log likelihood of a Poisson target, the rate given as log (default) or not."""

    def __init__(self, log_input: bool = True, full: bool = False, size_average=None,
                 eps: float = 1e-8, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        return FLo.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full,
                                    eps=self.eps, reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Negative log likelihood of a Gaussian target with predicted mean and variance."""

    def __init__(self, *, full: bool = False, eps: float = 1e-6,
                 reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):
        return FLo.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps,
                                     reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """log(1 + exp(-target * input))."""

    def forward(self, input, target):
        return FLo.soft_margin_loss(input, target, self.reduction)


class HingeEmbeddingLoss(_Loss):
    """input for target 1, max(0, margin - input) for target -1."""

    def __init__(self, margin: float = 1.0, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):
        return FLo.hinge_embedding_loss(input, target, self.margin, self.reduction)


class TripletMarginLoss(_Loss):
    """max(d(a, p) - d(a, n) + margin, 0)."""

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                 swap: bool = False, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative):
        return FLo.triplet_margin_loss(anchor, positive, negative, self.margin, self.p,
                                       self.eps, self.swap, self.reduction)


class CosineSimilarity(Module):
    """Cosine similarity along ``dim``."""

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return FLo.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """p-norm of x1 - x2 + eps along the last dim."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return FLo.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class _ReductionLoss(Module):
    """The losses that take only ``reduction`` (first, positionally)."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = reduction


class MSELoss(_ReductionLoss):
    """Module form of ``functional.mse_loss``."""
    def forward(self, input, target):
        return Fn.mse_loss(input, target, self.reduction)


class L1Loss(_ReductionLoss):
    """Module form of ``functional.l1_loss``."""
    def forward(self, input, target):
        return Fn.l1_loss(input, target, self.reduction)


class SmoothL1Loss(_ReductionLoss):
    """Module form of ``functional.smooth_l1_loss``."""
    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input, target):
        return Fn.smooth_l1_loss(input, target, self.reduction, self.beta)


class CrossEntropyLoss(_ReductionLoss):
    """Module form of ``functional.cross_entropy``: expects logits of shape (N, C) or (C,) and
    class indices (or probabilities)."""
    def __init__(self, weight=None, reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(reduction)
        self.weight, self.label_smoothing = weight, label_smoothing

    def forward(self, input, target):
        return Fn.cross_entropy(input, target, self.weight, self.reduction, self.label_smoothing)


class _WeightedLoss(_ReductionLoss):
    """A loss with per-class ``weight`` (first) and ``reduction``: NLLLoss, BCELoss."""

    def __init__(self, weight=None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.weight = weight


class NLLLoss(_WeightedLoss):
    """Module form of ``functional.nll_loss``: expects log-probabilities."""

    def forward(self, input, target):
        return Fn.nll_loss(input, target, self.weight, self.reduction)


class BCELoss(_WeightedLoss):
    """Module form of ``functional.binary_cross_entropy``: expects probabilities."""

    def forward(self, input, target):
        return Fn.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_ReductionLoss):
    """Module form of ``functional.binary_cross_entropy_with_logits``: expects logits."""
    def __init__(self, weight=None, reduction: str = "mean", pos_weight=None) -> None:
        super().__init__(reduction)
        self.weight, self.pos_weight = weight, pos_weight

    def forward(self, input, target):
        return Fn.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction,
                                                   self.pos_weight)
