"""``tapegrad.utils.data``: PyTorch's ``torch.utils.data`` names, arguments and messages.

Random order (``shuffle=True``, ``RandomSampler``, ``random_split``) comes from tapegrad's
generator, not PyTorch's mt19937: a seeded run repeats itself, but the order is not PyTorch's
(see ``sampler.py``).
"""
from .dataloader import DataLoader, default_collate, default_convert, get_worker_info
from .dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset,
                      Subset, TensorDataset, random_split)
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                      SubsetRandomSampler, WeightedRandomSampler)

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset",
           "IterableDataset", "RandomSampler", "Sampler", "SequentialSampler", "StackDataset",
           "Subset", "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler",
           "default_collate", "default_convert", "get_worker_info", "random_split"]
