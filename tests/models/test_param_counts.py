"""Exact parameter counts against references nobody here wrote.

torchvision's ``weights.meta["num_params"]`` where torchvision has the model;
timm's published counts for the SE networks; the papers for LeNet-5 and UNet.
"""

from __future__ import annotations

import pytest
import torch
import torchvision

import cnnzoo

TORCHVISION = {
    "alexnet": "alexnet", "googlenet": "googlenet",
    **{f"vgg{d}{bn}": f"vgg{d}{bn}" for d in (11, 13, 16, 19) for bn in ("", "_bn")},
    **{f"resnet{d}": f"resnet{d}" for d in (18, 34, 50, 101, 152)},
    "resnext50_32x4d": "resnext50_32x4d", "resnext101_32x8d": "resnext101_32x8d",
    "mobilenetv2_100": "mobilenet_v2", "mobilenetv3_small_100": "mobilenet_v3_small",
    "mobilenetv3_large_100": "mobilenet_v3_large",
    **{f"efficientnet_b{i}": f"efficientnet_b{i}" for i in range(8)},
    **{f"convnext_{s}": f"convnext_{s}" for s in ("tiny", "small", "base", "large")},
}
# From timm's model cards (huggingface.co/timm/<name>): "Params (M)" to the unit.
TIMM_PUBLISHED = {"seresnet50": 28_088_024, "senet154": 115_088_984}
PAPERS = {"lenet5": ({}, 61_706), "unet": ({"num_classes": 21, "in_chans": 3}, 31_038_933)}


def _count(name: str, **kwargs) -> int:
    with torch.device("meta"):
        model = cnnzoo.create(name, **kwargs)
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_param_count_equals_torchvision_meta(name):
    weights = torchvision.models.get_model_weights(TORCHVISION[name])
    reference = next(iter(weights)).meta["num_params"]
    assert _count(name) == reference


@pytest.mark.parametrize("name", sorted(TIMM_PUBLISHED))
def test_param_count_equals_timm(name):
    import timm

    with torch.device("meta"):
        reference = sum(p.numel() for p in timm.create_model(name).parameters())
    assert reference == TIMM_PUBLISHED[name]
    assert _count(name) == reference


@pytest.mark.parametrize("name", sorted(PAPERS))
def test_param_count_equals_the_paper(name):
    kwargs, expected = PAPERS[name]
    assert _count(name, **kwargs) == expected


def test_every_model_has_a_reference():
    # the families added later check their counts in their own modules, against the same
    # kinds of reference (torchvision's meta, timm's models, smp's models)
    from cnnzoo.models.torchvision_segmentation import ARCHITECTURES
    from tests.models import test_modern_families, test_smp_decoders, test_torchvision_families

    covered = set(TORCHVISION) | set(TIMM_PUBLISHED) | set(PAPERS)
    covered |= set(test_torchvision_families.TORCHVISION)
    covered |= set(test_modern_families.TORCHVISION) | set(test_modern_families.TIMM)
    covered |= set(ARCHITECTURES) | {name for name, _, _ in test_smp_decoders.CASES}
    builtins = {n for n in cnnzoo.list_models() if cnnzoo.model_info(n).source == "cnnzoo"}
    assert builtins == covered
