"""Write the lecture's companion notebooks, ``notebooks/*.ipynb``, without outputs.

The notebooks are generated from the cells below so that their text and code can be reviewed
as ordinary Python, and so that the committed files never carry outputs or execution counts
(``tests/notebooks/test_notebooks.py`` checks both and runs every notebook).

    python scripts/make_notebooks.py            # rewrite notebooks/
    python scripts/make_notebooks.py --check    # exit 1 if notebooks/ differs from this script
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "notebooks"


def md(text: str):
    return nbformat.v4.new_markdown_cell(text.strip("\n"))


def code(text: str):
    return nbformat.v4.new_code_cell(text.strip("\n"))


NOTEBOOKS: dict[str, list] = {}

# --------------------------------------------------------------------------------------------
NOTEBOOKS["01-images-are-numbers"] = [
    md("""
# 1. Images are numbers

The lecture opens with a photo and the grid of numbers a computer stores for it. This notebook
loads real pictures with cnnlab and looks at those numbers: a grayscale image is one matrix of
brightness values from 0 (black) to 255 (white), a colour image is three such matrices (red,
green, blue).
"""),
    code("""
import numpy as np
import cnnlab
from cnnlab import viz

photo = viz.sample_image("camera")      # the cameraman photo that ships inside scikit-image
photo.shape, photo.dtype, photo.min(), photo.max()
"""),
    md("""
Every pixel is one `uint8`. A small crop printed as a matrix looks like the lecture's slide:
"""),
    code("""
box = (170, 200, 12, 10)                 # x, y, width, height: where a dark area meets a bright one
region = viz.pixel_channels(photo, box)["gray"]
print(viz.format_matrix(region))
"""),
    md("""
The same numbers drawn as an image, with each value written on its pixel. `pixels_figure`
returns a matplotlib figure; a notebook shows it when a cell returns it.
"""),
    code("""
viz.pixels_figure(viz.pixel_channels(photo, box), title="cameraman, 12 x 10 pixels")
"""),
    md("""
## Colour: three matrices

A colour photo has a third axis of length 3. Each channel is a grayscale image of its own.
"""),
    code("""
astronaut = viz.sample_image("astronaut")
print(astronaut.shape)                   # height x width x 3
viz.pixels_figure(viz.pixel_channels(astronaut, (200, 120, 8, 6)), title="astronaut, R, G and B")
"""),
    md("""
## From pixels to a model's input

Fashion-MNIST (installed by the set-up) holds 28 x 28 grayscale images. A model does not take
`uint8` values: it takes float32 tensors of shape (channels, height, width), usually scaled to
[0, 1] and normalised. An MLP, the lecture's first model, then "stretches" the image into one
long vector of 28 · 28 = 784 numbers.
"""),
    code("""
raw = cnnlab.datasets.create("fashion-mnist", train=False, transform=None)
image, label = raw.data[0], int(raw.targets[0])
print(raw.classes[label], image.shape, image.dtype)
print(viz.format_matrix(image[4:14, 8:20]))
"""),
    code("""
x = cnnlab.from_numpy(image.astype(np.float32) / 255).reshape(1, 28, 28)   # (C, H, W)
flat = x.flatten()
x.shape, flat.shape, float(flat.max())
"""),
]

# --------------------------------------------------------------------------------------------
NOTEBOOKS["02-convolution"] = [
    md("""
# 2. Convolution by hand and with `conv2d`

A convolution slides a small kernel over the image. At each position it multiplies the kernel
with the patch under it, element by element, and adds the products: one number of the output
(the feature map). Like PyTorch, cnnlab computes a cross-correlation: the kernel is not flipped.

The lecture's example: a 5 x 5 binary image and a 3 x 3 kernel shaped like an X.
"""),
    code("""
import numpy as np
import cnnlab
import cnnlab.functional as F
from cnnlab import viz
from cnnlab.viz.stepper import LECTURE_IMAGE, LECTURE_KERNEL, EDGE_IMAGE, EDGE_KERNEL

print(LECTURE_IMAGE.astype(int))
print(LECTURE_KERNEL.astype(int))
"""),
    md("""
## By hand

Two loops over the output positions, one dot product each. Slow, but it is the definition.
"""),
    code("""
def convolve(image, kernel):
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
    return out

by_hand = convolve(LECTURE_IMAGE, LECTURE_KERNEL)
by_hand                                  # the lecture's feature map: 4 3 4 / 2 4 3 / 2 3 4
"""),
    md("""
