"""cnnlab.save / cnnlab.load: PyTorch's file format both ways, and the weights-only guard."""

import io
import os
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import torch

import cnnlab
from cnnlab import nn


def _pair(seed=0):
    """The same small CNN in both libraries, with torch's weights copied into cnnlab's."""
    torch.manual_seed(seed)
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(), torch.nn.Flatten(),
        torch.nn.Linear(4 * 6 * 6, 3),
    )
    ours = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def _same_outputs(ours, theirs):
    x = np.random.default_rng(1).standard_normal((2, 1, 8, 8)).astype(np.float32)
    ours.eval(), theirs.eval()
    with torch.no_grad():
        expected = theirs(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours(cnnlab.tensor(x)).detach().numpy(), expected, rtol=1e-5, atol=1e-6)


def test_torch_state_dict_loads_into_cnnlab(tmp_path):
    _, theirs = _pair()
    theirs(torch.randn(4, 1, 8, 8))  # moves BatchNorm's running statistics away from 0 / 1
    torch.save(theirs.state_dict(), tmp_path / "model.pth")
    state = cnnlab.load(tmp_path / "model.pth")
    assert list(state) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert isinstance(state[key], cnnlab.Tensor) and state[key].dtype == np.dtype(str(value.dtype)[6:])
        np.testing.assert_array_equal(state[key].numpy(), value.numpy())
    ours, _ = _pair(seed=5)
    ours.load_state_dict(state)
    _same_outputs(ours, theirs)


def test_cnnlab_state_dict_loads_in_torch_weights_only(tmp_path):
    ours, _ = _pair(seed=3)
    ours.train()(cnnlab.randn(4, 1, 8, 8))
    cnnlab.save(ours.state_dict(), tmp_path / "model.pt")
    state = torch.load(tmp_path / "model.pt", weights_only=True)
    _, theirs = _pair(seed=7)
    theirs.load_state_dict(state)
    _same_outputs(ours, theirs)
    assert state["1.num_batches_tracked"].dtype == torch.int64


def test_checkpoint_dict_round_trip_both_ways(tmp_path):
    torch.manual_seed(0)
    tmodel = torch.nn.Linear(3, 2)
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.1, momentum=0.9)
    tmodel(torch.randn(5, 3)).pow(2).sum().backward()
    topt.step()
    checkpoint = {"epoch": 4, "model_state_dict": tmodel.state_dict(), "optimizer_state_dict": topt.state_dict(),
                  "loss": 0.25, "dtype": torch.float64, "size": torch.Size([2, 3]), "device": torch.device("cpu")}
    torch.save(checkpoint, tmp_path / "torch.pt")
    loaded = cnnlab.load(tmp_path / "torch.pt")
    assert loaded["epoch"] == 4 and loaded["loss"] == 0.25 and loaded["dtype"] == cnnlab.float64
    assert tuple(loaded["size"]) == (2, 3) and loaded["device"] == cnnlab.device("cpu")
    model = nn.Linear(3, 2)
    opt = cnnlab.optim.SGD(model.parameters(), lr=0.5, momentum=0.1)
    model.load_state_dict(loaded["model_state_dict"])
    opt.load_state_dict(loaded["optimizer_state_dict"])
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["momentum"] == 0.9
    # and back: what cnnlab saves, torch resumes from
    cnnlab.save({"epoch": loaded["epoch"], "model_state_dict": model.state_dict(),
                 "optimizer_state_dict": opt.state_dict(), "dtype": loaded["dtype"],
                 "device": loaded["device"]}, tmp_path / "cnnlab.pt")
    again = torch.load(tmp_path / "cnnlab.pt", weights_only=True)
    assert again["epoch"] == 4 and again["dtype"] is torch.float64 and again["device"] == torch.device("cpu")
    tmodel2 = torch.nn.Linear(3, 2)
    topt2 = torch.optim.SGD(tmodel2.parameters(), lr=0.5)
    tmodel2.load_state_dict(again["model_state_dict"])
    topt2.load_state_dict(again["optimizer_state_dict"])
    for a, b in zip(topt.state_dict()["state"].values(), topt2.state_dict()["state"].values()):
        torch.testing.assert_close(a["momentum_buffer"], b["momentum_buffer"], rtol=0, atol=0)


