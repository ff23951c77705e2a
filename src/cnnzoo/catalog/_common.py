"""Shared constants and helpers for the built-in catalog (torch-free)."""

from __future__ import annotations

from cnnzoo.registry import FeatureStage

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def feature_stages(*stages: tuple[str, int, int]) -> tuple[FeatureStage, ...]:
    """``(module, channels, reduction)`` triples → ``FeatureStage`` tuple."""
    return tuple(FeatureStage(module=m, num_chs=c, reduction=r) for m, c, r in stages)
