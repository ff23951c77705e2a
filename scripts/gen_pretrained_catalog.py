"""Write ``src/cnnzoo/catalog/_pretrained.py``: the registered weights of the timm-backed families.

Preprocessing (mean, std, input size, crop, interpolation, licence) comes from timm's own
pretrained configs for each tag; accuracies only where they can be checked against a
reference nobody here wrote: torchvision's ``weights.meta`` for the ``tv_in1k`` weights
timm re-hosts, and the ConvNeXt paper (Table 1) for Facebook's original ``fb_in1k`` weights.
Re-run after changing TAGS:  .venv/bin/python scripts/gen_pretrained_catalog.py
"""

from __future__ import annotations

import pprint
from pathlib import Path

import torchvision
from timm.models import get_pretrained_cfg

TARGET = Path(__file__).resolve().parents[1] / "src" / "cnnzoo" / "catalog" / "_pretrained.py"

# cnnzoo name -> timm tags (the first is the default)
TAGS = {
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
}
CONVNEXT_PAPER_TOP1 = {"convnext_tiny": 82.1, "convnext_small": 83.1, "convnext_base": 83.8,
                       "convnext_large": 84.3}


def torchvision_top1(name: str) -> float:
    weights = torchvision.models.get_model_weights(name)
    v1 = next(w for w in weights if w.name.endswith("V1"))  # the weights timm re-hosts as tv_in1k
    return float(v1.meta["_metrics"]["ImageNet-1K"]["acc@1"])


def main() -> None:
    table: dict[str, dict[str, dict]] = {}
    for name, tags in TAGS.items():
        table[name] = {}
        for tag in tags:
            cfg = get_pretrained_cfg(f"{name}.{tag}")
            if cfg is None or not cfg.hf_hub_id:
                raise SystemExit(f"timm has no Hub weights {name}.{tag}")
            metrics, note = {}, ""
            if tag == "tv_in1k":
                metrics = {"imagenet-1k/top1": torchvision_top1(name)}
                note = "torchvision's original weights, re-hosted by timm; top-1 from torchvision"
            elif name in CONVNEXT_PAPER_TOP1:
                metrics = {"imagenet-1k/top1": CONVNEXT_PAPER_TOP1[name]}
                note = "the paper's ImageNet-1k weights; top-1 from the paper, Table 1"
            else:
                note = "timm's training recipe; see the timm model card for its accuracy"
            table[name][tag] = {
                "repo_id": cfg.hf_hub_id,
                "format": "timm",
                "num_classes": cfg.num_classes,
                "labels": "imagenet-1k",
                "mean": tuple(cfg.mean),
                "std": tuple(cfg.std),
                "input_size": tuple(cfg.input_size),
                "crop_pct": cfg.crop_pct,
                "interpolation": cfg.interpolation,
                "license": cfg.license,
                "metrics": metrics,
                "dataset": "imagenet-1k",
                "description": note,
            }
    header = (
        '"""Registered weights of the timm-backed families (generated; do not edit).\n\n'
        "Written by scripts/gen_pretrained_catalog.py from timm's pretrained configs. Revisions\n"
        "and sha256 are not pinned here: `cnnzoo fetch NAME.TAG --lock cnnzoo.lock` pins them.\n"
        '"""\n\n'
    )
    TARGET.write_text(header + "TIMM_WEIGHTS = " + pprint.pformat(table, width=96, sort_dicts=False)
                      + "\n")
    print(f"wrote {TARGET} ({sum(len(t) for t in table.values())} weights)")


if __name__ == "__main__":
    main()
