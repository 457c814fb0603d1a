"""``Tensor.__index__``: one-element integer tensors index Python sequences, as in torch."""

import pytest
import torch

import cnnlab

CLASSES = ("plane", "car", "bird", "cat")


@pytest.mark.parametrize("value", [2, [3], True, 0])
def test_index_like_torch(value):
    ours, theirs = cnnlab.tensor(value), torch.tensor(value)
    assert CLASSES[ours] == CLASSES[theirs]
    assert range(ours) == range(theirs) and list(range(10))[ours:] == list(range(10))[theirs:]
    assert int(ours) == int(theirs) and hex(ours) == hex(theirs)


def test_loop_over_a_label_batch():
    labels = cnnlab.tensor([3, 0, 1])
    assert " ".join(CLASSES[labels[j]] for j in range(3)) == "cat plane car"
    assert [CLASSES[i] for i in labels] == ["cat", "plane", "car"]


@pytest.mark.parametrize("value", [2.0, [1, 2]])
def test_non_integer_or_many_elements_refused_as_torch(value):
    with pytest.raises(TypeError) as theirs:
        CLASSES[torch.tensor(value)]
    with pytest.raises(TypeError, match="only integer tensors of a single element") as ours:
        CLASSES[cnnlab.tensor(value)]
    assert str(theirs.value) in str(ours.value)
