"""Write ``src/cnnzoo/catalog/_pretrained.py``: the registered weights of the timm-backed families.

Everything comes from references nobody here wrote:

* preprocessing (mean, std, input size, crop, interpolation), class count and licence from
  timm's own pretrained config of each tag (``timm.models.get_pretrained_cfg``);
* top-1 / top-5 from timm's published ImageNet-1k validation results,
  ``../shared/reference/timm-results-imagenet.csv`` (see the README beside it): the row of
  ``<timm arch>.<tag>`` evaluated at the tag's default input size. A tag with no such row
  gets no metrics.

Which tags: the ones listed in ``TAGS``; for the families of ``IN1K_FAMILIES`` every
ImageNet-1k classifier timm publishes (torchvision's own first); for ``EVERY_TAG`` every
tag timm's registry lists with a Hub repository (timm's default first).
Re-run after changing any of them:  .venv/bin/python scripts/gen_pretrained_catalog.py
"""

from __future__ import annotations

import argparse
import csv
import textwrap
from pathlib import Path
from typing import Any

from timm.models import get_arch_pretrained_cfgs, get_pretrained_cfg

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "src" / "cnnzoo" / "catalog" / "_pretrained.py"
RESULTS = ROOT.parent / "shared" / "reference" / "timm-results-imagenet.csv"
TOP1, TOP5 = "imagenet-1k/top1", "imagenet-1k/top5"
WIDTH = 100  # ruff's line length

# cnnzoo name (= timm arch) -> timm tags (the first is the default)
TAGS: dict[str, list[str]] = {
    **{f"resnet{d}": ["tv_in1k"] for d in (18, 34, 101, 152)},
    "resnet50": ["tv_in1k", "a1_in1k"],
    "resnext50_32x4d": ["tv_in1k"],
    "resnext101_32x8d": ["tv_in1k"],
    "seresnet50": ["ra2_in1k"],
    "senet154": ["gluon_in1k"],
    **{f"vgg{d}{bn}": ["tv_in1k"] for d in (11, 13, 16, 19) for bn in ("", "_bn")},
    "mobilenetv2_100": ["ra_in1k"],
    "mobilenetv3_small_100": ["lamb_in1k"],
    "mobilenetv3_large_100": ["ra_in1k"],
    "efficientnet_b0": ["ra_in1k"],
    "efficientnet_b1": ["ft_in1k"],
    "efficientnet_b2": ["ra_in1k"],
    "efficientnet_b3": ["ra2_in1k"],
    "efficientnet_b4": ["ra2_in1k"],
    "efficientnet_b5": ["sw_in12k_ft_in1k"],
    **{f"convnext_{s}": ["fb_in1k"] for s in ("tiny", "small", "base", "large")},
    # timm's tf_in1k / tf_adv_in1k / gluon_in1k have no auxiliary classifier, which cnnzoo's
    # inception_v3 keeps by default (as torchvision's does)
    "inception_v3": ["tv_in1k"],
}
# every ImageNet-1k classifier timm publishes for these (torchvision's weights first)
IN1K_FAMILIES: tuple[str, ...] = (
    "densenet121", "densenet161", "densenet169", "densenet201",
    "wide_resnet50_2", "wide_resnet101_2", "resnext101_64x4d",
    "regnetx_004_tv", "regnetx_008", "regnetx_016", "regnetx_032", "regnetx_080",
    "regnetx_160", "regnetx_320",
    "regnety_004", "regnety_008_tv", "regnety_016", "regnety_032", "regnety_080_tv",
    "regnety_160", "regnety_320", "regnety_1280",
)
TORCHVISION_FIRST = ("tv_in1k", "tv2_in1k")
# every tag timm lists with a Hub repository, in timm's order (its default first)
EVERY_TAG: tuple[str, ...] = (
    "efficientnet_lite0",
    *(f"tf_efficientnet_lite{i}" for i in range(5)),
    *(f"convnextv2_{s}" for s in ("atto", "femto", "pico", "nano", "tiny", "base", "large")),
    *(f"mobilenetv4_conv_{s}" for s in ("small", "medium", "large", "blur_medium", "aa_large")),
)


def hub_tags(arch: str) -> list[str]:
    """Every tag of ``arch`` timm publishes on the Hub, timm's default first."""
    return [name.partition(".")[2] for name, cfg in get_arch_pretrained_cfgs(arch).items()
            if cfg.hf_hub_id]


def in1k_tags(arch: str) -> list[str]:
    """The ImageNet-1k classifiers among :func:`hub_tags`, torchvision's weights first."""
    tags = [t for t in hub_tags(arch) if get_pretrained_cfg(f"{arch}.{t}").num_classes == 1000]
    first = [t for t in TORCHVISION_FIRST if t in tags]
    return first + [t for t in tags if t not in first]


