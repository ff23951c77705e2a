"""UNet (Ronneberger et al., 2015): the classic network, or a decoder on any zoo encoder.

Classic (``encoder=None``): a 4-level encoder of same-padded ``DoubleConv`` blocks
(conv 3×3 without bias → BN → ReLU, twice) with 2×2 max-pool down-sampling, widths
``base_width × (1, 2, 4, 8, 16)``; a decoder of ``ConvTranspose2d(2, stride 2)``
up-sampling, concatenation with the skip and ``DoubleConv``; a 1×1 segmentation
head. Inputs whose height or width is not a multiple of 16 are zero-padded inside
the model and the output is cropped back, so logits always have the input's size.
With 3 input channels and 21 classes it has 31,038,933 parameters.

Encoder (``encoder="resnet34"``, any zoo classifier): the encoder is built with
``cnnzoo.factory.create(encoder, features_only=True)`` and the decoder, as in
segmentation_models_pytorch, needs only the encoder's channels and reductions:
from the deepest feature up, each block up-samples to the size of the next
shallower feature, concatenates it and applies a ``DoubleConv``; if the shallowest
feature is below input resolution a last block up-samples to the input size.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cnnzoo.models.base import ZooModel

__all__ = [
    "DEFAULT_DECODER_CHANNELS",
    "DoubleConv",
    "FeatureUNetDecoder",
    "UNet",
    "UNetDecoder",
    "UNetEncoder",
]

DEFAULT_DECODER_CHANNELS: tuple[int, ...] = (256, 128, 64, 32, 16)
_NATIVE_STAGES = ("stem", "stage1", "stage2", "stage3", "stage4")


class DoubleConv(nn.Sequential):
    """(conv 3×3 without bias → BatchNorm → ReLU) × 2, same padding."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(OrderedDict(
            conv1=nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
            bn1=nn.BatchNorm2d(out_channels),
            act1=nn.ReLU(inplace=True),
            conv2=nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1, bias=False),
            bn2=nn.BatchNorm2d(out_channels),
            act2=nn.ReLU(inplace=True),
        ))


class UNetEncoder(nn.Module):
    """The classic contracting path: ``stem`` (DoubleConv) and four max-pool + DoubleConv stages.

    ``forward`` returns the five stage outputs (reductions 1, 2, 4, 8, 16).
    """

    def __init__(self, in_chans: int = 3, base_width: int = 64) -> None:
        super().__init__()
        widths = [base_width * 2**i for i in range(5)]
        self.channels = tuple(widths)
        self.reductions = (1, 2, 4, 8, 16)
        self.stem = DoubleConv(in_chans, widths[0])
        self.stage1 = self._down(widths[0], widths[1])
        self.stage2 = self._down(widths[1], widths[2])
        self.stage3 = self._down(widths[2], widths[3])
        self.stage4 = self._down(widths[3], widths[4])

    @staticmethod
    def _down(in_channels: int, out_channels: int) -> nn.Sequential:
        return nn.Sequential(OrderedDict(
            pool=nn.MaxPool2d(kernel_size=2, stride=2),
            conv=DoubleConv(in_channels, out_channels),
        ))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = [self.stem(x)]
        for stage in (self.stage1, self.stage2, self.stage3, self.stage4):
            features.append(stage(features[-1]))
        return features


