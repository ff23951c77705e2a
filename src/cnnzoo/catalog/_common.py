"""Shared constants and helpers for the built-in catalog (torch-free)."""

from __future__ import annotations

from typing import Any

from cnnzoo.registry import FeatureStage, WeightsSpec

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
