"""tapegrad.utils.data (issue 14, part 1): datasets, samplers, DataLoader, collation."""
import collections

import numpy as np
import pytest

import tapegrad as torch
from tapegrad.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset,
                                 IterableDataset, RandomSampler, SequentialSampler, Subset,
                                 SubsetRandomSampler, TensorDataset, default_collate,
                                 random_split)


def _dataset(n=10):
    x = torch.arange(n * 2, dtype=torch.float32).reshape(n, 2)
    y = torch.arange(n)
    return TensorDataset(x, y)


def test_tensor_dataset():
    ds = _dataset(5)
    assert len(ds) == 5
    x, y = ds[3]
    assert x.tolist() == [6.0, 7.0] and y.item() == 3
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(torch.zeros(3), torch.zeros(4))


def test_sequential_batches_and_last_partial_batch():
    loader = DataLoader(_dataset(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    xs, ys = batches[0]
    assert xs.shape == (4, 2) and xs.dtype == torch.float32 and ys.tolist() == [0, 1, 2, 3]
    assert batches[2][1].tolist() == [8, 9]
    dropped = DataLoader(_dataset(10), batch_size=4, drop_last=True)
    assert len(dropped) == 2 and [b[1].tolist() for b in dropped] == [[0, 1, 2, 3],
                                                                      [4, 5, 6, 7]]


def test_shuffle_with_a_seeded_generator_is_repeatable_and_a_permutation():
    def order(seed):
        g = np.random.default_rng(seed)
        return [i for _, y in DataLoader(_dataset(10), batch_size=3, shuffle=True,
                                         generator=g) for i in y.tolist()]
    a, b, c = order(0), order(0), order(1)
    assert a == b and a != c
    assert sorted(a) == list(range(10)) and a != list(range(10))
    # The order is the generator's permutation, batch after batch.
    assert a == np.random.default_rng(0).permutation(10).tolist()


def test_shuffle_without_generator_follows_manual_seed_and_changes_per_epoch():
    loader = DataLoader(_dataset(10), batch_size=10, shuffle=True)
    torch.manual_seed(3)
    e1 = next(iter(loader))[1].tolist()
    e2 = next(iter(loader))[1].tolist()
    torch.manual_seed(3)
    assert next(iter(loader))[1].tolist() == e1
    assert e1 != e2 and sorted(e2) == list(range(10))


def test_sampler_and_batch_sampler_arguments():
    ds = _dataset(6)
    loader = DataLoader(ds, batch_size=2, sampler=[5, 4, 3, 2, 1, 0])
    assert [b[1].tolist() for b in loader] == [[5, 4], [3, 2], [1, 0]]
    loader = DataLoader(ds, batch_sampler=[[0, 5], [2], [1, 3, 4]])
    assert [b[1].tolist() for b in loader] == [[0, 5], [2], [1, 3, 4]]
    assert loader.batch_size is None


def test_batch_size_none_disables_batching():
    items = [b for b in DataLoader(_dataset(3), batch_size=None)]
    assert len(items) == 3 and items[1][0].shape == (2,)
    arr = list(DataLoader([np.array([1.0, 2.0])], batch_size=None))
    assert isinstance(arr[0], torch.Tensor) and arr[0].dtype == torch.float64


def test_dataloader_errors_are_pytorchs():
    ds = _dataset(4)
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(ds, shuffle=True, sampler=[0, 1])
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive with "
                                         "batch_size, shuffle, sampler, and drop_last"):
        DataLoader(ds, batch_size=2, batch_sampler=[[0]])
    with pytest.raises(ValueError, match="batch_size=None option disables auto-batching"):
        DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(ds, num_workers=-1)
    loader = DataLoader(ds)
    with pytest.raises(ValueError, match="batch_size attribute should not be set after "
                                         "DataLoader is initialized"):
        loader.batch_size = 3


def test_num_workers_runs_in_process():
    loader = DataLoader(_dataset(5), batch_size=2, num_workers=2)
    assert [b[1].tolist() for b in loader] == [[0, 1], [2, 3], [4]]
    assert torch.utils.data.get_worker_info() is None


def test_default_collate_numbers_dicts_tuples_namedtuples_strings():
    b = default_collate([1.5, 2.5])
    assert b.dtype == torch.float64 and b.tolist() == [1.5, 2.5]
    b = default_collate([1, 2, 3])
    assert b.dtype == torch.int64
    b = default_collate([{"x": np.float32(1), "name": "a"}, {"x": np.float32(2), "name": "b"}])
    assert b["x"].dtype == torch.float32 and b["x"].tolist() == [1.0, 2.0]
    assert b["name"] == ["a", "b"]
    b = default_collate([(torch.zeros(2), 1), (torch.ones(2), 2)])
    assert isinstance(b, list) and b[0].shape == (2, 2) and b[1].tolist() == [1, 2]
    P = collections.namedtuple("P", "a b")
    b = default_collate([P(1.0, [1, 2]), P(2.0, [3, 4])])
    assert isinstance(b, P) and b.a.tolist() == [1.0, 2.0]
    assert [t.tolist() for t in b.b] == [[1, 3], [2, 4]]
    b = default_collate([np.zeros((2, 3)), np.ones((2, 3))])
    assert b.shape == (2, 2, 3) and b.dtype == torch.float64
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal "
                                           "size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors, numpy "
                                        "arrays, numbers, dicts or lists; found <class 'object'>"):
        default_collate([object()])


