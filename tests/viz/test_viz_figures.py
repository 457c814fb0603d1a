"""The ``*_figure`` functions return matplotlib figures that show themselves in Jupyter (a PNG
through ``_repr_png_``), and each figure shows the numbers it is about: checked against scipy
and torch, not against cnnlab's own output."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from PIL import Image
from scipy.signal import correlate2d

import cnnlab
from cnnlab import viz

PNG = b"\x89PNG\r\n\x1a\n"


def _png_size(fig) -> tuple[int, int]:
    data = fig._repr_png_()
    assert data.startswith(PNG)
    return Image.open(io.BytesIO(data)).size


def _jupyter_mimes(obj) -> set[str]:
    """What IPython's display formatter (as a Jupyter kernel uses it) produces for ``obj``."""
    from IPython.core.interactiveshell import InteractiveShell

    data, _ = InteractiveShell.instance().display_formatter.format(obj)
    return set(data)


@pytest.fixture(scope="module")
def photo():
    return viz.sample_image("camera")[100:160, 200:280]


def test_pixels_figure_writes_every_value(photo):
    chans = viz.pixel_channels(photo, (10, 5, 6, 4))
    fig = viz.pixels_figure(chans, title="t")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    written = [int(t.get_text()) for t in ax.texts]
    assert written == photo[5:9, 10:16].ravel().tolist()
    assert _png_size(fig) == (int(fig.get_figwidth() * fig.dpi), int(fig.get_figheight() * fig.dpi))


def test_filtered_figure_shows_the_correlation(photo):
    kernels = {"sobel-x": viz.KERNELS["sobel-x"], "box-blur": viz.KERNELS["box-blur"]}
    fig = viz.filtered_figure(photo, kernels)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 3  # the input and one per kernel
    assert np.array_equal(panels[0].images[0].get_array(), photo)
    ref = correlate2d(photo.astype(np.float64), kernels["sobel-x"], mode="valid")
    np.testing.assert_allclose(panels[1].images[0].get_array(), ref, atol=1e-3)
    assert panels[1].get_title().startswith("sobel-x")
    _png_size(fig)


def test_activations_figure_draws_torchs_curves():
    fig = viz.activations_figure()
    titles = [ax.get_title().split("\n")[0] for ax in fig.axes]
    assert titles == ["Sigmoid", "tanh", "ReLU", "Leaky ReLU", "ELU", "Maxout"]
    x, y = (np.asarray(a) for a in fig.axes[0].lines[2].get_data())  # after the two zero lines
    np.testing.assert_allclose(y, torch.sigmoid(torch.tensor(x)).numpy(), atol=1e-6)
    xr, dr = (np.asarray(a) for a in fig.axes[2].lines[3].get_data())  # ReLU's derivative
    np.testing.assert_array_equal(dr, (xr > 0).astype(np.float32))


def test_filters_and_features_figures():
    cnnlab.manual_seed(0)
    net = cnnlab.models.create("mnist-cnn")
    fig = viz.filters_figure(net, "conv1")
    assert "16 filters of 1×5×5" in fig._suptitle.get_text()
    grid = fig.axes[0].images[0].get_array()
    np.testing.assert_array_equal(grid[:5, :5], net.conv1.weight.detach().numpy()[0, 0])
    x = np.random.default_rng(0).random((1, 28, 28), dtype=np.float32)
    fig = viz.features_figure(net, x, max_maps=4)
    rows = [ax for ax in fig.axes if ax.images]  # the colour bars hold no image
    labels = [ax.get_ylabel().split("\n")[0] for ax in rows]
    assert labels == ["input", "conv1", "relu #1", "pool #1", "conv2", "relu #2", "pool #2"]
    with torch.no_grad():
        conv1 = torch.nn.functional.conv2d(torch.tensor(x[None]), torch.tensor(net.conv1.weight.detach().numpy()),
                                           torch.tensor(net.conv1.bias.detach().numpy()))[0].numpy()
    row = rows[1].images[0].get_array()
    np.testing.assert_allclose(row[:24, :24], conv1[0], atol=1e-5)
    _png_size(fig)


def test_attribution_mosaic_is_a_png():
    cnnlab.manual_seed(0)
    net = cnnlab.models.create("mnist-cnn").eval()
    x = np.random.default_rng(1).random((1, 28, 28), dtype=np.float32)
    maps = viz.attribution_maps(net, x, 3, methods=("saliency", "grad-cam"), layer="conv2")
    probs = np.full(10, 0.1)
    mosaic = viz.attribution_mosaic((x[0] * 255).astype(np.uint8), maps, probs, [str(i) for i in range(10)],
                                    target=3)
    image = Image.open(io.BytesIO(mosaic._repr_png_()))
    assert image.size == mosaic.to_image().size
    assert np.array_equal(np.asarray(image), np.asarray(mosaic.to_image()))


def test_jupyter_shows_figures_models_summaries_and_runs(photo):
    assert "image/png" in _jupyter_mimes(viz.pixels_figure(viz.pixel_channels(photo, (0, 0, 3, 3))))
    net = cnnlab.models.create("mnist-cnn")
    assert {"text/html", "text/plain"} <= _jupyter_mimes(net)
    assert {"text/html", "text/plain"} <= _jupyter_mimes(cnnlab.summary(net, (1, 28, 28)))
    info = cnnlab.inspect.RunInfo.from_metadata({"model_name": "mnist-cnn"})
    assert {"text/html", "text/plain"} <= _jupyter_mimes(info)
