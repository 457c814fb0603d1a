"""Transforms: torchvision's semantics checked against direct NumPy/Pillow expectations."""

import numpy as np
import pytest
from PIL import Image

import cnnlab
from cnnlab import transforms as T

RNG = np.random.default_rng(0)


def test_to_tensor_scaling_and_layout():
    hwc = RNG.integers(0, 256, (5, 4, 3), dtype=np.uint8)
    out = T.ToTensor()(hwc)
    assert isinstance(out, cnnlab.Tensor) and out.shape == (3, 5, 4) and out.dtype == np.float32
    np.testing.assert_array_equal(out.numpy(), hwc.transpose(2, 0, 1).astype(np.float32) / np.float32(255))
    assert out.numpy().min() >= 0 and out.numpy().max() <= 1
    grey = T.ToTensor()(Image.fromarray(hwc[..., 0], mode="L"))
    assert grey.shape == (1, 5, 4)
    np.testing.assert_array_equal(grey.numpy()[0], hwc[..., 0] / np.float32(255))
    rgb = T.ToTensor()(Image.fromarray(hwc, mode="RGB"))
    np.testing.assert_array_equal(rgb.numpy(), out.numpy())
    floats = RNG.random((3, 3)).astype(np.float32) * 7
    np.testing.assert_array_equal(T.ToTensor()(floats).numpy()[0], floats)  # non-uint8: not rescaled


def test_to_tensor_matches_torch_division():
    torch = pytest.importorskip("torch")
    x = np.arange(256, dtype=np.uint8).reshape(16, 16)
    ref = torch.from_numpy(x[None]).to(torch.float32).div(255).numpy()
    np.testing.assert_array_equal(T.ToTensor()(x).numpy(), ref)


def test_normalize_math_and_errors():
    x = RNG.random((3, 4, 5)).astype(np.float32)
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 2.0)
    out = T.Normalize(mean, std)(cnnlab.Tensor(x)).numpy()
    expected = (x - np.float32(mean)[:, None, None]) / np.float32(std)[:, None, None]
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.float32
    with pytest.raises(ValueError, match="expected 3 channels, got an input with 1"):
        T.Normalize(mean, std)(cnnlab.Tensor(x[:1]))
    with pytest.raises(ValueError, match="division by zero"):
        T.Normalize((0.5,), (0.0,))
    with pytest.raises(TypeError, match="float tensor"):
        T.Normalize((0.5,), (1.0,))(cnnlab.Tensor(np.zeros((1, 2, 2), np.int64)))


def test_random_crop_with_padding_is_a_window_of_the_padded_image_and_covers_all_offsets():
    img = RNG.integers(1, 256, (6, 6), dtype=np.uint8)  # no zeros, so padding is recognisable
    padded = np.pad(img, 2)
    crop = T.RandomCrop(6, padding=2)
    seen = set()
    for _ in range(400):
        out = crop(img)
        assert out.shape == (6, 6)
        hits = [(i, j) for i in range(5) for j in range(5) if np.array_equal(padded[i:i + 6, j:j + 6], out)]
        assert len(hits) == 1
        seen.add(hits[0])
    assert seen == {(i, j) for i in range(5) for j in range(5)}  # offsets uniform on [0, 2p]


def test_random_crop_kinds_and_errors():
    pil = Image.fromarray(RNG.integers(0, 256, (10, 8, 3), dtype=np.uint8))
    assert T.RandomCrop((4, 5))(pil).size == (5, 4)
    t = cnnlab.Tensor(RNG.random((3, 10, 8)).astype(np.float32))
    assert T.RandomCrop(4, padding=(1, 2))(t).shape == (3, 4, 4)
    assert T.RandomCrop(12, pad_if_needed=True)(np.zeros((10, 8), np.uint8)).shape == (12, 12)
    with pytest.raises(ValueError, match="larger than the"):
        T.RandomCrop(12)(np.zeros((10, 8), np.uint8))
    with pytest.raises(ValueError, match="padding_mode"):
        T.RandomCrop(4, padding_mode="wrap")


def test_random_crop_reflect_padding():
    img = np.arange(9, dtype=np.uint8).reshape(3, 3)
    cnnlab.manual_seed(0)
    out = T.RandomCrop(5, padding=1, padding_mode="reflect")(img)
    np.testing.assert_array_equal(out, np.pad(img, 1, mode="reflect"))


