"""Train every smp-compatible decoder on the digits ink masks and record the mIoU.

The task is :func:`cnnzoo.data.digits_segmentation`: scikit-learn's 1,797 handwritten
digits resized to ``--size`` (default 64×64, one channel), each pixel labelled ink
or background; the split is the library's (80 % train, 20 % test, seed 0). Each
decoder — Unet, Unet++, FPN, DeepLabV3+, PSPNet, Linknet — is built on a randomly
initialised ``--encoder`` (default ResNet-18; no download) and trained with
:func:`cnnzoo.fit` (its defaults: AdamW, cosine schedule, CE + Dice loss) for
``--epochs``; the test split's mean IoU over the two classes is reported after
every epoch. The goal is mIoU ≥ 0.90 for every decoder.

Usage::

    python scripts/segmentation_digits.py                 # all six, ~1 h on 2 busy cores
    python scripts/segmentation_digits.py --decoders fpn --epochs 2
    python scripts/segmentation_digits.py --out bench/results/segmentation_digits.json

One intra-op thread by default (``--threads``): on two shared cores a second
OpenMP thread waiting for a core makes training several times slower.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

DECODERS = ("smp_unet", "unetplusplus", "fpn", "deeplabv3plus", "pspnet", "linknet")
GOAL = 0.90
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "bench" / "results" / \
    "segmentation_digits.json"


def train_one(name: str, *, encoder: str, size: int, epochs: int, lr: float,
              batch_size: int, seed: int) -> dict[str, Any]:
    """Train ``name`` on the digits ink masks; its per-epoch test mIoU and the best."""
    return train_model(name, encoder=encoder, size=size, epochs=epochs, lr=lr,
                       batch_size=batch_size, seed=seed)[1]


def train_model(name: str, *, encoder: str, size: int, epochs: int, lr: float,
                batch_size: int, seed: int) -> tuple[Any, dict[str, Any]]:
    """Train ``name`` on the digits ink masks: the trained model and :func:`train_one`'s
    record (scripts/segmentation_int8.py quantizes the model)."""
    import torch

    import cnnzoo
    from cnnzoo.data import digits_segmentation

    torch.manual_seed(seed)
    model = cnnzoo.create(name, encoder=encoder, in_chans=1, num_classes=2)
    split = digits_segmentation((1, size, size), model=model, seed=seed)
    start = time.perf_counter()
    history = cnnzoo.fit(model, split.train, split.test, epochs=epochs, lr=lr,
                         batch_size=batch_size, loss="ce+dice", seed=seed, progress=False)
    seconds = time.perf_counter() - start
    miou = [round(float(v), 4) for v in history["val_miou"]]
    return model, {
        "params": sum(p.numel() for p in model.parameters()),
        "val_miou_per_epoch": miou,
        "val_miou": miou[-1],
        "best_val_miou": max(miou),
        "val_pixel_accuracy": round(float(history.last["val_pixel_accuracy"]), 4),
        "train_seconds": round(seconds, 1),
        "meets_goal": miou[-1] >= GOAL,
    }


def report(result: dict[str, Any]) -> str:
    rows = [f"digits ink segmentation, {result['encoder']} encoder (random init), "
            f"{result['size']}×{result['size']}, {result['epochs']} epochs, lr {result['lr']}",
            "", f"{'decoder':14} {'params':>10} {'test mIoU':>10} {'pixel acc':>10} "
            f"{'seconds':>8}  goal ≥ {GOAL}"]
    for name, r in result["results"].items():
        rows.append(f"{name:14} {r['params']:10,d} {r['val_miou']:10.4f} "
                    f"{r['val_pixel_accuracy']:10.4f} {r['train_seconds']:8.0f}  "
                    f"{'yes' if r['meets_goal'] else 'NO'}")
    return "\n".join(rows)


def add_training_options(parser: argparse.ArgumentParser, *, epochs: int) -> None:
    """The decoders and training options (scripts/segmentation_int8.py takes them too)."""
    parser.add_argument("--decoders", nargs="+", default=list(DECODERS), choices=DECODERS)
    parser.add_argument("--encoder", default="resnet18")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_training_options(parser, epochs=3)
    parser.add_argument("--out", type=Path, default=None,
                        help=f"write the JSON here (e.g. {DEFAULT_OUT.relative_to(Path.cwd())})"
                        if DEFAULT_OUT.is_relative_to(Path.cwd()) else "write the JSON here")
    args = parser.parse_args(argv)

    import torch

    import cnnzoo

    torch.set_num_threads(args.threads)
    results = {}
    for name in args.decoders:
        results[name] = train_one(name, encoder=args.encoder, size=args.size,
                                  epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
                                  seed=args.seed)
        print(f"{name}: test mIoU per epoch {results[name]['val_miou_per_epoch']}", flush=True)
    result = {
        "task": "cnnzoo.data.digits_segmentation (ink vs background), test split",
        "encoder": args.encoder, "size": args.size, "epochs": args.epochs, "lr": args.lr,
        "batch_size": args.batch_size, "seed": args.seed, "threads": args.threads,
        "loss": "ce+dice", "goal_miou": GOAL,
        "meets_goal": all(r["meets_goal"] for r in results.values()),
        "results": results,
        "cnnzoo": cnnzoo.__version__, "torch": torch.__version__,
        "python": sys.version.split()[0], "platform": platform.platform(),
    }
    print(report(result))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.out}")
    return 0 if result["meets_goal"] else 1


if __name__ == "__main__":
    sys.exit(main())
