"""The UNet builder: the classic 4-level UNet, or a UNet decoder on any zoo encoder.

It lives in the build layer, above the factory, because a UNet on ``encoder="resnet34"``
creates that encoder through :func:`cnnzoo.create`; the modules themselves are in
:mod:`cnnzoo.models.unet`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import nn

from cnnzoo._utils import per_channel
from cnnzoo.build.encoders import build_encoder, encoder_stage_modules, resolve_feature_module
from cnnzoo.errors import ModelOptionError
from cnnzoo.models.unet import (
    _NATIVE_STAGES,
    DEFAULT_DECODER_CHANNELS,
    FeatureUNetDecoder,
    UNet,
    UNetDecoder,
    UNetEncoder,
)
from cnnzoo.spec import IMAGENET_MEAN, IMAGENET_STD


def _cfg(in_chans: int, mean: Sequence[float] | None = None,
         std: Sequence[float] | None = None) -> dict[str, Any]:
    """Preprocessing: the encoder's mean/std when it has them, else ImageNet's."""
    return {
        "mean": per_channel(mean if mean else IMAGENET_MEAN, in_chans),
        "std": per_channel(std if std else IMAGENET_STD, in_chans),
        "input_size": (in_chans, 256, 256),
        "crop_pct": 1.0,
        "interpolation": "bilinear",
    }


def build_unet(
    *,
    num_classes: int = 2,
    in_chans: int = 3,
    base_width: int = 64,
    encoder: str | nn.Module | None = None,
    encoder_pretrained: bool | str = False,
    decoder_channels: Sequence[int] = DEFAULT_DECODER_CHANNELS,
) -> UNet:
    """Build a UNet: the classic one, or a UNet decoder on a zoo encoder.

    Args:
        num_classes: output channels of the 1×1 segmentation head.
        in_chans: input channels.
        base_width: the classic UNet's first width (64); doubles at each level.
        encoder: ``None`` for the classic UNet, or the name of any zoo classifier
            (built with ``features_only=True``), or an already-built features-only
            module (its ``feature_info`` must have ``channels()`` and ``reduction()``).
        encoder_pretrained: the encoder's ``pretrained=`` (``True``, a tag, a path or
            ``"hf-hub:org/repo"``); only with ``encoder`` given by name.
        decoder_channels: the decoder blocks' widths, deepest first (with ``encoder``).
    """
    if encoder is None:
        if encoder_pretrained:
            raise ModelOptionError(
                "encoder_pretrained needs an encoder: pass encoder='<zoo model name>'; "
                "the classic UNet has no pretrained encoder"
            )
        if tuple(decoder_channels) != DEFAULT_DECODER_CHANNELS:
            raise ModelOptionError(
                "decoder_channels applies to a UNet with encoder=; the classic UNet's "
                "decoder mirrors its encoder (set base_width instead)"
            )
        native = UNetEncoder(in_chans=in_chans, base_width=base_width)
        enc: nn.Module = native
        dec: UNetDecoder | FeatureUNetDecoder = UNetDecoder(native.channels)
        feature_info = [
            {"module": f"encoder.{stage}", "num_chs": c, "reduction": r}
            for stage, c, r in zip(_NATIVE_STAGES, native.channels, native.reductions, strict=True)
        ]
        stage_modules: dict[str, tuple[str, ...]] = {
            stage: (f"encoder.{stage}",) for stage in _NATIVE_STAGES}
        size_multiple = native.reductions[-1]
        cfg = _cfg(in_chans)
    else:
        if base_width != 64:
            raise ModelOptionError(
                "base_width applies to the classic UNet (encoder=None); with encoder= set "
                "decoder_channels instead"
            )
        enc = build_encoder(encoder, encoder_pretrained, in_chans)
        info: Any = enc.feature_info
        channels = list(info.channels())
        reductions = list(info.reduction())
        dec = FeatureUNetDecoder(channels, reductions, decoder_channels)
        names = (
            [resolve_feature_module(enc, n) for n in info.module_name()]
            if hasattr(info, "module_name") else [None] * len(channels)
        )
        feature_info = [
            {"module": f"encoder.{n}" if n else "encoder", "num_chs": int(c),
             "reduction": int(r)}
            for n, c, r in zip(names, channels, reductions, strict=True)
        ]
        stage_modules = encoder_stage_modules(enc, names)
        size_multiple = 1
        enc_cfg = getattr(enc, "pretrained_cfg", None) or {}
        cfg = _cfg(in_chans, enc_cfg.get("mean"), enc_cfg.get("std"))
    stage_modules = {**stage_modules, "decoder": ("decoder",), "head": ("segmentation_head",)}
    model = UNet(
        enc, dec, num_classes=num_classes, in_chans=in_chans, feature_info=feature_info,
        stage_modules=stage_modules, size_multiple=size_multiple,
    )
    model.pretrained_cfg = {**cfg, "num_classes": num_classes, "labels": None}
    return model