def test_random_crop_batch_each_sample_its_own_window():
    x = RNG.integers(1, 256, (64, 5, 5, 1), dtype=np.uint8)
    out, chw = T.RandomCrop(5, padding=1).batch(x, False)
    assert out.shape == (64, 5, 5, 1) and not chw
    offsets = set()
    for n in range(64):
        padded = np.pad(x[n, :, :, 0], 1)
        hits = [(i, j) for i in range(3) for j in range(3) if np.array_equal(padded[i:i + 5, j:j + 5], out[n, :, :, 0])]
        assert len(hits) == 1
        offsets.add(hits[0])
    assert len(offsets) > 3
    xc = x.transpose(0, 3, 1, 2).astype(np.float32)
    outc, _ = T.RandomCrop(3).batch(xc, True)
    assert outc.shape == (64, 1, 3, 3)


def test_horizontal_flip():
    img = RNG.integers(0, 256, (4, 6, 3), dtype=np.uint8)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(img), img[:, ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(img), img)
    t = cnnlab.Tensor(img.transpose(2, 0, 1).astype(np.float32))
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(t).numpy(), t.numpy()[..., ::-1])
    pil = T.RandomHorizontalFlip(1.0)(Image.fromarray(img))
    np.testing.assert_array_equal(np.asarray(pil), img[:, ::-1])
    flips = sum(np.array_equal(T.RandomHorizontalFlip()(img), img[:, ::-1]) for _ in range(1000))
    assert 430 < flips < 570
    batch = np.stack([img] * 1000)
    out, _ = T.RandomHorizontalFlip().batch(batch, False)
    flipped = np.array([np.array_equal(o, img[:, ::-1]) for o in out])
    same = np.array([np.array_equal(o, img) for o in out])
    assert np.all(flipped | same) and 430 < flipped.sum() < 570


def test_random_transforms_are_reproducible_with_manual_seed():
    tf = T.Compose([T.RandomCrop(4, padding=2), T.RandomHorizontalFlip()])
    img = RNG.integers(0, 256, (6, 6), dtype=np.uint8)
    cnnlab.manual_seed(3)
    a = [tf(img) for _ in range(5)]
    cnnlab.manual_seed(3)
    b = [tf(img) for _ in range(5)]
    assert all(np.array_equal(p, q) for p, q in zip(a, b))


def test_resize_shorter_side_and_exact_size_with_pillow():
    img = Image.fromarray(RNG.integers(0, 256, (40, 20, 3), dtype=np.uint8))  # H=40, W=20
    assert T.Resize(10)(img).size == (10, 20)  # (W, H): shorter side 10, ratio kept
    assert T.Resize((7, 9))(img).size == (9, 7)
    ref = np.asarray(img.resize((10, 20), Image.Resampling.BILINEAR))
    np.testing.assert_array_equal(np.asarray(T.Resize(10)(img)), ref)
    t = T.ToTensor()(img)
    out = T.Resize((20, 10))(t)
    assert out.shape == (3, 20, 10) and out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), ref.transpose(2, 0, 1) / 255.0, atol=2 / 255)
    with pytest.raises(ValueError, match="interpolation"):
        T.Resize(4, interpolation="cubic-ish")


def test_center_crop_offsets_and_padding():
    img = np.arange(7 * 8, dtype=np.uint8).reshape(7, 8)
    out = T.CenterCrop((3, 4))(img)
    top, left = int(round((7 - 3) / 2)), int(round((8 - 4) / 2))
    np.testing.assert_array_equal(out, img[top:top + 3, left:left + 4])
    assert T.CenterCrop(4)(Image.fromarray(img)).size == (4, 4)
    big = T.CenterCrop(10)(img)
    assert big.shape == (10, 10) and big.sum() == img.sum()


def test_compose_batch_equals_per_sample():
    tf = T.Compose([T.ToTensor(), T.Normalize((0.5, 0.4, 0.3), (0.2, 0.3, 0.4))])
    x = RNG.integers(0, 256, (8, 5, 6, 3), dtype=np.uint8)
    batch, chw = tf.batch(x, False)
    assert chw and batch.shape == (8, 3, 5, 6)
    np.testing.assert_array_equal(batch, np.stack([tf(img).numpy() for img in x]))
    assert T.is_batchable(tf) and not T.is_batchable(T.Compose([T.Lambda(lambda v: v)]))
    assert not T.is_batchable(T.Resize(4))
