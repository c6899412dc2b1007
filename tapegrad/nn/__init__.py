"""``tapegrad.nn``: layers, losses and the Module base class."""
from . import functional, init, utils
from .modules import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, Dropout, Flatten, Identity,
                      L1Loss, LeakyReLU, Linear, LogSoftmax, Module, ModuleList, MSELoss,
                      NLLLoss, Parameter, ReLU, Sequential, Sigmoid, SmoothL1Loss, Softmax, Tanh)

__all__ = ["functional", "init", "utils", "Module", "Parameter", "Linear", "Sequential",
           "ModuleList",
           "Identity", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax",
           "Flatten", "Dropout", "MSELoss", "L1Loss", "SmoothL1Loss", "CrossEntropyLoss",
           "NLLLoss", "BCELoss", "BCEWithLogitsLoss"]
