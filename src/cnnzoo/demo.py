"""The offline demo: LeNet-5 learns scikit-learn's real handwritten digits.

Runs in seconds on a laptop CPU with no network: builds LeNet-5 from the zoo,
trains it on 1,437 digits, reports accuracy on the 360 held-out ones and prints
the per-layer summary (output shapes, parameters, MACs, receptive fields).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.data import DataLoader

from cnnzoo.data import DigitsSplit, digits


@dataclass
class DemoResult:
    """What the demo measured."""

    model: nn.Module
    split: DigitsSplit
    test_accuracy: float
    epochs: int
    seconds: float


@torch.no_grad()
def accuracy(model: nn.Module, dataset, batch_size: int = 512) -> float:
    """Top-1 accuracy of ``model`` on a ``(image, label)`` dataset."""
    was_training = model.training
    model.eval()
    correct = total = 0
    for images, labels in DataLoader(dataset, batch_size=batch_size):
        correct += int((model(images).argmax(1) == labels).sum())
        total += len(labels)
    model.train(was_training)
    return correct / max(total, 1)


def train_lenet_on_digits(epochs: int = 12, seed: int = 0, verbose: bool = True) -> DemoResult:
    """Train LeNet-5 from scratch on the digits with a fixed seed (Adam, cosine schedule)."""
    import cnnzoo

    torch.manual_seed(seed)
    model = cnnzoo.create("lenet5")
    split = digits(model=model, seed=seed)
    loader = DataLoader(split.train, batch_size=32, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs * len(loader))
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        running = 0.0
        for images, labels in loader:
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(images), labels)
            loss.backward()
            optimizer.step()
            scheduler.step()
            running += float(loss) * len(labels)
        if verbose:
            print(f"  epoch {epoch:2d}/{epochs}  train loss {running / len(split.train):.4f}  "
                  f"test accuracy {accuracy(model, split.test):.2%}")
    model.eval()
    return DemoResult(model, split, accuracy(model, split.test), epochs,
                      time.perf_counter() - start)


def run(epochs: int = 12) -> DemoResult:
    """Run the demo and print what it does."""
    from cnnzoo.analysis import summary

    print("cnnzoo demo: LeNet-5 on scikit-learn's handwritten digits (offline)\n")
    result = train_lenet_on_digits(epochs=epochs)
    images, labels = result.split.test.tensors
    with torch.no_grad():
        predicted = result.model(images[:12]).argmax(1)
    print(f"\nheld-out digits : {' '.join(str(int(v)) for v in labels[:12])}")
    print(f"predicted       : {' '.join(str(int(v)) for v in predicted)}")
    print(f"test accuracy   : {result.test_accuracy:.2%} on {len(result.split.test)} held-out "
          f"digits after {result.epochs} epochs ({result.seconds:.1f} s)\n")
    print(summary(result.model, input_size=(1, 32, 32)))
    return result
