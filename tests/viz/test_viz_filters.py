"""Classic filters through cnnlab's conv2d vs scipy.signal.correlate2d; pixels vs Pillow."""

import numpy as np
import pytest
from PIL import Image
from scipy.signal import correlate2d

from cnnlab.cli import main
from cnnlab.viz.filters import KERNELS, apply_kernel, parse_kernel, plot_filtered
from cnnlab.viz.images import load_image
from cnnlab.viz.pixels import pixel_channels


@pytest.fixture(scope="module")
def photo():
    return load_image("coffee")[100:180, 200:300]  # a small RGB crop keeps the test fast


def test_named_kernels_are_the_lectures():
    np.testing.assert_array_equal(KERNELS["sharpen"], [[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    np.testing.assert_array_equal(KERNELS["vertical-edge"], [[1, 0, -1]] * 3)
    np.testing.assert_allclose(KERNELS["box-blur"], np.ones((3, 3)) / 9)
    for name in ("box-blur", "gaussian-blur", "sharpen", "emboss", "identity"):
        assert KERNELS[name].sum() == pytest.approx(1.0), name
    for name in ("vertical-edge", "horizontal-edge", "sobel-x", "sobel-y", "laplacian"):
        assert KERNELS[name].sum() == pytest.approx(0.0), name


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_gray_filter_matches_scipy(photo, name):
    gray = photo.mean(axis=2).astype(np.float32)
    ours = apply_kernel(gray, KERNELS[name])
    ref = correlate2d(gray.astype(np.float64), KERNELS[name], mode="valid")
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-3, err_msg="cnnlab vs scipy")


@pytest.mark.parametrize("padding", [0, 2])
def test_colour_filter_is_per_channel(photo, padding):
    k = KERNELS["sobel-x"]
    ours = apply_kernel(photo, k, padding=padding)
    for c in range(3):
        ref = correlate2d(np.pad(photo[:, :, c].astype(np.float64), padding), k, mode="valid")
        np.testing.assert_allclose(ours[:, :, c], ref, rtol=1e-5, atol=1e-3)


def test_vertical_edge_lecture_example():
    img = np.array([[10, 10, 10, 0, 0, 0]] * 6, dtype=np.float32)
    np.testing.assert_array_equal(apply_kernel(img, KERNELS["vertical-edge"]), [[0, 30, 30, 0]] * 4)


def test_parse_kernel_errors():
    np.testing.assert_array_equal(parse_kernel("[[1, 2], [3, 4.5]]"), [[1, 2], [3, 4.5]])
    with pytest.raises(ValueError, match="valid names: box-blur"):
        parse_kernel("sharpn")
    with pytest.raises(ValueError, match=r"parsed \[\[1, 2\], \[3\]\]"):
        parse_kernel("[[1,2],[3]]")
    with pytest.raises(ValueError, match="parsed"):
        parse_kernel("[[1,'x']]")
    with pytest.raises(ValueError, match="cannot parse"):
        parse_kernel("[[1,2")
    with pytest.raises(ValueError, match="larger than the 2x2 image"):
        apply_kernel(np.ones((2, 2)), np.ones((3, 3)))


def test_plot_filtered_returns_what_it_draws(tmp_path, photo):
    outs = plot_filtered(photo, {"sharpen": KERNELS["sharpen"], "laplacian": KERNELS["laplacian"]},
                         str(tmp_path / "f.png"))
    assert (tmp_path / "f.png").stat().st_size > 10_000
    ref = correlate2d(photo[:, :, 1].astype(np.float64), KERNELS["laplacian"], mode="valid")
    np.testing.assert_allclose(outs["laplacian"][:, :, 1], ref, atol=1e-3)


def test_filter_cli(tmp_path, capsys):
    src = tmp_path / "in.png"
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, (20, 24), dtype=np.uint8)
    Image.fromarray(arr).save(src)
    out = tmp_path / "out.png"
    assert main(["filter", str(src), "--kernel", "vertical-edge", "--kernel", "[[1,2],[3,4]]",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert out.stat().st_size > 0
    for line, k in zip(text.splitlines()[:2], (KERNELS["vertical-edge"], np.array([[1, 2], [3, 4]]))):
        ref = correlate2d(arr.astype(np.float64), k, mode="valid")
        words = line.split()
        assert words[words.index("min") + 1] == f"{ref.min():.2f}"
        assert words[words.index("max") + 1] == f"{ref.max():.2f}"


@pytest.mark.parametrize("argv,message", [
    (["filter", "--kernel", "blurry"], "valid names: box-blur, sharpen, vertical-edge"),
    (["filter", "--kernel", "[[1,2],[3]]"], "parsed [[1, 2], [3]]"),
    (["filter", "no-such-file.png"], "cannot read image 'no-such-file.png'"),
])
def test_filter_cli_bad_input(argv, message, capsys, tmp_path):
    assert main(argv + ["--out", str(tmp_path / "x.png")]) == 2
    assert message in capsys.readouterr().err


def test_filter_cli_refuses_unreadable_and_too_large(tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image at all")
    assert main(["filter", str(bad), "--out", str(tmp_path / "x.png")]) == 2
    assert "cannot read image" in capsys.readouterr().err
    small = tmp_path / "small.png"
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(small)
    assert main(["filter", str(small), "--kernel", "gaussian-blur", "--out", str(tmp_path / "x.png")]) == 2
    assert "5x5 kernel is larger than the 4x4 image" in capsys.readouterr().err


def test_pixels_match_pillow(tmp_path, capsys):
    src = tmp_path / "rgb.png"
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)).save(src)
    img = Image.open(src)
    chans = pixel_channels(load_image(str(src)), (5, 7, 6, 4))
    for c, name in enumerate("RGB"):
        for i in range(4):
            for j in range(6):
                assert chans[name][i, j] == img.getpixel((5 + j, 7 + i))[c]
    out = tmp_path / "px.png"
    assert main(["pixels", str(src), "--crop", "5,7,6,4", "--gray", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    rows = [list(map(int, l.split())) for l in text.splitlines()[1:5]]
    np.testing.assert_array_equal(rows, np.asarray(img.convert("L"))[7:11, 5:11])
    assert out.stat().st_size > 0


@pytest.mark.parametrize("argv,message", [
    (["pixels", "--crop", "1,2,3"], "expected four integers x,y,w,h"),
    (["pixels", "--crop", "500,500,20,20"], "leaves the image"),
    (["pixels", "nope.jpg"], "cannot read image 'nope.jpg'"),
])
def test_pixels_bad_input(argv, message, capsys, tmp_path):
    assert main(argv + ["--out", str(tmp_path / "x.png")]) == 2
    assert message in capsys.readouterr().err
