"""Shared constants and helpers for the built-in catalog (torch-free)."""

from __future__ import annotations

from typing import Any

from cnnzoo.spec import FeatureStage, WeightsSpec

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def feature_stages(*stages: tuple[str, int, int]) -> tuple[FeatureStage, ...]:
    """``(module, channels, reduction)`` triples → ``FeatureStage`` tuple."""
    return tuple(FeatureStage(module=m, num_chs=c, reduction=r) for m, c, r in stages)


def registered_weights(name: str) -> dict[str, Any]:
    """``{"weights": {tag: WeightsSpec}, "default_tag": first tag}`` for a timm-backed model."""
    from cnnzoo.catalog._pretrained import TIMM_WEIGHTS

    tags = TIMM_WEIGHTS.get(name, {})
    weights = {tag: WeightsSpec(**fields) for tag, fields in tags.items()}  # type: ignore[arg-type]
    return {"weights": weights, "default_tag": next(iter(weights), None)}


def torchvision_weights(entry: str, *, top1: float, top5: float, size: int = 224,
                        crop_pct: float = 0.875, interpolation: str = "bilinear") -> WeightsSpec:
    """torchvision's own ImageNet weights, read from its weights registry.

    ``entry`` is the torchvision name (``"AlexNet_Weights.IMAGENET1K_V1"``); the first
    load downloads it through torchvision's hash-checked loader, converts it to the
    model's layout and caches it as safetensors. ``top1``/``top5``, the input size, crop
    and interpolation are torchvision's own figures (its ``meta["_metrics"]`` and
    ``transforms()``), checked against torchvision in the tests.
    """
    return WeightsSpec(
        repo_id=entry,
        source="torchvision",
        format="torchvision",
        num_classes=1000,
        labels="imagenet-1k",
        input_size=(3, size, size),
        crop_pct=crop_pct,
        interpolation=interpolation,
        license="bsd-3-clause",
        metrics={"imagenet-1k/top1": top1, "imagenet-1k/top5": top5},
        dataset="imagenet-1k",
        description="torchvision's original weights, converted once to safetensors",
    )