`viz.conv_steps` records the same computation one output cell at a time (the frames of
`cnnlab explain-conv`). Here is the first step and the last:
"""),
    code("""
walk = viz.conv_steps(LECTURE_IMAGE, LECTURE_KERNEL)
print(viz.render_frame(walk, 0, color=False))
print()
print(viz.render_frame(walk, len(walk.steps) - 1, color=False))
"""),
    md("""
## With `conv2d`

`cnnlab.functional.conv2d` takes a batch of images (N, C_in, H, W) and a weight
(C_out, C_in, K, K), as `torch.nn.functional.conv2d` does.
"""),
    code("""
x = cnnlab.tensor(LECTURE_IMAGE, dtype=cnnlab.float32).reshape(1, 1, 5, 5)
w = cnnlab.tensor(LECTURE_KERNEL, dtype=cnnlab.float32).reshape(1, 1, 3, 3)
y = F.conv2d(x, w)
print(y)
assert np.array_equal(y.numpy()[0, 0], by_hand)
"""),
    md("""
## An edge detector

The lecture's vertical-edge kernel answers where the image changes from bright (10) to dark
(0) going right: the middle columns of the output light up with 30.
"""),
    code("""
edge = F.conv2d(cnnlab.tensor(EDGE_IMAGE, dtype=cnnlab.float32)[None, None],
                cnnlab.tensor(EDGE_KERNEL, dtype=cnnlab.float32)[None, None])
edge[0, 0]
"""),
    md("""
## Many channels, many filters

On a colour image each filter spans all input channels: a 5 x 5 x 3 filter gives one number
per position, w·x + b over 75 values. Six filters give six feature maps, stacked into an output
of 6 channels. `nn.Conv2d` holds those filters as its weight.
"""),
    code("""
from cnnlab import nn

cnnlab.manual_seed(0)
conv = nn.Conv2d(3, 6, kernel_size=5)
image = cnnlab.rand(1, 3, 32, 32)
out = conv(image)
conv.weight.shape, out.shape             # 6 filters of 3x5x5 -> 6 maps of 28x28
"""),
    code("""
# One output value is a dot product of a filter with one 3x5x5 chunk, plus the bias.
patch = image[0, :, 10:15, 20:25]
by_dot = (conv.weight[2] * patch).sum() + conv.bias[2]
float(by_dot), float(out[0, 2, 10, 20])
"""),
]

# --------------------------------------------------------------------------------------------
NOTEBOOKS["03-output-size"] = [
    md("""
# 3. Kernel size, stride, padding, dilation and the output size

Four numbers fix how a kernel walks over the input:

- **kernel size** K: the window's width;
- **stride** S: how far the window jumps between positions;
- **padding** P: zeros added around the border, so the window can sit on edge pixels;
- **dilation** d: gaps between the kernel's taps, so a 3 x 3 kernel with d = 2 covers 5 x 5.

The lecture's formula for one side: O = (W − K + 2P) / S + 1, rounded down, with
K replaced by d·(K − 1) + 1 when dilated.
"""),
    code("""
import cnnlab
import cnnlab.functional as F
from cnnlab.summarize import layer_flow, parse_layers

print(cnnlab.conv_output_size(32, 5, explain=True))          # the lecture: 32x32 input, 5x5 filter
print(cnnlab.conv_output_size(7, 3, P=1, S=3, explain=True))  # 7x7, zero pad 1, stride 3
"""),
    md("""
When the stride does not divide W − K + 2P, the last pixels are never covered; the
explanation says which ones PyTorch (and cnnlab) leave out.
"""),
    code("""
print(cnnlab.conv_output_size(8, 3, P=0, S=2, explain=True))
"""),
    md("""
## The formula against `conv2d`

Every combination below runs a real convolution and compares its output width with the formula.
"""),
    code("""
x = cnnlab.zeros(1, 1, 11, 11)
rows = []
for K in (1, 3, 5):
    for S in (1, 2, 3):
        for P in (0, 1, 2):
            for d in (1, 2):
                if d * (K - 1) + 1 > 11 + 2 * P:
                    continue
                w = cnnlab.zeros(1, 1, K, K)
                got = F.conv2d(x, w, stride=S, padding=P, dilation=d).shape[-1]
                want = cnnlab.conv_output_size(11, K, P=P, S=S, dilation=d)
                assert got == want, (K, S, P, d, got, want)
                rows.append((K, S, P, d, got))
