"""``cnnzoo explain``: overlay PNGs and the top classes for image files.

Imports nothing heavy at module level: torch, PIL and the model load only when
the command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cnnzoo.errors import CommandError

MIN_SIDE = 128  # overlays of small inputs (LeNet-5's 32×32) are enlarged to at least this


def register(sub: Any) -> None:
    """Add the ``explain`` subcommand to the ``cnnzoo`` parser's subparsers."""
    p = sub.add_parser(
        "explain", help="explain a model's predictions on images (Grad-CAM & co.)",
        description="Run a model on image files, print its top classes and write one "
                    "heatmap overlay PNG per image.",
    )
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files (PNG, JPEG…)")
    p.add_argument("--model", required=True, metavar="NAME|DIR",
                   help="a model name (optionally NAME.TAG), a saved folder or hf-hub:org/repo")
    p.add_argument("--pretrained", action="store_true",
                   help="load the model's default pretrained weights (NAME.TAG picks a tag)")
    p.add_argument("--method", default="gradcam",
                   help="gradcam (default), gradcam++, xgradcam, layercam, scorecam, eigencam, "
                        "saliency, integrated_gradients, occlusion")
    p.add_argument("--layer", default="auto", help="layer for CAM methods (default: auto)")
    p.add_argument("--target", type=int, default=None,
                   help="class index to explain (default: each image's top class)")
    p.add_argument("--top", type=int, default=5, help="how many classes to print (default 5)")
    p.add_argument("--alpha", type=float, default=0.5, help="heatmap opacity (default 0.5)")
    p.add_argument("--out", default="explain-out", help="folder for the PNGs (default "
                                                         "./explain-out)")
    p.set_defaults(func=cmd_explain)


def _load(paths: list[str], cfg: dict[str, Any]):
    import torch
    from PIL import Image, UnidentifiedImageError

    from cnnzoo.data import eval_transform

    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise CommandError(f"image not found: {', '.join(missing)}")
    transform = eval_transform(cfg)
    batch = []
    for path in paths:
        try:
            with Image.open(path) as img:
                batch.append(transform(img.convert("RGB")))
        except (UnidentifiedImageError, OSError) as exc:
            raise CommandError(f"cannot read image {path}: {exc}") from None
    return torch.stack(batch)


def _top_classes(outputs, k: int) -> list[list[tuple[int, float]]]:
    import torch

    probs = torch.softmax(outputs.float(), dim=1)
    if probs.ndim == 4:  # a segmenter: the share of pixels predicted as each class
        pred = outputs.argmax(1)
        probs = torch.nn.functional.one_hot(pred.flatten(1), outputs.shape[1]).float().mean(1)
    values, indices = probs.topk(min(k, probs.shape[1]), dim=1)
    return [list(zip(i.tolist(), v.tolist(), strict=True)) for i, v in zip(indices, values,
                                                                          strict=True)]


def cmd_explain(args: argparse.Namespace) -> int:
    from cnnzoo.interpret.core import get_method

    get_method(args.method)  # an unknown method fails before loading anything
    for path in args.images:
        if not Path(path).is_file():
            raise CommandError(f"image not found: {path}")
    if args.top < 1:
        raise CommandError("--top must be at least 1")

    import torch
    from PIL import Image

    import cnnzoo
    from cnnzoo.interpret import explain
    from cnnzoo.interpret.targets import model_outputs

    model = cnnzoo.create(args.model, pretrained=True) if args.pretrained else cnnzoo.create(
        args.model)
    model.eval()
    cfg = dict(model.pretrained_cfg)
    x = _load(args.images, cfg)
    with torch.no_grad():
        outputs = model_outputs(model(x))
    kwargs = {} if get_method(args.method).kind == "input" else {"layer": args.layer}
    result = explain(model, x, method=args.method, target=args.target, **kwargs)
    pixels = result.overlay(x, mean=cfg.get("mean"), std=cfg.get("std"), alpha=args.alpha)

    labels = cfg.get("labels")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    method_slug = result.method.replace("+", "p")
    used: set[str] = set()
    for path, top, img, cls in zip(args.images, _top_classes(outputs, args.top), pixels,
                                   result.targets.tolist(), strict=True):
        stem = Path(path).stem
        name = f"{stem}_{method_slug}.png"
        n = 1
        while name in used:
            n += 1
            name = f"{stem}-{n}_{method_slug}.png"
        used.add(name)
        image = Image.fromarray(img)
        short = min(image.size)
        if short < MIN_SIDE:
            factor = -(-MIN_SIDE // short)
            image = image.resize((image.width * factor, image.height * factor),
                                 Image.Resampling.NEAREST)
        image.save(out / name)
        ranked = "  ".join(
            f"{_name(labels, i)} {p:.3f}" for i, p in top
        )
        where = f" at {result.layer}" if result.layer else ""
        print(f"{path}: {ranked}")
        print(f"  {result.method}{where} for class {_name(labels, cls)} -> {out / name}")
    return 0


def _name(labels: Any, cls: int) -> str:
    if labels and not isinstance(labels, str) and 0 <= cls < len(labels):
        return f"{labels[cls]!s}"
    return str(cls)
