"""Train LeNet-5 on scikit-learn's digits (seeded) and write the embedded ``lenet5.digits`` weights.

Run from the repository root:  .venv/bin/python scripts/make_lenet5_digits.py
It prints the test accuracy and the sha256 to record in ``cnnzoo/catalog/lenet.py``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from cnnzoo.build.weights import sha256_file
from cnnzoo.data import DIGIT_LABELS
from cnnzoo.demo import train_lenet_on_digits
from cnnzoo.hub import save_pretrained

TARGET = Path(__file__).resolve().parents[1] / "src" / "cnnzoo" / "weights" / "lenet5-digits"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=TARGET)
    args = parser.parse_args()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    result = train_lenet_on_digits(epochs=args.epochs, seed=args.seed, verbose=False)
    model = result.model
    model.pretrained_cfg.update(labels=DIGIT_LABELS, tag="digits", license="apache-2.0")
    for stale in ("README.md", "config.json", "model.safetensors"):
        (args.out / stale).unlink(missing_ok=True)
    save_pretrained(model, args.out, license="apache-2.0", datasets=["sklearn-digits"],
                    metrics={"digits/top1": round(result.test_accuracy * 100, 2)},
                    repo_id="cnnzoo/lenet5.digits")
    weights = args.out / "model.safetensors"
    print(f"test accuracy: {result.test_accuracy:.4f} on {len(result.split.test)} held-out digits")
    print(f"size: {weights.stat().st_size:,} bytes")
    print(f"sha256: {sha256_file(weights)}")


if __name__ == "__main__":
    main()
