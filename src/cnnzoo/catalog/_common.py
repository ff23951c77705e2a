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
    weights = {tag: WeightsSpec(**fields) for tag, fields in tags.items()}
    return {"weights": weights, "default_tag": next(iter(weights), None)}


def torchvision_converted(name: str, top1: float) -> WeightsSpec:
    """torchvision's ImageNet weights for a native model, as published by ``cnnzoo convert``.

    The repository ``cnnzoo/<name>.tv_in1k`` holds the folder that
    ``cnnzoo convert <name> <torchvision .pth> --repo-id cnnzoo/<name>.tv_in1k`` writes;
    ``top1`` is torchvision's own figure from its weights meta.
    """
    return WeightsSpec(
        repo_id=f"cnnzoo/{name}.tv_in1k",
        format="cnnzoo",
        num_classes=1000,
        labels="imagenet-1k",
        input_size=(3, 224, 224),
        crop_pct=0.875,
        interpolation="bilinear",
        license="bsd-3-clause",
        metrics={"imagenet-1k/top1": top1},
        dataset="imagenet-1k",
        description="torchvision's original weights, converted to safetensors",
    )
