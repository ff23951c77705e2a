"""Builders for the families timm implements, keeping timm's module layout.

Keeping timm's layout means timm's Hub weights load unchanged and timm's own
tools (feature extraction, grad checkpointing) keep working. Each builder lists
the keyword arguments a user may pass through :func:`cnnzoo.create`.
"""

from __future__ import annotations

from typing import Any

from torch import nn


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


def build_resnet(
    *,
    arch: str,
    num_classes: int = 1000,
    in_chans: int = 3,
    drop_rate: float = 0.0,
    drop_path_rate: float = 0.0,
    global_pool: str = "avg",
    output_stride: int = 32,
    zero_init_last: bool = True,
) -> nn.Module:
    """ResNet, ResNeXt, SE-ResNet and SENet (timm ``ResNet``).

    Args:
        drop_rate: dropout before the classifier.
        drop_path_rate: stochastic-depth rate, growing linearly over the blocks.
        global_pool: ``"avg"``, ``"max"``, ``"avgmax"`` or ``""`` (no pooling).
        output_stride: 32, 16 or 8 (dilated last stages, for dense prediction).
        zero_init_last: zero-initialise the last BN of each residual branch.
    """
    return _create(arch, num_classes=num_classes, in_chans=in_chans,
                   drop_rate=drop_rate, drop_path_rate=drop_path_rate,
                   global_pool=global_pool, output_stride=output_stride,
                   zero_init_last=zero_init_last)


def build_vgg(
    *,
    arch: str,
    num_classes: int = 1000,
    in_chans: int = 3,
    drop_rate: float = 0.0,
    global_pool: str = "avg",
) -> nn.Module:
    """VGG with and without batch norm (timm ``VGG``: fc6/fc7 as convolutions).

    Args:
        drop_rate: dropout in the fc6/fc7 block and before the classifier.
        global_pool: pooling after fc7, ``"avg"`` or ``"max"``.
    """
    return _create(arch, num_classes=num_classes, in_chans=in_chans,
                   drop_rate=drop_rate, global_pool=global_pool)


def build_mobilenet(
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
    """MobileNetV2 and MobileNetV3 (timm ``EfficientNet`` / ``MobileNetV3``).

    Args:
        drop_rate: dropout before the classifier.
        drop_path_rate: stochastic-depth rate over the inverted-residual blocks.
        global_pool: ``"avg"``, ``"max"``, ``"avgmax"`` or ``""``.
        bn_eps: BatchNorm epsilon (torchvision's MobileNetV3 uses 1e-3).
        bn_momentum: BatchNorm momentum.
    """
    return _create(arch, num_classes=num_classes, in_chans=in_chans,
                   drop_rate=drop_rate, drop_path_rate=drop_path_rate,
                   global_pool=global_pool, bn_eps=bn_eps, bn_momentum=bn_momentum)


def build_efficientnet(
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
    """EfficientNet-B0…B7 (timm ``EfficientNet``).

    Args:
        drop_rate: dropout before the classifier (the paper uses 0.2 for B0 up to 0.5).
        drop_path_rate: stochastic-depth rate over the MBConv blocks (paper: 0.2).
        global_pool: ``"avg"``, ``"max"``, ``"avgmax"`` or ``""``.
        bn_eps: BatchNorm epsilon.
        bn_momentum: BatchNorm momentum.
    """
    return _create(arch, num_classes=num_classes, in_chans=in_chans,
                   drop_rate=drop_rate, drop_path_rate=drop_path_rate,
                   global_pool=global_pool, bn_eps=bn_eps, bn_momentum=bn_momentum)


def build_convnext(
    *,
    arch: str,
    num_classes: int = 1000,
    in_chans: int = 3,
    drop_rate: float = 0.0,
    drop_path_rate: float = 0.0,
    global_pool: str = "avg",
    ls_init_value: float = 1e-6,
) -> nn.Module:
    """ConvNeXt (timm ``ConvNeXt``).

    Args:
        drop_rate: dropout before the classifier.
        drop_path_rate: stochastic-depth rate (paper: 0.1 for T up to 0.5 for L).
        global_pool: ``"avg"``, ``"max"``, ``"avgmax"`` or ``""``.
        ls_init_value: initial value of the layer-scale parameters.
    """
    return _create(arch, num_classes=num_classes, in_chans=in_chans,
                   drop_rate=drop_rate, drop_path_rate=drop_path_rate,
                   global_pool=global_pool, ls_init_value=ls_init_value)