class UpBlock(nn.Module):
    """ConvTranspose2d(2, stride 2) halving the channels → concat skip → DoubleConv."""

    def __init__(self, in_channels: int, skip_channels: int, out_channels: int) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
        self.conv = DoubleConv(in_channels // 2 + skip_channels, out_channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.cat([skip, self.up(x)], dim=1))


class UNetDecoder(nn.Module):
    """The classic expanding path over :class:`UNetEncoder`'s five features."""

    def __init__(self, encoder_channels: Sequence[int]) -> None:
        super().__init__()
        chs = list(encoder_channels)
        self.blocks = nn.ModuleList(
            UpBlock(chs[i + 1], chs[i], chs[i]) for i in reversed(range(len(chs) - 1))
        )
        self.out_channels: int = chs[0]

    def forward(
        self,
        features: Sequence[torch.Tensor],
        size: tuple[int, int],
        offset: tuple[int, int] = (0, 0),
    ) -> torch.Tensor:
        x = features[-1]
        for block, skip in zip(self.blocks, reversed(features[:-1]), strict=True):
            x = block(x, skip)
        top, left = offset
        if x.shape[-2:] != tuple(size) or offset != (0, 0):
            x = x[..., top:top + size[0], left:left + size[1]]
        return x


class DecoderBlock(nn.Module):
    """Up-sample (nearest) to the skip's size (or ``size``) → concat skip → DoubleConv."""

    def __init__(self, in_channels: int, skip_channels: int, out_channels: int) -> None:
        super().__init__()
        self.skip_channels = skip_channels
        self.conv = DoubleConv(in_channels + skip_channels, out_channels)

    def forward(
        self, x: torch.Tensor, skip: torch.Tensor | None = None,
        size: tuple[int, int] | None = None,
    ) -> torch.Tensor:
        target = tuple(skip.shape[-2:]) if skip is not None else size
        if target is not None and tuple(x.shape[-2:]) != tuple(target):
            x = F.interpolate(x, size=target, mode="nearest")
        if skip is not None:
            x = torch.cat([x, skip], dim=1)
        return self.conv(x)


class FeatureUNetDecoder(nn.Module):
    """A UNet decoder for any encoder, given only its channels and reductions.

    One block per skip (deepest first) and, when the shallowest feature is below
    input resolution, one last block without skip that up-samples to the input size.
    ``decoder_channels`` gives each block's width; extra entries are not used.
    """

    def __init__(
        self,
        encoder_channels: Sequence[int],
        encoder_reductions: Sequence[int],
        decoder_channels: Sequence[int] = DEFAULT_DECODER_CHANNELS,
    ) -> None:
        super().__init__()
        chs, reds = list(encoder_channels), list(encoder_reductions)
        if not chs or len(chs) != len(reds):
            raise ValueError(
                f"the encoder must report one channel count and one reduction per feature; "
                f"got channels {chs} and reductions {reds}"
            )
        if any(b < a for a, b in pairwise(reds)):
            raise ValueError(f"the encoder's reductions must not decrease; got {reds}")
        skips = list(reversed(chs[:-1]))
        n_blocks = len(skips) + (1 if reds[0] > 1 else 0)
        if len(decoder_channels) < n_blocks:
            raise ValueError(
                f"decoder_channels has {len(decoder_channels)} entries but this encoder "
                f"(reductions {reds}) needs {n_blocks} decoder blocks: pass at least "
                f"{n_blocks} widths, deepest first"
            )
        blocks = []
        in_ch = chs[-1]
        for i in range(n_blocks):
            skip_ch = skips[i] if i < len(skips) else 0
            blocks.append(DecoderBlock(in_ch, skip_ch, int(decoder_channels[i])))
            in_ch = int(decoder_channels[i])
        self.blocks = nn.ModuleList(blocks)
        self.out_channels: int = in_ch

    def forward(
        self,
        features: Sequence[torch.Tensor],
        size: tuple[int, int],
        offset: tuple[int, int] = (0, 0),
    ) -> torch.Tensor:
        del offset  # the encoder variant never pads
        x = features[-1]
        skips = list(reversed(features[:-1]))
        for i, block in enumerate(self.blocks):
            x = block(x, skips[i] if i < len(skips) else None, size=size)
        if tuple(x.shape[-2:]) != tuple(size):  # reduction-1 encoders end below size only
            x = F.interpolate(x, size=size, mode="nearest")
        return x


class UNet(ZooModel):
    """An encoder, a UNet decoder and a 1×1 segmentation head.

    ``forward_features`` returns the last decoder feature map (at input resolution),
    ``forward_head`` applies the head, ``get_classifier`` returns the head's conv and
    ``reset_classifier(n)`` replaces it. ``feature_info`` lists the encoder stages;
    ``stages`` / ``stage_modules`` group the parameters for freezing.
    """

    def __init__(
        self,
        encoder: nn.Module,
        decoder: UNetDecoder | FeatureUNetDecoder,
        *,
        num_classes: int,
        in_chans: int,
        feature_info: list[dict[str, Any]],
        stage_modules: dict[str, tuple[str, ...]],
        size_multiple: int = 1,
    ) -> None:
        super().__init__()
        self.num_classes = int(num_classes)
        self.in_chans = int(in_chans)
        self.encoder = encoder
        self.decoder = decoder
        self.num_features = int(decoder.out_channels)
        self.segmentation_head: nn.Module = nn.Identity()
        self._make_classifier(self.num_classes)
        self.feature_info = feature_info
        self.stage_modules = stage_modules
        self.stages = tuple(stage_modules)
        self.size_multiple = int(size_multiple)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2], x.shape[-1]  # symbolic under torch.export: dynamic H and W
        m = self.size_multiple
        pad_h, pad_w = (-h) % m, (-w) % m
        top, left = pad_h // 2, pad_w // 2
        if pad_h or pad_w:
            x = F.pad(x, (left, pad_w - left, top, pad_h - top))
        return self.decoder(self.encoder(x), (h, w), (top, left))

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        return x if pre_logits else self.segmentation_head(x)

    def get_classifier(self) -> nn.Module:
        return self.segmentation_head

    def _make_classifier(self, num_classes: int) -> None:
        self.segmentation_head = (
            nn.Conv2d(self.num_features, num_classes, kernel_size=1)
            if num_classes > 0 else nn.Identity()
        )