def test_resume_from_a_checkpoint_matches_an_uninterrupted_run(tmp_path):
    def run(steps, model, opt, x, y):
        for _ in range(steps):
            opt.zero_grad()
            nn.functional.mse_loss(model(x), y).backward()
            opt.step()

    x, y = cnnlab.randn(8, 3), cnnlab.randn(8, 2)
    cnnlab.manual_seed(0)
    straight = nn.Linear(3, 2)
    start = {k: v.clone() for k, v in straight.state_dict().items()}
    opt = cnnlab.optim.Adam(straight.parameters(), lr=0.01)
    run(6, straight, opt, x, y)
    resumed = nn.Linear(3, 2)
    resumed.load_state_dict(start)
    opt = cnnlab.optim.Adam(resumed.parameters(), lr=0.01)
    run(3, resumed, opt, x, y)
    cnnlab.save({"model": resumed.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, tmp_path / "ck.pt")
    fresh = nn.Linear(3, 2)
    fresh_opt = cnnlab.optim.Adam(fresh.parameters(), lr=0.01)
    ck = cnnlab.load(tmp_path / "ck.pt")
    fresh.load_state_dict(ck["model"])
    fresh_opt.load_state_dict(ck["optimizer"])
    run(3, fresh, fresh_opt, x, y)
    for a, b in zip(straight.parameters(), fresh.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_whole_module_needs_weights_only_false(tmp_path):
    ours, theirs = _pair()
    cnnlab.save(ours, tmp_path / "whole.pt")
    with pytest.raises(pickle.UnpicklingError, match="weights_only=False") as info:
        cnnlab.load(tmp_path / "whole.pt")
    assert "\n" not in str(info.value)
    again = cnnlab.load(tmp_path / "whole.pt", weights_only=False)
    assert type(again) is nn.Sequential and isinstance(again[0].weight, nn.Parameter)
    assert again[0].weight.requires_grad
    _same_outputs(again, theirs)


def test_weights_only_refuses_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    cnnlab.save({"x": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(pickle.UnpicklingError, match="posix.system|os.system|nt.system"):
        cnnlab.load(tmp_path / "evil.pt")


def test_file_objects_dtypes_and_views():
    values = {
        "f16": cnnlab.tensor([1.5, -2.0], dtype=cnnlab.float16),
        "f64": cnnlab.arange(6, dtype=cnnlab.float64).reshape(2, 3),
        "i32": cnnlab.tensor([1, 2], dtype=cnnlab.int32),
        "u8": cnnlab.tensor([0, 255], dtype=cnnlab.uint8),
        "b": cnnlab.tensor([True, False]),
        "view": cnnlab.arange(12.0).reshape(3, 4)[:, 1::2],
        "scalar": cnnlab.tensor(3.0),
        "empty": cnnlab.zeros(0, 3),
        "grad": cnnlab.ones(2, requires_grad=True),
    }
    buffer = io.BytesIO()
    cnnlab.save(values, buffer)
    buffer.seek(0)
    theirs = torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)
    ours = cnnlab.load(buffer)
    for key, t in values.items():
        expected = t.detach().numpy()
        assert ours[key].dtype == expected.dtype and ours[key].shape == expected.shape, key
        np.testing.assert_array_equal(ours[key].detach().numpy(), expected)
        np.testing.assert_array_equal(theirs[key].detach().numpy(), expected)
    assert ours["grad"].requires_grad and theirs["grad"].requires_grad


def test_torch_views_bfloat16_and_shared_storage(tmp_path):
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    torch.save({"t": base.t(), "slice": base[1:, ::2], "base": base,
                "bf16": torch.tensor([1.5, -2.25], dtype=torch.bfloat16)}, tmp_path / "v.pt")
    ours = cnnlab.load(tmp_path / "v.pt")
    np.testing.assert_array_equal(ours["t"].numpy(), base.t().numpy())
    np.testing.assert_array_equal(ours["slice"].numpy(), base[1:, ::2].numpy())
    np.testing.assert_array_equal(ours["bf16"].numpy(), [1.5, -2.25])
    ours["base"][0, 0] = 100.0  # loaded tensors do not alias each other
    assert ours["t"][0, 0].item() == 0.0


def test_load_errors(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"not a zip")
    with pytest.raises(pickle.UnpicklingError, match="zip format") as info:
        cnnlab.load(tmp_path / "junk.pt")
    assert "junk.pt" in str(info.value)
    torch.save(torch.nn.Linear(2, 2), tmp_path / "torch_module.pt")
    with pytest.raises(pickle.UnpicklingError, match="state_dict"):
        cnnlab.load(tmp_path / "torch_module.pt", weights_only=False)
    with pytest.raises(ValueError, match="CPU only"):
        cnnlab.load(tmp_path / "torch_module.pt", map_location="cuda")
    assert zipfile.is_zipfile(tmp_path / "torch_module.pt")


def test_load_works_without_torch(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 2)
    torch.save({"state": model.state_dict(), "epoch": 2}, tmp_path / "m.pth")
    script = (
        "import sys; sys.modules['torch'] = None\n"  # any `import torch` now fails
        "import cnnlab, numpy as np\n"
        f"ck = cnnlab.load({str(tmp_path / 'm.pth')!r})\n"
        "m = cnnlab.nn.Linear(4, 2); m.load_state_dict(ck['state'])\n"
        "print(ck['epoch'], repr(m.weight.detach().numpy().tolist()))\n"
        "assert 'torch' not in [k for k, v in sys.modules.items() if v is not None]\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=os.environ.copy())
    assert out.returncode == 0, out.stderr
    epoch, weights = out.stdout.split(" ", 1)
    assert epoch == "2" and eval(weights) == model.weight.detach().numpy().tolist()
