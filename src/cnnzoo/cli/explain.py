"""``cnnzoo explain MODEL IMAGE…``: overlay PNGs and the top classes for image files.

Imports nothing heavy at module level: torch, PIL and the model load only when
the command runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnnzoo.cli import options
from cnnzoo.errors import CommandError

if TYPE_CHECKING:
    import numpy as np
    import torch

    from cnnzoo.cli.options import Subcommands

MIN_SIDE = 128  # overlays of small inputs (LeNet-5's 32×32) are enlarged to at least this


def register(sub: Subcommands) -> None:
    """Add the ``explain`` subcommand to the ``cnnzoo`` parser's subparsers."""
    p = sub.add_parser(
        "explain", help="explain a model's predictions on images (Grad-CAM & co.)",
        description="Run a model on image files, print its top classes and write one "
                    "heatmap overlay PNG per image. A registered name runs with its default "
                    "pretrained weights unless --pretrained picks others or "
                    "--random-weights is given.",
    )
    options.add_model(p, "a model name (NAME.TAG picks weights), a saved folder or "
                         "hf-hub:ORG/REPO")
    options.add_images(p)
    options.add_pretrained(p, random_weights=True)
    p.add_argument("--method", default="gradcam",
                   help="gradcam (default), gradcam++, xgradcam, layercam, scorecam, eigencam, "
                        "saliency, integrated_gradients, occlusion")
    p.add_argument("--layer", default="auto", help="layer for CAM methods (default: auto)")
    p.add_argument("--target", type=int, default=None,
                   help="class index to explain (default: each image's top class)")
    options.add_top_k(p, deprecated="--top")
    p.add_argument("--alpha", type=float, default=0.5, help="heatmap opacity (default 0.5)")
    options.add_out(p, "folder for the PNGs (default ./explain-out)", default="explain-out")
    options.add_threads(p)
    p.set_defaults(func=cmd_explain)


def _load(paths: Sequence[str], cfg: Mapping[str, Any]) -> torch.Tensor:
    import torch
    from PIL import Image, UnidentifiedImageError

    from cnnzoo.data import eval_transform

    options.check_files(paths, "image")
    transform = eval_transform(cfg)
    batch = []
    for path in paths:
        try:
            with Image.open(path) as img:
                batch.append(transform(img.convert("RGB")))
        except (UnidentifiedImageError, OSError) as exc:
            raise CommandError(f"cannot read image {path}: {exc}") from None
    return torch.stack(batch)


def _top_classes(outputs: torch.Tensor, k: int) -> list[list[tuple[int, float]]]:
    import torch

    probs = torch.softmax(outputs.float(), dim=1)
    if probs.ndim == 4:  # a segmenter: the share of pixels predicted as each class
        pred = outputs.argmax(1)
        probs = torch.nn.functional.one_hot(pred.flatten(1), outputs.shape[1]).float().mean(1)
    values, indices = probs.topk(min(k, probs.shape[1]), dim=1)
    return [list(zip(i.tolist(), v.tolist(), strict=True))
            for i, v in zip(indices, values, strict=True)]


def _save_overlay(pixels: np.ndarray, path: Path) -> None:
    from PIL import Image

    image = Image.fromarray(pixels)
    short = min(image.size)
    if short < MIN_SIDE:
        factor = -(-MIN_SIDE // short)
        image = image.resize((image.width * factor, image.height * factor),
                             Image.Resampling.NEAREST)
    image.save(path)


def _overlay_names(images: Sequence[str], method: str) -> list[str]:
    """One PNG name per image, ``STEM_METHOD.png``, made unique among the images."""
    slug = method.replace("+", "p")
    used: set[str] = set()
    names = []
    for path in images:
        stem = Path(path).stem
        name, n = f"{stem}_{slug}.png", 1
        while name in used:
            n += 1
            name = f"{stem}-{n}_{slug}.png"
        used.add(name)
        names.append(name)
    return names


def cmd_explain(args: argparse.Namespace) -> int:
    """``cnnzoo explain MODEL IMAGE…``: top classes and one heatmap overlay per image."""
    from cnnzoo.interpret.methods import get_method

    get_method(args.method)  # an unknown method fails before loading anything
    options.check_files(args.images, "image")
    source = options.model_source(args.model, args.pretrained,
                                  random_weights=args.random_weights, default_pretrained=True,
                                  prog="cnnzoo explain")
    options.set_threads(args.threads)

    import torch

    from cnnzoo.build.factory import create
    from cnnzoo.interpret import explain
    from cnnzoo.interpret.targets import model_outputs

    with options.default_weights_hint(source):
        model = create(source.ref, pretrained=source.pretrained).eval()
    cfg = dict(options.model_config(model))
    x = _load(args.images, cfg)
    with torch.no_grad():
        outputs = model_outputs(model(x))
    kwargs = {} if get_method(args.method).kind == "input" else {"layer": args.layer}
    result = explain(model, x, method=args.method, target=args.target, **kwargs)
    pixels = result.overlay(x, mean=cfg.get("mean"), std=cfg.get("std"), alpha=args.alpha)

    labels = cfg.get("labels")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    where = f" at {result.layer}" if result.layer else ""
    for path, name, top, img, cls in zip(args.images, _overlay_names(args.images, result.method),
                                         _top_classes(outputs, args.top_k), pixels,
                                         result.targets.tolist(), strict=True):
        _save_overlay(img, out / name)
        ranked = "  ".join(f"{_name(labels, i)} {p:.3f}" for i, p in top)
        print(f"{path}: {ranked}")
        print(f"  {result.method}{where} for class {_name(labels, cls)} -> {out / name}")
    return 0


def _name(labels: Sequence[str] | None, cls: int) -> str:
    if labels and not isinstance(labels, str) and 0 <= cls < len(labels):
        return f"{labels[cls]!s}"
    return str(cls)