print(len(rows), "settings agree; a few:", rows[:6])
"""),
    md("""
## "Same" padding

With stride 1 and P = (K − 1) / 2 the output keeps the input's size.
"""),
    code("""
[(K, (K - 1) // 2, cnnlab.conv_output_size(28, K, P=(K - 1) // 2)) for K in (3, 5, 7, 9)]
"""),
    md("""
## Dilation

A dilated kernel looks at a wider area with the same number of weights.
"""),
    code("""
[(d, d * (3 - 1) + 1, cnnlab.conv_output_size(28, 3, dilation=d)) for d in (1, 2, 3, 4)]
"""),
    md("""
## A whole stack

The lecture's CNN for MNIST, written in the compact syntax of `cnnlab size --layers`: each
line gives the shape after the layer and the arithmetic.
"""),
    code("""
for kind, shape, how in layer_flow((1, 28, 28), parse_layers("conv16k5,pool2,conv24k5,pool2,flatten,fc64,fc10")):
    print(f"{kind:8s} {str(shape):14s} {how}")
"""),
    md("""
The same two convolutions as PyTorch-style modules, as on the lecture's slide:
"""),
    code("""
from cnnlab import nn

conv1 = nn.Conv2d(1, 16, kernel_size=5, stride=1, padding=0)
conv2 = nn.Conv2d(16, 8, kernel_size=5, stride=1, padding=0)
conv2(conv1(cnnlab.zeros(1, 1, 28, 28))).shape
"""),
]

# --------------------------------------------------------------------------------------------
NOTEBOOKS["04-classic-filters"] = [
    md("""
# 4. Classic filters on a photo

Before networks learned their kernels, people designed them by hand: a box of ones blurs, a
kernel with a strong centre sharpens, kernels that subtract one side from the other find edges.
`viz.apply_kernel` runs such a kernel with cnnlab's own `conv2d` (on a colour photo, one
depthwise convolution with `groups=3`).
"""),
    code("""
import numpy as np
from cnnlab import viz

for name, k in viz.KERNELS.items():
    print(f"{name:16s} {k.shape}  sum {k.sum():+.2f}")
"""),
    code("""
photo = viz.sample_image("camera")
viz.filtered_figure(photo, {name: viz.KERNELS[name] for name in ("box-blur", "sharpen", "vertical-edge",
                                                                 "horizontal-edge", "sobel-x", "laplacian")},
                    title="Classic kernels on the cameraman")
"""),
    md("""
Kernels whose weights add up to 1 (blur, sharpen) keep the brightness; kernels that add up to 0
(edges, Laplacian) answer 0 on flat areas and a signed value on edges. The numbers behind the
picture:
"""),
    code("""
edges = viz.apply_kernel(photo, viz.KERNELS["vertical-edge"])
print(photo.shape, "->", edges.shape)            # no padding: one pixel lost at each border
print("a flat patch of sky:", edges[20:23, 20:23].round(1).tolist())
print("strongest responses:", np.sort(np.abs(edges).ravel())[-3:])
"""),
    md("""
## Your own kernel

Any matrix works; `parse_kernel` also reads the text form that `cnnlab filter --kernel` takes.
"""),
    code("""
diagonal = viz.parse_kernel("[[2,1,0],[1,0,-1],[0,-1,-2]]")
viz.filtered_figure(photo, {"diagonal": diagonal, "gaussian-blur": viz.KERNELS["gaussian-blur"]},
                    title="A diagonal edge kernel and a 5x5 Gaussian")
"""),
    md("""
## Colour

On a colour photo each channel is filtered with the same kernel.
"""),
    code("""
coffee = viz.sample_image("coffee")
viz.filtered_figure(coffee, {"box-blur": viz.KERNELS["box-blur"], "sobel-y": viz.KERNELS["sobel-y"]},
                    title="Filters on a colour photo")
"""),
]

# --------------------------------------------------------------------------------------------
NOTEBOOKS["05-activations"] = [
    md("""
# 5. Activations

Without a non-linearity between them, stacked linear layers collapse into one linear map.
The lecture lists sigmoid, tanh, ReLU, leaky ReLU, maxout and ELU. The figure draws each with
its derivative, which cnnlab's autograd computes (`y.sum().backward()`).
"""),
    code("""
import numpy as np
import cnnlab
import cnnlab.functional as F
from cnnlab import nn, viz
from cnnlab.viz.stepper import RELU_IMAGE

viz.activations_figure()
"""),
    md("""
Where each function saturates its derivative is close to 0: sigmoid's is at most 0.25, which is
why deep stacks of sigmoids learn slowly. ReLU's derivative is 1 for every positive input.
"""),
    code("""
curves = viz.activation_curves()
{name: round(float(dy.max()), 3) for name, (x, y, dy) in curves.items()}
"""),
    md("""
## ReLU on a feature map

ReLU works pixel by pixel: negative values become 0, the rest pass unchanged. The lecture's
example:
"""),
    code("""
fmap = cnnlab.tensor(RELU_IMAGE, dtype=cnnlab.float32)
print(fmap)
print(F.relu(fmap))
"""),
    code("""
# The module form, as a network uses it, and the gradient: 1 where the input was positive.
x = fmap.clone().requires_grad_(True)
nn.ReLU()(x).sum().backward()
x.grad
"""),
]

# --------------------------------------------------------------------------------------------
NOTEBOOKS["06-pooling"] = [
    md("""
# 6. Pooling

Pooling shrinks a feature map: each window is replaced by its maximum (max pooling) or its
mean (average pooling). It has no weights. With 2 x 2 windows and stride 2 every side halves,
so later layers see a larger part of the image for the same cost, and a small shift of the
input changes the result less.
"""),
    code("""
import numpy as np
import cnnlab
import cnnlab.functional as F
from cnnlab import viz
from cnnlab.viz.stepper import POOL_IMAGE

x = cnnlab.tensor(POOL_IMAGE, dtype=cnnlab.float32)[None, None]   # the lecture's ReLU output
print(x[0, 0])
print("max:", F.max_pool2d(x, 2)[0, 0])
print("avg:", F.avg_pool2d(x, 2)[0, 0])
"""),
    md("""
One window at a time, as `cnnlab explain-pool` shows it:
"""),
    code("""
walk = viz.pool_steps(POOL_IMAGE, "max", kernel_size=2)
print(viz.render_frame(walk, 1, color=False))
"""),
    md("""
## Overlapping pooling

AlexNet pools 3 x 3 windows with stride 2: neighbouring windows share a row or column. The
output size follows the same formula as a convolution.
"""),
    code("""
big = cnnlab.rand(1, 96, 55, 55)
print(F.max_pool2d(big, kernel_size=3, stride=2).shape)
print(cnnlab.conv_output_size(55, 3, S=2, explain=True))
"""),
    md("""
## Pooling a photo

Repeated 2 x 2 max pooling of an edge map: the picture gets coarser, the strong edges survive.
"""),
    code("""
photo = viz.sample_image("camera")
edges = np.abs(viz.apply_kernel(photo, viz.KERNELS["sobel-x"]))
t = cnnlab.from_numpy(edges[None, None].copy())
sizes = []
for _ in range(3):
    t = F.max_pool2d(t, 2)
    sizes.append(tuple(t.shape[-2:]))
print(edges.shape, "->", sizes)
print("largest edge kept:", float(edges.max()), float(t.max()))
"""),
]

# --------------------------------------------------------------------------------------------
NOTEBOOKS["07-mlp-baselines"] = [
    md("""
# 7. The MLP baselines

Before convolutions, the lecture fits fully connected networks: Boston housing (13-8-6-1,
regression), Iris (4-25-15-3) and MNIST / Fashion-MNIST (784-128-64-10). All four are in
cnnlab's model zoo. This notebook trains them briefly; `cnnlab reproduce` runs the full
protocols (`docs/results.md` has the numbers).
"""),
    code("""
import tempfile
import numpy as np
import cnnlab
from cnnlab import nn, optim
from cnnlab.train.session import TrainConfig, train_run

for name in ("boston-mlp", "iris-mlp", "mnist-mlp"):
    s = cnnlab.summary(name)
    print(f"{name:11s} {s.rows[0].shape} -> {s.rows[-1].shape}   {s.total_params:,} parameters")
"""),
    md("""
A model shows its layers and parameter counts as a table when a cell returns it:
"""),
    code("""
cnnlab.models.create("mnist-mlp")
"""),
    md("""
## Iris: a plain training loop

Iris has 150 flowers with 4 measurements. The set-up installs it; the training split holds 120
standardised rows. The loop is the one every PyTorch tutorial writes.
"""),
    code("""
train = cnnlab.datasets.create("iris", train=True)
test = cnnlab.datasets.create("iris", train=False)
X, y = cnnlab.from_numpy(train.data), cnnlab.from_numpy(train.targets)

cnnlab.manual_seed(0)
model = cnnlab.models.create("iris-mlp")
opt = optim.Adam(model.parameters(), lr=0.01)
loss_fn = nn.CrossEntropyLoss()
for epoch in range(100):
    opt.zero_grad()
    loss = loss_fn(model(X), y)
    loss.backward()
    opt.step()

model.eval()
with cnnlab.no_grad():
    pred = model(cnnlab.from_numpy(test.data)).argmax(1).numpy()
print(f"loss {float(loss):.3f}, test accuracy {np.mean(pred == test.targets):.1%} on {len(test)} flowers")
"""),
    md("""
## Boston housing: regression

Same loop, a single output and the mean squared error; the score is the root of it, in
thousands of dollars.
"""),
    code("""
train = cnnlab.datasets.create("boston", train=True)
test = cnnlab.datasets.create("boston", train=False)
X, y = cnnlab.from_numpy(train.data), cnnlab.from_numpy(train.targets.reshape(-1, 1))

cnnlab.manual_seed(0)
model = cnnlab.models.create("boston-mlp")
opt = optim.Adam(model.parameters(), lr=0.01)
for epoch in range(300):
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(X), y)
    loss.backward()
    opt.step()

