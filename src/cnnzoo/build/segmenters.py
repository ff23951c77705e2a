"""Builders of the smp-compatible segmenters: Unet, Unet++, FPN, DeepLabV3+, PSPNet, Linknet.

Each takes segmentation_models_pytorch's hyper-parameter names and defaults
(``encoder_depth``, ``decoder_channels``, ``decoder_atrous_rates``…) and puts the
decoder on **any** zoo encoder: ``encoder="resnet34"`` (the default) or any other
registered classifier — built-in or plugin — that ``create(..., features_only=True)``
supports, or an already-built ``features_only`` module. They live in the build
layer, above the factory, because they call :func:`~cnnzoo.build.factory.create`
for the encoder; the modules are in :mod:`cnnzoo.models.smp_decoders`.

What differs from smp: ``num_classes`` (smp: ``classes``) and ``in_chans`` (smp:
``in_channels``) are create()'s names; ``encoder_weights`` is the encoder's
``pretrained=`` (``None``: random, ``"imagenet"`` or ``True``: its default tag, or a
tag, a path, ``"hf-hub:org/repo"``); there is no ``activation`` (logits come out)
and no ``aux_params``.

``encoder_output_stride`` (DeepLabV3+) dilates the encoder as smp does: in every
stage whose stride exceeds it, each convolution's stride becomes 1 and its dilation
``stage stride / output stride``. Encoders that down-sample with pooling there
cannot be dilated and raise an error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from torch import nn

from cnnzoo._utils import per_channel
from cnnzoo.build.encoders import encoder_stage_modules, resolve_feature_module
from cnnzoo.build.factory import create
from cnnzoo.errors import ModelOptionError
from cnnzoo.models.smp_decoders import (
    DeepLabV3PlusDecoder,
    FPNDecoder,
    LinknetDecoder,
    Norm,
    PSPDecoder,
    SegmentationHead,
    SmpSegmenter,
    UnetDecoder,
    UnetPlusPlusDecoder,
    initialize_decoder,
    initialize_head,
    smp_feature_layout,
)
from cnnzoo.spec import IMAGENET_MEAN, IMAGENET_STD, REGISTRY

__all__ = [
    "build_deeplabv3plus",
    "build_fpn",
    "build_linknet",
    "build_pspnet",
    "build_smp_unet",
    "build_unetplusplus",
    "dilate_encoder",
    "make_encoder",
]

DecoderFactory = Callable[[list[int]], nn.Module]


# -- the encoder -----------------------------------------------------------------------------


def make_encoder(encoder: str | nn.Module, encoder_weights: bool | str | None, in_chans: int,
                 decoder: str) -> nn.Module:
    """A zoo ``features_only`` encoder for ``decoder``, by name or as given.

    Raises:
        ModelOptionError: the encoder cannot give multi-scale features, or weights were
            asked for an encoder module passed as it is.
    """
    if isinstance(encoder, nn.Module):
        if encoder_weights not in (None, False):
            raise ModelOptionError("encoder_weights applies to an encoder given by name; the "
                                   "encoder module passed is used as it is")
        module = encoder
    else:
        if encoder in REGISTRY and not REGISTRY.get(encoder).features_only:
            raise ModelOptionError(
                f"{decoder} needs an encoder that gives multi-scale features "
                f"(create(..., features_only=True)); {encoder!r} declares no feature stages. "
                "Pick a classifier whose cnnzoo.model_info(name).features_only is True, "
                "e.g. resnet34, efficientnet_b0, convnext_tiny")
        pretrained: bool | str = (True if encoder_weights in (True, "imagenet")
                                  else encoder_weights or False)
        module = create(encoder, pretrained=pretrained, in_chans=in_chans, features_only=True)
    info = getattr(module, "feature_info", None)
    if not (hasattr(info, "channels") and hasattr(info, "reduction")):
        raise ModelOptionError(
            f"the {decoder} encoder must be a features_only module whose feature_info has "
            f"channels() and reduction() (timm's FeatureInfo); got {type(module).__name__}")
    return module


def _feature_groups(encoder: nn.Module, names: Sequence[str | None]) -> list[list[nn.Module]]:
    """For each feature, the sibling modules computed after the previous one up to it."""
    if not names or any(n is None for n in names):
        raise ModelOptionError("cannot locate the encoder's feature modules to dilate them")
    parents = {str(n).rpartition(".")[0] for n in names}
    if len(parents) != 1:
        raise ModelOptionError(
            f"cannot dilate the encoder: its feature modules {list(names)} are not siblings")
    root_name = parents.pop()
    root = encoder.get_submodule(root_name) if root_name else encoder
    children = list(root.named_children())
    order = [c for c, _ in children]
    ends = [order.index(str(n).rpartition(".")[2]) for n in names]
    groups, start = [], 0
    for end in ends:
        groups.append([m for _, m in children[start:end + 1]])
        start = end + 1
    return groups


def dilate_encoder(encoder: nn.Module, names: Sequence[str | None], reductions: Sequence[int],
                   output_stride: int) -> list[int]:
    """Replace strides by dilation in the stages deeper than ``output_stride`` (smp's rule).

    Returns:
        the features' reductions afterwards.

    Raises:
        ModelOptionError: an output stride other than 8 or 16, or a stage that
            down-samples with pooling or an even-sized strided kernel.
    """
    if output_stride not in (8, 16):
        raise ModelOptionError(f"encoder_output_stride must be 8 or 16, got {output_stride}")
    groups = _feature_groups(encoder, names)
    for group, reduction in zip(groups, reductions, strict=True):
        if reduction <= output_stride:
            continue
        rate = reduction // output_stride
        for module in (m for top in group for m in top.modules()):
            _dilate(module, rate, reduction)
    return [min(int(r), output_stride) for r in reductions]


def _set_reductions(info: Any, reductions: Sequence[int]) -> None:
    """Make the encoder's own ``feature_info`` report the strides it has after dilation.

    ``info`` is timm's ``FeatureInfo`` (a list of dicts in ``info.info``) or cnnzoo's
    (frozen :class:`~cnnzoo.spec.FeatureStage` records in ``info.stages``).
    """
    if hasattr(info, "stages"):
        info.stages = tuple(dataclasses.replace(stage, reduction=int(r))
                            for stage, r in zip(info.stages, reductions, strict=True))
    elif hasattr(info, "info"):
        for entry, r in zip(info.info, reductions, strict=True):
            entry["reduction"] = int(r)


def _dilate(module: nn.Module, rate: int, reduction: int) -> None:
    stride = getattr(module, "stride", 1)
    strided = any(s > 1 for s in (stride if isinstance(stride, tuple) else (stride,)))
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        if strided and (kh % 2 == 0 or kw % 2 == 0):
            raise ModelOptionError(
                f"cannot dilate the encoder's stride-{reduction} stage: a strided "
                f"{kh}x{kw} convolution would change the feature size; use an encoder "
                "with odd kernels (ResNet, EfficientNet…) or encoder_output_stride=None")
        module.stride = (1, 1)
        module.dilation = (rate, rate)
        if type(module).__name__ != "Conv2dSame":  # timm's "same" padding is dynamic
            module.padding = ((kh // 2) * rate, (kw // 2) * rate)
    elif strided and isinstance(module, nn.MaxPool2d | nn.AvgPool2d):
        raise ModelOptionError(
            f"cannot dilate the encoder's stride-{reduction} stage: it down-samples with "
            f"{type(module).__name__}; use an encoder that down-samples with convolutions "
            "(ResNet, EfficientNet…)")


# -- assembling ------------------------------------------------------------------------------


def _smp_channels(layout: str, in_chans: int, channels: Sequence[int]) -> list[int]:
    if layout == "standard":
        return [in_chans, *channels]
    if layout == "transformer":
        return [in_chans, 0, *channels]
    return list(channels)


def _assemble(
    name: str,
    *,
    num_classes: int,
    in_chans: int,
    encoder: str | nn.Module,
    encoder_weights: bool | str | None,
    encoder_depth: int,
    decoder: DecoderFactory,
    head_channels: Callable[[Any], int],
    head_kernel: int,
    upsampling: int,
    divisible: bool = True,
    output_stride: int | None = None,
) -> SmpSegmenter:
    """Encoder → decoder → head, with feature_info, stages and preprocessing."""
    enc = make_encoder(encoder, encoder_weights, in_chans, name)
    info: Any = enc.feature_info
    channels, reductions = list(info.channels()), [int(r) for r in info.reduction()]
    names = ([resolve_feature_module(enc, n) for n in info.module_name()]
             if hasattr(info, "module_name") else [None] * len(channels))
    layout = smp_feature_layout(reductions)
    available = len(channels) - (1 if layout == "vgg" else 0) + (1 if layout == "transformer"
                                                                else 0)
    if not 1 <= encoder_depth <= min(5, available):
        raise ModelOptionError(
            f"encoder_depth={encoder_depth}: this encoder has {available} stages below "
            f"input resolution (strides {reductions}); choose 1…{min(5, available)}")
    if output_stride is not None and output_stride < 2 ** encoder_depth:
        reductions = dilate_encoder(enc, names, reductions, output_stride)
        _set_reductions(info, reductions)
    smp_chs = _smp_channels(layout, in_chans, channels)[: encoder_depth + 1]
    dec = decoder(smp_chs)
    head = SegmentationHead(head_channels(dec), num_classes, kernel_size=head_kernel,
                            upsampling=upsampling)
    initialize_decoder(dec)
    initialize_head(head)
    feature_info = [{"module": f"encoder.{n}" if n else "encoder", "num_chs": int(c),
                     "reduction": int(r)} for n, c, r in zip(names, channels, reductions,
                                                              strict=True)]
    stage_modules = {**encoder_stage_modules(enc, names), "decoder": ("decoder",),
                     "head": ("segmentation_head",)}
    smp_reductions = _smp_channels(layout, 1, reductions)
    if layout == "transformer":
        smp_reductions[1] = 2
    multiple = max(smp_reductions[: encoder_depth + 1])
    model = SmpSegmenter(enc, dec, head, name=name, num_classes=num_classes, in_chans=in_chans,
                         layout=layout, depth=encoder_depth, size_multiple=multiple,
                         feature_info=feature_info, stage_modules=stage_modules,
                         any_size=not divisible)
    enc_cfg = getattr(enc, "pretrained_cfg", None) or {}
    model.pretrained_cfg = {
        "mean": per_channel(enc_cfg.get("mean") or IMAGENET_MEAN, in_chans),
        "std": per_channel(enc_cfg.get("std") or IMAGENET_STD, in_chans),
        "input_size": (in_chans, 256, 256), "crop_pct": 1.0, "interpolation": "bilinear",
        "num_classes": num_classes, "labels": None,
    }
    return model


# -- the builders ----------------------------------------------------------------------------


def build_smp_unet(
    *,
    num_classes: int = 2,
    in_chans: int = 3,
    encoder: str | nn.Module = "resnet34",
    encoder_depth: int = 5,
    encoder_weights: bool | str | None = None,
    decoder_use_norm: Norm = "batchnorm",
    decoder_channels: Sequence[int] = (256, 128, 64, 32, 16),
    decoder_attention_type: str | None = None,
    decoder_interpolation: str = "nearest",
) -> SmpSegmenter:
    """smp's ``Unet`` on a zoo encoder (any input size: each block interpolates to its skip).

    Args:
        num_classes: the head's classes (smp: ``classes``, default 1 there).
        in_chans: input channels (smp: ``in_channels``).
        encoder: a zoo classifier's name, or a ``features_only`` module.
        encoder_depth: how many encoder stages the decoder uses (3…5).
        encoder_weights: the encoder's ``pretrained=``; ``None`` is random.
        decoder_use_norm: ``True``/``"batchnorm"``, ``False``/``"identity"``,
            ``"instancenorm"`` or ``{"type": …, **kwargs}``.
        decoder_channels: one width per decoder block, deepest first.
        decoder_attention_type: ``None`` or ``"scse"``.
        decoder_interpolation: ``F.interpolate`` mode of the up-sampling.
    """
    vgg = isinstance(encoder, str) and encoder.startswith("vgg")
    return _assemble(
        "Unet", num_classes=num_classes, in_chans=in_chans, encoder=encoder,
        encoder_weights=encoder_weights, encoder_depth=encoder_depth,
        decoder=lambda chs: UnetDecoder(
            chs, decoder_channels, n_blocks=encoder_depth, use_norm=decoder_use_norm,
            attention_type=decoder_attention_type, add_center_block=vgg,
            interpolation_mode=decoder_interpolation),
        head_channels=lambda _: int(decoder_channels[-1]), head_kernel=3, upsampling=1,
        divisible=False,
    )


def build_unetplusplus(
    *,
    num_classes: int = 2,
    in_chans: int = 3,
    encoder: str | nn.Module = "resnet34",
    encoder_depth: int = 5,
    encoder_weights: bool | str | None = None,
    decoder_use_norm: Norm = "batchnorm",
    decoder_channels: Sequence[int] = (256, 128, 64, 32, 16),
    decoder_attention_type: str | None = None,
    decoder_interpolation: str = "nearest",
) -> SmpSegmenter:
    """smp's ``UnetPlusPlus`` (Unet++) on a zoo encoder.

    Arguments as :func:`build_smp_unet`; heights and widths must be multiples of
    ``2 ** encoder_depth``.
    """
    vgg = isinstance(encoder, str) and encoder.startswith("vgg")
    return _assemble(
        "Unet++", num_classes=num_classes, in_chans=in_chans, encoder=encoder,
        encoder_weights=encoder_weights, encoder_depth=encoder_depth,
        decoder=lambda chs: UnetPlusPlusDecoder(
            chs, decoder_channels, n_blocks=encoder_depth, use_norm=decoder_use_norm,
            attention_type=decoder_attention_type, interpolation_mode=decoder_interpolation,
            center=vgg),
        head_channels=lambda _: int(decoder_channels[-1]), head_kernel=3, upsampling=1,
    )


def build_fpn(
    *,
    num_classes: int = 2,
    in_chans: int = 3,
    encoder: str | nn.Module = "resnet34",
    encoder_depth: int = 5,
    encoder_weights: bool | str | None = None,
    decoder_pyramid_channels: int = 256,
    decoder_segmentation_channels: int = 128,
    decoder_merge_policy: str = "add",
    decoder_dropout: float = 0.2,
    decoder_interpolation: str = "nearest",
    upsampling: int = 4,
) -> SmpSegmenter:
    """smp's ``FPN`` on a zoo encoder (merged at stride 4, up-sampled ×``upsampling``).

    Args:
        num_classes: the head's classes.
        in_chans: input channels.
        encoder: a zoo classifier's name, or a ``features_only`` module.
        encoder_depth: encoder stages used (3…5).
        encoder_weights: the encoder's ``pretrained=``.
        decoder_pyramid_channels: width of the pyramid.
        decoder_segmentation_channels: width of each level's segmentation block.
        decoder_merge_policy: ``"add"`` or ``"cat"``.
        decoder_dropout: ``Dropout2d`` after the merge.
        decoder_interpolation: mode of the top-down up-sampling.
        upsampling: the head's bilinear up-sampling factor.
    """
    return _assemble(
        "FPN", num_classes=num_classes, in_chans=in_chans, encoder=encoder,
        encoder_weights=encoder_weights, encoder_depth=encoder_depth,
        decoder=lambda chs: FPNDecoder(
            chs, encoder_depth=encoder_depth, pyramid_channels=decoder_pyramid_channels,
            segmentation_channels=decoder_segmentation_channels, dropout=decoder_dropout,
            merge_policy=decoder_merge_policy, interpolation_mode=decoder_interpolation),
        head_channels=lambda dec: int(dec.out_channels), head_kernel=1, upsampling=upsampling,
    )


def build_deeplabv3plus(
    *,
    num_classes: int = 2,
    in_chans: int = 3,
    encoder: str | nn.Module = "resnet34",
    encoder_depth: int = 5,
    encoder_weights: bool | str | None = None,
    encoder_output_stride: int = 16,
    decoder_channels: int = 256,
    decoder_atrous_rates: Sequence[int] = (12, 24, 36),
    decoder_aspp_separable: bool = True,
    decoder_aspp_dropout: float = 0.5,
    upsampling: int = 4,
) -> SmpSegmenter:
    """smp's ``DeepLabV3Plus`` on a zoo encoder, dilated to ``encoder_output_stride``.

    Args:
        num_classes: the head's classes.
        in_chans: input channels.
        encoder: a zoo classifier's name, or a ``features_only`` module.
        encoder_depth: encoder stages used (3…5).
        encoder_weights: the encoder's ``pretrained=``.
        encoder_output_stride: 16 or 8 (the deeper stages are dilated).
        decoder_channels: width of the ASPP and the fusion.
        decoder_atrous_rates: the three ASPP dilation rates.
        decoder_aspp_separable: depthwise-separable ASPP convolutions.
        decoder_aspp_dropout: dropout after the ASPP projection.
        upsampling: the head's bilinear up-sampling factor.
    """
    if encoder_output_stride not in (8, 16):
        raise ModelOptionError(
            f"encoder_output_stride must be 8 or 16 for DeepLabV3+, got {encoder_output_stride}")
    return _assemble(
        "DeepLabV3+", num_classes=num_classes, in_chans=in_chans, encoder=encoder,
        encoder_weights=encoder_weights, encoder_depth=encoder_depth,
        decoder=lambda chs: DeepLabV3PlusDecoder(
            chs, encoder_depth=encoder_depth, out_channels=decoder_channels,
            atrous_rates=decoder_atrous_rates, output_stride=encoder_output_stride,
            aspp_separable=decoder_aspp_separable, aspp_dropout=decoder_aspp_dropout),
        head_channels=lambda _: int(decoder_channels), head_kernel=1, upsampling=upsampling,
        output_stride=encoder_output_stride,
    )


def build_pspnet(
    *,
    num_classes: int = 2,
    in_chans: int = 3,
    encoder: str | nn.Module = "resnet34",
    encoder_weights: bool | str | None = None,
    encoder_depth: int = 3,
    psp_out_channels: int = 512,
    decoder_use_norm: Norm = "batchnorm",
    psp_dropout: float = 0.2,
    upsampling: int = 8,
) -> SmpSegmenter:
    """smp's ``PSPNet`` on a zoo encoder (pyramid pooling on stage ``encoder_depth``).

    Args:
        num_classes: the head's classes.
        in_chans: input channels.
        encoder: a zoo classifier's name, or a ``features_only`` module.
        encoder_weights: the encoder's ``pretrained=``.
        encoder_depth: the stage pooled (3: stride 8). As in smp the deeper stages
            stay in the encoder (their weights load) but the decoder ignores them.
        psp_out_channels: width after the pyramid pooling.
        decoder_use_norm: the norm of the pooling branches and the projection.
        psp_dropout: ``Dropout2d`` before the head.
        upsampling: the head's bilinear up-sampling factor.
    """
    return _assemble(
        "PSPNet", num_classes=num_classes, in_chans=in_chans, encoder=encoder,
        encoder_weights=encoder_weights, encoder_depth=encoder_depth,
        decoder=lambda chs: PSPDecoder(chs, use_norm=decoder_use_norm,
                                       out_channels=psp_out_channels, dropout=psp_dropout),
        head_channels=lambda _: int(psp_out_channels), head_kernel=3, upsampling=upsampling,
    )


def build_linknet(
    *,
    num_classes: int = 2,
    in_chans: int = 3,
    encoder: str | nn.Module = "resnet34",
    encoder_depth: int = 5,
    encoder_weights: bool | str | None = None,
    decoder_use_norm: Norm = "batchnorm",
) -> SmpSegmenter:
    """smp's ``Linknet`` on a zoo encoder (additive skips, 32 pre-final channels).

    Args:
        num_classes: the head's classes.
        in_chans: input channels.
        encoder: a zoo classifier's name, or a ``features_only`` module.
        encoder_depth: encoder stages used (3…5).
        encoder_weights: the encoder's ``pretrained=``.
        decoder_use_norm: the decoder blocks' norm.
    """
    return _assemble(
        "Linknet", num_classes=num_classes, in_chans=in_chans, encoder=encoder,
        encoder_weights=encoder_weights, encoder_depth=encoder_depth,
        decoder=lambda chs: LinknetDecoder(chs, prefinal_channels=32, n_blocks=encoder_depth,
                                           use_norm=decoder_use_norm),
        head_channels=lambda _: 32, head_kernel=1, upsampling=1,
    )
