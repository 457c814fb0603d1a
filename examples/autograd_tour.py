"""A tour of tensors and autograd, printing what a PyTorch tutorial prints.

Every value here is fixed, so PyTorch prints exactly the same text (with ``torch`` where this
prints ``cnnlab``); tests/test_examples.py runs it under both and compares the output.
"""

# --- the only lines that differ between cnnlab and PyTorch ---
import cnnlab as torch
from cnnlab.nn import functional as F
# ---

# tensors and how they print
x = torch.arange(12, dtype=torch.float32).reshape(3, 4)
print(x, x.shape, x.size(), x.dtype, sep="\n")
print(torch.linspace(-1, 1, 5), torch.eye(3, dtype=torch.int64), torch.full((2, 2), 7))
print(torch.tensor([1e-5, 1.0, 250.0]), torch.tensor([[True, False]]), torch.zeros(0, 3))
print(x.sum(axis=0), x.mean(dim=1, keepdim=True), x.argmax(axis=1))
print(torch.ones_like(x, dtype=torch.float64) / 3)

# the autograd tutorial's one-layer model, with fixed weights
inputs = torch.ones(5)
target = torch.zeros(3)
w = torch.linspace(-1.0, 1.0, 15).reshape(5, 3).requires_grad_()
b = torch.tensor([0.1, -0.2, 0.3], requires_grad=True)
z = torch.matmul(inputs, w) + b
loss = F.binary_cross_entropy_with_logits(z, target)
print(z)
print(f"Gradient function for z = {z.grad_fn.name()}")
print(f"Gradient function for loss = {loss.grad_fn.name()}")
print("next functions:", [f.name() if f is not None else None for f, _ in loss.grad_fn.next_functions])
loss.backward()
print(w.grad, b.grad, sep="\n")
print(f"loss {loss:.4f}, as a number {loss.item():.6f}")

with torch.no_grad():
    print((torch.matmul(inputs, w) + b).requires_grad)
print(z.detach().requires_grad)
with torch.set_grad_enabled(False):
    print((w * 2).requires_grad)
print(torch.is_grad_enabled())

# a few ops a CNN course reaches for
xs, ys = torch.meshgrid(torch.arange(3.0), torch.arange(2.0), indexing="ij")
print(xs, torch.sin(ys), torch.cosh(torch.tensor([0.5])))
scores = torch.tensor([[0.1, 2.0, -1.0, 0.7], [1.5, -0.3, 0.2, 0.9]])
print(scores.topk(2, dim=1), scores.sort(dim=1, descending=True).indices)
print(F.one_hot(torch.tensor([2, 0, 3]), num_classes=4))
img = torch.arange(16.0).reshape(1, 1, 4, 4)
print(F.interpolate(img, scale_factor=0.5, mode="bilinear", align_corners=False))
print(F.conv_transpose2d(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 2, 2), stride=2).shape)
classes = ("plane", "car", "bird", "cat")
labels = torch.tensor([3, 1, 0])
print(" ".join(f"{classes[labels[j]]:5s}" for j in range(3)))