with cnnlab.no_grad():
    err = model(cnnlab.from_numpy(test.data)).numpy()[:, 0] - test.targets.reshape(-1)
print(f"test RMSE {np.sqrt(np.mean(err ** 2)):.2f} on {len(test)} tracts")
"""),
    md("""
## Fashion-MNIST

The image MLP sees each 28 x 28 image as 784 separate inputs. `train_run` is what
`cnnlab train` runs: it writes a run directory with a checkpoint, metrics and plots. Here it
trains one epoch on 3,000 images with Adam, so the accuracy stays below the lecture's 84%
(the full protocol gives 89.6%, `docs/results.md`).
"""),
    code("""
runs = tempfile.mkdtemp(prefix="cnnlab-nb-")
cfg = TrainConfig("mnist-mlp", "fashion-mnist", epochs=1, limit_train=3000, limit_test=1000,
                  optimizer="adam", lr=0.003)
history, mlp_run, test_metrics = train_run(cfg, out=f"{runs}/mlp", root=runs, progress=False)
print(f"test accuracy {test_metrics['accuracy']:.1%} on 1,000 test images")
"""),
    code("""
from cnnlab import inspect

mlp, info = inspect.load_run(mlp_run)
info                                     # the run: model, data, last metrics and curves
"""),
]

# --------------------------------------------------------------------------------------------
NOTEBOOKS["08-lecture-cnn"] = [
    md("""
