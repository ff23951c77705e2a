"""Builders for the modern timm-implemented families, keeping timm's module layout.

EfficientNet-Lite, ConvNeXt V2, MobileNetV4 (conv variants) and MNASNet-B1. As in
:mod:`cnnzoo.models.timm_backed`, timm's layout means timm's Hub weights load
unchanged and timm's own tools keep working; each builder lists the keyword
arguments a user may pass through :func:`cnnzoo.create`.

MNASNet is timm-backed although its weights of record are torchvision's: timm's
MNASNet-B1 (``mnasnet_050/075/100``, and timm's generator at width 1.3) has
torchvision's parameter count, tensor shapes and outputs exactly. :data:`MNASNET_TORCHVISION`
renames torchvision's keys into timm's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from torch import Tensor, nn

from cnnzoo.models.converters.torchvision import CheckpointConverter

__all__ = [
    "MNASNET_TORCHVISION",
    "build_convnextv2",
    "build_efficientnet_lite",
    "build_mnasnet",
    "build_mobilenetv4",
    "convert_torchvision_mnasnet",
]

# MNASNet widths timm builds with its MNASNet-B1 generator but registers under no name.
MNASNET_UNREGISTERED: dict[str, float] = {"mnasnet_130": 1.3}


def _create(
    arch: str,
    *,
    num_classes: int,
    in_chans: int,
    **kwargs: Any,
) -> nn.Module:
    import timm

    options = {k: v for k, v in kwargs.items() if v is not None}
    return timm.create_model(
        arch, pretrained=False, num_classes=num_classes, in_chans=in_chans, **options
    )


def build_efficientnet_lite(
    *,
    arch: str,
    num_classes: int = 1000,
    in_chans: int = 3,
    drop_rate: float = 0.0,
    drop_path_rate: float = 0.0,
    global_pool: str = "avg",
    bn_eps: float | None = None,
    bn_momentum: float | None = None,
    pad_type: str | None = None,
) -> nn.Module:
    """EfficientNet-Lite0…4 (timm ``EfficientNet``: ReLU6, no squeeze-excite, fixed stem/head).

    ``tf_*`` architectures use TensorFlow's asymmetric "same" padding, which Google's
    weights were trained with; ``efficientnet_lite0`` uses PyTorch's symmetric padding.

    Args:
        drop_rate: dropout before the classifier (Google trains with 0.2).
        drop_path_rate: stochastic-depth rate over the MBConv blocks.
        global_pool: ``"avg"``, ``"max"``, ``"avgmax"`` or ``""`` (no pooling).
        bn_eps: BatchNorm epsilon (``tf_*`` default to TensorFlow's 1e-3).
        bn_momentum: BatchNorm momentum.
        pad_type: ``"same"`` for TensorFlow's padding on any variant (what a checkpoint
            in efficientnet_pytorch's layout needs), ``""`` for symmetric padding.
    """
    return _create(arch, num_classes=num_classes, in_chans=in_chans,
                   drop_rate=drop_rate, drop_path_rate=drop_path_rate,
                   global_pool=global_pool, bn_eps=bn_eps, bn_momentum=bn_momentum,
                   pad_type=pad_type)


def build_convnextv2(
    *,
    arch: str,
    num_classes: int = 1000,
    in_chans: int = 3,
    drop_rate: float = 0.0,
    drop_path_rate: float = 0.0,
    global_pool: str = "avg",
) -> nn.Module:
    """ConvNeXt V2 (timm ``ConvNeXt`` with global response normalisation, no layer scale).

    Args:
        drop_rate: dropout before the classifier.
        drop_path_rate: stochastic-depth rate (the paper fine-tunes with 0.1 for
            atto…nano up to 0.3-0.5 for base/large).
        global_pool: ``"avg"``, ``"max"``, ``"avgmax"`` or ``""``.
    """
    return _create(arch, num_classes=num_classes, in_chans=in_chans,
                   drop_rate=drop_rate, drop_path_rate=drop_path_rate,
                   global_pool=global_pool)


def build_mobilenetv4(
    *,
    arch: str,
    num_classes: int = 1000,
    in_chans: int = 3,
    drop_rate: float = 0.0,
    drop_path_rate: float = 0.0,
    global_pool: str = "avg",
    bn_eps: float | None = None,
    bn_momentum: float | None = None,
) -> nn.Module:
    """MobileNetV4 convolutional variants (timm ``MobileNetV3`` class, UIB blocks).

    Args:
        drop_rate: dropout before the classifier.
        drop_path_rate: stochastic-depth rate over the blocks.
        global_pool: ``"avg"``, ``"max"``, ``"avgmax"`` or ``""``.
        bn_eps: BatchNorm epsilon.
        bn_momentum: BatchNorm momentum.
    """
    return _create(arch, num_classes=num_classes, in_chans=in_chans,
                   drop_rate=drop_rate, drop_path_rate=drop_path_rate,
                   global_pool=global_pool, bn_eps=bn_eps, bn_momentum=bn_momentum)


def build_mnasnet(
    *,
    arch: str,
    num_classes: int = 1000,
    in_chans: int = 3,
    drop_rate: float = 0.0,
    drop_path_rate: float = 0.0,
    global_pool: str = "avg",
    bn_eps: float | None = None,
    bn_momentum: float | None = None,
) -> nn.Module:
    """MNASNet-B1 (timm ``EfficientNet``), torchvision's ``mnasnet*`` architecture.

    ``mnasnet_050/075/100`` are timm's registered models; ``mnasnet_130`` (torchvision's
    ``mnasnet1_3``) comes from timm's own MNASNet-B1 generator at channel multiplier 1.3.

    Args:
        drop_rate: dropout before the classifier (torchvision trains with 0.2).
        drop_path_rate: stochastic-depth rate over the blocks.
        global_pool: ``"avg"``, ``"max"``, ``"avgmax"`` or ``""``.
        bn_eps: BatchNorm epsilon (torchvision's is the default, 1e-5).
        bn_momentum: BatchNorm momentum (torchvision trains with 0.0003).
    """
    options = {"drop_rate": drop_rate, "drop_path_rate": drop_path_rate,
               "global_pool": global_pool, "bn_eps": bn_eps, "bn_momentum": bn_momentum}
    if arch not in MNASNET_UNREGISTERED:
        return _create(arch, num_classes=num_classes, in_chans=in_chans, **options)
    from timm.models.efficientnet import _gen_mnasnet_b1

    kwargs = {k: v for k, v in options.items() if v is not None}
    return _gen_mnasnet_b1(arch, MNASNET_UNREGISTERED[arch], pretrained=False,
                           num_classes=num_classes, in_chans=in_chans,
                           pretrained_cfg={"architecture": arch}, **kwargs)


# -------------------------------------------------------------- torchvision MNASNet → timm

# torchvision's flat ``layers`` indices of the stem, the separable block and the head.
_MNASNET_FIXED = {
    "layers.0": "conv_stem",
    "layers.1": "bn1",
    "layers.3": "blocks.0.0.conv_dw",
    "layers.4": "blocks.0.0.bn1",
    "layers.6": "blocks.0.0.conv_pw",
    "layers.7": "blocks.0.0.bn2",
    "layers.14": "conv_head",
    "layers.15": "bn2",
    "classifier.1": "classifier",
}
# Inside a torchvision ``_InvertedResidual.layers``: expansion, depthwise, projection.
_MNASNET_IR = {"0": "conv_pw", "1": "bn1", "3": "conv_dw", "4": "bn2", "6": "conv_pwl", "7": "bn3"}
_MNASNET_STACK = re.compile(r"layers\.(8|9|1[0-3])\.(\d+)\.layers\.(\d)\.(\w+)")
_MNASNET_PLAIN = re.compile(r"(layers\.\d+|classifier\.1)\.(\w+)")


def _mnasnet_key(key: str) -> str:
    stack = _MNASNET_STACK.fullmatch(key)
    if stack is not None:
        stage, block, layer, leaf = stack.groups()
        if layer in _MNASNET_IR:
            return f"blocks.{int(stage) - 7}.{block}.{_MNASNET_IR[layer]}.{leaf}"
    plain = _MNASNET_PLAIN.fullmatch(key)
    if plain is not None and plain.group(1) in _MNASNET_FIXED:
        return f"{_MNASNET_FIXED[plain.group(1)]}.{plain.group(2)}"
    raise ValueError(f"mnasnet: no conversion rule for torchvision key {key!r}")


def convert_torchvision_mnasnet(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """torchvision ``mnasnet0_5/0_75/1_0/1_3`` → timm's MNASNet-B1 of the same width.

    Tensors pass unchanged: the two networks are the same function (same BatchNorm eps),
    only the names differ. torchvision numbers its modules flat (``layers.0`` stem conv,
    ``layers.3/6`` the separable block, ``layers.8``-``13`` the six inverted-residual
    stacks, ``layers.14`` the 1×1 head conv, ``classifier.1`` the fc); timm names them
    (``conv_stem``, ``blocks.0.0``, ``blocks.1``-``6``, ``conv_head``, ``classifier``).
    A key with no rule raises ``ValueError``, and so do two keys landing on one.
    Training-only differences: torchvision's BatchNorm momentum is 0.0003 and its dropout
    0.2 (pass ``bn_momentum``/``drop_rate`` to match them when training).
    """
    converted: dict[str, Tensor] = {}
    for key, value in state_dict.items():
        new_key = _mnasnet_key(key)
        if new_key in converted:
            raise ValueError(f"mnasnet: two torchvision keys map to {new_key!r}")
        converted[new_key] = value
    return converted


MNASNET_TORCHVISION = CheckpointConverter("torchvision", convert_torchvision_mnasnet)