def test_custom_collate_fn_and_dict_dataset():
    class D(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return {"x": torch.full((2,), float(i)), "y": i}

    batches = list(DataLoader(D(), batch_size=2))
    assert batches[1]["x"].tolist() == [[2.0, 2.0], [3.0, 3.0]]
    assert batches[1]["y"].tolist() == [2, 3]
    sums = list(DataLoader(D(), batch_size=2, collate_fn=lambda b: sum(s["y"] for s in b)))
    assert sums == [1, 5]


def test_iterable_dataset():
    class Count(IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

        def __len__(self):
            return self.n

    loader = DataLoader(Count(7), batch_size=3)
    assert [b.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6]] and len(loader) == 3
    loader = DataLoader(Count(7), batch_size=3, drop_last=True)
    assert [b.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5]] and len(loader) == 2
    with pytest.raises(ValueError, match="DataLoader with IterableDataset: expected unspecified "
                                         "shuffle option, but got shuffle=True"):
        DataLoader(Count(3), shuffle=True)


def test_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    r = list(RandomSampler(range(8), generator=np.random.default_rng(5)))
    assert sorted(r) == list(range(8))
    r = list(RandomSampler(range(3), replacement=True, num_samples=50,
                           generator=np.random.default_rng(0)))
    assert len(r) == 50 and set(r) <= {0, 1, 2}
    r = list(RandomSampler(range(3), num_samples=7, generator=np.random.default_rng(0)))
    assert len(r) == 7 and sorted(r[:3]) == [0, 1, 2] and sorted(r[3:6]) == [0, 1, 2]
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but "
                                         "got num_samples=0"):
        RandomSampler(range(3), num_samples=0)
    s = list(SubsetRandomSampler([10, 20, 30], generator=np.random.default_rng(1)))
    assert sorted(s) == [10, 20, 30]
    assert list(BatchSampler(SequentialSampler(range(10)), 3, False)) == \
        [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert list(BatchSampler(SequentialSampler(range(10)), 3, True)) == \
        [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert len(BatchSampler(range(10), 3, False)) == 4
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, but "
                                         "got batch_size=0"):
        BatchSampler(range(3), 0, False)


def test_random_split_subset_concat():
    ds = _dataset(10)
    a, b = random_split(ds, [3, 7], generator=np.random.default_rng(0))
    assert len(a) == 3 and len(b) == 7
    seen = sorted(int(a[i][1]) for i in range(3)) + sorted(int(b[i][1]) for i in range(7))
    assert sorted(seen) == list(range(10))
    assert a.indices == np.random.default_rng(0).permutation(10).tolist()[:3]
    parts = random_split(range(30), [0.3, 0.3, 0.4], generator=np.random.default_rng(0))
    assert [len(p) for p in parts] == [9, 9, 12]
    parts = random_split(range(11), [0.5, 0.5])
    assert [len(p) for p in parts] == [6, 5]  # the remainder goes to the first split
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length of the "
                                         "input dataset!"):
        random_split(range(5), [2, 2])
    sub = Subset(ds, [4, 2])
    assert len(sub) == 2 and sub[0][1].item() == 4
    cat = ConcatDataset([range(3), range(10, 14)])
    assert len(cat) == 7 and [cat[i] for i in range(7)] == [0, 1, 2, 10, 11, 12, 13]
    assert cat[-1] == 13 and cat.cumulative_sizes == [3, 7]
    both = ds + ds
    assert isinstance(both, ConcatDataset) and len(both) == 20


def test_training_loop_with_dataloader():
    torch.manual_seed(0)
    x = torch.randn(64, 3)
    w_true = torch.tensor([[1.0], [-2.0], [0.5]])
    y = x @ w_true
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True,
                        generator=np.random.default_rng(0))
    for _ in range(30):
        for xb, yb in loader:
            loss = ((model(xb) - yb) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    assert loss.item() < 1e-3