# 8. The lecture's CNN: trained, summarised and inspected

The lecture ends with a small CNN for MNIST: two 5 x 5 convolutions (16 and 24 filters), each
followed by ReLU and 2 x 2 max pooling, then 384 → 64 → 10 fully connected, with dropout. In
cnnlab's zoo it is `mnist-cnn`.
"""),
    code("""
import tempfile
import numpy as np
import cnnlab
from cnnlab import inspect, viz
from cnnlab.train.session import TrainConfig, train_run

net = cnnlab.models.create("mnist-cnn")
net
"""),
    md("""
The summary adds what needs an input: each layer's output shape, its parameters with the
formula, multiply-accumulates and receptive field.
"""),
    code("""
summary = cnnlab.summary(net, (1, 28, 28))
summary
"""),
    code("""
print(summary.lecture_claim())
"""),
    md("""
## Training

One epoch on 2,000 Fashion-MNIST images with Adam: a quick look, not a result (one full epoch,
as `cnnlab demo` trains it, reaches about 83%).
"""),
    code("""
runs = tempfile.mkdtemp(prefix="cnnlab-nb-")
cfg = TrainConfig("mnist-cnn", "fashion-mnist", epochs=1, limit_train=2000, limit_test=1000,
                  optimizer="adam", lr=0.003)
history, run, test_metrics = train_run(cfg, out=f"{runs}/cnn", root=runs, progress=False)
"""),
    code("""
