"""``cnnzoo finetune MODEL``: a new head on a zoo model, trained on an image folder or the digits.

Thin: parses, calls :func:`cnnzoo.build.factory.create`, :mod:`cnnzoo.train.transfer`
and :func:`cnnzoo.train.fit`, prints one line per epoch and where the model went; with
``--report DIR``, :class:`cnnzoo.deploy.EvaluateAtFitEnd` writes the evaluation report of
the best epoch on the validation split and its summary is printed.
Imports nothing heavy at module level (``cnnzoo --help`` stays fast).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnnzoo.cli import options
from cnnzoo.errors import CommandError, DataError
from cnnzoo.spec import model_info

if TYPE_CHECKING:
    from torch import nn

    from cnnzoo.cli.options import Subcommands


def register(sub: Subcommands) -> None:
    """Add the ``finetune`` subcommand to the ``cnnzoo`` parser."""
    p = sub.add_parser(
        "finetune", help="fine-tune a zoo model on an image folder (or the digits)",
        description="Put a new head on a zoo model, optionally freeze its early stages, "
                    "train it on DIR (one subfolder per class; DIR/train + DIR/val if "
                    "present) or on scikit-learn's digits, and save the best epoch in the "
                    "Hub format (config.json, model.safetensors, README.md).",
    )
    options.add_model(p, "zoo model name, e.g. resnet18 (NAME.TAG starts from that tag)")
    p.add_argument("--data", required=True, metavar="DIR|digits",
                   help="an ImageFolder directory, or 'digits'")
    options.add_out(p, "folder for the fine-tuned model", required=True)
    options.add_pretrained(p, help="start from pretrained weights: alone, the default tag; "
                                   "or TAG, a Hub repository or a saved folder")
    p.add_argument("--epochs", type=options.positive_int, default=5)
    p.add_argument("--head", default="linear",
                   help="head spec: linear, mlp:512, mlp:512,256,dropout=0.3,act=gelu")
    p.add_argument("--freeze", default="none", metavar="until:STAGE|progressive|none",
                   help="freeze the stages up to STAGE (e.g. until:stage3), unfreeze "
                        "progressively (head → late stages → all), or train everything")
    p.add_argument("--lr", type=float, default=1e-3, help="learning rate of the head")
    options.add_batch(p, "training batch size (default 32)", many=False, default=32,
                      deprecated="--batch-size")
    options.add_input_size(p, help="train at another size: one side PX, H W or C H W "
                                   "(default: the model's)")
    p.add_argument("--val-fraction", type=float, default=0.2,
                   help="validation share when DIR has no train/val subfolders")
    p.add_argument("--label-smoothing", type=float, default=0.0)
    p.add_argument("--amp", action="store_true", help="mixed precision (bf16 on CPU)")
    p.add_argument("--seed", type=int, default=0)
    options.add_threads(p)
    p.add_argument("--report", metavar="DIR",
                   help="after training, evaluate the best epoch on the validation split "
                        "and write report.html (self-contained), report.md and metrics.json")
    p.add_argument("--push-to-hub", metavar="ORG/NAME",
                   help="publish the result to the Hugging Face Hub")
    p.add_argument("--private", action="store_true", help="with --push-to-hub")
    p.set_defaults(func=cmd_finetune)


def _freeze_plan(text: str) -> tuple[str, str | None]:
    if text in ("none", "progressive"):
        return text, None
    kind, _, stage = text.partition(":")
    if kind != "until" or not stage:
        raise CommandError(f"--freeze {text!r}: use until:STAGE (e.g. until:stage3), "
                           "progressive or none")
    return "until", stage


@dataclass
class _Data:
    train: Any  # sized datasets
    val: Any
    labels: tuple[str, ...]
    source: str


def _training_data(args: argparse.Namespace, model: nn.Module) -> _Data:
    from cnnzoo.data import digits, image_folder_split

    if args.data == "digits":
        split = digits(model=model, seed=args.seed)
        return _Data(split.train, split.test, tuple(split.labels), "scikit-learn digits")
    data = image_folder_split(args.data, model, val_fraction=args.val_fraction, seed=args.seed)
    return _Data(data.train, data.val, tuple(data.labels), args.data)


def _set_input_size(model: nn.Module, size: tuple[int, ...] | None) -> None:
    cfg = options.model_config(model)
    channels = int(cfg["input_size"][0])
    full = options.full_input_size(size, channels)
    if full is None:
        return
    if full[0] != channels:
        raise CommandError(f"--input-size {' '.join(map(str, size or ()))}: the model takes "
                           f"{channels} channel(s); give H W or one side PX")
    cfg["input_size"] = full


class _EpochPrinter:
    def on_epoch_end(self, state: Any, epoch: int, metrics: dict[str, float]) -> None:
        from cnnzoo.train import format_epoch

        if state.is_main:
            print(format_epoch(metrics, state.epochs), flush=True)


def cmd_finetune(args: argparse.Namespace) -> int:
    """``cnnzoo finetune MODEL --data DIR|digits --out DIR``: train a new head, save it."""
    from cnnzoo.build.heads import HeadSpec

    head = HeadSpec.parse(args.head)
    plan, until = _freeze_plan(args.freeze)
    spec = model_info(args.model)
    if spec.task != "classification":
        raise CommandError(f"finetune trains classifiers; {spec.name!r} is a {spec.task} model")
    if args.data != "digits" and not Path(args.data).is_dir():
        raise DataError(f"--data {args.data!r}: no such directory (or use 'digits')")
    if args.report is not None and Path(args.report).exists() and not Path(args.report).is_dir():
        raise CommandError(f"--report {args.report!r} is a file; give a folder for the report")
    source = options.model_source(args.model, args.pretrained)
    options.set_threads(args.threads)

    import torch

    from cnnzoo.build.factory import create
    from cnnzoo.build.heads import replace_head
    from cnnzoo.train import fit
    from cnnzoo.train.transfer import ProgressiveUnfreezing, count_trainable, freeze, stages

    torch.manual_seed(args.seed)
    model = create(source.ref, pretrained=source.pretrained)
    _set_input_size(model, args.input_size)
    data = _training_data(args, model)
    replace_head(model, len(data.labels), head)
    cfg = options.model_config(model)
    cfg["labels"] = data.labels
    callbacks: list[Any] = []
    if plan == "until":
        freeze(model, until=until)
    elif plan == "progressive":
        callbacks.append(ProgressiveUnfreezing())
    print(f"{spec.name}: {head} head for {len(data.labels)} classes on {data.source} "
          f"({len(data.train)} training / {len(data.val)} validation images, "
          f"input {'x'.join(map(str, cfg['input_size']))})")
    print(f"stages: {', '.join(stages(model))}; freeze: {args.freeze}; "
          f"{count_trainable(model)}")
    callbacks.append(_EpochPrinter())
    if args.report is not None:
        from cnnzoo.deploy.fit_evaluation import EvaluateAtFitEnd

        callbacks.append(EvaluateAtFitEnd(args.report, progress=False))
    history = fit(model, data.train, data.val, epochs=args.epochs, lr=args.lr,
                  batch_size=args.batch, label_smoothing=args.label_smoothing,
                  amp=args.amp, callbacks=callbacks, checkpoint_dir=args.out, seed=args.seed,
                  progress=False)
    print(f"best {history.monitor} {history.best:.4f} at epoch {history.best_epoch}; "
          f"saved to {args.out} (config.json, model.safetensors, README.md)")
    print(f"reload with: cnnzoo.create({str(args.out)!r})")
    if history.evaluation is not None:
        print(history.evaluation.table())
        print(f"cnnzoo finetune: wrote {Path(args.report) / 'report.html'}, report.md and "
              "metrics.json")
    if args.push_to_hub:
        from cnnzoo.hub import push_folder

        url = push_folder(args.out, args.push_to_hub, private=args.private)
        print(f"pushed to {args.push_to_hub}: {url}")
    return 0
