"""Weights served from torchvision's own registry (``WeightsSpec(source="torchvision")``).

The numbers are literals copied from ``torchvision.models.get_weight(repo_id)`` (its
``meta`` and ``transforms()``) so the catalog stays torch-free;
tests/models/test_modern_families.py compares every one with torchvision's live values.
"""

from __future__ import annotations

from cnnzoo.spec import IMAGENET_MEAN, IMAGENET_STD, WeightsSpec

# torchvision's two evaluation recipes: resize the short side to 256 (or 232), crop 224.
CROP_256 = 224 / 256
CROP_232 = 224 / 232


def torchvision_weights(
    repo_id: str,
    *,
    top1: float,
    top5: float,
    crop_pct: float,
    recipe: str,
) -> WeightsSpec:
    """torchvision's ImageNet-1k weights ``repo_id`` (``"<WeightsEnum>.<member>"``).

    Args:
        repo_id: the entry as ``torchvision.models.get_weight`` takes it.
        top1: ``meta["_metrics"]["ImageNet-1K"]["acc@1"]``.
        top5: ``meta["_metrics"]["ImageNet-1K"]["acc@5"]``.
        crop_pct: ``crop_size / resize_size`` of the entry's ``transforms()``.
        recipe: ``meta["recipe"]``, where the training recipe is described.
    """
    return WeightsSpec(
        repo_id=repo_id,
        source="torchvision",
        format="torchvision",
        num_classes=1000,
        labels="imagenet-1k",
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        input_size=(3, 224, 224),
        crop_pct=crop_pct,
        interpolation="bilinear",
        license="bsd-3-clause",
        metrics={"imagenet-1k/top1": top1, "imagenet-1k/top5": top5},
        dataset="imagenet-1k",
        description=f"torchvision's ImageNet-1k weights ({repo_id}); recipe: {recipe}",
    )
