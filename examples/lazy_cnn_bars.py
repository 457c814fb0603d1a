"""A LeNet-style CNN written with lazy layers, trained on synthetic 12×12 "bar" images.

The idioms of Dive into Deep Learning's CNN chapters: ``LazyConv2d``/``LazyLinear`` that learn
their input sizes from a first batch, a layer-by-layer shape summary, Adam with a cosine
schedule, a fresh ``Generator`` for shuffling, and predictions printed through class names.
"""

import numpy as np

# --- the only lines that differ between cnnlab and PyTorch ---
import cnnlab as torch
from cnnlab import nn
from cnnlab.nn import functional as F
from cnnlab.utils.data import DataLoader, TensorDataset
# ---

CLASSES = ("horizontal", "vertical", "diagonal", "cross")


def make_bars(n: int, seed: int):
    """Noisy 12×12 images holding one kind of bar at a random place."""
    rng = np.random.default_rng(seed)
    images = 0.3 * rng.standard_normal((n, 1, 12, 12))
    labels = rng.integers(0, 4, n)
    for k, (label, pos) in enumerate(zip(labels, rng.integers(2, 10, n))):
        if label in (0, 3):
            images[k, 0, pos, :] += 1.0
        if label in (1, 3):
            images[k, 0, :, pos] += 1.0
        if label == 2:
            images[k, 0, np.arange(12), (np.arange(12) + pos) % 12] += 1.0
    return torch.tensor(images, dtype=torch.float32), torch.tensor(labels)


def main() -> None:
    torch.manual_seed(1)
    net = nn.Sequential(
        nn.LazyConv2d(6, kernel_size=3, padding=1), nn.LazyBatchNorm2d(), nn.ReLU(), nn.MaxPool2d(2),
        nn.LazyConv2d(12, kernel_size=3), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(),
        nn.LazyLinear(32), nn.ReLU(), nn.LazyLinear(len(CLASSES)),
    )
    X = torch.zeros(1, 1, 12, 12)
    for layer in net:
        X = layer(X)
        print(f"{layer.__class__.__name__:12s} output shape:\t{X.shape}")
    print(net)
    print("parameters:", sum(p.numel() for p in net.parameters()))

    X_train, y_train = make_bars(600, seed=0)
    X_test, y_test = make_bars(200, seed=1)
    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=50, shuffle=True,
                        generator=torch.Generator().manual_seed(3))
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    epochs = 4
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    for epoch in range(epochs):
        net.train()
        total = 0.0
        for X, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(net(X), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
        scheduler.step()
        net.eval()
        with torch.no_grad():
            accuracy = (net(X_test).argmax(axis=1) == y_test).float().mean()
        print(f"epoch {epoch + 1}: train loss {total / len(X_train):.3f}, test accuracy {accuracy:.3f}, "
              f"loss node {loss.grad_fn.name()}")

    with torch.no_grad():
        predictions = net(X_test[:6]).argmax(1)
    print("truth:", " ".join(CLASSES[y_test[j]] for j in range(6)))
    print("preds:", " ".join(CLASSES[p] for p in predictions))


if __name__ == "__main__":
    main()
