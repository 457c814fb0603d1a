"""Grad modes behave as torch's: context managers, decorators, and set_grad_enabled as a call."""

import pytest
import torch

import cnnlab

LIBS = pytest.mark.parametrize("lib", [cnnlab, torch], ids=["cnnlab", "torch"])


def _records(lib):
    x = lib.ones(2, requires_grad=True)
    return (x * 2).requires_grad


@pytest.fixture(autouse=True)
def _restore():
    yield
    cnnlab.set_grad_enabled(True)
    torch.set_grad_enabled(True)


@LIBS
def test_set_grad_enabled_as_a_call(lib):
    lib.set_grad_enabled(False)
    assert not lib.is_grad_enabled() and not _records(lib)
    lib.set_grad_enabled(True)
    assert lib.is_grad_enabled() and _records(lib)


@LIBS
@pytest.mark.parametrize("is_train", [True, False])
def test_set_grad_enabled_as_a_context_manager(lib, is_train):
    with lib.no_grad():
        with lib.set_grad_enabled(is_train):  # the train/eval loop idiom
            assert _records(lib) is is_train
        assert not lib.is_grad_enabled()
    assert lib.is_grad_enabled()


@LIBS
def test_set_grad_enabled_as_a_decorator(lib):
    @lib.set_grad_enabled(False)
    def step():
        return _records(lib)

    assert lib.is_grad_enabled()  # decorating does not switch the mode
    assert step() is False and lib.is_grad_enabled()


@LIBS
def test_inference_mode(lib):
    with lib.inference_mode():
        assert not _records(lib) and lib.is_inference_mode_enabled()
    assert _records(lib) and not lib.is_inference_mode_enabled()
    with lib.inference_mode(False):
        assert _records(lib)

    @lib.inference_mode()
    def predict():
        return _records(lib)

    @lib.inference_mode
    def predict_bare():
        return _records(lib)

    assert predict() is False and predict_bare() is False and lib.is_grad_enabled()


@LIBS
def test_no_grad_and_enable_grad_decorators(lib):
    @lib.no_grad()
    def evaluate():
        with lib.enable_grad():
            inner = _records(lib)
        return _records(lib), inner

    assert evaluate() == (False, True) and lib.is_grad_enabled()


@LIBS
def test_modes_restore_after_an_exception(lib):
    with pytest.raises(ZeroDivisionError):
        with lib.set_grad_enabled(False):
            1 / 0
    with pytest.raises(ZeroDivisionError):
        with lib.inference_mode():
            1 / 0
    assert lib.is_grad_enabled()
