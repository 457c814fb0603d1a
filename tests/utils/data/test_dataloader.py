"""DataLoader, samplers, collate and random_split: PyTorch's semantics, reproducibility, batching."""

import numpy as np
import pytest

import cnnlab
from cnnlab.datasets.base import ArrayImageDataset
from cnnlab.utils.data import (
    BatchSampler, Columns, DataLoader, Dataset, SequentialSampler, Subset, TensorDataset, default_collate,
    random_split,
)


def _ds(n=10):
    return TensorDataset(np.arange(n * 2, dtype=np.float32).reshape(n, 2), np.arange(n))


def _order(loader):
    return np.concatenate([y.numpy() for _, y in loader])


class PlainDataset(Dataset):
    """No __getitems__: the loader must fetch sample by sample."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.full(3, i, dtype=np.float32), i


def test_sequential_batches_and_dtypes():
    batches = list(DataLoader(_ds(10), batch_size=4))
    assert [len(y) for _, y in batches] == [4, 4, 2]
    x, y = batches[0]
    assert isinstance(x, cnnlab.Tensor) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x.numpy(), np.arange(8, dtype=np.float32).reshape(4, 2))
    np.testing.assert_array_equal(_order(DataLoader(_ds(10), batch_size=3)), np.arange(10))


def test_drop_last_and_len():
    loader = DataLoader(_ds(10), batch_size=4, drop_last=True)
    assert len(loader) == 2 and [len(y) for _, y in loader] == [4, 4]
    assert len(DataLoader(_ds(10), batch_size=4)) == 3
    assert len(DataLoader(_ds(8), batch_size=4, drop_last=True, shuffle=True, generator=1)) == 2


def test_shuffle_is_a_permutation_reproducible_with_a_seed():
    a = _order(DataLoader(_ds(50), batch_size=8, shuffle=True, generator=123))
    b = _order(DataLoader(_ds(50), batch_size=8, shuffle=True, generator=123))
    c = _order(DataLoader(_ds(50), batch_size=8, shuffle=True, generator=124))
    assert sorted(a) == list(range(50))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    loader = DataLoader(_ds(50), batch_size=8, shuffle=True, generator=np.random.default_rng(5))
    e1, e2 = _order(loader), _order(loader)
    assert not np.array_equal(e1, e2), "each epoch must draw a new order"


def test_default_generator_follows_manual_seed():
    cnnlab.manual_seed(7)
    a = _order(DataLoader(_ds(30), batch_size=5, shuffle=True))
    cnnlab.manual_seed(7)
    b = _order(DataLoader(_ds(30), batch_size=5, shuffle=True))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, np.arange(30))


def test_plain_dataset_and_fast_path_agree():
    plain = list(DataLoader(PlainDataset(7), batch_size=3))
    x, y = plain[-1]
    assert x.shape == (1, 3) and y.tolist() == [6]
    fast = DataLoader(_ds(7), batch_size=3)
    assert all(isinstance(b, tuple) for b in fast)


def test_array_image_dataset_batch_path_equals_per_sample_path():
    rng = np.random.default_rng(0)
    data = rng.integers(0, 256, (20, 6, 5), dtype=np.uint8)
    ds = ArrayImageDataset(data, rng.integers(0, 3, 20), transform=cnnlab.transforms.Compose(
        [cnnlab.transforms.ToTensor(), cnnlab.transforms.Normalize((0.3,), (0.2,))]))
    batch_x, batch_y = next(iter(DataLoader(ds, batch_size=20)))
    slow_x = np.stack([ds[i][0].numpy() for i in range(20)])
    assert batch_x.shape == (20, 1, 6, 5) and batch_x.dtype == np.float32
    np.testing.assert_array_equal(batch_x.numpy(), slow_x)
    np.testing.assert_array_equal(batch_y.numpy(), ds.targets)


def test_custom_collate_fn_gets_a_list_of_samples():
    seen = []

    def collate(samples):
        seen.append(samples)
        return len(samples)

    assert list(DataLoader(_ds(5), batch_size=2, collate_fn=collate)) == [2, 2, 1]
    x0, y0 = seen[0][0]
    assert float(x0[1]) == 1.0 and int(y0) == 0
    assert list(DataLoader(PlainDataset(3), batch_size=2, collate_fn=collate)) == [2, 1]


def test_default_collate_structures():
    out = default_collate([{"a": 1, "b": (1.5, np.zeros(2))}, {"a": 2, "b": (2.5, np.ones(2))}])
    assert out["a"].dtype == np.int64 and out["a"].tolist() == [1, 2]
    assert out["b"][0].dtype == np.float64 and out["b"][1].shape == (2, 2)
    assert default_collate(["x", "y"]) == ["x", "y"]
    with pytest.raises(RuntimeError, match="different shapes"):
        default_collate([np.zeros((3, 4)), np.zeros((3, 5))])


def test_columns_to_samples():
    cols = Columns((np.arange(6).reshape(3, 2), np.array([7, 8, 9])))
    assert [int(s[1]) for s in cols.to_samples()] == [7, 8, 9]


def test_batch_size_none_yields_samples():
    items = list(DataLoader(PlainDataset(3), batch_size=None))
    assert [i for _, i in items] == [0, 1, 2]


def test_bad_arguments():
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(_ds(), batch_size=0)
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(_ds(), sampler=SequentialSampler(_ds()), shuffle=True)
    with pytest.raises(TypeError, match="generator"):
        DataLoader(_ds(), shuffle=True, generator="seed")
    with pytest.raises(ValueError, match="size mismatch"):
        TensorDataset(np.zeros(3), np.zeros(4))


def test_batch_sampler_and_subset():
    loader = DataLoader(_ds(10), batch_sampler=BatchSampler([9, 8, 7, 6, 5], 2, False))
    np.testing.assert_array_equal(_order(loader), [9, 8, 7, 6, 5])
    sub = Subset(_ds(10), [3, 1, 4])
    np.testing.assert_array_equal(_order(DataLoader(sub, batch_size=2)), [3, 1, 4])


@pytest.mark.parametrize("lengths,expected", [
    ([0.8, 0.2], [8, 2]), ([0.34, 0.33, 0.33], [4, 3, 3]), ([0.5, 0.5], [5, 5]), ([3, 7], [3, 7]),
])
def test_random_split_lengths(lengths, expected):
    torch = pytest.importorskip("torch")
    parts = random_split(_ds(10), lengths, generator=0)
    got = [len(p) for p in parts]
    assert got == expected
    # torch's rule for fractions (floor, remainder round-robin) as the reference
    ref = [len(p) for p in torch.utils.data.random_split(range(10), lengths)]
    assert got == ref
    all_idx = sorted(i for p in parts for i in p.indices)
    assert all_idx == list(range(10))


def test_random_split_reproducible_and_errors():
    a = random_split(_ds(20), [0.5, 0.5], generator=3)
    b = random_split(_ds(20), [0.5, 0.5], generator=3)
    assert a[0].indices == b[0].indices
    with pytest.raises(ValueError, match="does not equal the length"):
        random_split(_ds(10), [3, 3])
    with pytest.raises(ValueError):
        random_split(_ds(10), [0.7, 0.5])
