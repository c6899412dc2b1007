"""``tapegrad.nn``: layers, losses and the Module base class."""
from . import functional, init, utils
from .activation import (CELU, ELU, GELU, GLU, SELU, Hardshrink, Hardsigmoid, Hardswish,
                         Hardtanh, LogSigmoid, Mish, PReLU, ReLU6, RReLU, SiLU, Softmin,
                         Softplus, Softshrink, Softsign, Tanhshrink, Threshold)
from .attention import MultiheadAttention
from .container import (Dropout1d, Dropout2d, ModuleDict, ParameterDict, ParameterList,
                        Unflatten)
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from .loss import (CosineEmbeddingLoss, CosineSimilarity, GaussianNLLLoss, HingeEmbeddingLoss,
                   HuberLoss, KLDivLoss, MarginRankingLoss, PairwiseDistance, PoissonNLLLoss,
                   SoftMarginLoss, TripletMarginLoss)
from .modules import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, Dropout, Flatten, Identity,
                      L1Loss, LeakyReLU, Linear, LogSoftmax, Module, ModuleList, MSELoss,
                      NLLLoss, Parameter, ReLU, Sequential, Sigmoid, SmoothL1Loss, Softmax, Tanh)
from .normalization import (BatchNorm1d, BatchNorm2d, GroupNorm, InstanceNorm1d,
                            InstanceNorm2d, LayerNorm)
from .pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d,
                      MaxPool2d)
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from .sparse import Embedding

__all__ = ["functional", "init", "utils", "Module", "Parameter", "Linear", "Sequential",
           "ModuleList",
           "Identity", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax",
           "Flatten", "Dropout", "MSELoss", "L1Loss", "SmoothL1Loss", "CrossEntropyLoss",
           "NLLLoss", "BCELoss", "BCEWithLogitsLoss",
           # layers (issue 14, part 2)
           "Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "MaxPool1d", "MaxPool2d",
           "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "BatchNorm1d",
           "BatchNorm2d", "InstanceNorm1d", "InstanceNorm2d", "LayerNorm", "GroupNorm",
           "Embedding", "Dropout1d", "Dropout2d", "Unflatten", "ModuleDict", "ParameterList",
           "ParameterDict", "MultiheadAttention",
           "ELU", "CELU", "SELU", "GELU", "SiLU", "Mish", "Softplus", "Hardtanh", "ReLU6",
           "Hardsigmoid", "Hardswish", "LogSigmoid", "Softsign", "Tanhshrink", "Softshrink",
           "Hardshrink", "Threshold", "PReLU", "GLU", "Softmin", "RReLU",
           "KLDivLoss", "HuberLoss", "CosineEmbeddingLoss", "MarginRankingLoss",
           "PoissonNLLLoss", "GaussianNLLLoss", "SoftMarginLoss", "HingeEmbeddingLoss",
           "TripletMarginLoss", "CosineSimilarity", "PairwiseDistance",
           # recurrent (part 3)
           "RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]
