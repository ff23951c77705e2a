"""Builders for the families timm implements, keeping timm's module layout.

Keeping timm's layout means timm's Hub weights load unchanged and timm's own
tools (feature extraction, grad checkpointing) keep working. Each builder lists
the keyword arguments a user may pass through :func:`cnnzoo.create`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import nn

from cnnzoo.spec import IMAGENET_MEAN, IMAGENET_STD


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
    pad_type: str | None = None,
) -> nn.Module:
    """EfficientNet-B0…B7 (timm ``EfficientNet``).

    Args:
        drop_rate: dropout before the classifier (the paper uses 0.2 for B0 up to 0.5).
        drop_path_rate: stochastic-depth rate over the MBConv blocks (paper: 0.2).
        global_pool: ``"avg"``, ``"max"``, ``"avgmax"`` or ``""``.
        bn_eps: BatchNorm epsilon.
        bn_momentum: BatchNorm momentum.
        pad_type: ``"same"`` for TensorFlow's padding (checkpoints trained in TF or
            ported by efficientnet_pytorch), ``""`` for symmetric padding.
    """
    return _create(arch, num_classes=num_classes, in_chans=in_chans,
                   drop_rate=drop_rate, drop_path_rate=drop_path_rate,
                   global_pool=global_pool, bn_eps=bn_eps, bn_momentum=bn_momentum,
                   pad_type=pad_type)


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


def build_densenet(
    *,
    arch: str,
    num_classes: int = 1000,
    in_chans: int = 3,
    drop_rate: float = 0.0,
    proj_drop_rate: float = 0.0,
    global_pool: str = "avg",
    memory_efficient: bool = False,
) -> nn.Module:
    """DenseNet-121/161/169/201 (timm ``DenseNet``).

    Args:
        drop_rate: dropout before the classifier.
        proj_drop_rate: dropout after each dense layer (torchvision's ``drop_rate``).
        global_pool: ``"avg"``, ``"max"``, ``"avgmax"`` or ``""``.
        memory_efficient: recompute the dense layers' concatenations in the backward
            pass (gradient checkpointing): much less memory, somewhat slower.
    """
    return _create(arch, num_classes=num_classes, in_chans=in_chans,
                   drop_rate=drop_rate, proj_drop_rate=proj_drop_rate,
                   global_pool=global_pool, memory_efficient=memory_efficient)


class InceptionV3Outputs(NamedTuple):
    """What Inception-v3 returns in training mode with ``aux_logits=True`` (torchvision's)."""

    logits: torch.Tensor
    aux_logits: torch.Tensor


_INCEPTION_V3: list[type[nn.Module]] = []  # the class, made on first use (it subclasses timm's)


def _inception_v3_class() -> type[nn.Module]:
    """timm's ``InceptionV3`` with torchvision's forward contract.

    timm's model with ``aux_logits=True`` returns ``(logits, aux)`` in eval mode too and
    runs the auxiliary classifier even on inputs too small for it; torchvision's runs it
    only in training. This subclass keeps timm's modules (so timm's and torchvision's
    weights load unchanged) and torchvision's behaviour, plus its ``transform_input``.
    """
    if _INCEPTION_V3:
        return _INCEPTION_V3[0]
    from timm.models.inception_v3 import InceptionV3 as TimmInceptionV3

    class InceptionV3(TimmInceptionV3):
        def __init__(self, *args: Any, transform_input: bool = False, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            if transform_input and self.in_chans != 3:
                raise ValueError(
                    "transform_input=True re-normalises 3 ImageNet-normalised RGB channels; "
                    f"it needs in_chans=3, got in_chans={self.in_chans}"
                )
            self.transform_input = bool(transform_input)

        def _transform_input(self, x: torch.Tensor) -> torch.Tensor:
            if not self.transform_input:
                return x
            # ImageNet-normalised input → the (x - 0.5) / 0.5 input the weights expect,
            # computed as torchvision does
            return torch.cat([x[:, c:c + 1] * (std / 0.5) + (mean - 0.5) / 0.5
                              for c, (mean, std) in enumerate(zip(IMAGENET_MEAN, IMAGENET_STD,
                                                                  strict=True))], 1)

        def forward_features(self, x: torch.Tensor) -> torch.Tensor:
            return self.forward_postaux(self.forward_preaux(self._transform_input(x)))

        def forward(self, x: torch.Tensor) -> torch.Tensor | InceptionV3Outputs:
            x = self.forward_preaux(self._transform_input(x))
            with_aux = self.training and self.aux_logits and self.AuxLogits is not None
            aux = self.AuxLogits(x) if with_aux else None
            logits = self.forward_head(self.forward_postaux(x))
            return logits if aux is None else InceptionV3Outputs(logits, aux)

    InceptionV3.__module__ = __name__  # pickled as cnnzoo.models.timm_backed.InceptionV3
    InceptionV3.__qualname__ = "InceptionV3"
    _INCEPTION_V3.append(InceptionV3)
    return InceptionV3


def __getattr__(name: str) -> Any:
    if name == "InceptionV3":  # lets pickle find the lazily made class
        return _inception_v3_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_inception_v3(
    *,
    arch: str,
    num_classes: int = 1000,
    in_chans: int = 3,
    drop_rate: float = 0.0,
    global_pool: str = "avg",
    aux_logits: bool = True,
    transform_input: bool = False,
) -> nn.Module:
    """Inception-v3 (timm ``InceptionV3``, with torchvision's forward contract).

    Args:
        drop_rate: dropout before the classifier (torchvision trains with 0.5).
        global_pool: ``"avg"``, ``"max"``, ``"avgmax"`` or ``""``.
        aux_logits: keep the auxiliary classifier ``AuxLogits`` (torchvision's model and
            its weights have it). It runs only in training mode, where the forward returns
            :class:`InceptionV3Outputs` ``(logits, aux_logits)``; in eval mode the forward
            returns the logits. ``False`` drops it (timm's default; 3.3M parameters fewer).
        transform_input: re-normalise ImageNet-normalised input to mean = std = 0.5, as
            torchvision does for its pretrained weights.
    """
    from timm.models import build_model_with_cfg

    return build_model_with_cfg(
        _inception_v3_class(), arch, False, num_classes=num_classes, in_chans=in_chans,
        drop_rate=drop_rate, global_pool=global_pool, aux_logits=aux_logits,
        transform_input=transform_input,
    )


def build_regnet(
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
    """RegNetX and RegNetY (timm ``RegNet``).

    Args:
        drop_rate: dropout before the classifier.
        drop_path_rate: stochastic-depth rate, growing linearly over the blocks.
        global_pool: ``"avg"``, ``"max"``, ``"avgmax"`` or ``""``.
        output_stride: 32, 16 or 8 (dilated last stages, for dense prediction).
        zero_init_last: zero-initialise the last BN of each residual branch.
    """
    return _create(arch, num_classes=num_classes, in_chans=in_chans,
                   drop_rate=drop_rate, drop_path_rate=drop_path_rate,
                   global_pool=global_pool, output_stride=output_stride,
                   zero_init_last=zero_init_last)


def build_efficientnetv2(
    *,
    arch: str,
    num_classes: int = 1000,
    in_chans: int = 3,
    drop_rate: float = 0.0,
    drop_path_rate: float = 0.0,
    global_pool: str = "avg",
    bn_eps: float = 1e-3,
    bn_momentum: float | None = None,
) -> nn.Module:
    """EfficientNetV2-S/M/L (timm ``EfficientNet``, symmetric padding like torchvision).

    Args:
        drop_rate: dropout before the classifier (torchvision: 0.2 S, 0.3 M, 0.4 L).
        drop_path_rate: stochastic-depth rate over the blocks (torchvision: 0.2).
        global_pool: ``"avg"``, ``"max"``, ``"avgmax"`` or ``""``.
        bn_eps: BatchNorm epsilon; torchvision's 1e-3 by default (timm's own is 1e-5).
        bn_momentum: BatchNorm momentum.
    """
    return _create(arch, num_classes=num_classes, in_chans=in_chans,
                   drop_rate=drop_rate, drop_path_rate=drop_path_rate,
                   global_pool=global_pool, bn_eps=bn_eps, bn_momentum=bn_momentum)
