"""Train a small classifier on synthetic blobs, checkpoint it, resume, and evaluate.

The idioms of PyTorch's beginner tutorials: pick a device, split with a seeded generator,
shuffle with a generator, a learning-rate schedule, ``save``/``load`` of a checkpoint
dictionary (model and optimizer state, epoch), and inference mode.
"""

import sys
import tempfile
from pathlib import Path

import numpy as np

# --- the only lines that differ between cnnlab and PyTorch ---
import cnnlab as torch
from cnnlab import nn
from cnnlab.utils.data import DataLoader, TensorDataset, random_split
# ---


def make_blobs(n_per_class: int = 200, seed: int = 0):
    """Three Gaussian clouds in the plane (NumPy, so both libraries see the same numbers)."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]])
    points = np.concatenate([c + 0.8 * rng.standard_normal((n_per_class, 2)) for c in centres])
    labels = np.repeat(np.arange(3), n_per_class)
    return torch.tensor(points, dtype=torch.float32), torch.tensor(labels)


def evaluate(model, loader, loss_fn):
    model.eval()
    total, correct, loss_sum = 0, 0, 0.0
    with torch.inference_mode():
        for X, y in loader:
            pred = model(X)
            loss_sum += loss_fn(pred, y).item() * len(y)
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
            total += len(y)
    return loss_sum / total, correct / total


def main(workdir: Path) -> None:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cudnn.benchmark = True
    print(f"Using {device} device, {torch.cuda.device_count()} GPUs")

    X, y = make_blobs()
    print("data:", X.shape, X.dtype, y.dtype)
    dataset = TensorDataset(X, y)
    train_set, test_set = random_split(dataset, [0.8, 0.2], generator=torch.Generator().manual_seed(42))
    print("split:", len(train_set), len(test_set))
    train_loader = DataLoader(train_set, batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(0))
    test_loader = DataLoader(test_set, batch_size=64)

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(inplace=True), nn.Linear(32, 3)).to(device)
    print(model)
    print("parameters:", sum(p.numel() for p in model.parameters()))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)

    checkpoint_path = workdir / "checkpoint.pt"
    for epoch in range(6):
        model.train()
        for X_batch, y_batch in train_loader:
            X_batch, y_batch = X_batch.to(device), y_batch.to(device)
            loss = loss_fn(model(X_batch), y_batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()
        test_loss, accuracy = evaluate(model, test_loader, loss_fn)
        print(f"epoch {epoch + 1}: lr {scheduler.get_last_lr()[0]:.4f}  last batch loss {loss:>7f}  "
              f"test loss {test_loss:.4f}  accuracy {100 * accuracy:.1f}%")
        if epoch == 2:
            torch.save({"epoch": epoch, "model_state_dict": model.state_dict(),
                        "optimizer_state_dict": optimizer.state_dict(), "loss": loss.item()}, checkpoint_path)

    checkpoint = torch.load(checkpoint_path, weights_only=True)
    resumed = nn.Sequential(nn.Linear(2, 32), nn.ReLU(inplace=True), nn.Linear(32, 3))
    resumed.load_state_dict(checkpoint["model_state_dict"])
    resumed_optimizer = torch.optim.SGD(resumed.parameters(), lr=0.1, momentum=0.9)
    resumed_optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    print("checkpoint: epoch", checkpoint["epoch"], "keys", sorted(checkpoint))
    _, resumed_accuracy = evaluate(resumed, test_loader, loss_fn)
    print(f"resumed from epoch {checkpoint['epoch'] + 1}: accuracy {100 * resumed_accuracy:.1f}%")

    torch.save(model, workdir / "whole_model.pt")
    whole = torch.load(workdir / "whole_model.pt", weights_only=False)
    print("whole model reloaded:", type(whole).__name__, len(whole))
    print(f"final accuracy {100 * evaluate(whole, test_loader, loss_fn)[1]:.1f}%")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tmp))
