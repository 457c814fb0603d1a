"""sort, argsort and topk against torch: values, indices, gradients, finite differences."""

import numpy as np
import pytest
import torch

import cnnlab
from helpers import check_against_torch, gradcheck

rng = np.random.default_rng(0)


def _distinct(*shape):
    return rng.permutation(int(np.prod(shape))).reshape(shape).astype(np.float32) / 7 - 3


@pytest.mark.parametrize("shape,dim", [((7,), 0), ((3, 5), 1), ((3, 5), 0), ((2, 3, 4), -1), ((2, 3, 4), 1)])
@pytest.mark.parametrize("descending", [False, True])
def test_sort(shape, dim, descending):
    x = _distinct(*shape)
    check_against_torch(lambda t: t.sort(dim, descending).values, lambda t: t.sort(dim, descending).values, x)
    ours, theirs = cnnlab.tensor(x).sort(dim=dim, descending=descending), torch.tensor(x).sort(dim=dim, descending=descending)
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    np.testing.assert_array_equal(cnnlab.argsort(cnnlab.tensor(x), dim, descending).numpy(), theirs.indices.numpy())
    gradcheck(lambda t: t.sort(dim, descending).values, x)


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_stable_sort_with_ties(descending, dtype):
    x = np.array([[3, 1, 2, 1, 3, 0, 2]], dtype=dtype)
    ours = cnnlab.tensor(x).sort(descending=descending, stable=True)
    theirs = torch.tensor(x).sort(descending=descending, stable=True)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())


@pytest.mark.parametrize("shape,k,dim", [((7,), 3, 0), ((3, 5), 2, 1), ((3, 5), 3, 0), ((2, 3, 4), 4, -1), ((4, 6), 6, 1)])
@pytest.mark.parametrize("largest", [True, False])
def test_topk(shape, k, dim, largest):
    x = _distinct(*shape)
    check_against_torch(lambda t: t.topk(k, dim, largest).values, lambda t: t.topk(k, dim, largest).values, x)
    check_against_torch(lambda t: cnnlab.topk(t, k, dim=dim, largest=largest).values,
                        lambda t: torch.topk(t, k, dim=dim, largest=largest).values, x)
    ours, theirs = cnnlab.tensor(x).topk(k, dim, largest), torch.tensor(x).topk(k, dim, largest)
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    gradcheck(lambda t: t.topk(k, dim, largest).values, x)


def test_topk_accuracy_idiom_and_errors():
    logits = cnnlab.tensor(_distinct(4, 10))
    labels = cnnlab.tensor([0, 3, 9, 5])
    _, pred = logits.topk(5, 1, True, True)
    theirs = torch.tensor(logits.numpy()).topk(5, 1, True, True).indices
    np.testing.assert_array_equal(pred.numpy(), theirs.numpy())
    correct = pred.eq(labels.reshape(-1, 1)).any(axis=1)
    assert correct.tolist() == (theirs == torch.tensor([0, 3, 9, 5]).view(-1, 1)).any(1).tolist()
    with pytest.raises(ValueError, match="k=11"):
        logits.topk(11)
