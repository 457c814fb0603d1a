"""dtypes as torch (issue 12): every layer and functional op, over the input (and target)
dtypes {float32, float64, int64, int32, bool, uint8}, makes torch's accept/refuse decision;
where both accept, the values agree; where both refuse, cnnlab's one-line error names the op
and both dtypes. The documented exceptions are listed in ``DIFFERENCES`` and asserted as such.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import cnnlab
import cnnlab.functional as F
from cnnlab import nn

DTYPES = ["float32", "float64", "int64", "int32", "bool", "uint8"]
TORCH_NAMES = {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int", "bool": "Bool", "uint8": "Byte"}


def make(shape, dtype, seed=0, low=-3, high=4):
    rng = np.random.default_rng(seed)
    a = rng.integers(low, high, shape)
    if dtype == "bool":
        return a > 0
    if dtype == "uint8":
        return np.abs(a).astype(np.uint8)
    return a.astype(dtype)


def torch_twin(module: nn.Module, twin: torch.nn.Module) -> torch.nn.Module:
    """``twin`` with ``module``'s parameters and buffers."""
    state = {k: torch.from_numpy(np.array(v.detach().numpy())) for k, v in module.state_dict().items()}
    twin.load_state_dict(state)
    return twin


class TorchMaxout(torch.nn.Module):
    def __init__(self, linear, pieces):
        super().__init__()
        self.linear, self.pieces = linear, pieces

    def forward(self, x):
        z = self.linear(x)
        return z.reshape(*z.shape[:-1], z.shape[-1] // self.pieces, self.pieces).max(-1).values


def _maxout_pair():
    ours = nn.Maxout(4, 3, pieces=2)
    twin = torch.nn.Linear(4, 6)
    twin.load_state_dict({"weight": torch.from_numpy(ours.weight.detach().numpy().copy()),
                          "bias": torch.from_numpy(ours.bias.detach().numpy().copy())})
    return ours, TorchMaxout(twin, 2)


# name -> (make the pair (ours, torch's), input shape)
LAYERS = {
    "Conv2d": (lambda: (lambda m: (m, torch_twin(m, torch.nn.Conv2d(1, 2, 3))))(nn.Conv2d(1, 2, 3)), (2, 1, 5, 5)),
    "Linear": (lambda: (lambda m: (m, torch_twin(m, torch.nn.Linear(4, 3))))(nn.Linear(4, 3)), (2, 4)),
    "Maxout": (_maxout_pair, (2, 4)),
    "BatchNorm1d": (lambda: (lambda m: (m, torch_twin(m, torch.nn.BatchNorm1d(3))))(nn.BatchNorm1d(3)), (4, 3)),
    "BatchNorm2d": (lambda: (lambda m: (m, torch_twin(m, torch.nn.BatchNorm2d(2))))(nn.BatchNorm2d(2)), (2, 2, 3, 3)),
    "BatchNorm2d.eval": (lambda: (lambda m: (m.eval(), torch_twin(m, torch.nn.BatchNorm2d(2)).eval()))(nn.BatchNorm2d(2)), (2, 2, 3, 3)),
    "MaxPool2d": (lambda: (nn.MaxPool2d(2), torch.nn.MaxPool2d(2)), (1, 2, 4, 4)),
    "AvgPool2d": (lambda: (nn.AvgPool2d(2), torch.nn.AvgPool2d(2)), (1, 2, 4, 4)),
    "AdaptiveAvgPool2d": (lambda: (nn.AdaptiveAvgPool2d(2), torch.nn.AdaptiveAvgPool2d(2)), (1, 2, 4, 4)),
    "AdaptiveMaxPool2d": (lambda: (nn.AdaptiveMaxPool2d(2), torch.nn.AdaptiveMaxPool2d(2)), (1, 2, 4, 4)),
    "LocalResponseNorm": (lambda: (nn.LocalResponseNorm(2), torch.nn.LocalResponseNorm(2)), (1, 3, 2, 2)),
    "Dropout.eval": (lambda: (nn.Dropout(0.5).eval(), torch.nn.Dropout(0.5).eval()), (2, 3)),
    "Dropout.p0": (lambda: (nn.Dropout(0.0), torch.nn.Dropout(0.0)), (2, 3)),
    "Dropout2d.eval": (lambda: (nn.Dropout2d(0.5).eval(), torch.nn.Dropout2d(0.5).eval()), (1, 2, 2, 2)),
    "ReLU": (lambda: (nn.ReLU(), torch.nn.ReLU()), (2, 3)),
    "LeakyReLU": (lambda: (nn.LeakyReLU(0.1), torch.nn.LeakyReLU(0.1)), (2, 3)),
    "ELU": (lambda: (nn.ELU(), torch.nn.ELU()), (2, 3)),
    "Sigmoid": (lambda: (nn.Sigmoid(), torch.nn.Sigmoid()), (2, 3)),
    "Tanh": (lambda: (nn.Tanh(), torch.nn.Tanh()), (2, 3)),
    "Softmax": (lambda: (nn.Softmax(1), torch.nn.Softmax(1)), (2, 3)),
    "LogSoftmax": (lambda: (nn.LogSoftmax(1), torch.nn.LogSoftmax(1)), (2, 3)),
    "Flatten": (lambda: (nn.Flatten(), torch.nn.Flatten()), (2, 3, 2)),
    "Identity": (lambda: (nn.Identity(), torch.nn.Identity()), (2, 3)),
    "F.pad": (lambda: (lambda x: F.pad(x, (1, 1)), lambda x: torch.nn.functional.pad(x, (1, 1))), (1, 1, 2, 2)),
}

# deliberate differences (docs/design/autograd-semantics.md): (layer, dtype) -> what cnnlab does
DIFFERENCES: dict[tuple[str, str], str] = {}


# the op name an error must contain, where the layer's own name is not what the op says
OP_WORDS = {
    "Conv2d": "conv2d", "Linear": "linear", "Maxout": "maxout", "BatchNorm1d": "batch_norm",
    "BatchNorm2d": "batch_norm", "MaxPool2d": "max_pool2d", "AvgPool2d": "avg_pool2d",
    "AdaptiveAvgPool2d": "adaptive_avg_pool2d", "AdaptiveMaxPool2d": "adaptive_max_pool2d",
    "LocalResponseNorm": "local_response_norm", "ReLU": "relu", "LeakyReLU": "leaky_relu", "ELU": "elu",
    "Softmax": "softmax", "LogSoftmax": "log_softmax", "Dropout": "dropout", "Dropout2d": "dropout2d",
    "F": "pad",
}


def outcome(fn, x):
    try:
        out = fn(x)
    except (RuntimeError, TypeError, ValueError, NotImplementedError) as e:
        return "refused", str(e)
    return "ok", out.detach().numpy() if hasattr(out, "detach") else np.asarray(out)


def compare(name, dtype, ours, theirs, message_words):
    if (name, dtype) in DIFFERENCES:
        pytest.skip(f"documented difference: {DIFFERENCES[name, dtype]}")
    assert ours[0] == theirs[0], (
        f"{name} on {dtype}: torch {theirs[0]} ({theirs[1] if theirs[0] == 'refused' else ''}), "
        f"cnnlab {ours[0]} ({ours[1] if ours[0] == 'refused' else ''})"
    )
    if ours[0] == "refused":
        assert "\n" not in ours[1], f"{name}: error is not one line: {ours[1]!r}"
        for words in message_words:  # each group: one of these names must appear
            assert any(w.lower() in ours[1].lower() for w in words), (
                f"{name} on {dtype}: error {ours[1]!r} names none of {words}"
            )
        return
    assert ours[1].dtype == np.dtype(str(theirs[1].dtype)), f"{name} on {dtype}: result dtype {ours[1].dtype} vs torch {theirs[1].dtype}"
    np.testing.assert_allclose(ours[1].astype(np.float64), theirs[1].astype(np.float64), rtol=2e-6, atol=1e-6,
                               err_msg=f"{name} on {dtype}: cnnlab vs torch")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_dtype_decision_and_values_match_torch(name, dtype):
    factory, shape = LAYERS[name]
    cnnlab.manual_seed(0)
    ours_layer, torch_layer = factory()
    x = make(shape, dtype)
    ours = outcome(ours_layer, cnnlab.from_numpy(x.copy()))
    theirs = outcome(torch_layer, torch.from_numpy(x.copy()))
    layer = name.split(".")[0]
    compare(name, dtype, ours, theirs, [(layer, OP_WORDS.get(layer, layer)), (dtype, TORCH_NAMES[dtype])])


LOSSES = {
    "cross_entropy": (F.cross_entropy, torch.nn.functional.cross_entropy, "class"),
    "nll_loss": (F.nll_loss, torch.nn.functional.nll_loss, "class"),
    "mse_loss": (F.mse_loss, torch.nn.functional.mse_loss, "same"),
    "l1_loss": (F.l1_loss, torch.nn.functional.l1_loss, "same"),
    "binary_cross_entropy_with_logits": (F.binary_cross_entropy_with_logits,
                                         torch.nn.functional.binary_cross_entropy_with_logits, "same"),
}


@pytest.mark.parametrize("target_dtype", DTYPES)
@pytest.mark.parametrize("input_dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_dtype_decision_and_values_match_torch(name, input_dtype, target_dtype):
    ours_fn, torch_fn, kind = LOSSES[name]
    x = make((4, 3), input_dtype)
    t = make((4,), target_dtype, seed=1, low=0, high=3) if kind == "class" else make((4, 3), target_dtype, seed=1, low=0, high=2)
    ours = outcome(lambda a: ours_fn(a, cnnlab.from_numpy(t.copy())), cnnlab.from_numpy(x.copy()))
    theirs = outcome(lambda a: torch_fn(a, torch.from_numpy(t.copy())), torch.from_numpy(x.copy()))
    compare(f"{name}[target {target_dtype}]", input_dtype, ours, theirs, [(name,)])
    if ours[0] == "refused":  # the error names the dtype it refuses
        assert input_dtype in ours[1] or target_dtype in ours[1], ours[1]


def test_issue_examples():
    x = cnnlab.tensor([[1, 2, 3, 4]])
    with pytest.raises(RuntimeError, match="mat1 and mat2 must have the same dtype, but got Long and Float"):
        nn.Linear(4, 2)(x)
    x = np.full((1, 2, 1, 1), -3)
    ours = nn.LocalResponseNorm(2)(cnnlab.tensor(x))
    theirs = torch.nn.LocalResponseNorm(2)(torch.tensor(x))
    assert ours.dtype == cnnlab.float32 and theirs.dtype == torch.float32
    assert ours.tolist() == theirs.tolist()  # -2.9991..., not -3.0
    for bad in (nn.BatchNorm2d(1), nn.Maxout(1, 1)):
        with pytest.raises(RuntimeError, match="Double"):
            bad(cnnlab.ones(2, 1, 2, 2, dtype=cnnlab.float64) if isinstance(bad, nn.BatchNorm2d) else cnnlab.ones(2, 1, dtype=cnnlab.float64))
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got Int"):
        F.cross_entropy(cnnlab.zeros(2, 3), cnnlab.tensor([0, 1], dtype=cnnlab.int32))
