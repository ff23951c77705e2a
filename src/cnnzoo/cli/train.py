"""``cnnzoo finetune``: a new head on a zoo model, trained on an image folder or the digits.

Thin: parses, calls :func:`cnnzoo.create`, :mod:`cnnzoo.transfer` and
:func:`cnnzoo.train.fit`, prints one line per epoch and where the model went.
Imports nothing heavy at module level (``cnnzoo --help`` stays fast).
"""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    """Add the ``finetune`` subcommand to the ``cnnzoo`` parser."""
    p = sub.add_parser(
        "finetune", help="fine-tune a zoo model on an image folder (or the digits)",
        description="Put a new head on a zoo model, optionally freeze its early stages, "
                    "train it on DIR (one subfolder per class; DIR/train + DIR/val if "
                    "present) or on scikit-learn's digits, and save the best epoch in the "
                    "Hub format (config.json, model.safetensors, README.md).",
    )
    p.add_argument("--model", required=True, help="zoo model name, e.g. resnet18")
    p.add_argument("--data", required=True, metavar="DIR|digits",
                   help="an ImageFolder directory, or 'digits'")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--head", default="linear",
                   help="head spec: linear, mlp:512, mlp:512,256,dropout=0.3,act=gelu")
    p.add_argument("--freeze", default="none", metavar="until:STAGE|progressive|none",
                   help="freeze the stages up to STAGE (e.g. until:stage3), unfreeze "
                        "progressively (head → late stages → all), or train everything")
    p.add_argument("--out", required=True, help="folder for the fine-tuned model")
    p.add_argument("--pretrained", nargs="?", const=True, default=False,
                   metavar="TAG|hf-hub:ORG/REPO|DIR",
                   help="start from pretrained weights (bare flag: the default tag)")
    p.add_argument("--lr", type=float, default=1e-3, help="learning rate of the head")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--input-size", type=int, metavar="PX",
                   help="train at PX×PX instead of the model's input size")
    p.add_argument("--val-fraction", type=float, default=0.2,
                   help="validation share when DIR has no train/val subfolders")
    p.add_argument("--label-smoothing", type=float, default=0.0)
    p.add_argument("--amp", action="store_true", help="mixed precision (bf16 on CPU)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--push-to-hub", metavar="REPO_ID",
                   help="publish the result to the Hugging Face Hub")
    p.add_argument("--private", action="store_true", help="with --push-to-hub")
    p.set_defaults(func=cmd_finetune)


def _freeze_plan(text: str) -> tuple[str, str | None]:
    from cnnzoo.errors import CnnzooError

    if text in ("none", "progressive"):
        return text, None
    kind, _, stage = text.partition(":")
    if kind != "until" or not stage:
        raise CnnzooError(f"--freeze {text!r}: use until:STAGE (e.g. until:stage3), "
                          "progressive or none")
    return "until", stage


def cmd_finetune(args: argparse.Namespace) -> int:
    import torch

    import cnnzoo
    from cnnzoo.build.heads import HeadSpec, replace_head
    from cnnzoo.data import digits, image_folder_split
    from cnnzoo.errors import CnnzooError, DataError
    from cnnzoo.train import fit, format_epoch
    from cnnzoo.train.transfer import ProgressiveUnfreezing, count_trainable, freeze, stages

    head = HeadSpec.parse(args.head)
    plan, until = _freeze_plan(args.freeze)
    spec = cnnzoo.model_info(args.model)
    if spec.task != "classification":
        raise CnnzooError(f"finetune trains classifiers; {spec.name!r} is a {spec.task} model")
    torch.manual_seed(args.seed)
    if args.data != "digits":
        from pathlib import Path

        if not Path(args.data).is_dir():
            raise DataError(f"--data {args.data!r}: no such directory (or use 'digits')")
    model = cnnzoo.create(spec.name, pretrained=args.pretrained)
    if args.input_size:
        channels = model.pretrained_cfg["input_size"][0]
        model.pretrained_cfg["input_size"] = (channels, args.input_size, args.input_size)
    if args.data == "digits":
        split = digits(model=model, seed=args.seed)
        train, val, labels = split.train, split.test, split.labels
        source = "scikit-learn digits"
    else:
        data = image_folder_split(args.data, model, val_fraction=args.val_fraction,
                                  seed=args.seed)
        train, val, labels = data.train, data.val, data.labels
        source = args.data
    replace_head(model, len(labels), head)
    model.pretrained_cfg["labels"] = tuple(labels)
    callbacks = []
    if plan == "until":
        freeze(model, until=until)
    elif plan == "progressive":
        callbacks.append(ProgressiveUnfreezing())
    print(f"{spec.name}: {head} head for {len(labels)} classes on {source} "
          f"({len(train)} training / {len(val)} validation images, input "
          f"{'x'.join(map(str, model.pretrained_cfg['input_size']))})")
    print(f"stages: {', '.join(stages(model))}; freeze: {args.freeze}; "
          f"{count_trainable(model)}")

    class _Printer:
        def on_epoch_end(self, state: Any, epoch: int, metrics: dict[str, float]) -> None:
            if state.is_main:
                print(format_epoch(metrics, state.epochs), flush=True)

    callbacks.append(_Printer())
    history = fit(model, train, val, epochs=args.epochs, lr=args.lr,
                  batch_size=args.batch_size, label_smoothing=args.label_smoothing,
                  amp=args.amp, callbacks=callbacks, checkpoint_dir=args.out, seed=args.seed,
                  progress=False)
    print(f"best {history.monitor} {history.best:.4f} at epoch {history.best_epoch}; "
          f"saved to {args.out} (config.json, model.safetensors, README.md)")
    print(f"reload with: cnnzoo.create({str(args.out)!r})")
    if args.push_to_hub:
        from cnnzoo.hub import push_folder

        url = push_folder(args.out, args.push_to_hub, private=args.private)
        print(f"pushed to {args.push_to_hub}: {url}")
    return 0