model, info = inspect.load_run(run)
info
"""),
    md("""
## Predictions

`inspect.to_model_input` applies the run's own preprocessing to a raw test image and lists the
steps; `inspect.forward` and `inspect.probabilities` give the class probabilities.
"""),
    code("""
raw = cnnlab.datasets.create("fashion-mnist", train=False, transform=None)
image, label = raw.data[0], int(raw.targets[0])
x = inspect.to_model_input(image, info)
print(x.steps)
probs = inspect.probabilities(inspect.forward(model, x.array[None]))[0]
print("true:", info.classes[label])
for k, p in inspect.top_k(probs, 3):
    print(f"  {info.classes[k]:12s} {p:.2f}")
"""),
    md("""
## Filters and feature maps

The first layer's 16 filters after this short training, and what every layer makes of the test
image: edges and blobs first, coarser maps after each pooling.
"""),
    code("""
viz.filters_figure(model, "conv1")
"""),
    code("""
viz.features_figure(model, x.array, input_image=image, max_maps=16)
"""),
    md("""
`inspect.trace` is what these figures stand on: one record per layer call with its input and
output (and gradients when asked).
"""),
    code("""
t = inspect.trace(model, x.array[None])
[(layer.name, layer.kind, layer.output.shape) for layer in t]
"""),
    md("""
## Why this class?

Attribution maps mark the pixels that pushed the model towards a class: the gradient
(saliency), integrated gradients along a straight path from an all-zero input (after the
normalisation, that is the average pixel), Grad-CAM on the last convolution, and occlusion
(hiding patches and watching the score fall). The maps below are for the predicted class.
"""),
    code("""
target = int(np.argmax(probs))
maps = viz.attribution_maps(model, x.array, target,
                            methods=("saliency", "integrated-gradients", "grad-cam", "occlusion"), layer="conv2")
viz.attribution_mosaic(image, maps, probs, list(info.classes), target=target, label=label)
"""),
]

# --------------------------------------------------------------------------------------------
NOTEBOOKS["09-alexnet"] = [
    md("""
# 9. AlexNet's table

The lecture's AlexNet table lists, per layer, the activation shape, its size and the number of
parameters. `cnnlab.summary("alexnet")` computes the same table from the model (without drawing
its 62 million random weights) and adds the formula of each count, the multiply-accumulates and
the receptive field.
"""),
    code("""
import cnnlab

alexnet = cnnlab.summary("alexnet")
alexnet
"""),
    md("""
The lecture's claim: convolutions do 90–95% of the computation with about 5% of the
parameters, and the fully connected layers hold the rest.
"""),
    code("""
print(alexnet.lecture_claim())
shares = alexnet.shares()
{part: (f"{v['params_pct']:.1f}% of parameters", f"{v['macs_pct']:.1f}% of MACs") for part, v in shares.items()}
"""),
    md("""
Rows as data, to compare with the slide. The lecture counts one bias per fully connected layer
(37,748,737 for FC 3); the layer really has 4,096 (`docs/lecture-notes.md` has the arithmetic).
"""),
    code("""
for r in alexnet.rows:
    if r.params:
        print(f"{r.name:12s} {str(r.shape):16s} {r.params:>12,}  = {r.formula}")
"""),
    md("""
The first layer's output size, with the formula: 227 x 227 input, 11 x 11 filters, stride 4.
"""),
    code("""
print(cnnlab.conv_output_size(227, 11, S=4, explain=True))
"""),
    md("""
## The original two-GPU AlexNet

The 2012 network split conv2, conv4 and conv5 into two groups, one per GPU: each filter sees
half of the input channels, which halves those layers' weights.
"""),
    code("""
two_gpu = cnnlab.summary("alexnet-2gpu")
print(f"one GPU: {alexnet.total_params:,} parameters; two groups: {two_gpu.total_params:,}")
"""),
]


def build(name: str, cells: list) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{name[:2]}-{i:02d}"  # stable ids: regenerating gives the same files
    return nb


def render(name: str, cells: list) -> str:
    nb = build(name, cells)
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare notebooks/ with this script")
    args = parser.parse_args(argv)
    OUT.mkdir(exist_ok=True)
    stale = []
    for name, cells in NOTEBOOKS.items():
        path = OUT / f"{name}.ipynb"
        text = render(name, cells)
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print("out of date (run python scripts/make_notebooks.py):", ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
