"""``show-filters --over-training``: one GIF frame per snapshot (the initialisation, then each
epoch), each showing that snapshot's weights on one scale per filter over the run."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import cnnlab
from cnnlab import nn, optim
from cnnlab.cli import main
from cnnlab.train import fit
from cnnlab.train.snapshots import FilterHistory, load_filter_history
from cnnlab.utils.data import DataLoader, TensorDataset
from cnnlab.viz.filter_history import filter_frames, filter_tiles, frame_layout


def test_tiles_keep_one_scale_per_filter_over_all_epochs():
    w = np.zeros((3, 2, 1, 2, 2))
    w[0, 0, 0, 0, 0], w[2, 0, 0, 0, 0] = 0.5, -1.0       # filter 0 peaks at |w| = 1 in epoch 2
    w[1, 1, 0, 1, 1] = 4.0                               # filter 1 at 4 in epoch 1
    tiles, note = filter_tiles(w)
    assert tiles.shape == (3, 2, 2, 2, 3) and "blue < 0 < red" in note
    white, red, blue = [255, 255, 255], [178, 24, 43], [33, 102, 172]
    assert tiles[0, 0, 0, 0].tolist() == [round(255 + (c - 255) * 0.5) for c in red]   # half of filter 0's max
    assert tiles[2, 0, 0, 0].tolist() == blue and tiles[1, 1, 1, 1].tolist() == red
    assert tiles[0, 1, 1, 1].tolist() == white and tiles[0, 0, 1, 0].tolist() == white
    rgb, note = filter_tiles(np.arange(2 * 1 * 3 * 1 * 1, dtype=float).reshape(2, 1, 3, 1, 1))
    assert "RGB" in note and rgb[0, 0, 0, 0].tolist() == [0, 51, 102] and rgb[1, 0, 0, 0].tolist() == [153, 204, 255]
    with pytest.raises(ValueError, match="epochs, out, in, kh, kw"):
        filter_tiles(np.zeros((2, 3, 3)))


def test_each_frame_draws_its_snapshot():
    rng = np.random.default_rng(0)
    h = FilterHistory("conv1", [0, 1, 2], rng.normal(size=(3, 5, 1, 3, 3)).astype(np.float32))
    frames = filter_frames(h)
    tiles, _ = filter_tiles(h.weights)
    lay = frame_layout(5, 3, 3)
    assert len(frames) == 3 and all(f.size == lay["size"] for f in frames)
    (tw, th), cell = lay["tile"], lay["tile"][0] // 3
    for k, frame in enumerate(frames):
        a = np.asarray(frame)
        for o, (x0, y0) in enumerate(lay["corners"]):
            for i in range(3):
                for j in range(3):
                    px = a[y0 + i * cell + cell // 2, x0 + j * cell + cell // 2]
                    assert px.tolist() == tiles[k, o, i, j].tolist(), (k, o, i, j)


def _fit_run(out, epochs):
    cnnlab.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    rng = np.random.default_rng(0)
    data = TensorDataset(cnnlab.from_numpy(rng.random((32, 1, 8, 8)).astype(np.float32)),
                         cnnlab.from_numpy(rng.integers(0, 3, 32)))
    loader = DataLoader(data, batch_size=16, shuffle=True, generator=cnnlab.Generator().manual_seed(1))
    fit(model, loader, epochs=epochs, optimizer=optim.SGD(model.parameters(), lr=0.1), out_dir=out,
        plots=False, log=None)


def test_the_cli_writes_one_frame_per_epoch(tmp_path, capsys):
    _fit_run(tmp_path / "run", 3)
    gif = tmp_path / "f.gif"
    assert main(["show-filters", str(tmp_path / "run"), "--over-training", "--out", str(gif)]) == 0
    out = capsys.readouterr().out
    assert "4 filters of 1x3x3 at 4 snapshots (epochs 0..3" in out and str(gif) in out
    h = load_filter_history(tmp_path / "run")
    with Image.open(gif) as im:
        assert im.n_frames == len(h.epochs) == 4            # the initialisation and epochs 1, 2, 3
        lay = frame_layout(4, 3, 3)
        tiles, _ = filter_tiles(h.weights)
        (x0, y0), cell = lay["corners"][2], lay["tile"][0] // 3
        for k in range(im.n_frames):
            im.seek(k)
            px = np.asarray(im.convert("RGB"))[y0 + cell // 2, x0 + cell // 2].astype(int)
            assert np.abs(px - tiles[k, 2, 0, 0]).max() <= 12, k    # GIF palettes quantise a little
    assert main(["show-filters", str(tmp_path / "run" / "checkpoint.safetensors"), "--over-training",
                 "--max-filters", "2", "--out", str(gif)]) == 0
    assert "2 filters of 1x3x3" in capsys.readouterr().out
