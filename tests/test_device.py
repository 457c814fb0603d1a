"""Device checks answer as a CPU-only PyTorch build does; moving data off the CPU fails clearly."""

import numpy as np
import pytest
import torch

import cnnlab
from cnnlab import nn


def test_availability_checks_match_a_cpu_only_torch():
    assert cnnlab.cuda.is_available() is torch.cuda.is_available() is False
    assert cnnlab.cuda.device_count() == torch.cuda.device_count() == 0
    assert cnnlab.accelerator.is_available() is torch.accelerator.is_available() is False
    assert cnnlab.accelerator.current_accelerator() is torch.accelerator.current_accelerator() is None
    assert cnnlab.backends.mps.is_available() is torch.backends.mps.is_available() is False
    assert cnnlab.backends.cudnn.is_available() is torch.backends.cudnn.is_available() is False
    cnnlab.cuda.manual_seed(0)
    cnnlab.cuda.manual_seed_all(0)


def test_cudnn_flags_are_settable():
    for name in ("benchmark", "deterministic"):
        assert getattr(cnnlab.backends.cudnn, name) == getattr(torch.backends.cudnn, name)
        old = getattr(cnnlab.backends.cudnn, name)
        setattr(cnnlab.backends.cudnn, name, True)
        assert getattr(cnnlab.backends.cudnn, name) is True
        setattr(cnnlab.backends.cudnn, name, old)


@pytest.mark.parametrize("args", [("cpu",), ("cuda",), ("cuda:1",), ("cuda", 2), ("mps",), ("cpu", 0)])
def test_device_objects_print_as_torch(args):
    ours, theirs = cnnlab.device(*args), torch.device(*args)
    assert repr(ours) == repr(theirs) and str(ours) == str(theirs)
    assert ours.type == theirs.type and ours.index == theirs.index
    assert cnnlab.device(ours) == ours and hash(cnnlab.device(*args)) == hash(ours)


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", "cuda:-1", 0])
def test_bad_device_strings(bad):
    with pytest.raises(RuntimeError, match="device"):
        torch.device(bad)
    with pytest.raises(RuntimeError, match="device"):
        cnnlab.device(bad)


def test_the_usual_device_idiom_picks_the_cpu():
    dev = cnnlab.device("cuda" if cnnlab.cuda.is_available() else "cpu")
    x = cnnlab.ones(2, 3)
    model = nn.Linear(3, 1)
    assert model.to(dev) is model and x.to(dev) is x and x.cpu() is x and model.cpu() is model
    assert x.device == dev and x.device == cnnlab.device("cpu") and str(x.device) == "cpu"
    assert repr(x.device) == repr(torch.ones(1).device) and not x.is_cuda
    assert x.to(torch.device("cpu")) is x  # torch's own device object is understood


def test_to_dtype_and_device_together():
    x = cnnlab.tensor([1.5, 2.5], requires_grad=True)
    for args, kwargs in [((cnnlab.float64,), {}), (("cpu", cnnlab.float64), {}), ((), {"dtype": cnnlab.float64}),
                         ((cnnlab.device("cpu"),), {"dtype": cnnlab.float64, "non_blocking": True}),
                         ((cnnlab.zeros(1, dtype=cnnlab.float64),), {})]:
        y = x.to(*args, **kwargs)
        assert y.dtype == np.float64 and y.requires_grad
    model = nn.Linear(2, 2).to("cpu", cnnlab.float64)
    assert model.weight.dtype == np.float64


@pytest.mark.parametrize("move", [
    lambda x: x.to("cuda"), lambda x: x.cuda(), lambda x: x.to(cnnlab.device("cuda", 0)),
    lambda x: x.to(device="mps"), lambda x: x.to("cuda", cnnlab.float64),
])
@pytest.mark.parametrize("make", [lambda: cnnlab.ones(2), lambda: nn.Linear(2, 2)])
def test_moving_off_the_cpu_fails_in_one_line(move, make):
    with pytest.raises(ValueError) as info:
        move(make())
    message = str(info.value)
    assert "\n" not in message and "CPU only" in message and "cnnlab.cuda.is_available()" in message


def test_to_refuses_unknown_keywords():
    with pytest.raises(TypeError, match="devcie"):
        cnnlab.ones(2).to(devcie="cpu")