def all_tags() -> dict[str, list[str]]:
    table = dict(TAGS)
    table.update({arch: in1k_tags(arch) for arch in IN1K_FAMILIES})
    table.update({arch: hub_tags(arch) for arch in EVERY_TAG})
    empty = [arch for arch, tags in table.items() if not tags]
    if empty:
        raise SystemExit(f"timm publishes no Hub weights for {', '.join(empty)}")
    return table


def read_results(path: Path) -> dict[tuple[str, int], dict[str, float]]:
    """``{(model, img_size): {top1, top5}}`` from timm's results CSV."""
    if not path.is_file():
        raise SystemExit(f"{path} is missing: it is the source of the tags' metrics")
    with path.open(newline="") as fh:
        return {(row["model"], int(row["img_size"])): {TOP1: float(row["top1"]),
                                                       TOP5: float(row["top5"])}
                for row in csv.DictReader(fh)}


def dataset_of(tag: str, num_classes: int) -> str | None:
    if num_classes == 1000:
        return "imagenet-1k"
    for marker, dataset in (("in12k", "imagenet-12k"), ("in22k", "imagenet-22k"),
                            ("in21k", "imagenet-22k")):
        if marker in tag:
            return dataset
    return "imagenet-1k" if tag == "fcmae" else None


def describe(tag: str, num_classes: int, has_metrics: bool) -> str:
    if tag == "tv_in1k":
        text = "torchvision's original weights, re-hosted by timm"
    elif tag == "tv2_in1k":
        text = "torchvision's IMAGENET1K_V2 weights (its new recipe), re-hosted by timm"
    elif num_classes == 0:
        text = "a pretraining checkpoint without a classifier (features only)"
    elif num_classes != 1000:
        text = f"a {num_classes}-class pretraining checkpoint (not ImageNet-1k)"
    else:
        text = "see the timm model card for the training recipe"
    if has_metrics:
        text += "; top-1/top-5 from timm's results-imagenet.csv at the tag's input size"
    return text


def weights_entry(arch: str, tag: str, results: dict[tuple[str, int], dict[str, float]]
                  ) -> dict[str, Any]:
    cfg = get_pretrained_cfg(f"{arch}.{tag}")
    if cfg is None or not cfg.hf_hub_id:
        raise SystemExit(f"timm has no Hub weights {arch}.{tag}")
    metrics = results.get((f"{arch}.{tag}", int(cfg.input_size[-1])), {})
    return {
        "repo_id": cfg.hf_hub_id,
        "format": "timm",
        "num_classes": cfg.num_classes,
        "labels": "imagenet-1k" if cfg.num_classes == 1000 else None,
        "mean": tuple(cfg.mean),
        "std": tuple(cfg.std),
        "input_size": tuple(cfg.input_size),
        "crop_pct": cfg.crop_pct,
        "interpolation": cfg.interpolation,
        "license": cfg.license,
        "metrics": dict(metrics),
        "dataset": dataset_of(tag, cfg.num_classes),
        "description": describe(tag, cfg.num_classes, bool(metrics)),
    }


def literal(value: Any, indent: int = 0, room: int = WIDTH) -> str:
    """``value`` as Python source, one key per line, no line longer than ``WIDTH``."""
    pad = " " * (indent + 4)
    if isinstance(value, dict) and value:
        lines = []
        for key, item in value.items():
            head = f"{pad}{key!r}: "
            lines.append(f"{head}{literal(item, indent + 4, WIDTH - len(head) - 1)},")
        return "{\n" + "\n".join(lines) + "\n" + " " * indent + "}"
    text = repr(value)
    if not isinstance(value, str) or len(text) <= room:
        return text
    chunks = textwrap.wrap(value, WIDTH - len(pad) - 6, drop_whitespace=False)
    return "(\n" + "\n".join(f"{pad}{c!r}" for c in chunks) + "\n" + " " * indent + ")"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--results", type=Path, default=RESULTS,
                        help="timm's results-imagenet.csv (default: %(default)s)")
    args = parser.parse_args(argv)
    results = read_results(args.results)
    table = {arch: {tag: weights_entry(arch, tag, results) for tag in tags}
             for arch, tags in all_tags().items()}
    header = (
        '"""Registered weights of the timm-backed families (generated; do not edit).\n\n'
        "Written by scripts/gen_pretrained_catalog.py from timm's pretrained configs and\n"
        "timm's results-imagenet.csv. Revisions and sha256 are not pinned here:\n"
        "`cnnzoo fetch NAME.TAG --lock cnnzoo.lock` pins them.\n"
        '"""\n\n'
    )
    TARGET.write_text(header + "TIMM_WEIGHTS = " + literal(table) + "\n")
    n_tags = sum(len(t) for t in table.values())
    n_metrics = sum(bool(w["metrics"]) for t in table.values() for w in t.values())
    print(f"wrote {TARGET} ({len(table)} models, {n_tags} weights, {n_metrics} with metrics)")


if __name__ == "__main__":
    main()
