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

from cnnzoo.analysis import summary
from cnnzoo.build.factory import create
from cnnzoo.data import DigitsSplit, digits, random_shift
from cnnzoo.models.base import protocol


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


def train_lenet_on_digits(epochs: int = 15, seed: int = 0, verbose: bool = True) -> DemoResult:
    """Train LeNet-5 from scratch on the digits with a fixed seed.

    AdamW with a one-cycle schedule, label smoothing 0.05 and random ±2-pixel shifts.
    """
    torch.manual_seed(seed)
    model = create("lenet5")
    split = digits(model=model, seed=seed)
    loader = DataLoader(split.train, batch_size=32, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3,
                                                    total_steps=epochs * len(loader))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)
    shifts = torch.Generator().manual_seed(seed + 1)
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        running = 0.0
        for images, labels in loader:
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(random_shift(images, 2, shifts)), labels)
            loss.backward()
            optimizer.step()
            scheduler.step()
            running += loss.detach().item() * len(labels)
        if verbose:
            print(f"   epoch {epoch:2d}/{epochs}  train loss {running / len(split.train):.4f}  "
                  f"test accuracy {accuracy(model, split.test):.2%}")
    model.eval()
    return DemoResult(model, split, accuracy(model, split.test), epochs,
                      time.perf_counter() - start)


def run(epochs: int = 15, train: bool = True) -> DemoResult:
    """Run the demo and print what it does.

    1. ``create("lenet5", pretrained=True)`` loads the weights embedded in the package
       (tag ``lenet5.digits``) with no network, and predicts the held-out digits;
    2. a fresh LeNet-5 is trained from scratch on the training split (``train=True``);
    3. the per-layer summary: output shapes, parameters, MACs and receptive fields.
    """
    print("cnnzoo demo: LeNet-5 on scikit-learn's handwritten digits (offline)\n")
    model = create("lenet5", pretrained=True).eval()
    split = digits(model=model)
    labels: tuple[str, ...] = protocol(model).pretrained_cfg["labels"]
    images, targets = split.test.tensors
    with torch.no_grad():
        predicted = model(images[:16]).argmax(1)
    pretrained_acc = accuracy(model, split.test)
    print("1. pretrained weights embedded in the package (lenet5.digits), no network:")
    print(f"   held-out digits : {' '.join(labels[int(v)] for v in targets[:16])}")
    print(f"   predicted       : {' '.join(labels[int(v)] for v in predicted)}")
    print(f"   test accuracy   : {pretrained_acc:.2%} on {len(split.test)} held-out digits\n")
    result = DemoResult(model, split, pretrained_acc, 0, 0.0)
    if train:
        print(f"2. LeNet-5 trained from scratch for {epochs} epochs on {len(split.train)} digits:")
        result = train_lenet_on_digits(epochs=epochs)
        print(f"   test accuracy   : {result.test_accuracy:.2%} ({result.seconds:.1f} s)\n")
    print("3. per-layer summary (receptive fields in input pixels):\n")
    print(summary(model, input_size=(1, 32, 32)))
    return result
